//! Staff accounts and API keys (admin): what `encore staff` and `encore keys` do, over HTTP,
//! through the same services as the CLI and the console's Staff page. A new key and a new
//! account's set-password link are in the answer that creates them, and nowhere else.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

use crate::domain::ids::ApiKeyId;
use crate::domain::role::ApiKey;
use crate::domain::staff::{Password, StaffAccount};
use crate::domain::{Invalid, Role};
use crate::http::auth::StaffKey;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::{accounts, staff, Encore};

/// The roles, as the API names them.
fn role_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["admin", "box_office", "scanner"]))
        .build()
}

/// The longest expiry a key may be given: ten years.
const MAX_EXPIRES_IN_SECONDS: i64 = 10 * 365 * 86_400;

/// A staff account (never its password or its hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffAccountView {
    id: i64,
    email: String,
    name: String,
    #[schema(schema_with = role_schema)]
    role: &'static str,
    /// Whether a password is set (else the account waits for its set-password link).
    has_password: bool,
    created_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
    /// Only in the answer that creates an account without a password: the one-time link
    /// (24 hours) with which its owner sets one. Never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    set_password_url: Option<String>,
}

impl From<StaffAccount> for StaffAccountView {
    fn from(a: StaffAccount) -> Self {
        StaffAccountView {
            id: a.id.0,
            email: a.email,
            name: a.display_name,
            role: a.role.as_str(),
            has_password: a.has_password,
            created_at: a.created_at,
            disabled_at: a.disabled_at,
            set_password_url: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaff {
    #[schema(example = "ada@example.org")]
    email: String,
    #[schema(example = "Ada Lovelace", min_length = 1, max_length = 100)]
    name: String,
    #[schema(schema_with = role_schema)]
    role: Role,
    /// 15 to 128 characters. Without it the answer carries `set_password_url`.
    #[schema(min_length = 15, max_length = 128)]
    password: Option<String>,
}

/// `GET /api/v1/staff` (admin): every staff account.
#[utoipa::path(get, path = "/api/v1/staff",
    responses((status = 200, body = Vec<StaffAccountView>), (status = 403)))]
pub async fn list_accounts(encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    let all = run_blocking(move || accounts::list_accounts(&encore)).await?;
    Ok(HttpResponse::Ok().json(
        all.into_iter()
            .map(StaffAccountView::from)
            .collect::<Vec<_>>(),
    ))
}

/// `POST /api/v1/staff` (admin): creates a console account, as `encore staff create` does.
/// With `password` it can sign in at once; without, the answer's `set_password_url` is a
/// one-time link to set it. An email already taken (in any letter case) is 409
/// `staff_email_taken`.
#[utoipa::path(post, path = "/api/v1/staff", request_body = CreateStaff,
    responses((status = 201, body = StaffAccountView), (status = 403),
        (status = 409, description = "`staff_email_taken`")))]
pub async fn create_account(
    encore: web::Data<Encore>,
    body: web::Json<CreateStaff>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let password = body.password.as_deref().map(Password::parse).transpose()?;
    let base = encore.settings.public_base_url.clone();
    let (account, link) = run_blocking(move || {
        accounts::create_account(
            &encore,
            &body.email,
            &body.name,
            body.role,
            password.as_ref(),
        )
    })
    .await?;
    let mut view = StaffAccountView::from(account);
    view.set_password_url = link.map(|token| format!("{base}/box-office/password/{token}"));
    Ok(HttpResponse::Created().json(view))
}

/// A staff API key (never its secret, except in the answer that creates it).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    id: i64,
    name: String,
    #[schema(schema_with = role_schema)]
    role: String,
    /// The key's first characters, to tell keys apart.
    #[schema(example = "enc_AbC12x")]
    key_prefix: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    /// Only in the answer that creates the key: the key itself. Never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        ApiKeyView {
            id: k.id.0,
            name: k.name,
            role: k.role,
            key_prefix: k.key_prefix,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
            key: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    #[schema(example = "north door scanner", min_length = 1, max_length = 100)]
    name: String,
    #[schema(schema_with = role_schema)]
    role: Role,
    /// The key stops working this long after it is created; without it, when revoked.
    #[schema(minimum = 1, maximum = 315_360_000)]
    expires_in_seconds: Option<i64>,
}

/// `GET /api/v1/keys` (admin): every API key, revoked and expired ones too.
#[utoipa::path(get, path = "/api/v1/keys",
    responses((status = 200, body = Vec<ApiKeyView>), (status = 403)))]
pub async fn list_keys(encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    let all = run_blocking(move || staff::list_keys(&encore.db)).await?;
    Ok(HttpResponse::Ok().json(all.into_iter().map(ApiKeyView::from).collect::<Vec<_>>()))
}

/// `POST /api/v1/keys` (admin): creates a key, as `encore keys create` does; the answer's
/// `key` is the only time it is shown.
#[utoipa::path(post, path = "/api/v1/keys", request_body = CreateKey,
    responses((status = 201, body = ApiKeyView), (status = 403)))]
pub async fn create_key(
    encore: web::Data<Encore>,
    body: web::Json<CreateKey>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let expires_in = body
        .expires_in_seconds
        .map(|s| match s {
            1..=MAX_EXPIRES_IN_SECONDS => Ok(std::time::Duration::from_secs(s as u64)),
            _ => Err(Invalid::new(
                "expires_in_seconds",
                "must be between 1 second and 10 years",
            )),
        })
        .transpose()?;
    let (key, secret) = run_blocking(move || {
        staff::create_expiring_key(&encore.db, &body.name, body.role, expires_in)
    })
    .await?;
    let mut view = ApiKeyView::from(key);
    view.key = Some(secret);
    Ok(HttpResponse::Created().json(view))
}

/// `POST /api/v1/keys/{id}/revoke` (admin): the key stops working (within
/// `api_key_cache_seconds` on servers that verified it just before). A key already revoked, or
/// none, is 404; the key making the request is not revoked with itself (409 `own_key`).
#[utoipa::path(post, path = "/api/v1/keys/{id}/revoke", params(("id" = i64, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"), (status = 403),
        (status = 409, description = "`own_key`: the key making the request")))]
pub async fn revoke_key(
    caller: StaffKey,
    encore: web::Data<Encore>,
    id: web::Path<ApiKeyId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if caller.0.key_id == id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "own_key",
            "A key cannot revoke itself; revoke it with another admin key or in the console.",
        ));
    }
    run_blocking(move || staff::revoke_key(&encore.db, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
