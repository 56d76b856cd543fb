//! The door's pages: the scanner (`/scan`) and the box office's arrivals dashboard
//! (`/box-office/arrivals`). Each is a static shell and a small script: the staff key is pasted
//! once and kept in the browser's localStorage, and the script calls the JSON API with it, so
//! the server renders nothing secret and every decision is the API's (or, offline, the
//! bundle's).

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{asset, html_under, CSS, JAVASCRIPT};

/// The door's files: (path, content type, body), compiled into the binary.
const ASSETS: [(&str, &str, &str); 6] = [
    (
        "/assets/door.css",
        CSS,
        include_str!("../../../templates/pages/door.css"),
    ),
    (
        "/assets/door.js",
        JAVASCRIPT,
        include_str!("../../../templates/pages/door.js"),
    ),
    (
        "/assets/scan_input.js",
        JAVASCRIPT,
        include_str!("../../../templates/pages/scan_input.js"),
    ),
    (
        "/assets/scan.js",
        JAVASCRIPT,
        include_str!("../../../templates/pages/scan.js"),
    ),
    (
        "/assets/arrivals.js",
        JAVASCRIPT,
        include_str!("../../../templates/pages/arrivals.js"),
    ),
    // At the root, so that it may control `/scan` (a worker's scope is below its own path).
    (
        "/scan-sw.js",
        JAVASCRIPT,
        include_str!("../../../templates/pages/scan-sw.js"),
    ),
];

/// The scanner's QR decoder for browsers without their own (templates/vendor/barcode-detector:
/// what, whence, licences), under paths that name their versions: a new version is a new path,
/// so browsers may keep these for a year.
const VENDORED: [(&str, &str, &[u8]); 2] = [
    (
        "/assets/vendor/barcode-detector-3.2.2/ponyfill.js",
        JAVASCRIPT,
        include_bytes!("../../../templates/vendor/barcode-detector/ponyfill.js"),
    ),
    (
        "/assets/vendor/zxing-wasm-3.1.3/zxing_reader.wasm",
        "application/wasm",
        include_bytes!("../../../templates/vendor/barcode-detector/zxing_reader.wasm"),
    ),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/scan", web::get().to(scanner))
        .route("/box-office/arrivals", web::get().to(arrivals));
    for (path, content_type, body) in ASSETS {
        cfg.route(
            path,
            web::get().to(move || async move { asset(content_type, body) }),
        );
    }
    for (path, content_type, body) in VENDORED {
        cfg.route(
            path,
            web::get().to(move || async move { vendored(content_type, body) }),
        );
    }
}

fn vendored(content_type: &'static str, body: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

/// Our own scripts only, talking to our own API only; the camera for the scanner.
const DOOR_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'self'; img-src 'self' data:; media-src 'self' mediastream: blob:; \
     form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The scanner's: as the door's, and our own WebAssembly may be compiled (the QR decoder for
/// browsers without one; scripts still come from this origin only, and no `eval`).
const SCANNER_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     connect-src 'self'; style-src 'self'; img-src 'self' data:; \
     media-src 'self' mediastream: blob:; form-action 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

#[derive(Template)]
#[template(path = "pages/scan.html")]
struct ScannerPage {
    key_label: &'static str,
}

#[derive(Template)]
#[template(path = "pages/arrivals.html")]
struct ArrivalsPage {
    key_label: &'static str,
}

/// `GET /scan`: the scanner page.
async fn scanner() -> HttpResponse {
    let mut response = html_under(
        StatusCode::OK,
        &ScannerPage {
            key_label: "Scanner key",
        },
        SCANNER_POLICY,
    );
    // The one page that may ask for the camera (to read QR codes).
    response.headers_mut().insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self)"),
    );
    response
}

/// `GET /box-office/arrivals`: arrivals per minute against capacity, and per gate.
async fn arrivals() -> HttpResponse {
    html_under(
        StatusCode::OK,
        &ArrivalsPage {
            key_label: "Staff key",
        },
        DOOR_POLICY,
    )
}
