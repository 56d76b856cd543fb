//! Cancellations: what a holder's cancellation email says, and where a performance's
//! cancellation job is (it runs in batches until no ticket is left to cancel).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ids::TicketId;

/// What the holder's cancellation email says; stored with the queued email.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CancellationNotice {
    pub reason: String,
    /// The whole performance was canceled (not only this holder's ticket).
    pub performance_canceled: bool,
    pub ticket_ids: Vec<TicketId>,
    /// Credited per currency (empty when nothing was refunded).
    pub refunds: BTreeMap<String, i64>,
}

/// Where a performance's cancellation job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancellationStatus {
    /// Tickets are still being canceled, a batch at a time.
    Running,
    /// Every ticket it could take is canceled.
    Done,
}

impl CancellationStatus {
    pub const ALL: [CancellationStatus; 2] =
        [CancellationStatus::Running, CancellationStatus::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            CancellationStatus::Running => "running",
            CancellationStatus::Done => "done",
        }
    }
}
