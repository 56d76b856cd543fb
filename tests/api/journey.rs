//! The patron journey: a ticket's history and a patron's page show every touch, in order,
//! read from the rows the service writes as it works.

use chrono::{Duration, Utc};
use encore::domain::ids::TicketId;
use encore::domain::Role;
use encore::tokens::{LinkClaims, LinkPurpose};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, on_each_backend, touches, Backend, Deadline, TestApp};
use crate::smtp::{app_with_mail_down, next_round_with_mail};

fn view_link(app: &TestApp, ticket_id: i64) -> String {
    let claims = LinkClaims {
        ticket_id: TicketId(ticket_id),
        generation: 1,
        purpose: LinkPurpose::View,
        exp: (Utc::now() + Duration::hours(1)).timestamp(),
    };
    app.encore.keys.sign(&claims).unwrap()
}

/// The `what` of each touch, with the scan outcome or email kind where there is one.
fn story(timeline: &Value) -> Vec<String> {
    timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let what = t["what"].as_str().unwrap();
            match (
                t["detail"]["outcome"].as_str(),
                t["detail"]["kind"].as_str(),
            ) {
                (Some(outcome), _) => format!("{what}:{outcome}"),
                (_, Some(kind)) => format!("{what}:{kind}"),
                _ => what.to_string(),
            }
        })
        .collect()
}

/// `wanted` appear in `story`, in this order (other touches may come between).
fn assert_in_order(story: &[String], wanted: &[&str]) {
    let mut rest = story.iter();
    for w in wanted {
        assert!(
            rest.any(|s| s == w),
            "{w} missing (or out of order) in {story:?}"
        );
    }
}

