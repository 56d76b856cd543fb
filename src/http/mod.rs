//! The actix-web application: the route table, shared state, and the server.

pub mod api;
pub mod auth;
mod client;
mod deadline;
pub mod error;
pub mod metrics;
pub mod openapi;
mod ops;
mod pages;
pub mod tls;
mod wallet;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::web::to;
use actix_web::{middleware, web, App, HttpServer, Route};

use crate::config::Config;
use crate::domain::Role;
use crate::service::staff::Authenticator;
use crate::service::{self, Encore};
use auth::{Access, Authorize};
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

/// The JSON API's route table, one line per route: method, full path, who may call it,
/// handler. Routes are matched in this order. A staff route's key and role are checked before
/// its handler reads anything of the request (`auth::Authorize`). Each handler also carries a
/// `#[utoipa::path]` and is listed in `openapi::ApiDoc`; `tests/api/openapi.rs` names any
/// route here the document lacks.
#[rustfmt::skip] // one line per route
fn api_routes() -> Vec<(Method, &'static str, Access, Route)> {
    const PUBLIC: Access = Access::Public;
    const STAFF: Access = Access::AnyStaff;
    const ADMIN: Access = Access::Needs(Role::Admin);
    const BOX_OFFICE: Access = Access::Needs(Role::BoxOffice);
    const SCANNER: Access = Access::Needs(Role::Scanner);
    const GET: Method = Method::GET;
    const POST: Method = Method::POST;
    const PATCH: Method = Method::PATCH;
    const PUT: Method = Method::PUT;
    const DELETE: Method = Method::DELETE;
    vec![
        (GET, "/healthz", PUBLIC, to(ops::healthz)),
        (GET, "/readyz", PUBLIC, to(ops::readyz)),
        (GET, "/metrics", ADMIN, to(metrics::scrape)),
        (GET, "/.well-known/jwks.json", PUBLIC, to(api::keys::jwks)),
        (GET, "/api/v1/openapi.json", PUBLIC, to(openapi::document)),
        // The door's hot path first.
        (POST, "/api/v1/scans", SCANNER, to(api::scans::scan)),
        // The door offline: the bundle scanners decide with, the upload of their scans.
        (POST, "/api/v1/scans/batch", SCANNER, to(api::door::upload)),
        (GET, "/api/v1/performances/{id}/offline-bundle", SCANNER, to(api::door::offline_bundle)),
        (POST, "/api/v1/events", BOX_OFFICE, to(api::events::create)),
        (GET, "/api/v1/events", STAFF, to(api::events::list)),
        (GET, "/api/v1/events/{id}", STAFF, to(api::events::get)),
        (PATCH, "/api/v1/events/{id}", BOX_OFFICE, to(api::events::update)),
        (POST, "/api/v1/events/{id}/performances", BOX_OFFICE, to(api::performances::create)),
        (GET, "/api/v1/events/{id}/performances", STAFF, to(api::performances::list)),
        (POST, "/api/v1/events/{id}/message-rules", BOX_OFFICE, to(api::message_rules::create)),
        (GET, "/api/v1/events/{id}/message-rules", STAFF, to(api::message_rules::list)),
        (GET, "/api/v1/events/{id}/message-rules/{rule_id}", STAFF, to(api::message_rules::get)),
        (PUT, "/api/v1/events/{id}/message-rules/{rule_id}", BOX_OFFICE, to(api::message_rules::replace)),
        (DELETE, "/api/v1/events/{id}/message-rules/{rule_id}", BOX_OFFICE, to(api::message_rules::delete)),
        (GET, "/api/v1/performances/{id}", STAFF, to(api::performances::get)),
        (GET, "/api/v1/performances/{id}/arrivals", STAFF, to(api::performances::arrivals)),
        (POST, "/api/v1/performances/{id}/tickets", BOX_OFFICE, to(api::tickets::issue_one)),
        (GET, "/api/v1/performances/{id}/tickets", BOX_OFFICE, to(api::search::tickets)),
        (POST, "/api/v1/performances/{id}/tickets/bulk", BOX_OFFICE, to(api::tickets::issue_bulk)),
        (GET, "/api/v1/tickets/{id}", BOX_OFFICE, to(api::tickets::get)),
        (GET, "/api/v1/tickets/{id}/qr.png", BOX_OFFICE, to(api::tickets::qr_png)),
        (GET, "/api/v1/tickets/{id}/qr.svg", BOX_OFFICE, to(api::tickets::qr_svg)),
        (GET, "/api/v1/tickets/{id}/paper-code", BOX_OFFICE, to(api::tickets::paper_code)),
        (GET, "/api/v1/tickets/{id}/paper-code.png", BOX_OFFICE, to(api::tickets::paper_code_png)),
        (GET, "/api/v1/tickets/{id}/emails", BOX_OFFICE, to(api::tickets::emails)),
        (POST, "/api/v1/tickets/{id}/emails/{email_id}/resend", BOX_OFFICE, to(api::tickets::resend_email)),
        (POST, "/api/v1/tickets/{id}/confirmation/resend", BOX_OFFICE, to(api::tickets::resend_confirmation)),
        (POST, "/api/v1/tickets/{id}/exchange", BOX_OFFICE, to(api::changes::exchange)),
        (POST, "/api/v1/tickets/{id}/transfer", BOX_OFFICE, to(api::changes::transfer)),
        (POST, "/api/v1/tickets/{id}/transfer/cancel", BOX_OFFICE, to(api::changes::cancel_transfer)),
        (GET, "/api/v1/tickets/{id}/transfers", BOX_OFFICE, to(api::changes::list_transfers)),
        (GET, "/api/v1/patrons", BOX_OFFICE, to(api::search::patrons)),
        (GET, "/api/v1/patrons/{email}/credit", BOX_OFFICE, to(api::changes::patron_credit)),
        // Cancellations.
        (POST, "/api/v1/tickets/{id}/cancel", BOX_OFFICE, to(api::cancellations::cancel_ticket)),
        (POST, "/api/v1/performances/{id}/cancel", BOX_OFFICE, to(api::cancellations::cancel_performance)),
        (GET, "/api/v1/performances/{id}/cancellation", BOX_OFFICE, to(api::cancellations::cancellation_job)),
        // The patron journey.
        (GET, "/api/v1/tickets/{id}/history", BOX_OFFICE, to(api::journey::ticket_history)),
        (GET, "/api/v1/patrons/{email}", BOX_OFFICE, to(api::journey::patron)),
        // Staff accounts and API keys.
        (GET, "/api/v1/staff", ADMIN, to(api::staff::list_accounts)),
        (POST, "/api/v1/staff", ADMIN, to(api::staff::create_account)),
        (GET, "/api/v1/keys", ADMIN, to(api::staff::list_keys)),
        (POST, "/api/v1/keys", ADMIN, to(api::staff::create_key)),
        (POST, "/api/v1/keys/{id}/revoke", ADMIN, to(api::staff::revoke_key)),
        // Webhooks to the box office's other systems.
        (POST, "/api/v1/webhooks", ADMIN, to(api::webhooks::create)),
        (GET, "/api/v1/webhooks", ADMIN, to(api::webhooks::list)),
        (GET, "/api/v1/webhooks/{id}", ADMIN, to(api::webhooks::get)),
        (PATCH, "/api/v1/webhooks/{id}", ADMIN, to(api::webhooks::update)),
        (DELETE, "/api/v1/webhooks/{id}", ADMIN, to(api::webhooks::delete)),
        (GET, "/api/v1/webhooks/{id}/deliveries", ADMIN, to(api::webhooks::deliveries)),
        (POST, "/api/v1/webhooks/{id}/replay", ADMIN, to(api::webhooks::replay)),
    ]
}

