//! Email under faults (issue 14, items 2–4): a stalled SMTP server, a permanent rejection, and
//! database errors while a round's results are recorded. Each test prints the figures it
//! measured (`cargo test --test api -- mail_faults --nocapture`).

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp};
use crate::smtp::{Received, SmtpServer};

/// Far enough ahead that no reminder falls due while a test runs.
fn in_three_days() -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::days(3)
}

/// An app sending through a loopback SMTP server, and a performance far enough ahead.
async fn app_with_smtp(backend: Backend) -> (TestApp, SmtpServer, i64) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, move |c| c.smtp_url = Some(url)).await;
    let performance = app.create_performance_at(in_three_days(), 10).await;
    (app, smtp, performance)
}

/// Polls `done` every 50 ms until it holds; panics with `what` after `limit`.
async fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sent_count(app: &TestApp) -> i64 {
    app.db
        .count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent'")
}

/// A counter's value in the `/metrics` text (0 when absent).
async fn counter(app: &TestApp, series: &str) -> f64 {
    let text = app
        .get("/metrics", &app.admin_key)
        .await
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// (messages received, distinct emails among them, recipients that got nothing).
fn tally(messages: &[Received], recipients: &[String]) -> (usize, usize, usize) {
    let distinct: HashSet<String> = messages.iter().map(Received::message_id).collect();
    let reached: HashSet<&str> = messages.iter().map(|m| m.to[0].as_str()).collect();
    let lost = recipients
        .iter()
        .filter(|r| !reached.contains(r.as_str()))
        .count();
    (messages.len(), distinct.len(), lost)
}

/// Two pipelines with one send each, both stuck on a server that stopped answering: every step
/// times out, the connection is dropped, the email retried, the stall logged and counted, and
/// delivery resumes as soon as the server answers again.
async fn a_stalled_smtp_server_is_dropped_and_delivery_resumes(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, move |c| {
        c.smtp_url = Some(url);
        c.send_concurrency = 2; // two pipelines, one send each
        c.smtp_connect_timeout_ms = 300;
        c.smtp_send_timeout_ms = 500;
        c.smtp_pool_wait_ms = 500;
        c.email_retry_base_ms = 100;
    })
    .await;
    let performance = app.create_performance_at(in_three_days(), 10).await;
    let worker = tokio::spawn(app.worker().run(app.encore.outbox_wakeup.clone()));

    // A healthy first email leaves a pooled connection, whose next send will stall at DATA.
    app.issue_ticket(performance).await;
    smtp.wait_for(1).await;
    wait_until(
        Duration::from_secs(10),
        "the first email is recorded",
        || sent_count(&app) == 1,
    )
    .await;

    smtp.stall(true);
    for _ in 0..4 {
        app.issue_ticket(performance).await;
    }
    // Both pipelines meet the stall (a send, then greetings that never come), more than once.
    let deadline = Instant::now() + Duration::from_secs(20);
    while counter(&app, "encore_smtp_stalls_total").await < 4.0 {
        assert!(
            Instant::now() < deadline,
            "the stalled server was never given up on: the stalls were not timed out"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stalled_errors = app
        .db
        .count("SELECT COUNT(*) AS n FROM outbox WHERE last_error LIKE '%stalled%'");
    assert!(stalled_errors > 0, "the stall is the emails' last error");

    smtp.stall(false);
    let resumed = Instant::now();
    wait_until(Duration::from_secs(20), "every email is sent", || {
        sent_count(&app) == 5
    })
    .await;
    let resume_time = resumed.elapsed();
    let retried = counter(&app, r#"encore_email_send_failures_total{outcome="retry"}"#).await;
    let stalls = counter(&app, "encore_smtp_stalls_total").await;
    worker.abort();
    let messages = smtp.messages();
    assert_eq!(
        messages.len(),
        5,
        "each email once: a stalled send never reached the server"
    );
    assert!(retried >= 1.0, "the stalled emails were retried");
    println!(
        "stalled SMTP ({backend:?}): delivery resumed {} ms after the server answered again; \
         {stalls} stalls counted, {retried} failed sends retried, 5 of 5 delivered once",
        resume_time.as_millis()
    );
}

/// A 5xx answer is final: the email fails at its first attempt, the worker leaves it alone, and
/// the box office can send it again once the address is fixed. Only a failed email can be.
async fn a_permanent_rejection_fails_at_once_and_can_be_resent(backend: Backend) {
    let (app, smtp, performance) = app_with_smtp(backend).await;
    let ticket = app.issue_ticket(performance).await;
    let emails_path = format!("/api/v1/tickets/{}/emails", ticket["id"]);
    let worker = app.worker();

    smtp.reject_recipients(true);
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(150)).await; // past the first retry's delay
    assert_eq!(worker.deliver_due().await.unwrap(), 0, "not retried");
    let emails: Value = app.get_json(&emails_path, &app.admin_key).await;
    assert_eq!(emails[0]["status"], "failed");
    assert_eq!(emails[0]["attempts"], 1);
    assert!(
        emails[0]["last_error"].as_str().unwrap().contains("550"),
        "{}",
        emails[0]
    );
    assert_eq!(smtp.rejected(), 1);
    println!(
        "permanent rejection ({backend:?}): {} attempt before failed",
        smtp.rejected()
    );

    smtp.reject_recipients(false);
    let email_id = emails[0]["id"].as_i64().unwrap();
    let resend = format!("/api/v1/tickets/{}/emails/{email_id}/resend", ticket["id"]);
    let scanner = app.key(encore::domain::Role::Scanner);
    let refused = app.post(&resend, &scanner, &json!({})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let box_office = app.key(encore::domain::Role::BoxOffice);
    let response = app.post(&resend, &box_office, &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let email: Value = response.json().await.unwrap();
    assert_eq!(
        (&email["status"], &email["attempts"]),
        (&json!("pending"), &json!(0))
    );

    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    let messages = smtp.wait_for(1).await;
    assert_eq!(
        messages[0].message_id(),
        emails[0]["message_id"].as_str().unwrap()
    );
    let emails: Value = app.get_json(&emails_path, &app.admin_key).await;
    assert_eq!(emails[0]["status"], "sent");

    // A sent email is not sent again; an email of another ticket is not found through this one.
    let again = app.post(&resend, &box_office, &json!({})).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["code"], "email_not_failed");
    let other = app.issue_ticket(performance).await;
    let elsewhere = format!("/api/v1/tickets/{}/emails/{email_id}/resend", other["id"]);
    let not_found = app.post(&elsewhere, &box_office, &json!({})).await;
    assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
    assert_eq!(smtp.messages().len(), 1);
}

fn encore_cli(app: &TestApp, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run encore");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// `encore outbox status` lists failed emails with their last error; `encore outbox retry` puts
/// them back in line, all or by kind, ticket or age.
async fn outbox_retry_sends_failed_emails_again(backend: Backend) {
    let (app, smtp, performance) = app_with_smtp(backend).await;
    let first = app.issue_ticket(performance).await;
    let second = app.issue_ticket(performance).await;
    smtp.reject_recipients(true);
    assert_eq!(app.worker().deliver_due().await.unwrap(), 2);
    smtp.reject_recipients(false);

    let status = encore_cli(&app, &["outbox", "status"]);
    assert!(status.contains("  failed: 2"), "{status}");
    let listed = status
        .lines()
        .filter(|l| l.contains("(confirmation, ticket") && l.contains("550"))
        .count();
    assert_eq!(listed, 2, "each failed email with its last error: {status}");

    let none = encore_cli(&app, &["outbox", "retry", "--kind", "reminder"]);
    assert!(none.starts_with("0 failed emails"), "{none}");
    let ticket = first["id"].to_string();
    let one = encore_cli(&app, &["outbox", "retry", "--ticket", &ticket]);
    assert!(one.starts_with("1 failed emails"), "{one}");
    assert_eq!(app.worker().deliver_due().await.unwrap(), 1);
    assert_eq!(smtp.wait_for(1).await[0].to, vec!["ada@example.org"]);

    app.db.execute(&format!(
        "UPDATE outbox SET created_at = {} WHERE ticket_id = {}",
        two_hours_earlier(backend),
        second["id"]
    ));
    let recent = encore_cli(&app, &["outbox", "retry", "--queued-within-hours", "1"]);
    assert!(recent.starts_with("0 failed emails"), "{recent}");
    let all = encore_cli(&app, &["outbox", "retry"]);
    assert!(all.starts_with("1 failed emails"), "{all}");
    assert_eq!(app.worker().deliver_due().await.unwrap(), 1);
    smtp.wait_for(2).await;
    assert_eq!(sent_count(&app), 2);
    let status = encore_cli(&app, &["outbox", "status"]);
    assert!(
        status.contains("  failed: 0") && !status.contains("550"),
        "{status}"
    );
}

fn two_hours_earlier(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => "datetime(created_at, '-2 hours')".into(),
        Backend::Postgres => "created_at - INTERVAL '2 hours'".into(),
    }
}

/// The `application_name` the worker process connects with, so that its backends (and no
/// one else's) can be terminated.
const WORKER_APP_NAME: &str = "encore_mail_worker";

/// Database backends of the worker terminated while they record a round's results (blocked on
/// a table lock held for that, then `pg_terminate_backend`): the recording is retried, every
/// email arrives, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backends_terminated_while_recording_resend_nothing() {
    const EMAILS: usize = 60;
    const TERMINATIONS: u64 = 8;
    let smtp = SmtpServer::start().await;
    smtp.slow_down(Duration::from_millis(200)); // the worker is mostly sending when the lock comes
    let app = TestApp::spawn(Backend::Postgres).await;
    let performance = app.create_performance_at(in_three_days(), 100).await;
    let recipients: Vec<String> = app
        .issue_bulk(performance, EMAILS)
        .await
        .iter()
        .map(|t| t["holder_email"].as_str().unwrap().to_string())
        .collect();

    let log = app.db.dir().join("worker.log");
    let mut worker = WorkerChild(
        Command::new(env!("CARGO_BIN_EXE_encore"))
            .arg("worker")
            .env(
                "DATABASE_URL",
                format!("{}?application_name={WORKER_APP_NAME}", app.db.url),
            )
            .env("SMTP_URL", smtp.url())
            .env("ENCORE_EMAIL_LEASE_SECONDS", "2")
            .env("ENCORE_SMTP_POOL_WAIT_MS", "300")
            .env("ENCORE_SMTP_SEND_TIMEOUT_MS", "1000")
            .env("ENCORE_EMAIL_RETRY_BASE_MS", "50")
            .env("ENCORE_OUTBOX_POLL_MS", "50")
            .env("ENCORE_SEND_CONCURRENCY", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start encore worker"),
    );

    let done = Arc::new(AtomicBool::new(false));
    let terminated = Arc::new(AtomicU64::new(0));
    let killer = {
        let (done, terminated) = (done.clone(), terminated.clone());
        let url = app.db.url.clone();
        tokio::task::spawn_blocking(move || {
            terminate_recordings(&url, TERMINATIONS, &done, &terminated)
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while sent_count(&app) < EMAILS as i64 {
        assert!(
            Instant::now() < deadline,
            "not every email was sent; the worker's log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done.store(true, Ordering::SeqCst);
    killer.await.unwrap();
    worker.0.kill().unwrap();
    worker.0.wait().unwrap();

    let retries = std::fs::read_to_string(&log)
        .unwrap()
        .matches("could not record delivery results")
        .count();
    let (received, distinct, lost) = tally(&smtp.messages(), &recipients);
    let terminated = terminated.load(Ordering::SeqCst);
    println!(
        "database errors while recording (PostgreSQL): {terminated} recording backends \
         terminated, {retries} recordings retried; {received} emails sent for {EMAILS}, \
         {} duplicates, {lost} lost",
        received - distinct
    );
    assert!(
        terminated >= 3,
        "the faults hit the recording ({terminated} terminations)"
    );
    assert_eq!(lost, 0, "every email arrived");
    assert_eq!(received, distinct, "no email was sent twice");
    assert_eq!(received, EMAILS);
}

/// Over and over until `done` (at most `most` times): holds a lock that stops the worker's
/// `UPDATE … sent_at` (only recording sets it), and terminates the worker's backend once it
/// waits there.
fn terminate_recordings(url: &str, most: u64, done: &AtomicBool, terminated: &AtomicU64) {
    let mut admin = PgConnection::establish(url).expect("an admin connection");
    let find = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = '{WORKER_APP_NAME}' AND wait_event_type = 'Lock' \
         AND query LIKE '%\"sent_at\"%'"
    );
    while !done.load(Ordering::SeqCst) && terminated.load(Ordering::SeqCst) < most {
        let hit = admin
            .transaction(|c| {
                diesel::sql_query("LOCK TABLE outbox IN EXCLUSIVE MODE").execute(c)?;
                for _ in 0..60 {
                    // Within a transaction pg_stat_activity is a snapshot: take a fresh one.
                    diesel::sql_query("SELECT pg_stat_clear_snapshot()").execute(c)?;
                    let n = diesel::sql_query(&find).execute(c)?;
                    if n > 0 {
                        return Ok::<_, diesel::result::Error>(n as u64);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(0)
            })
            .expect("lock and terminate");
        terminated.fetch_add(hit, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An `encore worker` process, killed when dropped.
struct WorkerChild(Child);

impl Drop for WorkerChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

crate::email::email_tests!(
    a_stalled_smtp_server_is_dropped_and_delivery_resumes,
    a_permanent_rejection_fails_at_once_and_can_be_resent,
    outbox_retry_sends_failed_emails_again,
);
