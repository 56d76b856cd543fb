//! Apple Wallet passes, on SQLite and PostgreSQL: the `.pkpass` a patron downloads from the
//! ticket page (a zip whose manifest hashes match, signed with a Pass Type ID certificate that
//! verifies against a test CA made here with the openssl CLI, saying what the ticket says, with
//! a code the door admits), the button hidden and the file absent without credentials, and
//! Apple's PassKit web service end to end with a simulated device: it registers, a transfer
//! leads to a push (received over HTTP/2 by a local stand-in for Apple's push service, with a
//! provider token that verifies) and to an updated, voided pass, while the new holder's pass
//! names them.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use std::io::Read;
use std::path::Path;
use std::process::Command;

use encore::config::Config;
use encore::domain::Role;

use crate::helpers::{on_each_backend, Backend, TestApp};
use crate::receiver::Receiver;

const PASS_TYPE: &str = "pass.org.encore.test";
const TEAM: &str = "TEAM123456";
const APNS_KEY_ID: &str = "KEY1234567";

/// A test CA standing in for Apple's WWDR intermediate, a Pass Type ID certificate it signed,
/// and an APNs auth key, all made with the openssl CLI in a folder of the test's own.
struct AppleCredentials {
    dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl AppleCredentials {
    fn make() -> AppleCredentials {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=Encore Test WWDR CA",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "pass.key",
                "-out",
                "pass.csr",
                "-subj",
                &format!("/UID={PASS_TYPE}/CN=Pass Type ID: {PASS_TYPE}/OU={TEAM}/O=Encore Test"),
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "pass.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "pass.pem",
                "-days",
                "2",
            ],
        );
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "apns.p8",
            ],
        );
        openssl(
            d,
            &["pkey", "-in", "apns.p8", "-pubout", "-out", "apns.pub"],
        );
        AppleCredentials { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    /// Passes signed with these credentials; pushes to `apns_url` when given.
    fn configure(&self, config: &mut Config, apns_url: Option<&str>) {
        config.apple_pass_type_id = Some(PASS_TYPE.into());
        config.apple_team_id = Some(TEAM.into());
        config.apple_pass_certificate_file = Some(self.path("pass.pem"));
        config.apple_pass_key_file = Some(self.path("pass.key"));
        config.apple_wwdr_certificate_file = Some(self.path("ca.pem"));
        config.wallet_organization_name = "Encore Test Theatre".into();
        if let Some(url) = apns_url {
            config.apns_url = url.into();
            config.apns_key_file = Some(self.path("apns.p8"));
            config.apns_key_id = Some(APNS_KEY_ID.into());
        }
    }
}

/// A `.pkpass` opened: its files by name.
struct Pass {
    files: Vec<(String, Vec<u8>)>,
}

impl Pass {
    fn open(bytes: &[u8]) -> Pass {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip file");
        let files = (0..zip.len())
            .map(|i| {
                let mut file = zip.by_index(i).unwrap();
                let mut content = Vec::new();
                file.read_to_end(&mut content).unwrap();
                (file.name().to_string(), content)
            })
            .collect();
        Pass { files }
    }

    fn file(&self, name: &str) -> &[u8] {
        &self
            .files
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} in the pass"))
            .1
    }

    fn json(&self) -> Value {
        serde_json::from_slice(self.file("pass.json")).expect("pass.json is JSON")
    }

    /// Every file but the manifest and signature is in the manifest with its SHA-1, and the
    /// manifest names nothing else.
    fn assert_manifest_matches(&self) {
        let manifest: Value = serde_json::from_slice(self.file("manifest.json")).unwrap();
        let listed = manifest.as_object().expect("the manifest is an object");
        let mut hashed = 0;
        for (name, content) in &self.files {
            if name == "manifest.json" || name == "signature" {
                continue;
            }
            let sha1 = hex::encode(Sha1::digest(content));
            assert_eq!(listed[name].as_str(), Some(sha1.as_str()), "{name}");
            hashed += 1;
        }
        assert_eq!(listed.len(), hashed, "{manifest}");
    }

    /// The detached PKCS#7 signature of the manifest verifies against the test CA; and a
    /// manifest changed after signing does not.
    fn assert_signature_verifies(&self, credentials: &AppleCredentials) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("signature"), self.file("signature")).unwrap();
        let verifies = |manifest: &[u8]| {
            std::fs::write(dir.path().join("manifest.json"), manifest).unwrap();
            let out = Command::new("openssl")
                .args([
                    "smime",
                    "-verify",
                    "-binary",
                    "-inform",
                    "DER",
                    "-in",
                    "signature",
                    "-content",
                    "manifest.json",
                    "-CAfile",
                    &credentials.path("ca.pem"),
                    "-purpose",
                    "any",
                    "-out",
                    "/dev/null",
                ])
                .current_dir(dir.path())
                .output()
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (ok, why) = verifies(self.file("manifest.json"));
        assert!(ok, "openssl smime -verify: {why}");
        assert!(!verifies(b"{}").0, "a changed manifest must not verify");
    }
}

