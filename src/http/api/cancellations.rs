//! Canceling at the box office: one ticket, or a whole performance (a job to poll).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::idempotency::{self, IdempotencyKeyHeader};
use crate::domain::cancellation::{PerformanceCancellation, Progress, TicketCancellation};
use crate::domain::ids::{PerformanceId, TicketId};
use crate::http::auth::StaffKey;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::cancellations::{self, Reason};
use crate::service::Encore;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelTicket {
    #[schema(example = "The holder asked")]
    reason: String,
    /// Credit the ticket's price to the holder's stored credit (true), or refund nothing.
    refund_to_credit: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketCancellationView {
    pub ticket_id: i64,
    pub reason: String,
    pub refund_minor: i64,
    pub currency: String,
    /// The performance cancellation this was part of, if any.
    pub cancellation_id: Option<i64>,
    pub canceled_at: DateTime<Utc>,
}

impl From<TicketCancellation> for TicketCancellationView {
    fn from(cancellation: TicketCancellation) -> Self {
        TicketCancellationView {
            ticket_id: cancellation.ticket_id.0,
            reason: cancellation.reason,
            refund_minor: cancellation.refund_minor,
            currency: cancellation.currency.as_str().into(),
            cancellation_id: cancellation.cancellation_id.map(|id| id.0),
            canceled_at: cancellation.canceled_at,
        }
    }
}

/// `POST /api/v1/tickets/{id}/cancel` (box_office): the QR stops admitting at once, the seat
/// returns, the holder is emailed. A second cancel is 409 `already_canceled`.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/cancel", params(("id" = i64, Path, description = "The ticket's id"), IdempotencyKeyHeader),
    request_body = CancelTicket,
    responses((status = 200, body = TicketCancellationView), (status = 403), (status = 409)))]
pub async fn cancel_ticket(
    staff: StaffKey,
    req: HttpRequest,
    encore: web::Data<Encore>,
    ticket_id: web::Path<TicketId>,
    body: web::Json<CancelTicket>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = ticket_id.into_inner();
    let key = idempotency::key(&req, &staff, ticket_id.0, &*body)?;
    let reason = Reason::parse(&body.reason)?;
    let refund = body.refund_to_credit;
    let reply = idempotency::reply(StatusCode::OK, TicketCancellationView::from);
    let by = staff.actor();
    idempotency::write(move || {
        cancellations::cancel_ticket(
            &encore,
            key.as_ref(),
            ticket_id,
            &reason,
            refund,
            &by,
            reply,
        )
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelPerformance {
    #[schema(example = "The tenor is ill")]
    reason: String,
}

/// A performance's cancellation job, as it is polled.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancellationJobView {
    pub id: i64,
    pub performance_id: i64,
    pub reason: String,
    pub refund_to_credit: bool,
    /// `running` or `done`.
    pub status: String,
    pub total: i64,
    pub canceled: i64,
    pub remaining: i64,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<PerformanceCancellation> for CancellationJobView {
    fn from(job: PerformanceCancellation) -> Self {
        let Progress { total, canceled } = job.progress;
        CancellationJobView {
            id: job.id.0,
            performance_id: job.performance_id.0,
            reason: job.reason,
            refund_to_credit: job.refund_to_credit,
            status: job.status.as_str().into(),
            total,
            canceled,
            remaining: job.progress.remaining(),
            started_at: job.started_at,
            updated_at: job.updated_at,
            finished_at: job.finished_at,
        }
    }
}

/// `POST /api/v1/performances/{id}/cancel` (box_office): starts canceling every unused ticket
/// in the background and answers 202 with the job (`Location` says where to poll). Asking
/// again answers 200 with the job already under way.
#[utoipa::path(post, path = "/api/v1/performances/{id}/cancel", params(("id" = i64, Path, description = "The performance's id")),
    request_body = CancelPerformance,
    responses(
        (status = 202, body = CancellationJobView, description = "The job has started",
            headers(("Location" = String, description = "Where to poll the job"))),
        (status = 200, body = CancellationJobView, description = "The job was already under way",
            headers(("Location" = String, description = "Where to poll the job"))),
        (status = 403), (status = 409)))]
pub async fn cancel_performance(
    staff: StaffKey,
    encore: web::Data<Encore>,
    performance_id: web::Path<PerformanceId>,
    body: web::Json<CancelPerformance>,
) -> Result<HttpResponse, ApiError> {
    let reason = Reason::parse(&body.reason)?;
    let performance_id = performance_id.into_inner();
    let runner = encore.clone();
    let by = staff.actor();
    let (job, started) = run_blocking(move || {
        cancellations::begin_performance_cancellation(&encore, performance_id, &reason, &by)
    })
    .await?;
    if started {
        cancellations::run_in_background(runner.get_ref().clone(), job.id);
    }
    let location = format!("/api/v1/performances/{performance_id}/cancellation");
    let mut answer = if started {
        HttpResponse::Accepted()
    } else {
        HttpResponse::Ok()
    };
    Ok(answer
        .insert_header((header::LOCATION, location))
        .json(CancellationJobView::from(job)))
}

/// `GET /api/v1/performances/{id}/cancellation` (box_office): the job's progress.
#[utoipa::path(get, path = "/api/v1/performances/{id}/cancellation", params(("id" = i64, Path, description = "The performance's id")),
    responses((status = 200, body = CancellationJobView), (status = 403)))]
pub async fn cancellation_job(
    encore: web::Data<Encore>,
    performance_id: web::Path<PerformanceId>,
) -> Result<HttpResponse, ApiError> {
    let performance_id = performance_id.into_inner();
    let job =
        run_blocking(move || cancellations::job_of_performance(&encore, performance_id)).await?;
    Ok(HttpResponse::Ok().json(CancellationJobView::from(job)))
}
