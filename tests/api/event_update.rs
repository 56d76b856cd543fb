//! Changing an event after it was created (`PATCH /api/v1/events/{id}`): its name and venue,
//! its policy (only the fields given), its lobby message (added on the night, or removed) —
//! and every bad request refused with its reason, changing nothing.

use chrono::{Duration, Utc};
use encore::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::door::{app_with_smtp, deliver, email_kinds, id, token};
use crate::helpers::{on_both_backends, Backend, TestApp};

/// An event created with `extra` fields (a policy, a lobby message), and a performance of it
/// starting in four hours: open for changes (the default cut-off is two hours) and its tokens
/// admit now. Returns (event, performance).
async fn event_with(app: &TestApp, extra: Value) -> (Value, i64) {
    let mut body = json!({"name": "Hamlet", "venue": "The Globe", "time_zone": "Europe/London"});
    for (field, value) in extra.as_object().unwrap() {
        body[field] = value.clone();
    }
    let response = app.post("/api/v1/events", &app.admin_key, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let event: Value = response.json().await.unwrap();
    let response = app
        .post(
            &format!("/api/v1/events/{}/performances", event["id"]),
            &app.admin_key,
            &json!({"starts_at": Utc::now() + Duration::hours(4), "capacity": 10}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let performance = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    (event, performance)
}

/// PATCHes `body` (JSON text, sent as `content_type`) onto `/api/v1/events/{event}`.
async fn patch_as(
    app: &TestApp,
    key: &str,
    event: i64,
    content_type: &str,
    body: String,
) -> (StatusCode, Value) {
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/events/{event}")))
        .bearer_auth(key)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("PATCH");
    let status = response.status();
    (status, response.json().await.expect("a JSON answer"))
}

/// PATCHes `body` as the admin, as plain JSON.
async fn patch(app: &TestApp, event: i64, body: Value) -> (StatusCode, Value) {
    patch_as(
        app,
        &app.admin_key,
        event,
        "application/json",
        body.to_string(),
    )
    .await
}

fn event_id(event: &Value) -> i64 {
    event["id"].as_i64().unwrap()
}

async fn get_event(app: &TestApp, event: i64) -> Value {
    app.get_json(&format!("/api/v1/events/{event}"), &app.admin_key)
        .await
}

/// A new name and venue show in the answer and in GET; what was not given stays.
async fn the_name_and_venue_change(app: TestApp) {
    let (created, _) = event_with(&app, json!({"lobby_message": "Hi {holder_name}"})).await;
    let event = event_id(&created);

    let (status, changed) = patch(
        &app,
        event,
        json!({"name": "  Hamlet, Prince of Denmark ", "venue": "The Old Vic"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Hamlet, Prince of Denmark", "trimmed");
    assert_eq!(changed["venue"], "The Old Vic");
    let fetched = get_event(&app, event).await;
    assert_eq!(fetched, changed, "GET shows what PATCH answered");
    for kept in [
        "id",
        "time_zone",
        "reminder_offsets_minutes",
        "created_at",
        "lobby_message",
        "policy",
    ] {
        assert_eq!(fetched[kept], created[kept], "{kept} is left as it was");
    }

    // The merge-patch media type is JSON too; `{}` changes nothing and answers with the event.
    let (status, renamed) = patch_as(
        &app,
        &app.admin_key,
        event,
        "application/merge-patch+json",
        r#"{"name": "Hamlet"}"#.into(),
    )
    .await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (StatusCode::OK, Some("Hamlet"))
    );
    let (status, same) = patch(&app, event, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same, renamed);
    let (status, same) = patch(&app, event, json!({"policy": {}})).await;
    assert_eq!((status, &same), (StatusCode::OK, &renamed));

    // A box-office key may change it too.
    let box_office = app.key(Role::BoxOffice);
    let (status, moved) = patch_as(
        &app,
        &box_office,
        event,
        "application/json",
        json!({"venue": "The Globe"}).to_string(),
    )
    .await;
    assert_eq!(
        (status, moved["venue"].as_str()),
        (StatusCode::OK, Some("The Globe"))
    );
}

/// Changing one policy field changes that one only, and the next change request obeys it.
async fn a_policy_change_applies_to_the_next_request(app: TestApp) {
    let (created, performance) = event_with(
        &app,
        json!({"policy": {"exchange_fee_minor": 500, "change_cutoff_minutes": 60,
                          "transfer_offer_hours": 24, "refund_on_cancel": false}}),
    )
    .await;
    let event = event_id(&created);
    let before = created["policy"].clone();
    assert_eq!(before["transfer_allowed"], true);
    let ada = app.issue_ticket(performance).await;
    let bob = app.issue_to(performance, "Bob", "bob@example.org").await;

    let (status, changed) =
        patch(&app, event, json!({"policy": {"transfer_allowed": false}})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let mut expected = before.clone();
    expected["transfer_allowed"] = json!(false);
    assert_eq!(changed["policy"], expected, "only transfer_allowed changed");
    assert_eq!(get_event(&app, event).await["policy"], expected);

    let response = app
        .post(
            &format!("/api/v1/tickets/{}/transfer", id(&ada)),
            &app.admin_key,
            &json!({"name": "Grace", "email": "grace@example.org"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "transfer_not_allowed"
    );
    // Exchanges are still allowed, with the fee the event was created with.
    let response = app
        .post(
            &format!("/api/v1/tickets/{}/exchange", id(&ada)),
            &app.admin_key,
            &json!({"into": "credit"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(
        (&receipt["fee_minor"], &receipt["credited_minor"]),
        (&json!(500), &json!(4000))
    );

    // And back: transfers open again, from the next request.
    let (status, reopened) = patch(
        &app,
        event,
        json!({"policy": {"transfer_allowed": true, "exchange_fee_minor": 0}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut expected = before;
    expected["exchange_fee_minor"] = json!(0);
    assert_eq!(reopened["policy"], expected);
    let response = app
        .post(
            &format!("/api/v1/tickets/{}/transfer", id(&bob)),
            &app.admin_key,
            &json!({"name": "Grace", "email": "grace@example.org"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// Every bad request is refused with its reason and changes nothing.
async fn bad_changes_are_refused_with_a_reason(app: TestApp) {
    let (created, _) = event_with(&app, json!({})).await;
    let event = event_id(&created);

    let (status, body) = patch(&app, 999_999, json!({"name": "Gone"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, _) = patch(&app, 999_999, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "even with nothing to change");

    let scanner = app.key(Role::Scanner);
    let (status, body) = patch_as(
        &app,
        &scanner,
        event,
        "application/json",
        json!({"name": "Mine"}).to_string(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );

    // Checked as on creation: validation_failed, naming the field.
    let fixed = "cannot be changed";
    for (body, field, says) in [
        (json!({"name": "   "}), "name", "must not be empty"),
        (json!({"venue": "x".repeat(201)}), "venue", "at most 200"),
        (json!({"name": "A\u{7}"}), "name", "control characters"),
        (
            json!({"lobby_message": "Hi {name}"}),
            "lobby_message",
            "{holder_name}",
        ),
        (
            json!({"lobby_message": "Hi {holder_name"}),
            "lobby_message",
            "'{'",
        ),
        (
            json!({"lobby_message": " "}),
            "lobby_message",
            "must not be empty",
        ),
        (
            json!({"policy": {"transfer_offer_hours": 0}}),
            "transfer_offer_hours",
            "between 1",
        ),
        (
            json!({"policy": {"change_cutoff_minutes": 525_601}}),
            "change_cutoff_minutes",
            "between 0",
        ),
        (
            json!({"policy": {"exchange_fee_minor": -1}}),
            "exchange_fee_minor",
            "zero or more",
        ),
        (json!({"time_zone": "Europe/Paris"}), "time_zone", fixed),
        (json!({"time_zone": null}), "time_zone", fixed),
        (
            json!({"reminder_offsets_minutes": [60]}),
            "reminder_offsets_minutes",
            fixed,
        ),
        // One bad field refuses the whole patch.
        (
            json!({"venue": "The Old Vic", "time_zone": "UTC"}),
            "time_zone",
            fixed,
        ),
    ] {
        let (status, answer) = patch(&app, event, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} -> {answer}"
        );
        assert_eq!(answer["code"], "validation_failed", "{body} -> {answer}");
        assert_eq!(answer["field"], field, "{body} -> {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(says), "{body} -> {message}");
    }

    // The wrong shape: unknown fields (at the top or in the policy), the wrong JSON types, and
    // null for a field that cannot be removed.
    for body in [
        json!({"nmae": "Typo"}),
        json!({"policy": {"transfer": false}}),
        json!({"name": 5}),
        json!({"venue": ["The Globe"]}),
        json!({"policy": {"transfer_allowed": "no"}}),
        json!({"policy": {"transfer_offer_hours": 1.5}}),
        json!({"policy": "closed"}),
        json!({"policy": null}),
        json!({"name": null}),
        json!({"policy": {"exchange_allowed": null}}),
        json!(null),
    ] {
        let (status, answer) = patch(&app, event, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} -> {answer}"
        );
        assert_eq!(answer["code"], "invalid_body", "{body} -> {answer}");
    }
    let (status, answer) = patch_as(
        &app,
        &app.admin_key,
        event,
        "application/json",
        r#"{"name": "Hamlet""#.into(),
    )
    .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (status, answer) = patch_as(&app, &app.admin_key, event, "text/plain", "{}".into()).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );

    assert_eq!(get_event(&app, event).await, created, "nothing changed");
}

/// A lobby message added on the night greets the next admission; removed, it greets no one
/// more: neither a holder admitted since, nor one whose welcome was still queued.
async fn a_lobby_message_added_and_removed_on_the_night(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let scanner = app.key(Role::Scanner);
    let (created, performance) = event_with(&app, json!({})).await;
    let event = event_id(&created);
    assert_eq!(created["lobby_message"], Value::Null);
    let ada = app
        .issue_to(performance, "Ada Lovelace", "ada@example.org")
        .await;
    let bob = app.issue_to(performance, "Bob", "bob@example.org").await;
    let cleo = app.issue_to(performance, "Cleo", "cleo@example.org").await;
    let dan = app.issue_to(performance, "Dan", "dan@example.org").await;
    deliver(&app, &smtp, 4).await; // the confirmations

    // Admitted before there is a message: no welcome, then or later.
    let (status, _) = app.scan(&scanner, token(&ada), "north").await;
    assert_eq!(status, StatusCode::OK);

    let message = "Welcome {holder_name} to {event_name} — the bar is on the left";
    let (status, changed) = patch(&app, event, json!({"lobby_message": message})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["lobby_message"], message);
    assert_eq!(get_event(&app, event).await["lobby_message"], message);

    let (status, _) = app.scan(&scanner, token(&bob), "north").await;
    assert_eq!(status, StatusCode::OK);
    let messages = deliver(&app, &smtp, 5).await;
    let welcome = &messages[4];
    assert_eq!(welcome.to, ["bob@example.org"]);
    assert_eq!(welcome.parsed().subject(), Some("Welcome to Hamlet"));
    let text = welcome.parsed().body_text(0).unwrap().into_owned();
    assert!(
        text.contains("Welcome Bob to Hamlet — the bar is on the left"),
        "{text}"
    );

    // Cleo is admitted, and her welcome queued; then the message is removed before it goes.
    let (status, _) = app.scan(&scanner, token(&cleo), "south").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(email_kinds(&app, &cleo).await, ["confirmation", "lobby"]);
    let (status, changed) = patch(&app, event, json!({"lobby_message": null})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["lobby_message"], Value::Null);
    assert_eq!(get_event(&app, event).await["lobby_message"], Value::Null);
    let (status, _) = app.scan(&scanner, token(&dan), "south").await;
    assert_eq!(status, StatusCode::OK);

    let worker = app.worker();
    while worker.deliver_due().await.unwrap() > 0 {}
    assert_eq!(
        smtp.messages().len(),
        5,
        "no welcome after the message was removed"
    );
    assert_eq!(email_kinds(&app, &ada).await, ["confirmation"]);
    assert_eq!(
        email_kinds(&app, &dan).await,
        ["confirmation"],
        "none queued"
    );
    let cleo_emails = app
        .get_json(
            &format!("/api/v1/tickets/{}/emails", id(&cleo)),
            &app.admin_key,
        )
        .await;
    assert_eq!(cleo_emails[1]["kind"], "lobby");
    assert_eq!(cleo_emails[1]["status"], "skipped", "{cleo_emails}");
}

on_both_backends!(
    the_name_and_venue_change,
    a_policy_change_applies_to_the_next_request,
    bad_changes_are_refused_with_a_reason,
);

mod lobby {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_a_lobby_message_added_and_removed_on_the_night() {
        a_lobby_message_added_and_removed_on_the_night(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_a_lobby_message_added_and_removed_on_the_night() {
        a_lobby_message_added_and_removed_on_the_night(Backend::Postgres).await
    }
}
