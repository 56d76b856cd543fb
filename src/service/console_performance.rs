//! The console's performance page: its read models (a page of tickets, one ticket with its
//! token) and the walk-up issue (its imports are `service::imports`). Every rule is the one the
//! JSON API and the CLI use: issuing is `tickets::issue_one`, searching is `search::tickets`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::idempotency::{Idempotent, Reply};
use super::tickets::{self, IssuedTicket};
use super::{search, Encore, Error, Result};
use crate::db::events;
use crate::domain::actor::Actor;
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::search::{TicketPage, TicketSearch};
use crate::domain::ticket::{NewTicket, Ticket};

/// One page of the performance's tickets (at most `domain::search::MAX_PAGE`), as the API's
/// search answers it.
pub fn tickets(encore: &Encore, search: &TicketSearch) -> Result<TicketPage> {
    search::tickets(encore, search)
}

/// A walk-up ticket just issued: its id, and the credit spent on it when the form asked to pay
/// with credit.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct WalkUp {
    pub ticket_id: TicketId,
    pub credit_applied: Option<i64>,
}

fn walk_up(issued: IssuedTicket) -> WalkUp {
    WalkUp {
        ticket_id: issued.ticket.id,
        credit_applied: issued.credit_applied,
    }
}

/// Issues one ticket at the box office's desk: `tickets::issue_one` with no idempotency key
/// (a console form is sent once; the page it answers is a redirect).
pub fn issue_walk_up(
    encore: &Encore,
    performance_id: PerformanceId,
    ticket: NewTicket,
    by: &Actor,
) -> Result<WalkUp> {
    let reply = Reply {
        status: 201,
        view: walk_up,
    };
    match tickets::issue_one(encore, None, performance_id, ticket, by, reply)? {
        Idempotent::Made { view, .. } => Ok(view),
        Idempotent::Replayed { .. } => Err(Error::Internal(
            "a request with no key was answered from a stored key".into(),
        )),
    }
}

/// One ticket as the console shows it, with its current token and its performance.
#[derive(Debug, Clone)]
pub struct TicketCard {
    pub ticket: Ticket,
    pub token: String,
    pub event_name: String,
    pub venue: String,
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
}

/// The ticket with its token and where it admits; `NotFound` for an unknown ticket.
pub fn ticket(encore: &Encore, id: TicketId) -> Result<TicketCard> {
    let (ticket, performance) = tickets::get(encore, id)?;
    let token = tickets::token_for(encore, &ticket, &performance)?;
    let event = encore
        .db
        .read(|conn| events::find_event(conn, performance.event_id).map_err(Error::from))?
        .ok_or_else(|| Error::not_found("event", performance.event_id))?;
    Ok(TicketCard {
        ticket,
        token,
        event_name: event.name,
        venue: event.venue,
        time_zone: event.time_zone,
        starts_at: performance.starts_at(),
    })
}

/// The ticket's current token alone (for its QR image).
pub fn token(encore: &Encore, id: TicketId) -> Result<String> {
    Ok(tickets::with_token(encore, id)?.token)
}
