//! The email outbox's words and rules: what kind an email is, where it is, what became of a
//! claimed one, and how a failed one is retried.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ids::{EmailId, TicketId};

/// Marks a reminder's `detail` (its offset) as the one that carries the calendar file.
pub const WITH_CALENDAR: &str = "+calendar";

/// Whether a reminder, by its `detail`, carries the calendar file (a patron's first reminder).
pub fn reminder_carries_calendar(detail: Option<&str>) -> bool {
    detail.is_some_and(|d| d.ends_with(WITH_CALENDAR))
}

/// What an email is, as the outbox stores it (`outbox.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    /// The ticket, with its QR code.
    Confirmation,
    /// Before the show; the first one carries the calendar file.
    Reminder,
    /// To the friend a ticket is offered to, with the claim link.
    TransferOffer,
    /// To the holder after an exchange: what the ticket was worth, what was credited or bought.
    ExchangeReceipt,
    /// To the holder when their ticket, or the whole performance, is canceled.
    Cancellation,
    /// To the holder on admission: the event's lobby message (at most one per ticket).
    Lobby,
    /// An event's message rule, chosen by what happened at the door (`detail`: the rule's id).
    RuleMessage,
}

impl EmailKind {
    pub const ALL: [EmailKind; 7] = [
        EmailKind::Confirmation,
        EmailKind::Reminder,
        EmailKind::TransferOffer,
        EmailKind::ExchangeReceipt,
        EmailKind::Cancellation,
        EmailKind::Lobby,
        EmailKind::RuleMessage,
    ];

    /// The text stored, and shown by the API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::Confirmation => "confirmation",
            EmailKind::Reminder => "reminder",
            EmailKind::TransferOffer => "transfer_offer",
            EmailKind::ExchangeReceipt => "exchange_receipt",
            EmailKind::Cancellation => "cancellation",
            EmailKind::Lobby => "lobby",
            EmailKind::RuleMessage => "rule_message",
        }
    }

    /// The kind stored as `text`, if this build knows it.
    pub fn from_stored(text: &str) -> Option<EmailKind> {
        EmailKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Where an email is in the outbox (`outbox.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Waiting for its time (`next_attempt_at`) and a worker.
    Pending,
    /// Claimed by a worker until its lease ends.
    Sending,
    Sent,
    /// Failed for good (rejected, or out of attempts); the box office may send it again.
    Failed,
    /// Not to be sent (the ticket ended, the offer closed).
    Skipped,
}

impl EmailStatus {
    /// Every status, in the order operators read them (`encore outbox status`, `/metrics`).
    pub const ALL: [EmailStatus; 5] = [
        EmailStatus::Pending,
        EmailStatus::Sending,
        EmailStatus::Sent,
        EmailStatus::Failed,
        EmailStatus::Skipped,
    ];

    /// The text stored, and shown by the API, the CLI and the metrics' labels.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailStatus::Pending => "pending",
            EmailStatus::Sending => "sending",
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
            EmailStatus::Skipped => "skipped",
        }
    }

    /// The status stored as `text`, if this build knows it.
    pub fn from_stored(text: &str) -> Option<EmailStatus> {
        EmailStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for EmailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Display for EmailStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// An email in the outbox: what it is, to whom, and where its delivery is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEmail {
    pub id: EmailId,
    pub kind: EmailKind,
    /// At most one email is ever queued per key (`kind:ticket:…`).
    pub dedupe_key: String,
    pub ticket_id: Option<TicketId>,
    /// What the email says beyond its ticket (a reminder's offset, a receipt…), as queued.
    pub detail: Option<String>,
    pub recipient: String,
    pub message_id: String,
    pub status: EmailStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// Held by a worker's claim until then.
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// An email to queue, due as soon as it is queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    // What it says, and about which ticket.
    pub kind: EmailKind,
    pub ticket_id: Option<TicketId>,
    pub detail: Option<String>,
    // To whom, under which Message-ID.
    pub recipient: String,
    pub message_id: String,
    /// Queued once per key: a second email with the same key is not queued.
    pub dedupe_key: String,
    pub queued_at: DateTime<Utc>,
}

/// Which failed emails to send again; every field unset means all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailedFilter {
    pub id: Option<EmailId>,
    pub kind: Option<EmailKind>,
    pub ticket_id: Option<TicketId>,
    /// Only emails queued at or after this time.
    pub queued_since: Option<DateTime<Utc>>,
}

/// What became of one claimed email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Not attempted: the claim ran out first. The row goes to whoever claims it next.
    LeaseExpired,
    /// Not to be sent (the ticket ended): recorded as skipped, with why.
    Skipped(String),
    /// Tried again later, unless `permanent` (the server rejected it with 5xx, or it cannot be
    /// composed) or it was the last attempt.
    Failed {
        reason: String,
        permanent: bool,
    },
}

/// How failed sends are retried: after `base`, doubling with each attempt up to an hour, and
/// at most `max_attempts` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retries {
    pub base: Duration,
    pub max_attempts: i32,
}

impl Retries {
    /// Exponential backoff: base, 2×base, 4×base, … capped at an hour.
    pub fn delay(&self, attempts: i32) -> chrono::Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).clamp(0, 20) as u32);
        let delay = self
            .base
            .saturating_mul(factor)
            .min(Duration::from_secs(3600));
        chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1))
    }

    /// Whether a failed email is failed for good: rejected for good, or its last attempt.
    pub fn gives_up(&self, attempts: i32, permanent: bool) -> bool {
        permanent || attempts >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_read_back_from_their_stored_text() {
        for kind in EmailKind::ALL {
            assert_eq!(EmailKind::from_stored(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        for status in EmailStatus::ALL {
            assert_eq!(EmailStatus::from_stored(status.as_str()), Some(status));
        }
        assert_eq!(EmailKind::from_stored("postcard"), None);
        assert_eq!(format!("{:>8}|", EmailStatus::Sent), "    sent|");
    }

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let retries = Retries {
            base: Duration::from_secs(30),
            max_attempts: 8,
        };
        assert_eq!(retries.delay(1), chrono::Duration::seconds(30));
        assert_eq!(retries.delay(2), chrono::Duration::seconds(60));
        assert_eq!(retries.delay(4), chrono::Duration::seconds(240));
        assert_eq!(retries.delay(30), chrono::Duration::hours(1));
    }

    #[test]
    fn a_permanent_failure_or_the_last_attempt_gives_up() {
        let retries = Retries {
            base: Duration::from_secs(30),
            max_attempts: 3,
        };
        assert!(!retries.gives_up(2, false));
        assert!(retries.gives_up(3, false));
        assert!(retries.gives_up(1, true));
    }
}
