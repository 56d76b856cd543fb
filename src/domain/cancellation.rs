//! A performance's cancellation runs as a job, in batches, until no ticket is left to cancel.

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
