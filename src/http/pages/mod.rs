//! The patron's pages, reached from signed links in their emails: the ticket page (`/t/…`)
//! with its actions, and a friend's claim page (`/claim/…`). Plain HTML forms; the ticket page
//! has our own scripts only (`ticket::SCRIPTS`): one registers the service worker that keeps
//! the page on the phone for a reload with no signal (`ticket::SERVICE_WORKER`), and where the
//! ticket's code rotates the page draws it, so it keeps rotating with no network.
//!
//! A link is a capability, and it lives in the URL: every page is sent with no caching, no
//! referrer and a strict Content-Security-Policy, and the request log never shows the token.
//! The one copy kept is the ticket page the patron opened, on their own phone, by the service
//! worker (it keeps nothing else, and forgets a page whose link stopped working).
//!
//! The door's pages (the scanner, the arrivals dashboard) live in `door.rs`, the box office's
//! patron journey in `journey.rs`.

mod after_show;
mod box_office;
mod door;
mod journey;
mod refusals;
mod ticket;

use std::future::{ready, Ready};
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;

use crate::domain::ids::TicketId;
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::i18n::Tr;
use crate::service::patron_pages::{self, Voice};
use crate::service::Encore;
use crate::tokens::{LinkClaims, LinkPurpose};

/// Patron page routes (outside `/api/v1`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/assets/patron.css", web::get().to(stylesheet))
        .route("/t/{token}", web::get().to(ticket::page))
        .route("/t/{token}/calendar.ics", web::get().to(ticket::calendar))
        .route("/t/{token}/pass.pkpass", web::get().to(ticket::apple_pass))
        .route(
            "/t/{token}/google-wallet",
            web::get().to(ticket::google_wallet),
        )
        .route(
            "/t/{token}/transfer",
            web::post().to(ticket::offer_transfer),
        )
        .route(
            "/t/{token}/transfer/review",
            web::post().to(ticket::review_transfer),
        )
        .route(
            "/t/{token}/transfer/cancel",
            web::post().to(ticket::take_back),
        )
        .route("/t/{token}/exchange", web::post().to(ticket::exchange))
        .route(
            "/t/{token}/exchange/review",
            web::post().to(ticket::review_exchange),
        )
        .route("/assets/ticket-sw.js", web::get().to(ticket_worker))
        .route("/claim/{token}", web::get().to(ticket::claim_page))
        .route("/claim/{token}", web::post().to(ticket::claim))
        .configure(|cfg| {
            for (path, body) in ticket::SCRIPTS {
                cfg.route(
                    path,
                    web::get().to(move || async move { asset(JAVASCRIPT, body) }),
                );
            }
        })
        .route("/t/{token}/news", web::post().to(ticket::news))
        .configure(after_show::routes)
        .configure(door::routes)
        .configure(journey::routes)
        .configure(box_office::routes);
}

const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Headers every patron response carries: the URL holds a capability.
fn private(status: StatusCode) -> actix_web::HttpResponseBuilder {
    private_under(status, CONTENT_SECURITY_POLICY)
}

/// The private headers with a page's own Content-Security-Policy.
fn private_under(status: StatusCode, policy: &'static str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, policy))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    response
}

fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    html_under(status, page, CONTENT_SECURITY_POLICY)
}

fn html_under(status: StatusCode, page: &impl Template, policy: &'static str) -> HttpResponse {
    match page.render() {
        Ok(body) => private_under(status, policy)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            private_under(StatusCode::INTERNAL_SERVER_ERROR, policy)
                .content_type("text/plain; charset=utf-8")
                .body("Something went wrong on our side.")
        }
    }
}

/// See-other to a page of ours, after a form was handled.
fn see_other(location: String) -> HttpResponse {
    private(StatusCode::SEE_OTHER)
        .insert_header((header::LOCATION, location))
        .finish()
}

#[derive(Template)]
#[template(path = "pages/problem.html")]
struct Problem<'a> {
    tr: Tr,
    title: &'a str,
    message: &'a str,
}

