//! Email: every message is a row in the outbox, written in the same transaction as the change
//! that causes it; a worker claims due rows, composes them from `templates/email`, sends them
//! through SMTP (or into a folder of `.eml` files) and marks them, retrying with backoff.

pub mod messages;
pub mod smtp;
pub mod transport;
pub mod worker;

use chrono::{DateTime, Utc};

use crate::db::models::NewOutboxRow;

/// The kinds of email in the outbox.
pub const KIND_CONFIRMATION: &str = "confirmation";
pub const KIND_REMINDER: &str = "reminder";
/// To the friend a ticket is offered to, with the claim link.
pub const KIND_TRANSFER_OFFER: &str = "transfer_offer";
/// To the holder after an exchange: what the ticket was worth, what was credited or bought.
pub const KIND_EXCHANGE_RECEIPT: &str = "exchange_receipt";
/// To the holder when their ticket, or the whole performance, is canceled.
pub const KIND_CANCELLATION: &str = "cancellation";
/// To the holder on admission: the event's lobby message (at most one per ticket).
pub const KIND_LOBBY: &str = "lobby";

/// A fresh, globally unique Message-ID, fixed when the email is queued so that a resend after
/// a crash is recognisably the same message.
pub fn new_message_id(domain: &str) -> String {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).expect("the operating system's random source");
    format!("<{}@{}>", hex::encode(random), domain)
}

/// An outbox row about a ticket, due now.
pub fn ticket_email(
    kind: &str,
    dedupe_key: String,
    ticket_id: i64,
    detail: Option<String>,
    recipient: &str,
    message_id_domain: &str,
    now: DateTime<Utc>,
) -> NewOutboxRow {
    NewOutboxRow {
        kind: kind.into(),
        dedupe_key,
        ticket_id: Some(ticket_id),
        detail,
        recipient: recipient.into(),
        message_id: new_message_id(message_id_domain),
        next_attempt_at: now.naive_utc(),
        created_at: now.naive_utc(),
    }
}

/// The outbox row for a ticket's confirmation (one per ticket generation).
pub fn confirmation_row(
    ticket_id: i64,
    generation: i32,
    recipient: &str,
    message_id_domain: &str,
    now: DateTime<Utc>,
) -> NewOutboxRow {
    ticket_email(
        KIND_CONFIRMATION,
        format!("{KIND_CONFIRMATION}:{ticket_id}:{generation}"),
        ticket_id,
        None,
        recipient,
        message_id_domain,
        now,
    )
}