async fn a_tickets_history_tells_its_whole_story(app: TestApp) {
    let performance = app
        .create_performance_at(Utc::now() + Duration::hours(4), 10)
        .await;
    let ticket = app.issue_to(performance, "Ada", "ada@example.org").await;
    let id = ticket["id"].as_i64().unwrap();
    let scanner = app.key(Role::Scanner);

    // The patron opens her page; offers the ticket to Grace; takes the offer back.
    let page = reqwest::get(app.url(&format!("/t/{}", view_link(&app, id))))
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let offered = app
        .post(
            &format!("/api/v1/tickets/{id}/transfer"),
            &app.admin_key,
            &json!({"name": "Grace", "email": "grace@example.org"}),
        )
        .await;
    assert_eq!(offered.status(), StatusCode::CREATED);
    // Scanned while on offer: refused.
    assert_eq!(
        app.scan(&scanner, ticket["token"].as_str().unwrap(), "north")
            .await
            .0,
        StatusCode::CONFLICT
    );
    let back: Value = app
        .post(
            &format!("/api/v1/tickets/{id}/transfer/cancel"),
            &app.admin_key,
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    // Her new QR admits once; a second scan is refused.
    let new_token = back["token"].as_str().unwrap();
    assert_eq!(
        app.scan(&scanner, new_token, "south").await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.scan(&scanner, new_token, "south").await.0,
        StatusCode::CONFLICT
    );
    let worker = app.worker();
    while worker.deliver_due().await.unwrap() > 0 {}

    let history = app
        .get_json(&format!("/api/v1/tickets/{id}/history"), &app.admin_key)
        .await;
    assert_eq!(history["ticket"]["status"], "valid");
    assert_eq!(history["ticket"]["generation"], 2);
    let told = story(&history["timeline"]);
    assert_in_order(
        &told,
        &[
            "issued",
            "email_queued:confirmation",
            "link_opened",
            "transfer_offered",
            "email_queued:transfer_offer",
            "scan:transferred",
            "transfer_canceled",
            "scan:admitted",
            "scan:already_admitted",
        ],
    );
    // The offer was taken back before the worker came, so its email was never sent.
    for outcome in ["email_skipped:transfer_offer", "email_sent:confirmation"] {
        assert!(told.iter().any(|s| s == outcome), "{outcome} in {told:?}");
    }
    let gates: Vec<&str> = touches(&history, "scan")
        .into_iter()
        .map(|t| t["detail"]["gate"].as_str().unwrap())
        .collect();
    assert_eq!(gates, ["north", "south", "south"]);
    // Oldest first.
    let times: Vec<&str> = history["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by_key(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap());
    assert_eq!(times, sorted);
}

async fn a_patrons_page_answers_did_my_friend_get_the_ticket(app: TestApp) {
    let performance = app
        .create_performance_at(Utc::now() + Duration::hours(4), 10)
        .await;
    let kept = app.issue_to(performance, "Ada", "ada@example.org").await;
    let canceled = app.issue_to(performance, "Ada", "ada@example.org").await;
    let canceled_id = canceled["id"].as_i64().unwrap();
    app.post_expecting(
        &format!("/api/v1/tickets/{canceled_id}/cancel"),
        &json!({"reason": "Double booking", "refund_to_credit": true}),
        StatusCode::OK,
    )
    .await;
    let offered = app
        .post(
            &format!("/api/v1/tickets/{}/transfer", kept["id"]),
            &app.admin_key,
            &json!({"name": "Grace", "email": "grace@example.org"}),
        )
        .await;
    assert_eq!(offered.status(), StatusCode::CREATED);

    let ada = app
        .get_json("/api/v1/patrons/ada@example.org", &app.admin_key)
        .await;
    assert_eq!(ada["tickets"].as_array().unwrap().len(), 2, "{ada}");
    assert_eq!(ada["credit"]["balances"][0]["balance_minor"], 4500);
    let told = story(&ada["timeline"]);
    assert_in_order(&told, &["issued", "issued", "canceled", "transfer_offered"]);
    assert!(told.iter().any(|s| s == "credit"), "{told:?}");
    let cancel = touches(&ada, "canceled")[0];
    assert_eq!(cancel["detail"]["reason"], "Double booking");
    assert_eq!(cancel["ticket_id"], canceled_id);

    // Grace holds no ticket yet, but her page shows the offer waiting for her.
    let grace = app
        .get_json("/api/v1/patrons/grace@example.org", &app.admin_key)
        .await;
    assert_eq!(grace["tickets"].as_array().unwrap().len(), 0);
    assert_eq!(story(&grace["timeline"]), ["transfer_offered"]);
    assert_eq!(grace["timeline"][0]["detail"]["from_name"], "Ada");
}

/// "Why was I turned away at the north door?" A scanner without the network refused Ada twice
/// and uploaded why; her timeline says it beside the server's own judgement: her valid ticket
/// `refused_offline` (the device had no offline list), her canceled one `canceled` (the device
/// did not know the key). A scanner's unknown code is kept as it came; an offline admission and
/// an online scan have no refusal.
async fn the_journey_says_why_an_offline_scanner_refused(app: TestApp) {
    let performance = app
        .create_performance_at(Utc::now() + Duration::hours(4), 10)
        .await;
    let valid = app.issue_to(performance, "Ada", "ada@example.org").await;
    let canceled = app.issue_to(performance, "Ada", "ada@example.org").await;
    let canceled_id = canceled["id"].as_i64().unwrap();
    app.post_expecting(
        &format!("/api/v1/tickets/{canceled_id}/cancel"),
        &json!({"reason": "Double booking", "refund_to_credit": false}),
        StatusCode::OK,
    )
    .await;
    let scanner = app.key(Role::Scanner);
    let at = |seconds: i64| Utc::now() - Duration::seconds(seconds);
    let scans = json!([
        {"token": valid["token"], "gate": "north", "scanned_at": at(30), "refused": "no_bundle"},
        {"token": canceled["token"], "gate": "north", "scanned_at": at(29),
         "refused": "unknown_key"},
        {"token": valid["token"], "gate": "north", "scanned_at": at(28),
         "refused": "battery <low>"},
        {"token": valid["token"], "gate": "south", "scanned_at": at(27)},
    ]);
    let upload = app
        .post(
            "/api/v1/scans/batch",
            &scanner,
            &json!({"device": "phone-north", "scans": scans}),
        )
        .await;
    assert_eq!(upload.status(), StatusCode::OK);
    let (status, online) = app
        .scan(&scanner, canceled["token"].as_str().unwrap(), "east")
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{online}");

    let ada = app
        .get_json("/api/v1/patrons/ada@example.org", &app.admin_key)
        .await;
    let told: Vec<(i64, &str, &str, &Value)> = touches(&ada, "scan")
        .into_iter()
        .map(|t| {
            let d = &t["detail"];
            (
                t["ticket_id"].as_i64().unwrap(),
                d["gate"].as_str().unwrap(),
                d["outcome"].as_str().unwrap(),
                d.get("device_refusal")
                    .expect("device_refusal, null or not"),
            )
        })
        .collect();
    let valid_id = valid["id"].as_i64().unwrap();
    assert_eq!(
        told,
        [
            (valid_id, "north", "refused_offline", &json!("no_bundle")),
            (canceled_id, "north", "canceled", &json!("unknown_key")),
            (
                valid_id,
                "north",
                "refused_offline",
                &json!("battery <low>")
            ),
            (valid_id, "south", "admitted", &Value::Null),
            (canceled_id, "east", "canceled", &Value::Null),
        ],
        "{ada}"
    );
    // The four uploaded scans say when they reached the server; the online one does not.
    let uploaded: Vec<bool> = touches(&ada, "scan")
        .into_iter()
        .map(|t| t["detail"]["uploaded_at"].is_string())
        .collect();
    assert_eq!(uploaded, [true, true, true, true, false], "{ada}");

    // The ticket's own history says the same of its scans.
    let history = app
        .get_json(
            &format!("/api/v1/tickets/{valid_id}/history"),
            &app.admin_key,
        )
        .await;
    let refusals: Vec<&Value> = touches(&history, "scan")
        .into_iter()
        .map(|t| &t["detail"]["device_refusal"])
        .collect();
    assert_eq!(
        refusals,
        [&json!("no_bundle"), &json!("battery <low>"), &Value::Null],
        "{history}"
    );
}

async fn journey_lookups_refuse_bad_input_and_wrong_roles(app: TestApp) {
    let response = app
        .get("/api/v1/patrons/not-an-email", &app.admin_key)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["code"].as_str(), body["field"].as_str()),
        (Some("validation_failed"), Some("email")),
        "{body}"
    );

    let response = app
        .get("/api/v1/tickets/424242/history", &app.admin_key)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let scanner = app.key(Role::Scanner);
    for path in [
        "/api/v1/patrons/ada@example.org",
        "/api/v1/tickets/1/history",
    ] {
        assert_eq!(
            app.get(path, &scanner).await.status(),
            StatusCode::FORBIDDEN
        );
    }
}

