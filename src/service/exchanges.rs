//! Exchanging a ticket: into stored credit, or into a ticket for another performance paid
//! with the old ticket's value plus stored credit. One transaction each; the old ticket ends
//! with a conditional write, so a concurrent scan or a second exchange can never also succeed.

use serde::Serialize;

use super::idempotency::{self, IdempotencyKey, Idempotent, Reply};
use super::tickets::{confirmation_email, insert_successor, TicketInContext};
use super::{credit, Encore, Error, Result};
use crate::db::events::Reservation;
use crate::db::{authors, credit as ledger, events, outbox, Conn};
use crate::domain::actor::{Actor, AuthoredChange};
use crate::domain::credit::CreditReason;
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::outbox::EmailKind;
use crate::domain::policy::{Change, Refusal};
use crate::domain::ticket::TicketToStore;
use crate::domain::{Money, TicketStatus};
use crate::email;

/// What the ticket is exchanged into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeInto {
    Credit,
    Performance(PerformanceId),
}

pub use crate::domain::receipt::Receipt;

/// Exchanges the ticket in a transaction of its own (a patron's page, from a link to the ticket
/// at `generation`), then wakes the email worker.
pub fn exchange(
    encore: &Encore,
    ticket_id: TicketId,
    generation: i32,
    into: ExchangeInto,
) -> Result<Receipt> {
    super::tickets::change_from_link(encore, ticket_id, generation, |conn| {
        exchange_in(encore, conn, ticket_id, into, &Actor::Holder)
    })
}

/// The box office exchanges the ticket (for a patron on the phone), under the request's key if
/// it sent one (see `idempotency::once`).
pub fn exchange_at_box_office<V: Serialize>(
    encore: &Encore,
    key: Option<&IdempotencyKey>,
    ticket_id: TicketId,
    into: ExchangeInto,
    by: &Actor,
    reply: Reply<Receipt, V>,
) -> Result<Idempotent<V>> {
    idempotency::once(encore, key, reply, |conn| {
        exchange_in(encore, conn, ticket_id, into, by)
    })
}

/// Exchanges the ticket in the caller's transaction; its emails are queued, to be sent once it
/// commits.
fn exchange_in(
    encore: &Encore,
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    into: ExchangeInto,
    by: &Actor,
) -> Result<Receipt> {
    let now = super::now();
    let current = TicketInContext::load(conn, ticket_id)?;
    current.check_change(conn, Change::Exchange, now)?;
    let old = &current.ticket;
    let at = now;

    // Check the target before anything is written, so a refusal says the right thing.
    let target = match into {
        ExchangeInto::Credit => None,
        ExchangeInto::Performance(id) => Some(exchange_target(conn, &current, id, now)?),
    };

    current.end_for(conn, Change::Exchange, TicketStatus::Exchanged, now)?;
    events::release_seats(conn, old.performance_id, 1)?;

    let value = current.policy.exchange_value(old.price.minor);
    let (email, currency) = (old.holder_email.as_str(), old.price.currency);
    let credited = credit::Posting {
        email,
        currency,
        reason: CreditReason::Exchange,
        ticket_id: Some(old.id),
        at,
    };
    credit::add(conn, &credited, value.value_minor)?;

    let mut new_ticket = None;
    let mut spent = 0;
    let new_ticket_label = target.as_ref().map(|(_, _, label)| label.clone());
    if let Some((performance_id, price_minor, _)) = target {
        // Listed as a target above, it may since have been canceled: the reservation itself
        // is what refuses a canceled performance.
        match events::reserve_seats(conn, performance_id, 1)? {
            Reservation::Reserved => {}
            Reservation::Canceled => return Err(Refusal::TargetCanceled.into()),
            Reservation::SoldOut => return Err(Refusal::TargetSoldOut.into()),
        }
        let ticket = insert_successor(
            conn,
            TicketToStore {
                performance_id,
                holder_name: old.holder_name.clone(),
                holder_email: old.holder_email.clone(),
                price: Money {
                    minor: price_minor,
                    currency,
                },
                seat: None,
                section: None,
                external_ref: None,
                issued_at: at,
                generation: 1,
                replaces: Some(old.id),
                locale: old.locale,
            },
        )?;
        let paid = credit::Posting {
            reason: CreditReason::ExchangePurchase,
            ticket_id: Some(ticket.id),
            ..credited
        };
        credit::spend_exactly(conn, &paid, price_minor)?;
        spent = price_minor;
        new_ticket = Some(ticket);
    }

    let receipt = Receipt {
        ticket_id: old.id,
        currency: currency.as_str().to_string(),
        value,
        credited_minor: value.value_minor,
        spent_minor: spent,
        new_ticket_id: new_ticket.as_ref().map(|t| t.id),
        new_ticket_label,
        balance_minor: ledger::balance_for_update(conn, email, currency.as_str())?,
        no_show: false,
    };
    let mut emails = vec![email::ticket_email(
        EmailKind::ExchangeReceipt,
        format!("{}:{}", EmailKind::ExchangeReceipt, old.id),
        old.id,
        Some(serde_json::to_string(&receipt).map_err(|e| Error::Internal(e.to_string()))?),
        email,
        &encore.settings.message_id_domain,
        now,
    )];
    if let Some(ticket) = &new_ticket {
        emails.push(confirmation_email(encore, ticket, now));
    }
    outbox::enqueue(conn, &emails)?;
    let by = by.describe_for(&old.holder_name);
    authors::record(conn, &[old.id], AuthoredChange::Exchanged, now, &by)?;
    if let Some(ticket) = &new_ticket {
        authors::record(conn, &[ticket.id], AuthoredChange::Issued, at, &by)?;
    }
    Ok(receipt)
}

