//! Webhook delivery, one round at a time: claim due deliveries (a lease, so a crashed worker's
//! are taken over when it ends), sign and POST them concurrently, record each result in one
//! transaction.
//!
//! At least once: a delivery leaves the outbox only when its endpoint answered 2xx. A crash
//! after the answer but before the record sends it again after the lease, with the same
//! `webhook-id`, which is what the receiver deduplicates on. Recording is retried until the
//! database takes it, so a transient database error never resends what was acknowledged.

use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::domain::webhook;
use crate::service::webhooks::{self, Attempt, Due, Policy};
use crate::service::{self, Encore};
use crate::webhook_client::{Outcome, WebhookClient};
use crate::worker::blocking;

/// Recording a round's results is retried after this, doubling up to 5 seconds.
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(50);

/// What a delivery round needs besides the services.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub batch: i64,
    pub concurrency: usize,
    pub timeout: Duration,
    pub poll: Duration,
    pub policy: Policy,
    pub reach: webhook::Reach,
}

impl WebhookSettings {
    pub fn from_config(config: &crate::config::Config) -> Self {
        WebhookSettings {
            batch: config.webhook_batch_size,
            concurrency: config.webhook_concurrency,
            timeout: Duration::from_millis(config.webhook_timeout_ms),
            poll: Duration::from_millis(config.webhook_poll_ms.max(1)),
            policy: Policy {
                retry_base: Duration::from_millis(config.webhook_retry_base_ms),
                retry_max: Duration::from_secs(config.webhook_retry_max_seconds),
                disable_after: chrono::Duration::seconds(
                    config.webhook_disable_after_seconds.min(i64::MAX as u64) as i64,
                ),
            },
            reach: config.webhook_reach(),
        }
    }

    /// A claim's lease: every send of the round may take the whole timeout, one after another
    /// in the worst case of `batch / concurrency` waves, plus a margin.
    fn lease(&self) -> chrono::Duration {
        let waves = (self.batch as u32)
            .div_ceil(self.concurrency.max(1) as u32)
            .max(1);
        chrono::Duration::from_std(self.timeout * (waves + 1)).unwrap_or(chrono::Duration::MAX)
    }
}

/// One round. Returns how many deliveries were claimed.
pub async fn run(
    encore: &Encore,
    client: &WebhookClient,
    settings: &WebhookSettings,
) -> service::Result<usize> {
    let token = format!("wh-{}", uuid_like());
    let lease_until = service::now() + settings.lease();
    let due = {
        let (encore, token, batch) = (encore.clone(), token.clone(), settings.batch);
        blocking(move || webhooks::claim_due(&encore, &token, lease_until, batch)).await?
    };
    if due.is_empty() {
        return Ok(0);
    }
    let count = due.len();
    let attempts: Vec<Attempt> = stream::iter(due)
        .map(|due| send(client, due))
        .buffer_unordered(settings.concurrency.max(1))
        .collect()
        .await;
    let sent = attempts.iter().filter(|a| a.result.is_ok()).count() as u64;
    encore.metrics.webhooks_delivered(sent);
    encore.metrics.webhooks_failed(attempts.len() as u64 - sent);
    record(encore, settings, token, attempts).await;
    Ok(count)
}

async fn send(client: &WebhookClient, due: Due) -> Attempt {
    let timestamp = service::now().timestamp();
    let result = match webhook::sign(&due.secret, &due.message_id, timestamp, &due.body) {
        Err(e) => Err((None, e.to_string())),
        Ok(signature) => match client
            .post(&due.url, &due.message_id, timestamp, &signature, due.body)
            .await
        {
            Outcome::Delivered(status) => Ok(status),
            Outcome::Failed(status, reason) => Err((status, reason)),
        },
    };
    Attempt {
        delivery_id: due.delivery_id,
        endpoint_id: due.endpoint_id,
        attempts_before: due.attempts,
        result,
    }
}

async fn record(
    encore: &Encore,
    settings: &WebhookSettings,
    token: String,
    attempts: Vec<Attempt>,
) {
    let attempts = std::sync::Arc::new(attempts);
    let mut wait = RECORD_RETRY_FIRST;
    loop {
        let (encore_, token_, attempts_) = (encore.clone(), token.clone(), attempts.clone());
        let policy = settings.policy;
        match blocking(move || webhooks::record(&encore_, &token_, &attempts_, &policy)).await {
            Ok(disabled) => {
                for endpoint in disabled {
                    tracing::warn!(
                        endpoint,
                        "webhook endpoint disabled after failing for too long"
                    );
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?wait, "could not record webhook deliveries; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// A claim token: unique enough across processes (time, process id and a counter).
fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut random = [0u8; 8];
    let _ = getrandom::fill(&mut random);
    format!(
        "{}-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        service::now().timestamp_micros(),
        hex::encode(random)
    )
}
