//! A CSV import started in the box-office console: where it is, and what it came to.

use serde::{Deserialize, Serialize};

use super::ids::PerformanceId;
use super::staff::StaffId;

/// A row that was not issued, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

/// What an import came to: rows read, tickets issued (now or by an earlier run of the same
/// file), and each rejected line.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub rows: u64,
    pub issued: u64,
    pub already_issued: u64,
    pub rejected: Vec<Rejected>,
}

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// Rows are still being issued (perhaps resumed by another start of the process).
    Running,
    /// Every row was read; the report says what became of each.
    Finished,
    /// It stopped short (the performance was canceled meanwhile, the database failed…).
    Stopped,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 3] = [
        ImportStatus::Running,
        ImportStatus::Finished,
        ImportStatus::Stopped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Running => "running",
            ImportStatus::Finished => "finished",
            ImportStatus::Stopped => "stopped",
        }
    }
}

/// An import as its progress page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub id: String,
    pub performance_id: PerformanceId,
    /// Who started it: only they read it.
    pub staff_id: StaffId,
    /// Data rows in the file (lines after the header).
    pub total: u64,
    /// Rows read so far.
    pub done: u64,
    pub status: ImportStatus,
    /// Finished: what it came to.
    pub report: Option<ImportReport>,
    /// Stopped: why.
    pub error: Option<String>,
}
