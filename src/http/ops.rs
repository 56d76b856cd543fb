//! Liveness and readiness for orchestrators and load balancers.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::error::ApiError;
use crate::service::Encore;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The process can serve: its database answers.
pub async fn readyz(encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    let db = encore.db.clone();
    let backend = db.backend().name();
    match web::block(move || db.ping()).await {
        Ok(Ok(())) => {
            Ok(HttpResponse::Ok().json(json!({ "status": "ready", "database": backend })))
        }
        Ok(Err(e)) => {
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
