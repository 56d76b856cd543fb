//! `encore backup FILE`: a consistent copy of the SQLite database, taken while it serves.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::redact_url;
use crate::config::Config;
use crate::service::maintenance::{self, BackupFailed};

/// The exit status when the database is not one this command can copy.
const NOT_SQLITE: u8 = 2;

pub fn run(file: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load().context("invalid configuration")?;
    crate::telemetry::init(config.log_format);
    let backup = match maintenance::backup(&config, file) {
        Ok(backup) => backup,
        Err(BackupFailed::Postgres) => {
            eprintln!(
                "error: the database is PostgreSQL ({}); encore backup copies SQLite files only.\n\
                 Back PostgreSQL up with its own tools while Encore serves, e.g.\n  \
                 pg_dump --format=custom --file=encore.dump \"$DATABASE_URL\"\n\
                 and restore with pg_restore (see docs/operations.md, \"Backups\").",
                redact_url(&config.database_url)
            );
            return Ok(ExitCode::from(NOT_SQLITE));
        }
        Err(e) => return Err(e.into()),
    };
    println!(
        "backed up {} to {} ({} bytes, integrity ok) in {} ms",
        backup.source,
        file.display(),
        backup.bytes,
        backup.took.as_millis()
    );
    Ok(ExitCode::SUCCESS)
}
