//! Webhooks (issue 19): every journey touch reaches a registered endpoint — a real HTTP receiver
//! on loopback — signed the Standard Webhooks way (checked with the reference implementation,
//! not with Encore's code), in order per ticket, at least once with a stable id, through a
//! receiver outage and a kill -9 of the worker; URLs Encore may not call are refused; an endpoint
//! failing for too long is disabled, enabled again, and gets what it missed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use encore::config::Config;
use encore::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, on_each_backend, Backend, Deadline, TestApp};
use crate::receiver::{Received, Receiver};

/// Loopback and plain HTTP allowed (the receiver is a local HTTP server); quick retries.
fn local(config: &mut Config) {
    config.webhook_allow_http = true;
    config.webhook_allow_private_addresses = true;
    config.webhook_retry_base_ms = 50;
    config.webhook_retry_max_seconds = 1;
    config.webhook_timeout_ms = 2_000;
    config.webhook_poll_ms = 20;
}

async fn spawn_local(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, local).await
}

async fn register(app: &TestApp, url: &str, kinds: &[&str]) -> Value {
    app.post_expecting(
        "/api/v1/webhooks",
        &json!({"url": url, "kinds": kinds}),
        StatusCode::CREATED,
    )
    .await
}

const ALL: [&str; 9] = [
    "issued",
    "email_sent",
    "email_failed",
    "link_opened",
    "scanned",
    "exchanged",
    "transferred",
    "credited",
    "canceled",
];

/// Checks a received request's signature with the Standard Webhooks reference implementation.
fn verify(secret: &str, request: &Received) {
    let mut headers = http::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(name, request.header(name).parse().unwrap());
    }
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(request.body.as_bytes(), &headers)
        .unwrap_or_else(|e| panic!("the signature does not verify ({e:?}): {request:?}"));
}

fn body(request: &Received) -> Value {
    serde_json::from_str(&request.body).expect("a JSON body")
}

/// The id number of a `msg_…` webhook id.
fn seq(request: &Received) -> i64 {
    request.header("webhook-id")[4..].parse().unwrap()
}

