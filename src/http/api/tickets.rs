use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::idempotency::{self, IdempotencyKeyHeader};
use super::views::{EmailView, TicketView};
use crate::domain::ids::{EmailId, PerformanceId, TicketId};
use crate::domain::locale::Locale;
use crate::domain::ticket::NewTicket;
use crate::http::auth::StaffKey;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::rotating;
use crate::service::tickets::{self, IssuedTicket, TicketWithToken};
use crate::service::{Encore, Error};
use crate::tokens;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRequest {
    #[schema(schema_with = super::schema::label_200, example = "Ada Lovelace")]
    holder_name: String,
    #[schema(format = "email", example = "ada@example.com")]
    holder_email: String,
    #[schema(minimum = 0, maximum = 100_000_000_000_i64)]
    price_minor: i64,
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    currency: String,
    #[serde(default)]
    #[schema(schema_with = super::schema::optional_label_32)]
    seat: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::optional_label_64)]
    section: Option<String>,
    /// Pay what the holder's stored credit covers of the price (the rest is due as usual).
    #[serde(default)]
    apply_credit: bool,
    /// The language of the ticket's emails and pages; left out, its event's.
    #[serde(default)]
    #[schema(schema_with = super::schema::locale)]
    locale: Option<String>,
}

impl TicketRequest {
    fn parse(&self) -> Result<NewTicket, crate::domain::Invalid> {
        NewTicket::parse(
            &self.holder_name,
            &self.holder_email,
            self.price_minor,
            &self.currency,
            self.seat.as_deref(),
            self.section.as_deref(),
        )
        .and_then(|t| {
            let locale = (self.locale.as_deref())
                .map(|l| Locale::parse("locale", l))
                .transpose()?;
            Ok(t.paying_with_credit(self.apply_credit).speaking(locale))
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    #[schema(min_items = 1)]
    tickets: Vec<TicketRequest>,
}

/// `POST /api/v1/performances/{id}/tickets` (box_office): issue one ticket.
#[utoipa::path(post, path = "/api/v1/performances/{id}/tickets", params(("id" = i64, Path, description = "The performance's id"), IdempotencyKeyHeader),
    request_body = TicketRequest,
    responses((status = 201, body = TicketView), (status = 403), (status = 409)))]
pub async fn issue_one(
    staff: StaffKey,
    req: HttpRequest,
    encore: web::Data<Encore>,
    performance_id: web::Path<PerformanceId>,
    body: web::Json<TicketRequest>,
) -> Result<HttpResponse, ApiError> {
    let performance_id = performance_id.into_inner();
    let key = idempotency::key(&req, &staff, performance_id.0, &*body)?;
    let ticket = body.parse().map_err(Error::from)?;
    let reply = idempotency::reply(StatusCode::CREATED, TicketView::from);
    let by = staff.actor();
    idempotency::write(move || {
        tickets::issue_one(&encore, key.as_ref(), performance_id, ticket, &by, reply)
    })
    .await
}

#[derive(Serialize, ToSchema)]
struct BulkResponse {
    tickets: Vec<TicketView>,
}

/// `POST /api/v1/performances/{id}/tickets/bulk` (box_office): issue up to `max_bulk_tickets`
/// tickets in one transaction — all or none.
#[utoipa::path(post, path = "/api/v1/performances/{id}/tickets/bulk", params(("id" = i64, Path, description = "The performance's id"), IdempotencyKeyHeader),
    request_body = BulkRequest,
    responses((status = 201, body = BulkResponse), (status = 403), (status = 409)))]
pub async fn issue_bulk(
    staff: StaffKey,
    req: HttpRequest,
    encore: web::Data<Encore>,
    performance_id: web::Path<PerformanceId>,
    body: web::Json<BulkRequest>,
) -> Result<HttpResponse, ApiError> {
    let performance_id = performance_id.into_inner();
    let key = idempotency::key(&req, &staff, performance_id.0, &*body)?;
    let new_tickets = body
        .tickets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.parse().map_err(|mut e| {
                e.reason = format!("ticket {i}: {}", e.reason);
                Error::from(e)
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let reply = idempotency::reply(StatusCode::CREATED, |issued: Vec<IssuedTicket>| {
        BulkResponse {
            tickets: issued.into_iter().map(TicketView::from).collect(),
        }
    });
    let by = staff.actor();
    idempotency::write(move || {
        tickets::issue_bulk(
            &encore,
            key.as_ref(),
            performance_id,
            new_tickets,
            &by,
            reply,
        )
    })
    .await
}

async fn with_token(encore: web::Data<Encore>, id: TicketId) -> Result<TicketWithToken, ApiError> {
    run_blocking(move || tickets::with_token(&encore, id)).await
}

/// `GET /api/v1/tickets/{id}` (box_office): the ticket with its current token.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, body = TicketView), (status = 403)))]
pub async fn get(
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let ticket = with_token(encore, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(TicketView::from(ticket)))
}

fn qr_failed(e: tokens::QrError) -> ApiError {
    tracing::error!(error = %e, "QR rendering failed");
    ApiError::internal()
}

/// `GET /api/v1/tickets/{id}/qr.png` (box_office)
#[utoipa::path(get, path = "/api/v1/tickets/{id}/qr.png", params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, body = [u8], content_type = "image/png"), (status = 403)))]
pub async fn qr_png(
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let TicketWithToken { token, .. } = with_token(encore, id.into_inner()).await?;
    let png = web::block(move || tokens::render_png(&token))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(qr_failed)?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::png())
        .body(png))
}

