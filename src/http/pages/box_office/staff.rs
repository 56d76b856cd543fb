//! The console's Staff page (`/box-office/staff`, admins only; any other account gets 403):
//! the staff accounts (create one, end an account's sessions) and the API keys (create one,
//! revoke one). What `encore staff` and `encore keys` do, through the same services. A new
//! account's set-password link and a new key are shown once, on the page that answers the form.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::events::{attempt, refusal, Answer, Refusal};
use super::{page, problem, Chrome, ProtectedForm, StaffSession};
use crate::domain::ids::ApiKeyId;
use crate::domain::staff::role_words;
use crate::domain::{Invalid, Role};
use crate::http::error::ApiError;
use crate::service::{accounts, staff, Encore};

/// The longest expiry a key may be given here: ten years, in days.
const MAX_KEY_DAYS: i64 = 3650;

fn forbidden() -> HttpResponse {
    problem(
        StatusCode::FORBIDDEN,
        "Not allowed",
        "Staff accounts and API keys are for admins only.",
    )
}

fn is_admin(session: &StaffSession) -> bool {
    session.session.staff.role == Role::Admin
}

struct AccountRow {
    email: String,
    name: String,
    role: &'static str,
    status: String,
}

struct KeyRow {
    id: ApiKeyId,
    name: String,
    role: String,
    prefix: String,
    created: String,
    last_used: String,
    status: String,
    live: bool,
}

/// What the page shows once, after a form.
enum Outcome {
    None,
    /// An account was created; its one-time set-password link.
    Account {
        email: String,
        link: String,
    },
    /// A key was created; its secret.
    Key {
        name: String,
        secret: String,
    },
    /// Sessions were ended: how many, in words ("1 session").
    Sessions {
        email: String,
        ended: String,
    },
    Revoked(ApiKeyId),
}