/// Waits until `done` holds of what the receiver got.
async fn wait_for(
    receiver: &Receiver,
    what: &str,
    within: Duration,
    done: impl Fn(&[Received]) -> bool,
) {
    let started = std::time::Instant::now();
    while !done(&receiver.received()) {
        let got: Vec<String> = receiver
            .received()
            .iter()
            .map(|r| format!("{} {}", r.header("webhook-id"), body(r)["type"]))
            .collect();
        assert!(
            started.elapsed() < within,
            "{what}: not within {within:?}; got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn every_touch_arrives_signed_with_its_facts(backend: Backend) {
    let app = spawn_local(backend).await;
    let receiver = Receiver::start(false, |_| (204, String::new())).await;
    let endpoint = register(&app, &format!("{}/hooks", receiver.url), &ALL).await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{endpoint}");
    // The secret is shown once: never in a listing or a lookup.
    let id = endpoint["id"].as_i64().unwrap();
    let shown = app
        .get_json(&format!("/api/v1/webhooks/{id}"), &app.admin_key)
        .await;
    assert!(shown.get("secret").is_none(), "{shown}");
    let listed = app.get_json("/api/v1/webhooks", &app.admin_key).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret));

    let performance = app
        .create_performance_at(chrono::Utc::now() + chrono::Duration::hours(4), 10)
        .await;
    let scanner = app.key(Role::Scanner);
    // Ada: issued, her page opened, scanned in, scanned again (refused).
    let ada = app.issue_to(performance, "Ada", "ada@example.org").await;
    let ada_id = ada["id"].as_i64().unwrap();
    let link = app.view_token(&ada);
    assert_eq!(
        reqwest::get(app.url(&format!("/t/{link}")))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let token = ada["token"].as_str().unwrap();
    assert_eq!(app.scan(&scanner, token, "north").await.0, StatusCode::OK);
    assert_eq!(
        app.scan(&scanner, token, "north").await.0,
        StatusCode::CONFLICT
    );
    // Grace: exchanged into credit. Alan: offered to a friend. Edsger: canceled with a refund.
    let grace = app
        .issue_to(performance, "Grace", "grace@example.org")
        .await;
    let grace_id = grace["id"].as_i64().unwrap();
    app.post_expecting(
        &format!("/api/v1/tickets/{grace_id}/exchange"),
        &json!({"into": "credit"}),
        StatusCode::OK,
    )
    .await;
    let alan = app.issue_to(performance, "Alan", "alan@example.org").await;
    let alan_id = alan["id"].as_i64().unwrap();
    app.post_expecting(
        &format!("/api/v1/tickets/{alan_id}/transfer"),
        &json!({"name": "Barbara", "email": "barbara@example.org"}),
        StatusCode::CREATED,
    )
    .await;
    let edsger = app
        .issue_to(performance, "Edsger", "edsger@example.org")
        .await;
    let edsger_id = edsger["id"].as_i64().unwrap();
    app.post_expecting(
        &format!("/api/v1/tickets/{edsger_id}/cancel"),
        &json!({"reason": "Double booking", "refund_to_credit": true}),
        StatusCode::OK,
    )
    .await;

    // The worker sends the emails (email_sent) and the webhooks.
    let _worker = app.run_worker(1);
    let wanted: BTreeSet<&str> = [
        "ticket.issued",
        "ticket.link_opened",
        "ticket.scanned",
        "ticket.exchanged",
        "ticket.credited",
        "ticket.transferred",
        "ticket.canceled",
        "ticket.email_sent",
    ]
    .into();
    wait_for(
        &receiver,
        "every kind of touch",
        Duration::from_secs(30),
        |got| {
            let types: BTreeSet<String> = got
                .iter()
                .map(|r| body(r)["type"].as_str().unwrap().to_string())
                .collect();
            let confirmed = got
                .iter()
                .map(body)
                .any(|m| m["data"]["email_kind"] == "confirmation");
            confirmed
                && wanted.iter().all(|w| types.contains(*w))
                && got
                    .iter()
                    .filter(|r| body(r)["type"] == "ticket.scanned")
                    .count()
                    == 2
        },
    )
    .await;

    let got = receiver.received();
    for request in &got {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hooks");
        assert!(
            request.header("webhook-id").starts_with("msg_"),
            "{request:?}"
        );
        verify(&secret, request);
        let message = body(request);
        assert!(message["timestamp"].as_str().is_some(), "{message}");
        assert!(
            message["data"]["ticket_id"].is_i64() || message["type"] == "ticket.credited",
            "{message}"
        );
    }
    let of = |ticket: i64, kind: &str| -> Vec<Value> {
        got.iter()
            .map(body)
            .filter(|m| m["type"] == kind && m["data"]["ticket_id"] == ticket)
            .collect()
    };
    let issued = &of(ada_id, "ticket.issued")[0]["data"];
    assert_eq!(
        (
            issued["holder_name"].as_str(),
            issued["holder_email"].as_str()
        ),
        (Some("Ada"), Some("ada@example.org"))
    );
    assert_eq!(issued["performance_id"], performance);
    let scans: Vec<Value> = of(ada_id, "ticket.scanned")
        .iter()
        .map(|m| m["data"]["outcome"].clone())
        .collect();
    assert_eq!(scans, [json!("admitted"), json!("already_admitted")]);
    assert_eq!(of(ada_id, "ticket.scanned")[0]["data"]["gate"], "north");
    assert_eq!(
        of(ada_id, "ticket.link_opened")[0]["data"]["purpose"],
        "view"
    );
    assert_eq!(of(grace_id, "ticket.exchanged").len(), 1);
    let credit = &of(grace_id, "ticket.credited")[0]["data"];
    assert_eq!(credit["patron_email"], "grace@example.org");
    assert!(credit["amount_minor"].as_i64().unwrap() > 0, "{credit}");
    let offer = &of(alan_id, "ticket.transferred")[0]["data"];
    assert_eq!(
        (offer["status"].as_str(), offer["to_email"].as_str()),
        (Some("offered"), Some("barbara@example.org"))
    );
    let canceled = &of(edsger_id, "ticket.canceled")[0]["data"];
    assert_eq!(canceled["reason"], "Double booking");
    let emails: Vec<Value> = of(ada_id, "ticket.email_sent")
        .iter()
        .map(|m| m["data"]["email_kind"].clone())
        .collect();
    assert!(emails.contains(&json!("confirmation")), "{emails:?}");

    // Each delivery shows in the endpoint's list, delivered with the receiver's status (the
    // worker records the answer just after the receiver got the request: wait for it).
    let deadline = Deadline::after(Duration::from_secs(10));
    let deliveries = loop {
        let deliveries = app
            .get_json(
                &format!("/api/v1/webhooks/{id}/deliveries?status=delivered&limit=500"),
                &app.admin_key,
            )
            .await;
        let ids: BTreeSet<&str> = deliveries
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap())
            .collect();
        let unlisted: Vec<&Received> = got
            .iter()
            .filter(|r| !ids.contains(r.header("webhook-id")))
            .collect();
        if unlisted.is_empty() {
            break deliveries;
        }
        deadline
            .retry(&format!("{unlisted:?} listed as delivered"))
            .await;
    };
    assert!(deliveries
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["last_status_code"] == 204 && d["attempts"].as_i64() >= Some(1)));
    receiver.stop().await;
}

