use std::process::ExitCode;

use chrono::Utc;

use crate::domain::ids::TicketId;
use crate::domain::outbox::{EmailKind, EmailStatus, FailedFilter};
use crate::service::outbox;
use crate::worker::jobs::refresh_keys;
use crate::worker::Worker;

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
        tokio::spawn(refresh_keys::keep_fresh(
            encore.clone(),
            config.key_refresh(),
        ));
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
    for state in EmailStatus::ALL {
        println!(
            "{state:>8}: {}",
            status.by_status.get(state.as_str()).copied().unwrap_or(0)
        );
    }
    match status.oldest_unsent {
        Some(at) => println!(
            "oldest unsent: queued {}s ago ({at})",
            (Utc::now() - at).num_seconds()
        ),
        None => println!("oldest unsent: none"),
    }
    let failed = outbox::failed(&encore.db, FAILED_SHOWN)?;
    if !failed.is_empty() {
        println!("failed (most recent first; `encore outbox retry` sends them again):");
    }
    for email in &failed {
        let ticket = email.ticket_id.map_or("-".into(), |t| t.to_string());
        let error = email.last_error.as_deref().unwrap_or("");
        println!(
            "  email {} ({}, ticket {ticket}, to {}), {} attempts: {error}",
            email.id, email.kind, email.recipient, email.attempts
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Failed emails `status` lists, at most.
const FAILED_SHOWN: i64 = 50;

pub fn retry(
    kind: Option<String>,
    ticket_id: Option<i64>,
    queued_within_hours: Option<i64>,
) -> anyhow::Result<ExitCode> {
    let kind = kind.as_deref().map(parse_kind).transpose()?;
    let (_, encore) = super::open()?;
    let filter = FailedFilter {
        id: None,
        kind,
        ticket_id: ticket_id.map(TicketId),
        queued_since: queued_within_hours.map(|hours| Utc::now() - chrono::Duration::hours(hours)),
    };
    let retried = outbox::retry_failed(&encore, &filter)?;
    println!(
        "{} failed emails put back in line; the worker sends them now",
        retried.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// An email kind as the operator names it (the name the API and `status` show).
fn parse_kind(name: &str) -> anyhow::Result<EmailKind> {
    EmailKind::from_stored(name).ok_or_else(|| {
        let known: Vec<&str> = EmailKind::ALL.iter().map(|k| k.as_str()).collect();
        anyhow::anyhow!(
            "unknown email kind {name:?}; the kinds are: {}",
            known.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_is_named_as_the_api_shows_it_and_an_unknown_one_is_refused() {
        for kind in EmailKind::ALL {
            assert_eq!(parse_kind(kind.as_str()).unwrap(), kind);
        }
        let refused = parse_kind("reminders").unwrap_err().to_string();
        assert!(
            refused.contains("unknown email kind \"reminders\""),
            "{refused}"
        );
        assert!(refused.contains("confirmation, reminder,"), "{refused}");
    }
}
