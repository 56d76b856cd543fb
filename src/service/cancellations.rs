//! Canceling: one ticket at the box office, or a whole performance. A canceled QR refuses at
//! once, the seat goes back, the price goes to the holder's credit when asked (or when the
//! event's policy says so), and the holder is emailed — all in the transaction that cancels.
//!
//! A performance is canceled by a job that takes a bounded batch of holders per transaction.
//! Its counters move with each batch, so a crash loses at most the batch in flight (rolled
//! back whole), and running the job again finishes the rest. Nobody is credited twice: a
//! ticket is only ever canceled by the one conditional write that finds it still cancelable,
//! and the ledger allows one cancellation refund per ticket besides.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::idempotency::{self, IdempotencyKey, Idempotent, Reply};
use super::{credit, Encore, Error, Result};
use crate::db::{authors, cancellations as store, events, outbox, tickets, transfers, Conn};
use crate::domain::actor::{Actor, AuthoredChange};
use crate::domain::cancellation::{
    CancellationStatus, PerformanceCancellation, TicketCancellation,
};
use crate::domain::credit::CreditReason;
use crate::domain::ids::{CancellationId, PerformanceId, TicketId};
use crate::domain::offer::OfferStatus;
use crate::domain::outbox::{EmailKind, NewEmail};
use crate::domain::policy::Refusal;
use crate::domain::text::label;
use crate::domain::ticket::Ticket;
use crate::domain::{Invalid, TicketStatus};
use crate::email;

/// Why the box office cancels, as the holder will read it.
#[derive(Debug, Clone)]
pub struct Reason(String);

