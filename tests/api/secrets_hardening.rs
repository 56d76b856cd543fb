//! Hardening at the edges: addresses that are not mailboxes, secrets in `encore config`,
//! clients that drip their requests, and readiness while SQLite is write-locked.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{on_both_backends, run_cli_with, ticket_request, Backend, TestApp};

/// IP literals and Unicode line separators are refused, in the address and in the name that
/// goes with it into the To: header; nothing is issued.
async fn addresses_with_ip_literals_or_line_separators_are_refused(app: TestApp) {
    let performance = app.create_performance(10).await;
    let path = format!("/api/v1/performances/{performance}/tickets");
    let cases = [
        ("Ada", "ada@[127.0.0.1]", "holder_email"),
        ("Ada", "ada@[IPv6:::1]", "holder_email"),
        ("Ada", "ada\u{2028}@example.org", "holder_email"),
        (
            "Ada\u{2028}Bcc: all@example.org",
            "ada@example.org",
            "holder_name",
        ),
        ("Ada\u{2029}Lovelace", "ada@example.org", "holder_name"),
        ("Ada\u{85}x", "ada@example.org", "holder_name"),
    ];
    for (name, email, field) in cases {
        let response = app
            .post(&path, &app.admin_key, &ticket_request(name, email))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?} <{email:?}>"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "validation_failed", "{problem}");
        assert_eq!(problem["field"], field, "{problem}");
    }
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM tickets"), 0);
}

on_both_backends!(addresses_with_ip_literals_or_line_separators_are_refused);

/// `encore config` (the real binary) hides `sslpassword=` and any password-like URL parameter.
#[test]
fn config_redacts_every_password_like_url_parameter() {
    let url = "postgres://encore:s3cret@db.example.org/encore?sslmode=verify-full&sslkey=/k.pem&sslpassword=k3yp4ss&auth_token=t0ken";
    let (code, stdout, stderr) = run_cli_with(url, &["config"], &[]);
    assert_eq!(code, 0, "{stderr}");
    for secret in ["s3cret", "k3yp4ss", "t0ken"] {
        assert!(!stdout.contains(secret), "{secret} in\n{stdout}");
    }
    assert!(
        stdout.contains("?sslmode=verify-full&sslkey=/k.pem&sslpassword=***&auth_token=***"),
        "{stdout}"
    );
}

const HEADER_TIMEOUT_MS: u64 = 1_000;
const BODY_TIMEOUT_MS: u64 = 1_500;

async fn spawn_with_short_read_timeouts() -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, |config| {
        config.request_header_timeout_ms = HEADER_TIMEOUT_MS;
        config.request_body_timeout_ms = BODY_TIMEOUT_MS;
    })
    .await
}

/// Sends `head` at once, then `drip` a byte every 100 ms; returns what the server answered and
/// how long until it closed the connection — or panics if it still holds it after `bound`.
async fn drip(
    app: &TestApp,
    head: String,
    drip: &'static [u8],
    bound: Duration,
) -> (String, Duration) {
    let address = app.base.trim_start_matches("http://");
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    writer.write_all(head.as_bytes()).await.unwrap();
    let dripper = tokio::spawn(async move {
        for byte in drip.iter().cycle() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(bound, reader.read_to_end(&mut answer)).await;
    dripper.abort();
    let held = started.elapsed();
    assert!(
        read.is_ok(),
        "the connection was still open after {held:?}; answered so far: {:?}",
        String::from_utf8_lossy(&answer)
    );
    (String::from_utf8_lossy(&answer).into_owned(), held)
}

/// A body sent a byte at a time is cut off after `request_body_timeout_ms` with a 408, and the
/// connection closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_dripping_a_byte_at_a_time_is_cut_off() {
    let app = spawn_with_short_read_timeouts().await;
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{{\"name\": \"",
        app.admin_key
    );
    let bound = Duration::from_millis(BODY_TIMEOUT_MS + 2_000);
    let (answer, held) = drip(&app, head, b"a", bound).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(held >= Duration::from_millis(BODY_TIMEOUT_MS), "{held:?}");
}

/// Headers sent a byte at a time are cut off after `request_header_timeout_ms`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_headers_dripping_a_byte_at_a_time_are_cut_off() {
    let app = spawn_with_short_read_timeouts().await;
    let head = "GET /healthz HTTP/1.1\r\nHost: x\r\n".to_string();
    // actix-web's own default would be 5 s: the bound is well below it.
    let bound = Duration::from_millis(HEADER_TIMEOUT_MS + 2_000);
    let (answer, held) = drip(&app, head, b"X-Slow: yes\r\n", bound).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // The timer runs from the connection's accept, a moment before this client's clock starts.
    assert!(
        held >= Duration::from_millis(HEADER_TIMEOUT_MS * 9 / 10),
        "{held:?}"
    );
}

/// While another connection holds SQLite's write lock, `/readyz` answers 503 `database_busy`;
/// once it lets go, 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_not_ready_while_sqlite_is_write_locked() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ready = || async { app.client.get(app.url("/readyz")).send().await.unwrap() };
    assert_eq!(ready().await.status(), StatusCode::OK);

    let mut holder = SqliteConnection::establish(&app.db.url).unwrap();
    holder.batch_execute("BEGIN IMMEDIATE").unwrap();
    let busy = ready().await;
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: Value = busy.json().await.unwrap();
    assert_eq!(problem["code"], "database_busy", "{problem}");

    holder.batch_execute("ROLLBACK").unwrap();
    assert_eq!(ready().await.status(), StatusCode::OK);
}
