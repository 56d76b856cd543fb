//! The box office acting for a patron (on the phone): exchange, transfer, cancel an offer, and
//! a patron's credit. The same services, and so the same rules, as the patron's own pages.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::views::TicketView;
use crate::db::models::{CreditEntryRow, TransferRow};
use crate::domain::{EmailAddress, Role};
use crate::http::auth::StaffKey;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::exchanges::{self, ExchangeInto};
use crate::service::{credit, events, tickets, transfers, Encore, Error};

#[derive(Debug, Deserialize)]
#[serde(tag = "into", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExchangeRequest {
    Credit,
    Performance { performance_id: i64 },
}

/// `POST /api/v1/tickets/{id}/exchange` (box_office): `{"into": "credit"}` or
/// `{"into": "performance", "performance_id": 7}`. Answers with the receipt.
pub async fn exchange(
    staff: StaffKey,
    encore: web::Data<Encore>,
    ticket_id: web::Path<i64>,
    body: web::Json<ExchangeRequest>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Role::BoxOffice)?;
    let into = match body.into_inner() {
        ExchangeRequest::Credit => ExchangeInto::Credit,
        ExchangeRequest::Performance { performance_id } => {
            ExchangeInto::Performance(performance_id)
        }
    };
    let ticket_id = ticket_id.into_inner();
    let receipt = run_blocking(move || exchanges::exchange(&encore, ticket_id, into)).await?;
    Ok(HttpResponse::Ok().json(receipt))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    name: String,
    email: String,
}

#[derive(Debug, Serialize)]
pub struct TransferView {
    pub id: i64,
    pub ticket_id: i64,
    pub generation: i32,
    pub from_name: String,
    pub from_email: String,
    pub to_name: String,
    pub to_email: String,
    pub status: String,
    pub offered_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub claimed_ticket_id: Option<i64>,
}

impl From<TransferRow> for TransferView {
    fn from(row: TransferRow) -> Self {
        TransferView {
            id: row.id,
            ticket_id: row.ticket_id,
            generation: row.generation,
            from_name: row.from_name,
            from_email: row.from_email,
            to_name: row.to_name,
            to_email: row.to_email,
            status: row.status,
            offered_at: row.offered_at.and_utc(),
            expires_at: row.expires_at.and_utc(),
            resolved_at: row.resolved_at.map(|t| t.and_utc()),
            claimed_ticket_id: row.claimed_ticket_id,
        }
    }
}

/// `POST /api/v1/tickets/{id}/transfer` (box_office): offer the ticket to a friend, who is
/// emailed a claim link. The ticket's QR stops admitting at once.
pub async fn transfer(
    staff: StaffKey,
    encore: web::Data<Encore>,
    ticket_id: web::Path<i64>,
    body: web::Json<TransferRequest>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Role::BoxOffice)?;
    let friend = transfers::Friend::parse(&body.name, &body.email)?;
    let ticket_id = ticket_id.into_inner();
    let offer = run_blocking(move || transfers::offer(&encore, ticket_id, friend)).await?;
    Ok(HttpResponse::Created().json(TransferView::from(offer)))
}

/// `POST /api/v1/tickets/{id}/transfer/cancel` (box_office): take the open offer back; the
/// ticket returns to its holder with a new generation (a new QR).
pub async fn cancel_transfer(
    staff: StaffKey,
    encore: web::Data<Encore>,
    ticket_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Role::BoxOffice)?;
    let ticket_id = ticket_id.into_inner();
    let view = run_blocking(move || {
        let ticket = transfers::cancel(&encore, ticket_id)?;
        let performance = events::get_performance(&encore.db, ticket.performance_id)?;
        let token = tickets::token_for(&encore, &ticket, &performance)?;
        Ok(TicketView::new(ticket, token))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /api/v1/tickets/{id}/transfers` (box_office): every offer made of the ticket.
pub async fn list_transfers(
    staff: StaffKey,
    encore: web::Data<Encore>,
    ticket_id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Role::BoxOffice)?;
    let ticket_id = ticket_id.into_inner();
    let offers = run_blocking(move || {
        tickets::get(&encore, ticket_id)?;
        encore
            .db
            .read(|conn| crate::db::transfers::of_ticket(conn, ticket_id).map_err(Error::from))
    })
    .await?;
    Ok(HttpResponse::Ok().json(
        offers
            .into_iter()
            .map(TransferView::from)
            .collect::<Vec<_>>(),
    ))
}

#[derive(Debug, Serialize)]
struct CreditEntryView {
    id: i64,
    currency: String,
    amount_minor: i64,
    reason: String,
    ticket_id: Option<i64>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<CreditEntryRow> for CreditEntryView {
    fn from(row: CreditEntryRow) -> Self {
        CreditEntryView {
            id: row.id,
            currency: row.currency,
            amount_minor: row.amount_minor,
            reason: row.reason,
            ticket_id: row.ticket_id,
            created_at: row.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize)]
struct CreditView {
    email: String,
    balances: Vec<credit::Balance>,
    ledger: Vec<CreditEntryView>,
}

/// `GET /api/v1/patrons/{email}/credit` (box_office): balances and the ledger behind them.
pub async fn patron_credit(
    staff: StaffKey,
    encore: web::Data<Encore>,
    email: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Role::BoxOffice)?;
    let email = EmailAddress::parse("email", &email)?;
    let found = run_blocking(move || credit::of_patron(&encore, &email)).await?;
    Ok(HttpResponse::Ok().json(CreditView {
        email: found.email,
        balances: found.balances,
        ledger: found
            .entries
            .into_iter()
            .map(CreditEntryView::from)
            .collect(),
    }))
}