async fn download(app: &TestApp, ticket: &Value) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/t/{}/pass.pkpass", app.view_token(ticket))))
        .send()
        .await
        .unwrap()
}

async fn download_pass(app: &TestApp, ticket: &Value) -> Pass {
    let response = download(app, ticket).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.apple.pkpass"
    );
    Pass::open(&response.bytes().await.unwrap())
}

/// The text part of the one confirmation the worker wrote to the mail folder.
async fn confirmation_text(app: &TestApp) -> String {
    assert_eq!(app.worker().deliver_due().await.unwrap(), 1);
    let file = std::fs::read_dir(&app.config.mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "eml"))
        .expect("the confirmation, as a file");
    let raw = std::fs::read(file).unwrap();
    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
    message.body_text(0).unwrap().into_owned()
}

async fn ticket_page(app: &TestApp, ticket: &Value) -> String {
    let response = app
        .client
        .get(app.url(&format!("/t/{}", app.view_token(ticket))))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

async fn the_pass_is_signed_and_says_what_the_ticket_says(backend: Backend) {
    let credentials = AppleCredentials::make();
    let app = TestApp::spawn_with(backend, |c| credentials.configure(c, None)).await;
    let performance = app
        .create_performance_at(Utc::now() + Duration::days(3), 10)
        .await;
    let ticket = app
        .issue_to(performance, "Ada Lovelace", "ada@example.org")
        .await;
    assert!(
        ticket_page(&app, &ticket)
            .await
            .contains(r#"id="apple-wallet""#),
        "the ticket page offers the pass"
    );

    // The confirmation email links to the pass too, and that link downloads it.
    let email = confirmation_text(&app).await;
    let link = email
        .lines()
        .find(|l| l.ends_with("/pass.pkpass"))
        .unwrap_or_else(|| panic!("a pass link in the confirmation: {email}"));
    let from_email = app.client.get(link).send().await.unwrap();
    assert_eq!(from_email.status(), StatusCode::OK);
    Pass::open(&from_email.bytes().await.unwrap()).assert_manifest_matches();

    let pass = download_pass(&app, &ticket).await;
    let mut names: Vec<&str> = pass.files.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "icon.png",
            "icon@2x.png",
            "icon@3x.png",
            "manifest.json",
            "pass.json",
            "signature"
        ]
    );
    pass.assert_manifest_matches();
    pass.assert_signature_verifies(&credentials);

    let json = pass.json();
    assert_eq!(json["formatVersion"], 1);
    assert_eq!(json["passTypeIdentifier"], PASS_TYPE);
    assert_eq!(json["teamIdentifier"], TEAM);
    assert_eq!(json["organizationName"], "Encore Test Theatre");
    assert_eq!(json["serialNumber"], ticket["id"].to_string());
    assert_ne!(json["voided"], true, "absent or false");
    let fields = &json["eventTicket"];
    assert_eq!(fields["primaryFields"][0]["value"], "Hamlet");
    assert_eq!(fields["secondaryFields"][1]["value"], "The Globe");
    assert_eq!(fields["auxiliaryFields"][0]["value"], "Ada Lovelace");
    assert_eq!(json["webServiceURL"], app.url("/wallet/apple"));
    assert!(json["authenticationToken"].as_str().unwrap().len() >= 16);
    // Its code is the ticket's own token (the show is in three days, so the door knows the
    // ticket and says it is not valid yet).
    let barcode = &json["barcodes"][0];
    assert_eq!(barcode["format"], "PKBarcodeFormatQR");
    let code = barcode["message"].as_str().unwrap();
    assert_eq!(code, ticket["token"].as_str().unwrap());
    let (_, scan) = app.scan(&app.key(Role::Scanner), code, "north").await;
    assert_eq!(scan["outcome"], "not_yet_valid", "{scan}");
    assert_eq!(scan["ticket_id"], ticket["id"]);
}

