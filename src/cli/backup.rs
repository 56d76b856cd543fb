//! `encore backup FILE`: a consistent copy of the SQLite database, taken while it serves.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::config::Config;
use crate::db::{backup, redact_url, Backend, Db};

/// The exit status when the database is not one this command can copy.
const NOT_SQLITE: u8 = 2;

pub fn run(file: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load().context("invalid configuration")?;
    crate::telemetry::init(config.log_format);
    let (backend, path) = Backend::of_url(&config.database_url);
    if backend == Backend::Postgres {
        eprintln!(
            "error: the database is PostgreSQL ({}); encore backup copies SQLite files only.\n\
             Back PostgreSQL up with its own tools while Encore serves, e.g.\n  \
             pg_dump --format=custom --file=encore.dump \"$DATABASE_URL\"\n\
             and restore with pg_restore (see docs/operations.md, \"Backups\").",
            redact_url(&config.database_url)
        );
        return Ok(ExitCode::from(NOT_SQLITE));
    }
    // Opening a SQLite path creates the file: refuse to "back up" a database that is not there.
    anyhow::ensure!(
        Path::new(path).exists(),
        "there is no SQLite database at {path}"
    );
    let db = Db::connect(&config.database_url, 1, config.sqlite_busy_timeout())?;
    let started = Instant::now();
    let bytes = backup::copy_sqlite(&db, file)?;
    println!(
        "backed up {path} to {} ({bytes} bytes, integrity ok) in {} ms",
        file.display(),
        started.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}
