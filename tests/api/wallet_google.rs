//! Google Wallet, on SQLite and PostgreSQL: the ticket page's "Add to Google Wallet" link leads
//! to Google's save page with a JWT that verifies with the service account's public key and
//! holds the event's class and the ticket's object (its holder, seat and the code the door
//! knows); when the box office cancels the ticket, the worker obtains an access token from the
//! key file's token endpoint and replaces the object (inactive, no code) through the Wallet
//! API, both played by a local receiver. Without the settings there is no link.

use std::process::Command;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use encore::config::Config;
use encore::domain::Role;

use crate::helpers::{on_each_backend, Backend, TestApp};
use crate::receiver::Receiver;

const ISSUER: &str = "3388000000012345678";
const CLIENT_EMAIL: &str = "encore-wallet@encore-test.iam.gserviceaccount.com";
const ACCESS_TOKEN: &str = "ya29.test-access-token";

/// A service account's key made with the openssl CLI, as Google's JSON key file, whose
/// `token_uri` is the receiver's.
struct ServiceAccount {
    dir: tempfile::TempDir,
}

impl ServiceAccount {
    fn make(token_uri: &str) -> ServiceAccount {
        let dir = tempfile::tempdir().unwrap();
        for args in [
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "sa.key",
            ][..],
            &["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"][..],
        ] {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let private_key = std::fs::read_to_string(dir.path().join("sa.key")).unwrap();
        let key_file = json!({
            "type": "service_account",
            "project_id": "encore-test",
            "client_email": CLIENT_EMAIL,
            "private_key": private_key,
            "token_uri": token_uri,
        });
        std::fs::write(dir.path().join("key.json"), key_file.to_string()).unwrap();
        ServiceAccount { dir }
    }

    fn configure(&self, config: &mut Config, api_url: &str) {
        config.google_wallet_issuer_id = Some(ISSUER.into());
        config.google_wallet_service_account_file = Some(
            self.dir
                .path()
                .join("key.json")
                .to_string_lossy()
                .into_owned(),
        );
        config.google_wallet_api_url = api_url.into();
    }

