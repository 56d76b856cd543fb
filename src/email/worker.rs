//! The delivery worker. Each round it claims due emails (a lease, so a crashed worker's emails
//! are taken over when the lease ends), composes them, sends them concurrently over pooled
//! connections, and records each result. It also queues pre-show reminders when they fall due.
//!
//! Nothing is lost: an email leaves the outbox only when the server accepted it. Recording the
//! results is retried until it succeeds, so a transient database error never resends what the
//! server acknowledged; only a crash after sending but before marking resends an email later,
//! with the same Message-ID.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use futures::stream::{self, StreamExt};
use lettre::Message;
use tokio::sync::Notify;

use super::messages::{Composer, TicketFacts};
use super::smtp::{SendError, SmtpTimeouts};
use super::transport::Mailer;
use super::{
    KIND_CANCELLATION, KIND_CONFIRMATION, KIND_EXCHANGE_RECEIPT, KIND_LOBBY, KIND_REMINDER,
    KIND_TRANSFER_OFFER,
};
use crate::config::Config;
use crate::db::models::{EventRow, OutboxRow, PerformanceRow, TicketRow};
use crate::db::{events, outbox, tickets, Conn};
use crate::domain::event::reminder_offsets;
use crate::domain::lobby::{LobbyFacts, LobbyMessage};
use crate::domain::TicketStatus;
use crate::service::{self, tickets as ticket_service, Encore, Error};
use crate::tokens::{render_png, LinkClaims, LinkPurpose};

/// How far ahead the worker looks for performances whose reminders may fall due.
const REMINDER_HORIZON_DAYS: i64 = 31;
/// Recording a round's results is retried after this, doubling up to `RECORD_RETRY_MAX`.
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(50);
const RECORD_RETRY_MAX: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub poll: Duration,
    pub batch: i64,
    pub concurrency: usize,
    pub retry_base: Duration,
    pub max_attempts: i32,
    pub lease: chrono::Duration,
    pub reminder_check: Duration,
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
            retry_base: Duration::from_millis(config.email_retry_base_ms),
            max_attempts: config.email_max_attempts,
            lease: chrono::Duration::seconds(config.email_lease_seconds),
            reminder_check: Duration::from_secs(config.reminder_check_seconds),
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

    /// Exponential backoff: base, 2×base, 4×base, … capped at an hour.
    pub fn retry_delay(&self, attempts: i32) -> chrono::Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).clamp(0, 20) as u32);
        let delay = self
            .retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(3600));
        chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1))
    }
}

/// Time kept in hand before a claim's lease ends (no send starts later): a tenth of the lease,
/// at most a second.
fn lease_margin(lease: chrono::Duration) -> chrono::Duration {
    (lease / 10).min(chrono::Duration::seconds(1))
}

/// What became of one claimed email.
enum Delivery {
    Sent,
    /// Not attempted: the claim ran out first. The row goes to whoever claims it next.
    LeaseExpired,
    /// Not to be sent (the ticket ended): recorded as skipped, with why.
    Skipped(String),
    /// Tried again later, unless `permanent` (the server rejected it with 5xx, or it cannot be
    /// composed) or it was the last attempt.
    Failed {
        reason: String,
        permanent: bool,
    },
}

