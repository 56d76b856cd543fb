# Die Seiten für Besucherinnen und Besucher (siehe locales/en/pages.ftl für die Werte und die
# geteilten Sätze). Anrede: Sie.

## Die Kartenseite
page-ticket-title = { $event }: Ihre Karte
page-saved-copy = Auf diesem Telefon gespeichert am { $at }; Sie sind offline. So sah Ihre Karte zu diesem Zeitpunkt aus.
page-saved-at = { $date } um { $time } Uhr
page-doors-open = Einlass ab { $when }
page-holder = Name
page-section = Bereich
page-seat = Platz
page-price = Preis
page-ticket = Karte
page-status-valid = Gültig
page-status-admitted = Eingelassen. Viel Vergnügen bei der Vorstellung!
page-status-admitted-at = Eingelassen um { $time } Uhr, Eingang { $gate }. Viel Vergnügen bei der Vorstellung!
page-status-offered = Angeboten an { $name }: Dieser QR-Code gilt nicht mehr für den Einlass
page-status-transferred-to = Auf { $name } übertragen: Dieser QR-Code gilt nicht mehr für den Einlass
page-status-transferred = Weitergegeben: Dieser QR-Code gilt nicht mehr für den Einlass
page-status-exchanged = Umgetauscht: Dieser QR-Code gilt nicht mehr für den Einlass
page-status-canceled = Storniert: Dieser QR-Code gilt nicht mehr für den Einlass
page-outcome-new-ticket = Sie wurde umgetauscht in eine Karte für
page-outcome-new-seat = , Platz { $seat }
page-outcome-open-new = Ihre neue Karte öffnen
page-outcome-credit-1 = Ihr Wert,
page-outcome-credit-2 = , wurde Ihrem Guthaben gutgeschrieben.
page-outcome-balance-1 = Sie haben
page-outcome-balance-2 = Guthaben für Ihre nächste Karte.
page-outcome-canceled = Die Theaterkasse hat sie storniert:
page-outcome-refund = wurden Ihrem Guthaben gutgeschrieben.
page-outcome-no-refund = Es wurde nichts erstattet.
page-rotating-countdown = Wechselt in { $seconds } s
page-rotating-hint = Stellen Sie Ihren Bildschirm hell. Dieser Code wechselt alle { $seconds } Sekunden und funktioniert auch ohne Netz; mit einem Screenshot oder Ausdruck kommt niemand hinein.
page-rotating-from = Ihr Code erscheint hier ab { $when }. Öffnen Sie diese Seite dann erneut; sobald er zu sehen ist, funktioniert er auch ohne Netz.
page-qr-hint = Zeigen Sie diesen Code beim Einlass vor, mit heller Bildschirmeinstellung.
page-add-calendar = Zum Kalender hinzufügen
page-add-apple-wallet = Zu Apple Wallet hinzufügen
page-add-google-wallet = In Google Wallet speichern
page-offline-ready = Auf diesem Telefon gespeichert: Diese Seite öffnet sich auch ohne Empfang.
page-at-the-venue = Am Veranstaltungsort
page-venue = Adresse:
page-open-map = Stadtplan öffnen
page-help = Fragen?
page-help-call = Rufen Sie an:
page-help-write = E-Mail an
page-help-write-first = E-Mail an
page-offer-heading = Angeboten an { $name }
page-offer-until = Die Karte kann bis { $when } angenommen werden. Bis dahin können Sie sie zurücknehmen; sie kommt dann mit einem neuen QR-Code zu Ihnen zurück.
page-offer-take-back = Karte zurücknehmen
page-transfer-heading = Karte weitergeben
page-transfer-intro = Möglich bis { $until }. Ihr QR-Code gilt dann sofort nicht mehr; wer die Karte bekommt, erhält eine E-Mail und übernimmt sie auf den eigenen Namen.
page-friend-name = Name des Empfängers
page-friend-email = E-Mail-Adresse des Empfängers
page-transfer-check = Prüfen und senden
page-exchange-heading = Karte umtauschen
page-exchange-intro = Möglich bis { $until }. Die Karte ist { $value } wert.
page-exchange-intro-fee = Möglich bis { $until }. Die Karte ist { $value } wert (ihr Preis abzüglich { $fee } Umtauschgebühr).
page-exchange-balance = Ihr Guthaben: { $balance }.
page-exchange-for-credit = Gegen { $value } Guthaben umtauschen
page-exchange-other = Oder gegen eine andere Vorstellung
page-exchange-check = Umtausch prüfen
page-news-heading = Neuigkeiten von uns
page-news-off = Sie erhalten auf Ihren Wunsch keine Neuigkeiten. E-Mails zu Ihren Karten bekommen Sie weiterhin.
page-news-on-again = Wieder Neuigkeiten erhalten
page-news-on = Nach einer Vorstellung schreiben wir Ihnen vielleicht, was als Nächstes auf dem Spielplan steht. E-Mails zu Ihren Karten bekommen Sie in jedem Fall.
page-news-stop = Keine Neuigkeiten, bitte

