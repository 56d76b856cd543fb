use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::views::EventView;
use crate::domain::lobby::LobbyMessage;
use crate::domain::policy::ChangePolicy;
use crate::domain::Role;
use crate::http::auth::StaffKey;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::{events, Encore};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    #[schema(schema_with = super::schema::label_200, example = "Winter Gala")]
    name: String,
    #[schema(schema_with = super::schema::label_200, example = "Main Hall")]
    venue: String,
    /// An IANA time zone.
    #[schema(example = "Europe/Paris")]
    time_zone: String,
    /// Minutes before each performance at which reminders are emailed (default 1440 and 120).
    #[serde(default)]
    #[schema(max_items = 5)]
    reminder_offsets_minutes: Option<Vec<i64>>,
    /// What patrons may change, and until when (each has a default).
    #[serde(default)]
    policy: PolicyInput,
    /// Emailed to each holder on admission; placeholders such as `{holder_name}` are filled in.
    #[serde(default)]
    lobby_message: Option<String>,
}

/// An event's change policy as the API takes it; every field has the default shown.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyInput {
    exchange_allowed: bool,
    exchange_any_event: bool,
    #[schema(minimum = 0, maximum = 100_000_000_000_i64)]
    exchange_fee_minor: i64,
    transfer_allowed: bool,
    #[schema(minimum = 0, maximum = 525_600)]
    change_cutoff_minutes: i64,
    #[schema(minimum = 1, maximum = 8_760)]
    transfer_offer_hours: i64,
    /// Credit holders the ticket price when a performance is canceled.
    refund_on_cancel: bool,
}

impl Default for PolicyInput {
    fn default() -> Self {
        let d = ChangePolicy::default();
        PolicyInput {
            exchange_allowed: d.exchange_allowed,
            exchange_any_event: d.exchange_any_event,
            exchange_fee_minor: d.exchange_fee_minor,
            transfer_allowed: d.transfer_allowed,
            change_cutoff_minutes: d.cutoff.num_minutes(),
            transfer_offer_hours: d.offer_lifetime.num_hours(),
            refund_on_cancel: d.refund_on_cancel,
        }
    }
}

/// `POST /api/v1/events` (box_office)
#[utoipa::path(post, path = "/api/v1/events", request_body = CreateEvent,
    responses((status = 201, body = EventView), (status = 403)))]
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
    let p = &body.policy;
    let policy = ChangePolicy {
        refund_on_cancel: p.refund_on_cancel,
        ..ChangePolicy::parse(
            p.exchange_allowed,
            p.exchange_any_event,
            p.exchange_fee_minor,
            p.transfer_allowed,
            p.change_cutoff_minutes,
            p.transfer_offer_hours,
        )?
    };
    let lobby_message = body
        .lobby_message
        .as_deref()
        .map(|m| LobbyMessage::parse("lobby_message", m))
        .transpose()?;
    let event = run_blocking(move || {
        events::create_event(
            &encore.db,
            &body.name,
            &body.venue,
            &body.time_zone,
            &reminders,
            &policy,
            lobby_message.as_ref(),
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(EventView::from(event)))
}

/// `GET /api/v1/events` (any staff)
#[utoipa::path(get, path = "/api/v1/events", responses((status = 200, body = Vec<EventView>)))]
pub async fn list(_staff: StaffKey, encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    let all = run_blocking(move || events::list_events(&encore.db)).await?;
    Ok(HttpResponse::Ok().json(all.into_iter().map(EventView::from).collect::<Vec<_>>()))
}

/// `GET /api/v1/events/{id}` (any staff)
#[utoipa::path(get, path = "/api/v1/events/{id}", params(("id" = i64, Path, description = "The event's id")),
    responses((status = 200, body = EventView)))]
pub async fn get(
    _staff: StaffKey,
    encore: web::Data<Encore>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let event = run_blocking(move || events::get_event(&encore.db, id)).await?;
    Ok(HttpResponse::Ok().json(EventView::from(event)))
}
