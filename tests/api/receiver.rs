//! A local HTTP receiver standing in for a service Encore calls out to (Apple's push service,
//! Google's Wallet API and token endpoint): it records every request and answers each with what
//! the test's `answer` says. It speaks HTTP/1.1 and, with `h2c`, HTTP/2 by prior knowledge, as
//! Apple's push service requires.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub http2: bool,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

type Answer = dyn Fn(&Received) -> (u16, String) + Send + Sync;

pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    server: actix_web::dev::ServerHandle,
}

impl Receiver {
    /// Starts on a free loopback port; `answer` gives each request's status and JSON body.
    pub async fn start(
        h2c: bool,
        answer: impl Fn(&Received) -> (u16, String) + Send + Sync + 'static,
    ) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        Self::start_on(listener, h2c, answer).await
    }

    /// As `start`, on a listener the test bound (a port it named before anything listened).
    pub async fn start_on(
        listener: std::net::TcpListener,
        h2c: bool,
        answer: impl Fn(&Received) -> (u16, String) + Send + Sync + 'static,
    ) -> Receiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answer: Arc<Answer> = Arc::new(answer);
        let recorded = received.clone();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            let (recorded, answer) = (recorded.clone(), answer.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (recorded, answer) = (recorded.clone(), answer.clone());
                async move {
                    let request = Received {
                        method: req.method().to_string(),
                        path: req.path().to_string(),
                        http2: req.version() == actix_web::http::Version::HTTP_2,
                        headers: req
                            .headers()
                            .iter()
                            .map(|(name, value)| {
                                (
                                    name.as_str().to_string(),
                                    value.to_str().unwrap_or_default().to_string(),
                                )
                            })
                            .collect(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    };
                    let (status, reply) = answer(&request);
                    recorded.lock().unwrap().push(request);
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                        .content_type("application/json")
                        .body(reply)
                }
            }))
        })
        .workers(1);
        let server = if h2c {
            server.listen_auto_h2c(listener)
        } else {
            server.listen(listener)
        }
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url,
            received,
            server: handle,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub async fn stop(self) {
        self.server.stop(true).await;
    }
}
