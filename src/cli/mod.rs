//! The `encore` subcommands; each a few lines over the library.

pub mod backup;
pub mod config;
pub mod import;
pub mod keys;
pub mod migrate;
pub mod outbox;
pub mod performances;
pub mod serve;
pub mod staff;

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

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM (what `kill`, systemd and container runtimes
/// send), and names the one that came: both stop a process gracefully.
async fn stop_requested() -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.map(|()| "SIGINT"),
            _ = term.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map(|()| "Ctrl-C")
    }
}
