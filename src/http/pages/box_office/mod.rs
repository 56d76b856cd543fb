//! The box-office console (`/box-office/…`): server-rendered pages for signed-in staff.
//!
//! A staff member signs in with an email and password (`login.rs`) and gets a cookie,
//! `encore_staff`, holding a random token; the session it names lives in the database
//! (`service::accounts`), so it can be revoked at once and expires when idle and after a fixed
//! time. Every console page takes a [`StaffSession`]: without a live session a GET is sent to
//! the sign-in page (303) and anything else is refused (403); a scanner account is refused the
//! console (403). Every form that changes something takes a [`ProtectedForm`], which also
//! checks the form's hidden `csrf` field against the session's token (403 when missing or
//! wrong, before the handler runs).
//!
//! Pages are sent as the patron pages are: no caching, no referrer, the same strict
//! Content-Security-Policy (our stylesheet only, no script needed).

mod arrivals;
mod events;
mod login;
mod password;
mod patrons;
// Named apart from `domain::staff`, which this module uses.
mod performance;
#[path = "staff.rs"]
mod staff_page;
mod today;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;

use super::{asset, html, private, see_other, CSS};
use crate::domain::actor::Actor;
use crate::domain::staff::{self, role_words};
use crate::domain::Role;
use crate::http::error::ApiError;
use crate::service::{accounts, Encore};

/// The session cookie's name.
pub const COOKIE: &str = "encore_staff";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/console.css", web::get().to(stylesheet))
        .route("/box-office", web::get().to(to_today))
        .route("/box-office/", web::get().to(today::show))
        .route("/box-office/login", web::get().to(login::form))
        .route("/box-office/login", web::post().to(login::submit))
        .route("/box-office/logout", web::post().to(login::logout))
        .route(
            "/box-office/password/{token}",
            web::get().to(password::form),
        )
        .route(
            "/box-office/password/{token}",
            web::post().to(password::submit),
        )
        .route("/box-office/events", web::get().to(events::list))
        .route("/box-office/events", web::post().to(events::create))
        .route("/box-office/events/{id}", web::get().to(events::show))
        .route("/box-office/events/{id}", web::post().to(events::update))
        .route(
            "/box-office/events/{id}/performances",
            web::post().to(events::add_performance),
        )
        .route(
            "/box-office/events/{id}/message-rules",
            web::post().to(events::add_rule),
        )
        .route(
            "/box-office/events/{id}/message-rules/{rule_id}/delete",
            web::post().to(events::delete_rule),
        )
        .route(
            "/box-office/performances/{id}/cancel",
            web::get().to(events::cancel_page),
        )
        .route(
            "/box-office/performances/{id}/cancel",
            web::post().to(events::cancel),
        )
        .route(
            "/box-office/performances/{id}/cancellation",
            web::get().to(events::progress),
        )
        .route("/box-office/staff", web::get().to(staff_page::show))
        .route(
            "/box-office/staff",
            web::post().to(staff_page::create_account),
        )
        .route(
            "/box-office/staff/sessions/revoke",
            web::post().to(staff_page::revoke_sessions),
        )
        .route(
            "/box-office/staff/keys",
            web::post().to(staff_page::create_key),
        )
        .route(
            "/box-office/staff/keys/{id}/revoke",
            web::post().to(staff_page::revoke_key),
        )
        .route(
            "/box-office/performances/{id}/cancellation.json",
            web::get().to(events::progress_json),
        )
        .route(
            "/assets/console-cancellation.js",
            web::get().to(events::progress_script),
        )
        .route(
            "/box-office/performances/{id}",
            web::get().to(performance::show),
        )
        .route(
            "/box-office/performances/{id}/arrivals",
            web::get().to(arrivals::show),
        )
        .route(
            "/assets/console-arrivals.js",
            web::get().to(arrivals::script),
        )
        .route(
            "/box-office/performances/{id}/tickets",
            web::post().to(performance::issue),
        )
        .service(
            web::resource("/box-office/performances/{id}/imports")
                .app_data(web::PayloadConfig::new(performance::MAX_IMPORT_BODY))
                .route(web::post().to(performance::import)),
        )
        .route(
            "/box-office/imports/{job}",
            web::get().to(performance::import_progress),
        )
        .route(
            "/box-office/tickets/{id}",
            web::get().to(performance::ticket),
        )
        .route(
            "/box-office/tickets/{id}/print",
            web::get().to(performance::print),
        )
        .route(
            "/box-office/tickets/{id}/qr.svg",
            web::get().to(performance::qr_svg),
        )
        .route(
            "/box-office/tickets/{id}/qr.png",
            web::get().to(performance::qr_png),
        )
        .route("/assets/patrons.js", web::get().to(patrons::script))
        .route("/box-office/patrons", web::get().to(patrons::search_page))
        .route(
            "/box-office/patrons/results",
            web::get().to(patrons::results),
        )
        .route("/box-office/patrons/{email}", web::get().to(patrons::show))
        .route(
            "/box-office/patrons/{email}/tickets/{ticket}/exchange",
            web::post().to(patrons::exchange),
        )
        .route(
            "/box-office/patrons/{email}/tickets/{ticket}/transfer",
            web::post().to(patrons::transfer),
        )
        .route(
            "/box-office/patrons/{email}/tickets/{ticket}/cancel",
            web::post().to(patrons::cancel),
        )
        .route(
            "/box-office/patrons/{email}/tickets/{ticket}/confirmation/resend",
            web::post().to(patrons::resend_confirmation),
        )
        .route(
            "/box-office/patrons/{email}/tickets/{ticket}/emails/{email_id}/resend",
            web::post().to(patrons::resend),
        );
}

