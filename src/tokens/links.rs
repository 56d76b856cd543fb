//! Signed, expiring, purpose-bound links for patrons: no passwords, no accounts. A link made
//! for viewing a ticket cannot be replayed for another purpose, and no link is a ticket token
//! (their claims differ, and both parse strictly).

use serde::{Deserialize, Serialize};

use crate::domain::ids::TicketId;
pub use crate::domain::link::LinkPurpose;

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