async fn offer(app: &TestApp, id: i64, name: &str, email: &str) {
    app.post_expecting(
        &format!("/api/v1/tickets/{id}/transfer"),
        &json!({"name": name, "email": email}),
        StatusCode::CREATED,
    )
    .await;
}

async fn history(app: &TestApp, id: i64) -> Value {
    app.get_json(&format!("/api/v1/tickets/{id}/history"), &app.admin_key)
        .await
}

/// A ticket offered and claimed, and one offered and left until the worker's own schedule
/// expires it: each history says how its offer ended.
async fn a_history_tells_an_offer_claimed_and_one_expired(app: TestApp) {
    let performance = app
        .create_performance_at(Utc::now() + Duration::hours(4), 10)
        .await;

    let claimed = app.issue_to(performance, "Ada", "ada@example.org").await;
    let claimed_id = claimed["id"].as_i64().unwrap();
    offer(&app, claimed_id, "Grace", "grace@example.org").await;
    app.claim(claimed_id, 1).await;
    let told = history(&app, claimed_id).await;
    assert_in_order(
        &story(&told["timeline"]),
        &["issued", "transfer_offered", "transfer_claimed"],
    );
    let ended = touches(&told, "transfer_claimed");
    assert_eq!(ended.len(), 1, "{told}");
    assert!(ended[0]["detail"]["claimed_ticket_id"].is_i64(), "{told}");
    assert!(touches(&told, "transfer_expired").is_empty(), "{told}");

    // The worker is running when the second offer's time runs out (the policy counts in hours:
    // the test moves the clock); a later round of its schedule expires it.
    let left = app.issue_to(performance, "Ada", "ada@example.org").await;
    let left_id = left["id"].as_i64().unwrap();
    offer(&app, left_id, "Alan", "alan@example.org").await;
    let _worker = app.run_worker(1);
    app.db.execute(&format!(
        "UPDATE transfers SET expires_at = '2000-01-01 00:00:00' WHERE ticket_id = {left_id}"
    ));
    let deadline = Deadline::after(std::time::Duration::from_secs(10));
    let told = loop {
        let told = history(&app, left_id).await;
        if !touches(&told, "transfer_expired").is_empty() {
            break told;
        }
        deadline.retry("the worker expires the offer").await;
    };
    assert_in_order(
        &story(&told["timeline"]),
        &["issued", "transfer_offered", "transfer_expired"],
    );
    assert_eq!(touches(&told, "transfer_expired").len(), 1, "{told}");
    assert!(touches(&told, "transfer_claimed").is_empty(), "{told}");
}