async fn stylesheet() -> HttpResponse {
    asset(
        CSS,
        include_str!("../../../../templates/box_office/console.css"),
    )
}

async fn to_today() -> HttpResponse {
    see_other("/box-office/".into())
}

/// What every signed-in page's header shows: who is signed in, and the sign-out form with the
/// session's CSRF token.
pub struct Chrome {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    /// Whether the navigation offers the admin's pages (staff accounts and API keys).
    pub admin: bool,
}

/// A live session of a staff account allowed on the console (admin or box office), taken from
/// the `encore_staff` cookie.
pub struct StaffSession {
    pub session: staff::StaffSession,
    /// The cookie's token, to end this very session.
    token: String,
}

impl StaffSession {
    /// The signed-in staff member as the author of the changes they make.
    pub fn actor(&self) -> Actor {
        Actor::Staff {
            name: self.session.staff.display_name.clone(),
            role: self.session.staff.role,
        }
    }

    pub fn chrome(&self) -> Chrome {
        Chrome {
            name: self.session.staff.display_name.clone(),
            role: role_words(self.session.staff.role),
            csrf: self.session.csrf_token.clone(),
            admin: self.session.staff.role == Role::Admin,
        }
    }
}

/// Why a console request was not served.
#[derive(Debug)]
pub enum Refused {
    /// No live session: a GET goes to the sign-in page.
    SignIn,
    /// No live session for a form, a wrong or missing CSRF token, or a role not allowed here.
    Forbidden(&'static str),
    /// The database could not be asked.
    Unavailable,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::SignIn => f.write_str("not signed in"),
            Refused::Forbidden(why) => f.write_str(why),
            Refused::Unavailable => f.write_str("unavailable"),
        }
    }
}

impl actix_web::ResponseError for Refused {
    fn status_code(&self) -> StatusCode {
        match self {
            Refused::SignIn => StatusCode::SEE_OTHER,
            Refused::Forbidden(_) => StatusCode::FORBIDDEN,
            Refused::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Refused::SignIn => see_other("/box-office/login".into()),
            Refused::Forbidden(why) => problem(StatusCode::FORBIDDEN, "Not allowed", why),
            Refused::Unavailable => unavailable(),
        }
    }
}

#[derive(Template)]
#[template(path = "box_office/problem.html")]
struct ProblemPage<'a> {
    title: &'a str,
    message: &'a str,
}

fn problem(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    html(status, &ProblemPage { title, message })
}

fn unavailable() -> HttpResponse {
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again in a moment",
        "The console cannot reach its database right now.",
    )
}

