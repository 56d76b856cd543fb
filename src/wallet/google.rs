//! Google Wallet: an "Add to Google Wallet" link carrying a JWT, signed RS256 with the
//! operator's service-account key, that holds the event's `EventTicketClass` and the ticket's
//! `EventTicketObject`; and, when the ticket changes, the object replaced through the Wallet
//! REST API with an OAuth access token the service account obtains (the JWT-bearer grant at the
//! key file's `token_uri`). Both addresses come from settings and the key file, so tests point
//! them at a local receiver.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::wallet::PassContent;

/// Where a patron saves a pass: the JWT goes at the end.
pub const SAVE_URL: &str = "https://pay.google.com/gp/v/save/";
/// Google's Wallet API.
pub const GOOGLE_WALLET_API: &str = "https://walletobjects.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/wallet_object.issuer";

#[derive(Debug, thiserror::Error)]
pub enum GoogleWalletError {
    #[error("google_wallet_service_account_file ({path}): {reason}")]
    Key { path: String, reason: String },
    #[error("Google Wallet needs google_wallet_issuer_id and google_wallet_service_account_file together; {missing} is not set")]
    Incomplete { missing: &'static str },
    #[error("signing the Google Wallet JWT: {0}")]
    Signing(String),
    #[error("the Wallet API's client: {0}")]
    Client(String),
}

/// The operator's settings.
#[derive(Debug, Clone, Default)]
pub struct GoogleWalletSettings {
    pub issuer_id: Option<String>,
    pub service_account_file: Option<String>,
    pub api_url: String,
    pub organization_name: String,
    /// The site that shows the link (the JWT's `origins`).
    pub origin: String,
}

/// The fields of a Google service-account key file that are used here.
#[derive(Deserialize)]
struct ServiceAccount {
    client_email: String,
    private_key: String,
    token_uri: String,
}

/// What an object update came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    Updated,
    /// The patron never saved the pass: there is no object to update.
    NotSaved,
    /// Not now: try again on the next round.
    Later(String),
}

/// Signs save links and updates objects for one issuer.
pub struct GoogleWallet {
    issuer_id: String,
    client_email: String,
    token_uri: String,
    key: EncodingKey,
    api_url: String,
    organization_name: String,
    origin: String,
    client: reqwest::Client,
    access_token: Mutex<Option<(String, Instant)>>,
}

#[derive(Serialize)]
struct SaveClaims<'a> {
    iss: &'a str,
    aud: &'static str,
    typ: &'static str,
    iat: i64,
    origins: [&'a str; 1],
    payload: Value,
}

#[derive(Serialize)]
struct GrantClaims<'a> {
    iss: &'a str,
    scope: &'static str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct AccessToken {
    access_token: String,
    expires_in: u64,
}

