//! Issuing tickets and producing their signed tokens.

use std::collections::HashSet;

use serde::Serialize;

use super::idempotency::{self, IdempotencyKey, Idempotent, Reply};
use super::{Encore, Error, Result};
use crate::db::events::Reservation;
use crate::db::{authors, events, outbox, tickets, Conn};
use crate::domain::actor::{Actor, AuthoredChange};
use crate::domain::credit::CreditReason;
use crate::domain::event::{Event, Performance, ScanWindow};
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::locale::Locale;
use crate::domain::outbox::NewEmail;
use crate::domain::ticket::{NewTicket, Ticket, TicketToStore};
use crate::domain::Invalid;
use crate::email;
use crate::tokens::TicketClaims;

/// What an issuance did.
#[derive(Debug)]
pub struct Issued {
    pub performance: Performance,
    /// The tickets issued.
    pub tickets: Vec<Ticket>,
    /// External references skipped because a ticket with that reference already exists.
    pub already_issued: Vec<String>,
    /// Stored credit spent on each ticket (in the order of `tickets`), when any of them asked
    /// to pay with credit.
    pub credit_applied: Option<Vec<i64>>,
}

/// A ticket the box office issued, as it is answered: with its token, and the credit spent on
/// it when the request asked to pay with credit.
#[derive(Debug)]
pub struct IssuedTicket {
    pub ticket: Ticket,
    pub token: String,
    pub credit_applied: Option<i64>,
}

/// A ticket with its current token, as the box office is answered.
#[derive(Debug)]
pub struct TicketWithToken {
    pub ticket: Ticket,
    pub token: String,
}

/// Issues tickets for one performance in one transaction: all of them or none. Capacity is
/// taken with one conditional write, so concurrent issuers can never oversell. Tickets whose
/// external reference was issued before are skipped (a re-run import issues nothing twice).
pub fn issue(
    encore: &Encore,
    performance_id: PerformanceId,
    new_tickets: Vec<NewTicket>,
    by: &Actor,
) -> Result<Issued> {
    within_request_limits(encore, &new_tickets)?;
    let issued = encore
        .db
        .write(|conn| issue_in(encore, conn, performance_id, new_tickets, by))?;
    if !issued.tickets.is_empty() {
        encore.outbox_wakeup.notify_one();
    }
    Ok(issued)
}

/// The box office issues one ticket, under the request's key if it sent one (see
/// `idempotency::once`), answered with its token.
pub fn issue_one<V: Serialize>(
    encore: &Encore,
    key: Option<&IdempotencyKey>,
    performance_id: PerformanceId,
    new_ticket: NewTicket,
    by: &Actor,
    reply: Reply<IssuedTicket, V>,
) -> Result<Idempotent<V>> {
    within_request_limits(encore, std::slice::from_ref(&new_ticket))?;
    idempotency::once(encore, key, reply, |conn| {
        let issued = issue_in(encore, conn, performance_id, vec![new_ticket], by)?;
        with_tokens(encore, issued)?
            .pop()
            .ok_or_else(|| Error::Internal("no ticket was issued".into()))
    })
}

/// The box office issues tickets in bulk (as [`issue`], at most `max_bulk_tickets`), under
/// the request's key if it sent one (see `idempotency::once`), answered with their tokens.
pub fn issue_bulk<V: Serialize>(
    encore: &Encore,
    key: Option<&IdempotencyKey>,
    performance_id: PerformanceId,
    new_tickets: Vec<NewTicket>,
    by: &Actor,
    reply: Reply<Vec<IssuedTicket>, V>,
) -> Result<Idempotent<V>> {
    within_request_limits(encore, &new_tickets)?;
    idempotency::once(encore, key, reply, |conn| {
        let issued = issue_in(encore, conn, performance_id, new_tickets, by)?;
        with_tokens(encore, issued)
    })
}

/// One request issues at least one ticket and at most `max_bulk_tickets`.
fn within_request_limits(encore: &Encore, new_tickets: &[NewTicket]) -> Result<()> {
    if new_tickets.is_empty() {
        return Err(Invalid::new("tickets", "at least one ticket is needed").into());
    }
    if new_tickets.len() > encore.settings.max_bulk_tickets {
        return Err(Invalid::new(
            "tickets",
            format!(
                "at most {} tickets per request",
                encore.settings.max_bulk_tickets
            ),
        )
        .into());
    }
    Ok(())
}

