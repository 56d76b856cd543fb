use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::domain::ids::PerformanceId;
use crate::domain::ScanOutcome;
use crate::http::error::ApiError;
use crate::service::scans::{self, FirstAdmission, Scan, ScanResult};
use crate::service::{Encore, Error};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// What the QR code carries: a signed token (static or paper), or a rotating code
    /// (`RC1:<performance>:<ticket>:<generation>:<period>:<totp>`).
    token: String,
    #[schema(schema_with = super::schema::label_64, example = "North")]
    gate: String,
    #[schema(schema_with = super::schema::label_64, example = "scanner-7")]
    device: String,
    /// The performance this door admits to; tickets for another are refused.
    #[serde(default)]
    performance_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FirstAdmissionView<'a> {
    at: DateTime<Utc>,
    gate: &'a str,
}

impl<'a> From<&'a FirstAdmission> for FirstAdmissionView<'a> {
    fn from(first: &'a FirstAdmission) -> Self {
        FirstAdmissionView {
            at: first.at,
            gate: &first.gate,
        }
    }
}

/// The door's answer, admitted or not.
#[derive(Debug, Serialize, ToSchema)]
struct ScanView<'a> {
    admitted: bool,
    outcome: ScanOutcome,
    /// The same as `outcome`, so every non-2xx body carries the API's usual `code`.
    code: ScanOutcome,
    message: &'static str,
    ticket_id: Option<i64>,
    performance_id: Option<i64>,
    holder_name: Option<&'a str>,
    seat: Option<&'a str>,
    section: Option<&'a str>,
    first_admission: Option<FirstAdmissionView<'a>>,
    scanned_at: DateTime<Utc>,
}

/// The outcome's schema is its codes, straight from the domain.
impl utoipa::PartialSchema for ScanOutcome {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ScanOutcome::ALL.map(ScanOutcome::code)))
            .into()
    }
}

impl ToSchema for ScanOutcome {}

/// The status tells the class of answer at a glance: 200 admitted; 409 the ticket's state
/// refuses (already admitted, superseded, canceled, exchanged, transferred); 404 no such
/// ticket; 422 the token itself is unusable here (signature, key, shape, window, performance).
fn status_of(outcome: ScanOutcome) -> StatusCode {
    match outcome {
        ScanOutcome::Admitted => StatusCode::OK,
        ScanOutcome::UnknownTicket => StatusCode::NOT_FOUND,
        o if o.is_ticket_state() => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// `POST /api/v1/scans` (scanner): admit or refuse, and record the attempt either way.
#[utoipa::path(post, path = "/api/v1/scans", request_body = ScanRequest, responses(
    (status = 200, body = ScanView, description = "Admitted"),
    (status = 404, body = ScanView, description = "No such ticket (`unknown_ticket`)"),
    (status = 409, body = ScanView, description = "The ticket's state refuses"),
    (status = 422, body = ScanView, description = "The token is unusable here"),
    (status = 403)))]
pub async fn scan(
    encore: web::Data<Encore>,
    body: web::Json<ScanRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let scan = Scan::parse(
        body.token,
        &body.gate,
        &body.device,
        body.performance_id.map(PerformanceId),
    )
    .map_err(Error::from)?;
    let result: ScanResult = scans::scan(&encore, scan).await.map_err(ApiError::from)?;
    Ok(
        HttpResponse::build(status_of(result.outcome)).json(ScanView {
            admitted: result.outcome.is_admitted(),
            outcome: result.outcome,
            code: result.outcome,
            message: result.outcome.message(),
            ticket_id: result.ticket_id.map(|id| id.0),
            performance_id: result.performance_id.map(|id| id.0),
            holder_name: result.holder_name.as_deref(),
            seat: result.seat.as_deref(),
            section: result.section.as_deref(),
            first_admission: result
                .first_admission
                .as_ref()
                .map(FirstAdmissionView::from),
            scanned_at: result.scanned_at,
        }),
    )
}
