//! Email through a real SMTP conversation on loopback: what arrives, and that nothing is lost or
//! sent twice when the server is down, the worker is killed, or two workers race.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use mail_parser::MimeHeaders;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{ticket_request, Backend, TestApp};
use crate::smtp::{Received, SmtpServer};

async fn app_with_smtp(backend: Backend) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, move |c| c.smtp_url = Some(url)).await;
    (app, smtp)
}

fn inline_qr_token(message: &Received) -> String {
    let parsed = message.parsed();
    let qr = parsed
        .attachments()
        .find(|part| part.content_id() == Some("qr"))
        .expect("an inline part with Content-ID qr");
    assert_eq!(
        qr.content_type().map(|t| (t.ctype(), t.subtype())),
        Some(("image", Some("png")))
    );
    let image = image::load_from_memory(qr.contents()).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    grids[0].decode().expect("the QR decodes").1
}

async fn confirmation_arrives_with_qr_and_link(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let performance = app.create_performance(10).await;
    let path = format!("/api/v1/performances/{performance}/tickets");
    let mut body = ticket_request("Ada <b>Lovelace</b> & Co", "ada@example.org");
    body["seat"] = json!("A1");
    let response = app.post(&path, &app.admin_key, &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let ticket: Value = response.json().await.unwrap();

    assert_eq!(app.worker().deliver_due().await.unwrap(), 1);
    let messages = smtp.wait_for(1).await;
    let message = &messages[0];
    assert_eq!(message.to, vec!["ada@example.org"]);
    assert_eq!(message.from, "tickets@encore.localhost");
    let parsed = message.parsed();
    assert!(
        parsed
            .subject()
            .unwrap()
            .starts_with("Your ticket for Hamlet on "),
        "{:?}",
        parsed.subject()
    );

    let text = parsed.body_text(0).unwrap();
    assert!(text.contains("Hello Ada <b>Lovelace</b> & Co,"), "{text}");
    assert!(
        text.contains("The Globe") && text.contains("Seat:   A1"),
        "{text}"
    );
    let html = parsed.body_html(0).unwrap();
    assert!(
        !html.contains("<b>Lovelace"),
        "names are escaped in HTML: {html}"
    );
    assert!(html.contains("Lovelace") && html.contains("cid:qr"));

    // The inline QR is the ticket's token; the link is a signed patron link.
    assert_eq!(inline_qr_token(message), ticket["token"].as_str().unwrap());
    let link_prefix = app.url("/t/");
    let link_start = text.find(&link_prefix).expect("a patron link");
    let link = text[link_start..].split_whitespace().next().unwrap();
    assert_ne!(
        link.trim_start_matches(&link_prefix),
        ticket["token"].as_str().unwrap()
    );

    // The box office sees it as sent, with the Message-ID that went out.
    let emails: Value = app
        .get(
            &format!("/api/v1/tickets/{}/emails", ticket["id"]),
            &app.admin_key,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(emails[0]["kind"], "confirmation");
    assert_eq!(emails[0]["status"], "sent");
    assert_eq!(emails[0]["attempts"], 1);
    assert_eq!(emails[0]["message_id"], message.message_id());
    assert_eq!(
        app.worker().deliver_due().await.unwrap(),
        0,
        "nothing is sent twice"
    );
}

async fn an_smtp_outage_is_retried_until_delivered(backend: Backend) {
    let (app, mut smtp) = app_with_smtp(backend).await;
    smtp.stop().await;
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    let worker = app.worker();
    let emails_path = format!("/api/v1/tickets/{}/emails", ticket["id"]);

    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    let emails: Value = app.get_json(&emails_path, &app.admin_key).await;
    assert_eq!(emails[0]["status"], "pending");
    assert_eq!(emails[0]["attempts"], 2);
    assert!(emails[0]["last_error"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));

    smtp.listen().await;
    for _ in 0..50 {
        worker.deliver_due().await.unwrap();
        if !smtp.messages().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(smtp.messages().len(), 1);
    let emails: Value = app.get_json(&emails_path, &app.admin_key).await;
    assert_eq!(emails[0]["status"], "sent");
    assert!(emails[0]["attempts"].as_i64().unwrap() >= 3);
    assert_eq!(emails[0]["last_error"], Value::Null);
}

async fn create_event_and_performance(app: &TestApp, starts_in: chrono::Duration) -> i64 {
    let event: Value = app
        .post("/api/v1/events", &app.admin_key, &json!({"name": "Hamlet", "venue": "The Globe", "time_zone": "Europe/London", "reminder_offsets_minutes": [120, 1440]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(event["reminder_offsets_minutes"], json!([1440, 120]));
    let performance: Value = app
        .post(
            &format!("/api/v1/events/{}/performances", event["id"]),
            &app.admin_key,
            &json!({"starts_at": Utc::now() + starts_in, "capacity": 10}),
        )
        .await
        .json()
        .await
        .unwrap();
    performance["id"].as_i64().unwrap()
}

async fn issue_to(app: &TestApp, performance: i64, email: &str) -> i64 {
    let response = app
        .post(
            &format!("/api/v1/performances/{performance}/tickets"),
            &app.admin_key,
            &ticket_request("Guest", email),
        )
        .await;
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// Reminders go once to valid tickets only; after a pause only the latest due one goes; the
/// first carries a calendar file.
async fn reminders_reach_valid_tickets_once(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let soon = create_event_and_performance(&app, chrono::Duration::minutes(100)).await;
    let tomorrow = create_event_and_performance(&app, chrono::Duration::hours(23)).await;
    let a = issue_to(&app, soon, "a@example.org").await;
    let b = issue_to(&app, soon, "b@example.org").await;
    let c = issue_to(&app, soon, "c@example.org").await;
    let _d = issue_to(&app, tomorrow, "d@example.org").await;
    let worker = app.worker();
    assert_eq!(worker.deliver_due().await.unwrap(), 4, "four confirmations");
    smtp.wait_for(4).await;

    // B is canceled before the reminders are queued, C after (the cancel flow comes in a later
    // issue; here the row is set as that flow will set it).
    app.db.execute(&format!(
        "UPDATE tickets SET status = 'canceled' WHERE id = {b}"
    ));
    assert_eq!(
        worker.queue_due_reminders().await.unwrap(),
        3,
        "A and C for tonight, D for tomorrow"
    );
    app.db.execute(&format!(
        "UPDATE tickets SET status = 'canceled' WHERE id = {c}"
    ));
    assert_eq!(worker.deliver_due().await.unwrap(), 3);
    assert_eq!(
        worker.queue_due_reminders().await.unwrap(),
        0,
        "queued once"
    );
    assert_eq!(worker.deliver_due().await.unwrap(), 0);

    let messages = smtp.wait_for(6).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        smtp.messages().len(),
        6,
        "4 confirmations and 2 reminders, nothing more"
    );
    let reminders: HashMap<String, &Received> =
        messages[4..].iter().map(|m| (m.to[0].clone(), m)).collect();
    assert_eq!(
        reminders.keys().cloned().collect::<HashSet<_>>(),
        HashSet::from(["a@example.org".to_string(), "d@example.org".to_string()])
    );
    assert!(reminders["a@example.org"]
        .parsed()
        .subject()
        .unwrap()
        .contains("in 2 hours"));
    assert!(reminders["d@example.org"]
        .parsed()
        .subject()
        .unwrap()
        .contains("tomorrow"));
    for reminder in reminders.values() {
        let parsed = reminder.parsed();
        let ics = parsed
            .attachments()
            .find(|p| p.attachment_name() == Some("performance.ics"))
            .expect("a calendar file");
        let calendar: icalendar::Calendar = std::str::from_utf8(ics.contents())
            .unwrap()
            .parse()
            .expect("the .ics parses");
        let event = calendar
            .components
            .iter()
            .find_map(|c| c.as_event())
            .expect("one event");
        use icalendar::{Component, EventLike};
        assert_eq!(event.get_summary(), Some("Hamlet"));
        assert_eq!(event.get_location(), Some("The Globe"));
        assert!(event.get_start().is_some());
    }

    let emails: Value = app
        .get_json(&format!("/api/v1/tickets/{c}/emails"), &app.admin_key)
        .await;
    assert_eq!(emails[1]["kind"], "reminder");
    assert_eq!(emails[1]["status"], "skipped");
    assert_eq!(emails[1]["last_error"], "the ticket is canceled");
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM outbox WHERE ticket_id = {b} AND kind = 'reminder'"
        )),
        0
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM outbox WHERE ticket_id = {a} AND kind = 'reminder'"
        )),
        1
    );
    assert_eq!(app.db.count(&format!("SELECT queued AS n FROM reminder_runs WHERE performance_id = {soon} AND offset_minutes = 1440")), 0, "the stale reminder is skipped");
}

/// Far enough ahead that no reminder is due: the worker processes send confirmations only.
fn in_three_days() -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::days(3)
}

