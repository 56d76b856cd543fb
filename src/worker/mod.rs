//! The worker: Encore's third driver, beside `http` and `cli`. Its jobs (one per file in
//! `jobs/`) run in the background and call services, as a request handler does.
//!
//! | job | runs | where |
//! |---|---|---|
//! | [`jobs::deliver_emails`] | whenever email is queued in this process, else every `outbox_poll_ms` | `encore worker`, and `encore serve` unless `run_worker = false` |
//! | [`jobs::queue_reminders`] | every `reminder_check_seconds` | with the delivery |
//! | [`jobs::queue_messages`] | every `reminder_check_seconds` | with the delivery |
//! | [`jobs::expire_transfer_offers`] | every `reminder_check_seconds` | with the delivery |
//! | [`jobs::refresh_keys`] | every `key_refresh_seconds` | every `serve` and `worker` process |
//! | [`jobs::update_wallets`] | every `wallet_update_seconds` | with the delivery |
//! | [`jobs::deliver_webhooks`] | at once while rounds come back full, else every `webhook_poll_ms` | with the delivery |
//! | [`jobs::resume_cancellations`] | once, as `encore serve` starts | `encore serve` |
//!
//! `encore worker` runs until SIGINT or SIGTERM (`cli::outbox::worker`); in `encore serve` the
//! jobs end with the server.

pub mod jobs;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::config::Config;
use crate::domain::outbox::Retries;
use crate::email::messages::Composer;
use crate::email::smtp::SmtpTimeouts;
use crate::email::transport::Mailer;
use crate::service::{self, Encore, Error};
use crate::wallet::apns::Apns;

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub poll: Duration,
    pub batch: i64,
    pub concurrency: usize,
    pub retries: Retries,
    pub lease: chrono::Duration,
    pub reminder_check: Duration,
    /// How often changed wallet passes are looked for.
    pub wallet_update: Duration,
    /// The longest one send may take (see `SmtpTimeouts::longest_send`): a send starts only
    /// when the claim's lease covers all of it.
    pub longest_send: chrono::Duration,
}

impl WorkerSettings {
    pub fn from_config(config: &Config) -> Self {
        WorkerSettings {
            poll: Duration::from_millis(config.outbox_poll_ms),
            batch: config.outbox_batch_size,
            concurrency: config.send_concurrency,
            retries: Retries {
                base: Duration::from_millis(config.email_retry_base_ms),
                max_attempts: config.email_max_attempts,
            },
            lease: chrono::Duration::seconds(config.email_lease_seconds),
            reminder_check: Duration::from_secs(config.reminder_check_seconds),
            wallet_update: Duration::from_secs(config.wallet_update_seconds.max(1)),
            longest_send: chrono::Duration::from_std(
                SmtpTimeouts::from_config(config).longest_send(),
            )
            .unwrap_or(chrono::Duration::MAX),
        }
    }

    /// Emails claimed at once: only what goes out together (two rounds of sends), recorded
    /// before the next claim. A lease then covers a few sends, never a long batch, so it does
    /// not run out while its emails are still being sent.
    pub fn claim_size(&self) -> i64 {
        self.batch.min(2 * self.concurrency as i64).max(1)
    }
}

/// The email worker: delivery, reminders and offer expiry, over one mailer.
#[derive(Clone)]
pub struct Worker {
    encore: Encore,
    mailer: Arc<Mailer>,
    composer: Composer,
    settings: WorkerSettings,
    /// Apple's push service, when the operator configured it.
    apns: Option<Arc<Apns>>,
    /// The webhook client and its settings.
    webhooks: Option<(
        crate::webhook_client::WebhookClient,
        jobs::deliver_webhooks::WebhookSettings,
    )>,
}

impl Worker {
    pub fn new(
        encore: Encore,
        mailer: Mailer,
        composer: Composer,
        settings: WorkerSettings,
    ) -> Self {
        Worker {
            encore,
            mailer: Arc::new(mailer),
            composer,
            settings,
            apns: None,
            webhooks: None,
        }
    }

    /// Delivers webhooks with `settings`.
    pub fn with_webhooks(
        mut self,
        settings: jobs::deliver_webhooks::WebhookSettings,
    ) -> anyhow::Result<Self> {
        let client = crate::webhook_client::WebhookClient::new(
            settings.reach,
            settings.timeout,
            settings.concurrency,
        )?;
        self.webhooks = Some((client, settings));
        Ok(self)
    }

    /// Pushes pass changes to Apple devices through `apns`.
    pub fn with_apns(mut self, apns: Option<Apns>) -> Self {
        self.apns = apns.map(Arc::new);
        self
    }