/// Only the kinds an endpoint asked for reach it; with no endpoint, nothing is queued at all.
async fn only_the_kinds_asked_for_and_nothing_without_an_endpoint(app: TestApp) {
    let performance = app.create_performance(10).await;
    app.issue_ticket(performance).await;
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM webhook_deliveries"),
        0
    );
    let receiver = Receiver::start(false, |_| (200, "{}".into())).await;
    // This app allows no loopback: the endpoint is registered through the service.
    let url = encore::domain::webhook::EndpointUrl::parse(
        &format!("{}/scans-only", receiver.url),
        encore::domain::webhook::Reach {
            allow_http: true,
            allow_private: true,
        },
    )
    .unwrap();
    let kinds = encore::domain::webhook::Kinds::parse(&["scanned".into()]).unwrap();
    encore::service::webhooks::create(&app.encore, &url, &kinds).unwrap();
    let ticket = app.issue_ticket(performance).await;
    let scanner = app.key(Role::Scanner);
    app.scan(&scanner, ticket["token"].as_str().unwrap(), "north")
        .await;
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE kind = 'scanned'"),
        1
    );
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM webhook_deliveries"),
        1
    );
    receiver.stop().await;
}

/// A ticket's touches arrive in the order they happened, even when the receiver refused
/// connections for a while (nothing listened on its port) and failed the first attempts.
async fn in_order_per_ticket_and_nothing_lost_while_the_receiver_is_down(backend: Backend) {
    let app = spawn_local(backend).await;
    // A port nobody listens on yet: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = register(
        &app,
        &format!("http://127.0.0.1:{port}/in"),
        &["issued", "scanned"],
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    let id = endpoint["id"].as_i64().unwrap();
    let _worker = app.run_worker(1);

    let performance = app
        .create_performance_at(chrono::Utc::now() + chrono::Duration::hours(4), 50)
        .await;
    let scanner = app.key(Role::Scanner);
    let tickets = app.issue_bulk(performance, 20).await;
    for ticket in &tickets {
        let token = ticket["token"].as_str().unwrap();
        assert_eq!(app.scan(&scanner, token, "north").await.0, StatusCode::OK);
        assert_eq!(
            app.scan(&scanner, token, "south").await.0,
            StatusCode::CONFLICT
        );
    }
    // The worker tried and failed: the endpoint's deliveries say why.
    let deadline = Deadline::after(Duration::from_secs(20));
    loop {
        let pending = app
            .get_json(
                &format!("/api/v1/webhooks/{id}/deliveries?status=pending"),
                &app.admin_key,
            )
            .await;
        if pending
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["attempts"].as_i64() >= Some(2))
        {
            let failed = pending
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["attempts"].as_i64() >= Some(2))
                .unwrap();
            assert!(
                failed["last_error"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("connect"),
                "{failed}"
            );
            assert!(failed["last_status_code"].is_null());
            break;
        }
        deadline.retry("failed attempts recorded").await;
    }
    let shown = app
        .get_json(&format!("/api/v1/webhooks/{id}"), &app.admin_key)
        .await;
    assert!(shown["failing_since"].is_string(), "{shown}");
    assert_eq!(shown["pending_deliveries"], 60);

    // The receiver comes up on that port; its first answers are 503 (then 200).
    let failures = Arc::new(AtomicU16::new(5));
    let left = failures.clone();
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let receiver = Receiver::start_on(listener, false, move |_| {
        if left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            (503, "{}".into())
        } else {
            (200, "{}".into())
        }
    })
    .await;
    wait_for(
        &receiver,
        "all 60 touches",
        Duration::from_secs(60),
        |got| got.iter().map(seq).collect::<BTreeSet<_>>().len() >= 60,
    )
    .await;
    let got = receiver.received();
    // Per ticket: each touch's first arrival comes after the earlier touches' (ids increase),
    // and the story is issued, scanned (admitted), scanned (already admitted).
    let mut per_ticket: BTreeMap<i64, Vec<(i64, String)>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for request in &got {
        verify(&secret, request);
        let message = body(request);
        if !seen.insert(seq(request)) {
            continue;
        }
        let ticket = message["data"]["ticket_id"].as_i64().unwrap();
        let what = match message["type"].as_str().unwrap() {
            "ticket.scanned" => format!("scanned:{}", message["data"]["outcome"].as_str().unwrap()),
            other => other.to_string(),
        };
        per_ticket
            .entry(ticket)
            .or_default()
            .push((seq(request), what));
    }
    assert_eq!(per_ticket.len(), 20);
    for (ticket, story) in &per_ticket {
        let ids: Vec<i64> = story.iter().map(|(id, _)| *id).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ticket {ticket} out of order: {story:?}"
        );
        let kinds: Vec<&str> = story.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "ticket.issued",
                "scanned:admitted",
                "scanned:already_admitted"
            ],
            "ticket {ticket}"
        );
    }
    let shown = app
        .get_json(&format!("/api/v1/webhooks/{id}"), &app.admin_key)
        .await;
    assert_eq!(shown["pending_deliveries"], 0, "{shown}");
    assert!(shown["failing_since"].is_null(), "{shown}");
    receiver.stop().await;
}