/// The value of the `encore_staff` cookie, if the request has one.
fn session_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// `Set-Cookie` for a session token (or, with `None`, one that clears it).
fn session_cookie(encore: &Encore, token: Option<&str>) -> String {
    // Over HTTPS, served here or by a proxy in front (whose address is the public one).
    let secure = if encore.settings.served_over_tls
        || encore.settings.public_base_url.starts_with("https://")
    {
        "; Secure"
    } else {
        ""
    };
    match token {
        Some(token) => format!(
            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            encore.settings.staff_sessions.absolute.num_seconds()
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

/// A form posted from another site (the browser says so in `Sec-Fetch-Site`): refused before
/// anything is read, so no page elsewhere can sign someone in or set a password.
fn cross_site(req: &HttpRequest) -> bool {
    req.headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
}

async fn staff_session(req: HttpRequest) -> Result<StaffSession, Refused> {
    let denied = if req.method() == Method::GET || req.method() == Method::HEAD {
        Refused::SignIn
    } else {
        Refused::Forbidden("You are not signed in, or your session has ended. Sign in again.")
    };
    let Some(token) = session_token(&req) else {
        return Err(denied);
    };
    let encore = req
        .app_data::<web::Data<Encore>>()
        .ok_or(Refused::Unavailable)?
        .clone();
    let lookup = token.clone();
    let found = web::block(move || accounts::session(&encore, &lookup))
        .await
        .map_err(|_| Refused::Unavailable)?
        .map_err(|e| {
            tracing::error!(error = %e, "staff session lookup failed");
            Refused::Unavailable
        })?;
    let Some(session) = found else {
        return Err(denied);
    };
    if !session.staff.role.permits(Role::BoxOffice) {
        return Err(Refused::Forbidden(
            "This account is for the door; the box-office console needs a box-office or admin account.",
        ));
    }
    Ok(StaffSession { session, token })
}

impl FromRequest for StaffSession {
    type Error = Refused;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Refused>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(staff_session(req.clone()))
    }
}

/// The fields of a posted form (`application/x-www-form-urlencoded`).
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(
            url::form_urlencoded::parse(body)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    /// The first value of the field `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A form posted by a signed-in staff member whose `csrf` field is the session's token. A
/// handler that takes one never runs for a forged request.
pub struct ProtectedForm {
    pub session: StaffSession,
    #[allow(dead_code)] // sign-out needs only the token; the console's other forms read theirs
    pub fields: Fields,
}

impl FromRequest for ProtectedForm {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let session = staff_session(req.clone()).await?;
            let fields = Fields::parse(&body.await?);
            if !accounts::csrf_matches(&session.session, fields.get("csrf")) {
                return Err(Refused::Forbidden(
                    "This form has expired or did not come from this console. Go back, reload the page and try again.",
                )
                .into());
            }
            Ok(ProtectedForm { session, fields })
        })
    }
}

/// Runs a service call off the async threads; its error as the API would answer it, so a
/// page can show the API's reason.
pub(in crate::http::pages::box_office) async fn call<T: Send + 'static>(
    f: impl FnOnce() -> crate::service::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    match web::block(f).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(ApiError::internal())
        }
    }
}

/// The console's page for an error: "not found" for 404, the reason otherwise.
pub(in crate::http::pages::box_office) fn error_page(e: &ApiError) -> HttpResponse {
    match e.status {
        StatusCode::NOT_FOUND => problem(StatusCode::NOT_FOUND, "Not found", &e.message),
        StatusCode::SERVICE_UNAVAILABLE => unavailable(),
        status if status.is_server_error() => problem(
            status,
            "Something went wrong",
            "The console could not do this; the error is in the server's log.",
        ),
        status => problem(status, "Not done", &format!("{} ({})", e.message, e.code)),
    }
}

/// A blocking service call for a console page: off the async threads; a failure is logged
/// and answered with a page.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::service::Result<T> + Send + 'static,
) -> Result<T, HttpResponse> {
    match web::block(f).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "console request failed");
            Err(unavailable())
        }
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(unavailable())
        }
    }
}

/// The policy of a live page (a cancellation's progress, the arrivals): our one script may read
/// the console's own endpoints; nothing else.
const LIVE_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// A console page, or the page that says why not.
fn page(status: StatusCode, template: &impl Template) -> HttpResponse {
    html(status, template)
}

/// A redirect that also sets (or clears) the session cookie.
fn see_other_with_cookie(location: &str, cookie: String) -> HttpResponse {
    private(StatusCode::SEE_OTHER)
        .insert_header((header::LOCATION, location))
        .insert_header((header::SET_COOKIE, cookie))
        .finish()
}

/// Find a patron's page: as every console page, and our own script, which reads our own
/// search results as the clerk types (`patrons.rs`).
const PATRON_SEARCH_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";
