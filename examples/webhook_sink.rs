//! A minimal webhook receiver for benchmarks: answers 204 to every POST on 127.0.0.1, counts the
//! distinct `webhook-id`s (and all requests), and answers `GET /count` with
//! `{"requests": n, "distinct": m}`. `cargo run --release --example webhook_sink -- 18190`
//! Stops by itself after `--seconds` (default 600) so a forgotten sink never lingers.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

#[derive(Default)]
struct Seen {
    requests: AtomicU64,
    ids: Mutex<HashSet<String>>,
}

async fn receive(req: HttpRequest, _body: web::Bytes, seen: web::Data<Seen>) -> HttpResponse {
    seen.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(id) = req
        .headers()
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
    {
        seen.ids.lock().unwrap().insert(id.to_string());
    }
    HttpResponse::NoContent().finish()
}

async fn count(seen: web::Data<Seen>) -> HttpResponse {
    let distinct = seen.ids.lock().unwrap().len();
    HttpResponse::Ok().json(serde_json::json!({
        "requests": seen.requests.load(Ordering::Relaxed),
        "distinct": distinct,
    }))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(18190);
    let seconds: u64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let seen = web::Data::new(Seen::default());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(seen.clone())
            .route("/count", web::get().to(count))
            .default_service(web::to(receive))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run();
    tokio::select! {
        result = server => result,
        _ = tokio::time::sleep(Duration::from_secs(seconds)) => Ok(()),
    }
}