impl GoogleWallet {
    /// `None` when neither setting is made (the link is hidden); an error when one is missing
    /// or the key file does not load.
    pub fn load(
        settings: &GoogleWalletSettings,
    ) -> Result<Option<GoogleWallet>, GoogleWalletError> {
        let (issuer_id, path) = match (&settings.issuer_id, &settings.service_account_file) {
            (None, None) => return Ok(None),
            (None, Some(_)) => {
                return Err(GoogleWalletError::Incomplete {
                    missing: "google_wallet_issuer_id",
                })
            }
            (Some(_), None) => {
                return Err(GoogleWalletError::Incomplete {
                    missing: "google_wallet_service_account_file",
                })
            }
            (Some(issuer), Some(path)) => (issuer.clone(), path.clone()),
        };
        let key_error = |reason: String| GoogleWalletError::Key {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| key_error(e.to_string()))?;
        let account: ServiceAccount = serde_json::from_str(&text)
            .map_err(|e| key_error(format!("not a service-account key file: {e}")))?;
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|e| key_error(format!("its private_key is not an RSA key in PEM: {e}")))?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| GoogleWalletError::Client(e.to_string()))?;
        Ok(Some(GoogleWallet {
            issuer_id,
            client_email: account.client_email,
            token_uri: account.token_uri,
            key,
            api_url: settings.api_url.trim_end_matches('/').to_string(),
            organization_name: settings.organization_name.clone(),
            origin: settings.origin.clone(),
            client,
            access_token: Mutex::new(None),
        }))
    }

    fn class_id(&self, pass: &PassContent) -> String {
        format!("{}.encore-event-{}", self.issuer_id, pass.event_id)
    }

    fn object_id(&self, pass: &PassContent) -> String {
        format!("{}.encore-ticket-{}", self.issuer_id, pass.ticket_id)
    }

    /// The event as Google Wallet's `EventTicketClass`.
    pub fn class(&self, pass: &PassContent) -> Value {
        json!({
            "id": self.class_id(pass),
            "issuerName": self.organization_name,
            "reviewStatus": "UNDER_REVIEW",
            "eventName": localized(&pass.event_name),
            "venue": {"name": localized(&pass.venue), "address": localized(&pass.venue)},
            "dateTime": {"start": pass.starts_at.to_rfc3339()},
        })
    }

    /// The ticket as Google Wallet's `EventTicketObject`: its holder, seat and code, or no code
    /// and `INACTIVE` once it no longer admits.
    pub fn object(&self, pass: &PassContent) -> Value {
        let mut object = json!({
            "id": self.object_id(pass),
            "classId": self.class_id(pass),
            "state": if pass.voided() { "INACTIVE" } else { "ACTIVE" },
            "ticketHolderName": pass.holder_name,
            "seatInfo": {"seat": localized(&pass.seat)},
        });
        if let Some(code) = &pass.barcode {
            object["barcode"] = json!({"type": "QR_CODE", "value": code});
        }
        if let Some(code) = &pass.rotating {
            // The same TOTP as the ticket page and the door: Google's app computes the value.
            object["rotatingBarcode"] = json!({
                "type": "QR_CODE",
                "valuePattern": code.value_pattern,
                "totpDetails": {
                    "periodMillis": code.period_millis().to_string(),
                    "algorithm": "TOTP_SHA1",
                    "parameters": [{"key": code.secret_base16(), "valueLength": code.digits}],
                },
                "alternateText": "The code changes every few seconds",
            });
        }
        object
    }

    /// The "Add to Google Wallet" address of the ticket.
    pub fn save_url(&self, pass: &PassContent) -> Result<String, GoogleWalletError> {
        let claims = SaveClaims {
            iss: &self.client_email,
            aud: "google",
            typ: "savetowallet",
            iat: chrono::Utc::now().timestamp(),
            origins: [&self.origin],
            payload: json!({
                "eventTicketClasses": [self.class(pass)],
                "eventTicketObjects": [self.object(pass)],
            }),
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| GoogleWalletError::Signing(e.to_string()))?;
        Ok(format!("{SAVE_URL}{jwt}"))
    }

    /// An access token for the Wallet API, reused until a minute before it expires.
    async fn access_token(&self) -> Result<String, String> {
        if let Some((token, until)) = self
            .access_token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let now = chrono::Utc::now().timestamp();
        let grant = GrantClaims {
            iss: &self.client_email,
            scope: SCOPE,
            aud: &self.token_uri,
            iat: now,
            exp: now + 3600,
        };
        let assertion = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &grant, &self.key)
            .map_err(|e| e.to_string())?;
        let answer = self
            .client
            .post(&self.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("token request: {e}"))?;
        if !answer.status().is_success() {
            return Err(format!("token request: {}", answer.status()));
        }
        let token: AccessToken = answer
            .json()
            .await
            .map_err(|e| format!("token answer: {e}"))?;
        let until = Instant::now() + Duration::from_secs(token.expires_in.saturating_sub(60));
        *self.access_token.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((token.access_token.clone(), until));
        Ok(token.access_token)
    }

    /// Replaces the ticket's object with what the pass shows now.
    pub async fn update(&self, pass: &PassContent) -> UpdateOutcome {
        let token = match self.access_token().await {
            Ok(token) => token,
            Err(why) => return UpdateOutcome::Later(why),
        };
        let url = format!(
            "{}/walletobjects/v1/eventTicketObject/{}",
            self.api_url,
            self.object_id(pass)
        );
        match self
            .client
            .put(url)
            .bearer_auth(token)
            .json(&self.object(pass))
            .send()
            .await
        {
            Ok(answer) if answer.status().is_success() => UpdateOutcome::Updated,
            Ok(answer) if answer.status() == reqwest::StatusCode::NOT_FOUND => {
                UpdateOutcome::NotSaved
            }
            Ok(answer) => UpdateOutcome::Later(format!("object update: {}", answer.status())),
            Err(e) => UpdateOutcome::Later(format!("object update: {e}")),
        }
    }
}

/// A `LocalizedString` in the one language the service speaks.
fn localized(text: &str) -> Value {
    json!({"defaultValue": {"language": "en", "value": text}})
}
