//! Consent to marketing email. Service messages (the ticket, reminders, receipts, cancellations,
//! transfers) always go; marketing messages go only to patrons who have not opted out, and each
//! carries a one-click way out (RFC 8058).

use chrono::{DateTime, Utc};

use super::ids::TicketId;

/// A patron opted out of marketing email, or back in, from a ticket's link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentChange {
    pub ticket_id: TicketId,
    pub opted_out: bool,
    pub at: DateTime<Utc>,
}

/// The `List-Unsubscribe-Post` value RFC 8058 defines: the mail client posts it to the link.
pub const ONE_CLICK_BODY: &str = "List-Unsubscribe=One-Click";
