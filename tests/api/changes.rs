//! Patron changes over the staff API and the patron links: exchange into credit or another
//! performance, transfers, credit at the box office — and what happens when they race a scan,
//! each other, or a replayed, tampered or expired link.

use chrono::{Duration, Utc};
use encore::domain::ids::TicketId;
use encore::domain::Role;
use encore::tokens::{LinkClaims, LinkPurpose};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, ticket_request, Deadline, TestApp};

/// An event with `policy`, and a performance of it starting in four hours (open for changes,
/// inside the scan window), priced at 6000 EUR cents for exchanges.
async fn performance_with(app: &TestApp, policy: Value, capacity: i64) -> (i64, i64) {
    let response = app
        .post(
            "/api/v1/events",
            &app.admin_key,
            &json!({"name": "Hamlet", "venue": "The Globe", "time_zone": "Europe/London", "policy": policy}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let event = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let performance = add_performance(app, event, Duration::hours(4), capacity).await;
    (event, performance)
}

async fn add_performance(app: &TestApp, event: i64, from_now: Duration, capacity: i64) -> i64 {
    let response = app
        .post(
            &format!("/api/v1/events/{event}/performances"),
            &app.admin_key,
            &json!({"starts_at": Utc::now() + from_now, "capacity": capacity,
                    "price_minor": 6000, "currency": "EUR"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn issue(app: &TestApp, performance: i64, body: Value) -> Value {
    let response = app
        .post(
            &format!("/api/v1/performances/{performance}/tickets"),
            &app.admin_key,
            &body,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn exchange(app: &TestApp, ticket: i64, body: Value) -> (StatusCode, Value) {
    let response = app
        .post(
            &format!("/api/v1/tickets/{ticket}/exchange"),
            &app.admin_key,
            &body,
        )
        .await;
    (response.status(), response.json().await.unwrap())
}

async fn balance(app: &TestApp, email: &str) -> (i64, Vec<Value>) {
    let credit = app
        .get_json(&format!("/api/v1/patrons/{email}/credit"), &app.admin_key)
        .await;
    let balance = credit["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["currency"] == "EUR")
        .map_or(0, |b| b["balance_minor"].as_i64().unwrap());
    (balance, credit["ledger"].as_array().unwrap().clone())
}

/// The account row and the ledger agree: the balance is the sum of the entries.
fn assert_ledger_adds_up(app: &TestApp, email: &str) {
    let sum = app.db.count(&format!(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS n FROM credit_ledger WHERE patron_email = '{email}'"
    ));
    let balance = app.db.count(&format!(
        "SELECT CAST(COALESCE(SUM(balance_minor), 0) AS BIGINT) AS n FROM credit_accounts WHERE patron_email = '{email}'"
    ));
    assert_eq!(sum, balance, "ledger sum and balance of {email}");
}

fn token(ticket: &Value) -> &str {
    ticket["token"].as_str().unwrap()
}

async fn exchange_into_credit_then_spend_it_at_the_box_office(app: TestApp) {
    let (_, performance) = performance_with(&app, json!({"exchange_fee_minor": 500}), 10).await;
    let ticket = issue(&app, performance, ticket_request("Ada", "ada@example.org")).await;
    let id = ticket["id"].as_i64().unwrap();

    let (status, receipt) = exchange(&app, id, json!({"into": "credit"})).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["credited_minor"], 4000);
    assert_eq!(receipt["fee_minor"], 500);
    assert_eq!(receipt["balance_minor"], 4000);

    // The old QR stops admitting at once, and the seat is free again.
    let scanner = app.key(Role::Scanner);
    let (status, body) = app.scan(&scanner, token(&ticket), "north").await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (StatusCode::CONFLICT, Some("exchanged"))
    );
    let performance_now = app
        .get_json(
            &format!("/api/v1/performances/{performance}"),
            &app.admin_key,
        )
        .await;
    assert_eq!(performance_now["tickets_issued"], 0, "{performance_now}");

    // Exchanging it again is refused and credits nothing.
    let (status, body) = exchange(&app, id, json!({"into": "credit"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("ticket_not_valid"))
    );

    // The box office applies the credit to a new ticket: 3000 of the 4000.
    let mut request = ticket_request("Ada", "ada@example.org");
    request["price_minor"] = json!(3000);
    request["apply_credit"] = json!(true);
    let bought = issue(&app, performance, request).await;
    assert_eq!(bought["credit_applied_minor"], 3000);
    let (left, ledger) = balance(&app, "ada@example.org").await;
    assert_eq!(left, 1000);
    let reasons: Vec<&str> = ledger
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["exchange", "box_office_purchase"]);
    assert_ledger_adds_up(&app, "ada@example.org");
}

async fn exchange_into_another_performance_pays_with_value_and_credit(app: TestApp) {
    let (event, first) = performance_with(&app, json!({}), 10).await;
    let second = add_performance(&app, event, Duration::days(2), 10).await;
    // 4500 of credit from one exchange, then a 4500 ticket into a 6000 performance.
    let earlier = issue(&app, first, ticket_request("Ada", "ada@example.org")).await;
    exchange(
        &app,
        earlier["id"].as_i64().unwrap(),
        json!({"into": "credit"}),
    )
    .await;
    let ticket = issue(&app, first, ticket_request("Ada", "ada@example.org")).await;
    let id = ticket["id"].as_i64().unwrap();

    // Too expensive a target is refused, and nothing changes.
    let third = add_performance(&app, event, Duration::days(3), 10).await;
    app.db.execute(&format!(
        "UPDATE performances SET price_minor = 100000 WHERE id = {third}"
    ));
    let (status, body) = exchange(
        &app,
        id,
        json!({"into": "performance", "performance_id": third}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("insufficient_credit")),
        "{body}"
    );
    assert_eq!(balance(&app, "ada@example.org").await.0, 4500);
    let (status, _) = app
        .scan(&app.key(Role::Scanner), token(&ticket), "north")
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the ticket still admits after a refused exchange"
    );

    // A fresh ticket exchanges into the second performance: 4500 + 4500 - 6000 = 3000 left.
    let ticket = issue(&app, first, ticket_request("Ada", "ada@example.org")).await;
    // Its page offers the performances it can be exchanged into, at their price.
    let view = link(&app, ticket["id"].as_i64().unwrap(), LinkPurpose::View);
    let html = page(&app, reqwest::Method::GET, &format!("/t/{view}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!(r#"name="performance_id" value="{second}""#)),
        "{html}"
    );
    assert!(html.contains("60.00 EUR"), "{html}");
    let (status, receipt) = exchange(
        &app,
        ticket["id"].as_i64().unwrap(),
        json!({"into": "performance", "performance_id": second}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(
        (
            receipt["spent_minor"].as_i64(),
            receipt["balance_minor"].as_i64()
        ),
        (Some(6000), Some(3000))
    );
    let new_id = receipt["new_ticket_id"].as_i64().unwrap();
    let new_ticket = app
        .get_json(&format!("/api/v1/tickets/{new_id}"), &app.admin_key)
        .await;
    assert_eq!(new_ticket["performance_id"], second);
    assert_eq!(new_ticket["replaces_ticket_id"], ticket["id"]);
    assert_ledger_adds_up(&app, "ada@example.org");
}

async fn policies_refuse_with_their_reason(app: TestApp) {
    let (_, performance) = performance_with(
        &app,
        json!({"transfer_allowed": false, "exchange_allowed": false}),
        10,
    )
    .await;
    let ticket = issue(&app, performance, ticket_request("Ada", "ada@example.org")).await;
    let id = ticket["id"].as_i64().unwrap();
    let (status, body) = exchange(&app, id, json!({"into": "credit"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("exchange_not_allowed"))
    );
    let response = app
        .post(
            &format!("/api/v1/tickets/{id}/transfer"),
            &app.admin_key,
            &json!({"name": "Grace", "email": "grace@example.org"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "transfer_not_allowed"
    );

    // Inside the cut-off (the default: two hours before the show).
    let soon = app.create_performance(10).await;
    let ticket = issue(&app, soon, ticket_request("Ada", "ada@example.org")).await;
    let (status, body) = exchange(
        &app,
        ticket["id"].as_i64().unwrap(),
        json!({"into": "credit"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("past_cutoff"))
    );
    assert_eq!(balance(&app, "ada@example.org").await.0, 0);
}

async fn an_exchange_racing_a_scan_is_never_both(app: TestApp) {
    let (_, performance) = performance_with(&app, json!({}), 40).await;
    let scanner = app.key(Role::Scanner);
    let mut tickets = Vec::new();
    for i in 0..20 {
        tickets.push(
            issue(
                &app,
                performance,
                ticket_request("Guest", &format!("g{i}@example.org")),
            )
            .await,
        );
    }
    let races = tickets.iter().map(|ticket| {
        let (app, scanner) = (&app, &scanner);
        async move {
            let id = ticket["id"].as_i64().unwrap();
            let (scan, swap) = tokio::join!(
                app.scan(scanner, token(ticket), "north"),
                exchange(app, id, json!({"into": "credit"}))
            );
            (scan.0 == StatusCode::OK, swap.0 == StatusCode::OK)
        }
    });
    let outcomes = futures::future::join_all(races).await;
    for (admitted, exchanged) in &outcomes {
        assert!(
            admitted ^ exchanged,
            "exactly one of admission and exchange: {outcomes:?}"
        );
    }
    let exchanged = outcomes.iter().filter(|(_, e)| *e).count() as i64;
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM credit_ledger"),
        exchanged
    );
    assert_eq!(
        app.db.count(
            "SELECT COUNT(*) AS n FROM tickets WHERE admitted_at IS NOT NULL AND status <> 'valid'"
        ),
        0
    );
}

async fn two_exchanges_of_one_ticket_credit_once(app: TestApp) {
    let (_, performance) = performance_with(&app, json!({}), 10).await;
    let ticket = issue(&app, performance, ticket_request("Ada", "ada@example.org")).await;
    let id = ticket["id"].as_i64().unwrap();
    let attempts = (0..8).map(|_| exchange(&app, id, json!({"into": "credit"})));
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(results
        .iter()
        .all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::CONFLICT));
    assert_eq!(balance(&app, "ada@example.org").await.0, 4500);
    assert_ledger_adds_up(&app, "ada@example.org");
}

async fn spending_credit_concurrently_never_goes_negative(app: TestApp) {
    let (_, performance) = performance_with(&app, json!({}), 40).await;
    let ticket = issue(&app, performance, ticket_request("Ada", "ada@example.org")).await;
    exchange(
        &app,
        ticket["id"].as_i64().unwrap(),
        json!({"into": "credit"}),
    )
    .await;
    // 4500 of credit; ten concurrent 3000 tickets that each ask to use it.
    let buys = (0..10).map(|_| {
        let mut request = ticket_request("Ada", "ada@example.org");
        request["price_minor"] = json!(3000);
        request["apply_credit"] = json!(true);
        let app = &app;
        async move {
            issue(app, performance, request).await["credit_applied_minor"]
                .as_i64()
                .unwrap()
        }
    });
    let applied: i64 = futures::future::join_all(buys).await.iter().sum();
    assert_eq!(applied, 4500);
    assert_eq!(balance(&app, "ada@example.org").await.0, 0);
    assert_ledger_adds_up(&app, "ada@example.org");
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM credit_accounts WHERE balance_minor < 0"),
        0
    );
}

/// A patron link for the ticket's first generation, valid for an hour.
fn link(app: &TestApp, ticket_id: i64, purpose: LinkPurpose) -> String {
    sign_link(
        app,
        ticket_id,
        1,
        purpose,
        (Utc::now() + Duration::hours(1)).timestamp(),
    )
}

fn sign_link(
    app: &TestApp,
    ticket_id: i64,
    generation: i32,
    purpose: LinkPurpose,
    exp: i64,
) -> String {
    let claims = LinkClaims {
        ticket_id: TicketId(ticket_id),
        generation,
        purpose,
        exp,
    };
    app.encore.keys.sign(&claims).unwrap()
}

async fn transfer(app: &TestApp, ticket: i64, name: &str, email: &str) -> (StatusCode, Value) {
    let response = app
        .post(
            &format!("/api/v1/tickets/{ticket}/transfer"),
            &app.admin_key,
            &json!({"name": name, "email": email}),
        )
        .await;
    (response.status(), response.json().await.unwrap())
}

/// A patron page as the browser asks for it, but with redirects left for the test to see.
async fn page(app: &TestApp, method: reqwest::Method, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .request(method, app.url(path))
        .send()
        .await
        .unwrap()
}

async fn a_transfer_racing_a_scan_never_admits_twice(app: TestApp) {
    let (_, performance) = performance_with(&app, json!({}), 40).await;
    let scanner = app.key(Role::Scanner);
    for i in 0..10 {
        let ticket = issue(
            &app,
            performance,
            ticket_request("Ada", &format!("ada{i}@example.org")),
        )
        .await;
        let id = ticket["id"].as_i64().unwrap();
        let (scan, offer) = tokio::join!(
            app.scan(&scanner, token(&ticket), "north"),
            transfer(&app, id, "Grace", "grace@example.org")
        );
        assert!(
            (scan.0 == StatusCode::OK) ^ (offer.0 == StatusCode::CREATED),
            "{scan:?} {offer:?}"
        );
        if offer.0 != StatusCode::CREATED {
            continue;
        }
        // The friend claims; the old QR stays dead, the new one admits once.
        let claim = link(&app, id, LinkPurpose::Claim);
        let response = page(&app, reqwest::Method::POST, &format!("/claim/{claim}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let new_id = app.db.count(&format!(
            "SELECT claimed_ticket_id AS n FROM transfers WHERE ticket_id = {id}"
        ));
        let new_ticket = app
            .get_json(&format!("/api/v1/tickets/{new_id}"), &app.admin_key)
            .await;
        let (old_scan, _) = app.scan(&scanner, token(&ticket), "north").await;
        let (new_scan, _) = app.scan(&scanner, token(&new_ticket), "north").await;
        let (new_again, _) = app.scan(&scanner, token(&new_ticket), "south").await;
        assert_eq!(
            (old_scan, new_scan, new_again),
            (StatusCode::CONFLICT, StatusCode::OK, StatusCode::CONFLICT)
        );
    }
}

async fn links_refuse_replay_wrong_purpose_tampering_and_expiry(app: TestApp) {
    let (_, performance) = performance_with(&app, json!({}), 10).await;
    let ticket = issue(&app, performance, ticket_request("Ada", "ada@example.org")).await;
    let id = ticket["id"].as_i64().unwrap();
    assert_eq!(
        transfer(&app, id, "Grace", "grace@example.org").await.0,
        StatusCode::CREATED
    );
    let tickets_now = || app.db.count("SELECT COUNT(*) AS n FROM tickets");
    let before = tickets_now();

    // A view link is not a claim link; a tampered or expired one is nothing.
    let view = link(&app, id, LinkPurpose::View);
    let claim = link(&app, id, LinkPurpose::Claim);
    let mut tampered = claim.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let expired = sign_link(
        &app,
        id,
        1,
        LinkPurpose::Claim,
        (Utc::now() - Duration::minutes(1)).timestamp(),
    );
    for bad in [&view, &tampered, &expired] {
        let response = page(&app, reqwest::Method::POST, &format!("/claim/{bad}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("This link does not work"));
    }
    // Nor is a claim link a view link.
    let response = page(&app, reqwest::Method::GET, &format!("/t/{claim}")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(tickets_now(), before, "no refused link changed anything");

    // The real claim works once; replayed, it is refused and changes nothing.
    let response = page(&app, reqwest::Method::POST, &format!("/claim/{claim}")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let response = page(&app, reqwest::Method::POST, &format!("/claim/{claim}")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("already claimed"));
    assert_eq!(tickets_now(), before + 1);
}

/// The worker's own schedule expires the offer: the loop is already running when the offer's
/// time runs out, and a later round of it (every `reminder_check_seconds`) hands the ticket back.
async fn an_unclaimed_offer_returns_to_the_sender_with_a_new_qr(app: TestApp) {
    let (_, performance) = performance_with(&app, json!({}), 10).await;
    let ticket = issue(&app, performance, ticket_request("Ada", "ada@example.org")).await;
    let id = ticket["id"].as_i64().unwrap();
    assert_eq!(
        transfer(&app, id, "Grace", "grace@example.org").await.0,
        StatusCode::CREATED
    );
    let _worker = app.run_worker(1);
    // The offer's hours run out (the policy counts in hours; the test moves the clock).
    app.db
        .execute("UPDATE transfers SET expires_at = '2000-01-01 00:00:00'");

    let path = format!("/api/v1/tickets/{id}");
    let deadline = Deadline::after(std::time::Duration::from_secs(10));
    let back = loop {
        let now = app.get_json(&path, &app.admin_key).await;
        if now["generation"] != 1 {
            break now;
        }
        deadline.retry("the worker expires the offer").await;
    };
    assert_eq!(
        (back["status"].as_str(), back["generation"].as_i64()),
        (Some("valid"), Some(2))
    );
    let scanner = app.key(Role::Scanner);
    let (status, body) = app.scan(&scanner, token(&ticket), "north").await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (StatusCode::CONFLICT, Some("superseded"))
    );
    assert_eq!(
        app.scan(&scanner, token(&back), "north").await.0,
        StatusCode::OK
    );

    // The claim link of the expired offer is refused.
    let claim = link(&app, id, LinkPurpose::Claim);
    let response = page(&app, reqwest::Method::POST, &format!("/claim/{claim}")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let offers = app
        .get_json(&format!("/api/v1/tickets/{id}/transfers"), &app.admin_key)
        .await;
    assert_eq!(offers[0]["status"], "expired");
}

async fn the_sender_can_take_an_offer_back(app: TestApp) {
    let (_, performance) = performance_with(&app, json!({}), 10).await;
    let ticket = issue(&app, performance, ticket_request("Ada", "ada@example.org")).await;
    let id = ticket["id"].as_i64().unwrap();
    assert_eq!(
        transfer(&app, id, "Grace", "grace@example.org").await.0,
        StatusCode::CREATED
    );
    let (status, body) = transfer(&app, id, "Alan", "alan@example.org").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("transfer_pending"))
    );

    let view = link(&app, id, LinkPurpose::View);
    let response = page(
        &app,
        reqwest::Method::POST,
        &format!("/t/{view}/transfer/cancel"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = app
        .get_json(&format!("/api/v1/tickets/{id}"), &app.admin_key)
        .await;
    assert_eq!(
        (back["status"].as_str(), back["generation"].as_i64()),
        (Some("valid"), Some(2))
    );

    // The box office does the same for a patron on the phone: offer again, then take it back.
    assert_eq!(
        transfer(&app, id, "Grace", "grace@example.org").await.0,
        StatusCode::CREATED
    );
    let response = app
        .post(
            &format!("/api/v1/tickets/{id}/transfer/cancel"),
            &app.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let again: Value = response.json().await.unwrap();
    assert_eq!(
        (again["status"].as_str(), again["generation"].as_i64()),
        (Some("valid"), Some(3))
    );
    let scanner = app.key(Role::Scanner);
    assert_eq!(
        app.scan(&scanner, token(&again), "north").await.0,
        StatusCode::OK
    );

    // The friend's link now leads to a closed offer.
    let claim = link(&app, id, LinkPurpose::Claim);
    let page = page(&app, reqwest::Method::GET, &format!("/claim/{claim}")).await;
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(page.text().await.unwrap().contains("took this offer back"));
}

on_both_backends!(
    exchange_into_credit_then_spend_it_at_the_box_office,
    exchange_into_another_performance_pays_with_value_and_credit,
    policies_refuse_with_their_reason,
    an_exchange_racing_a_scan_is_never_both,
    two_exchanges_of_one_ticket_credit_once,
    spending_credit_concurrently_never_goes_negative,
    a_transfer_racing_a_scan_never_admits_twice,
    links_refuse_replay_wrong_purpose_tampering_and_expiry,
    an_unclaimed_offer_returns_to_the_sender_with_a_new_qr,
    the_sender_can_take_an_offer_back,
);
