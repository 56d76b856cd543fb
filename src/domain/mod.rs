//! Encore's rules, free of HTTP and SQL: what a valid email, price, name or time window is,
//! which role may do what, and how a scan is decided. Parse at the edge, then trust the types.

pub mod actor;
pub mod cancellation;
pub mod consent;
pub mod credit;
pub mod email;
pub mod event;
pub mod ids;
pub mod import;
pub mod link;
pub mod lobby;
pub mod locale;
pub mod message_rule;
pub mod money;
pub mod offer;
pub mod outbox;
pub mod policy;
pub mod receipt;
pub mod recommend;
pub mod role;
pub mod rotating;
pub mod scan;
pub mod search;
pub mod signing_key;
pub mod staff;
pub mod text;
pub mod ticket;
pub mod venue;
pub mod wallet;
pub mod webhook;

pub use email::EmailAddress;
pub use money::{Currency, Money};
pub use role::Role;
pub use scan::ScanOutcome;
pub use ticket::TicketStatus;

/// A value that failed to parse: which field, and why, in words a box-office clerk can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: &'static str,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Invalid {
            field,
            reason: reason.into(),
        }
    }
}
