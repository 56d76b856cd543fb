//! Issuing tickets and producing their signed tokens.

use std::collections::HashSet;

use super::idempotency::IdempotencyKey;
use super::{Encore, Error, Result};
use crate::db::events::Reservation;
use crate::db::models::{NewTicketRow, PerformanceRow, TicketRow};
use crate::db::{credit, events, idempotency, outbox, tickets};
use crate::domain::event::ScanWindow;
use crate::domain::ticket::NewTicket;
use crate::domain::Invalid;
use crate::email;
use crate::tokens::TicketClaims;

/// What an issuance did.
#[derive(Debug)]
pub struct Issued {
    pub performance: PerformanceRow,
    /// The tickets of this request: new ones, or on an idempotent replay the ones first issued.
    pub tickets: Vec<TicketRow>,
    /// True when the request was a retry answered from the first attempt.
    pub replayed: bool,
    /// External references skipped because a ticket with that reference already exists.
    pub already_issued: Vec<String>,
    /// Stored credit spent on each ticket (in the order of `tickets`; 0 when none was asked).
    pub credit_applied: Vec<i64>,
}

/// Issues tickets for one performance in one transaction: all of them or none. Capacity is
/// taken with one conditional write, so concurrent issuers can never oversell. Tickets whose
/// external reference was issued before are skipped (a re-run import issues nothing twice).
pub fn issue(
    encore: &Encore,
    performance_id: i64,
    new_tickets: Vec<NewTicket>,
    idempotency: Option<IdempotencyKey>,
) -> Result<Issued> {
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
    let issued_at = crate::service::now();
    let now = issued_at.naive_utc();
    let issued = encore.db.write(|conn| {
        if let Some(idem) = &idempotency {
            if let Some(seen) = super::idempotency::claim(conn, idem, now)? {
                let ids = parse_ids(&seen.ticket_ids)?;
                let performance = events::find_performance(conn, performance_id)?
                    .ok_or_else(|| Error::not_found("performance", performance_id))?;
                let tickets = tickets::find_many(conn, &ids)?;
                let applied = credit::spent_on(conn, &ids)?;
                let credit_applied = tickets
                    .iter()
                    .map(|t| applied.get(&t.id).copied().unwrap_or(0))
                    .collect();
                return Ok(Issued {
                    performance,
                    tickets,
                    replayed: true,
                    already_issued: Vec::new(),
                    credit_applied,
                });
            }
        }

        let performance = events::find_performance(conn, performance_id)?
            .ok_or_else(|| Error::not_found("performance", performance_id))?;
        if performance.canceled_at.is_some() {
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
        let rows: Vec<NewTicketRow> = wanted
            .into_iter()
            .map(|t| NewTicketRow {
                performance_id,
                holder_name: t.holder_name,
                holder_email: t.holder_email.into_string(),
                price_minor: t.price.minor,
                currency: t.price.currency.as_str().to_string(),
                seat: t.seat,
                section: t.section,
                external_ref: t.external_ref,
                issued_at: now,
                generation: 1,
                replaces_ticket_id: None,
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
                        available: (performance.capacity - performance.tickets_issued).max(0),
                    })
                }
            }
            tickets::insert_many(conn, &rows)?
        };

        // In the same transaction: a ticket and the credit that paid for it go together.
        let mut credit_applied = Vec::with_capacity(issued.len());
        for (ticket, pays) in issued.iter().zip(pays_with_credit) {
            credit_applied.push(if pays {
                super::credit::spend_up_to(
                    conn,
                    &ticket.holder_email,
                    &ticket.currency,
                    ticket.price_minor,
                    crate::domain::credit::CreditReason::BoxOfficePurchase,
                    Some(ticket.id),
                    now,
                )?
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

        if let Some(idem) = &idempotency {
            let ids: Vec<String> = issued.iter().map(|t| t.id.to_string()).collect();
            idempotency::record_tickets(conn, idem.api_key_id, &idem.key, &ids.join(","))?;
        }
        Ok(Issued {
            performance,
            tickets: issued,
            replayed: false,
            already_issued: already.into_iter().collect(),
            credit_applied,
        })
    })?;
    if !issued.tickets.is_empty() && !issued.replayed {
        encore.outbox_wakeup.notify_one();
    }
    Ok(issued)
}

/// A canceled performance takes no more tickets.
fn canceled(performance_id: i64) -> Error {
    Error::Conflict {
        code: "performance_canceled",
        message: format!("performance {performance_id} is canceled"),
    }
}

fn parse_ids(list: &str) -> Result<Vec<i64>> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| Error::Internal(format!("bad stored ticket id {s:?}")))
        })
        .collect()
}

