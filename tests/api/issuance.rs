use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, ticket_request, TestApp};

/// Bulk issuance is one transaction and each ticket has its own token.
async fn bulk_issues_many_tickets_with_distinct_tokens(app: TestApp) {
    let performance = app.create_performance(1_000).await;
    let tickets = app.issue_bulk(performance, 250).await;
    assert_eq!(tickets.len(), 250);
    let tokens: std::collections::HashSet<&str> = tickets
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    assert_eq!(tokens.len(), 250);
    let p: Value = app
        .get(
            &format!("/api/v1/performances/{performance}"),
            &app.admin_key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["tickets_issued"], 250);
    assert_eq!(p["available"], 750);
}

/// 20 concurrent requests of 5 tickets for 50 seats: exactly 10 succeed, never an oversell.
async fn capacity_holds_under_concurrent_issuance(app: TestApp) {
    let performance = app.create_performance(50).await;
    let path = format!("/api/v1/performances/{performance}/tickets/bulk");
    let five: Vec<Value> = (0..5)
        .map(|i| ticket_request("Racer", &format!("r{i}@example.org")))
        .collect();
    let body = json!({ "tickets": five });
    let responses = join_all((0..20).map(|_| app.post(&path, &app.admin_key, &body))).await;
    let mut created = 0;
    for response in responses {
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(response.json::<Value>().await.unwrap()["code"], "sold_out")
            }
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!(created, 10);
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM tickets WHERE performance_id = {performance}"
        )),
        50
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT tickets_issued AS n FROM performances WHERE id = {performance}"
        )),
        50
    );

    // One more seat than is left is refused whole, with how many are left.
    let one = app
        .post(
            &format!("/api/v1/performances/{performance}/tickets"),
            &app.admin_key,
            &ticket_request("Late", "late@example.org"),
        )
        .await;
    assert_eq!(one.status(), StatusCode::CONFLICT);
    assert!(one.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("only 0"));
}

/// A retried request with the same Idempotency-Key gets the same tickets, never new ones —
/// also when the retries race each other.
async fn idempotent_retries_return_the_same_tickets(app: TestApp) {
    let performance = app.create_performance(100).await;
    let path = format!("/api/v1/performances/{performance}/tickets/bulk");
    let body = json!({ "tickets": [ticket_request("Ada", "ada@example.org"), ticket_request("Bob", "bob@example.org")] });
    let send = || {
        app.client
            .post(app.url(&path))
            .bearer_auth(&app.admin_key)
            .header("Idempotency-Key", "order-42")
            .json(&body)
            .send()
    };

    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();

    let retry = send().await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();
    let ids = |v: &Value| {
        v["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ids(&retry));
    assert_eq!(first["tickets"][0]["token"], retry["tickets"][0]["token"]);

    // Ten racing retries of a new key: one issue, ten identical answers.
    let racing = || {
        app.client
            .post(app.url(&path))
            .bearer_auth(&app.admin_key)
            .header("Idempotency-Key", "order-43")
            .json(&body)
            .send()
    };
    let answers = join_all((0..10).map(|_| racing())).await;
    let mut seen = Vec::new();
    for answer in answers {
        let answer = answer.unwrap();
        assert_eq!(answer.status(), StatusCode::CREATED);
        seen.push(ids(&answer.json().await.unwrap()));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM tickets WHERE performance_id = {performance}"
        )),
        4
    );

    // The same key for a different request is an error, not a silent replay.
    let other = json!({ "tickets": [ticket_request("Eve", "eve@example.org")] });
    let reused = app
        .client
        .post(app.url(&path))
        .bearer_auth(&app.admin_key)
        .header("Idempotency-Key", "order-42")
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reused.json::<Value>().await.unwrap()["code"],
        "idempotency_key_reused"
    );

    // A key recorded by an earlier version, which kept the tickets' ids and no answer: a retry
    // issues nothing and says why, never a 500.
    app.db.execute(
        "UPDATE idempotency_keys SET response_status = NULL, response_body = NULL, \
         ticket_ids = '1,2' WHERE idempotency_key = 'order-42'",
    );
    let legacy = send().await.unwrap();
    assert_eq!(legacy.status(), StatusCode::CONFLICT);
    assert_eq!(
        legacy.json::<Value>().await.unwrap()["code"],
        "idempotency_key_unanswerable"
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM tickets WHERE performance_id = {performance}"
        )),
        4
    );
}

/// Events and performances can be listed and fetched; unknown ones are 404.
async fn events_and_performances_are_listed(app: TestApp) {
    let performance = app.create_performance(10).await;
    let events: Value = app.get_json("/api/v1/events", &app.admin_key).await;
    let event_id = events[0]["id"].as_i64().unwrap();
    assert_eq!(events[0]["time_zone"], "Europe/London");
    let event: Value = app
        .get_json(&format!("/api/v1/events/{event_id}"), &app.admin_key)
        .await;
    assert_eq!(event["venue"], "The Globe");
    let list: Value = app
        .get(
            &format!("/api/v1/events/{event_id}/performances"),
            &app.admin_key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["id"], performance);
    assert_eq!(list[0]["capacity"], 10);
    for path in [
        "/api/v1/events/999",
        "/api/v1/performances/999",
        "/api/v1/events/999/performances",
        "/api/v1/tickets/999",
    ] {
        let response = app.get(path, &app.admin_key).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "not_found");
    }
}

on_both_backends!(
    bulk_issues_many_tickets_with_distinct_tokens,
    capacity_holds_under_concurrent_issuance,
    idempotent_retries_return_the_same_tickets,
    events_and_performances_are_listed,
);