#[derive(Clone)]
pub struct Worker {
    encore: Encore,
    mailer: Arc<Mailer>,
    composer: Composer,
    settings: WorkerSettings,
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
        }
    }

    pub fn from_config(encore: Encore, config: &Config) -> anyhow::Result<Self> {
        let mailer = Mailer::from_config(config, encore.metrics.clone())?;
        let composer = Composer::new(&config.mail_from)?;
        tracing::info!(transport = %mailer.describe(), "email worker ready");
        Ok(Worker::new(
            encore,
            mailer,
            composer,
            WorkerSettings::from_config(config),
        ))
    }

    /// Runs until the task is dropped: delivers whatever is due, wakes early when new email is
    /// queued in this process, and queues reminders as they fall due. Two delivery pipelines
    /// share the sends in flight, so one's database work (claim, compose, record) overlaps the
    /// other's sending instead of leaving the connections idle.
    pub async fn run(self, wakeup: Arc<Notify>) {
        const PIPELINES: usize = 2;
        let mut pipeline = self.clone();
        pipeline.settings.concurrency = (self.settings.concurrency / PIPELINES).max(1);
        let reminders = {
            let worker = self.clone();
            async move {
                loop {
                    if let Err(e) = worker.queue_due_reminders().await {
                        tracing::error!(error = %e, "could not queue reminders");
                    }
                    if let Err(e) = worker.expire_transfer_offers().await {
                        tracing::error!(error = %e, "could not expire transfer offers");
                    }
                    tokio::time::sleep(worker.settings.reminder_check).await;
                }
            }
        };
        let deliveries = (0..PIPELINES).map(|_| pipeline.clone().deliver_forever(wakeup.clone()));
        tokio::join!(reminders, futures::future::join_all(deliveries));
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

    /// One round: claim, compose, send, record. Returns how many emails were claimed.
    pub async fn deliver_due(&self) -> service::Result<usize> {
        let encore = self.encore.clone();
        let (batch, lease, max_attempts) = (
            self.settings.claim_size(),
            self.settings.lease,
            self.settings.max_attempts,
        );
        let claim = super::new_message_id("claim"); // any unique string serves as the claim's token
        let claim_token = claim.clone();
        let lease_until = crate::service::now() + lease;
        let claimed = blocking(move || {
            let now = crate::service::now().naive_utc();
            encore.db.write(|conn| {
                let abandoned = outbox::fail_abandoned(conn, now, max_attempts)?;
                if abandoned > 0 {
                    tracing::error!(
                        abandoned,
                        "emails failed for good: their claims kept expiring"
                    );
                }
                Ok::<_, Error>(outbox::claim_due(
                    conn,
                    now,
                    lease_until.naive_utc(),
                    &claim_token,
                    batch,
                )?)
            })
        })
        .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let count = claimed.len();

        let (encore, composer) = (self.encore.clone(), self.composer.clone());
        let composed = blocking(move || compose_all(&encore, &composer, claimed)).await?;

        // No send starts unless our lease covers all of it: past the lease another worker may
        // take the row over, and then it would go twice.
        let last_start = (lease_until - lease_margin(self.settings.lease))
            .checked_sub_signed(self.settings.longest_send)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        let results = self.send_all(composed, last_start).await;
        account(&self.encore, &self.settings, &results);
        self.record(claim, results).await;
        Ok(count)
    }

    /// Records a round's results, retrying with backoff until the database takes them: what the
    /// server acknowledged is kept here until it is marked sent, never left for the lease to
    /// expire and be sent again.
    async fn record(&self, claim: String, results: Vec<(OutboxRow, Delivery)>) {
        let results = Arc::new(results);
        let claim: Arc<str> = claim.into();
        let mut wait = RECORD_RETRY_FIRST;
        loop {
            let (encore, settings) = (self.encore.clone(), self.settings.clone());
            let (claim_, results_) = (claim.clone(), results.clone());
            let recorded =
                blocking(move || record_results(&encore, &settings, &claim_, &results_)).await;
            match recorded {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?wait, emails = results.len(), "could not record delivery results; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RECORD_RETRY_MAX);
                }
            }
        }
    }

    /// Sends a claim's emails concurrently. An email whose turn comes after `last_start` is not
    /// sent: it is left to whoever claims it after our lease.
    async fn send_all(
        &self,
        claimed: Vec<(OutboxRow, Prepared)>,
        last_start: chrono::DateTime<chrono::Utc>,
    ) -> Vec<(OutboxRow, Delivery)> {
        let mailer = self.mailer.clone();
        stream::iter(claimed)
            .map(|(row, prepared)| {
                let mailer = mailer.clone();
                async move {
                    let delivery = match prepared {
                        Prepared::Send(_) if crate::service::now() > last_start => {
                            Delivery::LeaseExpired
                        }
                        Prepared::Send(message) => match mailer.send(message).await {
                            Ok(()) => Delivery::Sent,
                            Err(SendError::Permanent(reason)) => Delivery::Failed {
                                reason,
                                permanent: true,
                            },
                            Err(SendError::Transient(reason)) => Delivery::Failed {
                                reason,
                                permanent: false,
                            },
                        },
                        Prepared::Skip(reason) => Delivery::Skipped(reason),
                        Prepared::Broken(reason) => Delivery::Failed {
                            reason,
                            permanent: false,
                        },
                    };
                    (row, delivery)
                }
            })
            .buffer_unordered(self.settings.concurrency)
            .collect()
            .await
    }

    /// Gives unclaimed transfer offers whose time ran out back to their senders.
    pub async fn expire_transfer_offers(&self) -> service::Result<usize> {
        let encore = self.encore.clone();
        blocking(move || crate::service::transfers::expire_due(&encore)).await
    }

    /// Queues every reminder whose time has come, once per (performance, offset). Returns how
    /// many emails were queued.
    pub async fn queue_due_reminders(&self) -> service::Result<usize> {
        let encore = self.encore.clone();
        let domain = self.composer.domain();
        blocking(move || queue_due_reminders(&encore, &domain)).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> service::Result<T> + Send + 'static,
) -> service::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("worker task failed: {e}")))?
}

