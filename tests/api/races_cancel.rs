//! Canceling a performance while tickets are issued for it and exchanged into it. Locks held
//! from the test's own database connections put the requests in a known order on PostgreSQL:
//! an issuance that took its seats before the cancel (the cancel waits for it), then requests
//! that found the performance open but reach its row only after the cancel has marked it
//! canceled. Whatever the order, no valid ticket is left on the canceled performance: each
//! ticket issued before the cancel was canceled, credited and emailed with the rest, and each
//! request after it was refused and changed nothing. On SQLite, whose writers run one at a
//! time, the same requests run in whatever order they take, under the same invariants.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::helpers::{ticket_request, Backend, TestApp, TestDatabase};

/// A transaction on a connection of the test's own, holding the locks `sql` takes until it is
/// released. On SQLite it holds the one write lock, whatever `sql` says.
struct Held(Box<dyn SimpleConnection>);

impl Held {
    fn begin(db: &TestDatabase, sql: &str) -> Held {
        let (mut c, begin): (Box<dyn SimpleConnection>, String) = match db.backend {
            Backend::Sqlite => (
                Box::new(SqliteConnection::establish(&db.url).expect("open sqlite")),
                "PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE;".into(),
            ),
            Backend::Postgres => (
                Box::new(PgConnection::establish(&db.url).expect("open postgres")),
                format!("BEGIN; {sql}"),
            ),
        };
        c.batch_execute(&begin).expect("hold the lock");
        Held(c)
    }

    fn release(mut self) {
        self.0.batch_execute("ROLLBACK").expect("release the lock");
    }
}

