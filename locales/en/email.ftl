# The emails a ticket's holder receives. Values: $name (the holder), $event (the event's name),
# $when (a date and time), $venue, $link (a web address), $amount (money, already formatted).

email-hello = Hello { $name },
email-see-you = See you soon!
email-when = When
email-where = Where
email-section = Section
email-seat = Seat
email-price = Price
email-doors-open = doors open { $when }
email-map = Map
email-open-map = Open map
email-your-ticket = Your ticket
email-your-ticket-link = Your ticket: { $link }
email-your-section = Your section: { $section }
email-your-seat = Your seat: { $seat }
email-at-venue = { $when } at { $venue }
email-no-longer-admits = Its QR code no longer admits.
email-credit-belongs = Credit belongs to this email address; the box office can use it for your next ticket.
email-help = Need help?
email-help-call = Call { $phone }
email-help-or = or
email-help-write = write to { $email }
email-help-write-first = Write to { $email }

## Confirmation
email-confirmation-subject = Your ticket for { $event } on { $date }
email-confirmation-title = Your ticket
email-confirmation-intro = here is your ticket for { $event }.
email-confirmation-rotating = At the door, open your ticket page: its code changes every { $seconds } seconds, so a screenshot or a printout will not get in. Open it before you leave home; it keeps working without a network:
email-confirmation-rotating-html-link = At the door, open your ticket page:
email-confirmation-rotating-html = its code changes every { $seconds } seconds, so a screenshot or a printout will not get in. Open the page before you leave home; it keeps working without a network. There you can also exchange the ticket or pass it on to a friend.
email-confirmation-show-qr = Show the QR code in this email at the door, or open your ticket page:
email-confirmation-qr-alt = Your ticket's QR code
email-confirmation-show-code = Show this code at the door, or
email-confirmation-open-page = open your ticket page
email-confirmation-page-can = where you can also exchange the ticket or pass it on to a friend.
email-confirmation-from-page = From the page you can also exchange the ticket or pass it on to a friend.
email-apple-wallet = Add it to Apple Wallet:
email-apple-wallet-button = Add to Apple Wallet

## Reminder
email-reminder-subject = { $event }: { $lead } at { $time }
email-reminder-is-on = { $event } is { $lead }: { $at }.
email-reminder-doors = Doors open { $when }.
email-reminder-link = Your ticket and its QR code
email-reminder-calendar = Your ticket: { $link }
email-lead-now = starting now
email-lead-minutes = in { $count } minutes
email-lead-hours = { $count ->
    [one] in an hour
   *[other] in { $count } hours
}
email-lead-tomorrow = tomorrow
email-lead-days = in { $count } days

## Transfer offer
email-offer-subject = A ticket for { $event } is waiting for you
email-offer-giving = { $from } is giving you their ticket for { $event }: { $at }.
email-offer-claim-before = Claim it here, before { $when }:
email-offer-claim-link = Claim your ticket
email-offer-before = before { $when }.
email-offer-yours = Once you claim it, the ticket is yours, in your name, with its own QR code.
email-offer-goes-back = If you do not claim it in time, it goes back to { $from }.

## Exchange receipt
email-receipt-subject = Your exchange receipt: { $event } on { $date }
email-receipt-no-show-subject = Your credit for the unused ticket: { $event } on { $date }
email-receipt-no-show = Your unused ticket for { $event } on { $when } became { $became }.
email-receipt-exchanged = Your ticket for { $event } on { $when } was exchanged: it became { $became }.
email-receipt-became-ticket = a ticket for { $label }
email-receipt-became-other = a ticket for another performance
email-receipt-became-credit = { $amount } of stored credit
email-receipt-price = Ticket price
email-receipt-fee = Exchange fee
email-receipt-credited = Credited to you
email-receipt-spent = Paid for your new ticket
email-receipt-spent-note = its confirmation comes in a separate email
email-receipt-balance = Your credit now

## Cancellation
email-cancel-subject-performance = Canceled: { $event } on { $date }
email-cancel-subject-ticket = Your ticket for { $event } on { $date } is canceled
email-cancel-performance = We are sorry: { $event } on { $when } at { $venue } is canceled.
email-cancel-tickets = { $count ->
    [one] Your ticket for it is canceled.
   *[other] Your { $count } tickets for it are canceled.
}
email-cancel-ticket = Your ticket for { $event } on { $when } is canceled.
email-cancel-reason = Reason: { $reason }
email-cancel-no-refund = No refund was made to your stored credit.
email-cancel-credited = Credited to you: { $amount }

## Lobby
email-lobby-subject = Welcome to { $event }

## Messages by the event's rules
email-rule-no-show-title = Could not make it?
email-rule-no-show-text = Could not make it? Your unused ticket can become { $amount } of stored credit for your next visit, in one click, until { $when }:
email-rule-no-show-html = Your unused ticket can become { $amount } of stored credit for your next visit, until { $when }.
email-rule-no-show-button = Turn my ticket into { $amount } credit
email-rule-suggestions = You might enjoy next
email-rule-why = You receive news like this because you held a ticket with us.
email-rule-no-more = No more news:
email-rule-unsubscribe = Unsubscribe
