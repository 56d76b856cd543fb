//! The box office acting for a patron (on the phone): exchange, transfer, cancel an offer, and
//! a patron's credit. The same services, and so the same rules, as the patron's own pages.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::idempotency::{self, IdempotencyKeyHeader};
use super::views::TicketView;
use crate::domain::credit::CreditEntry;
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::offer::Offer;
use crate::domain::EmailAddress;
use crate::http::auth::StaffKey;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::exchanges::{self, ExchangeInto};
use crate::service::{credit, transfers, Encore};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "into", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExchangeRequest {
    Credit,
    Performance { performance_id: i64 },
}

/// `POST /api/v1/tickets/{id}/exchange` (box_office): `{"into": "credit"}` or
/// `{"into": "performance", "performance_id": 7}`. Answers with the receipt.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/exchange", params(("id" = i64, Path, description = "The ticket's id"), IdempotencyKeyHeader),
    request_body = ExchangeRequest,
    responses((status = 200, body = ReceiptView), (status = 403), (status = 409)))]
pub async fn exchange(
    staff: StaffKey,
    req: HttpRequest,
    encore: web::Data<Encore>,
    ticket_id: web::Path<TicketId>,
    body: web::Json<ExchangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = ticket_id.into_inner();
    let key = idempotency::key(&req, &staff, ticket_id.0, &*body)?;
    let into = match body.into_inner() {
        ExchangeRequest::Credit => ExchangeInto::Credit,
        ExchangeRequest::Performance { performance_id } => {
            ExchangeInto::Performance(PerformanceId(performance_id))
        }
    };
    let reply = idempotency::reply(StatusCode::OK, ReceiptView::from);
    let by = staff.actor();
    idempotency::write(move || {
        exchanges::exchange_at_box_office(&encore, key.as_ref(), ticket_id, into, &by, reply)
    })
    .await
}

/// What an exchange did, in the ticket's currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    ticket_id: i64,
    currency: String,
    /// What the ticket was bought for.
    price_minor: i64,
    /// Kept by the event's policy.
    fee_minor: i64,
    /// The price less the fee.
    value_minor: i64,
    /// Credit added for the old ticket (its value).
    credited_minor: i64,
    /// Credit spent on the new ticket (its price), when exchanged into a performance.
    spent_minor: i64,
    new_ticket_id: Option<i64>,
    /// The patron's balance in this currency afterwards.
    balance_minor: i64,
}

impl From<exchanges::Receipt> for ReceiptView {
    fn from(r: exchanges::Receipt) -> Self {
        ReceiptView {
            ticket_id: r.ticket_id.0,
            currency: r.currency,
            price_minor: r.value.price_minor,
            fee_minor: r.value.fee_minor,
            value_minor: r.value.value_minor,
            credited_minor: r.credited_minor,
            spent_minor: r.spent_minor,
            new_ticket_id: r.new_ticket_id.map(|id| id.0),
            balance_minor: r.balance_minor,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    #[schema(schema_with = super::schema::label_200, example = "Grace Hopper")]
    name: String,
    #[schema(format = "email", example = "grace@example.com")]
    email: String,
}

#[derive(Debug, Serialize, ToSchema)]
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

impl From<Offer> for TransferView {
    fn from(offer: Offer) -> Self {
        TransferView {
            id: offer.id.0,
            ticket_id: offer.ticket_id.0,
            generation: offer.generation,
            from_name: offer.from.name,
            from_email: offer.from.email,
            to_name: offer.to.name,
            to_email: offer.to.email,
            status: offer.status.as_str().into(),
            offered_at: offer.offered_at,
            expires_at: offer.expires_at,
            resolved_at: offer.resolved_at,
            claimed_ticket_id: offer.claimed_ticket_id.map(|id| id.0),
        }
    }
}

/// `POST /api/v1/tickets/{id}/transfer` (box_office): offer the ticket to a friend, who is
/// emailed a claim link. The ticket's QR stops admitting at once.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/transfer", params(("id" = i64, Path, description = "The ticket's id"), IdempotencyKeyHeader),
    request_body = TransferRequest,
    responses((status = 201, body = TransferView), (status = 403), (status = 409), (status = 422)))]
