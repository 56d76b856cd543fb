//! Maintenance an operator runs from the command line, on a database the service may or may not
//! be serving at the time: applying migrations, and a consistent copy of a SQLite database.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::db::backup::{copy_sqlite, BackupError};
use crate::db::{Backend, Db, SetupError};

/// Applies the pending migrations to the configured database. Returns how many were applied.
pub fn migrate(config: &Config) -> Result<usize, SetupError> {
    let db = Db::connect(&config.database_url, 1, config.sqlite_busy_timeout())?;
    db.migrate()
}

/// A backup made.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The SQLite file copied.
    pub source: String,
    /// The copy's size.
    pub bytes: u64,
    /// How long the copy took.
    pub took: Duration,
}

/// Why no backup was made.
#[derive(Debug, thiserror::Error)]
pub enum BackupFailed {
    /// PostgreSQL is backed up with its own tools (`pg_dump`).
    #[error("the database is PostgreSQL; only a SQLite database can be copied this way")]
    Postgres,
    #[error("there is no SQLite database at {0}")]
    NoDatabase(String),
    #[error(transparent)]
    Open(#[from] SetupError),
    #[error(transparent)]
    Copy(#[from] BackupError),
}

/// Copies the configured SQLite database into `file` (which must not exist), consistently
/// while the service keeps serving.
pub fn backup(config: &Config, file: &Path) -> Result<Backup, BackupFailed> {
    let (backend, path) = Backend::of_url(&config.database_url);
    if backend == Backend::Postgres {
        return Err(BackupFailed::Postgres);
    }
    // Opening a SQLite path creates the file: refuse to "back up" a database that is not there.
    if !Path::new(path).exists() {
        return Err(BackupFailed::NoDatabase(path.to_string()));
    }
    let db = Db::connect(&config.database_url, 1, config.sqlite_busy_timeout())?;
    let started = Instant::now();
    let bytes = copy_sqlite(&db, file)?;
    Ok(Backup {
        source: path.to_string(),
        bytes,
        took: started.elapsed(),
    })
}
