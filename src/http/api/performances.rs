use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::views::PerformanceView;
use crate::domain::ids::{EventId, PerformanceId};
use crate::domain::{Invalid, Money};
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::{arrivals, events, Encore};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePerformance {
    /// RFC 3339, e.g. "2026-12-24T19:30:00+01:00"; stored in UTC.
    #[schema(example = "2026-12-24T19:30:00+01:00")]
    starts_at: DateTime<Utc>,
    /// Defaults to an hour before `starts_at`.
    doors_open_at: Option<DateTime<Utc>>,
    /// When the show is over (after `starts_at`, within 24 hours); defaults to two and a half
    /// hours after `starts_at`. Messages to be sent after the show count from it.
    ends_at: Option<DateTime<Utc>>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    capacity: i64,
    /// The price of a ticket bought with an exchange or credit; without it the performance is
    /// not a target for exchanges. Both or neither.
    #[schema(minimum = 0, maximum = 100_000_000_000_i64)]
    price_minor: Option<i64>,
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    currency: Option<String>,
}

/// `POST /api/v1/events/{id}/performances` (box_office)
#[utoipa::path(post, path = "/api/v1/events/{id}/performances", params(("id" = i64, Path, description = "The event's id")),
    request_body = CreatePerformance,
    responses((status = 201, body = PerformanceView), (status = 403)))]
pub async fn create(
    encore: web::Data<Encore>,
    event_id: web::Path<EventId>,
    body: web::Json<CreatePerformance>,
) -> Result<HttpResponse, ApiError> {
    let event_id = event_id.into_inner();
    let body = body.into_inner();
    let price = match (body.price_minor, body.currency.as_deref()) {
        (Some(minor), Some(currency)) => Some(Money::parse(minor, currency)?),
        (None, None) => None,
        _ => return Err(Invalid::new("currency", "price_minor and currency go together").into()),
    };
    let performance = run_blocking(move || {
        events::create_performance(
            &encore,
            event_id,
            body.starts_at,
            body.doors_open_at,
            body.ends_at,
            body.capacity,
            price,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(PerformanceView::from(performance)))
}

/// `GET /api/v1/events/{id}/performances` (any staff)
#[utoipa::path(get, path = "/api/v1/events/{id}/performances", params(("id" = i64, Path, description = "The event's id")),
    responses((status = 200, body = Vec<PerformanceView>)))]
pub async fn list(
    encore: web::Data<Encore>,
    event_id: web::Path<EventId>,
) -> Result<HttpResponse, ApiError> {
    let event_id = event_id.into_inner();
    let all = run_blocking(move || events::list_performances(&encore, event_id)).await?;
    Ok(HttpResponse::Ok().json(
        all.into_iter()
            .map(PerformanceView::from)
            .collect::<Vec<_>>(),
    ))
}

/// `GET /api/v1/performances/{id}` (any staff)
#[utoipa::path(get, path = "/api/v1/performances/{id}", params(("id" = i64, Path, description = "The performance's id")),
    responses((status = 200, body = PerformanceView)))]
pub async fn get(
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let performance = run_blocking(move || events::get_performance(&encore, id)).await?;
    Ok(HttpResponse::Ok().json(PerformanceView::from(performance)))
}

#[derive(Debug, Serialize, ToSchema)]
struct GateCount {
    gate: String,
    admitted: i64,
}

#[derive(Debug, Serialize, ToSchema)]
struct MinuteCount {
    minute: DateTime<Utc>,
    admitted: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArrivalsView {
    performance_id: i64,
    capacity: i64,
    tickets_issued: i64,
    admitted: i64,
    /// Tickets that still admit and have not been admitted.
    still_to_arrive: i64,
    by_gate: Vec<GateCount>,
    per_minute: Vec<MinuteCount>,
    attempts_by_outcome: std::collections::BTreeMap<String, i64>,
    conflicts: i64,
}

/// `GET /api/v1/performances/{id}/arrivals` (any staff): who has arrived, by gate and minute.
#[utoipa::path(get, path = "/api/v1/performances/{id}/arrivals", params(("id" = i64, Path, description = "The performance's id")),
    responses((status = 200, body = ArrivalsView)))]
pub async fn arrivals(
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let a = run_blocking(move || arrivals::for_performance(&encore.db, id)).await?;
    Ok(HttpResponse::Ok().json(ArrivalsView {
        performance_id: a.performance_id.0,
        capacity: a.capacity,
        tickets_issued: a.tickets_issued,
        admitted: a.admitted,
        still_to_arrive: a.still_to_arrive,
        by_gate: a
            .by_gate
            .into_iter()
            .map(|(gate, admitted)| GateCount { gate, admitted })
            .collect(),
        per_minute: a
            .per_minute
            .into_iter()
            .map(|(minute, admitted)| MinuteCount { minute, admitted })
            .collect(),
        attempts_by_outcome: a.attempts_by_outcome,
        conflicts: a.conflicts,
    }))
}