/// The performance an exchange may go to, its price, and what it is as the receipt names it
/// ("Hamlet, Fri 18 Dec 2026, 19:30"); or why not.
fn exchange_target(
    conn: &mut Conn<'_>,
    current: &TicketInContext,
    performance_id: PerformanceId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(PerformanceId, i64, String)> {
    let target = exchange_targets(conn, current, now)?
        .into_iter()
        .find(|t| t.performance_id == performance_id)
        .ok_or(Refusal::NotAnExchangeTarget)?;
    // In the holder's language: the receipt quotes it.
    let starts_at = crate::domain::event::in_venue_time(target.starts_at, &target.time_zone);
    let label = format!(
        "{}, {}",
        target.event_name,
        current.ticket.locale.date_time(&starts_at)
    );
    Ok((
        performance_id,
        target.price_for(current.ticket.price.currency.as_str())?,
        label,
    ))
}

/// A performance a ticket could be exchanged into, as the ticket page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeTarget {
    pub performance_id: PerformanceId,
    pub event_name: String,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub time_zone: String,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
    pub seats_left: i64,
}

impl ExchangeTarget {
    /// What a ticket paid in `currency` pays for a seat here; or why it cannot have one.
    pub fn price_for(&self, currency: &str) -> Result<i64, Refusal> {
        let price = self.price_minor.ok_or(Refusal::TargetUnpriced)?;
        if self.currency.as_deref() != Some(currency) {
            return Err(Refusal::CurrencyMismatch {
                ticket: currency.to_string(),
                target: self.currency.clone().unwrap_or_default(),
            });
        }
        if self.seats_left <= 0 {
            return Err(Refusal::TargetSoldOut);
        }
        Ok(price)
    }
}

/// The other performances this ticket may be exchanged into: of the same event (or of any,
/// when the policy says so), still open for changes under their own event's policy.
pub(super) fn exchange_targets(
    conn: &mut Conn<'_>,
    current: &TicketInContext,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<ExchangeTarget>> {
    let event_filter = (!current.policy.exchange_any_event).then_some(current.event.id);
    let rows = events::upcoming_performances(conn, event_filter, now)?;
    Ok(rows
        .into_iter()
        .filter(|(p, e)| p.id != current.performance.id && now < e.policy.closes_at(p.starts_at()))
        .map(|(p, e)| ExchangeTarget {
            performance_id: p.id,
            event_name: e.name,
            starts_at: p.starts_at(),
            time_zone: e.time_zone,
            price_minor: p.price.map(|price| price.minor),
            currency: p.price.map(|price| price.currency.as_str().to_string()),
            seats_left: p.schedule.capacity - p.tickets_issued,
        })
        .collect())
}
