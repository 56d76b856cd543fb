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
    /// Instead of a search: the patrons with no touch (ticket issued, admission, email sent,
    /// link opened, credit, consent change) for this many days, the quietest first. 1 to 3650.
    #[param(minimum = 1, maximum = 3650)]
    quiet_for_days: Option<i64>,
    /// With `quiet_for_days`: the page, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<i64>,
    /// With `quiet_for_days`: patrons per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    per_page: Option<i64>,
    /// With `quiet_for_days`: `csv` answers every quiet patron as a CSV file.
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
}

/// A patron the box office has not been in touch with lately.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuietPatronView {
    email: String,
    name: String,
    last_touch_at: DateTime<Utc>,
    /// `issued`, `admitted`, `email_sent`, `link_opened`, `credit`, `unsubscribed` or
    /// `resubscribed`.
    last_touch: String,
    /// Every ticket they ever held.
    lifetime_tickets: i64,
    /// Admitted tickets over tickets for performances that have begun; null when none has.
    attendance_rate: Option<f64>,
}

impl From<crate::db::quiet::QuietPatron> for QuietPatronView {
    fn from(p: crate::db::quiet::QuietPatron) -> Self {
        QuietPatronView {
            attendance_rate: (p.past_tickets > 0)
                .then(|| (p.attended as f64 / p.past_tickets as f64 * 100.0).round() / 100.0),
            email: p.email,
            name: p.name,
            last_touch_at: p.last_touch_at.and_utc(),
            last_touch: p.last_touch,
            lifetime_tickets: p.tickets,
        }
    }
}

/// One page of quiet patrons.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietPatronsView {
    patrons: Vec<QuietPatronView>,
    page: i64,
    per_page: i64,
    /// Quiet patrons in all (0 on a page past the last).
    total: i64,
}

/// The answer of `GET /api/v1/patrons`: a search, or the quiet patrons.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PatronsView {
    Search(PatronSearchView),
    Quiet(QuietPatronsView),
}

/// The quiet patrons, as a page of JSON or all of them as CSV.
async fn quiet_patrons(
    encore: web::Data<Encore>,
    query: PatronSearchQuery,
    days: i64,
) -> Result<HttpResponse, ApiError> {
    if query.q.is_some() {
        return Err(bad_query(Invalid::new(
            "q",
            "is a search; leave it out to list quiet patrons",
        )));
    }
    if !(1..=3650).contains(&days) {
        return Err(bad_query(Invalid::new(
            "quiet_for_days",
            "must be between 1 and 3650",
        )));
    }
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(bad_query(Invalid::new("format", "must be json or csv"))),
    };
    let per_page = query.per_page.unwrap_or(100);
    if !(1..=search::MAX_QUIET_PAGE).contains(&per_page) {
        return Err(bad_query(Invalid::new(
            "per_page",
            "must be between 1 and 500",
        )));
    }
    let page = query.page.unwrap_or(1);
    if !(1..=1_000_000).contains(&page) {
        return Err(bad_query(Invalid::new(
            "page",
            "must be between 1 and 1000000",
        )));
    }
    let (limit, offset) = if csv {
        (i64::MAX, 0)
    } else {
        (per_page, (page - 1) * per_page)
    };
    let found = run_blocking(move || search::quiet_patrons(&encore, days, limit, offset)).await?;
    let total = found.total;
    let patrons: Vec<QuietPatronView> = found.patrons.into_iter().map(Into::into).collect();
    if csv {
        return quiet_csv(&patrons);
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(PatronsView::Quiet(QuietPatronsView {
            patrons,
            page,
            per_page,
            total,
        })))
}

fn quiet_csv(patrons: &[QuietPatronView]) -> Result<HttpResponse, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| ApiError::from(crate::service::Error::Internal(e.to_string()));
    out.write_record([
        "email",
        "name",
        "last_touch_at",
        "last_touch",
        "lifetime_tickets",
        "attendance_rate",
    ])
    .map_err(failed)?;
    for p in patrons {
        out.write_record([
            p.email.as_str(),
            p.name.as_str(),
            &p.last_touch_at.to_rfc3339(),
            p.last_touch.as_str(),
            &p.lifetime_tickets.to_string(),
            &p.attendance_rate.map(|r| r.to_string()).unwrap_or_default(),
        ])
        .map_err(failed)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| ApiError::from(crate::service::Error::Internal(e.to_string())))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"quiet-patrons.csv\"",
        ))
        .content_type("text/csv; charset=utf-8")
        .body(body))
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
// deny_unknown_fields: the document says `additionalProperties: false`, so that a search's
// answer and a page of quiet patrons never match each other's schema (`PatronsView` is a
// oneOf).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatronSearchView {
    /// At most 20.
    patrons: Vec<PatronMatchView>,
}

/// `GET /api/v1/patrons?q=` (box_office): patrons by name or email prefix, typo-tolerant, one
/// row per email address, at most 20.
///
/// With `quiet_for_days`: the patrons with no touch for that many days instead, a page at a
/// time, or all of them as CSV (`format=csv`).
#[utoipa::path(get, path = "/api/v1/patrons", params(PatronSearchQuery),
    responses((status = 200, content(
        (PatronsView = "application/json"),
        (String = "text/csv"))), (status = 400), (status = 403)))]
pub async fn patrons(
    encore: web::Data<Encore>,
    query: web::Query<PatronSearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    if let Some(days) = query.quiet_for_days {
        return quiet_patrons(encore, query, days).await;
    }
    for (given, name) in [
        (query.page.is_some(), "page"),
        (query.per_page.is_some(), "per_page"),
        (query.format.is_some(), "format"),
    ] {
        if given {
            return Err(bad_query(Invalid::new(name, "goes with quiet_for_days")));
        }
    }
    let query = PatronQuery::parse(query.q.as_deref()).map_err(bad_query)?;
    let found = run_blocking(move || search::patrons(&encore, &query)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(PatronsView::Search(PatronSearchView {
            patrons: found.into_iter().map(PatronMatchView::from).collect(),
        })))
}
