//! Liveness and readiness for orchestrators and load balancers.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use crate::service::readiness::{self, Readiness};
use crate::service::Encore;

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    #[schema(example = "ok")]
    status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyView {
    #[schema(example = "ready")]
    status: &'static str,
    /// The database backend: `sqlite` or `postgres`.
    database: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", security(()),
    responses((status = 200, body = HealthView)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthView { status: "ok" })
}

/// The process can serve: its database answers and a write can start (on SQLite, no other
/// connection holds the write lock).
#[utoipa::path(get, path = "/readyz", tag = "ops", security(()),
    responses((status = 200, body = ReadyView), (status = 503)))]
pub async fn readyz(encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    match web::block(move || readiness::check(&encore)).await {
        Ok(Readiness::Ready { database }) => Ok(HttpResponse::Ok().json(ReadyView {
            status: "ready",
            database,
        })),
        Ok(Readiness::WriteLocked) => {
            tracing::warn!("readiness check: the database is write-locked");
            Err(ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "database_busy",
                "The database is write-locked by another connection; no write can start.",
            ))
        }
        Ok(Readiness::Unavailable(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "The database does not answer.",
            ))
        }
        Err(_) => Err(ApiError::internal()),
    }
}