## Nach einer Änderung
page-done-offered = Gesendet. Der Empfänger hat eine E-Mail mit einem Link erhalten, um die Karte anzunehmen.
page-done-taken-back = Die Karte gehört wieder Ihnen, mit einem neuen QR-Code.
page-done-exchanged = Umgetauscht. Eine Quittung ist per E-Mail unterwegs.
page-done-exchanged-into = Umgetauscht: Dies ist Ihre neue Karte. Eine Quittung ist per E-Mail unterwegs.
page-done-claimed = Sie gehört Ihnen: Diese Karte lautet jetzt auf Ihren Namen, mit einem eigenen QR-Code.
page-done-news-off = Erledigt: Sie erhalten keine Neuigkeiten mehr von uns. E-Mails zu Ihren Karten bekommen Sie weiterhin.
page-done-news-on = Willkommen zurück: Sie erhalten wieder Neuigkeiten von uns.

## Warum eine Änderung nicht möglich ist
page-refused-exchange-not-allowed = Für diese Veranstaltung ist kein Umtausch möglich.
page-refused-transfer-not-allowed = Für diese Veranstaltung ist keine Weitergabe möglich.
page-refused-past-cutoff = Änderungen waren bis { $when } möglich, { $minutes } Minuten vor Vorstellungsbeginn.
page-refused-not-valid = Diese Karte wurde { $status ->
    [exchanged] bereits umgetauscht
    [transferred] bereits weitergegeben
    [canceled] storniert
   *[other] bereits geändert
} und kann nicht mehr geändert werden.
page-refused-already-admitted = Mit dieser Karte hat bereits jemand Einlass erhalten.
page-refused-already-canceled = Diese Karte wurde bereits storniert.
page-refused-offer-pending = Die Karte ist { $name } angeboten; nehmen Sie dieses Angebot zuerst zurück.
page-refused-transfer-to-self = Eine Karte kann nicht an ihren eigenen Inhaber weitergegeben werden.
page-refused-no-open-offer = Für diese Karte gibt es kein offenes Angebot.
page-refused-offer-closed = Dieses Angebot { $how ->
    [claimed] wurde bereits angenommen
    [canceled] wurde vom Absender zurückgenommen
    [expired] wurde nicht rechtzeitig angenommen und ist abgelaufen
   *[other] ist bereits erledigt
}.
page-refused-not-a-target = In diese Vorstellung kann diese Karte nicht umgetauscht werden.
page-refused-sold-out = Diese Vorstellung ist ausverkauft.
page-refused-target-canceled = Diese Vorstellung wurde abgesagt.
page-refused-target-unpriced = Für diese Vorstellung ist kein Preis festgelegt; sie kann nicht mit einer Karte oder Guthaben bezahlt werden.
page-refused-currency-mismatch = Die Preise sind in { $target }; diese Karte wurde in { $ticket } bezahlt.
page-refused-insufficient-credit = Die neue Karte kostet { $amount } mehr als der Wert Ihrer Karte und Ihr Guthaben zusammen.
page-refused-no-show-not-offered = Diese Veranstaltung bietet für nicht genutzte Karten kein Guthaben an.
page-refused-no-show-too-early = Die Vorstellung ist noch nicht vorbei: Mit der Karte erhalten Sie weiterhin Einlass.
page-refused-no-show-expired = Die Frist, diese nicht genutzte Karte in Guthaben umzuwandeln, ist abgelaufen.
page-refused-no-show-given = Diese Karte wurde bereits in Guthaben umgewandelt.
page-refused-too-many-offers = Für diese Karte oder an diese Adresse wurden zuletzt zu viele Angebote gemacht; bitte versuchen Sie es in { $minutes ->
    [one] einer Minute
   *[other] { $minutes } Minuten
} erneut.
page-invalid-name = Bitte geben Sie den Namen des Empfängers an (höchstens 200 Zeichen, ohne Zeilenumbrüche).
page-invalid-email = Bitte geben Sie eine gültige E-Mail-Adresse an.

## Weitergabe prüfen
page-transfer-review-title = Vor dem Senden prüfen: { $event }
page-transfer-review-heading = Diese Karte an { $name } weitergeben?
page-review-to = An
page-review-email = E-Mail
page-transfer-review-stops = Ihr QR-Code gilt dann sofort nicht mehr.
page-transfer-review-claim = { $name } erhält eine E-Mail mit einem Link, um die Karte auf den eigenen Namen anzunehmen. Bis dahin können Sie sie zurücknehmen.
page-transfer-send = An { $name } senden
page-go-back = Zurück