/// URLs Encore may not call are refused at registration with a reason, unless configured.
async fn urls_encore_may_not_call_are_refused(app: TestApp) {
    for (url, reason) in [
        ("http://127.0.0.1:9/hooks", "https"),
        ("https://127.0.0.1:9/hooks", "loopback"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://192.168.1.10/hooks", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[::1]/hooks", "loopback"),
        ("https://localhost/hooks", "loopback"),
        ("https://user:secret@example.org/hooks", "password"),
        ("ftp://example.org/hooks", "https"),
        ("not a url", "not a URL"),
    ] {
        let refused = app
            .post_expecting(
                "/api/v1/webhooks",
                &json!({"url": url, "kinds": ["issued"]}),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        assert_eq!(refused["field"], "url", "{url}: {refused}");
        assert!(
            refused["message"].as_str().unwrap().contains(reason),
            "{url}: {refused}"
        );
    }
    let refused = app
        .post_expecting(
            "/api/v1/webhooks",
            &json!({"url": "https://example.org/", "kinds": ["scan"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(refused["field"], "kinds");
    // A box-office key may not register one.
    let clerk = app.key(Role::BoxOffice);
    let response = app
        .post(
            "/api/v1/webhooks",
            &clerk,
            &json!({"url": "https://example.org/", "kinds": ["issued"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM webhook_endpoints"),
        0
    );
}

/// An endpoint registered where loopback was allowed is not called by a worker whose settings
/// forbid it: the address is checked again at delivery.
async fn the_address_is_checked_again_at_delivery(backend: Backend) {
    let app = spawn_local(backend).await;
    let receiver = Receiver::start(false, |_| (200, "{}".into())).await;
    let endpoint = register(&app, &receiver.url, &["issued"]).await;
    let id = endpoint["id"].as_i64().unwrap();
    let performance = app.create_performance(10).await;
    app.issue_ticket(performance).await;
    let strict = Config {
        webhook_allow_private_addresses: false,
        ..app.config.clone()
    };
    let worker = encore::worker::Worker::from_config(app.encore.clone(), &strict).unwrap();
    assert_eq!(
        worker.deliver_webhooks().await.unwrap(),
        1,
        "{}",
        app.get_json(&format!("/api/v1/webhooks/{id}/deliveries"), &app.admin_key)
            .await
    );
    let deliveries = app
        .get_json(&format!("/api/v1/webhooks/{id}/deliveries"), &app.admin_key)
        .await;
    let attempt = &deliveries[0];
    assert_eq!(attempt["status"], "pending");
    assert!(
        attempt["last_error"].as_str().unwrap().contains("loopback"),
        "{attempt}"
    );
    assert!(receiver.received().is_empty());
    // The worker of the configured app delivers it.
    let worker = app.worker();
    let deadline = Deadline::after(Duration::from_secs(10));
    while worker.deliver_webhooks().await.unwrap() == 0 {
        deadline.retry("the retry is due").await; // after its backoff
    }
    assert_eq!(receiver.received().len(), 1);
    receiver.stop().await;
}

/// An endpoint that only fails for `webhook_disable_after_seconds` is disabled; enabled again,
/// it gets what it missed (in order); a replay sends delivered touches again with their ids.
async fn a_failing_endpoint_is_disabled_then_enabled_and_replayed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        local(config);
        config.webhook_disable_after_seconds = 1;
    })
    .await;
    let status = Arc::new(AtomicU16::new(500));
    let answer = status.clone();
    let receiver =
        Receiver::start(false, move |_| (answer.load(Ordering::SeqCst), "{}".into())).await;
    let endpoint = register(&app, &receiver.url, &["issued"]).await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    let id = endpoint["id"].as_i64().unwrap();
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    let performance = app.create_performance(10).await;
    let first = app.issue_ticket(performance).await;
    let worker = app.run_worker(1);
    let deadline = Deadline::after(Duration::from_secs(20));
    let shown = loop {
        let shown = app
            .get_json(&format!("/api/v1/webhooks/{id}"), &app.admin_key)
            .await;
        if shown["enabled"] == false {
            break shown;
        }
        deadline.retry("the endpoint is disabled").await;
    };
    assert!(
        shown["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("failed"),
        "{shown}"
    );
    let deliveries = app
        .get_json(&format!("/api/v1/webhooks/{id}/deliveries"), &app.admin_key)
        .await;
    assert_eq!(deliveries[0]["last_status_code"], 500, "{deliveries}");
    assert!(
        deliveries[0]["attempts"].as_i64().unwrap() >= 2,
        "{deliveries}"
    );
    // Disabled: nothing is sent, the touches are kept for it.
    let tried = receiver.received().len();
    let second = app.issue_ticket(performance).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.received().len(),
        tried,
        "a disabled endpoint was called"
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/webhooks/{id}"), &app.admin_key)
            .await["pending_deliveries"],
        2
    );

    // Fixed, and enabled again: what it missed arrives, in order.
    status.store(200, Ordering::SeqCst);
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/webhooks/{id}")))
        .bearer_auth(&app.admin_key)
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let delivered = |got: &[Received]| -> Vec<i64> {
        got.iter()
            .map(|r| body(r)["data"]["ticket_id"].as_i64().unwrap())
            .collect()
    };
    let (first_id, second_id) = (
        first["id"].as_i64().unwrap(),
        second["id"].as_i64().unwrap(),
    );
    wait_for(
        &receiver,
        "the missed touches",
        Duration::from_secs(20),
        |got| got.len() >= tried + 2,
    )
    .await;
    // (The first of them may have been in flight as the endpoint was disabled: the last two
    // are the ones it missed, oldest first.)
    let after: Vec<Received> = receiver.received()[tried..].to_vec();
    assert_eq!(delivered(&after[after.len() - 2..]), [first_id, second_id]);
    let deadline = Deadline::after(Duration::from_secs(10));
    while app
        .get_json(&format!("/api/v1/webhooks/{id}"), &app.admin_key)
        .await["pending_deliveries"]
        != 0
    {
        deadline.retry("the deliveries are recorded").await;
    }
    drop(worker);

    // A replay sends both again, with the same ids.
    let before_replay = receiver.received();
    let replayed = app
        .post_expecting(
            &format!("/api/v1/webhooks/{id}/replay"),
            &json!({"since": since}),
            StatusCode::OK,
        )
        .await;
    assert_eq!(replayed["queued"], 2);
    let worker = app.worker();
    while worker.deliver_webhooks().await.unwrap() > 0 {}
    let again: Vec<Received> = receiver.received()[before_replay.len()..].to_vec();
    assert_eq!(again.len(), 2);
    let first_ids: BTreeSet<&str> = before_replay
        .iter()
        .map(|r| r.header("webhook-id"))
        .collect();
    for request in &again {
        verify(&secret, request);
        assert!(first_ids.contains(request.header("webhook-id")));
    }
    // Deleted: gone with its deliveries.
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/webhooks/{id}")))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/api/v1/webhooks/{id}"), &app.admin_key)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM webhook_deliveries"),
        0
    );
    receiver.stop().await;
}

/// A child process, killed (SIGKILL) when dropped, even when the test fails.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A worker process killed with SIGKILL in the middle of delivering loses nothing: started
/// again, every touch arrives; a touch that arrived twice did so under one webhook-id.
async fn a_killed_worker_loses_nothing(backend: Backend) {
    let app = spawn_local(backend).await;
    const TICKETS: usize = 300;
    let receiver = Receiver::start(false, |_| {
        std::thread::sleep(Duration::from_millis(3));
        (200, "{}".into())
    })
    .await;
    let endpoint = register(&app, &receiver.url, &["issued"]).await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    let performance = app.create_performance(TICKETS as i64).await;
    let issued = app.issue_bulk(performance, TICKETS).await;
    assert_eq!(issued.len(), TICKETS);

    let start_worker = || {
        Command::new(env!("CARGO_BIN_EXE_encore"))
            .arg("worker")
            .env("DATABASE_URL", &app.db.url)
            .env("ENCORE_MAIL_DIR", app.db.dir().join("mail"))
            .env("ENCORE_WEBHOOK_ALLOW_HTTP", "true")
            .env("ENCORE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "true")
            .env("ENCORE_WEBHOOK_BATCH_SIZE", "16")
            .env("ENCORE_WEBHOOK_CONCURRENCY", "4")
            .env("ENCORE_WEBHOOK_TIMEOUT_MS", "500")
            .env("ENCORE_WEBHOOK_POLL_MS", "20")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start encore worker")
    };
    let mut worker = Killed(start_worker());
    wait_for(
        &receiver,
        "some deliveries",
        Duration::from_secs(30),
        |got| got.len() >= 40,
    )
    .await;
    worker.0.kill().unwrap(); // SIGKILL
    worker.0.wait().unwrap();
    let at_kill = receiver.received().len();
    assert!(at_kill < TICKETS, "the kill came after the end ({at_kill})");

    let _worker = Killed(start_worker());
    let all: BTreeSet<i64> = issued.iter().map(|t| t["id"].as_i64().unwrap()).collect();
    wait_for(
        &receiver,
        "every touch after the restart",
        Duration::from_secs(60),
        |got| {
            got.iter()
                .map(|r| body(r)["data"]["ticket_id"].as_i64().unwrap())
                .collect::<BTreeSet<_>>()
                == all
        },
    )
    .await;
    // Those the killed worker sent but had not recorded are sent again when their lease ends.
    let deadline = Deadline::after(Duration::from_secs(30));
    let pending = "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'";
    while app.db.count(pending) > 0 {
        deadline.retry("every delivery recorded").await;
    }

    // One id per touch; a repeat is the same id with the same body.
    let mut by_id: HashMap<String, String> = HashMap::new();
    let mut id_of_ticket: HashMap<i64, String> = HashMap::new();
    for request in receiver.received() {
        verify(&secret, &request);
        let id = request.header("webhook-id").to_string();
        if let Some(earlier) = by_id.insert(id.clone(), request.body.clone()) {
            assert_eq!(earlier, request.body, "{id} sent with two bodies");
        }
        let ticket = body(&request)["data"]["ticket_id"].as_i64().unwrap();
        let first = id_of_ticket.entry(ticket).or_insert(id.clone());
        assert_eq!(*first, id, "ticket {ticket} issued under two ids");
    }
    assert_eq!(by_id.len(), TICKETS);
    receiver.stop().await;
}

/// The door writes scans in batches (all that wait, in one transaction), and an offline upload
/// merges its scans in one: every scan that names a ticket reaches the endpoint that wants
/// `scanned`, once, with its facts and in the order it was recorded; a scan naming no ticket
/// and an endpoint that wants other kinds get nothing.
async fn scans_written_in_batches_and_uploaded_offline_arrive(backend: Backend) {
    let app = spawn_local(backend).await;
    let receiver = Receiver::start(false, |_| (204, String::new())).await;
    register(&app, &format!("{}/scans", receiver.url), &["scanned"]).await;
    register(&app, &format!("{}/issues", receiver.url), &["issued"]).await;
    let performance = app
        .create_performance_at(chrono::Utc::now() + chrono::Duration::hours(4), 50)
        .await;
    let scanner = app.key(Role::Scanner);
    let tickets = app.issue_bulk(performance, 14).await;
    let (online, offline) = tickets.split_at(12);

    // Online: each ticket scanned twice at once, all at once, and one forgery: the writer
    // takes whatever waits, so batches hold several scans, some two of one ticket.
    let scans = online
        .iter()
        .flat_map(|t| [t, t])
        .map(|t| app.scan(&scanner, t["token"].as_str().unwrap(), "north"));
    let mut answers: Vec<StatusCode> = futures::future::join_all(scans)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    answers.sort();
    assert_eq!(
        answers,
        [[StatusCode::OK; 12], [StatusCode::CONFLICT; 12]].concat()
    );
    let (status, _) = app.scan(&scanner, "not-a-token", "north").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Offline: one admitted on the device, one the device refused.
    let now = chrono::Utc::now();
    let uploaded = crate::door::upload(
        &app,
        &scanner,
        "phone-7",
        vec![
            crate::door::scan(offline[0]["token"].as_str().unwrap(), "south", now),
            crate::door::refused(
                offline[1]["token"].as_str().unwrap(),
                "south",
                now,
                "no_bundle",
            ),
        ],
    )
    .await;
    assert_eq!(
        crate::door::outcomes(&uploaded),
        ["admitted", "refused_offline"]
    );

    let _worker = app.run_worker(1);
    wait_for(
        &receiver,
        "26 scans and 14 issues",
        Duration::from_secs(30),
        |got| got.iter().map(seq).collect::<BTreeSet<_>>().len() >= 40,
    )
    .await;
    // Exactly these were queued: one per ticket issued, one per scan that named a ticket.
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM webhook_deliveries"),
        40
    );
    let got = receiver.received();
    let mut by_id = BTreeMap::new();
    for request in &got {
        by_id.insert(seq(request), request);
    }
    assert_eq!(by_id.len(), 40, "each touch once (retries repeat an id)");
    let mut per_ticket: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    for request in by_id.values() {
        let message = body(request);
        let expected = match request.path.as_str() {
            "/scans" => "ticket.scanned",
            _ => "ticket.issued",
        };
        assert_eq!(message["type"], expected, "{}: {message}", request.path);
        if expected == "ticket.scanned" {
            let ticket = message["data"]["ticket_id"].as_i64().unwrap();
            per_ticket
                .entry(ticket)
                .or_default()
                .push(message["data"].clone());
        }
    }
    assert_eq!(per_ticket.len(), 14);
    for ticket in online {
        let story = &per_ticket[&ticket["id"].as_i64().unwrap()];
        let outcomes: Vec<&str> = story
            .iter()
            .map(|d| d["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["admitted", "already_admitted"], "{story:?}");
        assert!(story[0]["scan_id"].as_i64() < story[1]["scan_id"].as_i64());
        assert!(story
            .iter()
            .all(|d| d["offline"] == false && d["gate"] == "north"));
    }
    let story = &per_ticket[&offline[0]["id"].as_i64().unwrap()];
    assert_eq!(story.len(), 1);
    assert_eq!(
        (
            &story[0]["outcome"],
            &story[0]["offline"],
            &story[0]["device"]
        ),
        (&json!("admitted"), &json!(true), &json!("phone-7"))
    );
    let story = &per_ticket[&offline[1]["id"].as_i64().unwrap()];
    assert_eq!(story.len(), 1);
    assert_eq!(
        (&story[0]["outcome"], &story[0]["device_refusal"]),
        (&json!("refused_offline"), &json!("no_bundle"))
    );
    // The forgery was recorded, and queued nothing.
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM arrival_events WHERE ticket_id IS NULL"),
        1
    );
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE kind = 'scanned'"),
        26
    );
    receiver.stop().await;
}

on_both_backends!(
    only_the_kinds_asked_for_and_nothing_without_an_endpoint,
    urls_encore_may_not_call_are_refused
);
on_each_backend!(
    delivery: every_touch_arrives_signed_with_its_facts,
    scans_written_in_batches_and_uploaded_offline_arrive,
    in_order_per_ticket_and_nothing_lost_while_the_receiver_is_down,
    the_address_is_checked_again_at_delivery,
    a_failing_endpoint_is_disabled_then_enabled_and_replayed,
    a_killed_worker_loses_nothing,
    consent_changes_and_a_no_show_credit_arrive,
);

/// A patron's opt-out (one click from a marketing email) and opt-in (from the ticket page)
/// arrive as `unsubscribed` and `resubscribed`; the no-show credit as `credited` (the SQLite
/// ledger was rebuilt by a later migration, which must keep its trigger).
async fn consent_changes_and_a_no_show_credit_arrive(backend: Backend) {
    let app = spawn_local(backend).await;
    let receiver = Receiver::start(false, |_| (204, String::new())).await;
    let endpoint = register(
        &app,
        &format!("{}/hooks", receiver.url),
        &["unsubscribed", "resubscribed", "credited"],
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    let event = app
        .post_expecting(
            "/api/v1/events",
            &json!({"name": "Hamlet", "venue": "Globe", "time_zone": "UTC",
                    "policy": {"no_show_credit_percent": 40}}),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let now = chrono::Utc::now();
    let performance = app
        .post_expecting(
            &format!("/api/v1/events/{event}/performances"),
            &json!({"starts_at": now - chrono::Duration::hours(3),
                    "ends_at": now - chrono::Duration::hours(1), "capacity": 10}),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let ada = app.issue_to(performance, "Ada", "ada@example.org").await;
    let ada_id = ada["id"].as_i64().unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let unsubscribe = app.patron_link(ada_id, 1, encore::tokens::LinkPurpose::Unsubscribe);
    let answer = client
        .post(app.url(&format!("/unsubscribe/{unsubscribe}")))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let view = app.view_token(&ada);
    let answer = client
        .post(app.url(&format!("/t/{view}/news")))
        .form(&[("news", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let no_show = app.patron_link(ada_id, 1, encore::tokens::LinkPurpose::NoShowCredit);
    let answer = client
        .post(app.url(&format!("/no-show/{no_show}")))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);

    let worker = app.worker();
    while worker.deliver_webhooks().await.unwrap() > 0 {}
    wait_for(&receiver, "three touches", Duration::from_secs(10), |got| {
        got.len() >= 3
    })
    .await;
    let got = receiver.received();
    let types: Vec<String> = got
        .iter()
        .map(|r| body(r)["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "ticket.unsubscribed",
            "ticket.resubscribed",
            "ticket.credited"
        ]
    );
    for request in &got {
        verify(&secret, request);
    }
    assert_eq!(body(&got[2])["data"]["reason"], "no_show_credit");
    assert_eq!(body(&got[2])["data"]["amount_minor"], 1800);
}
