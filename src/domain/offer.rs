//! A transfer offer's life: made (`offered`), then resolved once and for good — claimed by the
//! friend, taken back by the sender, or expired.

use chrono::{DateTime, Utc};

use super::ids::{TicketId, TransferId};

/// Someone a ticket passes between: a name and an email address (as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub email: String,
}

/// A transfer offer: one generation of a ticket, offered by its holder to a friend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub id: TransferId,
    pub ticket_id: TicketId,
    /// The ticket's generation when it was offered (its offered QR).
    pub generation: i32,
    pub from: Party,
    pub to: Party,
    pub status: OfferStatus,
    pub offered_at: DateTime<Utc>,
    /// When an unclaimed offer returns to the sender.
    pub expires_at: DateTime<Utc>,
    /// When it was claimed, taken back or expired.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The friend's ticket, once claimed.
    pub claimed_ticket_id: Option<TicketId>,
}

/// An offer to make: of a ticket at its current generation, from its holder to a friend, open
/// from `offered_at` until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOffer {
    pub ticket_id: TicketId,
    pub generation: i32,
    pub from: Party,
    pub to: Party,
    pub offered_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Where a transfer offer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferStatus {
    Offered,
    Claimed,
    Canceled,
    Expired,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 4] = [
        OfferStatus::Offered,
        OfferStatus::Claimed,
        OfferStatus::Canceled,
        OfferStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Offered => "offered",
            OfferStatus::Claimed => "claimed",
            OfferStatus::Canceled => "canceled",
            OfferStatus::Expired => "expired",
        }
    }
}
