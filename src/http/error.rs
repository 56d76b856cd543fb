//! The one place where errors become HTTP answers.
//!
//! Every error body has the same shape, served as `application/problem+json`:
//! `{"status": 422, "code": "validation_failed", "message": "holder_email: …", "field": "holder_email"}`.
//! `code` is stable and machine-readable; `message` is for people. A 500 says nothing of its
//! cause: the full error goes to the log instead.

use std::io::ErrorKind;

use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use crate::service;

/// An error, as `application/problem+json`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ApiError {
    /// The HTTP status, repeated.
    #[serde(serialize_with = "serialize_status")]
    #[schema(value_type = u16, example = 422)]
    pub status: StatusCode,
    /// Stable and machine-readable.
    #[schema(example = "validation_failed")]
    pub code: &'static str,
    /// For people.
    #[schema(example = "holder_email: not an email address")]
    pub message: String,
    /// The input field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "holder_email")]
    pub field: Option<&'static str>,
    /// Seconds until the request may be made again (a `Retry-After` header, not in the body).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

fn serialize_status<S: serde::Serializer>(status: &StatusCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u16(status.as_u16())
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal Server Error",
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        response.json(self)
    }
}

impl From<service::Error> for ApiError {
    fn from(error: service::Error) -> Self {
        use service::Error as E;
        match error {
            E::Invalid(invalid) => ApiError {
                field: Some(invalid.field),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    invalid.to_string(),
                )
            },
            E::NotFound { .. } => ApiError::not_found(error.to_string()),
            E::SoldOut { .. } => ApiError::new(StatusCode::CONFLICT, "sold_out", error.to_string()),
            E::IdempotencyKeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                error.to_string(),
            ),
            E::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            E::Refused(refusal) => {
                ApiError::new(StatusCode::CONFLICT, refusal.code(), refusal.to_string())
            }
            E::Unavailable(e) => {
                tracing::error!(error = %e, "database pool unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "The database is unavailable; try again shortly.",
                )
            }
            E::Database(e) => from_database_error(e),
            E::Unwritten(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "scan_not_recorded",
                "The scan may not have been recorded; scan again to see the ticket's state.",
            ),
            E::WalletUnauthorized => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wallet_unauthorized",
                error.to_string(),
            ),
            E::LinkSuperseded => {
                ApiError::new(StatusCode::GONE, "link_superseded", error.to_string())
            }
            E::TooManyOffers { retry_after } => ApiError {
                retry_after: Some(retry_after.num_seconds().max(1) as u64),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_offers",
                    error.to_string(),
                )
            },
            E::Keys(_) | E::Internal(_) => {
                tracing::error!(error = %error, "internal error");
                ApiError::internal()
            }
        }
    }
}

impl From<crate::domain::Invalid> for ApiError {
    fn from(invalid: crate::domain::Invalid) -> Self {
        service::Error::from(invalid).into()
    }
}

fn from_database_error(error: DieselError) -> ApiError {
    match &error {
        DieselError::NotFound => ApiError::not_found("Not found."),
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "This conflicts with something that already exists.",
        ),
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
            tracing::error!(error = %error, "database connection closed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "The database is unavailable; try again shortly.",
            )
        }
        DieselError::DatabaseError(_, info) if info.message().contains("database is locked") => {
            tracing::warn!(error = %error, "database busy");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_busy",
                "The database is busy; try again shortly.",
            )
        }
        _ => {
            tracing::error!(error = %error, "database error");
            ApiError::internal()
        }
    }
}

/// Bad JSON bodies: too large (413), not JSON (415), not parseable (400), or the wrong shape (422).
pub fn json_error(error: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api_error = match &error {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The request body is larger than {limit} bytes."),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The request body must be JSON (Content-Type: application/json).",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("The request body does not have the expected shape: {e}"),
        ),
        JsonPayloadError::Deserialize(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("The request body is not valid JSON: {e}"),
        ),
        JsonPayloadError::Payload(PayloadError::Io(e)) if e.kind() == ErrorKind::TimedOut => {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "The request body was not received in time.",
            )
        }
        other => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", other.to_string()),
    };
    api_error.into()
}

/// A path segment that cannot be an id names nothing.
pub fn path_error(error: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::not_found(format!("No such resource: {error}")).into()
}

pub fn query_error(error: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", error.to_string()).into()
}

/// Any route the service does not have.
pub async fn no_such_route(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    // A person's browser asking for a page gets a page; the API (and any other client) JSON.
    if !req.path().starts_with("/api/") && wants_html(&req) {
        return Ok(super::pages::not_found());
    }
    Err(ApiError::not_found("No such route."))
}

/// Whether the client asked for HTML (a browser navigating), not JSON.
fn wants_html(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A route the service has, asked with a method it does not answer: 405 with `Allow`.
pub fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut response = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("This route answers {allow} only."),
    )
    .error_response();
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}