/// An `encore worker` process, killed (SIGKILL) when dropped.
struct WorkerProcess(Child);

impl WorkerProcess {
    /// `lease_seconds`: how long a claim holds before another worker may take it over.
    fn start(app: &TestApp, smtp: &SmtpServer, lease_seconds: u32) -> WorkerProcess {
        // A send starts only when the lease covers its longest time: a fifth of the lease to
        // take a connection, two fifths to send.
        let fifth = (lease_seconds * 200).to_string();
        let two_fifths = (lease_seconds * 400).to_string();
        Self::start_with(app, smtp, lease_seconds, &fifth, &two_fifths)
    }

    fn start_with(
        app: &TestApp,
        smtp: &SmtpServer,
        lease_seconds: u32,
        pool_wait_ms: &str,
        send_timeout_ms: &str,
    ) -> WorkerProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_encore"))
            .arg("worker")
            .env("DATABASE_URL", &app.db.url)
            .env("SMTP_URL", smtp.url())
            .env("ENCORE_EMAIL_LEASE_SECONDS", lease_seconds.to_string())
            .env("ENCORE_SMTP_POOL_WAIT_MS", pool_wait_ms)
            .env("ENCORE_SMTP_SEND_TIMEOUT_MS", send_timeout_ms)
            .env("ENCORE_EMAIL_RETRY_BASE_MS", "50")
            .env("ENCORE_OUTBOX_POLL_MS", "50")
            .env("ENCORE_OUTBOX_BATCH_SIZE", "20")
            .env("ENCORE_SEND_CONCURRENCY", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start encore worker");
        WorkerProcess(child)
    }

    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn wait_until_all_sent(app: &TestApp, total: i64) {
    for _ in 0..600 {
        if app
            .db
            .count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent'")
            == total
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not every email was sent");
}

/// Every recipient got their email; any duplicate is the same message (same Message-ID).
fn assert_each_delivered_once_or_resent_identically(messages: &[Received], recipients: usize) {
    let mut by_recipient: HashMap<&str, HashSet<String>> = HashMap::new();
    for m in messages {
        by_recipient
            .entry(m.to[0].as_str())
            .or_default()
            .insert(m.message_id());
    }
    assert_eq!(
        by_recipient.len(),
        recipients,
        "every recipient got their email"
    );
    for (recipient, ids) in by_recipient {
        assert_eq!(
            ids.len(),
            1,
            "{recipient} got two different messages: {ids:?}"
        );
    }
}

async fn a_killed_worker_loses_nothing(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    smtp.slow_down(Duration::from_millis(25));
    let performance = app.create_performance_at(in_three_days(), 100).await;
    app.issue_bulk(performance, 60).await;

    // A short lease, so the restarted worker takes over the dead one's claims quickly.
    let mut worker = WorkerProcess::start(&app, &smtp, 1);
    smtp.wait_for(10).await;
    worker.kill(); // mid-batch: some claimed emails are sent, some not, none marked
    let at_kill = smtp.messages().len();
    assert!(
        at_kill < 60,
        "the kill came before the end ({at_kill} sent)"
    );

    let _restarted = WorkerProcess::start(&app, &smtp, 1);
    wait_until_all_sent(&app, 60).await;
    let messages = smtp.messages();
    assert_each_delivered_once_or_resent_identically(&messages, 60);
    // Only what the dead worker held could go twice: at most one claimed batch (20).
    assert!(
        messages.len() <= 60 + 20,
        "{} messages for 60 emails",
        messages.len()
    );
}

/// Leases shorter than a claim takes to send: each worker starts only the sends its lease
/// still covers and records results only for its own claims, so nothing goes twice.
async fn workers_whose_leases_run_out_never_send_twice(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    // Each pipeline claims 2 emails and sends them one after the other: 3.2 s, past the 3 s
    // lease. A send may take 0.3 s to get a connection and 1.8 s to send.
    smtp.slow_down(Duration::from_millis(1_600));
    let performance = app.create_performance_at(in_three_days(), 100).await;
    app.issue_bulk(performance, 16).await;
    let _one = WorkerProcess::start_with(&app, &smtp, 3, "300", "1800");
    let _two = WorkerProcess::start_with(&app, &smtp, 3, "300", "1800");
    // Until every email is sent; no email may arrive twice meanwhile.
    for round in 0.. {
        let messages = smtp.messages();
        let distinct: HashSet<String> = messages.iter().map(Received::message_id).collect();
        assert_eq!(distinct.len(), messages.len(), "an email was sent twice");
        let sent = app
            .db
            .count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent'");
        if sent == 16 {
            break;
        }
        assert!(round < 800, "not every email was sent ({sent} of 16)");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The leases did run out: emails were claimed again after a claim that did not send them.
    let reclaimed = app
        .db
        .count("SELECT COUNT(*) AS n FROM outbox WHERE attempts > 1");
    assert!(reclaimed > 0, "no lease ran out: the test proves nothing");
    let messages = smtp.messages();
    assert_eq!(messages.len(), 16, "exactly one message per ticket");
    assert_each_delivered_once_or_resent_identically(&messages, 16);
}

async fn two_workers_never_send_an_email_twice(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let performance = app.create_performance_at(in_three_days(), 300).await;
    app.issue_bulk(performance, 200).await;
    let _one = WorkerProcess::start(&app, &smtp, 60);
    let _two = WorkerProcess::start(&app, &smtp, 60);
    wait_until_all_sent(&app, 200).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), 200, "exactly one message per ticket");
    assert_each_delivered_once_or_resent_identically(&messages, 200);
}

/// With no SMTP server configured, emails become .eml files a newcomer can open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_emails_are_written_as_files() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let performance = app.create_performance(10).await;
    app.issue_ticket(performance).await;
    assert_eq!(app.worker().deliver_due().await.unwrap(), 1);
    let files: Vec<_> = std::fs::read_dir(&app.config.mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().unwrap(), "eml");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("Subject: Your ticket for Hamlet"), "{eml}");
    assert!(eml.contains("To: ada@example.org"), "{eml}");
}

macro_rules! email_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(crate::helpers::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(crate::helpers::Backend::Postgres).await } )*
        }
    };
}

pub(crate) use email_tests;

email_tests!(
    confirmation_arrives_with_qr_and_link,
    an_smtp_outage_is_retried_until_delivered,
    reminders_reach_valid_tickets_once,
    a_killed_worker_loses_nothing,
    two_workers_never_send_an_email_twice,
    workers_whose_leases_run_out_never_send_twice,
);