fn queue_due_reminders(encore: &Encore, message_id_domain: &str) -> service::Result<usize> {
    let now = crate::service::now().naive_utc();
    let horizon = now + chrono::Duration::days(REMINDER_HORIZON_DAYS);
    let upcoming = encore
        .db
        .read(|conn| outbox::upcoming_performances(conn, now, horizon).map_err(Error::from))?;
    let mut queued = 0;
    for (performance_id, starts_at, offsets) in upcoming {
        // Largest offset first. Of the offsets already due, only the last is worth sending:
        // after a pause (a worker that was down), patrons get one reminder, not a burst.
        let due: Vec<i32> = reminder_offsets(&offsets)
            .into_iter()
            .filter(|&m| now >= starts_at - chrono::Duration::minutes(m.into()))
            .collect();
        let Some((&latest, stale)) = due.split_last() else {
            continue;
        };
        queued += encore.db.write(|conn| {
            for &offset in stale {
                outbox::claim_reminder_run(conn, performance_id, offset, now)?; // recorded, never sent
            }
            if !outbox::claim_reminder_run(conn, performance_id, latest, now)? {
                return Ok::<_, Error>(0);
            }
            // The first reminder a patron gets carries the calendar file.
            let first = !outbox::any_reminders_queued(conn, performance_id)?;
            let queued = outbox::queue_reminders(
                conn,
                performance_id,
                latest,
                first,
                message_id_domain,
                now,
            )?;
            tracing::info!(performance_id, offset = latest, queued, "queued reminders");
            Ok(queued)
        })?;
    }
    if queued > 0 {
        encore.outbox_wakeup.notify_one();
    }
    Ok(queued)
}

enum Prepared {
    Send(Message),
    Skip(String),
    Broken(String),
}

/// The tickets, performances and events that the claimed emails are about, in three queries.
struct Context {
    tickets: HashMap<i64, TicketRow>,
    performances: HashMap<i64, PerformanceRow>,
    events: HashMap<i64, EventRow>,
}

fn load_context(conn: &mut Conn<'_>, rows: &[OutboxRow]) -> service::Result<Context> {
    let ticket_ids: Vec<i64> = rows.iter().filter_map(|r| r.ticket_id).collect();
    let tickets: HashMap<i64, TicketRow> = tickets::find_many(conn, &ticket_ids)?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut performance_ids: Vec<i64> = tickets.values().map(|t| t.performance_id).collect();
    performance_ids.sort_unstable();
    performance_ids.dedup();
    let mut performances = HashMap::new();
    let mut events_by_id = HashMap::new();
    for id in performance_ids {
        if let Some(p) = events::find_performance(conn, id)? {
            if let std::collections::hash_map::Entry::Vacant(slot) = events_by_id.entry(p.event_id)
            {
                if let Some(e) = events::find_event(conn, p.event_id)? {
                    slot.insert(e);
                }
            }
            performances.insert(id, p);
        }
    }
    Ok(Context {
        tickets,
        performances,
        events: events_by_id,
    })
}

fn compose_all(
    encore: &Encore,
    composer: &Composer,
    rows: Vec<OutboxRow>,
) -> service::Result<Vec<(OutboxRow, Prepared)>> {
    let base_url = encore.settings.public_base_url.as_str();
    let context = encore.db.read(|conn| load_context(conn, &rows))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            // One email that cannot be composed must not hold back the others.
            let prepared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                compose(encore, composer, base_url, &context, &row)
            }))
            .unwrap_or_else(|_| Prepared::Broken("composing the email panicked".into()));
            (row, prepared)
        })
        .collect())
}

