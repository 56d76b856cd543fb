//! The door without a network: the offline bundle and the upload of offline scans
//! (the contract the scanner page builds on: /work/team/DOOR_CONTRACT.md, docs/api.md
//! "Offline scanning").

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::keys::JwksView;
use super::scans::FirstAdmissionView;
use crate::domain::ids::PerformanceId;
use crate::domain::scan::DoorEntry;
use crate::domain::ScanOutcome;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::door::{self, BundleHolder, DoorCode, OfflineScan, Upload, UploadResult};
use crate::service::Encore;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BundleQuery {
    /// A bundle's `version`: only what changed after it.
    #[param(minimum = 0)]
    since: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
struct RefusedView<'a> {
    ticket_id: i64,
    generation: i32,
    status: &'a str,
}

impl<'a> From<&'a DoorEntry> for RefusedView<'a> {
    fn from(entry: &'a DoorEntry) -> Self {
        RefusedView {
            ticket_id: entry.ticket_id.0,
            generation: entry.generation,
            status: entry.status.as_str(),
        }
    }
}

/// A ticket that still admits: whom the scanner shows offline.
#[derive(Debug, Serialize, ToSchema)]
struct HolderView<'a> {
    ticket_id: i64,
    holder_name: &'a str,
    seat: Option<&'a str>,
    section: Option<&'a str>,
}

impl<'a> From<&'a BundleHolder> for HolderView<'a> {
    fn from(holder: &'a BundleHolder) -> Self {
        HolderView {
            ticket_id: holder.ticket_id.0,
            holder_name: &holder.holder_name,
            seat: holder.seat.as_deref(),
            section: holder.section.as_deref(),
        }
    }
}

/// A list written straight from the bundle's own records, each through its view: a bundle
/// holds one entry per ticket of the house, and no list of views is built beside it.
struct Each<'a, T, V>(&'a [T], fn(&'a T) -> V);

impl<'a, T, V: Serialize> Serialize for Each<'a, T, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(self.1))
    }
}

/// What a scanner needs to decide offline: the keys, and every ticket whose earlier tokens
/// must be refused.
#[derive(Serialize, ToSchema)]
struct BundleView<'a> {
    performance_id: i64,
    /// Pass it back as `since` to get only what changed after this bundle.
    version: i64,
    /// Whether `refused` is everything (true) or only the changes after `since`.
    complete: bool,
    keys: JwksView,
    #[schema(value_type = Vec<RefusedView>)]
    refused: Each<'a, DoorEntry, RefusedView<'a>>,
    /// Every ticket that still admits, with its holder and seat; in complete bundles only.
    #[schema(value_type = Vec<HolderView>)]
    holders: Each<'a, BundleHolder, HolderView<'a>>,
    /// How many tickets still admit now (a later bundle too): holders held in another number
    /// mean the scanner should ask for a complete bundle again.
    tickets: usize,
    starts_at: DateTime<Utc>,
    doors_open_at: DateTime<Utc>,
    /// Present when the performance's codes rotate: how to check them offline.
    rotating: Option<RotatingDoorView<'a>>,
}

/// How a scanner checks a rotating code `RC1:<performance>:<ticket>:<generation>:<period>:<totp>`
/// offline: the ticket's entry must be at the code's generation (an older one is `superseded`),
/// and the TOTP value (RFC 6238, HMAC-SHA1 over the entry's `key`, `digits` digits, a step of
/// `period_seconds` from the Unix epoch) must be that of now, give or take `leeway_steps` steps
/// (else `stale_code`); before `reveal_at` the code is `not_yet_valid`. A static code of the
/// performance is `static_code_not_accepted` unless its claims say `"paper": true`.
#[derive(Serialize, ToSchema)]
struct RotatingDoorView<'a> {
    period_seconds: u32,
    digits: u32,
    leeway_steps: u32,
    reveal_at: Option<DateTime<Utc>>,
    /// Every ticket of this performance that admits now, at its current generation.
    #[schema(value_type = Vec<RotatingTicketView>)]
    tickets: Each<'a, DoorCode, RotatingTicketView<'a>>,
}

#[derive(Serialize, ToSchema)]
struct RotatingTicketView<'a> {
    ticket_id: i64,
    generation: i32,
    /// The ticket's TOTP secret, Base16.
    #[schema(value_type = String)]
    key: Base16<'a>,
}

impl<'a> From<&'a DoorCode> for RotatingTicketView<'a> {
    fn from(code: &'a DoorCode) -> Self {
        RotatingTicketView {
            ticket_id: code.ticket_id.0,
            generation: code.generation,
            key: Base16(&code.secret),
        }
    }
}

/// A secret written in Base16 (lower case) on the stack, not in a `String` of its own.
struct Base16<'a>(&'a [u8; crate::domain::rotating::SECRET_BYTES]);

impl Serialize for Base16<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = [0u8; 2 * crate::domain::rotating::SECRET_BYTES];
        hex::encode_to_slice(self.0, &mut text).expect("twice the secret's length");
        serializer.serialize_str(std::str::from_utf8(&text).expect("hex is ASCII"))
    }
}

