//! Cancellations: what a holder's cancellation email says, and where a performance's
//! cancellation job is (it runs in batches until no ticket is left to cancel).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{CancellationId, PerformanceId, TicketId};
use super::Currency;

/// A performance's cancellation job: why, whether holders are credited, and how far it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerformanceCancellation {
    pub id: CancellationId,
    pub performance_id: PerformanceId,
    pub reason: String,
    pub refund_to_credit: bool,
    pub status: CancellationStatus,
    pub progress: Progress,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Who started it (`Actor::describe`); `None` for a job started before authors were kept.
    pub started_by: Option<String>,
}

/// How many tickets a cancellation job set out to cancel, and how many it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub total: i64,
    pub canceled: i64,
}

impl Progress {
    /// Tickets still to cancel (never below zero).
    pub fn remaining(&self) -> i64 {
        (self.total - self.canceled).max(0)
    }
}

/// One ticket's cancellation: why, and what was refunded (as credit) for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketCancellation {
    pub ticket_id: TicketId,
    pub reason: String,
    /// Credited to the holder, in the ticket's currency (0 when nothing was refunded).
    pub refund_minor: i64,
    pub currency: Currency,
    /// The performance's cancellation it was part of, if any.
    pub cancellation_id: Option<CancellationId>,
    pub canceled_at: DateTime<Utc>,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_remains_is_never_below_zero() {
        let progress = |total, canceled| Progress { total, canceled }.remaining();
        assert_eq!(progress(10, 4), 6);
        assert_eq!(progress(3, 5), 0);
    }
}
