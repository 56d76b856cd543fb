use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::views::EventView;
use crate::domain::Role;
use crate::http::auth::StaffKey;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::{events, Encore};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    name: String,
    venue: String,
    time_zone: String,
    /// Minutes before each performance at which reminders are emailed (default 1440 and 120).
    #[serde(default)]
    reminder_offsets_minutes: Option<Vec<i64>>,
}

/// `POST /api/v1/events` (box_office)
pub async fn create(
    staff: StaffKey,
    encore: web::Data<Encore>,
    body: web::Json<CreateEvent>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Role::BoxOffice)?;
    let body = body.into_inner();
    let reminders = body
        .reminder_offsets_minutes
        .unwrap_or_else(|| events::DEFAULT_REMINDER_OFFSETS.to_vec());
    let event = run_blocking(move || {
        events::create_event(
            &encore.db,
            &body.name,
            &body.venue,
            &body.time_zone,
            &reminders,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(EventView::from(event)))
}

/// `GET /api/v1/events` (any staff)
pub async fn list(_staff: StaffKey, encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    let all = run_blocking(move || events::list_events(&encore.db)).await?;
    Ok(HttpResponse::Ok().json(all.into_iter().map(EventView::from).collect::<Vec<_>>()))
}

/// `GET /api/v1/events/{id}` (any staff)
pub async fn get(
    _staff: StaffKey,
    encore: web::Data<Encore>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let event = run_blocking(move || events::get_event(&encore.db, id)).await?;
    Ok(HttpResponse::Ok().json(EventView::from(event)))
}