/// Apple Wallet shows no time-based codes: a rotating event's pass carries no code (its static
/// one would be refused at that door) and sends the holder to the ticket page.
async fn a_rotating_events_pass_sends_the_holder_to_the_ticket_page(backend: Backend) {
    let credentials = AppleCredentials::make();
    let app = TestApp::spawn_with(backend, |c| credentials.configure(c, None)).await;
    let event = app
        .post_expecting(
            "/api/v1/events",
            &json!({"name": "Giselle", "venue": "Opera", "time_zone": "UTC",
                    "barcode": "rotating"}),
            StatusCode::CREATED,
        )
        .await;
    let performance = app
        .post_expecting(
            &format!("/api/v1/events/{}/performances", event["id"]),
            &json!({"starts_at": Utc::now() + Duration::days(2), "capacity": 50}),
            StatusCode::CREATED,
        )
        .await;
    let ticket = app.issue_ticket(performance["id"].as_i64().unwrap()).await;
    let pass = download_pass(&app, &ticket).await;
    pass.assert_manifest_matches();
    let json = pass.json();
    assert!(json.get("barcodes").is_none(), "{json}");
    let fields = json["eventTicket"].to_string();
    assert!(fields.contains("On your ticket page"), "{fields}");
    assert!(fields.contains("changes every 15 seconds"), "{fields}");
}