/// A page that says what went wrong, in `tr`'s language: the ticket's when one is known.
fn problem(tr: Tr, status: StatusCode, title: &str, message: &str) -> HttpResponse {
    html(status, &Problem { tr, title, message })
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct Home {
    tr: Tr,
}

/// `GET /`: what this address is, for whoever types it in: patrons to their email's link,
/// staff to the console and the door. In English: no ticket says otherwise.
async fn home() -> HttpResponse {
    html(StatusCode::OK, &Home { tr: Tr::default() })
}

/// A page that does not exist, for a browser: where to go instead (in English, knowing no
/// ticket).
pub(crate) fn not_found() -> HttpResponse {
    let tr = Tr::default();
    problem(
        tr,
        StatusCode::NOT_FOUND,
        &tr.t("page-not-found-title"),
        &tr.t("page-not-found"),
    )
}

/// Any link we cannot trust: tampered, expired, or made for another purpose. The page does
/// not say which, so a forger learns nothing; nor can it know the ticket's language.
fn bad_link() -> HttpResponse {
    let tr = Tr::default();
    problem(
        tr,
        StatusCode::NOT_FOUND,
        &tr.t("page-bad-link-title"),
        &tr.t("page-bad-link"),
    )
}

/// A link made for an earlier generation of its ticket: it says so, in the ticket's language,
/// and shows nothing of the ticket.
fn superseded_link(tr: Tr) -> HttpResponse {
    problem(
        tr,
        StatusCode::GONE,
        &tr.t("page-superseded-title"),
        &tr.t("page-superseded"),
    )
}

/// The out-of-date page for a link whose ticket moved on (`link_superseded`), in the ticket's
/// language; any other error as it is.
async fn superseded_or(
    encore: &web::Data<Encore>,
    ticket_id: TicketId,
    e: ApiError,
) -> Result<HttpResponse, ApiError> {
    if e.code != "link_superseded" {
        return Err(e);
    }
    let voice = voice_of(encore, ticket_id).await?;
    Ok(superseded_link(Tr(voice.locale)))
}

/// How the pages of a ticket write (its language, the venue's time zone, its currency), for a
/// page that shows nothing else of it.
async fn voice_of(encore: &web::Data<Encore>, ticket_id: TicketId) -> Result<Voice, ApiError> {
    let encore = encore.clone();
    run_blocking(move || patron_pages::voice_of(&encore, ticket_id)).await
}

/// A link in the path (`{token}`) that verified for `P`: the token, kept to build the page's
/// own links, and what it names. A handler that takes one never sees an untrusted link: any
/// other answers with the `bad_link` page.
pub struct SignedLink<P: Purpose> {
    pub token: String,
    pub claims: LinkClaims,
    purpose: PhantomData<P>,
}

/// What a link must have been made for, as a type, so each handler states its own.
pub trait Purpose {
    const PURPOSE: LinkPurpose;
}

pub struct View;
impl Purpose for View {
    const PURPOSE: LinkPurpose = LinkPurpose::View;
}

pub struct Claim;
impl Purpose for Claim {
    const PURPOSE: LinkPurpose = LinkPurpose::Claim;
}

/// The answer to a link we cannot trust.
#[derive(Debug)]
pub struct BadLink;

impl std::fmt::Display for BadLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bad patron link")
    }
}

impl actix_web::ResponseError for BadLink {
    fn status_code(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }

    fn error_response(&self) -> HttpResponse {
        bad_link()
    }
}

impl<P: Purpose> FromRequest for SignedLink<P> {
    type Error = BadLink;
    type Future = Ready<Result<Self, BadLink>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verified = (|| {
            let encore = req.app_data::<web::Data<Encore>>()?;
            let token = req.match_info().get("token")?;
            let claims =
                encore
                    .keys
                    .verify_link(token, P::PURPOSE, chrono::Utc::now().timestamp())?;
            Some(SignedLink {
                token: token.to_string(),
                claims,
                purpose: PhantomData,
            })
        })();
        ready(verified.ok_or(BadLink))
    }
}

/// `GET /assets/ticket-sw.js`: the ticket pages' service worker, allowed to control `/t/`
/// (a worker's scope is below its own path unless `Service-Worker-Allowed` says otherwise), and
/// checked for a newer version on each load.
async fn ticket_worker() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(JAVASCRIPT)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(("Service-Worker-Allowed", "/t/"))
        .body(ticket::SERVICE_WORKER)
}

async fn stylesheet() -> HttpResponse {
    asset(CSS, include_str!("../../../templates/pages/patron.css"))
}

const CSS: &str = "text/css; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// A file compiled into the binary (stylesheet, script), cacheable for an hour.
fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

/// The request path as the log may show it: a patron link's token replaced by `…`.
pub fn path_for_log(path: &str) -> String {
    for prefix in [
        "/t/",
        "/claim/",
        "/no-show/",
        "/unsubscribe/",
        "/box-office/password/",
    ] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
            return format!("{prefix}…{tail}");
        }
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::path_for_log;

    #[test]
    fn link_tokens_never_reach_the_log() {
        assert_eq!(path_for_log("/t/eyJ.abc.def"), "/t/…");
        assert_eq!(path_for_log("/t/eyJ.abc.def/transfer"), "/t/…/transfer");
        assert_eq!(path_for_log("/claim/eyJ.x.y"), "/claim/…");
        assert_eq!(
            path_for_log("/box-office/password/abc"),
            "/box-office/password/…"
        );
        assert_eq!(path_for_log("/api/v1/scans"), "/api/v1/scans");
    }
}
