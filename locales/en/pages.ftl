# The patron's pages: the ticket page (/t/…), its review pages, a friend's claim page, the
# no-show credit and unsubscribe pages, and the pages that say a link does not work. Values:
# $event (the event's name), $name (a person), $when and $until (a date and time, already
# written in the page's language), $time (a time of day), $amount, $value, $fee, $balance
# (money, already formatted). Some sentences are split around a value the page marks up
# (bold, or an element a test or a script finds): each part's comment says what stands between.

## The ticket page
page-ticket-title = { $event }: your ticket
page-saved-copy = Saved on this phone at { $at }; you are offline. This is the ticket as it was then.
# When the page was read, for page-saved-copy: "19:02 on 7 December".
page-saved-at = { $time } on { $date }
page-doors-open = Doors open { $when }
page-holder = Holder
page-section = Section
page-seat = Seat
page-price = Price
page-ticket = Ticket
page-status-valid = Valid
page-status-admitted = Admitted. Enjoy the show!
page-status-admitted-at = Admitted at { $time }, { $gate } gate. Enjoy the show!
page-status-offered = Offered to { $name }: this QR code no longer admits
page-status-transferred-to = Transferred to { $name }: this QR code no longer admits
page-status-transferred = Transferred: this QR code no longer admits
page-status-exchanged = Exchanged: this QR code no longer admits
page-status-canceled = Canceled: this QR code no longer admits
# Then, in bold, the new ticket's event and date; then page-outcome-new-seat if it has a seat.
page-outcome-new-ticket = It became a ticket for
page-outcome-new-seat = , seat { $seat }
page-outcome-open-new = Open your new ticket
# page-outcome-credit-1, the amount credited in bold, page-outcome-credit-2.
page-outcome-credit-1 = Its value,
page-outcome-credit-2 = , went to your stored credit.
# page-outcome-balance-1, the balance in bold, page-outcome-balance-2.
page-outcome-balance-1 = You have
page-outcome-balance-2 = of credit for your next ticket.
# Then the box office's reason, as they typed it.
page-outcome-canceled = The box office canceled it:
# After the refund, in bold.
page-outcome-refund = went to your stored credit.
page-outcome-no-refund = No refund was given.
# Counts down to the next code; { $seconds } is filled in by the page's script.
page-rotating-countdown = Changes in { $seconds } s
page-rotating-hint = Turn your screen brightness up. This code changes every { $seconds } seconds and keeps working without a network; a screenshot or a printout will not get in.
page-rotating-from = Your code appears here from { $when }. Open this page again then; once it shows, it keeps working without a network.
page-qr-hint = Show this code at the door, with your screen brightness turned up.
page-add-calendar = Add to calendar
page-add-apple-wallet = Add to Apple Wallet
page-add-google-wallet = Add to Google Wallet
page-offline-ready = Saved on this phone: this page opens again without a signal.
page-at-the-venue = At the venue
# Before the venue's address.
page-venue = Venue:
page-open-map = Open map
# "Need help? Call 020 … / write to help@…", each contact a link.
page-help = Need help?
page-help-call = Call
page-help-write = write to
page-help-write-first = Write to
page-offer-heading = On offer to { $name }
page-offer-until = They can claim it until { $when }. Until then you can take it back; it comes back to you with a new QR code.
page-offer-take-back = Take the ticket back
page-transfer-heading = Give this ticket to a friend
page-transfer-intro = Possible until { $until }. Your QR code stops working at once; your friend gets an email to claim the ticket in their own name.
page-friend-name = Friend's name
page-friend-email = Friend's email
page-transfer-check = Check and send
page-exchange-heading = Exchange this ticket
page-exchange-intro = Possible until { $until }. The ticket is worth { $value }.
page-exchange-intro-fee = Possible until { $until }. The ticket is worth { $value } (its price less a { $fee } fee).
page-exchange-balance = You have { $balance } of stored credit.
page-exchange-for-credit = Exchange for { $value } of credit
page-exchange-other = Or another performance
page-exchange-check = Check the exchange
page-news-heading = News from us
page-news-off = You asked for no news. Emails about your tickets still come.
page-news-on-again = Receive news again
page-news-on = After a show we may write with what is on next. Emails about your tickets always come.
page-news-stop = No news, please

## What the ticket page says after a change went through
page-done-offered = Sent. Your friend has an email with a link to claim the ticket.
page-done-taken-back = The ticket is yours again, with a new QR code.
page-done-exchanged = Exchanged. A receipt is on its way to your email.
page-done-exchanged-into = Exchanged: this is your new ticket. A receipt is on its way to your email.
page-done-claimed = It's yours: this ticket is in your name now, with its own QR code.
page-done-news-off = Done: no more news from us. Emails about your tickets still come.
page-done-news-on = Welcome back: you will receive news from us again.

