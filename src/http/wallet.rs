//! Apple's PassKit web service, under `/wallet/apple` (the pass's `webServiceURL`): devices
//! that hold a ticket's pass register for its changes, ask which of their passes changed, fetch
//! the latest one, and send their logs. Each request about a pass carries the pass's
//! authentication token (`Authorization: ApplePass <token>`); the rules are in
//! `service::wallet`.

use actix_web::http::header::{self, HttpDate};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::run_blocking;
use crate::service::wallet::{self, PassRequest};
use crate::service::Encore;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/wallet/apple/v1/devices/{device}/registrations/{pass_type}/{serial}")
            .route(web::post().to(register))
            .route(web::delete().to(unregister)),
    )
    .route(
        "/wallet/apple/v1/devices/{device}/registrations/{pass_type}",
        web::get().to(updated_serials),
    )
    .route(
        "/wallet/apple/v1/passes/{pass_type}/{serial}",
        web::get().to(latest_pass),
    )
    .route("/wallet/apple/v1/log", web::post().to(log));
}

#[derive(Deserialize)]
struct Registration {
    device: String,
    pass_type: String,
    serial: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushToken {
    push_token: String,
}

fn authorization(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

/// `POST …/devices/{device}/registrations/{pass_type}/{serial}` with `{"pushToken": …}`:
/// 201 when the device is new to the pass, 200 when it was already registered.
async fn register(
    req: HttpRequest,
    encore: web::Data<Encore>,
    path: web::Path<Registration>,
    body: web::Json<PushToken>,
) -> Result<HttpResponse, ApiError> {
    let auth = authorization(&req);
    let Registration {
        device,
        pass_type,
        serial,
    } = path.into_inner();
    let created = run_blocking(move || {
        let request = PassRequest {
            pass_type_id: &pass_type,
            serial_number: &serial,
            authorization: auth.as_deref(),
        };
        wallet::register_device(&encore, &device, &request, &body.push_token)
    })
    .await?;
    Ok(HttpResponse::build(if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
    .finish())
}

/// `DELETE …/devices/{device}/registrations/{pass_type}/{serial}`: 200.
async fn unregister(
    req: HttpRequest,
    encore: web::Data<Encore>,
    path: web::Path<Registration>,
) -> Result<HttpResponse, ApiError> {
    let auth = authorization(&req);
    let Registration {
        device,
        pass_type,
        serial,
    } = path.into_inner();
    run_blocking(move || {
        let request = PassRequest {
            pass_type_id: &pass_type,
            serial_number: &serial,
            authorization: auth.as_deref(),
        };
        wallet::unregister_device(&encore, &device, &request)
    })
    .await?;
    Ok(HttpResponse::Ok().finish())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Since {
    passes_updated_since: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpdatedSerials {
    serial_numbers: Vec<String>,
    last_updated: String,
}

/// `GET …/devices/{device}/registrations/{pass_type}?passesUpdatedSince=tag`: the serial
/// numbers that changed since the tag, or 204 when none did.
async fn updated_serials(
    encore: web::Data<Encore>,
    path: web::Path<(String, String)>,
    since: web::Query<Since>,
) -> Result<HttpResponse, ApiError> {
    let (device, pass_type) = path.into_inner();
    let since = since.into_inner().passes_updated_since;
    let updated = run_blocking(move || {
        wallet::updated_serials(&encore, &device, &pass_type, since.as_deref())
    })
    .await?;
    Ok(match updated {
        Some((serial_numbers, last_updated)) => HttpResponse::Ok().json(UpdatedSerials {
            serial_numbers,
            last_updated,
        }),
        None => HttpResponse::NoContent().finish(),
    })
}

/// `GET …/passes/{pass_type}/{serial}`: the latest pass, with `Last-Modified`; 304 when it has
/// not changed since the wallet's `If-Modified-Since`.
async fn latest_pass(
    req: HttpRequest,
    encore: web::Data<Encore>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let auth = authorization(&req);
    let (pass_type, serial) = path.into_inner();
    let (pass, updated_at) = run_blocking(move || {
        let request = PassRequest {
            pass_type_id: &pass_type,
            serial_number: &serial,
            authorization: auth.as_deref(),
        };
        wallet::latest_apple_pass(&encore, &request)
    })
    .await?;
    // HTTP dates have whole seconds: the pass is unchanged if it changed within the second the
    // wallet already has.
    let modified = std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_secs(updated_at.timestamp().max(0) as u64);
    let unchanged = req
        .headers()
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<HttpDate>().ok())
        .is_some_and(|since| std::time::SystemTime::from(since) >= modified);
    if unchanged {
        return Ok(HttpResponse::NotModified().finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.apple.pkpass")
        .insert_header((header::LAST_MODIFIED, HttpDate::from(modified)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(pass))
}

#[derive(Deserialize)]
struct Logs {
    logs: Vec<String>,
}

/// `POST …/log` with `{"logs": […]}`: what the device reports about our passes, logged.
async fn log(body: web::Json<Logs>) -> HttpResponse {
    for line in body.into_inner().logs.iter().take(100) {
        tracing::warn!(target: "encore::wallet", message = %line, "Apple Wallet device log");
    }
    HttpResponse::Ok().finish()
}