    pub fn from_config(encore: Encore, config: &Config) -> anyhow::Result<Self> {
        let mailer = Mailer::from_config(config, encore.metrics.clone())?;
        let mut composer = Composer::new(&config.mail_from)?;
        if let Some(dir) = &config.email_templates_dir {
            composer = composer.with_overrides(std::path::Path::new(dir))?;
        }
        tracing::info!(transport = %mailer.describe(), "email worker ready");
        let apns = match config.apns() {
            Some(settings) if encore.apple_passes.is_some() => Some(Apns::new(settings)?),
            _ => None,
        };
        Worker::new(
            encore,
            mailer,
            composer,
            WorkerSettings::from_config(config),
        )
        .with_apns(apns)
        .with_webhooks(jobs::deliver_webhooks::WebhookSettings::from_config(config))
    }

    /// Runs until the task is dropped: delivers whatever is due, wakes early when new email is
    /// queued in this process, queues reminders and expires offers as they fall due, and tells
    /// the wallets of changed passes. Two
    /// delivery pipelines share the sends in flight, so one's database work (claim, compose,
    /// record) overlaps the other's sending instead of leaving the connections idle.
    pub async fn run(self, wakeup: Arc<Notify>) {
        const PIPELINES: usize = 2;
        let mut pipeline = self.clone();
        pipeline.settings.concurrency = (self.settings.concurrency / PIPELINES).max(1);
        let periodic = {
            let worker = self.clone();
            async move {
                loop {
                    if let Err(e) = worker.queue_due_reminders().await {
                        tracing::error!(error = %e, "could not queue reminders");
                    }
                    if let Err(e) = worker.queue_due_messages().await {
                        tracing::error!(error = %e, "could not queue message rules");
                    }
                    if let Err(e) = worker.expire_transfer_offers().await {
                        tracing::error!(error = %e, "could not expire transfer offers");
                    }
                    tokio::time::sleep(worker.settings.reminder_check).await;
                }
            }
        };
        let wallets = {
            let worker = self.clone();
            async move {
                loop {
                    if let Err(e) = worker.update_wallets().await {
                        tracing::error!(error = %e, "could not update wallet passes");
                    }
                    tokio::time::sleep(worker.settings.wallet_update).await;
                }
            }
        };
        let deliveries = (0..PIPELINES).map(|_| pipeline.clone().deliver_forever(wakeup.clone()));
        let webhooks = self.clone().deliver_webhooks_forever();
        tokio::join!(
            periodic,
            wallets,
            futures::future::join_all(deliveries),
            webhooks
        );
    }

    /// One delivery pipeline: claim, send, record; again at once while rounds come back full.
    async fn deliver_forever(self, wakeup: Arc<Notify>) {
        loop {
            match self.deliver_due().await {
                Ok(n) if n as i64 >= self.settings.claim_size() => continue, // more may be waiting
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "email delivery round failed"),
            }
            tokio::select! {
                _ = wakeup.notified() => {}
                _ = tokio::time::sleep(self.settings.poll) => {}
            }
        }
    }

    /// Webhook delivery rounds: again at once while they come back full, else after a pause.
    async fn deliver_webhooks_forever(self) {
        let Some((_, settings)) = &self.webhooks else {
            return;
        };
        let (batch, poll) = (settings.batch, settings.poll);
        loop {
            match self.deliver_webhooks().await {
                Ok(n) if n as i64 >= batch => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "webhook delivery round failed"),
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// One webhook delivery round (see [`jobs::deliver_webhooks`]). Returns how many
    /// deliveries were claimed.
    pub async fn deliver_webhooks(&self) -> service::Result<usize> {
        match &self.webhooks {
            Some((client, settings)) => {
                jobs::deliver_webhooks::run(&self.encore, client, settings).await
            }
            None => Ok(0),
        }
    }

    /// One delivery round (see [`jobs::deliver_emails`]). Returns how many emails were claimed.
    pub async fn deliver_due(&self) -> service::Result<usize> {
        jobs::deliver_emails::run(&self.encore, &self.mailer, &self.composer, &self.settings).await
    }

    /// Queues every reminder whose time has come. Returns how many emails were queued.
    pub async fn queue_due_reminders(&self) -> service::Result<usize> {
        jobs::queue_reminders::run(&self.encore, self.composer.domain()).await
    }

    /// Queues every message rule whose moment has come for a performance. Returns how many
    /// emails were queued.
    pub async fn queue_due_messages(&self) -> service::Result<usize> {
        jobs::queue_messages::run(&self.encore, self.composer.domain()).await
    }

    /// Tells the wallets holding changed passes (see [`jobs::update_wallets`]). Returns how
    /// many passes' wallets were told.
    pub async fn update_wallets(&self) -> service::Result<usize> {
        jobs::update_wallets::run(&self.encore, self.apns.as_deref()).await
    }

    /// Gives unclaimed transfer offers whose time ran out back to their senders.
    pub async fn expire_transfer_offers(&self) -> service::Result<usize> {
        jobs::expire_transfer_offers::run(&self.encore).await
    }
}

/// Runs a service call on tokio's blocking threads (services are blocking functions).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> service::Result<T> + Send + 'static,
) -> service::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("worker task failed: {e}")))?
}
