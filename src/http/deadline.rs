//! A deadline on reading a request's body. actix-web bounds the time to send the headers
//! (`client_request_timeout`) but not the body: a client dripping one byte a second would hold a
//! connection, and the handler waiting on it, for as long as it likes. This middleware makes the
//! body stream fail with `TimedOut` once the deadline has passed; the extractor reading it then
//! answers 408 and the connection is closed.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures::Stream;

/// The middleware: `body` is the time from the end of the headers to the end of the body.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    pub body: Duration,
}

impl<S, B> Transform<S, ServiceRequest> for BodyDeadline
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = BodyDeadlineService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(BodyDeadlineService {
            service,
            body: self.body,
        }))
    }
}

pub struct BodyDeadlineService<S> {
    service: S,
    body: Duration,
}

impl<S, B> Service<ServiceRequest> for BodyDeadlineService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = S::Future;

    actix_web::dev::forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        // A request without a body (most GETs) has nothing to wait for: no stream is wrapped.
        let headers = req.headers();
        let has_body = headers.contains_key(TRANSFER_ENCODING)
            || headers
                .get(CONTENT_LENGTH)
                .is_some_and(|length| length.as_bytes() != b"0");
        if has_body {
            let inner = req.take_payload();
            let limited = TimedPayload {
                inner,
                deadline: tokio::time::sleep(self.body),
            };
            req.set_payload(Payload::Stream {
                payload: Box::pin(limited),
            });
        }
        self.service.call(req)
    }
}

pin_project_lite::pin_project! {
    /// The body as it arrives, until the deadline; then a `TimedOut` error.
    struct TimedPayload {
        inner: Payload,
        #[pin]
        deadline: tokio::time::Sleep,
    }
}

impl Stream for TimedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if let Poll::Ready(item) = Pin::new(this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match this.deadline.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body was not received in time",
            ))))),
            Poll::Pending => Poll::Pending,
        }
    }
}
