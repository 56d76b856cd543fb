//! The box office's searches: a performance's tickets (search and listing, a page at a time)
//! and patrons (as the clerk types). Parse the query into `domain::search`, call the service,
//! shape the answer.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::ids::PerformanceId;
use crate::domain::search::{
    Closeness, FoundPatron, FoundTicket, PatronQuery, TicketPage, TicketSearch,
};
use crate::domain::Invalid;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::search;
use crate::service::Encore;

/// A query parameter that does not parse: 400 `invalid_query`, naming the parameter.
fn bad_query(invalid: Invalid) -> ApiError {
    ApiError {
        field: Some(invalid.field),
        ..ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            invalid.to_string(),
        )
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TicketSearchQuery {
    /// Words, each of which must match: the start of a word of the holder's name, the start of
    /// the email or the seat, or the ticket id (digits, optionally after `#`). Letters A–Z
    /// match either case. Empty: every ticket.
    #[param(max_length = 200, example = "ada lov")]
    q: Option<String>,
    /// Only tickets in this state.
    #[param(
        pattern = "^(valid|exchanged|transferred|canceled)$",
        example = "valid"
    )]
    status: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Tickets per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// A ticket as the box office's listing shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketListItem {
    id: i64,
    performance_id: i64,
    holder_name: String,
    holder_email: String,
    seat: Option<String>,
    section: Option<String>,
    /// `valid`, `exchanged`, `transferred` or `canceled`.
    status: &'static str,
    generation: i32,
    price_minor: i64,
    currency: String,
    issued_at: DateTime<Utc>,
    admitted_at: Option<DateTime<Utc>>,
}

impl From<FoundTicket> for TicketListItem {
    fn from(t: FoundTicket) -> Self {
        TicketListItem {
            id: t.id.0,
            performance_id: t.performance_id.0,
            holder_name: t.holder_name,
            holder_email: t.holder_email,
            seat: t.seat,
            section: t.section,
            status: t.status.as_str(),
            generation: t.generation,
            price_minor: t.price_minor,
            currency: t.currency,
            issued_at: t.issued_at.and_utc(),
            admitted_at: t.admitted_at.map(|a| a.and_utc()),
        }
    }
}

/// One page of tickets, in id order.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPageView {
    tickets: Vec<TicketListItem>,
    /// Pass it as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

impl From<TicketPage> for TicketPageView {
    fn from(page: TicketPage) -> Self {
        TicketPageView {
            tickets: page.tickets.into_iter().map(TicketListItem::from).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}

/// `GET /api/v1/performances/{id}/tickets` (box_office): the performance's tickets that match,
/// in ticket id order, a page at a time (keyset pagination: no page holds more than 100).
#[utoipa::path(get, path = "/api/v1/performances/{id}/tickets",
    params(("id" = i64, Path, description = "The performance's id"), TicketSearchQuery),
    responses((status = 200, body = TicketPageView), (status = 400), (status = 403)))]
pub async fn tickets(
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
    query: web::Query<TicketSearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let search = TicketSearch::parse(
        id.into_inner(),
        q.q.as_deref(),
        q.status.as_deref(),
        q.cursor.as_deref(),
        q.limit,
    )
    .map_err(bad_query)?;
    let page = run_blocking(move || search::tickets(&encore, &search)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TicketPageView::from(page)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PatronSearchQuery {
    /// At least 2 characters: the start of a word of the holder's name (first, second or last
    /// word; the last word typed may carry one typo after its first three letters, from four
    /// letters on), the start of the email, or a ticket id. Letters A–Z match either case.
    #[param(min_length = 2, max_length = 200, example = "lovelase")]
    q: Option<String>,
}

/// The next performance a patron holds a valid ticket for.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextPerformanceView {
    performance_id: i64,
    starts_at: DateTime<Utc>,
}

/// A patron (one email address) the search found.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatronMatchView {
    email: String,
    /// The name on their latest ticket.
    name: String,
    /// Every ticket they have held, whatever its state.
    ticket_count: i64,
    valid_ticket_count: i64,
    next_performance: Option<NextPerformanceView>,
    /// `exact`, or `typo` when only a one-typo reading of the last word matched.
    #[schema(example = "exact")]
    matched: &'static str,
}

impl From<FoundPatron> for PatronMatchView {
    fn from(p: FoundPatron) -> Self {
        PatronMatchView {
            email: p.email,
            name: p.name,
            ticket_count: p.tickets,
            valid_ticket_count: p.valid_tickets,
            next_performance: p.next_performance.map(|n| NextPerformanceView {
                performance_id: n.performance_id.0,
                starts_at: n.starts_at.and_utc(),
            }),
            matched: match p.closeness {
                Closeness::Exact => "exact",
                Closeness::OneTypo => "typo",
            },
        }
    }
}

/// Patrons found, best first: exact matches, then one-typo matches, each by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatronSearchView {
    /// At most 20.
    patrons: Vec<PatronMatchView>,
}

/// `GET /api/v1/patrons?q=` (box_office): patrons by name or email prefix, typo-tolerant, one
/// row per email address, at most 20.
#[utoipa::path(get, path = "/api/v1/patrons", params(PatronSearchQuery),
    responses((status = 200, body = PatronSearchView), (status = 400), (status = 403)))]
pub async fn patrons(
    encore: web::Data<Encore>,
    query: web::Query<PatronSearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = PatronQuery::parse(query.into_inner().q.as_deref()).map_err(bad_query)?;
    let found = run_blocking(move || search::patrons(&encore, &query)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(PatronSearchView {
            patrons: found.into_iter().map(PatronMatchView::from).collect(),
        }))
}