/// A paper code: a static code the box office prints on purpose (for a patron without a
/// phone). At the door of an event whose codes rotate, where other static codes are refused
/// as `static_code_not_accepted`, it admits, and the scan is recorded as `paper`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaperCodeView {
    ticket_id: i64,
    generation: i32,
    /// The signed token the printed QR carries (its claims say `"paper": true`).
    token: String,
    /// The same code as a PNG to print.
    qr_png: String,
}

/// `GET /api/v1/tickets/{id}/paper-code` (box_office): a paper code for a ticket that admits
/// (409 `ticket_not_valid` for one that no longer does). Like every static code it stops
/// admitting when the ticket's generation changes.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/paper-code", params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, body = PaperCodeView), (status = 403), (status = 404), (status = 409)))]
pub async fn paper_code(
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let code = run_blocking(move || rotating::paper_code(&encore, id)).await?;
    Ok(HttpResponse::Ok().json(PaperCodeView {
        ticket_id: code.ticket_id.0,
        generation: code.generation,
        token: code.token,
        qr_png: format!("/api/v1/tickets/{id}/paper-code.png"),
    }))
}

/// `GET /api/v1/tickets/{id}/paper-code.png` (box_office): the paper code's QR, to print.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/paper-code.png", params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, body = [u8], content_type = "image/png"), (status = 403), (status = 404), (status = 409)))]
pub async fn paper_code_png(
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let code = run_blocking(move || rotating::paper_code(&encore, id)).await?;
    let png = web::block(move || tokens::render_png(&code.token))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(qr_failed)?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::png())
        .insert_header(("Cache-Control", "no-store"))
        .body(png))
}

/// `GET /api/v1/tickets/{id}/emails` (box_office): every email queued for the ticket and its state.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/emails", params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, body = Vec<EmailView>), (status = 403)))]
pub async fn emails(
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rows = run_blocking(move || crate::service::outbox::history(&encore.db, id)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(EmailView::from).collect::<Vec<_>>()))
}

/// `POST /api/v1/tickets/{id}/emails/{email_id}/resend` (box_office): puts a failed email back
/// in line with a full set of attempts. 409 `email_not_failed` for any other email.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/emails/{email_id}/resend",
    params(("id" = i64, Path, description = "The ticket's id"), ("email_id" = i64, Path, description = "The email's id")),
    responses((status = 200, body = EmailView), (status = 403), (status = 404), (status = 409)))]
pub async fn resend_email(
    encore: web::Data<Encore>,
    ids: web::Path<(TicketId, EmailId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, email_id) = ids.into_inner();
    let row = run_blocking(move || crate::service::outbox::resend(&encore, id, email_id)).await?;
    Ok(HttpResponse::Ok().json(EmailView::from(row)))
}

/// `POST /api/v1/tickets/{id}/confirmation/resend` (box_office): sends the ticket's
/// confirmation again to its holder — a failed one back in line, a delivered one as a fresh
/// copy. 409 `ticket_not_valid` for a ticket that no longer admits, `email_on_its_way` while one
/// is still being sent.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/confirmation/resend",
    params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, body = EmailView), (status = 403), (status = 404), (status = 409)))]
pub async fn resend_confirmation(
    staff: StaffKey,
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let by = staff.actor();
    let row =
        run_blocking(move || crate::service::outbox::resend_confirmation(&encore, id, &by)).await?;
    Ok(HttpResponse::Ok().json(EmailView::from(row)))
}

/// `GET /api/v1/tickets/{id}/qr.svg` (box_office)
#[utoipa::path(get, path = "/api/v1/tickets/{id}/qr.svg", params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, body = String, content_type = "image/svg+xml"), (status = 403)))]
pub async fn qr_svg(
    encore: web::Data<Encore>,
    id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let TicketWithToken { token, .. } = with_token(encore, id.into_inner()).await?;
    let svg = tokens::render_svg(&token).map_err(qr_failed)?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}
