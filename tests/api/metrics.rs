//! `GET /metrics`: what the door, the outbox and the pool look like to Prometheus, who may read
//! it, and that a patron's link token never shows up in it.

use encore::domain::Role;
use encore::tokens::{LinkClaims, LinkPurpose};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    on_both_backends, on_each_backend, run_cli, run_cli_with, Backend, ServeProcess, TestApp,
    TestDatabase,
};
use crate::smtp::{app_with_mail_down, next_round_with_mail};

/// The metrics text, read with `key`.
async fn metrics_text(app: &TestApp, key: &str) -> String {
    let response = app.get("/metrics", key).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

/// The value of the one series whose line starts with `series ` (name and labels).
fn value_of(text: &str, series: &str) -> f64 {
    let prefix = format!("{series} ");
    let line = text
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"));
    line[prefix.len()..].parse().expect("a number")
}

async fn scans_requests_outbox_and_pool_are_counted(app: TestApp) {
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    let token = ticket["token"].as_str().unwrap();
    let scanner = app.key(Role::Scanner);
    assert_eq!(app.scan(&scanner, token, "north").await.0, StatusCode::OK);
    assert_eq!(
        app.scan(&scanner, token, "south").await.0,
        StatusCode::CONFLICT
    );
    let (status, _) = app.scan(&scanner, "not-a-ticket", "north").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // A device's offline scans, uploaded twice (a retry): counted once. It turned one valid
    // ticket away (it had no bundle yet).
    let offline = app.issue_ticket(performance).await;
    let turned_away = app.issue_ticket(performance).await;
    let scanned_at = (chrono::Utc::now() - chrono::Duration::minutes(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let batch = json!({"device": "phone-9", "scans": [
        {"token": offline["token"], "gate": "east", "scanned_at": scanned_at},
        {"token": "not-a-ticket", "gate": "east", "scanned_at": scanned_at},
        {"token": turned_away["token"], "gate": "east", "scanned_at": scanned_at,
         "refused": "no_bundle"},
    ]});
    for _ in 0..2 {
        let response = app.post("/api/v1/scans/batch", &scanner, &batch).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    // The patron opens their page: the token is in the URL, and must not reach the metrics.
    let link = app
        .encore
        .keys
        .sign(&LinkClaims {
            ticket_id: encore::domain::ids::TicketId(ticket["id"].as_i64().unwrap()),
            generation: 1,
            purpose: LinkPurpose::View,
            exp: (chrono::Utc::now() + chrono::Duration::hours(1)).timestamp(),
        })
        .unwrap();
    let page = app
        .client
        .get(app.url(&format!("/t/{link}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // A path that matches no route is one series, whatever the path.
    let lost = app.get(&format!("/no/such/{link}"), &app.admin_key).await;
    assert_eq!(lost.status(), StatusCode::NOT_FOUND);

    // Only an admin key reads them on the service's own address.
    let anonymous = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/metrics", &scanner).await.status(),
        StatusCode::FORBIDDEN
    );
    let text = metrics_text(&app, &app.admin_key).await;

    for line in [
        r#"encore_scans_total{outcome="admitted"} 1"#,
        r#"encore_scans_total{outcome="already_admitted"} 1"#,
        r#"encore_scans_total{outcome="malformed"} 1"#,
        r#"encore_scans_total{outcome="canceled"} 0"#,
        r#"encore_offline_scans_total{outcome="admitted"} 1"#,
        r#"encore_offline_scans_total{outcome="malformed"} 1"#,
        r#"encore_offline_scans_total{outcome="refused_offline"} 1"#,
        r#"encore_scans_total{outcome="refused_offline"} 0"#,
        r#"encore_http_requests_total{method="POST",route="/api/v1/scans",status="200"} 1"#,
        r#"encore_http_requests_total{method="POST",route="/api/v1/scans/batch",status="200"} 2"#,
        r#"encore_http_requests_total{method="POST",route="/api/v1/scans",status="409"} 1"#,
        r#"encore_http_requests_total{method="POST",route="/api/v1/scans",status="422"} 1"#,
        r#"encore_http_requests_total{method="GET",route="/t/{token}",status="200"} 1"#,
        r#"encore_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"encore_http_requests_total{method="POST",route="/api/v1/performances/{id}/tickets",status="201"} 3"#,
        // Each issue queued a confirmation; no worker runs in this test, so they wait.
        r#"encore_outbox_emails{status="pending"} 3"#,
        r#"encore_outbox_emails{status="sent"} 0"#,
        "encore_db_pool_connections_max 8",
        "# TYPE encore_http_request_duration_seconds histogram",
    ] {
        assert!(has_line(&text, line), "{line:?} missing from\n{text}");
    }
    assert_eq!(
        value_of(
            &text,
            r#"encore_http_request_duration_seconds_count{method="POST",route="/api/v1/scans",status="200"}"#
        ),
        1.0
    );
    let in_use = value_of(&text, "encore_db_pool_connections_in_use");
    assert!((0.0..=8.0).contains(&in_use), "{in_use}");
    let age = value_of(&text, "encore_outbox_oldest_pending_age_seconds");
    assert!((0.0..300.0).contains(&age), "{age}");

    assert!(
        !text.contains(&link),
        "a patron link token is in the metrics"
    );
    assert!(!text.contains(token), "a ticket token is in the metrics");
    assert!(!text.contains(offline["token"].as_str().unwrap()));
    assert!(!text.contains("/no/such"), "a raw path is in the metrics");
}

/// Sends through a real SMTP server that goes down: each failed attempt is counted, to be
/// retried or given up, and so is each email sent.
async fn email_sends_and_failures_are_counted(backend: Backend) {
    let (app, mut smtp) = app_with_mail_down(backend).await;
    let performance = app.create_performance(10).await;
    app.issue_ticket(performance).await;
    let worker = app.worker();
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    let text = metrics_text(&app, &app.admin_key).await;
    assert!(
        has_line(
            &text,
            r#"encore_email_send_failures_total{outcome="retry"} 1"#
        ),
        "{text}"
    );
    assert_eq!(next_round_with_mail(&worker).await, 1, "the last attempt");

    smtp.listen().await;
    app.issue_ticket(performance).await;
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    smtp.wait_for(1).await;
    let text = metrics_text(&app, &app.admin_key).await;
    for line in [
        r#"encore_email_send_failures_total{outcome="retry"} 1"#,
        r#"encore_email_send_failures_total{outcome="gave_up"} 1"#,
        "encore_emails_sent_total 1",
        r#"encore_outbox_emails{status="failed"} 1"#,
        r#"encore_outbox_emails{status="sent"} 1"#,
        r#"encore_outbox_emails{status="pending"} 0"#,
        "encore_outbox_oldest_pending_age_seconds 0",
    ] {
        assert!(has_line(&text, line), "{line:?} missing from\n{text}");
    }
}

on_both_backends!(scans_requests_outbox_and_pool_are_counted);

on_each_backend!(email: email_sends_and_failures_are_counted);

/// The real binary: `metrics_bind` serves `/metrics` without a key, `metrics_enabled = false`
/// turns them off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_bind_serves_metrics_and_a_setting_turns_them_off() {
    let db = TestDatabase::create(Backend::Sqlite);
    let (code, key, stderr) = run_cli(
        &db.url,
        &["keys", "create", "--role", "admin", "--name", "ops"],
    );
    assert_eq!(code, 0, "{stderr}");
    let key = key.trim().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_address = format!("127.0.0.1:{port}");
    let client = reqwest::Client::new();

    let server =
        ServeProcess::start_with(&db.url, &[("ENCORE_METRICS_BIND", &metrics_address)]).await;
    let scan = json!({"token": "garbage", "gate": "g", "device": "d"});
    server.post_json(&key, "/api/v1/scans", &scan).await;
    let open = client
        .get(format!("http://{metrics_address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), StatusCode::OK);
    let text = open.text().await.unwrap();
    assert!(
        has_line(&text, r#"encore_scans_total{outcome="malformed"} 1"#),
        "{text}"
    );
    let on_main = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        on_main.status(),
        StatusCode::UNAUTHORIZED,
        "the service's own address wants a key"
    );
    let elsewhere = client
        .get(format!("http://{metrics_address}/api/v1/events"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        StatusCode::NOT_FOUND,
        "the metrics address serves nothing else"
    );
    drop(server);

    let server = ServeProcess::start_with(&db.url, &[("ENCORE_METRICS_ENABLED", "false")]).await;
    let answer = server.post_json(&key, "/api/v1/scans", &scan).await;
    assert_eq!(
        answer["outcome"], "malformed",
        "scans work with metrics off"
    );
    let off = client
        .get(format!("{}/metrics", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::NOT_FOUND);
    let (code, stdout, _) =
        run_cli_with(&db.url, &["config"], &[("ENCORE_METRICS_ENABLED", "false")]);
    assert_eq!(code, 0);
    assert!(has_line(&stdout, "metrics_enabled = false"), "{stdout}");
}

/// `encore worker` alone (no HTTP service) serves its own metrics on `metrics_bind`, and stops
/// on SIGTERM as on Ctrl-C: it logs that it stopped and exits with success (not killed by the
/// signal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_worker_serves_its_metrics_and_stops_on_sigterm() {
    let db = TestDatabase::create(Backend::Sqlite);
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let log = db.dir().join("worker.log");
    let mut worker = std::process::Command::new(env!("CARGO_BIN_EXE_encore"))
        .arg("worker")
        .env("DATABASE_URL", &db.url)
        .env("ENCORE_METRICS_BIND", &address)
        .env("ENCORE_MAIL_DIR", db.dir().join("mail"))
        .env("RUST_LOG", "warn,encore=info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start encore worker");
    let client = reqwest::Client::new();
    let mut text = None;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("http://{address}/metrics")).send().await {
            text = Some(r.text().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let text = text.expect("the worker serves /metrics");
    assert!(has_line(&text, "encore_emails_sent_total 0"), "{text}");

    let pid = rustix::process::Pid::from_raw(worker.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = worker.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = worker.kill();
            panic!("encore worker ignored SIGTERM");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        status.success(),
        "SIGTERM is a graceful stop, not a kill: {status:?}\n{log}"
    );
    let stopped = log
        .lines()
        .find(|l| l.contains("email worker stopped"))
        .unwrap_or_else(|| panic!("no 'stopped' line in\n{log}"));
    assert!(stopped.contains("SIGTERM"), "{stopped}");
}