## Umtausch prüfen
page-exchange-review-title = Vor dem Umtausch prüfen: { $event }
page-exchange-review-performance = Gegen eine andere Vorstellung umtauschen?
page-exchange-review-credit = Gegen Guthaben umtauschen?
page-exchange-review-ticket = Ihre Karte: { $event }
page-review-value = Ihr Wert
page-review-after-fee = (nach { $fee } Umtauschgebühr)
page-review-new-ticket = Neue Karte
page-review-its-price = Ihr Preis
page-review-credit-now = Guthaben jetzt
page-review-missing = Es fehlen
page-review-credit-after = Guthaben danach
page-review-short = Der Wert Ihrer Karte und Ihr Guthaben reichen für den Preis dieser Vorstellung nicht aus; es fehlen { $amount }. Wählen Sie eine andere Vorstellung oder tauschen Sie gegen Guthaben um.
page-review-stops = Der QR-Code dieser Karte gilt dann sofort nicht mehr.
page-review-new-comes = Ihre neue Karte erhält einen eigenen QR-Code, und Sie bekommen eine Bestätigung per E-Mail.
page-review-credit-kept = Das Guthaben wird für diese E-Mail-Adresse aufbewahrt, für Ihre nächste Karte.
page-exchange-confirm = Umtauschen

## Die Seite für die Person, an die eine Karte weitergegeben wird
page-claim-title = Eine Karte für Sie
page-claim-giving = gibt diese Karte weiter an
page-claim-giving-end = .
page-claim-before = Nehmen Sie sie bis { $when } an. Dann gehört sie Ihnen, auf Ihren Namen, mit einem eigenen QR-Code.
page-claim-submit = Karte annehmen
page-claim-already-claimed = Diese Karte wurde bereits angenommen.
page-claim-taken-back = Der Absender hat dieses Angebot zurückgenommen.
page-claim-expired = Dieses Angebot ist abgelaufen; die Karte ging an den Absender zurück.
page-claim-closed = Dieses Angebot ist nicht mehr offen

## Nach der Vorstellung: Guthaben für eine nicht genutzte Karte
page-no-show-title = Ihre nicht genutzte Karte
page-no-show-heading = Wir haben Sie vermisst, { $name }
page-no-show-ticket-1 = Ihre Karte für
page-no-show-ticket-2 = am { $when } wurde nicht genutzt.
page-no-show-become-1 = Sie kann zu
page-no-show-become-2 = Guthaben für Ihren nächsten Besuch werden. Das ist einmal möglich, bis { $until }.
page-no-show-submit = Meine Karte in { $amount } Guthaben umwandeln
page-no-show-refused = Kein Guthaben für diese Karte
page-no-show-done-title = Guthaben gutgeschrieben
page-no-show-done-1 = Guthaben gehören jetzt Ihnen. Ihr Guthaben:
page-no-show-done-2 = .
page-no-show-done-receipt = Eine Quittung ist per E-Mail unterwegs. Die Theaterkasse kann Ihr Guthaben für Ihre nächste Karte verwenden.

## Abmelden von Neuigkeiten
page-unsubscribe-title = Neuigkeiten von uns
page-unsubscribed-heading = Sie sind abgemeldet
page-unsubscribed = { $email } erhält keine Neuigkeiten mehr von uns. E-Mails zu Ihren Karten (Bestätigungen, Erinnerungen, Quittungen) bekommen Sie weiterhin.
page-unsubscribed-again = Haben Sie es sich anders überlegt? Auf Ihrer Kartenseite können Sie Neuigkeiten wieder bestellen.
page-unsubscribe-heading = Von Neuigkeiten abmelden
page-unsubscribe-state = { $email } erhält nach den Vorstellungen Neuigkeiten von uns. E-Mails zu Ihren Karten bekommen Sie in jedem Fall.
page-unsubscribe-submit = Abmelden

## Links, die nirgendwohin führen
page-bad-link-title = Dieser Link funktioniert nicht
page-bad-link = Er ist vielleicht abgelaufen oder wurde unvollständig kopiert. Die neueste E-Mail zu Ihrer Karte enthält einen Link, der funktioniert; die Theaterkasse kann sie Ihnen erneut senden.
page-superseded-title = Dieser Link ist nicht mehr aktuell
page-superseded = Die Karte hat sich geändert, seit dieser Link verschickt wurde; er führt deshalb nicht mehr zu ihr. Die neueste E-Mail zu Ihrer Karte enthält einen Link, der funktioniert; die Theaterkasse kann sie Ihnen erneut senden.
page-not-found-title = Diese Seite gibt es nicht
page-not-found = Wenn Sie Ihre Karte suchen, öffnen Sie den Link in Ihrer Karten-E-Mail: Er führt zu Ihrer eigenen Kartenseite. Mitarbeitende der Theaterkasse beginnen unter /box-office/, der Einlass unter /scan.

## Die Startseite (/)
page-home-title = Encore-Karten
page-home-intro-1 = Dies ist der Kartenservice der Theaterkasse. Als Besucherin oder Besucher müssen Sie sich nirgends anmelden:
page-home-intro-2 = Ihre Karten-E-Mail enthält einen Link zu Ihrer eigenen Kartenseite
page-home-intro-3 = ; dort können Sie den Code beim Einlass vorzeigen, die Karte umtauschen oder weitergeben.
page-home-lost = E-Mail verloren? Die Theaterkasse kann sie Ihnen erneut senden.
page-home-staff = Mitarbeitende
page-home-console = Theaterkasse
page-home-door = Einlass-Scanner
