//! Signed, expiring, purpose-bound links for patrons: no passwords, no accounts. A link made
//! for viewing a ticket cannot be replayed for another purpose, and no link is a ticket token
//! (their claims differ, and both parse strictly).

use serde::{Deserialize, Serialize};

use crate::domain::ids::TicketId;

/// What a patron link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// Open the ticket page (and act on the ticket from there).
    View,
    /// Claim a ticket offered by a friend: `tid` and `gen` name the ticket as it was offered.
    Claim,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkClaims {
    #[serde(rename = "tid")]
    pub ticket_id: TicketId,
    #[serde(rename = "gen")]
    pub generation: i32,
    #[serde(rename = "pur")]
    pub purpose: LinkPurpose,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
}
