use std::process::ExitCode;

use anyhow::Context;

use crate::config::redact_url;
use crate::config::Config;
use crate::service::maintenance;

pub fn run() -> anyhow::Result<ExitCode> {
    let config = Config::load().context("invalid configuration")?;
    let applied = maintenance::migrate(&config)?;
    println!(
        "{} migration(s) applied to {}",
        applied,
        redact_url(&config.database_url)
    );
    Ok(ExitCode::SUCCESS)
}
