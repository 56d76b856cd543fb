//! Email delivery, one round at a time: claim due emails (a lease, so a crashed worker's emails
//! are taken over when the lease ends), compose them, send them concurrently over pooled
//! connections, and record each result.
//!
//! Nothing is lost: an email leaves the outbox only when the server accepted it. Recording the
//! results is retried until it succeeds, so a transient database error never resends what the
//! server acknowledged; only a crash after sending but before marking resends an email later,
//! with the same Message-ID.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use lettre::Message;

use crate::domain::event::in_venue_time;
use crate::domain::ids::TransferId;
use crate::domain::lobby::{LobbyFacts, LobbyMessage};
use crate::domain::message_rule::{no_show_credit, still_in_audience, Audience, Purpose};
use crate::domain::outbox::OutboxEmail;
use crate::domain::outbox::{reminder_carries_calendar, Delivery, EmailKind};
use crate::domain::recommend::recommend;
use crate::domain::TicketStatus;
use crate::email;
use crate::email::messages::{Composer, CreditOffer, RuleMessageParts, Suggestion, TicketFacts};
use crate::email::smtp::SendError;
use crate::email::transport::Mailer;
use crate::service::outbox::{EmailContext, OfferToSend};
use crate::service::{self, consent, no_show, outbox, tickets, Encore};
use crate::tokens::render_png;
use crate::worker::{blocking, WorkerSettings};

/// Recording a round's results is retried after this, doubling up to `RECORD_RETRY_MAX`.
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(50);
const RECORD_RETRY_MAX: Duration = Duration::from_secs(5);

/// One round: claim, compose, send, record. Returns how many emails were claimed.
pub async fn run(
    encore: &Encore,
    mailer: &Arc<Mailer>,
    composer: &Composer,
    settings: &WorkerSettings,
) -> service::Result<usize> {
    let (batch, max_attempts) = (settings.claim_size(), settings.retries.max_attempts);
    let claim = email::new_message_id("claim"); // any unique string serves as the claim's token
    let lease_until = service::now() + settings.lease;
    let claimed = {
        let (encore, claim) = (encore.clone(), claim.clone());
        blocking(move || outbox::claim_due(&encore, &claim, lease_until, batch, max_attempts))
            .await?
    };
    if claimed.is_empty() {
        return Ok(0);
    }
    let count = claimed.len();

    let composed = {
        let (encore, composer) = (encore.clone(), composer.clone());
        blocking(move || compose_all(&encore, &composer, claimed)).await?
    };

    // No send starts unless our lease covers all of it: past the lease another worker may
    // take the row over, and then it would go twice.
    let last_start = (lease_until - lease_margin(settings.lease))
        .checked_sub_signed(settings.longest_send)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let results = send_all(mailer, settings.concurrency, composed, last_start).await;
    account(encore, settings, &results);
    record(encore, settings, claim, results).await;
    Ok(count)
}

/// Time kept in hand before a claim's lease ends (no send starts later): a tenth of the lease,
/// at most a second.
fn lease_margin(lease: chrono::Duration) -> chrono::Duration {
    (lease / 10).min(chrono::Duration::seconds(1))
}