fn compose(
    encore: &Encore,
    composer: &Composer,
    base_url: &str,
    context: &Context,
    row: &OutboxRow,
) -> Prepared {
    let Some(ticket) = row.ticket_id.and_then(|id| context.tickets.get(&id)) else {
        return Prepared::Skip("the ticket does not exist".into());
    };
    // Confirmations and reminders are only worth sending for a ticket that still admits; a
    // receipt or an offer is about a ticket that has ended or is on offer.
    let status = ticket.status;
    let needs_valid = matches!(row.kind.as_str(), KIND_CONFIRMATION | KIND_REMINDER);
    if needs_valid && status != TicketStatus::Valid {
        return Prepared::Skip(format!("the ticket is {}", status.as_str()));
    }
    let Some(performance) = context.performances.get(&ticket.performance_id) else {
        return Prepared::Broken("the ticket's performance is missing".into());
    };
    let Some(event) = context.events.get(&performance.event_id) else {
        return Prepared::Broken("the performance's event is missing".into());
    };
    let link = match ticket_service::view_link(encore, base_url, ticket, performance) {
        Ok(link) => link,
        Err(e) => return Prepared::Broken(e.to_string()),
    };
    let facts = TicketFacts {
        ticket,
        performance,
        event,
        link: &link,
    };
    let message = match row.kind.as_str() {
        KIND_CONFIRMATION => ticket_service::token_for(encore, ticket, performance)
            .map_err(|e| e.to_string())
            .and_then(|token| render_png(&token).map_err(|e| e.to_string()))
            .and_then(|png| {
                composer
                    .confirmation(&facts, png, &row.message_id)
                    .map_err(|e| e.to_string())
            }),
        KIND_REMINDER => {
            let with_calendar = row
                .detail
                .as_deref()
                .is_some_and(|d| d.ends_with(outbox::WITH_CALENDAR));
            composer
                .reminder(&facts, with_calendar, &row.message_id)
                .map_err(|e| e.to_string())
        }
        KIND_TRANSFER_OFFER => return compose_offer(encore, composer, base_url, &facts, row),
        KIND_LOBBY => {
            // The message as the event says it now: one removed since is not sent.
            let Some(template) = event.lobby_message.clone() else {
                return Prepared::Skip("the event has no lobby message".into());
            };
            let message = LobbyMessage::from_stored(template).render(&LobbyFacts {
                holder_name: &ticket.holder_name,
                event_name: &event.name,
                venue: &event.venue,
                seat: ticket.seat.as_deref(),
                section: ticket.section.as_deref(),
                gate: ticket.admitted_gate.as_deref(),
            });
            composer
                .lobby(&facts, &message, &row.message_id)
                .map_err(|e| e.to_string())
        }
        KIND_EXCHANGE_RECEIPT => row
            .detail
            .as_deref()
            .ok_or_else(|| "the receipt has no details".to_string())
            .and_then(|d| serde_json::from_str(d).map_err(|e| e.to_string()))
            .and_then(|receipt| {
                composer
                    .exchange_receipt(&facts, &receipt, &row.message_id)
                    .map_err(|e| e.to_string())
            }),
        KIND_CANCELLATION => row
            .detail
            .as_deref()
            .ok_or_else(|| "the cancellation has no details".to_string())
            .and_then(|d| serde_json::from_str(d).map_err(|e| e.to_string()))
            .and_then(|notice| {
                composer
                    .cancellation(&facts, &notice, &row.message_id)
                    .map_err(|e| e.to_string())
            }),
        other => Err(format!("unknown email kind {other:?}")),
    };
    match message {
        Ok(message) => Prepared::Send(message),
        Err(e) => Prepared::Broken(e),
    }
}

