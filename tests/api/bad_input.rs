use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, ticket_request, TestApp};

async fn problem(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "errors are problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body)
}

async fn nothing_was_issued(app: &TestApp, performance: i64) {
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM tickets"),
        0,
        "no ticket half-written"
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT tickets_issued AS n FROM performances WHERE id = {performance}"
        )),
        0
    );
}

/// Each bad ticket field is a 422 naming the field, and nothing is written.
async fn bad_ticket_fields_are_named(app: TestApp) {
    let performance = app.create_performance(10).await;
    let path = format!("/api/v1/performances/{performance}/tickets");
    let base = ticket_request("Ada", "ada@example.org");
    let cases = [
        ("holder_email", json!("not-an-email")),
        (
            "holder_email",
            json!("ada@example.org\r\nBcc: all@example.org"),
        ),
        ("holder_name", json!("   ")),
        ("holder_name", json!("x".repeat(201))),
        ("price_minor", json!(-100)),
        ("currency", json!("euro")),
        ("seat", json!("A\u{0007}1")),
    ];
    for (field, value) in cases {
        let mut body = base.clone();
        body[field] = value;
        let (status, problem) = problem(app.post(&path, &app.admin_key, &body).await).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {problem}"
        );
        assert_eq!(problem["code"], "validation_failed");
        let expected_field = if field == "currency" {
            "currency"
        } else {
            field
        };
        assert_eq!(problem["field"], expected_field);
    }
    nothing_was_issued(&app, performance).await;
}

/// Malformed JSON, wrong types, unknown fields, a missing content type and a huge body.
async fn malformed_bodies_are_4xx(app: TestApp) {
    let performance = app.create_performance(10).await;
    let path = app.url(&format!("/api/v1/performances/{performance}/tickets"));
    let raw = |body: &'static str| {
        app.client
            .post(&path)
            .bearer_auth(&app.admin_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let (status, body) = problem(raw("{\"holder_name\": ").await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (status, body) = problem(raw("{\"holder_name\": 5, \"holder_email\": \"a@b.org\", \"price_minor\": 1, \"currency\": \"EUR\"}").await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    let (status, body) = problem(raw("{\"holder_name\": \"A\", \"holder_email\": \"a@b.org\", \"price_minor\": 1, \"currency\": \"EUR\", \"admitted\": true}").await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("admitted"),
        "names the unknown field: {body}"
    );
    let (status, body) = problem(raw("{\"holder_name\": \"A\", \"holder_email\": \"a@b.org\", \"price_minor\": 1.5, \"currency\": \"EUR\"}").await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );

    let no_type = app
        .client
        .post(&path)
        .bearer_auth(&app.admin_key)
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, body) = problem(no_type).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );

    let huge =
        json!({ "tickets": vec![ticket_request(&"n".repeat(200), "big@example.org"); 6000] });
    let bulk = format!("/api/v1/performances/{performance}/tickets/bulk");
    let (status, body) = problem(app.post(&bulk, &app.admin_key, &huge).await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    nothing_was_issued(&app, performance).await;
}

/// A bulk request with one bad ticket, or too many, issues none of them.
async fn bulk_requests_are_all_or_nothing(app: TestApp) {
    let performance = app.create_performance(2_000).await;
    let bulk = format!("/api/v1/performances/{performance}/tickets/bulk");
    let mut tickets: Vec<Value> = (0..10)
        .map(|i| ticket_request("G", &format!("g{i}@example.org")))
        .collect();
    tickets[7]["holder_email"] = json!("broken");
    let (status, body) = problem(
        app.post(&bulk, &app.admin_key, &json!({ "tickets": tickets }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["message"].as_str().unwrap().contains("ticket 7"),
        "{body}"
    );

    let too_many: Vec<Value> = (0..1001)
        .map(|i| ticket_request("G", &format!("g{i}@example.org")))
        .collect();
    let (status, body) = problem(
        app.post(&bulk, &app.admin_key, &json!({ "tickets": too_many }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "tickets");
    let (status, _) = problem(
        app.post(&bulk, &app.admin_key, &json!({ "tickets": [] }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    nothing_was_issued(&app, performance).await;
}

/// Bad events and performances: unknown time zone, doors after the start, negative capacity,
/// an event that does not exist, a path that is not an id, a route that does not exist.
async fn bad_events_and_performances(app: TestApp) {
    let (status, body) = problem(
        app.post(
            "/api/v1/events",
            &app.admin_key,
            &json!({"name": "X", "venue": "Y", "time_zone": "Mars/Base"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("time_zone"))
    );
    let event = app.create_event().await;
    let path = format!("/api/v1/events/{event}/performances");
    let bad = [
        (
            json!({"starts_at": "2026-12-01T20:00:00Z", "doors_open_at": "2026-12-01T21:00:00Z", "capacity": 10}),
            "doors_open_at",
        ),
        (
            json!({"starts_at": "2026-12-01T20:00:00Z", "capacity": -1}),
            "capacity",
        ),
    ];
    for (body, field) in bad {
        let (status, problem) = problem(app.post(&path, &app.admin_key, &body).await).await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field))
        );
    }
    let (status, body) = problem(
        app.post(
            &path,
            &app.admin_key,
            &json!({"starts_at": "tomorrow", "capacity": 1}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    let (status, _) = problem(
        app.post(
            "/api/v1/events/404/performances",
            &app.admin_key,
            &json!({"starts_at": "2026-12-01T20:00:00Z", "capacity": 1}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = problem(
        app.post(
            "/api/v1/performances/404/tickets",
            &app.admin_key,
            &ticket_request("A", "a@b.org"),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = problem(
        app.get("/api/v1/tickets/not-a-number", &app.admin_key)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = problem(app.get("/api/v1/no-such-thing", &app.admin_key).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM performances"), 0);
}

/// A stored value the domain cannot read (a hand-edited currency) is a storage error: the
/// request that reads it gets the generic 500, and the server goes on serving.
async fn a_bad_stored_value_is_a_500_not_a_panic(app: TestApp) {
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    let id = ticket["id"].as_i64().unwrap();
    app.db.execute(&format!(
        "UPDATE tickets SET currency = 'euro' WHERE id = {id}"
    ));
    let (status, body) = problem(
        app.get(&format!("/api/v1/tickets/{id}"), &app.admin_key)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["code"], "internal_error");
    assert_eq!(
        app.get("/api/v1/events", &app.admin_key).await.status(),
        StatusCode::OK,
        "the server still serves"
    );
}

on_both_backends!(
    a_bad_stored_value_is_a_500_not_a_panic,
    bad_ticket_fields_are_named,
    malformed_bodies_are_4xx,
    bulk_requests_are_all_or_nothing,
    bad_events_and_performances,
);