## Why a change was refused
page-refused-exchange-not-allowed = This event does not allow a ticket to be exchanged.
page-refused-transfer-not-allowed = This event does not allow a ticket to be transferred.
page-refused-past-cutoff = Changes closed at { $when }, { $minutes } minutes before the show.
page-refused-not-valid = This ticket is { $status ->
    [exchanged] exchanged
    [transferred] transferred
    [canceled] canceled
   *[other] { $status }
} and can no longer be changed.
page-refused-already-admitted = This ticket was already used to enter.
page-refused-already-canceled = This ticket was already canceled.
page-refused-offer-pending = The ticket is on offer to { $name }; take that offer back first.
page-refused-transfer-to-self = A ticket cannot be transferred to its own holder.
page-refused-no-open-offer = There is no open offer for this ticket.
page-refused-offer-closed = This offer was { $how ->
    [claimed] already claimed
    [canceled] canceled by the sender
    [expired] not claimed in time and has expired
   *[other] already resolved
}.
page-refused-not-a-target = That performance is not one this ticket can be exchanged into.
page-refused-sold-out = That performance has no seats left.
page-refused-target-canceled = That performance was canceled.
page-refused-target-unpriced = That performance has no price set, so it cannot be paid for with a ticket or credit.
page-refused-currency-mismatch = Prices are in { $target }; this ticket was paid in { $ticket }.
page-refused-insufficient-credit = The new ticket costs { $amount } more than the ticket's value and the stored credit.
page-refused-no-show-not-offered = This event does not offer credit for unused tickets.
page-refused-no-show-too-early = The show is not over yet: the ticket can still be used to enter.
page-refused-no-show-expired = The time to turn this unused ticket into credit has passed.
page-refused-no-show-given = This ticket was already turned into credit.
page-refused-too-many-offers = Too many offers were made of this ticket or to this address lately; try again in { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
}.
# A friend's name or email address that the transfer form cannot take; { $reason } says why.
page-invalid-name = name: { $reason }
page-invalid-email = email: { $reason }

## Checking a transfer before it is sent
page-transfer-review-title = Check before you send: { $event }
page-transfer-review-heading = Give this ticket to { $name }?
page-review-to = To
page-review-email = Email
page-transfer-review-stops = Your QR code stops working at once.
page-transfer-review-claim = { $name } gets an email with a link to claim the ticket in their own name. Until they do, you can take it back.
page-transfer-send = Send to { $name }
page-go-back = Go back

## Checking an exchange before it is made
page-exchange-review-title = Check before you exchange: { $event }
page-exchange-review-performance = Exchange for another performance?
page-exchange-review-credit = Exchange for credit?
page-exchange-review-ticket = Your ticket: { $event }
page-review-value = Its value
page-review-after-fee = (after a { $fee } fee)
page-review-new-ticket = New ticket
page-review-its-price = Its price
page-review-credit-now = Credit now
page-review-missing = Missing
page-review-credit-after = Credit after
page-review-short = Your ticket's value and your credit are { $amount } short of this performance's price. Choose another, or exchange for credit.
page-review-stops = This ticket's QR code stops working at once.
page-review-new-comes = Your new ticket comes with its own QR code and a confirmation email.
page-review-credit-kept = The credit is kept for this email address, for your next ticket.
page-exchange-confirm = Exchange

## A friend's claim page
page-claim-title = A ticket for you
# The sender in bold, page-claim-giving, the friend in bold, page-claim-giving-end.
page-claim-giving = is giving this ticket to
page-claim-giving-end = .
page-claim-before = Claim it before { $when }. It will be yours, in your name, with its own QR code.
page-claim-submit = Claim my ticket
page-claim-already-claimed = This ticket was already claimed.
page-claim-taken-back = The sender took this offer back.
page-claim-expired = This offer has expired; the ticket went back to the sender.
page-claim-closed = This offer is closed

## After the show: a no-show's credit
page-no-show-title = Your unused ticket
page-no-show-heading = We missed you, { $name }
# page-no-show-ticket-1, the event in bold, page-no-show-ticket-2.
page-no-show-ticket-1 = Your ticket for
page-no-show-ticket-2 = on { $when } was not used.
# page-no-show-become-1, the amount in bold, page-no-show-become-2.
page-no-show-become-1 = It can become
page-no-show-become-2 = of stored credit for your next visit. This is possible once, until { $until }.
page-no-show-submit = Turn my ticket into { $amount } credit
page-no-show-refused = No credit for this ticket
page-no-show-done-title = Credit added
# The amount credited in bold, page-no-show-done-1, the balance in bold, page-no-show-done-2.
page-no-show-done-1 = of stored credit is now yours. Your credit:
page-no-show-done-2 = .
page-no-show-done-receipt = A receipt is on its way by email. The box office can use your credit for your next ticket.

## Unsubscribing from news
page-unsubscribe-title = News from us
page-unsubscribed-heading = You are unsubscribed
page-unsubscribed = { $email } gets no more news from us. Emails about your tickets (confirmations, reminders, receipts) still come.
page-unsubscribed-again = Changed your mind? Your ticket page has a button to receive news again.
page-unsubscribe-heading = Unsubscribe from news
page-unsubscribe-state = { $email } receives news from us after the shows. Emails about your tickets always come.
page-unsubscribe-submit = Unsubscribe

## Links that lead nowhere
page-bad-link-title = This link does not work
page-bad-link = It may have expired, or been copied incompletely. The newest email about your ticket has a working link; the box office can send it again.
page-superseded-title = This link is out of date
page-superseded = The ticket has changed since this link was sent, so it no longer leads to it. The newest email about your ticket has a link that works; the box office can send it again.
page-not-found-title = There is no page here
page-not-found = If you are looking for your ticket, open the link in your ticket email: it leads to your own ticket page. Box-office staff start at /box-office/, the door at /scan.

## The front door (/)
page-home-title = Encore tickets
page-home-intro-1 = This is the ticket service of the box office. There is nothing to sign in to as a patron:
page-home-intro-2 = your ticket email has a link to your own ticket page
page-home-intro-3 = , where you can show the code at the door, exchange the ticket or pass it on to a friend.
page-home-lost = Lost the email? The box office can send it again.
page-home-staff = Staff
page-home-console = Box office console
page-home-door = Door scanner
