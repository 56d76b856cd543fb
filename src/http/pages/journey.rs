//! The box office's view of the patron journey (`/box-office/patron`): a static shell and a
//! small script that calls `GET /api/v1/patrons/{email}` and `GET /api/v1/tickets/{id}/history`
//! with the staff key this browser keeps (as the door's pages do), and tells the timeline in
//! words. The server renders nothing about a patron.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{asset, html_under, JAVASCRIPT};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/box-office/patron", web::get().to(page)).route(
        "/assets/journey.js",
        web::get().to(|| async {
            asset(
                JAVASCRIPT,
                include_str!("../../../templates/pages/journey.js"),
            )
        }),
    );
}

/// Our own scripts only, talking to our own API only; no camera, no images, no form posts.
const JOURNEY_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

#[derive(Template)]
#[template(path = "pages/journey.html")]
struct JourneyPage {
    key_label: &'static str,
}

/// `GET /box-office/patron`: look a patron (or a ticket) up and read their journey.
async fn page() -> HttpResponse {
    html_under(
        StatusCode::OK,
        &JourneyPage {
            key_label: "Staff key",
        },
        JOURNEY_POLICY,
    )
}
