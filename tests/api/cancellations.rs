//! Cancellations at the box office: one ticket, or a whole performance as a resumable job —
//! and what happens when a cancel races a scan or an exchange, or the job is killed mid-way.

use std::time::{Duration, Instant};

use encore::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    on_both_backends, on_each_backend, run_cli, ticket_request, Backend, TestApp,
};
use crate::smtp::SmtpServer;

async fn cancel(app: &TestApp, ticket: i64, body: Value) -> (StatusCode, Value) {
    let response = app
        .post(
            &format!("/api/v1/tickets/{ticket}/cancel"),
            &app.admin_key,
            &body,
        )
        .await;
    (response.status(), response.json().await.unwrap())
}

fn refund(reason: &str) -> Value {
    json!({"reason": reason, "refund_to_credit": true})
}

/// `count` tickets, each for a different holder (`holder-{batch}-{i}@example.org`).
async fn issue_many(app: &TestApp, performance: i64, batch: i64, count: i64) {
    let tickets: Vec<Value> = (0..count)
        .map(|i| ticket_request("Guest", &format!("holder-{batch}-{i}@example.org")))
        .collect();
    let response = app
        .post(
            &format!("/api/v1/performances/{performance}/tickets/bulk"),
            &app.admin_key,
            &json!({ "tickets": tickets }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// Runs the email worker's rounds until nothing is due.
async fn deliver_all(app: &TestApp) {
    let worker = app.worker();
    while worker.deliver_due().await.unwrap() > 0 {}
}

fn id(ticket: &Value) -> i64 {
    ticket["id"].as_i64().unwrap()
}

fn token(ticket: &Value) -> &str {
    ticket["token"].as_str().unwrap()
}

fn refunds_of(app: &TestApp, ticket_id: i64) -> i64 {
    app.db.count(&format!(
        "SELECT COUNT(*) AS n FROM credit_ledger WHERE ticket_id = {ticket_id}"
    ))
}

async fn a_canceled_ticket_refuses_refunds_once_and_emails_the_holder(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, move |c| c.smtp_url = Some(url)).await;
    let performance = app.create_performance(10).await;
    let ticket = app.issue_to(performance, "Ada", "ada@example.org").await;

    let (status, canceled) = cancel(&app, id(&ticket), refund("Illness in the cast")).await;
    assert_eq!(status, StatusCode::OK, "{canceled}");
    assert_eq!(canceled["refund_minor"], 4500);
    assert_eq!(canceled["currency"], "EUR");

    // The QR refuses at once and the seat is free again.
    let scanner = app.key(Role::Scanner);
    let (status, scan) = app.scan(&scanner, token(&ticket), "north").await;
    assert_eq!(
        (status, scan["outcome"].as_str()),
        (StatusCode::CONFLICT, Some("canceled"))
    );
    let now = app
        .get_json(
            &format!("/api/v1/performances/{performance}"),
            &app.admin_key,
        )
        .await;
    assert_eq!(now["tickets_issued"], 0);

    // Canceling twice is a clear 409 and never a second credit.
    let (status, again) = cancel(&app, id(&ticket), refund("again")).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_canceled"))
    );
    let credit = app
        .get_json("/api/v1/patrons/ada@example.org/credit", &app.admin_key)
        .await;
    assert_eq!(credit["balances"][0]["balance_minor"], 4500, "{credit}");
    assert_eq!(refunds_of(&app, id(&ticket)), 1);

    // Without a refund nothing is credited.
    let other = app.issue_to(performance, "Ada", "ada@example.org").await;
    let (status, canceled) = cancel(
        &app,
        id(&other),
        json!({"reason": "Seat broken", "refund_to_credit": false}),
    )
    .await;
    assert_eq!(
        (status, canceled["refund_minor"].as_i64()),
        (StatusCode::OK, Some(0))
    );
    assert_eq!(refunds_of(&app, id(&other)), 0);

    // The holder is emailed once per canceled ticket, with the reason and the credit.
    deliver_all(&app).await;
    // The confirmations are skipped: their tickets were canceled before the worker came.
    let messages = smtp.wait_for(2).await;
    assert_eq!(messages.len(), 2);
    let cancellations: Vec<String> = messages
        .iter()
        .map(|m| m.parsed())
        .filter(|m| m.subject().is_some_and(|s| s.contains("is canceled")))
        .map(|m| m.body_text(0).unwrap().into_owned())
        .collect();
    assert_eq!(cancellations.len(), 2, "{cancellations:?}");
    assert!(cancellations
        .iter()
        .any(|t| t.contains("Illness in the cast") && t.contains("45.00 EUR")));
    assert!(cancellations
        .iter()
        .any(|t| t.contains("Seat broken") && t.contains("No refund")));
}

async fn cancel_refuses_bad_input_wrong_roles_and_used_tickets(app: TestApp) {
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;

    let scanner = app.key(Role::Scanner);
    let response = app
        .post(
            &format!("/api/v1/tickets/{}/cancel", id(&ticket)),
            &scanner,
            &refund("no"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let (status, body) = cancel(&app, 999_999, refund("gone")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    let (status, body) = cancel(
        &app,
        id(&ticket),
        json!({"reason": "  ", "refund_to_credit": true}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str(), body["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("validation_failed"),
            Some("reason")
        ),
        "{body}"
    );
    let (status, body) = cancel(&app, id(&ticket), json!({"reason": "no refund choice"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body")),
        "{body}"
    );

    // A ticket used to enter is not canceled (nor refunded).
    assert_eq!(
        app.scan(&scanner, token(&ticket), "north").await.0,
        StatusCode::OK
    );
    let (status, body) = cancel(&app, id(&ticket), refund("too late")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_admitted"))
    );
    assert_eq!(refunds_of(&app, id(&ticket)), 0);
}

/// Each ticket is scanned and canceled at the same moment: it is admitted or canceled (and
/// refunded), never both.
async fn a_cancel_racing_a_scan_is_never_both(app: TestApp) {
    let performance = app.create_performance(20).await;
    let tickets = app.issue_bulk(performance, 20).await;
    let scanner = app.key(Role::Scanner);
    let app = std::sync::Arc::new(app);
    let mut races = Vec::new();
    for ticket in tickets {
        let (a, b, scanner) = (app.clone(), app.clone(), scanner.clone());
        let (t1, t2) = (ticket.clone(), ticket.clone());
        races.push(tokio::spawn(async move {
            let scan = tokio::spawn(async move { a.scan(&scanner, token(&t1), "north").await.0 });
            let canceled = tokio::spawn(async move { cancel(&b, id(&t2), refund("race")).await.0 });
            (scan.await.unwrap(), canceled.await.unwrap())
        }));
    }
    let mut cancels = 0;
    for race in races {
        let (scan, canceled) = race.await.unwrap();
        assert!(
            (scan == StatusCode::OK) != (canceled == StatusCode::OK),
            "exactly one of scan {scan} and cancel {canceled} succeeds"
        );
        cancels += i64::from(canceled == StatusCode::OK);
    }
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM tickets WHERE status = 'canceled' AND admitted_at IS NOT NULL"),
        0
    );
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM credit_ledger WHERE reason = 'cancel_refund'"),
        cancels
    );
}

/// Cancel and exchange into credit race for each ticket: one wins, and one credit at most.
async fn a_cancel_racing_an_exchange_credits_once(app: TestApp) {
    // Four hours ahead: still open for exchanges (the cut-off is two hours before).
    let performance = app
        .create_performance_at(chrono::Utc::now() + chrono::Duration::hours(4), 10)
        .await;
    let tickets = app.issue_bulk(performance, 10).await;
    let app = std::sync::Arc::new(app);
    let mut races = Vec::new();
    for ticket in tickets {
        let (a, b) = (app.clone(), app.clone());
        let ticket_id = id(&ticket);
        races.push(tokio::spawn(async move {
            let canceled =
                tokio::spawn(async move { cancel(&a, ticket_id, refund("race")).await.0 });
            let exchanged = tokio::spawn(async move {
                b.post(
                    &format!("/api/v1/tickets/{ticket_id}/exchange"),
                    &b.admin_key,
                    &json!({"into": "credit"}),
                )
                .await
                .status()
            });
            (canceled.await.unwrap(), exchanged.await.unwrap())
        }));
    }
    for race in races {
        let (canceled, exchanged) = race.await.unwrap();
        assert!(
            (canceled == StatusCode::OK) != (exchanged == StatusCode::OK),
            "exactly one of cancel {canceled} and exchange {exchanged} succeeds"
        );
    }
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM credit_ledger"), 10);
    assert_eq!(
        app.db.count(
            "SELECT COUNT(*) AS n FROM (SELECT ticket_id FROM credit_ledger GROUP BY ticket_id HAVING COUNT(*) > 1) AS twice"
        ),
        0
    );
}

/// Polls the performance's cancellation job until it is done.
pub(crate) async fn wait_until_done(app: &TestApp, performance: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = app
            .get_json(
                &format!("/api/v1/performances/{performance}/cancellation"),
                &app.admin_key,
            )
            .await;
        if job["status"] == "done" {
            return job;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn canceling_a_performance_emails_each_holder_once_and_credits_per_policy(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, move |c| c.smtp_url = Some(url)).await;
    // Four hours ahead: a ticket may still be offered to a friend.
    let performance = app
        .create_performance_at(chrono::Utc::now() + chrono::Duration::hours(4), 40)
        .await;
    // Ada holds two tickets; 27 guests one each.
    let ada = [
        app.issue_to(performance, "Ada", "ada@example.org").await,
        app.issue_to(performance, "Ada", "ada@example.org").await,
    ];
    let guests = app.issue_bulk(performance, 27).await;
    // One guest is already inside: that ticket stays admitted and is neither canceled nor
    // refunded. Another is on offer to a friend: the offer is withdrawn with the ticket.
    let scanner = app.key(Role::Scanner);
    assert_eq!(
        app.scan(&scanner, token(&guests[0]), "north").await.0,
        StatusCode::OK
    );
    let offered = app
        .post(
            &format!("/api/v1/tickets/{}/transfer", id(&guests[1])),
            &app.admin_key,
            &json!({"name": "Grace", "email": "grace@example.org"}),
        )
        .await;
    assert_eq!(offered.status(), StatusCode::CREATED);
    deliver_all(&app).await;
    // 28 confirmations (the offered ticket's is skipped: it no longer admits) and the offer.
    // Every round ran dry (`deliver_all`), and each send is in the inbox before the server
    // acknowledges it: what arrived is all there will be.
    let before = smtp.messages().len();
    assert_eq!(before, 29);

    let response = app
        .post(
            &format!("/api/v1/performances/{performance}/cancel"),
            &app.admin_key,
            &json!({"reason": "The theatre flooded"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        response.headers()["location"],
        format!("/api/v1/performances/{performance}/cancellation").as_str()
    );
    let job = wait_until_done(&app, performance).await;
    assert_eq!(
        (job["canceled"].as_i64(), job["total"].as_i64()),
        (Some(28), Some(28)),
        "{job}"
    );
    assert_eq!(job["refund_to_credit"], true);

    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM tickets WHERE status = 'canceled'"),
        28
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM tickets WHERE id = {} AND status = 'valid'",
            id(&guests[0])
        )),
        1
    );
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM transfers WHERE status = 'canceled'"),
        1
    );
    let credit = app
        .get_json("/api/v1/patrons/ada@example.org/credit", &app.admin_key)
        .await;
    assert_eq!(credit["balances"][0]["balance_minor"], 9000, "{credit}");
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM credit_ledger WHERE reason = 'cancel_refund'"),
        28
    );
    let (status, _) = app.scan(&scanner, token(&ada[0]), "north").await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Asking again returns the same job and credits nobody twice; no more tickets are sold.
    let again = app
        .post(
            &format!("/api/v1/performances/{performance}/cancel"),
            &app.admin_key,
            &json!({"reason": "again"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], job["id"]);
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM credit_ledger"), 28);
    let refused = app
        .post(
            &format!("/api/v1/performances/{performance}/tickets"),
            &app.admin_key,
            &ticket_request("Late", "late@example.org"),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "performance_canceled"
    );

    // One email per holder: Ada hears once about both of her tickets.
    deliver_all(&app).await;
    let messages = smtp.wait_for(before + 27).await;
    let canceled: Vec<_> = messages[before..]
        .iter()
        .map(|m| m.parsed())
        .filter(|m| m.subject().is_some_and(|s| s.starts_with("Canceled:")))
        .map(|m| {
            (
                m.to()
                    .unwrap()
                    .first()
                    .unwrap()
                    .address()
                    .unwrap()
                    .to_string(),
                m.body_text(0).unwrap().into_owned(),
            )
        })
        .collect();
    assert_eq!(canceled.len(), 27, "26 guests and Ada");
    let to_ada: Vec<_> = canceled
        .iter()
        .filter(|(to, _)| to == "ada@example.org")
        .collect();
    assert_eq!(to_ada.len(), 1);
    assert!(to_ada[0].1.contains("Your 2 tickets"), "{}", to_ada[0].1);
    assert!(to_ada[0].1.contains("90.00 EUR"), "{}", to_ada[0].1);
    assert!(to_ada[0].1.contains("The theatre flooded"));
}

async fn an_event_without_refunds_cancels_without_credit(app: TestApp) {
    let event = app
        .post(
            "/api/v1/events",
            &app.admin_key,
            &json!({"name": "Free concert", "venue": "Park", "time_zone": "UTC",
                    "policy": {"refund_on_cancel": false}}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let performance = app
        .post(
            &format!("/api/v1/events/{}/performances", event["id"]),
            &app.admin_key,
            &json!({"starts_at": chrono::Utc::now() + chrono::Duration::hours(3), "capacity": 5}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.issue_bulk(performance, 3).await;
    let response = app
        .post(
            &format!("/api/v1/performances/{performance}/cancel"),
            &app.admin_key,
            &json!({"reason": "Rain"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let job = wait_until_done(&app, performance).await;
    assert_eq!(
        (job["canceled"].as_i64(), job["refund_to_credit"].as_bool()),
        (Some(3), Some(false))
    );
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM credit_ledger"), 0);

    let unknown = app
        .post(
            "/api/v1/performances/999999/cancel",
            &app.admin_key,
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let scanner = app.key(Role::Scanner);
    let forbidden = app
        .post(
            &format!("/api/v1/performances/{performance}/cancel"),
            &scanner,
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}

/// 20,000 tickets; `encore performances cancel` is killed (SIGKILL) in the middle and run
/// again. Every ticket ends canceled, credited once and its holder emailed once; the job's
/// counters are exact at every moment.
async fn canceling_20000_tickets_survives_a_kill(app: TestApp) {
    const TICKETS: i64 = 20_000;
    let performance = app.create_performance(TICKETS).await;
    for batch in 0..TICKETS / 1000 {
        issue_many(&app, performance, batch, 1000).await;
    }
    let id = performance.to_string();
    let args = [
        "performances",
        "cancel",
        &id,
        "--reason",
        "Storm warning",
        "--batch-holders",
        "500",
        "--pause-ms",
        "100",
    ];
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start the cancellation");
    let canceled_so_far = || {
        app.db
            .count("SELECT COALESCE(MAX(canceled), 0) AS n FROM performance_cancellations")
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while canceled_so_far() < 2_000 {
        assert!(Instant::now() < deadline, "the job made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the job ended before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Killed mid-way: part done, and what is done is exactly what the counters say.
    let at_kill = canceled_so_far();
    assert!(at_kill < TICKETS, "the kill came after the end");
    let count = |sql: &str| app.db.count(sql);
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM tickets WHERE status = 'canceled'"),
        at_kill
    );
    assert_eq!(count("SELECT COUNT(*) AS n FROM credit_ledger"), at_kill);
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'cancellation'"),
        at_kill
    );

    // Run again: it resumes and finishes the rest.
    let started = Instant::now();
    let (status, stdout, stderr) = run_cli(&app.db.url, &args[..5]);
    assert_eq!(status, 0, "{stdout}{stderr}");
    assert!(stdout.contains("resuming"), "{stdout}");
    assert!(
        stdout.contains(&format!("{TICKETS} tickets canceled")),
        "{stdout}"
    );
    eprintln!(
        "resumed and canceled the remaining {} tickets in {:?}",
        TICKETS - at_kill,
        started.elapsed()
    );

    assert_eq!(
        count("SELECT COUNT(*) AS n FROM tickets WHERE status = 'canceled'"),
        TICKETS
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM credit_ledger WHERE reason = 'cancel_refund'"),
        TICKETS
    );
    assert_eq!(
        count("SELECT CAST(SUM(balance_minor) AS BIGINT) AS n FROM credit_accounts"),
        TICKETS * 4500
    );
    assert_eq!(
        count("SELECT COUNT(DISTINCT recipient) AS n FROM outbox WHERE kind = 'cancellation'"),
        TICKETS
    );
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'cancellation'"),
        TICKETS
    );
    let job = app
        .get_json(
            &format!("/api/v1/performances/{performance}/cancellation"),
            &app.admin_key,
        )
        .await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["canceled"].as_i64(),
            job["total"].as_i64()
        ),
        (Some("done"), Some(TICKETS), Some(TICKETS))
    );
    let now = app
        .get_json(
            &format!("/api/v1/performances/{performance}"),
            &app.admin_key,
        )
        .await;
    assert_eq!(now["tickets_issued"], 0);
}

on_both_backends!(
    cancel_refuses_bad_input_wrong_roles_and_used_tickets,
    a_cancel_racing_a_scan_is_never_both,
    a_cancel_racing_an_exchange_credits_once,
    an_event_without_refunds_cancels_without_credit,
    canceling_20000_tickets_survives_a_kill,
);

on_each_backend!(
    with_email: a_canceled_ticket_refuses_refunds_once_and_emails_the_holder,
    canceling_a_performance_emails_each_holder_once_and_credits_per_policy,
);
