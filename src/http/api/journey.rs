//! The patron journey for the box office: one ticket's history, or everything about a patron.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::changes::CreditView;
use super::views::admitted;
use crate::domain::ids::TicketId;
use crate::domain::ticket::Ticket;
use crate::domain::EmailAddress;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::journey::{self, Touch};
use crate::service::Encore;

/// A ticket as the journey lists it (no token: this is about what happened, not a QR).
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketSummary {
    pub id: i64,
    pub performance_id: i64,
    pub holder_name: String,
    pub holder_email: String,
    pub status: String,
    pub generation: i32,
    pub price_minor: i64,
    pub currency: String,
    pub issued_at: DateTime<Utc>,
    pub admitted_at: Option<DateTime<Utc>>,
    pub admitted_gate: Option<String>,
    pub replaces_ticket_id: Option<i64>,
}

impl From<Ticket> for TicketSummary {
    fn from(t: Ticket) -> Self {
        let (admitted_at, admitted_gate) = admitted(t.admission);
        TicketSummary {
            id: t.id.0,
            performance_id: t.performance_id.0,
            holder_name: t.holder_name,
            holder_email: t.holder_email,
            status: t.status.as_str().into(),
            generation: t.generation,
            price_minor: t.price.minor,
            currency: t.price.currency.as_str().into(),
            issued_at: t.issued_at,
            admitted_at,
            admitted_gate,
            replaces_ticket_id: t.replaces.map(|id| id.0),
        }
    }
}

/// One touch of the journey.
#[derive(Debug, Serialize, ToSchema)]
pub struct TouchView {
    pub at: DateTime<Utc>,
    /// The ticket it concerns (an offer received names the offered ticket).
    pub ticket_id: i64,
    /// What happened: `issued`, `email_queued`, `email_sent`, `email_failed`, `email_skipped`,
    /// `email_retry_scheduled`, `link_opened`, `transfer_offered`, `transfer_claimed`,
    /// `transfer_canceled`, `transfer_expired`, `exchanged`, `credit`, `canceled`, `scan`.
    pub what: &'static str,
    /// The facts of that touch (gate and outcome of a scan, an email's kind, an amount…). A
    /// `scan` has `outcome`, `gate`, `device`, `token_generation`, `uploaded_at` (when a scan
    /// made offline reached the server, else null) and `device_refusal`: for a scan an offline
    /// scanner refused and uploaded, the reason it gave (its own short code, e.g. `no_bundle`;
    /// `outcome` is then the server's judgement, `refused_offline` when it would have admitted
    /// the ticket), else null. An uploaded scan whose device time cannot be true (before the
    /// ticket's issue, after the upload, outside the scan window) has the outcome
    /// `clock_out_of_bounds`.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<Touch> for TouchView {
    fn from(touch: Touch) -> Self {
        TouchView {
            at: touch.at,
            ticket_id: touch.ticket_id.0,
            what: touch.what,
            detail: touch.detail,
        }
    }
}

fn timeline(touches: Vec<Touch>) -> Vec<TouchView> {
    touches.into_iter().map(TouchView::from).collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketHistoryView {
    pub ticket: TicketSummary,
    pub replaced_by: Vec<i64>,
    pub timeline: Vec<TouchView>,
}

/// `GET /api/v1/tickets/{id}/history` (box_office): every touch of the ticket, oldest first.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/history", params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, body = TicketHistoryView), (status = 403)))]
pub async fn ticket_history(
    encore: web::Data<Encore>,
    ticket_id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = ticket_id.into_inner();
    let history = run_blocking(move || journey::of_ticket(&encore, ticket_id)).await?;
    Ok(HttpResponse::Ok().json(TicketHistoryView {
        ticket: history.ticket.into(),
        replaced_by: history.replaced_by.into_iter().map(|id| id.0).collect(),
        timeline: timeline(history.timeline),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatronView {
    pub email: String,
    pub tickets: Vec<TicketSummary>,
    pub credit: CreditView,
    pub timeline: Vec<TouchView>,
}

/// `GET /api/v1/patrons/{email}` (box_office): the patron's tickets, credit and one timeline
/// (including offers made to them by friends).
#[utoipa::path(get, path = "/api/v1/patrons/{email}",
    params(("email" = String, Path, format = "email", description = "The patron's email address")),
    responses((status = 200, body = PatronView), (status = 403), (status = 422)))]
pub async fn patron(
    encore: web::Data<Encore>,
    email: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let email = EmailAddress::parse("email", &email)?;
    let shown = email.as_str().to_string();
    let found = run_blocking(move || journey::of_patron(&encore, &email)).await?;
    Ok(HttpResponse::Ok().json(PatronView {
        email: shown,
        tickets: found.tickets.into_iter().map(TicketSummary::from).collect(),
        credit: found.credit.into(),
        timeline: timeline(found.timeline),
    }))
}