/// `told` has one `what` touch, for the confirmation after `attempts`, naming the error.
fn the_confirmations(told: &Value, what: &str, attempts: i64) {
    let found = touches(told, what);
    assert_eq!(found.len(), 1, "one {what} in {told}");
    let detail = &found[0]["detail"];
    assert_eq!(
        (detail["kind"].as_str(), detail["attempts"].as_i64()),
        (Some("confirmation"), Some(attempts)),
        "{told}"
    );
    assert!(detail["error"].is_string(), "{told}");
}

/// The mail server is down: the confirmation's first failed attempt is told as a retry
/// scheduled, its last as a failure, each with the error and the attempts made.
async fn a_history_tells_an_email_retried_then_failed(backend: Backend) {
    let (app, _smtp) = app_with_mail_down(backend).await;
    let performance = app.create_performance(10).await;
    let id = app.issue_ticket(performance).await["id"].as_i64().unwrap();
    let path = format!("/api/v1/tickets/{id}/history");
    let worker = app.worker();

    assert_eq!(worker.deliver_due().await.unwrap(), 1, "the first attempt");
    let told = app.get_json(&path, &app.admin_key).await;
    the_confirmations(&told, "email_retry_scheduled", 1);
    assert!(touches(&told, "email_failed").is_empty(), "{told}");

    assert_eq!(next_round_with_mail(&worker).await, 1, "the last attempt");
    let told = app.get_json(&path, &app.admin_key).await;
    the_confirmations(&told, "email_failed", 2);
    for gone in ["email_retry_scheduled", "email_sent"] {
        assert!(touches(&told, gone).is_empty(), "{gone} in {told}");
    }
    assert_in_order(
        &story(&told["timeline"]),
        &[
            "issued",
            "email_queued:confirmation",
            "email_failed:confirmation",
        ],
    );
}

on_each_backend!(smtp_down: a_history_tells_an_email_retried_then_failed);

on_both_backends!(
    a_history_tells_an_offer_claimed_and_one_expired,
    a_tickets_history_tells_its_whole_story,
    a_patrons_page_answers_did_my_friend_get_the_ticket,
    the_journey_says_why_an_offline_scanner_refused,
    journey_lookups_refuse_bad_input_and_wrong_roles,
);
