//! Staff authentication: `Authorization: Bearer enc_…` (or `X-Api-Key: enc_…`) → who and which role.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};

use super::error::ApiError;
use super::run_blocking;
use crate::domain::Role;
use crate::service::staff::{Authenticator, KeyCheck, Staff};
use crate::service::Encore;

/// An authenticated staff member. Handlers call [`StaffKey::require`] with the role they need.
#[derive(Debug, Clone)]
pub struct StaffKey(pub Staff);

impl StaffKey {
    pub fn require(&self, needed: Role) -> Result<&Staff, ApiError> {
        if self.0.role.permits(needed) {
            Ok(&self.0)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "This needs a key with the {} role; this key has the {} role.",
                    needed.as_str(),
                    self.0.role.as_str()
                ),
            ))
        }
    }
}

fn presented_key(req: &HttpRequest) -> Option<String> {
    let headers = req.headers();
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, key) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| key.trim().to_string());
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
}

impl FromRequest for StaffKey {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let key = presented_key(req);
        let encore = req.app_data::<web::Data<Encore>>().cloned();
        let authenticator = req.app_data::<web::Data<Authenticator>>().cloned();
        Box::pin(async move {
            let (Some(encore), Some(authenticator)) = (encore, authenticator) else {
                return Err(ApiError::internal());
            };
            let Some(key) = key.filter(|k| !k.is_empty()) else {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "An API key is required: send it as 'Authorization: Bearer <key>'.",
                ));
            };
            if let Some(staff) = authenticator.recently_verified(&key) {
                return Ok(StaffKey(staff));
            }
            match run_blocking(move || authenticator.authenticate(&encore.db, &key)).await? {
                KeyCheck::Valid(staff) => Ok(StaffKey(staff)),
                KeyCheck::Unknown => Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_api_key",
                    "This API key is not valid (unknown or revoked).",
                )),
                KeyCheck::Expired => Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "api_key_expired",
                    "This API key has expired; ask an admin for a new one.",
                )),
            }
        })
    }
}