/// The friend's email: who offers what, and the claim link, valid until the offer expires.
/// An offer no longer open (claimed, canceled, expired before we got to it) is not sent.
fn compose_offer(
    encore: &Encore,
    composer: &Composer,
    base_url: &str,
    facts: &TicketFacts<'_>,
    row: &OutboxRow,
) -> Prepared {
    let Some(offer_id) = row.detail.as_deref().and_then(|d| d.parse::<i64>().ok()) else {
        return Prepared::Broken("the offer email names no transfer".into());
    };
    let offer = match encore
        .db
        .read(|conn| crate::db::transfers::find(conn, offer_id).map_err(Error::from))
    {
        Ok(Some(offer)) => offer,
        Ok(None) => return Prepared::Broken("the transfer does not exist".into()),
        Err(e) => return Prepared::Broken(e.to_string()),
    };
    if offer.status != crate::domain::offer::OfferStatus::Offered {
        return Prepared::Skip(format!("the offer was {}", offer.status.as_str()));
    }
    let message = claim_link(encore, base_url, &offer)
        .map_err(|e| e.to_string())
        .and_then(|link| {
            composer
                .transfer_offer(facts, &offer, &link, &row.message_id)
                .map_err(|e| e.to_string())
        });
    match message {
        Ok(message) => Prepared::Send(message),
        Err(e) => Prepared::Broken(e),
    }
}

/// The friend's signed claim link: bound to claiming, to this offer's ticket generation, and
/// to the offer's expiry.
pub fn claim_link(
    encore: &Encore,
    base_url: &str,
    offer: &crate::db::models::TransferRow,
) -> service::Result<String> {
    let claims = LinkClaims {
        ticket_id: offer.ticket_id,
        generation: offer.generation,
        purpose: LinkPurpose::Claim,
        exp: offer.expires_at.and_utc().timestamp(),
    };
    Ok(format!("{base_url}/claim/{}", encore.keys.sign(&claims)?))
}

/// Whether a failed email is failed for good: rejected for good, or its last attempt.
fn gives_up(settings: &WorkerSettings, row: &OutboxRow, permanent: bool) -> bool {
    permanent || row.attempts >= settings.max_attempts
}

/// Counts and logs a round's results, once: the sends happened whatever becomes of recording
/// them.
fn account(encore: &Encore, settings: &WorkerSettings, results: &[(OutboxRow, Delivery)]) {
    let sent = results
        .iter()
        .filter(|(_, d)| matches!(d, Delivery::Sent))
        .count();
    encore.metrics.emails_sent(sent as u64);
    for (row, delivery) in results {
        let Delivery::Failed { reason, permanent } = delivery else {
            continue;
        };
        let gave_up = gives_up(settings, row, *permanent);
        encore.metrics.email_send_failed(gave_up);
        if gave_up {
            tracing::error!(id = row.id, kind = %row.kind, attempts = row.attempts, permanent, error = %reason, "email failed for good");
        } else {
            tracing::warn!(id = row.id, kind = %row.kind, attempts = row.attempts, error = %reason, "email send failed; will retry");
        }
    }
}

fn record_results(
    encore: &Encore,
    settings: &WorkerSettings,
    claim: &str,
    results: &[(OutboxRow, Delivery)],
) -> service::Result<()> {
    let now: NaiveDateTime = crate::service::now().naive_utc();
    let sent: Vec<i64> = results
        .iter()
        .filter(|(_, d)| matches!(d, Delivery::Sent))
        .map(|(r, _)| r.id)
        .collect();
    encore.db.write(|conn| {
        outbox::mark_sent(conn, &sent, claim, now)?;
        for (row, delivery) in results {
            match delivery {
                Delivery::Sent | Delivery::LeaseExpired => {}
                Delivery::Skipped(reason) => {
                    outbox::release(conn, row.id, claim, outbox::STATUS_SKIPPED, now, reason)?
                }
                Delivery::Failed { reason, permanent } if gives_up(settings, row, *permanent) => {
                    outbox::release(conn, row.id, claim, outbox::STATUS_FAILED, now, reason)?
                }
                Delivery::Failed { reason, .. } => {
                    let next = now + settings.retry_delay(row.attempts);
                    outbox::release(conn, row.id, claim, outbox::STATUS_PENDING, next, reason)?
                }
            }
        }
        Ok::<_, Error>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let settings = WorkerSettings::from_config(&Config::default());
        assert_eq!(settings.retry_delay(1), chrono::Duration::seconds(30));
        assert_eq!(settings.retry_delay(2), chrono::Duration::seconds(60));
        assert_eq!(settings.retry_delay(4), chrono::Duration::seconds(240));
        assert_eq!(settings.retry_delay(30), chrono::Duration::hours(1));
    }
}
