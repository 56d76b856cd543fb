//! Encore's calls out to webhook endpoints: a `reqwest` client whose name lookups refuse any
//! host that resolves to an address Encore may not reach (every address is checked, at each
//! connection, so a name that changes after registration gains nothing), that never follows a
//! redirect, ignores proxy settings, and gives up after a timeout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::domain::webhook::{check_address, EndpointUrl, Reach};
use crate::domain::Invalid;

/// How long a name lookup may take at registration.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Looks `host` up and checks every address; the addresses, or why not.
pub async fn resolve_checked(
    host: &str,
    port: u16,
    reach: Reach,
) -> Result<Vec<SocketAddr>, Invalid> {
    let lookup = tokio::net::lookup_host((host, port));
    let addrs: Vec<SocketAddr> = match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(e)) => {
            return Err(Invalid::new(
                "url",
                format!("the host {host} cannot be resolved: {e}"),
            ))
        }
        Err(_) => {
            return Err(Invalid::new(
                "url",
                format!("the host {host} did not resolve within {LOOKUP_TIMEOUT:?}"),
            ))
        }
    };
    if addrs.is_empty() {
        return Err(Invalid::new(
            "url",
            format!("the host {host} has no address"),
        ));
    }
    for addr in &addrs {
        check_address(addr.ip(), reach)?;
    }
    Ok(addrs)
}

/// Checks an endpoint URL as registration does: its rules, then (for a host name) every
/// address it resolves to.
pub async fn check_endpoint(url: &EndpointUrl, reach: Reach) -> Result<(), Invalid> {
    if let Some(host) = url.domain() {
        resolve_checked(host, url.port(), reach).await?;
    }
    Ok(())
}

/// The lookups of the delivery client.
struct GuardedResolver {
    reach: Reach,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let reach = self.reach;
        Box::pin(async move {
            let addrs = resolve_checked(name.as_str(), 0, reach)
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered(u16),
    /// Another answer, or none (the reason).
    Failed(Option<u16>, String),
}

/// The client that delivers webhooks.
#[derive(Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    reach: Reach,
}

impl WebhookClient {
    pub fn new(reach: Reach, timeout: Duration, concurrency: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver { reach }))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(concurrency.max(1))
            .user_agent(concat!("Encore-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookClient { http, reach })
    }

    /// POSTs one signed message.
    pub async fn post(
        &self,
        url: &str,
        id: &str,
        timestamp: i64,
        signature: &str,
        body: String,
    ) -> Outcome {
        // An address written in the URL is not looked up: check it here (the rules may have
        // changed since it was registered).
        let parsed = match EndpointUrl::parse(url, self.reach) {
            Ok(parsed) => parsed,
            Err(e) => return Outcome::Failed(None, e.to_string()),
        };
        let sent = self
            .http
            .post(parsed.as_str())
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                // Read (and drop) the body, so the connection is reused.
                let _ = response.bytes().await;
                if (200..300).contains(&status) {
                    Outcome::Delivered(status)
                } else {
                    Outcome::Failed(Some(status), format!("the endpoint answered {status}"))
                }
            }
            Err(e) => Outcome::Failed(None, describe(&e)),
        }
    }
}

/// The error and its causes in one line (reqwest's own message names only the first).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}