async fn without_credentials_there_is_no_button_and_no_pass(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let performance = app
        .create_performance_at(Utc::now() + Duration::days(3), 10)
        .await;
    let ticket = app.issue_ticket(performance).await;
    assert!(!ticket_page(&app, &ticket).await.contains("apple-wallet"));
    assert!(!confirmation_text(&app).await.contains("Apple Wallet"));
    assert_eq!(
        download(&app, &ticket).await.status(),
        StatusCode::NOT_FOUND
    );
    // The web service knows no pass type.
    let response = app
        .client
        .get(app.url(&format!(
            "/wallet/apple/v1/devices/d1/registrations/{PASS_TYPE}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// A device's request to the web service, with the pass's authentication token.
fn device_request(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(&format!("/wallet/apple/v1{path}")))
        .header("Authorization", format!("ApplePass {token}"))
}

async fn a_device_hears_of_a_transfer_and_fetches_the_voided_pass(backend: Backend) {
    let credentials = AppleCredentials::make();
    // Answers 200 to every push, as APNs does.
    let apns = Receiver::start(true, |_| (200, String::new())).await;
    let app = TestApp::spawn_with(backend, |c| credentials.configure(c, Some(&apns.url))).await;
    let performance = app
        .create_performance_at(Utc::now() + Duration::days(3), 10)
        .await;
    let ticket = app
        .issue_to(performance, "Ada Lovelace", "ada@example.org")
        .await;
    let id = ticket["id"].as_i64().unwrap();
    let pass = download_pass(&app, &ticket).await.json();
    let token = pass["authenticationToken"].as_str().unwrap().to_string();
    let serial = pass["serialNumber"].as_str().unwrap().to_string();
    let registration = format!("/devices/iphone-1/registrations/{PASS_TYPE}/{serial}");

    // The device registers (201), again (200); a wrong token is refused (401), as is another
    // pass type (404).
    let push_token = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
    for expected in [StatusCode::CREATED, StatusCode::OK] {
        let response = device_request(&app, reqwest::Method::POST, &registration, &token)
            .json(&json!({"pushToken": push_token}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
    }
    let forged = device_request(
        &app,
        reqwest::Method::POST,
        &registration,
        "x".repeat(40).as_str(),
    )
    .json(&json!({"pushToken": push_token}))
    .send()
    .await
    .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let other_type = device_request(
        &app,
        reqwest::Method::POST,
        &format!("/devices/iphone-1/registrations/pass.other/{serial}"),
        &token,
    )
    .json(&json!({"pushToken": push_token}))
    .send()
    .await
    .unwrap();
    assert_eq!(other_type.status(), StatusCode::NOT_FOUND);

    // What changed for the device: its one pass, then (with the tag) nothing.
    let updates = format!("/devices/iphone-1/registrations/{PASS_TYPE}");
    let first: Value = app
        .client
        .get(app.url(&format!("/wallet/apple/v1{updates}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["serialNumbers"], json!([serial]));
    let tag = first["lastUpdated"].as_str().unwrap().to_string();
    let since = app
        .client
        .get(app.url(&format!(
            "/wallet/apple/v1{updates}?passesUpdatedSince={tag}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), StatusCode::NO_CONTENT);

    // Nothing changed, nothing is pushed.
    let worker = app.worker();
    assert_eq!(worker.update_wallets().await.unwrap(), 0);
    assert!(apns.received().is_empty());

    // Ada gives her ticket to Grace, who claims it.
    let offer = app
        .post(
            &format!("/api/v1/tickets/{id}/transfer"),
            &app.admin_key,
            &json!({"name": "Grace Hopper", "email": "grace@example.org"}),
        )
        .await;
    let status = offer.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        offer.text().await.unwrap()
    );
    let graces = app
        .claim(id, ticket["generation"].as_i64().unwrap() as i32)
        .await;

    // The next round pushes to Ada's device, once, over HTTP/2, as Apple requires.
    assert_eq!(worker.update_wallets().await.unwrap(), 1);
    let pushes = apns.received();
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    let push = &pushes[0];
    assert_eq!(push.path, format!("/3/device/{push_token}"));
    assert!(push.http2, "APNs speaks HTTP/2 only");
    assert_eq!(push.method, "POST");
    assert_eq!(push.header("apns-topic"), PASS_TYPE);
    assert_eq!(push.body, "{}");
    let provider_token = push
        .header("authorization")
        .strip_prefix("Bearer ")
        .expect("a bearer token");
    let header = jsonwebtoken::decode_header(provider_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some(APNS_KEY_ID));
    let public = std::fs::read(credentials.path("apns.pub")).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(
        provider_token,
        &jsonwebtoken::DecodingKey::from_ec_pem(&public).unwrap(),
        &validation,
    )
    .expect("the provider token verifies with the APNs key's public half")
    .claims;
    assert_eq!(claims["iss"], TEAM);
    // Told once: another round pushes nothing.
    assert_eq!(worker.update_wallets().await.unwrap(), 0);
    assert_eq!(apns.received().len(), 1);

    // The device asks what changed, and fetches the pass: voided, no code, saying why.
    let changed: Value = app
        .client
        .get(app.url(&format!(
            "/wallet/apple/v1{updates}?passesUpdatedSince={tag}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(changed["serialNumbers"], json!([serial]));
    assert_ne!(changed["lastUpdated"].as_str().unwrap(), tag);
    let latest = device_request(
        &app,
        reqwest::Method::GET,
        &format!("/passes/{PASS_TYPE}/{serial}"),
        &token,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(latest.status(), StatusCode::OK);
    let modified = latest.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_string();
    let updated = Pass::open(&latest.bytes().await.unwrap());
    updated.assert_manifest_matches();
    updated.assert_signature_verifies(&credentials);
    let updated = updated.json();
    assert_eq!(updated["voided"], true);
    assert!(updated.get("barcodes").is_none(), "{updated}");
    assert_eq!(
        updated["eventTicket"]["backFields"][0]["value"],
        "This ticket was transferred."
    );
    let unchanged = device_request(
        &app,
        reqwest::Method::GET,
        &format!("/passes/{PASS_TYPE}/{serial}"),
        &token,
    )
    .header("If-Modified-Since", modified)
    .send()
    .await
    .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    let unauthenticated = app
        .client
        .get(app.url(&format!("/wallet/apple/v1/passes/{PASS_TYPE}/{serial}")))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    // Grace's own pass names her, with her ticket's code.
    let graces_pass = download_pass(&app, &graces).await.json();
    assert_eq!(
        graces_pass["eventTicket"]["auxiliaryFields"][0]["value"],
        "Grace Hopper"
    );
    assert_ne!(graces_pass["voided"], true);
    let code = graces_pass["barcodes"][0]["message"].as_str().unwrap();
    assert_eq!(code, graces["token"].as_str().unwrap());

    // The device logs, and unregisters.
    let log = app
        .client
        .post(app.url("/wallet/apple/v1/log"))
        .json(&json!({"logs": ["[2026-12-07] a test log line"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(log.status(), StatusCode::OK);
    let gone = device_request(&app, reqwest::Method::DELETE, &registration, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::OK);
    let none = app
        .client
        .get(app.url(&format!("/wallet/apple/v1{updates}")))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::NO_CONTENT);
    apns.stop().await;
}

on_each_backend!(apple_wallet:
    the_pass_is_signed_and_says_what_the_ticket_says,
    a_rotating_events_pass_sends_the_holder_to_the_ticket_page,
    without_credentials_there_is_no_button_and_no_pass,
    a_device_hears_of_a_transfer_and_fetches_the_voided_pass,
);
