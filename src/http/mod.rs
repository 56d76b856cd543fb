//! The actix-web application: the route table, shared state, and the server.

pub mod api;
pub mod auth;
pub mod error;
mod ops;
mod pages;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpServer};

use crate::config::Config;
use crate::service::staff::Authenticator;
use crate::service::{self, Encore};
use error::ApiError;

/// Runs a blocking service call on the blocking thread pool, never on the async workers.
pub async fn run_blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> service::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match web::block(f).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(ApiError::internal())
        }
    }
}

/// The route table: every route the service has, in one place.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .route("/.well-known/jwks.json", web::get().to(api::keys::jwks))
        .service(
            web::scope("/api/v1")
                // The door's hot path first: routes are matched in order.
                .route("/scans", web::post().to(api::scans::scan))
                .route("/events", web::post().to(api::events::create))
                .route("/events", web::get().to(api::events::list))
                .route("/events/{id}", web::get().to(api::events::get))
                .route(
                    "/events/{id}/performances",
                    web::post().to(api::performances::create),
                )
                .route(
                    "/events/{id}/performances",
                    web::get().to(api::performances::list),
                )
                .route("/performances/{id}", web::get().to(api::performances::get))
                .route(
                    "/performances/{id}/arrivals",
                    web::get().to(api::performances::arrivals),
                )
                .route(
                    "/performances/{id}/tickets",
                    web::post().to(api::tickets::issue_one),
                )
                .route(
                    "/performances/{id}/tickets/bulk",
                    web::post().to(api::tickets::issue_bulk),
                )
                .route("/tickets/{id}", web::get().to(api::tickets::get))
                .route("/tickets/{id}/qr.png", web::get().to(api::tickets::qr_png))
                .route("/tickets/{id}/qr.svg", web::get().to(api::tickets::qr_svg))
                .route("/tickets/{id}/emails", web::get().to(api::tickets::emails))
                .route(
                    "/tickets/{id}/exchange",
                    web::post().to(api::changes::exchange),
                )
                .route(
                    "/tickets/{id}/transfer",
                    web::post().to(api::changes::transfer),
                )
                .route(
                    "/tickets/{id}/transfer/cancel",
                    web::post().to(api::changes::cancel_transfer),
                )
                .route(
                    "/tickets/{id}/transfers",
                    web::get().to(api::changes::list_transfers),
                )
                .route(
                    "/patrons/{email}/credit",
                    web::get().to(api::changes::patron_credit),
                ),
        )
        // The patron's pages, reached from the links in their emails.
        .configure(pages::routes);
}

/// Builds the server on an already-bound listener (tests bind port 0 and read the port back).
pub fn server(encore: Encore, config: &Config, listener: TcpListener) -> std::io::Result<Server> {
    let encore = web::Data::new(encore);
    let authenticator = web::Data::new(Authenticator::new(Duration::from_secs(
        config.api_key_cache_seconds,
    )));
    let json = web::JsonConfig::default()
        .limit(config.max_body_bytes)
        .error_handler(error::json_error);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(encore.clone())
            .app_data(authenticator.clone())
            .app_data(json.clone())
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            // The path is logged without patron link tokens (they are capabilities).
            .wrap(
                middleware::Logger::new("%a \"%{method}xi %{path}xi\" %s %b %Dms")
                    .custom_request_replace("method", |req| req.method().to_string())
                    .custom_request_replace("path", |req| pages::path_for_log(req.path()))
                    .log_target("encore::http"),
            )
            .configure(routes)
            .default_service(web::to(error::no_such_route))
    })
    .workers(config.workers())
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}