/// Records a round's results, retrying with backoff until the database takes them: what the
/// server acknowledged is kept here until it is marked sent, never left for the lease to
/// expire and be sent again.
async fn record(
    encore: &Encore,
    settings: &WorkerSettings,
    claim: String,
    results: Vec<(OutboxEmail, Delivery)>,
) {
    let results = Arc::new(results);
    let claim: Arc<str> = claim.into();
    let mut wait = RECORD_RETRY_FIRST;
    loop {
        let (encore, retries) = (encore.clone(), settings.retries);
        let (claim_, results_) = (claim.clone(), results.clone());
        let recorded =
            blocking(move || outbox::record_deliveries(&encore, &claim_, &retries, &results_))
                .await;
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
    mailer: &Arc<Mailer>,
    concurrency: usize,
    claimed: Vec<(OutboxEmail, Prepared)>,
    last_start: chrono::DateTime<chrono::Utc>,
) -> Vec<(OutboxEmail, Delivery)> {
    stream::iter(claimed)
        .map(|(row, prepared)| {
            let mailer = mailer.clone();
            async move {
                let delivery = match prepared {
                    Prepared::Send(_) if service::now() > last_start => Delivery::LeaseExpired,
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
        .buffer_unordered(concurrency)
        .collect()
        .await
}

enum Prepared {
    Send(Message),
    Skip(String),
    Broken(String),
}

fn compose_all(
    encore: &Encore,
    composer: &Composer,
    rows: Vec<OutboxEmail>,
) -> service::Result<Vec<(OutboxEmail, Prepared)>> {
    let base_url = encore.settings.public_base_url.as_str();
    let context = outbox::context_of(encore, &rows)?;
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
    context: &EmailContext,
    row: &OutboxEmail,
) -> Prepared {
    let Some(ticket) = row.ticket_id.and_then(|id| context.tickets.get(&id)) else {
        return Prepared::Skip("the ticket does not exist".into());
    };
    // Confirmations and reminders are only worth sending for a ticket that still admits; a
    // receipt or an offer is about a ticket that has ended or is on offer.
    let status = ticket.status;
    let needs_valid = matches!(
        row.kind,
        EmailKind::Confirmation | EmailKind::Reminder | EmailKind::RuleMessage
    );
    if needs_valid && status != TicketStatus::Valid {
        return Prepared::Skip(format!("the ticket is {}", status.as_str()));
    }
    let Some(performance) = context.performances.get(&ticket.performance_id) else {
        return Prepared::Broken("the ticket's performance is missing".into());
    };
    let Some(event) = context.events.get(&performance.event_id) else {
        return Prepared::Broken("the performance's event is missing".into());
    };
    let link = match tickets::view_link(encore, base_url, ticket, performance) {
        Ok(link) => link,
        Err(e) => return Prepared::Broken(e.to_string()),
    };
    let apple_wallet_link = encore
        .apple_passes
        .is_some()
        .then(|| format!("{link}/pass.pkpass"));
    let facts = TicketFacts {
        ticket,
        performance,
        event,
        link: &link,
        apple_wallet_link: apple_wallet_link.as_deref(),
    };
    let message = match row.kind {
        // A rotating event's door refuses static codes: its confirmation carries none.
        EmailKind::Confirmation if event.barcode.is_rotating() => composer
            .confirmation(&facts, None, &row.message_id)
            .map_err(|e| e.to_string()),
        EmailKind::Confirmation => tickets::token_for(encore, ticket, performance)
            .map_err(|e| e.to_string())
            .and_then(|token| render_png(&token).map_err(|e| e.to_string()))
            .and_then(|png| {
                composer
                    .confirmation(&facts, Some(png), &row.message_id)
                    .map_err(|e| e.to_string())
            }),
        EmailKind::Reminder => composer
            .reminder(
                &facts,
                reminder_carries_calendar(row.detail.as_deref()),
                &row.message_id,
            )
            .map_err(|e| e.to_string()),
        EmailKind::TransferOffer => return compose_offer(encore, composer, base_url, &facts, row),
        EmailKind::RuleMessage => {
            return compose_rule_message(encore, composer, base_url, context, &facts, row)
        }
        EmailKind::Lobby => {
            // The message as the event says it now: one removed since is not sent.
            let Some(template) = event.lobby_message.clone() else {
                return Prepared::Skip("the event has no lobby message".into());
            };
            let message =
                LobbyMessage::from_stored(template).render(&LobbyFacts::of(ticket, event));
            composer
                .lobby(&facts, &message, &row.message_id)
                .map_err(|e| e.to_string())
        }
        EmailKind::ExchangeReceipt => stored_detail(row, "receipt").and_then(|receipt| {
            composer
                .exchange_receipt(&facts, &receipt, &row.message_id)
                .map_err(|e| e.to_string())
        }),
        EmailKind::Cancellation => stored_detail(row, "cancellation").and_then(|notice| {
            composer
                .cancellation(&facts, &notice, &row.message_id)
                .map_err(|e| e.to_string())
        }),
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
    row: &OutboxEmail,
) -> Prepared {
    let Some(offer_id) = row
        .detail
        .as_deref()
        .and_then(|d| d.parse::<i64>().ok().map(TransferId))
    else {
        return Prepared::Broken("the offer email names no transfer".into());
    };
    let message = match outbox::offer_to_send(encore, base_url, offer_id) {
        Ok(OfferToSend::Open { offer, claim_link }) => composer
            .transfer_offer(facts, &offer, &claim_link, &row.message_id)
            .map_err(|e| e.to_string()),
        Ok(OfferToSend::Closed(status)) => {
            return Prepared::Skip(format!("the offer was {}", status.as_str()))
        }
        Ok(OfferToSend::Missing) => Err("the transfer does not exist".into()),
        Err(e) => Err(e.to_string()),
    };
    match message {
        Ok(message) => Prepared::Send(message),
        Err(e) => Prepared::Broken(e),
    }
}

/// An event's message rule, written for one holder as things stand now: a rule deleted since,
/// a holder no longer in its audience (a late offline upload admitted a "no-show"), or one who
/// opted out of marketing, gets nothing.
fn compose_rule_message(
    encore: &Encore,
    composer: &Composer,
    base_url: &str,
    context: &EmailContext,
    facts: &TicketFacts<'_>,
    row: &OutboxEmail,
) -> Prepared {
    let Some(rule) = (row.detail.as_deref())
        .and_then(|d| d.parse::<i64>().ok())
        .and_then(|id| context.rules.rules.get(&id))
    else {
        return Prepared::Skip("the message rule was deleted".into());
    };
    let rule = &rule.rule;
    let (ticket, event) = (facts.ticket, facts.event);
    if !still_in_audience(rule.audience, ticket.admission.is_some()) {
        return Prepared::Skip(match rule.audience {
            Audience::Admitted => "the ticket was never admitted".into(),
            Audience::NotAdmitted => "the ticket was admitted after the message was queued".into(),
        });
    }
    let marketing = rule.purpose == Purpose::Marketing;
    if marketing && context.rules.opted_out.contains(&ticket.holder_email) {
        return Prepared::Skip("the patron opted out of marketing email".into());
    }
    let locale = ticket.locale;
    let lobby = LobbyFacts::of(ticket, event);
    let (subject, body) = rule.text_in(locale);
    let (subject, body) = (subject.render(&lobby), body.render(&lobby));
    let credit_link = match event.policy.no_show_credit_percent {
        // A free ticket is worth no credit: no offer.
        Some(percent)
            if rule.audience == Audience::NotAdmitted
                && no_show_credit(ticket.price.minor, percent) > 0 =>
        {
            match no_show::credit_link(encore, base_url, ticket, facts.performance) {
                Ok(link) => Some(link),
                Err(e) => return Prepared::Broken(e.to_string()),
            }
        }
        _ => None,
    };
    let credit_offer = credit_link.as_deref().and_then(|link| {
        let percent = event.policy.no_show_credit_percent?;
        Some(CreditOffer {
            amount: locale.money(
                no_show_credit(ticket.price.minor, percent),
                ticket.price.currency.as_str(),
            ),
            link,
            deadline: locale.date_time(&in_venue_time(
                no_show::deadline(facts.performance),
                &event.time_zone,
            )),
        })
    });
    let unsubscribe_link = if marketing {
        match consent::unsubscribe_link(encore, base_url, ticket, facts.performance) {
            Ok(link) => Some(link),
            Err(e) => return Prepared::Broken(e.to_string()),
        }
    } else {
        None
    };
    let suggestions: Vec<Suggestion> = if rule.recommends() {
        let history = (context.rules.histories.get(&ticket.holder_email))
            .map(Vec::as_slice)
            .unwrap_or_default();
        recommend(history, &context.rules.upcoming)
            .into_iter()
            .filter_map(|chosen| {
                let show = context.rules.shows.get(&chosen.performance_id)?;
                Some(Suggestion {
                    event_name: show.event_name.clone(),
                    starts_at: locale
                        .date_time(&in_venue_time(show.upcoming.starts_at, &show.time_zone)),
                    venue: show.upcoming.venue.clone(),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let parts = RuleMessageParts {
        subject: &subject,
        body: &body,
        credit_offer,
        suggestions: &suggestions,
        unsubscribe_link: unsubscribe_link.as_deref(),
    };
    match composer.rule_message(facts, &parts, &row.message_id) {
        Ok(message) => Prepared::Send(message),
        Err(e) => Prepared::Broken(e.to_string()),
    }
}

/// Counts and logs a round's results, once: the sends happened whatever becomes of recording
/// them.
fn account(encore: &Encore, settings: &WorkerSettings, results: &[(OutboxEmail, Delivery)]) {
    let sent = results
        .iter()
        .filter(|(_, d)| matches!(d, Delivery::Sent))
        .count();
    encore.metrics.emails_sent(sent as u64);
    for (row, delivery) in results {
        let Delivery::Failed { reason, permanent } = delivery else {
            continue;
        };
        let gave_up = settings.retries.gives_up(row.attempts, *permanent);
        encore.metrics.email_send_failed(gave_up);
        if gave_up {
            tracing::error!(id = row.id.0, kind = %row.kind, attempts = row.attempts, permanent, error = %reason, "email failed for good");
        } else {
            tracing::warn!(id = row.id.0, kind = %row.kind, attempts = row.attempts, error = %reason, "email send failed; will retry");
        }
    }
}

/// What the change that queued the email stored with it (a receipt, a cancellation notice).
fn stored_detail<T: serde::de::DeserializeOwned>(
    row: &OutboxEmail,
    what: &str,
) -> Result<T, String> {
    let text = (row.detail.as_deref()).ok_or_else(|| format!("the {what} has no details"))?;
    serde_json::from_str(text).map_err(|e| e.to_string())
}