/// Method and path of every JSON API route, as the route table serves them.
pub fn api_route_table() -> Vec<(Method, &'static str)> {
    api_routes()
        .into_iter()
        .map(|(method, path, _, _)| (method, path))
        .collect()
}

/// Method, path and who may call it, for every JSON API route.
pub fn api_route_access() -> Vec<(Method, &'static str, Access)> {
    api_routes()
        .into_iter()
        .map(|(method, path, access, _)| (method, path, access))
        .collect()
}

/// Every route the service has: the JSON API, then the patron's pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // One resource per path, so that a method the path lacks is a 405 naming those it has.
    let mut paths: Vec<(&'static str, Vec<(Method, Route)>)> = Vec::new();
    for (method, path, access, route) in api_routes() {
        let route = match access {
            Access::Public => route.method(method.clone()),
            _ => route.method(method.clone()).wrap(Authorize(access)),
        };
        match paths.iter_mut().find(|(p, _)| *p == path) {
            Some((_, routes)) => routes.push((method, route)),
            None => paths.push((path, vec![(method, route)])),
        }
    }
    for (path, routes) in paths {
        let allow = routes
            .iter()
            .map(|(method, _)| method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let resource = routes
            .into_iter()
            .fold(web::resource(path).name(path), |resource, (_, route)| {
                resource.route(route)
            });
        cfg.service(resource.default_service(to(move || {
            std::future::ready(error::method_not_allowed(&allow))
        })));
    }
    // The patron's pages, reached from the links in their emails.
    cfg.configure(pages::routes);
    // Apple's PassKit web service, for the wallets that hold a ticket's pass.
    cfg.configure(wallet::routes);
}

/// Builds the server on an already-bound listener (tests bind port 0 and read the port back):
/// HTTPS when `tls_cert_file` and `tls_key_file` are set, plain HTTP otherwise.
pub fn server(encore: Encore, config: &Config, listener: TcpListener) -> std::io::Result<Server> {
    let encore = web::Data::new(encore);
    let authenticator = web::Data::new(Authenticator::new(Duration::from_secs(
        config.api_key_cache_seconds,
    )));
    let json = web::JsonConfig::default()
        .limit(config.max_body_bytes)
        .error_handler(error::json_error);
    let request_metrics = encore.metrics.clone();
    let body_deadline = deadline::BodyDeadline {
        body: config.request_body_timeout(),
    };
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
            // Outermost, so it times everything and sees the final status. Off, it is not there.
            .wrap(middleware::Condition::new(
                request_metrics.is_enabled(),
                metrics::RequestMetrics::new(request_metrics.clone()),
            ))
            .wrap(body_deadline)
            .configure(routes)
            .default_service(web::to(error::no_such_route))
    })
    .client_request_timeout(config.request_header_timeout())
    .workers(config.workers())
    .shutdown_timeout(10);
    let server = match config.tls_files() {
        Some(files) => {
            let (tls, keep_fresh) = tls::server_config(files).map_err(std::io::Error::other)?;
            tokio::spawn(keep_fresh);
            server.listen_rustls_0_23(listener, tls)?
        }
        None => server.listen(listener)?,
    };
    Ok(server.run())
}
