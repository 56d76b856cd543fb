use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, Deadline, TestApp};
use encore::domain::Role;
use encore::service::staff;

/// Without a key: 401 with a reason and a WWW-Authenticate challenge.
async fn no_key_is_unauthenticated(app: TestApp) {
    let response = app
        .client
        .get(app.url("/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");

    let response = app
        .client
        .post(app.url("/api/v1/scans"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// An unknown, malformed or revoked key: 401 invalid_api_key.
async fn bad_and_revoked_keys_are_refused(app: TestApp) {
    for key in ["enc_nope", "x", "enc_ with spaces"] {
        let response = app.get("/api/v1/events", key).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{key}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["code"],
            "invalid_api_key"
        );
    }
    // A key in use (so remembered by the server) stops working within api_key_cache_seconds
    // (1 s in tests) of its revocation.
    let (row, secret) = staff::create_key(&app.encore.db, "temp", Role::BoxOffice).unwrap();
    assert_eq!(
        app.get("/api/v1/events", &secret).await.status(),
        StatusCode::OK
    );
    staff::revoke_key(&app.encore.db, row.id).unwrap();
    // Refused as soon as the cached answer runs out: within its second, with a margin for a
    // busy machine.
    let deadline = Deadline::after(std::time::Duration::from_millis(2500));
    while app.get("/api/v1/events", &secret).await.status() == StatusCode::OK {
        deadline.retry("the revoked key stops working").await;
    }
    let response = app.get("/api/v1/events", &secret).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // The X-Api-Key header works as well as a bearer token.
    let response = app
        .client
        .get(app.url("/api/v1/events"))
        .header("X-Api-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// Each role does its own job: 403 with a reason otherwise. Admin does everything.
async fn roles_are_enforced(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let box_office = app.key(Role::BoxOffice);
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    let token = ticket["token"].as_str().unwrap();

    let event = json!({"name": "X", "venue": "Y", "time_zone": "UTC"});
    let response = app.post("/api/v1/events", &scanner, &event).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
    assert!(body["message"].as_str().unwrap().contains("box_office"));

    let issue = crate::helpers::ticket_request("Bo", "bo@example.org");
    let path = format!("/api/v1/performances/{performance}/tickets");
    assert_eq!(
        app.post(&path, &scanner, &issue).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{}", ticket["id"]), &scanner)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // The box office cannot admit people; the scanner can.
    let (status, body) = app.scan(&box_office, token, "north").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM arrival_events"),
        0,
        "a refused caller records nothing"
    );
    let (status, _) = app.scan(&scanner, token, "north").await;
    assert_eq!(status, StatusCode::OK);

    assert_eq!(
        app.post("/api/v1/events", &box_office, &event)
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(&path, &box_office, &issue).await.status(),
        StatusCode::CREATED
    );
    // Everyone on staff may read events and arrivals.
    assert_eq!(
        app.get("/api/v1/events", &scanner).await.status(),
        StatusCode::OK
    );
    let arrivals = format!("/api/v1/performances/{performance}/arrivals");
    assert_eq!(app.get(&arrivals, &scanner).await.status(), StatusCode::OK);
}

on_both_backends!(
    no_key_is_unauthenticated,
    bad_and_revoked_keys_are_refused,
    roles_are_enforced
);
