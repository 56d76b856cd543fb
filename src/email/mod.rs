//! Email: every message is a row in the outbox, written in the same transaction as the change
//! that causes it. This layer composes messages from `templates/email` and sends them through
//! SMTP (or into a folder of `.eml` files); the worker (`worker::jobs::deliver_emails`)
//! claims due rows, hands them here, and records the results, retrying with backoff.

pub mod messages;
pub mod overrides;
pub mod smtp;
pub mod transport;

use chrono::{DateTime, Utc};

use crate::domain::ids::TicketId;
use crate::domain::outbox::{EmailKind, NewEmail};

/// A fresh, globally unique Message-ID, fixed when the email is queued so that a resend after
/// a crash is recognisably the same message.
pub fn new_message_id(domain: &str) -> String {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).expect("the operating system's random source");
    format!("<{}@{}>", hex::encode(random), domain)
}

/// An email about a ticket, due now.
pub fn ticket_email(
    kind: EmailKind,
    dedupe_key: String,
    ticket_id: TicketId,
    detail: Option<String>,
    recipient: &str,
    message_id_domain: &str,
    now: DateTime<Utc>,
) -> NewEmail {
    NewEmail {
        kind,
        dedupe_key,
        ticket_id: Some(ticket_id),
        detail,
        recipient: recipient.into(),
        message_id: new_message_id(message_id_domain),
        queued_at: now,
    }
}

/// The email for a ticket's confirmation (one per ticket generation).
pub fn confirmation_row(
    ticket_id: TicketId,
    generation: i32,
    recipient: &str,
    message_id_domain: &str,
    now: DateTime<Utc>,
) -> NewEmail {
    ticket_email(
        EmailKind::Confirmation,
        format!("{}:{ticket_id}:{generation}", EmailKind::Confirmation),
        ticket_id,
        None,
        recipient,
        message_id_domain,
        now,
    )
}