/// The issued tickets with their tokens; each with the credit spent on it when any of the
/// request's tickets asked to pay with credit.
fn with_tokens(encore: &Encore, issued: Issued) -> Result<Vec<IssuedTicket>> {
    let Issued {
        performance,
        tickets,
        credit_applied,
        ..
    } = issued;
    let credit_applied: Vec<Option<i64>> = match credit_applied {
        Some(applied) => applied.into_iter().map(Some).collect(),
        None => vec![None; tickets.len()],
    };
    tickets
        .into_iter()
        .zip(credit_applied)
        .map(|(ticket, credit_applied)| {
            Ok(IssuedTicket {
                token: token_for(encore, &ticket, &performance)?,
                ticket,
                credit_applied,
            })
        })
        .collect()
}

/// Issues the tickets in the caller's transaction; their confirmations are queued, to be sent
/// once it commits.
fn issue_in(
    encore: &Encore,
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
    new_tickets: Vec<NewTicket>,
    by: &Actor,
) -> Result<Issued> {
    let issued_at = crate::service::now();
    let performance = events::find_performance(conn, performance_id)?
        .ok_or_else(|| Error::not_found("performance", performance_id))?;
    if performance.is_canceled() {
        return Err(canceled(performance_id));
    }

    let refs: Vec<String> = new_tickets
        .iter()
        .filter_map(|t| t.external_ref.clone())
        .collect();
    let already: HashSet<String> = if refs.is_empty() {
        HashSet::new()
    } else {
        tickets::existing_external_refs(conn, performance_id, &refs)?
            .into_iter()
            .collect()
    };
    let wanted: Vec<NewTicket> = new_tickets
        .into_iter()
        .filter(|t| t.external_ref.as_ref().is_none_or(|r| !already.contains(r)))
        .collect();
    let pays_with_credit: Vec<bool> = wanted.iter().map(|t| t.apply_credit).collect();
    let asked_for_credit = pays_with_credit.contains(&true);
    let event_locale = if wanted.iter().any(|t| t.locale.is_none()) {
        events::find_event(conn, performance.event_id)?
            .map(|event| event.locale)
            .unwrap_or_default()
    } else {
        Locale::default()
    };
    let rows: Vec<TicketToStore> = wanted
        .into_iter()
        .map(|t| TicketToStore {
            performance_id,
            holder_name: t.holder_name,
            holder_email: t.holder_email.into_string(),
            price: t.price,
            seat: t.seat,
            section: t.section,
            external_ref: t.external_ref,
            issued_at,
            generation: 1,
            replaces: None,
            locale: t.locale.unwrap_or(event_locale),
        })
        .collect();

    let issued = if rows.is_empty() {
        Vec::new()
    } else {
        let count = rows.len() as i64;
        // The performance read above may since have been canceled: the reservation itself
        // is what refuses a canceled performance.
        match events::reserve_seats(conn, performance_id, count)? {
            Reservation::Reserved => {}
            Reservation::Canceled => return Err(canceled(performance_id)),
            Reservation::SoldOut => {
                return Err(Error::SoldOut {
                    requested: count,
                    available: performance.available(),
                })
            }
        }
        tickets::insert_many(conn, &rows)?
    };

    // In the same transaction: a ticket and the credit that paid for it go together.
    let mut credit_applied = Vec::with_capacity(issued.len());
    for (ticket, pays) in issued.iter().zip(pays_with_credit) {
        credit_applied.push(if pays {
            let payment = super::credit::Posting {
                email: &ticket.holder_email,
                currency: ticket.price.currency,
                reason: CreditReason::BoxOfficePurchase,
                ticket_id: Some(ticket.id),
                at: issued_at,
            };
            super::credit::spend_up_to(conn, &payment, ticket.price.minor)?
        } else {
            0
        });
    }

    let confirmations: Vec<_> = issued
        .iter()
        .map(|t| {
            email::confirmation_row(
                t.id,
                t.generation,
                &t.holder_email,
                &encore.settings.message_id_domain,
                issued_at,
            )
        })
        .collect();
    outbox::enqueue(conn, &confirmations)?;
    let ids: Vec<TicketId> = issued.iter().map(|t| t.id).collect();
    authors::record(
        conn,
        &ids,
        AuthoredChange::Issued,
        issued_at,
        &by.describe(),
    )?;
    Ok(Issued {
        performance,
        tickets: issued,
        already_issued: already.into_iter().collect(),
        credit_applied: asked_for_credit.then_some(credit_applied),
    })
}