pub async fn transfer(
    staff: StaffKey,
    req: HttpRequest,
    encore: web::Data<Encore>,
    ticket_id: web::Path<TicketId>,
    body: web::Json<TransferRequest>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = ticket_id.into_inner();
    let key = idempotency::key(&req, &staff, ticket_id.0, &*body)?;
    let friend = transfers::Friend::parse(&body.name, &body.email)?;
    let reply = idempotency::reply(StatusCode::CREATED, TransferView::from);
    let by = staff.actor();
    idempotency::write(move || {
        transfers::offer_at_box_office(&encore, key.as_ref(), ticket_id, &friend, &by, reply)
    })
    .await
}

/// `POST /api/v1/tickets/{id}/transfer/cancel` (box_office): take the open offer back; the
/// ticket returns to its holder with a new generation (a new QR).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/transfer/cancel", params(("id" = i64, Path, description = "The ticket's id"), IdempotencyKeyHeader),
    responses((status = 200, body = TicketView), (status = 403), (status = 409)))]
pub async fn cancel_transfer(
    staff: StaffKey,
    req: HttpRequest,
    encore: web::Data<Encore>,
    ticket_id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = ticket_id.into_inner();
    let key = idempotency::key(&req, &staff, ticket_id.0, &())?;
    let reply = idempotency::reply(StatusCode::OK, TicketView::from);
    let by = staff.actor();
    idempotency::write(move || {
        transfers::cancel_at_box_office(&encore, key.as_ref(), ticket_id, &by, reply)
    })
    .await
}

/// `GET /api/v1/tickets/{id}/transfers` (box_office): every offer made of the ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/transfers", params(("id" = i64, Path, description = "The ticket's id")),
    responses((status = 200, body = Vec<TransferView>), (status = 403)))]
pub async fn list_transfers(
    encore: web::Data<Encore>,
    ticket_id: web::Path<TicketId>,
) -> Result<HttpResponse, ApiError> {
    let ticket_id = ticket_id.into_inner();
    let offers = run_blocking(move || transfers::of_ticket(&encore, ticket_id)).await?;
    Ok(HttpResponse::Ok().json(
        offers
            .into_iter()
            .map(TransferView::from)
            .collect::<Vec<_>>(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditEntryView {
    id: i64,
    currency: String,
    amount_minor: i64,
    reason: String,
    ticket_id: Option<i64>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<CreditEntry> for CreditEntryView {
    fn from(entry: CreditEntry) -> Self {
        CreditEntryView {
            id: entry.id,
            currency: entry.currency.as_str().into(),
            amount_minor: entry.amount_minor,
            reason: entry.reason.as_str().into(),
            ticket_id: entry.ticket_id.map(|id| id.0),
            created_at: entry.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceView {
    currency: String,
    balance_minor: i64,
}

impl From<credit::Balance> for BalanceView {
    fn from(b: credit::Balance) -> Self {
        BalanceView {
            currency: b.currency,
            balance_minor: b.balance_minor,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditView {
    email: String,
    balances: Vec<BalanceView>,
    ledger: Vec<CreditEntryView>,
}

impl From<credit::PatronCredit> for CreditView {
    fn from(found: credit::PatronCredit) -> Self {
        CreditView {
            email: found.email,
            balances: found.balances.into_iter().map(BalanceView::from).collect(),
            ledger: found
                .entries
                .into_iter()
                .map(CreditEntryView::from)
                .collect(),
        }
    }
}

/// `GET /api/v1/patrons/{email}/credit` (box_office): balances and the ledger behind them.
#[utoipa::path(get, path = "/api/v1/patrons/{email}/credit",
    params(("email" = String, Path, format = "email", description = "The patron's email address")),
    responses((status = 200, body = CreditView), (status = 403), (status = 422)))]
pub async fn patron_credit(
    encore: web::Data<Encore>,
    email: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let email = EmailAddress::parse("email", &email)?;
    let found = run_blocking(move || credit::of_patron(&encore, &email)).await?;
    Ok(HttpResponse::Ok().json(CreditView::from(found)))
}