    /// Verifies an RS256 JWT with the account's public key; its claims.
    fn verify(&self, jwt: &str, audience: &str) -> Value {
        let public = std::fs::read(self.dir.path().join("sa.pub")).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.set_audience(&[audience]);
        jsonwebtoken::decode::<Value>(
            jwt,
            &jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap(),
            &validation,
        )
        .expect("the JWT verifies with the service account's public key")
        .claims
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn a_saved_ticket_is_signed_and_updated_when_canceled(backend: Backend) {
    // Google's token endpoint and Wallet API, played by one receiver.
    let google = Receiver::start(false, |request| match request.path.as_str() {
        "/token" => (
            200,
            json!({"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})
                .to_string(),
        ),
        _ => (200, request.body.clone()),
    })
    .await;
    let account = ServiceAccount::make(&format!("{}/token", google.url));
    let app = TestApp::spawn_with(backend, |c| account.configure(c, &google.url)).await;
    let performance = app
        .create_performance_at(Utc::now() + Duration::days(3), 10)
        .await;
    let ticket = app
        .issue_to(performance, "Ada Lovelace", "ada@example.org")
        .await;
    let id = ticket["id"].as_i64().unwrap();
    let token = app.view_token(&ticket);

    let page = app
        .client
        .get(app.url(&format!("/t/{token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"id="google-wallet""#),
        "the page offers the link"
    );

    // The link goes on to Google's save page with the signed JWT.
    let response = no_redirects()
        .get(app.url(&format!("/t/{token}/google-wallet")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    let jwt = location
        .strip_prefix("https://pay.google.com/gp/v/save/")
        .expect("Google's save page");
    let claims = account.verify(jwt, "google");
    assert_eq!(claims["iss"], CLIENT_EMAIL);
    assert_eq!(claims["typ"], "savetowallet");
    assert_eq!(claims["origins"], json!([app.base]));
    let class = &claims["payload"]["eventTicketClasses"][0];
    let object = &claims["payload"]["eventTicketObjects"][0];
    let object_id = format!("{ISSUER}.encore-ticket-{id}");
    assert_eq!(object["id"], object_id);
    assert_eq!(object["classId"], class["id"]);
    assert!(class["id"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{ISSUER}.")));
    assert_eq!(class["eventName"]["defaultValue"]["value"], "Hamlet");
    assert_eq!(object["state"], "ACTIVE");
    assert_eq!(object["ticketHolderName"], "Ada Lovelace");
    assert_eq!(object["barcode"]["type"], "QR_CODE");
    // The object's code is the ticket's token: the door knows it.
    let code = object["barcode"]["value"].as_str().unwrap();
    assert_eq!(code, ticket["token"].as_str().unwrap());
    let (_, scan) = app.scan(&app.key(Role::Scanner), code, "north").await;
    assert_eq!(scan["ticket_id"], id, "{scan}");

    // Nothing changed: the worker calls nobody.
    let worker = app.worker();
    assert_eq!(worker.update_wallets().await.unwrap(), 0);
    assert!(google.received().is_empty());

    // The box office cancels the ticket; the next round replaces the object.
    let canceled = app
        .post(
            &format!("/api/v1/tickets/{id}/cancel"),
            &app.admin_key,
            &json!({"reason": "the patron asked", "refund_to_credit": true}),
        )
        .await;
    assert!(canceled.status().is_success(), "{}", canceled.status());
    assert_eq!(worker.update_wallets().await.unwrap(), 1);
    let received = google.received();
    assert_eq!(received.len(), 2, "{received:?}");
    let grant = &received[0];
    assert_eq!(
        (grant.method.as_str(), grant.path.as_str()),
        ("POST", "/token")
    );
    let form: Vec<(String, String)> = url::form_urlencoded::parse(grant.body.as_bytes())
        .into_owned()
        .collect();
    assert!(form.contains(&(
        "grant_type".into(),
        "urn:ietf:params:oauth:grant-type:jwt-bearer".into()
    )));
    let assertion = &form.iter().find(|(k, _)| k == "assertion").unwrap().1;
    let grant_claims = account.verify(assertion, &format!("{}/token", google.url));
    assert_eq!(grant_claims["iss"], CLIENT_EMAIL);
    assert_eq!(
        grant_claims["scope"],
        "https://www.googleapis.com/auth/wallet_object.issuer"
    );

    let put = &received[1];
    assert_eq!(put.method, "PUT");
    assert_eq!(
        put.path,
        format!("/walletobjects/v1/eventTicketObject/{object_id}")
    );
    assert_eq!(
        put.header("authorization"),
        format!("Bearer {ACCESS_TOKEN}")
    );
    let replaced: Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!(replaced["id"], object_id);
    assert_eq!(replaced["state"], "INACTIVE");
    assert!(replaced.get("barcode").is_none(), "{replaced}");

    // Told once.
    assert_eq!(worker.update_wallets().await.unwrap(), 0);
    assert_eq!(google.received().len(), 2);
    google.stop().await;
}

/// RFC 6238 from the object's own parameters (HMAC-SHA1 over the step counter, dynamic
/// truncation), written here apart from the service's, as Google's app computes it.
fn totp_from(details: &Value, unix_seconds: u64) -> String {
    use hmac::{Hmac, Mac};
    let period = details["periodMillis"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1000;
    let parameters = &details["parameters"][0];
    let key = hex::decode(parameters["key"].as_str().unwrap()).expect("a Base16 key");
    let digits = parameters["valueLength"].as_u64().unwrap() as u32;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&(unix_seconds / period).to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[19] & 0x0f) as usize;
    let number = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    format!(
        "{:0width$}",
        number % 10u32.pow(digits),
        width = digits as usize
    )
}

async fn a_rotating_events_object_rotates_the_code_the_door_admits(backend: Backend) {
    let google = Receiver::start(false, |_| (200, "{}".into())).await;
    let account = ServiceAccount::make(&format!("{}/token", google.url));
    let app = TestApp::spawn_with(backend, |c| account.configure(c, &google.url)).await;
    let event = app
        .post_expecting(
            "/api/v1/events",
            &json!({"name": "Giselle", "venue": "Opera", "time_zone": "UTC",
                    "barcode": "rotating", "rotation_seconds": 15}),
            StatusCode::CREATED,
        )
        .await;
    let performance = app
        .post_expecting(
            &format!("/api/v1/events/{}/performances", event["id"]),
            &json!({"starts_at": Utc::now() + Duration::minutes(30), "capacity": 50}),
            StatusCode::CREATED,
        )
        .await;
    let ticket = app
        .issue_to(
            performance["id"].as_i64().unwrap(),
            "Ada Lovelace",
            "ada@example.org",
        )
        .await;
    let token = app.view_token(&ticket);
    let response = no_redirects()
        .get(app.url(&format!("/t/{token}/google-wallet")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    let jwt = location
        .strip_prefix("https://pay.google.com/gp/v/save/")
        .unwrap();
    let object = account.verify(jwt, "google")["payload"]["eventTicketObjects"][0].clone();

    // The rotating code alone: the static one is refused at a rotating event's door.
    assert!(object.get("barcode").is_none(), "{object}");
    let rotating = &object["rotatingBarcode"];
    assert_eq!(rotating["type"], "QR_CODE");
    let details = &rotating["totpDetails"];
    assert_eq!(details["algorithm"], "TOTP_SHA1");
    assert_eq!(details["periodMillis"], "15000");
    let pattern = rotating["valuePattern"].as_str().unwrap();
    assert!(pattern.contains("{totp_value_0}"), "{pattern}");

    // The value Google's app would show now is the one the door admits.
    let now = Utc::now().timestamp() as u64;
    let value = pattern.replace("{totp_value_0}", &totp_from(details, now));
    let (_, scan) = app.scan(&app.key(Role::Scanner), &value, "north").await;
    assert_eq!(scan["outcome"], "admitted", "{value}: {scan}");
    assert_eq!(scan["ticket_id"], ticket["id"]);
    // And one from two minutes ago is a screenshot's.
    let old = pattern.replace("{totp_value_0}", &totp_from(details, now - 120));
    let (_, stale) = app.scan(&app.key(Role::Scanner), &old, "north").await;
    assert_eq!(stale["outcome"], "stale_code", "{stale}");
    google.stop().await;
}

async fn without_settings_there_is_no_google_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    let token = app.view_token(&ticket);
    let page = app
        .client
        .get(app.url(&format!("/t/{token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("google-wallet"));
    let response = no_redirects()
        .get(app.url(&format!("/t/{token}/google-wallet")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

on_each_backend!(google_wallet:
    a_saved_ticket_is_signed_and_updated_when_canceled,
    a_rotating_events_object_rotates_the_code_the_door_admits,
    without_settings_there_is_no_google_link,
);
