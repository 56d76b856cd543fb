//! Staff authentication: `Authorization: Bearer enc_…` (or `X-Api-Key: enc_…`) → who and which role.
//!
//! The route table names what each route needs ([`Access`]); [`Authorize`] wraps every staff
//! route and answers 401 or 403 before the handler's extractors run, so nobody without the
//! right key learns anything about a route's input (not even that a body was malformed).
//! A handler that needs to know who is calling takes a [`StaffKey`], read from what
//! [`Authorize`] left in the request.

use std::future::{ready, Ready};
use std::rc::Rc;

use actix_web::body::BoxBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures::future::{Either, LocalBoxFuture};

use super::error::ApiError;
use super::run_blocking;
use crate::domain::actor::Actor;
use crate::domain::Role;
use crate::service::staff::{Authenticator, KeyCheck, Staff};
use crate::service::Encore;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, with or without a key.
    Public,
    /// Any live staff key, whatever its role.
    AnyStaff,
    /// A key whose role permits this one (`admin` permits every role).
    Needs(Role),
}

/// The authenticated staff member of a request that passed [`Authorize`].
#[derive(Debug, Clone)]
pub struct StaffKey(pub Staff);

impl FromRequest for StaffKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        ready(match req.extensions().get::<Staff>() {
            Some(staff) => Ok(StaffKey(staff.clone())),
            None => {
                // A route table mistake (a public route whose handler wants a key), not the
                // caller's: refuse rather than serve it unauthenticated.
                tracing::error!(path = req.path(), "StaffKey on a route without Authorize");
                Err(ApiError::internal())
            }
        })
    }
}

impl StaffKey {
    /// The key as the author of the changes it makes.
    pub fn actor(&self) -> Actor {
        Actor::ApiKey {
            name: self.0.name.clone(),
            role: self.0.role,
        }
    }
}

/// The key the request presents, if any, as sent (trimmed).
fn presented_key(req: &HttpRequest) -> Option<&str> {
    let headers = req.headers();
    let key = match headers.get(header::AUTHORIZATION) {
        Some(value) => {
            let (scheme, key) = value.to_str().ok()?.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(key)?
        }
        None => headers.get("x-api-key")?.to_str().ok()?,
    };
    Some(key.trim()).filter(|k| !k.is_empty())
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "An API key is required: send it as 'Authorization: Bearer <key>'.",
    )
}

fn invalid_key() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
        "This API key is not valid (unknown or revoked).",
    )
}

fn expired_key() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "api_key_expired",
        "This API key has expired; ask an admin for a new one.",
    )
}

fn forbidden(staff: &Staff, needed: Role) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!(
            "This needs a key with the {} role; this key has the {} role.",
            needed.as_str(),
            staff.role.as_str()
        ),
    )
}

/// `Ok` if `staff` may call a route that needs `access`.
fn authorize(staff: &Staff, access: Access) -> Result<(), ApiError> {
    match access {
        Access::Needs(needed) if !staff.role.permits(needed) => Err(forbidden(staff, needed)),
        _ => Ok(()),
    }
}

/// Route middleware: authenticates the request's key (from the [`Authenticator`]'s memory when
/// it can, which is the door's hot path: no query, no boxed future) and checks its role, then
/// hands the request on with the [`Staff`] in its extensions.
#[derive(Debug, Clone, Copy)]
pub struct Authorize(pub Access);

impl<S> Transform<S, ServiceRequest> for Authorize
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>
        + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = AuthorizeService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthorizeService {
            service: Rc::new(service),
            access: self.0,
        }))
    }
}

pub struct AuthorizeService<S> {
    service: Rc<S>,
    access: Access,
}

type Answer = Result<ServiceResponse<BoxBody>, actix_web::Error>;

impl<S> Service<ServiceRequest> for AuthorizeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>
        + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = Either<S::Future, LocalBoxFuture<'static, Answer>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let access = self.access;
        let Some(authenticator) = req.app_data::<web::Data<Authenticator>>().cloned() else {
            return refuse(req, ApiError::internal());
        };
        let Some(key) = presented_key(req.request()) else {
            return refuse(req, unauthenticated());
        };
        if let Some(staff) = authenticator.recently_verified(key) {
            if let Err(e) = authorize(&staff, access) {
                return refuse(req, e);
            }
            req.extensions_mut().insert(staff);
            return Either::Left(self.service.call(req));
        }
        // Not remembered: ask the database, off the async threads.
        let key = key.to_string();
        let service = Rc::clone(&self.service);
        Either::Right(Box::pin(async move {
            let Some(encore) = req.app_data::<web::Data<Encore>>().cloned() else {
                return Ok(req.error_response(ApiError::internal()));
            };
            let check = run_blocking(move || authenticator.authenticate(&encore.db, &key)).await;
            let staff = match check {
                Ok(KeyCheck::Valid(staff)) => staff,
                Ok(KeyCheck::Unknown) => return Ok(req.error_response(invalid_key())),
                Ok(KeyCheck::Expired) => return Ok(req.error_response(expired_key())),
                Err(e) => return Ok(req.error_response(e)),
            };
            if let Err(e) = authorize(&staff, access) {
                return Ok(req.error_response(e));
            }
            req.extensions_mut().insert(staff);
            service.call(req).await
        }))
    }
}

fn refuse<F>(req: ServiceRequest, error: ApiError) -> Either<F, LocalBoxFuture<'static, Answer>> {
    Either::Right(Box::pin(ready(Ok(req.error_response(error)))))
}
