use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::db::redact_url;
use crate::email::worker::Worker;
use crate::service::{signing, Encore};

/// Picks up keys rotated by `encore keys rotate` (possibly on another machine) within a minute.
async fn refresh_keys_periodically(encore: Encore) {
    let mut every_minute = actix_web::rt::time::interval(Duration::from_secs(60));
    every_minute.tick().await; // the first tick is immediate; the keys were just loaded
    loop {
        every_minute.tick().await;
        let encore = encore.clone();
        match actix_web::web::block(move || signing::refresh(&encore)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not refresh signing keys"),
            Err(e) => tracing::warn!(error = %e, "key refresh task failed"),
        }
    }
}

pub fn run(bind: Option<String>) -> anyhow::Result<ExitCode> {
    let (mut config, encore) = super::open()?;
    if let Some(bind) = bind {
        config.bind = bind;
    }
    let listener = TcpListener::bind(&config.bind)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    tracing::info!(
        address = %listener.local_addr()?,
        database = %redact_url(&config.database_url),
        backend = encore.db.backend().name(),
        "encore is serving"
    );
    // actix handles SIGINT/SIGTERM: it stops accepting, finishes requests in flight, then exits.
    actix_web::rt::System::new().block_on(async move {
        actix_web::rt::spawn(refresh_keys_periodically(encore.clone()));
        if config.run_worker {
            let worker =
                Worker::from_config(encore.clone(), &config).map_err(std::io::Error::other)?;
            actix_web::rt::spawn(worker.run(encore.outbox_wakeup.clone()));
        }
        crate::http::server(encore, &config, listener)?.await
    })?;
    tracing::info!("encore stopped");
    Ok(ExitCode::SUCCESS)
}
