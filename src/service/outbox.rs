//! The email outbox: what the box office and operators can ask of it, and what the delivery
//! worker (`crate::worker`) does with it: claim due emails, load what they are about, record
//! what became of them, and queue reminders as they fall due.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{Encore, Error, Result};
use crate::db::recommend::{self, UpcomingShow};
use crate::db::{authors, consent, events, message_rules, outbox, tickets, transfers, Conn, Db};
use crate::domain::actor::{Actor, AuthoredChange};
use crate::domain::event::{reminder_offsets, Event, Performance};
use crate::domain::ids::{EmailId, EventId, PerformanceId, TicketId, TransferId};
use crate::domain::message_rule::MessageRule;
use crate::domain::offer::Offer;
use crate::domain::outbox::{Delivery, EmailKind, EmailStatus, FailedFilter, OutboxEmail, Retries};
use crate::domain::policy::Refusal;
use crate::domain::recommend::{PastTicket, Upcoming};
use crate::domain::ticket::Ticket;
use crate::domain::TicketStatus;
use crate::metrics::Snapshot;
use crate::tokens::{LinkClaims, LinkPurpose};

/// How far ahead reminders are looked for: performances whose reminders may fall due.
const REMINDER_HORIZON_DAYS: i64 = 31;

/// Every email queued for a ticket, oldest first, with its state.
pub fn history(db: &Db, ticket_id: TicketId) -> Result<Vec<OutboxEmail>> {
    db.read(|conn| {
        if tickets::find(conn, ticket_id)?.is_none() {
            return Err(Error::not_found("ticket", ticket_id));
        }
        Ok(outbox::for_tickets(conn, &[ticket_id])?)
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxStatus {
    pub by_status: BTreeMap<String, i64>,
    /// When the oldest email not yet sent was queued.
    pub oldest_unsent: Option<DateTime<Utc>>,
}

pub fn status(db: &Db) -> Result<OutboxStatus> {
    db.read(|conn| {
        Ok(OutboxStatus {
            by_status: outbox::status_counts(conn)?.into_iter().collect(),
            oldest_unsent: outbox::oldest_unsent(conn)?,
        })
    })
}

/// What a metrics scrape shows: the pool's state (read first, so the scrape's own connection is
/// not counted) and the outbox's.
pub fn metrics_snapshot(encore: &Encore) -> Result<Snapshot> {
    let pool = encore.db.pool_state();
    let outbox = status(&encore.db)?;
    let oldest_pending_age_seconds = outbox.oldest_unsent.map_or(0.0, |queued| {
        ((Utc::now() - queued).num_milliseconds() as f64 / 1000.0).max(0.0)
    });
    Ok(Snapshot {
        pool,
        outbox_by_status: outbox.by_status,
        oldest_pending_age_seconds,
    })
}

/// Failed emails, the most recent first (at most `limit`), with their last error.
pub fn failed(db: &Db, limit: i64) -> Result<Vec<OutboxEmail>> {
    db.read(|conn| Ok(outbox::failed(conn, limit)?))
}

/// Puts the failed emails that `filter` picks back in line, with a full set of attempts, and
/// wakes this process's worker. Returns them.
pub fn retry_failed(encore: &Encore, filter: &FailedFilter) -> Result<Vec<OutboxEmail>> {
    let now = super::now();
    let retried = encore
        .db
        .write(|conn| Ok::<_, Error>(outbox::retry_failed(conn, filter, now)?))?;
    if !retried.is_empty() {
        tracing::info!(
            emails = retried.len(),
            ?filter,
            "failed emails put back in line"
        );
        encore.outbox_wakeup.notify_one();
    }
    Ok(retried)
}

/// Sends one failed email of a ticket again (the box office, after the patron's address or
/// mailbox was fixed). Only a failed email: one sent, skipped or still on its way is refused,
/// so no email goes twice.
pub fn resend(encore: &Encore, ticket_id: TicketId, email_id: EmailId) -> Result<OutboxEmail> {
    let email = encore.db.read(|conn| {
        if tickets::find(conn, ticket_id)?.is_none() {
            return Err(Error::not_found("ticket", ticket_id));
        }
        Ok(outbox::find(conn, email_id)?)
    })?;
    let email = email
        .filter(|e| e.ticket_id == Some(ticket_id))
        .ok_or_else(|| Error::not_found("email", email_id))?;
    let filter = FailedFilter {
        id: Some(email.id),
        ..FailedFilter::default()
    };
    retry_failed(encore, &filter)?
        .pop()
        .ok_or_else(|| Error::Conflict {
            code: "email_not_failed",
            message: format!(
                "email {email_id} is {}: only a failed email can be sent again",
                email.status
            ),
        })
}

/// Sends a ticket's confirmation again to its holder, for a patron who says it never came: a
/// failed one goes back in line (as [`resend`]); a delivered or skipped one is queued afresh,
/// recorded with its author. Refused for a ticket that no longer admits (`ticket_not_valid`), and
/// while a confirmation is still on its way (`email_on_its_way`), so a double click sends one.
pub fn resend_confirmation(
    encore: &Encore,
    ticket_id: TicketId,
    by: &Actor,
) -> Result<OutboxEmail> {
    let latest_failed = encore.db.read(|conn| -> Result<_> {
        let ticket =
            tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        Ok(confirmations(conn, &ticket)?
            .pop()
            .filter(|e| e.status == EmailStatus::Failed))
    })?;
    if let Some(failed) = latest_failed {
        return resend(encore, ticket_id, failed.id);
    }
    let now = super::now();
    let queued = encore.db.write(|conn| -> Result<_> {
        let ticket =
            tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        if ticket.status != TicketStatus::Valid {
            return Err(Refusal::NotValid(ticket.status).into());
        }
        let earlier = confirmations(conn, &ticket)?;
        if earlier
            .iter()
            .any(|e| matches!(e.status, EmailStatus::Pending | EmailStatus::Sending))
        {
            return Err(Error::Conflict {
                code: "email_on_its_way",
                message: format!(
                    "ticket {ticket_id}'s confirmation is still on its way: wait for it to be \
                     sent or to fail"
                ),
            });
        }
        let mut again = super::tickets::confirmation_email(encore, &ticket, now);
        // Numbered by the copies before it: two clicks racing here queue one email.
        again.dedupe_key = format!("{}:again:{}", again.dedupe_key, earlier.len());
        outbox::enqueue(conn, &[again])?;
        authors::record(
            conn,
            &[ticket_id],
            AuthoredChange::EmailQueued,
            now,
            &by.describe(),
        )?;
        confirmations(conn, &ticket)?
            .pop()
            .ok_or_else(|| Error::Internal("the queued confirmation is not in the outbox".into()))
    })?;
    encore.outbox_wakeup.notify_one();
    Ok(queued)
}

/// The confirmations sent (or sending) for the ticket, oldest first.
fn confirmations(conn: &mut Conn<'_>, ticket: &Ticket) -> Result<Vec<OutboxEmail>> {
    let mut emails = outbox::for_tickets(conn, &[ticket.id])?;
    emails.retain(|e| e.kind == EmailKind::Confirmation);
    Ok(emails)
}

/// Claims up to `limit` due emails until `lease_until` under `claim_token` (any unique string):
/// pending ones whose time has come, and ones whose worker died holding them. Emails whose
/// claims kept expiring through all their attempts are failed first, so they stop coming back.
pub fn claim_due(
    encore: &Encore,
    claim_token: &str,
    lease_until: DateTime<Utc>,
    limit: i64,
    max_attempts: i32,
) -> Result<Vec<OutboxEmail>> {
    let now = super::now();
    encore.db.write(|conn| {
        let abandoned = outbox::fail_abandoned(conn, now, max_attempts)?;
        if abandoned > 0 {
            tracing::error!(
                abandoned,
                "emails failed for good: their claims kept expiring"
            );
        }
        Ok(outbox::claim_due(
            conn,
            now,
            lease_until,
            claim_token,
            limit,
        )?)
    })
}

/// The tickets, performances and events that claimed emails are about.
pub struct EmailContext {
    pub tickets: HashMap<TicketId, Ticket>,
    pub performances: HashMap<PerformanceId, Performance>,
    pub events: HashMap<EventId, Event>,
    /// What the claim's rule messages need (empty when it holds none).
    pub rules: RuleContext,
}

/// What rule messages are written from: their rules as they are now, which recipients opted
/// out of marketing, and for recommendations each recipient's history and the shows ahead.
#[derive(Default)]
pub struct RuleContext {
    pub rules: HashMap<i64, MessageRule>,
    pub opted_out: HashSet<String>,
    pub histories: HashMap<String, Vec<PastTicket>>,
    /// The shows ahead with free seats, as the recommendation rule reads them...
    pub upcoming: Vec<Upcoming>,
    /// ...and as an email names them.
    pub shows: HashMap<PerformanceId, UpcomingShow>,
}

/// How far ahead recommendations look.
const RECOMMEND_HORIZON_DAYS: i64 = 180;

fn load_rule_context(conn: &mut Conn<'_>, rows: &[OutboxEmail]) -> Result<RuleContext> {
    let rule_rows: Vec<&OutboxEmail> = rows
        .iter()
        .filter(|r| r.kind == EmailKind::RuleMessage)
        .collect();
    if rule_rows.is_empty() {
        return Ok(RuleContext::default());
    }
    let mut rules = HashMap::new();
    for id in rule_rows
        .iter()
        .filter_map(|r| r.detail.as_deref()?.parse::<i64>().ok())
        .collect::<HashSet<_>>()
    {
        if let Some(rule) = message_rules::find(conn, id)? {
            rules.insert(id, rule);
        }
    }
    let recipients: Vec<&str> = rule_rows.iter().map(|r| r.recipient.as_str()).collect();
    let opted_out = consent::opted_out_among(conn, &recipients)?
        .into_iter()
        .collect();
    let mut context = RuleContext {
        rules,
        opted_out,
        ..RuleContext::default()
    };
    if context.rules.values().any(|r| r.rule.recommends()) {
        let now = super::now();
        let until = now + chrono::Duration::days(RECOMMEND_HORIZON_DAYS);
        context.histories = recommend::histories(conn, &recipients, now)?;
        for show in recommend::upcoming(conn, now, until)? {
            context.upcoming.push(show.upcoming.clone());
            context.shows.insert(show.upcoming.performance_id, show);
        }
    }
    Ok(context)
}

/// Loads what `emails` are about, in a few queries for the whole claim.
pub fn context_of(encore: &Encore, emails: &[OutboxEmail]) -> Result<EmailContext> {
    encore.db.read(|conn| load_context(conn, emails))
}

fn load_context(conn: &mut Conn<'_>, rows: &[OutboxEmail]) -> Result<EmailContext> {
    let ticket_ids: Vec<TicketId> = rows.iter().filter_map(|r| r.ticket_id).collect();
    let tickets: HashMap<TicketId, Ticket> = tickets::find_many(conn, &ticket_ids)?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut performance_ids: Vec<PerformanceId> =
        tickets.values().map(|t| t.performance_id).collect();
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
    Ok(EmailContext {
        tickets,
        performances,
        events: events_by_id,
        rules: load_rule_context(conn, rows)?,
    })
}

/// What an offer email is about, as it stands when the email is composed.
pub enum OfferToSend {
    /// Still open: the offer and the friend's claim link.
    Open {
        offer: Offer,
        claim_link: String,
    },
    /// No longer open (claimed, canceled, expired): not sent. Holds the offer's status.
    Closed(crate::domain::offer::OfferStatus),
    Missing,
}

/// The transfer offer `offer_id` and, while it is open, the friend's signed claim link: bound
/// to claiming, to the offer's ticket generation, and to the offer's expiry.
pub fn offer_to_send(encore: &Encore, base_url: &str, offer_id: TransferId) -> Result<OfferToSend> {
    let offer = encore
        .db
        .read(|conn| transfers::find(conn, offer_id).map_err(Error::from))?;
    let Some(offer) = offer else {
        return Ok(OfferToSend::Missing);
    };
    if offer.status != crate::domain::offer::OfferStatus::Offered {
        return Ok(OfferToSend::Closed(offer.status));
    }
    let claims = LinkClaims {
        ticket_id: offer.ticket_id,
        generation: offer.generation,
        purpose: LinkPurpose::Claim,
        exp: offer.expires_at.timestamp(),
    };
    let claim_link = format!("{base_url}/claim/{}", encore.keys.sign(&claims)?);
    Ok(OfferToSend::Open { offer, claim_link })
}

/// Records what became of a claim's emails: sent, skipped, failed for good, or back in line
/// after a backoff. Only emails still held under `claim_token` change (a newer claim wins).
pub fn record_deliveries(
    encore: &Encore,
    claim_token: &str,
    retries: &Retries,
    results: &[(OutboxEmail, Delivery)],
) -> Result<()> {
    let now = super::now();
    let sent: Vec<EmailId> = results
        .iter()
        .filter(|(_, d)| matches!(d, Delivery::Sent))
        .map(|(r, _)| r.id)
        .collect();
    encore.db.write(|conn| {
        outbox::mark_sent(conn, &sent, claim_token, now)?;
        for (row, delivery) in results {
            let (id, claim) = (row.id, claim_token);
            match delivery {
                Delivery::Sent | Delivery::LeaseExpired => {}
                Delivery::Skipped(reason) => {
                    outbox::release(conn, id, claim, EmailStatus::Skipped, now, reason)?
                }
                Delivery::Failed { reason, permanent }
                    if retries.gives_up(row.attempts, *permanent) =>
                {
                    outbox::release(conn, id, claim, EmailStatus::Failed, now, reason)?
                }
                Delivery::Failed { reason, .. } => {
                    let next = now + retries.delay(row.attempts);
                    outbox::release(conn, id, claim, EmailStatus::Pending, next, reason)?
                }
            }
        }
        Ok::<_, Error>(())
    })
}

/// Queues every reminder whose time has come, once per (performance, offset), with Message-IDs
/// in `message_id_domain`, and wakes this process's worker. Returns how many emails were queued.
pub fn queue_due_reminders(encore: &Encore, message_id_domain: &str) -> Result<usize> {
    let now = super::now();
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
            tracing::info!(
                performance_id = performance_id.0,
                offset = latest,
                queued,
                "queued reminders"
            );
            Ok(queued)
        })?;
    }
    if queued > 0 {
        encore.outbox_wakeup.notify_one();
    }
    Ok(queued)
}
