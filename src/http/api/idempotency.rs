//! The `Idempotency-Key` header of the staff writes that take one: issuing, and the changes
//! (exchange, transfer, taking an offer back, cancel). Read here, once for all of them; the
//! service claims the key and replays the first answer (`service::idempotency`).

use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::Conn;
use crate::http::auth::StaffKey;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::idempotency::{self, IdempotencyKey};
use crate::service::{self, Encore, Error};

/// The request header.
pub const HEADER: &str = "Idempotency-Key";

/// Set to `true` on an answer replayed from the first request made under the key.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// The header as the OpenAPI document shows it, on each operation that takes it
/// (`params(…, IdempotencyKeyHeader)`); `openapi.rs` adds the replay header to its answers.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // only described: [`key`] reads the header
pub struct IdempotencyKeyHeader {
    /// Chosen by the client, one per intended request (per API key). A retry with the same key
    /// and the same request is answered as the first one was, marked `Idempotent-Replayed:
    /// true`, and changes nothing; the same key with another request is 422
    /// `idempotency_key_reused`. A refused request does not use up its key.
    #[param(rename = "Idempotency-Key", required = false)]
    #[param(min_length = 1, max_length = 255, pattern = "^[!-~]+$")]
    idempotency_key: String,
}

/// The request's `Idempotency-Key`, if it sent one, bound to this key holder and a fingerprint
/// of the request: its path, the resource `id` in it, and its body. Every route that takes a
/// key answers POST only, so the path names the operation.
pub fn key(
    req: &HttpRequest,
    staff: &StaffKey,
    id: i64,
    body: &impl Serialize,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("\u{0}");
    let mut hasher = Sha256::new();
    hasher.update(req.path().as_bytes());
    hasher.update(id.to_le_bytes());
    hasher.update(serde_json::to_vec(body).map_err(|_| ApiError::internal())?);
    let fingerprint = hex::encode(hasher.finalize());
    IdempotencyKey::parse(staff.0.key_id, key, fingerprint)
        .map(Some)
        .map_err(|e| ApiError::from(Error::from(e)))
}

/// Marks an answer replayed from the first request.
pub fn mark_replayed(response: &mut HttpResponseBuilder, replayed: bool) {
    if replayed {
        response.insert_header((REPLAYED, "true"));
    }
}

/// Makes a staff change off the async threads, under the request's key if it sent one
/// (`service::idempotency::run_change`), and answers `status` with the view `change` returns —
/// or, to a retry, the first request's answer, marked replayed.
pub async fn change<T, F>(
    encore: web::Data<Encore>,
    key: Option<IdempotencyKey>,
    status: StatusCode,
    change: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize,
    F: FnOnce(&Encore, &mut Conn<'_>) -> service::Result<T> + Send + 'static,
{
    let answer = run_blocking(move || {
        idempotency::run_change(&encore, key.as_ref(), status.as_u16(), |conn| {
            change(&encore, conn)
        })
    })
    .await?;
    let status = StatusCode::from_u16(answer.status).map_err(|_| ApiError::internal())?;
    let mut response = HttpResponse::build(status);
    mark_replayed(&mut response, answer.replayed);
    Ok(response.content_type(ContentType::json()).body(answer.body))
}
