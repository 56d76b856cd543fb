//! The cancellation notice: what a holder's cancellation email says.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What the holder's cancellation email says; stored with the queued email.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CancellationNotice {
    pub reason: String,
    /// The whole performance was canceled (not only this holder's ticket).
    pub performance_canceled: bool,
    pub ticket_ids: Vec<i64>,
    /// Credited per currency (empty when nothing was refunded).
    pub refunds: BTreeMap<String, i64>,
}
