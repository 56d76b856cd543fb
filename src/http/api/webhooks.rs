//! Webhook endpoints (admin): register, list, show, change, delete; each endpoint's
//! deliveries; replay. The secret is in the answer that creates an endpoint and nowhere else.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use crate::domain::webhook::{EndpointUrl, Kinds, KINDS};
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::webhooks::{self, Change, Delivery, Endpoint};
use crate::service::Encore;
use crate::webhook_client::check_endpoint;

fn kind_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(KINDS))
        .build()
}

fn kinds_schema() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new()
        .items(kind_schema())
        .min_items(Some(1))
        .max_items(Some(KINDS.len() * 4))
        .build()
}

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    id: i64,
    #[schema(example = "https://crm.example.org/encore")]
    url: String,
    /// The touches sent to it.
    #[schema(schema_with = kinds_schema)]
    kinds: Vec<&'static str>,
    created_at: DateTime<Utc>,
    /// False once disabled (by an admin, or after failing for `webhook_disable_after_seconds`).
    enabled: bool,
    disabled_at: Option<DateTime<Utc>>,
    disabled_reason: Option<String>,
    /// The first failure since the last delivery that worked; null while it works.
    failing_since: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    /// Deliveries still to make.
    pending_deliveries: i64,
    /// Only in the answer that creates it: the signing secret (`whsec_` and base64). Never
    /// shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    secret: Option<String>,
}

impl From<Endpoint> for WebhookView {
    fn from(e: Endpoint) -> Self {
        WebhookView {
            id: e.id,
            url: e.url,
            kinds: e.kinds.names().to_vec(),
            created_at: e.created_at,
            enabled: e.enabled,
            disabled_at: e.disabled_at,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
            last_success_at: e.last_success_at,
            pending_deliveries: e.pending,
            secret: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// HTTPS (plain HTTP only where `webhook_allow_http` is set), to a host whose every
    /// address is public (unless `webhook_allow_private_addresses` is set).
    #[schema(example = "https://crm.example.org/encore", max_length = 2000)]
    url: String,
    /// The touches to send.
    #[schema(schema_with = kinds_schema)]
    kinds: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[schema(example = "https://crm.example.org/encore", max_length = 2000)]
    url: Option<String>,
    #[schema(schema_with = kinds_schema)]
    kinds: Option<Vec<String>>,
    /// `true` enables a disabled endpoint: what it missed meanwhile is sent, in order.
    /// `false` disables it (its touches are kept for it).
    enabled: Option<bool>,
}

async fn checked_url(encore: &Encore, text: &str) -> Result<EndpointUrl, ApiError> {
    let reach = encore.settings.webhook_reach;
    let url = EndpointUrl::parse(text, reach)?;
    check_endpoint(&url, reach).await?;
    Ok(url)
}

/// `POST /api/v1/webhooks` (admin): registers an endpoint for the kinds of touches named. The
/// answer's `secret` is the only time it is shown. A URL Encore may not call (not HTTPS, a
/// loopback or private address, a host that does not resolve) is 422 naming why.
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = CreateWebhook,
    responses((status = 201, body = WebhookView), (status = 403), (status = 422)))]
pub async fn create(
    encore: web::Data<Encore>,
    body: web::Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let kinds = Kinds::parse(&body.kinds)?;
    let url = checked_url(&encore, &body.url).await?;
    let (endpoint, secret) = run_blocking(move || webhooks::create(&encore, &url, &kinds)).await?;
    let mut view = WebhookView::from(endpoint);
    view.secret = Some(secret);
    Ok(HttpResponse::Created().json(view))
}

/// `GET /api/v1/webhooks` (admin): every endpoint.
#[utoipa::path(get, path = "/api/v1/webhooks",
    responses((status = 200, body = Vec<WebhookView>), (status = 403)))]
pub async fn list(encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    let all = run_blocking(move || webhooks::list(&encore)).await?;
    Ok(HttpResponse::Ok().json(all.into_iter().map(WebhookView::from).collect::<Vec<_>>()))
}

/// `GET /api/v1/webhooks/{id}` (admin).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, body = WebhookView), (status = 403), (status = 404)))]
pub async fn get(encore: web::Data<Encore>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let endpoint = run_blocking(move || webhooks::get(&encore, id)).await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(endpoint)))
}

