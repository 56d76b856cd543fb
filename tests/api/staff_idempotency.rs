//! `Idempotency-Key` on the box office's changes — exchange, transfer, taking an offer back,
//! cancel: a retry is answered as the first request was and changes nothing more; the same key
//! for another request is refused; a refused change does not use up its key; racing retries
//! make one change; without a key everything is as before.

use chrono::{Duration, Utc};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, TestApp};

/// One of the four staff changes, as these tests drive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Exchange,
    Transfer,
    CancelTransfer,
    Cancel,
}

const CHANGES: [Change; 4] = [
    Change::Exchange,
    Change::Transfer,
    Change::CancelTransfer,
    Change::Cancel,
];

impl Change {
    fn path(self, ticket: i64) -> String {
        let action = match self {
            Change::Exchange => "exchange",
            Change::Transfer => "transfer",
            Change::CancelTransfer => "transfer/cancel",
            Change::Cancel => "cancel",
        };
        format!("/api/v1/tickets/{ticket}/{action}")
    }

    /// The request's body (taking an offer back has none).
    fn body(self) -> Option<Value> {
        match self {
            Change::Exchange => Some(json!({"into": "credit"})),
            Change::Transfer => Some(json!({"name": "Grace Hopper", "email": "grace@example.org"})),
            Change::CancelTransfer => None,
            Change::Cancel => Some(json!({"reason": "The holder asked", "refund_to_credit": true})),
        }
    }

    /// Another request to the same route, for a key already used.
    fn other_body(self) -> Option<Value> {
        match self {
            Change::Exchange => Some(json!({"into": "performance", "performance_id": 1})),
            Change::Transfer => Some(json!({"name": "Linus", "email": "linus@example.org"})),
            Change::CancelTransfer => None,
            Change::Cancel => {
                Some(json!({"reason": "The holder asked", "refund_to_credit": false}))
            }
        }
    }

    /// A request the rules refuse (409) whatever the ticket, and the code they refuse it with.
    fn refused_body(self) -> Option<(Value, &'static str)> {
        match self {
            Change::Exchange => Some((
                json!({"into": "performance", "performance_id": 999_999}),
                "not_an_exchange_target",
            )),
            Change::Transfer => Some((
                json!({"name": "Ada", "email": "ada@example.org"}),
                "transfer_to_self",
            )),
            Change::CancelTransfer | Change::Cancel => None,
        }
    }

    fn success(self) -> StatusCode {
        match self {
            Change::Transfer => StatusCode::CREATED,
            _ => StatusCode::OK,
        }
    }

    /// What the same change, asked again without a key, is refused with.
    fn refusal_once_made(self) -> &'static str {
        match self {
            Change::Exchange => "ticket_not_valid",
            Change::Transfer => "transfer_pending",
            Change::CancelTransfer => "no_open_offer",
            Change::Cancel => "already_canceled",
        }
    }
}

/// What a change answered.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    replayed: bool,
    body: Value,
}

async fn send(
    app: &TestApp,
    change: Change,
    ticket: i64,
    body: Option<&Value>,
    key: Option<&str>,
) -> Answer {
    send_as(app, &app.admin_key, change, ticket, body, key).await
}

async fn send_as(
    app: &TestApp,
    staff_key: &str,
    change: Change,
    ticket: i64,
    body: Option<&Value>,
    key: Option<&str>,
) -> Answer {
    let mut request = app
        .client
        .post(app.url(&change.path(ticket)))
        .bearer_auth(staff_key);
    if let Some(body) = body {
        request = request.json(body);
    }
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.expect("POST");
    let status = response.status();
    let replayed = match response.headers().get("idempotent-replayed") {
        None => false,
        Some(value) => {
            assert_eq!(value, "true", "{change:?}");
            true
        }
    };
    let content_type = response.headers()["content-type"].clone();
    let body: Value = response.json().await.expect("a JSON answer");
    if status.is_success() {
        assert_eq!(content_type, "application/json", "{change:?}");
    }
    Answer {
        status,
        replayed,
        body,
    }
}

/// A performance open for changes (it starts in four hours), of an event with the default
/// policy: exchange and transfer allowed, refunds on cancel.
async fn open_performance(app: &TestApp) -> i64 {
    app.create_performance_at(Utc::now() + Duration::hours(4), 100)
        .await
}

/// A ticket of Ada's ready for `change`: for taking an offer back, one on offer to Grace.
async fn ticket_for(app: &TestApp, performance: i64, change: Change) -> i64 {
    let ticket = app.issue_to(performance, "Ada", "ada@example.org").await["id"]
        .as_i64()
        .unwrap();
    if change == Change::CancelTransfer {
        let offered = send(
            app,
            Change::Transfer,
            ticket,
            Change::Transfer.body().as_ref(),
            None,
        )
        .await;
        assert_eq!(offered.status, StatusCode::CREATED, "{}", offered.body);
    }
    ticket
}

