//! The patron page in words: statuses, notices, and the journey's touches as the box office
//! reads them (the same words as the journey page's script).

use serde_json::Value;

use crate::domain::money::format_money;
use crate::domain::outbox::{EmailKind, EmailStatus};
use crate::domain::TicketStatus;

/// A ticket's status as the page shows it.
pub fn status(status: TicketStatus, admitted: bool, offered_to: Option<&str>) -> String {
    match (status, offered_to) {
        (TicketStatus::Valid, _) if admitted => "Valid, admitted".to_string(),
        (TicketStatus::Valid, _) => "Valid".to_string(),
        (TicketStatus::Transferred, Some(to)) => format!("On offer to {to}"),
        (TicketStatus::Transferred, None) => "Transferred".to_string(),
        (TicketStatus::Exchanged, _) => "Exchanged".to_string(),
        (TicketStatus::Canceled, _) => "Canceled".to_string(),
    }
}

pub fn confirmation(status: Option<EmailStatus>) -> String {
    match status {
        None => "No confirmation queued".to_string(),
        Some(EmailStatus::Pending | EmailStatus::Sending) => "Confirmation on its way".into(),
        Some(EmailStatus::Sent) => "Confirmation sent".into(),
        Some(EmailStatus::Failed) => "Confirmation failed".into(),
        Some(EmailStatus::Skipped) => "Confirmation not sent".into(),
    }
}

/// What the button that sends a failed email again says.
pub fn resend_label(kind: EmailKind) -> String {
    match kind {
        EmailKind::Confirmation => "Send the confirmation again".to_string(),
        kind => format!("Send the {} email again", words(kind.as_str())),
    }
}

/// The notice after an action, from the redirect's `done` and `ticket`; `None` for anything
/// else.
pub fn notice(done: &str, ticket: &str) -> Option<String> {
    let ticket: i64 = ticket.parse().ok()?;
    let what = match done {
        "exchanged-credit" => "was exchanged into credit",
        "exchanged-performance" => "was exchanged into another performance",
        "transferred" => "was offered to the friend, who has been emailed a claim link",
        "canceled" => "was canceled, and its holder emailed",
        "resent" => "has its email back in line to be sent",
        "confirmation-resent" => "has its confirmation on its way to the holder again",
        _ => return None,
    };
    Some(format!("Ticket #{ticket} {what}."))
}

pub fn credit_reason(reason: &str) -> &'static str {
    match reason {
        "cancel_refund" => "refund of a cancellation",
        "exchange" => "value of an exchanged ticket",
        "exchange_purchase" => "spent on an exchange",
        "box_office_purchase" => "spent at the box office",
        _ => "other",
    }
}

fn words(code: &str) -> String {
    code.replace('_', " ")
}

fn text<'a>(d: &'a Value, key: &str) -> &'a str {
    d[key].as_str().unwrap_or("")
}

fn money(d: &Value, key: &str) -> String {
    format_money(d[key].as_i64().unwrap_or(0), text(d, "currency"))
}

fn person(d: &Value, name: &str, email: &str) -> String {
    format!("{} ({})", text(d, name), text(d, email))
}

/// One touch of the journey in plain words, and who made it when it was a change a person
/// asked for: "Canceled: … — by Ada Lovelace (box office)".
pub fn touch(what: &str, d: &Value) -> String {
    let said = change(what, d);
    match d["by"].as_str() {
        Some(by) => format!("{said} — by {by}"),
        None => said,
    }
}

fn change(what: &str, d: &Value) -> String {
    match what {
        "issued" => {
            let replaces = d["replaces_ticket_id"]
                .as_i64()
                .map(|id| format!(", in place of #{id}"))
                .unwrap_or_default();
            format!(
                "Issued to {}, {}{replaces}",
                person(d, "holder_name", "holder_email"),
                money(d, "price_minor")
            )
        }
        "email_queued" => format!(
            "Email queued: {} to {}",
            words(text(d, "kind")),
            text(d, "recipient")
        ),
        "email_sent" => format!("Email sent: {}", words(text(d, "kind"))),
        "email_failed" => format!(
            "Email failed: {} after {} attempts — {}",
            words(text(d, "kind")),
            d["attempts"],
            text(d, "error")
        ),
        "email_skipped" => format!(
            "Email not sent: {} — {}",
            words(text(d, "kind")),
            text(d, "reason")
        ),
        "email_retry_scheduled" => format!(
            "Email to be tried again: {} — {}",
            words(text(d, "kind")),
            text(d, "error")
        ),
        "link_opened" if text(d, "purpose") == "claim" => "Claim link opened".to_string(),
        "link_opened" => "Ticket page opened".to_string(),
        "transfer_offered" => format!(
            "Offered to {} by {}",
            person(d, "to_name", "to_email"),
            text(d, "from_name")
        ),
        "transfer_claimed" => format!(
            "Claimed by {}{}",
            person(d, "to_name", "to_email"),
            d["claimed_ticket_id"]
                .as_i64()
                .map(|id| format!(" as #{id}"))
                .unwrap_or_default()
        ),
        "transfer_canceled" => format!("Offer to {} taken back", text(d, "to_name")),
        "transfer_expired" => format!("Offer to {} expired", text(d, "to_name")),
        "exchanged" if d["credited_minor"].is_null() => "Exchanged".to_string(),
        "exchanged" => format!(
            "Exchanged: {} credited{}",
            money(d, "credited_minor"),
            d["new_ticket_id"]
                .as_i64()
                .map(|id| format!(", {} spent on #{id}", money(d, "spent_minor")))
                .unwrap_or_default()
        ),
        "credit" => {
            let amount = d["amount_minor"].as_i64().unwrap_or(0);
            format!(
                "Credit {}{}: {}",
                if amount > 0 { "+" } else { "" },
                money(d, "amount_minor"),
                credit_reason(text(d, "reason"))
            )
        }
        "canceled" => format!(
            "Canceled: {} — {}",
            text(d, "reason"),
            if d["refund_minor"].as_i64().unwrap_or(0) > 0 {
                format!("{} credited", money(d, "refund_minor"))
            } else {
                "no refund".to_string()
            }
        ),
        "scan" => format!(
            "Scanned at {}: {}{}",
            text(d, "gate"),
            words(text(d, "outcome")),
            match text(d, "device") {
                "" => String::new(),
                device => format!(" ({device})"),
            }
        ),
        other => words(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn touches_read_as_sentences() {
        assert_eq!(
            touch(
                "credit",
                &json!({"amount_minor": 4500, "currency": "EUR", "reason": "exchange"})
            ),
            "Credit +45.00 EUR: value of an exchanged ticket"
        );
        assert_eq!(
            touch(
                "canceled",
                &json!({"reason": "Ill", "refund_minor": 0, "currency": "EUR"})
            ),
            "Canceled: Ill — no refund"
        );
        assert_eq!(touch("exchanged", &Value::Null), "Exchanged");
    }

    #[test]
    fn only_known_notices_are_shown() {
        assert_eq!(
            notice("canceled", "7").as_deref(),
            Some("Ticket #7 was canceled, and its holder emailed.")
        );
        assert_eq!(notice("<script>", "7"), None);
        assert_eq!(notice("canceled", "x"), None);
    }
}
