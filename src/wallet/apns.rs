//! Apple's push service (APNs) for Wallet passes: an empty push to a device's push token, with
//! the pass type as the topic, tells the device to ask our web service which passes changed.
//! HTTP/2 only (Apple's rule), with token-based authentication: an ES256 JWT made from the
//! operator's `.p8` key, reused for 50 minutes (Apple refuses tokens older than an hour and
//! throttles ones renewed more often than every 20 minutes).

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde::Serialize;

/// Apple's production push service.
pub const APPLE_PUSH_URL: &str = "https://api.push.apple.com";

/// How long one authentication token is used before a new one is made.
const TOKEN_REUSE: Duration = Duration::from_secs(50 * 60);

#[derive(Debug, thiserror::Error)]
pub enum ApnsError {
    #[error("apns_key_file ({path}): {reason}")]
    Key { path: String, reason: String },
    #[error("the push service's client: {0}")]
    Client(String),
}

/// What a push came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Delivered,
    /// The device no longer holds the pass or the token is not a device's: forget it.
    Gone,
    /// Not now (Apple busy, the network down): try again on the next round.
    Later(String),
}

/// The push service's address and the operator's credentials.
#[derive(Debug, Clone)]
pub struct ApnsSettings {
    /// `https://api.push.apple.com`, or a local receiver in tests (plain HTTP/2).
    pub url: String,
    pub key_file: String,
    pub key_id: String,
    pub team_id: String,
    /// The pass type id: the topic of every push.
    pub topic: String,
}

#[derive(Serialize)]
struct ProviderClaims<'a> {
    iss: &'a str,
    iat: i64,
}

/// Sends pushes to Apple, over one HTTP/2 client.
pub struct Apns {
    settings: ApnsSettings,
    key: EncodingKey,
    client: reqwest::Client,
    token: Mutex<Option<(String, Instant)>>,
}

impl Apns {
    pub fn new(settings: ApnsSettings) -> Result<Apns, ApnsError> {
        let pem = std::fs::read(Path::new(&settings.key_file)).map_err(|e| ApnsError::Key {
            path: settings.key_file.clone(),
            reason: e.to_string(),
        })?;
        let key = EncodingKey::from_ec_pem(&pem).map_err(|e| ApnsError::Key {
            path: settings.key_file.clone(),
            reason: format!("not an EC private key in PEM (Apple's .p8): {e}"),
        })?;
        let client = reqwest::Client::builder()
            .http2_prior_knowledge()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| ApnsError::Client(e.to_string()))?;
        Ok(Apns {
            settings,
            key,
            client,
            token: Mutex::new(None),
        })
    }

    /// The provider token, made again when the one in use is 50 minutes old.
    fn token(&self) -> Result<String, jsonwebtoken::errors::Error> {
        let mut held = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((token, made)) = held.as_ref() {
            if made.elapsed() < TOKEN_REUSE {
                return Ok(token.clone());
            }
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.settings.key_id.clone());
        let claims = ProviderClaims {
            iss: &self.settings.team_id,
            iat: chrono::Utc::now().timestamp(),
        };
        let token = jsonwebtoken::encode(&header, &claims, &self.key)?;
        *held = Some((token.clone(), Instant::now()));
        Ok(token)
    }

    /// Tells the device behind `push_token` that a pass of ours changed.
    pub async fn push(&self, push_token: &str) -> PushOutcome {
        let token = match self.token() {
            Ok(token) => token,
            Err(e) => return PushOutcome::Later(format!("provider token: {e}")),
        };
        let url = format!(
            "{}/3/device/{}",
            self.settings.url.trim_end_matches('/'),
            push_token
        );
        let sent = self
            .client
            .post(url)
            .bearer_auth(token)
            .header("apns-topic", &self.settings.topic)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body("{}")
            .send()
            .await;
        match sent {
            Ok(answer) => match answer.status() {
                StatusCode::OK => PushOutcome::Delivered,
                // 410: the device no longer takes pushes for this topic; 400 with
                // BadDeviceToken: the token is not a device's. Neither will ever work.
                StatusCode::GONE => PushOutcome::Gone,
                StatusCode::BAD_REQUEST => {
                    let reason = answer.text().await.unwrap_or_default();
                    if reason.contains("BadDeviceToken") {
                        PushOutcome::Gone
                    } else {
                        PushOutcome::Later(format!("400 {reason}"))
                    }
                }
                status => {
                    let reason = answer.text().await.unwrap_or_default();
                    PushOutcome::Later(format!("{status} {reason}"))
                }
            },
            Err(e) => PushOutcome::Later(e.to_string()),
        }
    }
}
