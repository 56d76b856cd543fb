use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::redact_url;
use crate::config::Config;
use crate::worker::jobs::{refresh_keys, resume_cancellations, resume_imports};
use crate::worker::Worker;

/// The `metrics_bind` listener, when metrics are on and it is set.
pub(super) fn metrics_listener(config: &Config) -> anyhow::Result<Option<TcpListener>> {
    match &config.metrics_bind {
        Some(address) if config.metrics_enabled => {
            Ok(Some(TcpListener::bind(address).with_context(|| {
                format!("cannot listen on metrics_bind {address}")
            })?))
        }
        _ => Ok(None),
    }
}

pub fn run(bind: Option<String>) -> anyhow::Result<ExitCode> {
    let (mut config, encore) = super::open()?;
    if let Some(bind) = bind {
        config.bind = bind;
    }
    let listener = TcpListener::bind(&config.bind)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let metrics_listener = metrics_listener(&config)?;
    tracing::info!(
        address = %listener.local_addr()?,
        https = config.tls_files().is_some(),
        database = %redact_url(&config.database_url),
        backend = encore.db.backend().name(),
        "encore is serving"
    );
    // actix handles SIGINT/SIGTERM: it stops accepting, finishes requests in flight, then exits.
    // A performance cancellation or a console import a stopped process left unfinished carries
    // on.
    resume_cancellations::run(&encore)?;
    resume_imports::run(&encore)?;
    actix_web::rt::System::new().block_on(async move {
        actix_web::rt::spawn(refresh_keys::keep_fresh(
            encore.clone(),
            config.key_refresh(),
        ));
        if config.run_worker {
            let worker =
                Worker::from_config(encore.clone(), &config).map_err(std::io::Error::other)?;
            actix_web::rt::spawn(worker.run(encore.outbox_wakeup.clone()));
        }
        if let Some(listener) = metrics_listener {
            tracing::info!(address = %listener.local_addr()?, "serving /metrics without a key");
            actix_web::rt::spawn(crate::http::metrics::server(encore.clone(), listener)?);
        }
        crate::http::server(encore, &config, listener)?.await
    })?;
    tracing::info!("encore stopped");
    Ok(ExitCode::SUCCESS)
}
