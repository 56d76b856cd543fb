//! The `Idempotency-Key` header of the staff writes that take one: issuing, and the changes
//! (exchange, transfer, taking an offer back, cancel). Read here, once for all of them, and
//! handed to the service, which claims the key, stores the answer and replays it to a retry
//! (`service::idempotency`); [`write`] answers either way.

use actix_web::http::header::ContentType;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::http::auth::StaffKey;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::idempotency::{IdempotencyKey, Idempotent, Reply};
use crate::service::{self, Error};

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

/// How a staff write's result is answered: `status`, with `view` of it.
pub fn reply<T, V>(status: StatusCode, view: fn(T) -> V) -> Reply<T, V> {
    Reply {
        status: status.as_u16(),
        view,
    }
}

/// Makes a staff write off the async threads (a service function that runs it under the
/// request's key, `service::idempotency::once`) and answers as it says: with the view of what
/// it did, or, to a retry, the first request's answer as stored, marked replayed.
pub async fn write<V>(
    write: impl FnOnce() -> service::Result<Idempotent<V>> + Send + 'static,
) -> Result<HttpResponse, ApiError>
where
    V: Serialize + Send + 'static,
{
    let status = |code: u16| StatusCode::from_u16(code).map_err(|_| ApiError::internal());
    Ok(match run_blocking(write).await? {
        Idempotent::Made { status: code, view } => HttpResponse::build(status(code)?).json(view),
        Idempotent::Replayed { status: code, body } => HttpResponse::build(status(code)?)
            .insert_header((REPLAYED, "true"))
            .content_type(ContentType::json())
            .body(body),
    })
}
