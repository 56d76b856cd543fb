//! The patron's pages, reached from signed links in their emails: the ticket page (`/t/…`)
//! with its actions, and a friend's claim page (`/claim/…`). Plain HTML forms, no script.
//!
//! A link is a capability, and it lives in the URL: every page is sent with no caching, no
//! referrer and a strict Content-Security-Policy, and the request log never shows the token.

mod ticket;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;

/// Patron page routes (outside `/api/v1`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/patron.css", web::get().to(stylesheet))
        .route("/t/{token}", web::get().to(ticket::page))
        .route("/t/{token}/calendar.ics", web::get().to(ticket::calendar))
        .route(
            "/t/{token}/transfer",
            web::post().to(ticket::offer_transfer),
        )
        .route(
            "/t/{token}/transfer/cancel",
            web::post().to(ticket::take_back),
        )
        .route("/t/{token}/exchange", web::post().to(ticket::exchange))
        .route("/claim/{token}", web::get().to(ticket::claim_page))
        .route("/claim/{token}", web::post().to(ticket::claim));
}

const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Headers every patron response carries: the URL holds a capability.
fn private(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    response
}

fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => private(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            private(StatusCode::INTERNAL_SERVER_ERROR)
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
    title: &'a str,
    message: &'a str,
}

fn problem(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    html(status, &Problem { title, message })
}

/// Any link we cannot trust: tampered, expired, or made for another purpose. The page does
/// not say which, so a forger learns nothing.
fn bad_link() -> HttpResponse {
    problem(
        StatusCode::NOT_FOUND,
        "This link does not work",
        "It may have expired, or been copied incompletely. The newest email about your ticket has a working link; the box office can send it again.",
    )
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../../templates/pages/patron.css"))
}

/// The request path as the log may show it: a patron link's token replaced by `…`.
pub fn path_for_log(path: &str) -> String {
    for prefix in ["/t/", "/claim/"] {
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
        assert_eq!(path_for_log("/api/v1/scans"), "/api/v1/scans");
    }
}
