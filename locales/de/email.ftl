# Die E-Mails an die Inhaberin oder den Inhaber eines Tickets. Werte: siehe ../en/email.ftl.

email-hello = Guten Tag { $name },
email-see-you = Bis bald!
email-when = Wann
email-where = Wo
email-section = Bereich
email-seat = Platz
email-price = Preis
email-doors-open = Einlass { $when }
email-map = Karte
email-open-map = Karte öffnen
email-your-ticket = Ihr Ticket
email-your-ticket-link = Ihr Ticket: { $link }
email-your-section = Ihr Bereich: { $section }
email-your-seat = Ihr Platz: { $seat }
email-at-venue = { $when }, { $venue }
email-no-longer-admits = Sein QR-Code gewährt keinen Einlass mehr.
email-credit-belongs = Das Guthaben gehört zu dieser E-Mail-Adresse; die Theaterkasse kann es für Ihr nächstes Ticket verwenden.
email-help = Brauchen Sie Hilfe?
email-help-call = Rufen Sie { $phone } an
email-help-or = oder
email-help-write = schreiben Sie an { $email }
email-help-write-first = Schreiben Sie an { $email }

## Bestätigung
email-confirmation-subject = Ihr Ticket für { $event } am { $date }
email-confirmation-title = Ihr Ticket
email-confirmation-intro = hier ist Ihr Ticket für { $event }.
email-confirmation-rotating = Öffnen Sie am Einlass Ihre Ticketseite: Ihr Code wechselt alle { $seconds } Sekunden, ein Screenshot oder Ausdruck gewährt also keinen Einlass. Öffnen Sie die Seite, bevor Sie das Haus verlassen; sie funktioniert auch ohne Netz:
email-confirmation-rotating-html-link = Öffnen Sie am Einlass Ihre Ticketseite:
email-confirmation-rotating-html = Ihr Code wechselt alle { $seconds } Sekunden, ein Screenshot oder Ausdruck gewährt also keinen Einlass. Öffnen Sie die Seite, bevor Sie das Haus verlassen; sie funktioniert auch ohne Netz. Dort können Sie das Ticket auch umtauschen oder an jemanden weitergeben.
email-confirmation-show-qr = Zeigen Sie am Einlass den QR-Code in dieser E-Mail, oder öffnen Sie Ihre Ticketseite:
email-confirmation-qr-alt = Der QR-Code Ihres Tickets
email-confirmation-show-code = Zeigen Sie diesen Code am Einlass, oder
email-confirmation-open-page = öffnen Sie Ihre Ticketseite
email-confirmation-page-can = wo Sie das Ticket auch umtauschen oder an jemanden weitergeben können.
email-confirmation-from-page = Auf der Seite können Sie das Ticket auch umtauschen oder an jemanden weitergeben.
email-apple-wallet = In Apple Wallet hinzufügen:
email-apple-wallet-button = Zu Apple Wallet hinzufügen

## Erinnerung
email-reminder-subject = { $event }: { $lead } um { $time }
email-reminder-is-on = { $event } ist { $lead }: { $at }.
email-reminder-doors = Einlass { $when }.
email-reminder-link = Ihr Ticket und sein QR-Code
email-reminder-calendar = Ihr Ticket: { $link }
email-lead-now = gleich
email-lead-minutes = in { $count } Minuten
email-lead-hours = { $count ->
    [one] in einer Stunde
   *[other] in { $count } Stunden
}
email-lead-tomorrow = morgen
email-lead-days = in { $count } Tagen

## Weitergabe
email-offer-subject = Ein Ticket für { $event } wartet auf Sie
email-offer-giving = { $from } schenkt Ihnen das Ticket für { $event }: { $at }.
email-offer-claim-before = Nehmen Sie es hier an, bis { $when }:
email-offer-claim-link = Ticket annehmen
email-offer-before = bis { $when }.
email-offer-yours = Sobald Sie es annehmen, gehört das Ticket Ihnen, auf Ihren Namen, mit eigenem QR-Code.
email-offer-goes-back = Nehmen Sie es nicht rechtzeitig an, geht es an { $from } zurück.

## Umtauschbeleg
email-receipt-subject = Ihr Umtauschbeleg: { $event } am { $date }
email-receipt-no-show-subject = Ihr Guthaben für das ungenutzte Ticket: { $event } am { $date }
email-receipt-no-show = Ihr ungenutztes Ticket für { $event } am { $when } wurde zu { $became }.
email-receipt-exchanged = Ihr Ticket für { $event } am { $when } wurde umgetauscht: es wurde zu { $became }.
email-receipt-became-ticket = einem Ticket für { $label }
email-receipt-became-other = einem Ticket für eine andere Vorstellung
email-receipt-became-credit = { $amount } Guthaben
email-receipt-price = Ticketpreis
email-receipt-fee = Umtauschgebühr
email-receipt-credited = Ihnen gutgeschrieben
email-receipt-spent = Bezahlt für Ihr neues Ticket
email-receipt-spent-note = seine Bestätigung kommt in einer eigenen E-Mail
email-receipt-balance = Ihr Guthaben jetzt

## Absage
email-cancel-subject-performance = Abgesagt: { $event } am { $date }
email-cancel-subject-ticket = Ihr Ticket für { $event } am { $date } ist storniert
email-cancel-performance = Es tut uns leid: { $event } am { $when }, { $venue }, ist abgesagt.
email-cancel-tickets = { $count ->
    [one] Ihr Ticket dafür ist storniert.
   *[other] Ihre { $count } Tickets dafür sind storniert.
}
email-cancel-ticket = Ihr Ticket für { $event } am { $when } ist storniert.
email-cancel-reason = Grund: { $reason }
email-cancel-no-refund = Ihrem Guthaben wurde nichts erstattet.
email-cancel-credited = Ihnen gutgeschrieben: { $amount }

## Foyer
email-lobby-subject = Willkommen bei { $event }

## Nachrichten nach den Regeln der Veranstaltung
email-rule-no-show-title = Sie konnten nicht kommen?
email-rule-no-show-text = Sie konnten nicht kommen? Ihr ungenutztes Ticket kann mit einem Klick zu { $amount } Guthaben für Ihren nächsten Besuch werden, bis { $when }:
email-rule-no-show-html = Ihr ungenutztes Ticket kann zu { $amount } Guthaben für Ihren nächsten Besuch werden, bis { $when }.
email-rule-no-show-button = Mein Ticket in { $amount } Guthaben umwandeln
email-rule-suggestions = Das könnte Ihnen als Nächstes gefallen
email-rule-why = Sie erhalten solche Nachrichten, weil Sie ein Ticket bei uns hatten.
email-rule-no-more = Keine Nachrichten mehr:
email-rule-unsubscribe = Abmelden
