//! The `encore` subcommands; each a few lines over the library.

pub mod backup;
pub mod config;
pub mod import;
pub mod keys;
pub mod migrate;
pub mod outbox;
pub mod performances;
pub mod serve;

use anyhow::Context;

use crate::config::Config;
use crate::service::Encore;

/// Loads the configuration and opens the service, as every subcommand does first.
fn open() -> anyhow::Result<(Config, Encore)> {
    let config = Config::load().context("invalid configuration")?;
    crate::telemetry::init(config.log_format);
    let encore = Encore::start(&config)?;
    Ok((config, encore))
}