/// Roughly what one bundle entry takes in JSON: the buffer is sized once, not doubled as it
/// grows (a complete bundle of a large house runs to megabytes).
const BYTES_PER_ENTRY: usize = 96;

/// `GET /api/v1/performances/{id}/offline-bundle[?since=VERSION]` (scanner)
#[utoipa::path(get, path = "/api/v1/performances/{id}/offline-bundle",
    params(("id" = i64, Path, description = "The performance's id"), BundleQuery),
    responses((status = 200, body = BundleView), (status = 400), (status = 403)))]
pub async fn offline_bundle(
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
    query: web::Query<BundleQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, since) = (id.into_inner(), query.into_inner().since);
    if since.is_some_and(|v| v < 0) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "since: must be a version a bundle gave (a non-negative integer)",
        ));
    }
    let bundle = run_blocking(move || door::offline_bundle(&encore, id, since)).await?;
    let p = &bundle.performance;
    let codes = bundle.rotating.as_ref().map_or(&[][..], |r| &r.codes);
    let view = BundleView {
        performance_id: p.id.0,
        version: bundle.version,
        complete: bundle.complete,
        keys: JwksView::from(bundle.keys.clone()),
        refused: Each(&bundle.refused, RefusedView::from),
        holders: Each(&bundle.holders, HolderView::from),
        tickets: bundle.tickets,
        starts_at: p.starts_at(),
        doors_open_at: p.doors_open_at(),
        rotating: bundle.rotating.as_ref().map(|r| RotatingDoorView {
            period_seconds: r.period_seconds,
            digits: r.digits,
            leeway_steps: r.leeway_steps,
            reveal_at: r.revealed_at,
            tickets: Each(&r.codes, RotatingTicketView::from),
        }),
    };
    let entries = bundle.refused.len() + bundle.holders.len() + codes.len();
    let mut body = Vec::with_capacity(1024 + entries * BYTES_PER_ENTRY);
    serde_json::to_writer(&mut body, &view)
        .map_err(|e| ApiError::from(crate::service::Error::Internal(e.to_string())))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type(actix_web::http::header::ContentType::json())
        .body(body))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    #[schema(schema_with = super::schema::label_64, example = "scanner-7")]
    device: String,
    scans: Vec<ScanInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanInput {
    /// What the QR code carries: a signed token, or a rotating code (`RC1:…`).
    token: String,
    #[schema(schema_with = super::schema::label_64, example = "North")]
    gate: String,
    /// The device's own clock, RFC 3339.
    scanned_at: DateTime<Utc>,
    /// The device's refusal, if it refused the patron (described in `schema::optional_refusal`).
    #[serde(default)]
    #[schema(schema_with = super::schema::optional_refusal)]
    refused: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct UploadResultView<'a> {
    outcome: ScanOutcome,
    ticket_id: Option<i64>,
    holder_name: Option<&'a str>,
    first_admission: Option<FirstAdmissionView<'a>>,
    replayed: bool,
}

impl<'a> From<&'a UploadResult> for UploadResultView<'a> {
    fn from(r: &'a UploadResult) -> Self {
        UploadResultView {
            outcome: r.outcome,
            ticket_id: r.ticket_id.map(|id| id.0),
            holder_name: r.holder_name.as_deref(),
            first_admission: r.first_admission.as_ref().map(FirstAdmissionView::from),
            replayed: r.replayed,
        }
    }
}

/// The upload's outcome: one result per scan, in the upload's order.
#[derive(Debug, Serialize, ToSchema)]
struct UploadView<'a> {
    results: Vec<UploadResultView<'a>>,
    /// Results that are `admitted`.
    admitted: usize,
    /// Results that are `conflict` (admitted by this device and another).
    conflicts: usize,
    /// Results that are `clock_out_of_bounds` (the device's clock put the scan before its
    /// ticket was issued, after this upload, or outside the scan window): never admitted.
    clock_out_of_bounds: usize,
    /// Scans the device had refused (given with `refused`): recorded, never admitted.
    refused: usize,
}

/// `POST /api/v1/scans/batch` (scanner): scans made offline, merged idempotently.
#[utoipa::path(post, path = "/api/v1/scans/batch", request_body = UploadRequest,
    responses((status = 200, body = UploadView), (status = 403)))]
pub async fn upload(
    encore: web::Data<Encore>,
    body: web::Json<UploadRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let scans = body
        .scans
        .into_iter()
        .map(|s| OfflineScan {
            token: s.token,
            gate: s.gate,
            scanned_at: s.scanned_at,
            refused: s.refused,
        })
        .collect();
    let upload = Upload::parse(&body.device, scans)?;
    let summary = run_blocking(move || door::upload(&encore, upload)).await?;
    Ok(HttpResponse::Ok().json(UploadView {
        results: summary.results.iter().map(UploadResultView::from).collect(),
        admitted: summary.admitted,
        conflicts: summary.conflicts,
        clock_out_of_bounds: summary.clock_out_of_bounds,
        refused: summary.refused,
    }))
}
