use std::process::ExitCode;

use anyhow::Context;

use crate::config::Config;
use crate::db::{redact_url, Db};

pub fn run() -> anyhow::Result<ExitCode> {
    let config = Config::load().context("invalid configuration")?;
    let db = Db::connect(&config.database_url, 1, config.sqlite_busy_timeout())?;
    let applied = db.migrate()?;
    println!(
        "{} migration(s) applied to {}",
        applied,
        redact_url(&config.database_url)
    );
    Ok(ExitCode::SUCCESS)
}
