use std::process::ExitCode;

use chrono::Utc;

use crate::email::worker::Worker;
use crate::service::{outbox, signing};

/// Runs the email worker alone until Ctrl-C or SIGTERM; either exits with success.
pub fn worker() -> anyhow::Result<ExitCode> {
    let (config, encore) = super::open()?;
    let metrics_listener = super::serve::metrics_listener(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let worker = Worker::from_config(encore.clone(), &config)?;
        // Its sends and failures are counted here: this process serves them too.
        if let Some(listener) = metrics_listener {
            tracing::info!(address = %listener.local_addr()?, "serving /metrics without a key");
            tokio::spawn(crate::http::metrics::server(encore.clone(), listener)?);
        }
        // The worker signs QR codes and links: it must sign with the key in force, too.
        tokio::spawn(signing::keep_fresh(encore.clone(), config.key_refresh()));
        tracing::info!("email worker running; Ctrl-C or SIGTERM stops it");
        tokio::select! {
            _ = worker.run(encore.outbox_wakeup.clone()) => {}
            signal = super::stop_requested() => {
                tracing::info!(signal = signal?, "email worker stopped");
            }
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn status() -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    let status = outbox::status(&encore.db)?;
    for state in ["pending", "sending", "sent", "failed", "skipped"] {
        println!(
            "{state:>8}: {}",
            status.by_status.get(state).copied().unwrap_or(0)
        );
    }
    match status.oldest_unsent {
        Some(at) => println!(
            "oldest unsent: queued {}s ago ({at})",
            (Utc::now() - at).num_seconds()
        ),
        None => println!("oldest unsent: none"),
    }
    Ok(ExitCode::SUCCESS)
}