/// Which of `refs` already name a ticket of the performance.
pub fn already_issued(
    encore: &Encore,
    performance_id: i64,
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
pub fn get(encore: &Encore, ticket_id: i64) -> Result<(TicketRow, PerformanceRow)> {
    encore.db.read(|conn| {
        let ticket =
            tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        let performance = events::find_performance(conn, ticket.performance_id)?
            .ok_or_else(|| Error::not_found("performance", ticket.performance_id))?;
        Ok((ticket, performance))
    })
}

/// The ticket's current QR token, signed with the active key. Deterministic for a given key:
/// asking again gives the same token until the ticket's generation changes or keys rotate.
pub fn token_for(
    encore: &Encore,
    ticket: &TicketRow,
    performance: &PerformanceRow,
) -> Result<String> {
    let window = scan_window(encore, performance);
    let claims = TicketClaims {
        ticket_id: ticket.id,
        performance_id: ticket.performance_id,
        generation: ticket.generation,
        nbf: window.not_before.timestamp(),
        exp: window.expires.timestamp(),
    };
    Ok(encore.keys.sign(&claims)?)
}

/// When the performance's tickets admit, as their tokens say.
pub fn scan_window(encore: &Encore, performance: &PerformanceRow) -> ScanWindow {
    ScanWindow::for_performance(
        performance.doors_open_at.and_utc(),
        performance.starts_at.and_utc(),
        encore.settings.scan_window_before_doors,
        encore.settings.scan_window_after_start,
    )
}

/// The ticket's current token (as [`token_for`]), its performance read in the caller's
/// transaction.
pub fn token_in(
    encore: &Encore,
    conn: &mut crate::db::Conn<'_>,
    ticket: &TicketRow,
) -> Result<String> {
    let performance = events::find_performance(conn, ticket.performance_id)?
        .ok_or_else(|| Error::not_found("performance", ticket.performance_id))?;
    token_for(encore, ticket, &performance)
}

/// A ticket with its performance, event and the event's change policy: what every patron
/// change reads first.
pub struct TicketInContext {
    pub ticket: TicketRow,
    pub performance: PerformanceRow,
    pub event: crate::db::models::EventRow,
    pub policy: crate::domain::policy::ChangePolicy,
}

impl TicketInContext {
    pub fn load(conn: &mut crate::db::Conn<'_>, ticket_id: i64) -> Result<TicketInContext> {
        let ticket =
            tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        let performance = events::find_performance(conn, ticket.performance_id)?
            .ok_or_else(|| Error::not_found("performance", ticket.performance_id))?;
        let event = events::find_event(conn, performance.event_id)?
            .ok_or_else(|| Error::not_found("event", performance.event_id))?;
        let policy = super::events::change_policy(&event);
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
                return Err(Refusal::OfferPending(offer.to_name).into());
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
            self.performance.starts_at.and_utc(),
            self.status(),
            self.ticket.admitted_at.is_some(),
        )
    }
}

/// The confirmation email for a ticket's current generation.
pub fn confirmation_email(
    encore: &Encore,
    ticket: &TicketRow,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::db::models::NewOutboxRow {
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
pub fn change_from_link<T>(
    encore: &Encore,
    ticket_id: i64,
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
pub fn insert_successor(conn: &mut crate::db::Conn<'_>, row: NewTicketRow) -> Result<TicketRow> {
    tickets::insert_many(conn, std::slice::from_ref(&row))?
        .pop()
        .ok_or_else(|| Error::Internal("insert returned no ticket".into()))
}

/// The ticket's patron page link: signed, bound to viewing, valid until a week after the show.
pub fn view_link(
    encore: &Encore,
    base_url: &str,
    ticket: &TicketRow,
    performance: &PerformanceRow,
) -> Result<String> {
    let claims = crate::tokens::LinkClaims {
        ticket_id: ticket.id,
        generation: ticket.generation,
        purpose: crate::tokens::LinkPurpose::View,
        exp: (performance.starts_at.and_utc() + chrono::Duration::days(7)).timestamp(),
    };
    Ok(format!("{base_url}/t/{}", encore.keys.sign(&claims)?))
}