/// `PATCH /api/v1/webhooks/{id}` (admin): changes the URL or the kinds, or enables (what it
/// missed is then sent, in order) or disables the endpoint.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", request_body = UpdateWebhook,
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, body = WebhookView), (status = 403), (status = 404), (status = 422)))]
pub async fn update(
    encore: web::Data<Encore>,
    id: web::Path<i64>,
    body: web::Json<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let kinds = body.kinds.as_deref().map(Kinds::parse).transpose()?;
    let url = match &body.url {
        Some(text) => Some(checked_url(&encore, text).await?),
        None => None,
    };
    let change = Change {
        url,
        kinds,
        enabled: body.enabled,
    };
    let endpoint = run_blocking(move || webhooks::update(&encore, id, change)).await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(endpoint)))
}

/// `DELETE /api/v1/webhooks/{id}` (admin): the endpoint and its deliveries are gone.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 204, description = "Deleted"), (status = 403), (status = 404)))]
pub async fn delete(
    encore: web::Data<Encore>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    run_blocking(move || webhooks::delete(&encore, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One delivery of a touch to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The `webhook-id` header: the same at every attempt, for deduplication.
    #[schema(example = "msg_42")]
    id: String,
    ticket_id: Option<i64>,
    #[schema(example = "ticket.scanned")]
    r#type: String,
    occurred_at: DateTime<Utc>,
    #[schema(pattern = "^(pending|delivered)$")]
    status: &'static str,
    attempts: i32,
    /// When a pending delivery is tried next.
    next_attempt_at: Option<DateTime<Utc>>,
    last_attempt_at: Option<DateTime<Utc>>,
    /// The endpoint's HTTP status at the last attempt (null: no answer).
    last_status_code: Option<i32>,
    last_error: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        DeliveryView {
            id: d.message_id,
            ticket_id: d.ticket_id,
            r#type: d.event_type,
            occurred_at: d.occurred_at,
            status: if d.delivered { "delivered" } else { "pending" },
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_attempt_at: d.last_attempt_at,
            last_status_code: d.last_status,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Only deliveries in this state.
    #[param(pattern = "^(pending|delivered)$")]
    status: Option<String>,
    /// Only deliveries older than this one (its numeric id, or its `msg_…` id): the next page.
    before: Option<String>,
    /// 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

fn bad_query(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message)
}

/// `GET /api/v1/webhooks/{id}/deliveries` (admin): the endpoint's deliveries, newest first,
/// with their attempts, last status code and last error.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries",
    params(("id" = i64, Path, description = "The endpoint's id"), DeliveriesQuery),
    responses((status = 200, body = Vec<DeliveryView>), (status = 400), (status = 403), (status = 404)))]
pub async fn deliveries(
    encore: web::Data<Encore>,
    id: web::Path<i64>,
    query: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, query) = (id.into_inner(), query.into_inner());
    let pending_only = match query.status.as_deref() {
        None => None,
        Some("pending") => Some(true),
        Some("delivered") => Some(false),
        Some(other) => {
            return Err(bad_query(format!(
                "status: {other:?} is neither pending nor delivered"
            )))
        }
    };
    let before = match query.before.as_deref() {
        None => None,
        Some(text) => Some(
            text.strip_prefix("msg_")
                .unwrap_or(text)
                .parse::<i64>()
                .map_err(|_| bad_query(format!("before: {text:?} is not a delivery id")))?,
        ),
    };
    let limit = match query.limit {
        None => 100,
        Some(n @ 1..=500) => n,
        Some(_) => return Err(bad_query("limit: must be between 1 and 500".into())),
    };
    let all = run_blocking(move || webhooks::deliveries(&encore, id, pending_only, before, limit))
        .await?;
    Ok(HttpResponse::Ok().json(all.into_iter().map(DeliveryView::from).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayWebhook {
    /// Touches that happened at or after this moment are sent again.
    since: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayView {
    /// Deliveries queued again (each keeps its `webhook-id`).
    queued: usize,
}

/// `POST /api/v1/webhooks/{id}/replay` (admin): sends again, in order and with their own ids,
/// the touches since `since` already delivered to the endpoint (what was never delivered is
/// still queued: enabling a disabled endpoint sends it).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/replay", request_body = ReplayWebhook,
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 200, body = ReplayView), (status = 403), (status = 404)))]
pub async fn replay(
    encore: web::Data<Encore>,
    id: web::Path<i64>,
    body: web::Json<ReplayWebhook>,
) -> Result<HttpResponse, ApiError> {
    let (id, since) = (id.into_inner(), body.into_inner().since);
    let queued = run_blocking(move || webhooks::replay(&encore, id, since)).await?;
    Ok(HttpResponse::Ok().json(ReplayView { queued }))
}
