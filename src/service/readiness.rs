//! Whether this process can serve (`/readyz`): its database answers and a write can start.

use super::Encore;
use crate::db::NotReady;

/// What the readiness check found.
#[derive(Debug)]
pub enum Readiness {
    /// A write can start; the database backend (`sqlite` or `postgres`).
    Ready { database: &'static str },
    /// Another connection holds SQLite's write lock: no write can start.
    WriteLocked,
    /// The database does not answer; why, for the log.
    Unavailable(String),
}

/// Checks that a write could start now (see `Db::ping`). Blocking.
pub fn check(encore: &Encore) -> Readiness {
    match encore.db.ping() {
        Ok(()) => Readiness::Ready {
            database: encore.db.backend().name(),
        },
        Err(NotReady::Busy) => Readiness::WriteLocked,
        Err(e) => Readiness::Unavailable(e.to_string()),
    }
}