/// A canceled performance takes no more tickets.
fn canceled(performance_id: PerformanceId) -> Error {
    Error::Conflict {
        code: "performance_canceled",
        message: format!("performance {performance_id} is canceled"),
    }
}

/// Which of `refs` already name a ticket of the performance.
pub fn already_issued(
    encore: &Encore,
    performance_id: PerformanceId,
    refs: &[String],
) -> Result<HashSet<String>> {
    Ok(encore
        .db
        .read(|conn| {
            tickets::existing_external_refs(conn, performance_id, refs).map_err(Error::from)
        })?
        .into_iter()
        .collect())
}

/// A ticket with its performance, as the API shows it.
pub fn get(encore: &Encore, ticket_id: TicketId) -> Result<(Ticket, Performance)> {
    encore.db.read(|conn| {
        let ticket =
            tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        let performance = events::find_performance(conn, ticket.performance_id)?
            .ok_or_else(|| Error::not_found("performance", ticket.performance_id))?;
        Ok((ticket, performance))
    })
}

/// A ticket with its current token (as [`token_for`]).
pub fn with_token(encore: &Encore, ticket_id: TicketId) -> Result<TicketWithToken> {
    let (ticket, performance) = get(encore, ticket_id)?;
    let token = token_for(encore, &ticket, &performance)?;
    Ok(TicketWithToken { ticket, token })
}

/// The ticket's current QR token, signed with the active key. Deterministic for a given key:
/// asking again gives the same token until the ticket's generation changes or keys rotate.
pub fn token_for(encore: &Encore, ticket: &Ticket, performance: &Performance) -> Result<String> {
    let window = scan_window(encore, performance);
    let claims = TicketClaims {
        ticket_id: ticket.id,
        performance_id: ticket.performance_id,
        generation: ticket.generation,
        nbf: window.not_before.timestamp(),
        exp: window.expires.timestamp(),
        paper: false,
    };
    Ok(encore.keys.sign_ticket(&claims)?)
}

/// When the performance's tickets admit, as their tokens say.
pub fn scan_window(encore: &Encore, performance: &Performance) -> ScanWindow {
    ScanWindow::for_performance(
        performance.doors_open_at(),
        performance.starts_at(),
        encore.settings.scan_window_before_doors,
        encore.settings.scan_window_after_start,
    )
}

/// A ticket with its performance, event and the event's change policy: what every patron
/// change reads first.
pub(super) struct TicketInContext {
    pub ticket: Ticket,
    pub performance: Performance,
    pub event: Event,
    pub policy: crate::domain::policy::ChangePolicy,
}

impl TicketInContext {
    pub fn load(conn: &mut crate::db::Conn<'_>, ticket_id: TicketId) -> Result<TicketInContext> {
        let ticket =
            tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        let performance = events::find_performance(conn, ticket.performance_id)?
            .ok_or_else(|| Error::not_found("performance", ticket.performance_id))?;
        let event = events::find_event(conn, performance.event_id)?
            .ok_or_else(|| Error::not_found("event", performance.event_id))?;
        let policy = event.policy.clone();
        Ok(TicketInContext {
            ticket,
            performance,
            event,
            policy,
        })
    }

    pub fn status(&self) -> crate::domain::TicketStatus {
        self.ticket.status
    }

    /// May `change` be made now? As `check`, but a ticket on offer to a friend says to whom
    /// rather than only "transferred".
    pub fn check_change(
        &self,
        conn: &mut crate::db::Conn<'_>,
        change: crate::domain::policy::Change,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        use crate::db::transfers as offers;
        use crate::domain::policy::Refusal;
        let Err(refusal) = self.check(change, now) else {
            return Ok(());
        };
        if refusal == Refusal::NotValid(crate::domain::TicketStatus::Transferred) {
            let offer = offers::for_generation(conn, self.ticket.id, self.ticket.generation)?;
            if let Some(offer) =
                offer.filter(|o| o.status == crate::domain::offer::OfferStatus::Offered)
            {
                return Err(Refusal::OfferPending(offer.to.name).into());
            }
        }
        Err(refusal.into())
    }