#[derive(Template)]
#[template(path = "box_office/staff.html")]
struct StaffPage {
    chrome: Chrome,
    accounts: Vec<AccountRow>,
    keys: Vec<KeyRow>,
    outcome: Outcome,
    account_refusal: Option<Refusal>,
    key_refusal: Option<Refusal>,
    /// The forms' values to show again after a refusal.
    email: String,
    name: String,
    role: String,
    key_name: String,
    key_role: String,
    key_days: String,
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl StaffPage {
    async fn load(staff: &StaffSession, encore: web::Data<Encore>) -> Result<Self, HttpResponse> {
        let (accounts, keys) = super::blocking(move || {
            Ok((
                accounts::list_accounts(&encore)?,
                staff::list_keys(&encore.db)?,
            ))
        })
        .await?;
        let now = crate::service::now();
        Ok(StaffPage {
            chrome: staff.chrome(),
            accounts: accounts
                .into_iter()
                .map(|a| AccountRow {
                    status: match (a.disabled_at, a.has_password) {
                        (Some(t), _) => format!("disabled {}", time(t)),
                        (None, false) => "no password yet".into(),
                        (None, true) => "active".into(),
                    },
                    email: a.email,
                    name: a.display_name,
                    role: role_words(a.role),
                })
                .collect(),
            keys: keys
                .into_iter()
                .map(|k| {
                    let (status, live) = match (k.revoked_at, k.expires_at) {
                        (Some(t), _) => (format!("revoked {}", time(t)), false),
                        (None, Some(t)) if t <= now => (format!("expired {}", time(t)), false),
                        (None, Some(t)) => (format!("active, expires {}", time(t)), true),
                        (None, None) => ("active".into(), true),
                    };
                    KeyRow {
                        id: k.id,
                        role: Role::parse(&k.role).map_or(k.role.clone(), |r| role_words(r).into()),
                        name: k.name,
                        prefix: k.key_prefix,
                        created: time(k.created_at),
                        last_used: k.last_used_at.map_or("never".into(), time),
                        status,
                        live,
                    }
                })
                .collect(),
            outcome: Outcome::None,
            account_refusal: None,
            key_refusal: None,
            email: String::new(),
            name: String::new(),
            role: "box_office".into(),
            key_name: String::new(),
            key_role: "scanner".into(),
            key_days: String::new(),
        })
    }
}

async fn render(
    staff: &StaffSession,
    encore: web::Data<Encore>,
    status: StatusCode,
    fill: impl FnOnce(&mut StaffPage),
) -> HttpResponse {
    match StaffPage::load(staff, encore).await {
        Ok(mut view) => {
            fill(&mut view);
            page(status, &view)
        }
        Err(response) => response,
    }
}

/// `GET /box-office/staff`.
pub async fn show(staff: StaffSession, encore: web::Data<Encore>) -> HttpResponse {
    if !is_admin(&staff) {
        return forbidden();
    }
    render(&staff, encore, StatusCode::OK, |_| {}).await
}

fn role_field(field: &'static str, raw: &str) -> Result<Role, Invalid> {
    Role::parse(raw.trim())
        .ok_or_else(|| Invalid::new(field, "must be admin, box_office or scanner"))
}

/// `POST /box-office/staff` with `email`, `name`, `role`: creates the account without a
/// password and shows its one-time set-password link, once.
pub async fn create_account(form: ProtectedForm, encore: web::Data<Encore>) -> HttpResponse {
    if !is_admin(&form.session) {
        return forbidden();
    }
    let fields = &form.fields;
    let (email, name) = (
        fields.get("email").to_string(),
        fields.get("name").to_string(),
    );
    let outcome = match role_field("role", fields.get("role")) {
        Err(e) => refusal(ApiError::from(e)),
        Ok(role) => {
            let (service, email, name) = (encore.clone(), email.clone(), name.clone());
            attempt(move || accounts::create_account(&service, &email, &name, role, None)).await
        }
    };
    match outcome {
        Answer::Done((account, link)) => {
            let base = encore.settings.public_base_url.clone();
            render(&form.session, encore, StatusCode::CREATED, |view| {
                if let Some(token) = link {
                    view.outcome = Outcome::Account {
                        email: account.email,
                        link: format!("{base}/box-office/password/{token}"),
                    };
                }
            })
            .await
        }
        Answer::Refused(refused) => {
            let role = fields.get("role").to_string();
            render(&form.session, encore, refused.status, |view| {
                view.account_refusal = Some(refused);
                view.email = email;
                view.name = name;
                view.role = role;
            })
            .await
        }
        Answer::Failed(response) => response,
    }
}

/// `POST /box-office/staff/sessions/revoke` with `email`: ends every session of the account.
pub async fn revoke_sessions(form: ProtectedForm, encore: web::Data<Encore>) -> HttpResponse {
    if !is_admin(&form.session) {
        return forbidden();
    }
    let email = form.fields.get("email").to_string();
    let service = encore.clone();
    let target = email.clone();
    match attempt(move || accounts::revoke_sessions(&service, &target)).await {
        Answer::Done(ended) => {
            render(&form.session, encore, StatusCode::OK, |view| {
                let plural = if ended == 1 { "" } else { "s" };
                view.outcome = Outcome::Sessions {
                    email,
                    ended: format!("{ended} session{plural}"),
                };
            })
            .await
        }
        Answer::Refused(refused) => {
            render(&form.session, encore, refused.status, |view| {
                view.account_refusal = Some(refused);
            })
            .await
        }
        Answer::Failed(response) => response,
    }
}

/// `POST /box-office/staff/keys` with `name`, `role` and optionally `expires_in_days`: creates
/// a key and shows it, once.
pub async fn create_key(form: ProtectedForm, encore: web::Data<Encore>) -> HttpResponse {
    if !is_admin(&form.session) {
        return forbidden();
    }
    let fields = &form.fields;
    let name = fields.get("name").to_string();
    let parsed = (|| {
        let role = role_field("role", fields.get("role"))?;
        let expires_in = match fields.get("expires_in_days").trim() {
            "" => None,
            days => match days.parse::<i64>() {
                Ok(d) if (1..=MAX_KEY_DAYS).contains(&d) => {
                    Some(std::time::Duration::from_secs(d as u64 * 86_400))
                }
                _ => {
                    return Err(Invalid::new(
                        "expires_in_days",
                        format!("must be a whole number of days from 1 to {MAX_KEY_DAYS}"),
                    ))
                }
            },
        };
        Ok((role, expires_in))
    })();
    let outcome = match parsed {
        Err(e) => refusal(ApiError::from(e)),
        Ok((role, expires_in)) => {
            let (service, name) = (encore.clone(), name.clone());
            attempt(move || staff::create_expiring_key(&service.db, &name, role, expires_in)).await
        }
    };
    match outcome {
        Answer::Done((key, secret)) => {
            render(&form.session, encore, StatusCode::CREATED, |view| {
                view.outcome = Outcome::Key {
                    name: key.name,
                    secret,
                };
            })
            .await
        }
        Answer::Refused(refused) => {
            let (role, days) = (
                fields.get("role").to_string(),
                fields.get("expires_in_days").to_string(),
            );
            render(&form.session, encore, refused.status, |view| {
                view.key_refusal = Some(refused);
                view.key_name = name;
                view.key_role = role;
                view.key_days = days;
            })
            .await
        }
        Answer::Failed(response) => response,
    }
}

/// `POST /box-office/staff/keys/{id}/revoke`: the key stops working.
pub async fn revoke_key(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    id: web::Path<ApiKeyId>,
) -> HttpResponse {
    if !is_admin(&form.session) {
        return forbidden();
    }
    let id = id.into_inner();
    let service = encore.clone();
    match attempt(move || staff::revoke_key(&service.db, id)).await {
        Answer::Done(()) => {
            render(&form.session, encore, StatusCode::OK, |view| {
                view.outcome = Outcome::Revoked(id);
            })
            .await
        }
        Answer::Refused(refused) => {
            render(&form.session, encore, refused.status, |view| {
                view.key_refusal = Some(refused);
            })
            .await
        }
        Answer::Failed(response) => response,
    }
}
