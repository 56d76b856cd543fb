use serde::{Deserialize, Serialize};

use crate::domain::ids::{PerformanceId, TicketId};

/// What a ticket's QR says, signed: which ticket, of which performance, which generation of it,
/// and when it may admit. Issued as a compact code ([`super::compact`]); the short claim names
/// are those of the JWTs issued before it, which still admit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketClaims {
    #[serde(rename = "tid")]
    pub ticket_id: TicketId,
    #[serde(rename = "pid")]
    pub performance_id: PerformanceId,
    #[serde(rename = "gen")]
    pub generation: i32,
    /// Not before, seconds since the Unix epoch.
    pub nbf: i64,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// A paper code: a static code the box office printed on purpose, which admits at the door
    /// of an event whose codes rotate (where other static codes are refused). Left out of
    /// every other token, so theirs read as before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paper: bool,
}
