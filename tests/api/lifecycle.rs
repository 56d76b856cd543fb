use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{on_both_backends, TestApp};
use encore::domain::Role;

/// key → event → performance → issue → token → scan admitted → rescan already_admitted.
async fn the_whole_lifecycle(app: TestApp) {
    let performance = app.create_performance(100).await;
    let ticket = app.issue_ticket(performance).await;
    assert_eq!(ticket["status"], "valid");
    assert_eq!(ticket["generation"], 1);
    let id = ticket["id"].as_i64().unwrap();

    // The ticket can be fetched again, with the same token.
    let fetched: Value = app
        .get_json(&format!("/api/v1/tickets/{id}"), &app.admin_key)
        .await;
    assert_eq!(fetched["token"], ticket["token"]);
    let token = fetched["token"].as_str().unwrap();

    let scanner = app.key(Role::Scanner);
    let (status, first) = app.scan(&scanner, token, "north").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["outcome"], "admitted");
    assert_eq!(first["admitted"], true);
    assert_eq!(first["holder_name"], "Ada Lovelace");
    assert_eq!(first["ticket_id"], id);

    let (status, again) = app.scan(&scanner, token, "south").await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["outcome"], "already_admitted");
    assert_eq!(again["code"], "already_admitted");
    assert_eq!(again["first_admission"]["gate"], "north");
    assert_eq!(again["first_admission"]["at"], first["scanned_at"]);

    // The ticket shows its admission; arrivals count it once, at its gate, and both attempts.
    let fetched: Value = app
        .get_json(&format!("/api/v1/tickets/{id}"), &app.admin_key)
        .await;
    assert_eq!(fetched["admitted_gate"], "north");
    let arrivals: Value = app
        .get(
            &format!("/api/v1/performances/{performance}/arrivals"),
            &scanner,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(arrivals["admitted"], 1);
    assert_eq!(arrivals["capacity"], 100);
    assert_eq!(arrivals["tickets_issued"], 1);
    assert_eq!(arrivals["by_gate"][0]["gate"], "north");
    assert_eq!(arrivals["by_gate"][0]["admitted"], 1);
    assert_eq!(arrivals["per_minute"].as_array().unwrap().len(), 1);
    assert_eq!(arrivals["attempts_by_outcome"]["admitted"], 1);
    assert_eq!(arrivals["attempts_by_outcome"]["already_admitted"], 1);
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM arrival_events"), 2);
}

/// The QR PNG decodes back to the very token; the SVG is an SVG.
async fn the_qr_code_carries_the_token(app: TestApp) {
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    let id = ticket["id"].as_i64().unwrap();

    let response = app
        .get(&format!("/api/v1/tickets/{id}/qr.png"), &app.admin_key)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = response.bytes().await.unwrap();
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code in the image");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    assert_eq!(content, ticket["token"].as_str().unwrap());

    let response = app
        .get(&format!("/api/v1/tickets/{id}/qr.svg"), &app.admin_key)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    assert!(response.text().await.unwrap().contains("<svg"));
}

/// A scanner holding only the published JWKS can verify a ticket's token offline.
async fn the_jwks_verifies_tokens_offline(app: TestApp) {
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    let token = ticket["token"].as_str().unwrap();

    let jwks: Value = app.jwks().await;
    let jwk = crate::helpers::signing_jwk(token, &jwks["keys"]);
    assert!(jwk.get("d").is_none(), "no private part is published");
    let claims = crate::helpers::verify_with_published_keys(token, &jwks["keys"]);
    let now = chrono::Utc::now().timestamp();
    assert!(claims["nbf"].as_i64().unwrap() <= now && now < claims["exp"].as_i64().unwrap());
    // The JWT of earlier versions verifies the same way, with the same claims.
    let old = app.old_jwt(token);
    assert_eq!(
        crate::helpers::verify_with_published_keys(&old, &jwks["keys"]),
        claims
    );
    assert_eq!(claims["tid"], ticket["id"]);
    assert_eq!(claims["pid"], performance);
    assert_eq!(claims["gen"], 1);
}

/// Health and readiness answer without a key.
async fn health_and_readiness(app: TestApp) {
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
}

on_both_backends!(
    the_whole_lifecycle,
    the_qr_code_carries_the_token,
    the_jwks_verifies_tokens_offline,
    health_and_readiness,
);