/// Waits until `count` transactions of the app wait for a lock. PostgreSQL shows them. SQLite
/// does not, and as its writers run one at a time every order they take is one the test
/// covers: there it only gives the requests a moment to arrive.
async fn wait_for_waiters(db: &TestDatabase, count: usize) {
    if db.backend == Backend::Sqlite {
        tokio::time::sleep(Duration::from_millis(300)).await;
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting = db.count(
            "SELECT COUNT(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if waiting == count as i64 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} transactions wait for a lock, not {count}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A performance of `event` starting `hours` from now, priced for exchanges into it.
async fn performance(app: &TestApp, event: i64, hours: i64) -> i64 {
    let body = app
        .post_expecting(
            &format!("/api/v1/events/{event}/performances"),
            &json!({"starts_at": Utc::now() + chrono::Duration::hours(hours), "capacity": 50,
                    "price_minor": 4500, "currency": "EUR"}),
            StatusCode::CREATED,
        )
        .await;
    body["id"].as_i64().unwrap()
}

/// A request sent on its own task; its status and body.
type Sent = JoinHandle<(StatusCode, Value)>;

fn send(app: &Arc<TestApp>, path: String, body: Value) -> Sent {
    let app = app.clone();
    tokio::spawn(async move {
        let response = app.post(&path, &app.admin_key, &body).await;
        (
            response.status(),
            response.json().await.expect("a JSON answer"),
        )
    })
}

/// What a racing request was: an issue for `holder`, or an exchange of `ticket` (held by
/// `holder`) into the canceled performance.
struct Racer {
    holder: String,
    exchanged: Option<i64>,
    sent: Sent,
}

fn issue(app: &Arc<TestApp>, performance: i64, holder: &str, apply_credit: bool) -> Racer {
    let mut request = ticket_request("Racer", holder);
    request["apply_credit"] = json!(apply_credit);
    Racer {
        sent: send(
            app,
            format!("/api/v1/performances/{performance}/tickets"),
            request,
        ),
        holder: holder.to_string(),
        exchanged: None,
    }
}

fn exchange(app: &Arc<TestApp>, ticket: &Value, into: i64) -> Racer {
    let id = ticket["id"].as_i64().unwrap();
    Racer {
        sent: send(
            app,
            format!("/api/v1/tickets/{id}/exchange"),
            json!({"into": "performance", "performance_id": into}),
        ),
        holder: ticket["holder_email"].as_str().unwrap().to_string(),
        exchanged: Some(id),
    }
}

const EARLY: &str = "early@example.org";

async fn canceling_a_performance_leaves_no_valid_ticket_however_issuing_races_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        // Every racing request holds a connection while it waits, and the job needs one more.
        c.db_pool_size = 24;
        c.sqlite_busy_timeout_ms = 30_000;
    })
    .await;
    let app = Arc::new(app);
    let event = app.create_event().await;
    // Five hours ahead: open for exchanges (they close two hours before).
    let canceled = performance(&app, event, 5).await;
    // Tickets to exchange into it, each of its own performance and holder, so that an exchange
    // waits for nothing but the canceled performance's row.
    let mut to_exchange = Vec::new();
    for i in 0..4 {
        let from = performance(&app, event, 4).await;
        let holder = format!("swap-{i}@example.org");
        to_exchange.push(app.issue_to(from, "Swapper", &holder).await);
    }
    // The early holder has credit (a ticket exchanged into it), to pay her next ticket with.
    let from = performance(&app, event, 4).await;
    let paid_with = app.issue_to(from, "Early", EARLY).await;
    app.post_expecting(
        &format!("/api/v1/tickets/{}/exchange", paid_with["id"]),
        &json!({"into": "credit"}),
        StatusCode::OK,
    )
    .await;

    // The early issuance takes its seat, then waits for the early holder's credit, which the
    // test holds: the performance's row stays locked by it until it commits.
    let credit = Held::begin(
        &app.db,
        &format!("SELECT 1 FROM credit_accounts WHERE patron_email = '{EARLY}' FOR UPDATE;"),
    );
    // The cancel's job is held too: the cancel will mark the performance canceled, then wait
    // here with the row locked.
    let job = (backend == Backend::Postgres).then(|| {
        Held::begin(
            &app.db,
            &format!(
                "INSERT INTO performance_cancellations \
                 (performance_id, reason, refund_to_credit, status, total, started_at, updated_at) \
                 VALUES ({canceled}, 'held by the test', 0, 'running', 0, NOW(), NOW());"
            ),
        )
    });
    let early = issue(&app, canceled, EARLY, true);
    wait_for_waiters(&app.db, 1).await;
    let cancel = send(
        &app,
        format!("/api/v1/performances/{canceled}/cancel"),
        json!({"reason": "The stage collapsed"}),
    );
    // The cancel waits for the early issuance; once that commits, it waits for its job.
    wait_for_waiters(&app.db, 2).await;
    credit.release();
    let early_answer = early.sent.await.unwrap();
    wait_for_waiters(&app.db, 1).await;

    // These find the performance open, then wait for its row behind the cancel.
    let late: Vec<Racer> = (0..6)
        .map(|i| issue(&app, canceled, &format!("late-{i}@example.org"), false))
        .chain(to_exchange.iter().map(|t| exchange(&app, t, canceled)))
        .collect();
    wait_for_waiters(&app.db, 1 + late.len()).await;
    if let Some(job) = job {
        job.release();
    }

    let (status, body) = cancel.await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let mut answers = vec![("early", early.holder, None, early_answer)];
    for racer in late {
        answers.push((
            "late",
            racer.holder,
            racer.exchanged,
            racer.sent.await.unwrap(),
        ));
    }
    crate::cancellations::wait_until_done(&app, canceled).await;

    let count = |sql: String| app.db.count(&sql);
    for (when, holder, exchanged, (status, body)) in &answers {
        let tickets_held = count(format!(
            "SELECT COUNT(*) AS n FROM tickets WHERE performance_id = {canceled} AND holder_email = '{holder}'"
        ));
        let refunds = count(format!(
            "SELECT COUNT(*) AS n FROM credit_ledger c JOIN tickets t ON t.id = c.ticket_id \
             WHERE t.performance_id = {canceled} AND t.holder_email = '{holder}' \
             AND t.status = 'canceled' AND c.reason = 'cancel_refund' AND c.amount_minor = 4500"
        ));
        let emailed = count(format!(
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'cancellation' AND recipient = '{holder}'"
        ));
        if status.is_success() {
            // Issued (or exchanged into it) before the cancel: canceled, credited and emailed
            // by the cancellation like every other holder.
            assert_eq!(
                (tickets_held, refunds, emailed),
                (1, 1, 1),
                "{when} {holder}: {body}"
            );
        } else {
            // After the cancel: refused, and nothing happened — not even to the ticket that
            // was to be exchanged. (An exchange that looked for its target after the cancel
            // had committed, as on SQLite, no longer finds it among the targets.)
            let refusals: &[&str] = match exchanged {
                None => &["performance_canceled"],
                Some(_) => &["performance_canceled", "not_an_exchange_target"],
            };
            assert!(
                *status == StatusCode::CONFLICT
                    && refusals.contains(&body["code"].as_str().unwrap_or_default()),
                "{when} {holder}: {status} {body}"
            );
            assert_eq!((tickets_held, emailed), (0, 0), "{when} {holder}");
            if let Some(id) = exchanged {
                assert_eq!(
                    count(format!(
                        "SELECT COUNT(*) AS n FROM tickets WHERE id = {id} AND status = 'valid'"
                    )),
                    1,
                    "{holder}'s ticket is as it was"
                );
                assert_eq!(
                    count(format!(
                        "SELECT COUNT(*) AS n FROM credit_ledger WHERE patron_email = '{holder}'"
                    )),
                    0,
                    "{holder} was credited nothing"
                );
            }
        }
        if backend == Backend::Postgres {
            // There the early issuance took its seat before the cancel, and the late requests,
            // which had found the performance open, reached it after: the seat reservation
            // itself refused them.
            assert_eq!(
                (status.is_success(), body["code"].as_str()),
                match *when {
                    "early" => (true, None),
                    _ => (false, Some("performance_canceled")),
                },
                "{when} {holder}: {status} {body}"
            );
        }
    }
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) AS n FROM tickets WHERE performance_id = {canceled} AND status = 'valid'"
        )),
        0,
        "no valid ticket is left on the canceled performance"
    );
    let now = app
        .get_json(&format!("/api/v1/performances/{canceled}"), &app.admin_key)
        .await;
    assert_eq!(now["tickets_issued"], 0, "{now}");
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn canceling_a_performance_leaves_no_valid_ticket_however_issuing_races_it() {
        super::canceling_a_performance_leaves_no_valid_ticket_however_issuing_races_it(
            crate::helpers::Backend::Sqlite,
        )
        .await
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn canceling_a_performance_leaves_no_valid_ticket_however_issuing_races_it() {
        super::canceling_a_performance_leaves_no_valid_ticket_however_issuing_races_it(
            crate::helpers::Backend::Postgres,
        )
        .await
    }
}
