use std::net::TcpListener;
use std::process::ExitCode;

use anyhow::Context;

use crate::db::redact_url;
use crate::email::worker::Worker;
use crate::service::signing;

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
        actix_web::rt::spawn(signing::keep_fresh(encore.clone(), config.key_refresh()));
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