    /// Ends the ticket for `change`, leaving it `ends_as`, with the conditional write that a
    /// racing scan or change also contends for. If one of them got there first, the refusal
    /// says what the ticket is now.
    pub fn end_for(
        &self,
        conn: &mut crate::db::Conn<'_>,
        change: crate::domain::policy::Change,
        ends_as: crate::domain::TicketStatus,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let ticket = &self.ticket;
        if tickets::end_unused(conn, ticket.id, ticket.generation, ends_as)? {
            return Ok(());
        }
        TicketInContext::load(conn, ticket.id)?.check_change(conn, change, now)?;
        Err(crate::domain::policy::Refusal::NotValid(ends_as).into())
    }

    /// May `change` be made now? The policy's rule applied to this ticket.
    pub fn check(
        &self,
        change: crate::domain::policy::Change,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), crate::domain::policy::Refusal> {
        self.policy.check(
            change,
            now,
            self.performance.starts_at(),
            self.status(),
            self.ticket.is_admitted(),
        )
    }
}

/// The confirmation email for a ticket's current generation.
pub(super) fn confirmation_email(
    encore: &Encore,
    ticket: &Ticket,
    now: chrono::DateTime<chrono::Utc>,
) -> NewEmail {
    email::confirmation_row(
        ticket.id,
        ticket.generation,
        &ticket.holder_email,
        &encore.settings.message_id_domain,
        now,
    )
}

/// Runs a patron's change of the ticket, made from a link to it at `generation`, in a
/// transaction of its own; then wakes the email worker. A link is good for the ticket's current
/// generation only: once the ticket has moved on (a transfer taken back or expired, …) the link
/// is superseded (`LinkSuperseded`, and its holder has been sent a fresh one). Otherwise the
/// ticket is held at that generation until the change commits, so no concurrent change can move
/// it on in between.
pub(super) fn change_from_link<T>(
    encore: &Encore,
    ticket_id: TicketId,
    generation: i32,
    change: impl FnOnce(&mut crate::db::Conn<'_>) -> Result<T>,
) -> Result<T> {
    let changed = encore.db.write(|conn| {
        if !tickets::hold_at_generation(conn, ticket_id, generation)? {
            return Err(match tickets::find(conn, ticket_id)? {
                Some(_) => Error::LinkSuperseded,
                None => Error::not_found("ticket", ticket_id),
            });
        }
        change(conn)
    })?;
    encore.outbox_wakeup.notify_one();
    Ok(changed)
}

/// Inserts one ticket taking the place of another (after an exchange or a claimed transfer).
pub(super) fn insert_successor(
    conn: &mut crate::db::Conn<'_>,
    row: TicketToStore,
) -> Result<Ticket> {
    tickets::insert_many(conn, std::slice::from_ref(&row))?
        .pop()
        .ok_or_else(|| Error::Internal("insert returned no ticket".into()))
}

/// The ticket's patron page link: signed, bound to viewing, valid until a week after the show.
pub fn view_link(
    encore: &Encore,
    base_url: &str,
    ticket: &Ticket,
    performance: &Performance,
) -> Result<String> {
    let until = performance.starts_at() + chrono::Duration::days(7);
    patron_link(
        encore,
        base_url,
        "t",
        ticket,
        crate::tokens::LinkPurpose::View,
        until,
    )
}

/// A signed link for the holder of `ticket` as it is now, made for `purpose` and good until
/// `until`: `{base_url}/{path}/{token}`.
pub fn patron_link(
    encore: &Encore,
    base_url: &str,
    path: &str,
    ticket: &Ticket,
    purpose: crate::tokens::LinkPurpose,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<String> {
    let claims = crate::tokens::LinkClaims {
        ticket_id: ticket.id,
        generation: ticket.generation,
        purpose,
        exp: until.timestamp(),
    };
    Ok(format!("{base_url}/{path}/{}", encore.keys.sign(&claims)?))
}