impl Reason {
    pub fn parse(reason: &str) -> Result<Reason, Invalid> {
        Ok(Reason(label("reason", reason, 500)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub use crate::domain::cancellation::CancellationNotice;

/// The box office cancels one ticket, under the request's key if it sent one (see
/// `idempotency::once`). An open transfer offer of it is withdrawn with it. Canceling twice is
/// refused (`already_canceled`), as is a ticket already used to enter.
pub fn cancel_ticket<V: Serialize>(
    encore: &Encore,
    key: Option<&IdempotencyKey>,
    ticket_id: TicketId,
    reason: &Reason,
    refund_to_credit: bool,
    by: &Actor,
    reply: Reply<TicketCancellation, V>,
) -> Result<Idempotent<V>> {
    idempotency::once(encore, key, reply, |conn| {
        cancel_ticket_in(encore, conn, ticket_id, reason, refund_to_credit, by)
    })
}

/// Cancels one ticket in the caller's transaction; the holder's email is sent once it commits.
fn cancel_ticket_in(
    encore: &Encore,
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    reason: &Reason,
    refund_to_credit: bool,
    by: &Actor,
) -> Result<TicketCancellation> {
    let now = super::now();
    let ticket =
        tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
    let done = cancel_tickets(
        conn,
        std::slice::from_ref(&ticket),
        reason,
        refund_to_credit,
        None,
        now,
        &by.describe(),
    )?;
    let Some(canceled) = done.into_iter().next() else {
        // Someone else changed the ticket first (or it was never cancelable): say what it is.
        let now_is = tickets::find(conn, ticket_id)?.unwrap_or_else(|| ticket.clone());
        return Err(why_not_cancelable(&now_is).into());
    };
    let notice = CancellationNotice {
        reason: reason.as_str().to_string(),
        performance_canceled: false,
        ticket_ids: vec![ticket_id],
        refunds: refunds_of(std::slice::from_ref(&canceled)),
    };
    outbox::enqueue(
        conn,
        &[notice_email(
            encore,
            format!("{}:ticket:{ticket_id}", EmailKind::Cancellation),
            ticket_id,
            &ticket.holder_email,
            &notice,
            now,
        )?],
    )?;
    Ok(canceled)
}

/// Why a ticket cannot be canceled, from what it is now.
fn why_not_cancelable(ticket: &Ticket) -> Refusal {
    match ticket.status {
        TicketStatus::Canceled => Refusal::AlreadyCanceled,
        _ if ticket.is_admitted() => Refusal::AlreadyAdmitted,
        status => Refusal::NotValid(status),
    }
}

/// Cancels those of `candidates` still cancelable, inside the caller's transaction, and
/// returns what was done for each. Skips (does not fail on) a ticket that a scan, an exchange
/// or a claim changed since it was read.
fn cancel_tickets(
    conn: &mut Conn<'_>,
    candidates: &[Ticket],
    reason: &Reason,
    refund_to_credit: bool,
    cancellation_id: Option<CancellationId>,
    at: DateTime<Utc>,
    by: &str,
) -> Result<Vec<TicketCancellation>> {
    let mut done = Vec::with_capacity(candidates.len());
    let mut seats_by_performance: BTreeMap<PerformanceId, i64> = BTreeMap::new();
    for ticket in candidates {
        if ticket.is_admitted() {
            continue;
        }
        match ticket.status {
            TicketStatus::Valid => {}
            TicketStatus::Transferred => {
                if !withdraw_offer(conn, ticket, at)? {
                    continue; // no open offer: it was claimed; the friend's ticket is the live one
                }
            }
            TicketStatus::Exchanged | TicketStatus::Canceled => continue,
        }
        if !store::cancel_unused(conn, ticket)? {
            continue;
        }
        let refund_minor = if refund_to_credit {
            ticket.price.minor
        } else {
            0
        };
        let refund = credit::Posting {
            email: &ticket.holder_email,
            currency: ticket.price.currency,
            reason: CreditReason::CancelRefund,
            ticket_id: Some(ticket.id),
            at,
        };
        credit::add(conn, &refund, refund_minor)?;
        *seats_by_performance
            .entry(ticket.performance_id)
            .or_default() += 1;
        done.push(TicketCancellation {
            ticket_id: ticket.id,
            reason: reason.as_str().to_string(),
            refund_minor,
            currency: ticket.price.currency,
            cancellation_id,
            canceled_at: at,
        });
    }
    for (performance_id, seats) in seats_by_performance {
        events::release_seats(conn, performance_id, seats)?;
    }
    store::record(conn, &done)?;
    let canceled: Vec<TicketId> = done.iter().map(|c| c.ticket_id).collect();
    authors::record(conn, &canceled, AuthoredChange::Canceled, at, by)?;
    Ok(done)
}

/// Withdraws the open offer of a ticket on offer; false when there is none any more.
fn withdraw_offer(conn: &mut Conn<'_>, ticket: &Ticket, at: DateTime<Utc>) -> Result<bool> {
    let Some(offer) = transfers::for_generation(conn, ticket.id, ticket.generation)?
        .filter(|o| o.status == OfferStatus::Offered)
    else {
        return Ok(false);
    };
    Ok(transfers::resolve(
        conn,
        offer.id,
        OfferStatus::Canceled,
        at,
        None,
    )?)
}

fn refunds_of(done: &[TicketCancellation]) -> BTreeMap<String, i64> {
    let mut refunds = BTreeMap::new();
    for c in done.iter().filter(|c| c.refund_minor > 0) {
        *refunds.entry(c.currency.as_str().to_string()).or_insert(0) += c.refund_minor;
    }
    refunds
}

fn notice_email(
    encore: &Encore,
    dedupe_key: String,
    ticket_id: TicketId,
    recipient: &str,
    notice: &CancellationNotice,
    now: DateTime<Utc>,
) -> Result<NewEmail> {
    let detail = serde_json::to_string(notice).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(email::ticket_email(
        EmailKind::Cancellation,
        dedupe_key,
        ticket_id,
        Some(detail),
        recipient,
        &encore.settings.message_id_domain,
        now,
    ))
}

/// Starts canceling a performance: marks it canceled (no more tickets are issued for it) and
/// creates its job, crediting holders as the event's policy says. Asking again returns the
/// job already started (`false`), whatever its state.
pub fn begin_performance_cancellation(
    encore: &Encore,
    performance_id: PerformanceId,
    reason: &Reason,
    by: &Actor,
) -> Result<(PerformanceCancellation, bool)> {
    let now = super::now();
    encore.db.write(|conn| {
        let performance = events::find_performance(conn, performance_id)?
            .ok_or_else(|| Error::not_found("performance", performance_id))?;
        if let Some(job) = store::job_of_performance(conn, performance_id)? {
            return Ok((job, false));
        }
        let event = events::find_event(conn, performance.event_id)?
            .ok_or_else(|| Error::not_found("event", performance.event_id))?;
        let refund = event.policy.refund_on_cancel;
        store::mark_performance_canceled(conn, performance_id, now)?;
        let total = store::count_cancelable(conn, performance_id)?;
        Ok(store::start_job(
            conn,
            performance_id,
            reason.as_str(),
            refund,
            total,
            now,
            &by.describe(),
        )?)
    })
}

/// Who a job started before authors were kept is said to be started by.
const UNKNOWN_STARTER: &str = "the box office";

/// Holders per batch unless the caller says otherwise: a few hundred tickets per transaction.
pub const DEFAULT_HOLDERS_PER_BATCH: i64 = 250;

/// Runs one batch of the job in one transaction: the next holders' tickets are canceled,
/// credited, emailed (one email per holder), and the job's counters move. Returns the job
/// as it stands after the batch.
pub fn run_batch(
    encore: &Encore,
    job_id: CancellationId,
    holders_per_batch: i64,
) -> Result<PerformanceCancellation> {
    let now = super::now();
    let job = encore.db.write(|conn| {
        let job = store::find_job(conn, job_id)?
            .ok_or_else(|| Error::not_found("cancellation", job_id))?;
        if job.status == CancellationStatus::Done {
            return Ok(job);
        }
        let reason = Reason(job.reason.clone());
        let holders = store::next_holders(conn, job.performance_id, holders_per_batch.max(1))?;
        let candidates = store::cancelable_of_holders(conn, job.performance_id, &holders)?;
        let done = cancel_tickets(
            conn,
            &candidates,
            &reason,
            job.refund_to_credit,
            Some(job.id),
            now,
            job.started_by.as_deref().unwrap_or(UNKNOWN_STARTER),
        )?;
        outbox::enqueue(
            conn,
            &holder_notices(encore, &job, &candidates, &done, now)?,
        )?;
        let remaining = store::count_cancelable(conn, job.performance_id)?;
        store::advance_job(conn, job.id, done.len() as i64, remaining, now)?;
        Ok::<_, Error>(store::find_job(conn, job_id)?.expect("the job was just read"))
    })?;
    encore.outbox_wakeup.notify_one();
    Ok(job)
}

/// One email per holder of the batch, about all their tickets canceled in it.
fn holder_notices(
    encore: &Encore,
    job: &PerformanceCancellation,
    candidates: &[Ticket],
    done: &[TicketCancellation],
    now: DateTime<Utc>,
) -> Result<Vec<NewEmail>> {
    let holder_of: BTreeMap<TicketId, &str> = candidates
        .iter()
        .map(|t| (t.id, t.holder_email.as_str()))
        .collect();
    let mut by_holder: BTreeMap<&str, Vec<TicketCancellation>> = BTreeMap::new();
    for canceled in done {
        if let Some(holder) = holder_of.get(&canceled.ticket_id) {
            by_holder.entry(holder).or_default().push(canceled.clone());
        }
    }
    by_holder
        .into_iter()
        .map(|(holder, theirs)| {
            let notice = CancellationNotice {
                reason: job.reason.clone(),
                performance_canceled: true,
                ticket_ids: theirs.iter().map(|c| c.ticket_id).collect(),
                refunds: refunds_of(&theirs),
            };
            notice_email(
                encore,
                format!(
                    "{}:performance:{}:{holder}",
                    EmailKind::Cancellation,
                    job.performance_id
                ),
                theirs[0].ticket_id,
                holder,
                &notice,
                now,
            )
        })
        .collect()
}

/// Runs the job's batches until it is done, reporting after each.
pub fn run_to_end(
    encore: &Encore,
    job_id: CancellationId,
    holders_per_batch: i64,
    pause: std::time::Duration,
    mut progress: impl FnMut(&PerformanceCancellation),
) -> Result<PerformanceCancellation> {
    loop {
        let job = run_batch(encore, job_id, holders_per_batch)?;
        progress(&job);
        if job.status == CancellationStatus::Done {
            return Ok(job);
        }
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

/// Finishes, in the background, every job a stopped process left running.
pub fn resume_unfinished(encore: &Encore) -> Result<()> {
    let jobs = encore
        .db
        .read(|conn| store::unfinished_jobs(conn).map_err(Error::from))?;
    for job_id in jobs {
        tracing::info!(job_id = job_id.0, "resuming a performance cancellation");
        run_in_background(encore.clone(), job_id);
    }
    Ok(())
}

/// Runs a job to its end on its own thread (the API answers at once with the job to poll).
pub fn run_in_background(encore: Encore, job_id: CancellationId) {
    let spawned = std::thread::Builder::new()
        .name(format!("cancel-job-{job_id}"))
        .spawn(move || {
            let finished = run_to_end(
                &encore,
                job_id,
                DEFAULT_HOLDERS_PER_BATCH,
                std::time::Duration::ZERO,
                |_| {},
            );
            match finished {
                Ok(job) => tracing::info!(
                    job_id = job_id.0,
                    canceled = job.progress.canceled,
                    "performance cancellation finished"
                ),
                // The job's row still says running: the next start (or the CLI) resumes it.
                Err(e) => tracing::error!(job_id = job_id.0, error = %e, "performance cancellation stopped"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!(job_id = job_id.0, error = %e, "cannot start the cancellation thread");
    }
}

/// The cancellation job of a performance.
pub fn job_of_performance(
    encore: &Encore,
    performance_id: PerformanceId,
) -> Result<PerformanceCancellation> {
    encore.db.read(|conn| {
        store::job_of_performance(conn, performance_id)?
            .ok_or_else(|| Error::not_found("cancellation of performance", performance_id))
    })
}