/// A ticket no change can be made to any more: canceled.
async fn canceled_ticket(app: &TestApp, performance: i64) -> i64 {
    let ticket = ticket_for(app, performance, Change::Cancel).await;
    let canceled = send(
        app,
        Change::Cancel,
        ticket,
        Change::Cancel.body().as_ref(),
        None,
    )
    .await;
    assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.body);
    ticket
}

/// What changes leave behind for a ticket: its credit ledger entries, its emails in the outbox,
/// its transfer offers, its cancellations, its entries in the door's journal, and the tickets
/// that replace it.
fn footprint(app: &TestApp, ticket: i64) -> Vec<i64> {
    let rows = |table: &str, column: &str| {
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE {column} = {ticket}"
        ))
    };
    vec![
        rows("credit_ledger", "ticket_id"),
        rows("outbox", "ticket_id"),
        rows("transfers", "ticket_id"),
        rows("ticket_cancellations", "ticket_id"),
        rows("door_changes", "ticket_id"),
        rows("tickets", "replaces_ticket_id"),
    ]
}

fn assert_refused(answer: &Answer, status: StatusCode, code: &str, what: &str) {
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (status, Some(code)),
        "{what}: {}",
        answer.body
    );
    assert!(!answer.replayed, "{what}");
}

/// A retry with the same key gets the first answer — status and body — marked replayed, and
/// changes nothing more: one ledger entry, one email, one offer, one cancellation.
async fn a_retry_with_the_key_replays_the_answer_and_changes_nothing_more(app: TestApp) {
    let performance = open_performance(&app).await;
    for change in CHANGES {
        let ticket = ticket_for(&app, performance, change).await;
        let body = change.body();
        let key = format!("retry-{change:?}");
        let before = footprint(&app, ticket);

        let first = send(&app, change, ticket, body.as_ref(), Some(&key)).await;
        assert_eq!(first.status, change.success(), "{change:?}: {}", first.body);
        assert!(!first.replayed, "{change:?}");
        let after = footprint(&app, ticket);
        assert_ne!(after, before, "{change:?} changed nothing");

        for _ in 0..2 {
            let retry = send(&app, change, ticket, body.as_ref(), Some(&key)).await;
            assert_eq!(retry.status, first.status, "{change:?}: {}", retry.body);
            assert!(retry.replayed, "{change:?}");
            assert_eq!(retry.body, first.body, "{change:?}");
            assert_eq!(footprint(&app, ticket), after, "{change:?} retried");
        }
    }
    // The exchange credited once, the cancellation refunded once.
    let credit = app
        .get_json("/api/v1/patrons/ada@example.org/credit", &app.admin_key)
        .await;
    let reasons: Vec<&str> = credit["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["exchange", "cancel_refund"], "{credit}");
    assert_eq!(credit["balances"][0]["balance_minor"], 9000, "{credit}");
}

/// The same key for another request — another body, or another ticket — is refused and changes
/// nothing; the same key sent with another API key is that key's own.
async fn the_same_key_for_another_request_is_refused(app: TestApp) {
    let performance = open_performance(&app).await;
    let other_staff = app.key(encore::domain::Role::BoxOffice);
    for change in CHANGES {
        let ticket = ticket_for(&app, performance, change).await;
        let key = format!("mismatch-{change:?}");
        let first = send(&app, change, ticket, change.body().as_ref(), Some(&key)).await;
        assert_eq!(first.status, change.success(), "{change:?}: {}", first.body);
        let after = footprint(&app, ticket);

        if let Some(other) = change.other_body() {
            let reused = send(&app, change, ticket, Some(&other), Some(&key)).await;
            let what = format!("{change:?} with another body");
            assert_refused(
                &reused,
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                &what,
            );
            assert_eq!(footprint(&app, ticket), after, "{what}");
        }

        let another = ticket_for(&app, performance, change).await;
        let untouched = footprint(&app, another);
        let reused = send(&app, change, another, change.body().as_ref(), Some(&key)).await;
        let what = format!("{change:?} of another ticket");
        assert_refused(
            &reused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            &what,
        );
        assert_eq!(footprint(&app, another), untouched, "{what}");

        // Keys are per API key: another key holder's request is judged on its own.
        let theirs = send_as(
            &app,
            &other_staff,
            change,
            ticket,
            change.body().as_ref(),
            Some(&key),
        )
        .await;
        let what = format!("{change:?} by another API key");
        assert_refused(
            &theirs,
            StatusCode::CONFLICT,
            change.refusal_once_made(),
            &what,
        );
        assert_eq!(footprint(&app, ticket), after, "{what}");
    }
}

/// A change the rules refuse rolls its key back with it: the corrected request — to the right
/// ticket, or with the right body — succeeds under the same key, and is then replayed.
async fn a_refused_change_leaves_its_key_for_the_corrected_request(app: TestApp) {
    let performance = open_performance(&app).await;
    for change in CHANGES {
        // The wrong ticket: one already canceled.
        let wrong = canceled_ticket(&app, performance).await;
        let right = ticket_for(&app, performance, change).await;
        let key = format!("corrected-ticket-{change:?}");
        let body = change.body();
        let refused = send(&app, change, wrong, body.as_ref(), Some(&key)).await;
        assert_eq!(
            refused.status,
            StatusCode::CONFLICT,
            "{change:?}: {}",
            refused.body
        );

        let corrected = send(&app, change, right, body.as_ref(), Some(&key)).await;
        assert_eq!(
            corrected.status,
            change.success(),
            "{change:?} corrected: {}",
            corrected.body
        );
        assert!(!corrected.replayed, "{change:?}");
        let retry = send(&app, change, right, body.as_ref(), Some(&key)).await;
        assert!(retry.replayed, "{change:?}: {}", retry.body);
        assert_eq!(
            (retry.status, &retry.body),
            (corrected.status, &corrected.body)
        );

        // The wrong body, then the right one.
        let Some((refused_body, code)) = change.refused_body() else {
            continue;
        };
        let ticket = ticket_for(&app, performance, change).await;
        let untouched = footprint(&app, ticket);
        let key = format!("corrected-body-{change:?}");
        let refused = send(&app, change, ticket, Some(&refused_body), Some(&key)).await;
        assert_refused(&refused, StatusCode::CONFLICT, code, &format!("{change:?}"));
        assert_eq!(footprint(&app, ticket), untouched, "{change:?} refused");
        let corrected = send(&app, change, ticket, body.as_ref(), Some(&key)).await;
        assert_eq!(corrected.status, change.success(), "{}", corrected.body);
        assert!(!corrected.replayed, "{change:?}");
        let retry = send(&app, change, ticket, body.as_ref(), Some(&key)).await;
        assert!(retry.replayed, "{change:?}: {}", retry.body);
        assert_eq!(retry.body, corrected.body, "{change:?}");
    }
}

/// Eight identical requests at once under one key: one change, eight identical answers.
async fn racing_retries_make_one_change(app: TestApp) {
    let performance = open_performance(&app).await;
    for change in CHANGES {
        // What one change leaves behind, on a ticket of its own.
        let reference = ticket_for(&app, performance, change).await;
        let once = send(&app, change, reference, change.body().as_ref(), None).await;
        assert_eq!(once.status, change.success(), "{}", once.body);

        let ticket = ticket_for(&app, performance, change).await;
        let key = format!("race-{change:?}");
        let body = change.body();
        let answers =
            join_all((0..8).map(|_| send(&app, change, ticket, body.as_ref(), Some(&key)))).await;
        for answer in &answers {
            assert_eq!(
                answer.status,
                change.success(),
                "{change:?}: {}",
                answer.body
            );
            assert_eq!(answer.body, answers[0].body, "{change:?}");
        }
        let fresh = answers.iter().filter(|a| !a.replayed).count();
        assert_eq!(fresh, 1, "{change:?}: {fresh} answers made the change");
        assert_eq!(
            footprint(&app, ticket),
            footprint(&app, reference),
            "{change:?} raced"
        );
    }
}

/// Without a key nothing is different: each request is judged on its own — also right after the
/// same request made under a key — and no key is recorded.
async fn without_a_key_the_changes_answer_as_before(app: TestApp) {
    let performance = open_performance(&app).await;
    for change in CHANGES {
        let ticket = ticket_for(&app, performance, change).await;
        let first = send(&app, change, ticket, change.body().as_ref(), None).await;
        assert_eq!(first.status, change.success(), "{change:?}: {}", first.body);
        assert!(!first.replayed, "{change:?}");
        let after = footprint(&app, ticket);
        let again = send(&app, change, ticket, change.body().as_ref(), None).await;
        let what = format!("{change:?} again without a key");
        assert_refused(
            &again,
            StatusCode::CONFLICT,
            change.refusal_once_made(),
            &what,
        );
        assert_eq!(footprint(&app, ticket), after, "{what}");

        let ticket = ticket_for(&app, performance, change).await;
        let key = format!("then-none-{change:?}");
        let keyed = send(&app, change, ticket, change.body().as_ref(), Some(&key)).await;
        assert_eq!(keyed.status, change.success(), "{}", keyed.body);
        let keyless = send(&app, change, ticket, change.body().as_ref(), None).await;
        let what = format!("{change:?} without a key after one with a key");
        assert_refused(
            &keyless,
            StatusCode::CONFLICT,
            change.refusal_once_made(),
            &what,
        );
    }
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM idempotency_keys"),
        4,
        "one key per keyed request, none for the others"
    );
}

on_both_backends!(
    a_retry_with_the_key_replays_the_answer_and_changes_nothing_more,
    the_same_key_for_another_request_is_refused,
    a_refused_change_leaves_its_key_for_the_corrected_request,
    racing_retries_make_one_change,
    without_a_key_the_changes_answer_as_before,
);
