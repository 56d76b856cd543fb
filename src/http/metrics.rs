//! `GET /metrics` and the middleware that counts and times every request.
//!
//! Who may read the metrics: on the service's own address, an `admin` key (they describe the
//! whole service's traffic); on the optional `metrics_bind` address, anyone who can reach it —
//! meant for a scraper on a private network or loopback, with no key to leak.
//!
//! Requests are labelled with their route's pattern (`/t/{token}`), never the raw path: patron
//! link tokens are capabilities and must not reach the metrics.
//!
//! Cost per request: the API's resources are named by their path, so the route label is
//! borrowed, not built (only the pages' patterns are); then a lookup in this worker's own map
//! and two atomic updates (the histogram's buffer grows by
//! blocks and is drained every few seconds). No lock is shared between workers.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::{ready, Future, Ready};
use std::net::TcpListener;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{forward_ready, Server, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, App, HttpResponse, HttpServer};
use metrics::{Counter, Histogram};

use super::error::ApiError;
use super::run_blocking;
use crate::metrics::Metrics;
use crate::service::{outbox, Encore};

/// The label of requests that matched no route (404s for any path): one series, whatever the
/// path was.
const UNMATCHED: &str = "unmatched";

/// `GET /metrics` on the service's address: for an `admin` key.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses(
    (status = 200, body = String, content_type = "text/plain",
        description = "Prometheus text exposition format"),
    (status = 403),
    (status = 404, description = "Metrics are turned off (`metrics_enabled = false`)")))]
pub async fn scrape(encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    render(encore).await
}

/// `GET /metrics` on `metrics_bind`: no key.
async fn scrape_open(encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    render(encore).await
}

async fn render(encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    if !encore.metrics.is_enabled() {
        return Err(ApiError::not_found(
            "Metrics are turned off (metrics_enabled = false).",
        ));
    }
    let encore = encore.into_inner();
    let text = run_blocking(move || {
        let snapshot = outbox::metrics_snapshot(&encore)?;
        Ok(encore.metrics.render(&snapshot))
    })
    .await?
    .unwrap_or_default();
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

/// A server on its own address answering only `GET /metrics`, without a key. It runs in the
/// process's runtime and ends with it.
pub fn server(encore: Encore, listener: TcpListener) -> std::io::Result<Server> {
    let encore = web::Data::new(encore);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(encore.clone())
            .route("/metrics", web::get().to(scrape_open))
            .default_service(web::to(super::error::no_such_route))
    })
    .workers(1)
    // The process's own signal handling decides when it stops (`serve`: the main server's;
    // `worker`: Ctrl-C or the default SIGTERM); this server must not swallow a SIGTERM.
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run())
}

/// Counts and times every request by method, route pattern and status.
pub struct RequestMetrics {
    metrics: Arc<Metrics>,
}

impl RequestMetrics {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        RequestMetrics { metrics }
    }
}

// The same actix `Transform` boilerplate as `auth::Authorize`'s: each wraps its own service type.
impl<S, B> Transform<S, ServiceRequest> for RequestMetrics
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RequestMetricsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    /// Called once per worker thread: each worker keeps its own handles, with no lock.
    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestMetricsService {
            service,
            handles: Rc::new(Handles {
                metrics: self.metrics.clone(),
                by_route: RefCell::new(HashMap::new()),
            }),
        }))
    }
}

pub struct RequestMetricsService<S> {
    service: S,
    handles: Rc<Handles>,
}

/// One worker's handles, registered on a route's first request: afterwards recording a
/// request is a lookup and two atomic updates.
struct Handles {
    metrics: Arc<Metrics>,
    /// Route pattern → (method, status, requests, latency).
    #[allow(clippy::type_complexity)]
    by_route: RefCell<HashMap<String, Vec<(&'static str, u16, Counter, Histogram)>>>,
}

impl Handles {
    fn record(&self, method: &'static str, route: Option<&str>, status: StatusCode, seconds: f64) {
        let route = route.unwrap_or(UNMATCHED);
        let status = status.as_u16();
        let mut by_route = self.by_route.borrow_mut();
        if !by_route.contains_key(route) {
            by_route.insert(route.to_string(), Vec::new());
        }
        let series = by_route.get_mut(route).expect("just inserted");
        let position = match series
            .iter()
            .position(|(m, s, _, _)| *m == method && *s == status)
        {
            Some(position) => position,
            None => {
                let (counter, histogram) = self.metrics.request_handles(method, route, status);
                series.push((method, status, counter, histogram));
                series.len() - 1
            }
        };
        let (_, _, requests, latency) = &series[position];
        requests.increment(1);
        latency.record(seconds);
    }
}

/// The method as a label: the standard ones by name, any other as one `OTHER` series, so a
/// client inventing methods cannot grow the metrics without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl<S, B> Service<ServiceRequest> for RequestMetricsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Timed<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        Timed {
            method: method_label(req.method()),
            started: Instant::now(),
            handles: self.handles.clone(),
            inner: self.service.call(req),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner service's answer, recorded when it is ready (no boxing per request).
    pub struct Timed<F> {
        #[pin]
        inner: F,
        method: &'static str,
        started: Instant,
        handles: Rc<Handles>,
    }
}

impl<F, B> Future for Timed<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let answer = std::task::ready!(this.inner.poll(cx));
        let seconds = this.started.elapsed().as_secs_f64();
        match &answer {
            // API resources are named by their path, so the hot path borrows the name; other
            // routes (the pages) have their pattern built.
            Ok(response) => {
                let request = response.request();
                let status = response.status();
                match request.match_name() {
                    Some(name) => this
                        .handles
                        .record(this.method, Some(name), status, seconds),
                    None => {
                        let pattern = request.match_pattern();
                        this.handles
                            .record(this.method, pattern.as_deref(), status, seconds)
                    }
                }
            }
            Err(e) => {
                let status = e.as_response_error().status_code();
                this.handles.record(this.method, None, status, seconds)
            }
        }
        Poll::Ready(answer)
    }
}
