//! Staff keys that expire (`encore keys create --expires-in`) and record their last use
//! (`encore keys list`), through the real binary and the running app, on both backends.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{on_both_backends, run_cli, Backend, TestApp};
use encore::domain::ids::ApiKeyId;
use encore::service::staff;

/// A key made by the CLI against the app's database: (its id, its secret).
fn cli_key(app: &TestApp, args: &[&str]) -> (ApiKeyId, String) {
    let mut all = vec!["keys", "create", "--name", "door 7"];
    all.extend_from_slice(args);
    let (code, secret, err) = run_cli(&app.db.url, &all);
    assert_eq!(code, 0, "{err}");
    let id = staff::list_keys(&app.encore.db).unwrap().last().unwrap().id;
    (id, secret.trim().to_string())
}

fn listing_line(app: &TestApp, id: ApiKeyId) -> String {
    let (code, listing, err) = run_cli(&app.db.url, &["keys", "list"]);
    assert_eq!(code, 0, "{err}");
    let line = listing
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&id.to_string()))
        .unwrap_or_else(|| panic!("key #{id} is listed:\n{listing}"));
    line.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_key_stops_at_its_expiry_on_sqlite() {
    key_stops_at_its_expiry(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_key_stops_at_its_expiry_on_postgres() {
    key_stops_at_its_expiry(Backend::Postgres).await;
}

/// A key created to expire in a few seconds works until then, and from then on is 401
/// `api_key_expired`, although the server would otherwise trust it from memory for a minute.
async fn key_stops_at_its_expiry(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.api_key_cache_seconds = 60).await;
    let (id, key) = cli_key(&app, &["--role", "box_office", "--expires-in", "3s"]);
    let expires_at = staff::list_keys(&app.encore.db)
        .unwrap()
        .last()
        .unwrap()
        .expires_at;
    let expires_at = expires_at.expect("the key has an expiry");
    assert!(listing_line(&app, id).contains("active, expires"));

    assert_eq!(
        app.get("/api/v1/events", &key).await.status(),
        StatusCode::OK
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let answer = loop {
        let response = app.get("/api/v1/events", &key).await;
        if response.status() != StatusCode::OK {
            break (response.status(), response.json::<Value>().await.unwrap());
        }
        assert!(
            Instant::now() < deadline,
            "the key still works long after its expiry"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let refused_at = chrono::Utc::now();
    assert_eq!(answer.0, StatusCode::UNAUTHORIZED, "{}", answer.1);
    assert_eq!(answer.1["code"], "api_key_expired");
    assert!(refused_at >= expires_at, "not before its expiry");
    assert!(
        refused_at - expires_at < chrono::TimeDelta::seconds(2),
        "refused at {refused_at}, expired at {expires_at}: the remembered key outlived it"
    );
    assert!(listing_line(&app, id).contains("expired"));
}

/// Nonsense for `--expires-in` is refused by the CLI and creates no key.
async fn a_bad_expiry_is_refused(app: TestApp) {
    let before = staff::list_keys(&app.encore.db).unwrap().len();
    for bad in ["soon", "-1d", "1000000000y"] {
        let args = [
            "keys",
            "create",
            "--role",
            "admin",
            "--name",
            "x",
            "--expires-in",
            bad,
        ];
        let (code, _, _) = run_cli(&app.db.url, &args);
        assert_ne!(code, 0, "--expires-in {bad}");
    }
    assert_eq!(staff::list_keys(&app.encore.db).unwrap().len(), before);
}

/// `keys list` says "never" for an unused key, then when it was used; the time is written at
/// most once a minute however often the key is used (the server forgets the key every second
/// in tests, so it asks the database many times), and again once the stored one is stale.
async fn keys_list_shows_last_use_written_at_most_once_a_minute(app: TestApp) {
    let (id, key) = cli_key(&app, &["--role", "box_office"]);
    assert!(listing_line(&app, id).contains("never"));
    let last_used = || {
        let keys = staff::list_keys(&app.encore.db).unwrap();
        keys.into_iter().find(|k| k.id == id).unwrap().last_used_at
    };

    assert_eq!(
        app.get("/api/v1/events", &key).await.status(),
        StatusCode::OK
    );
    let first = last_used().expect("the use is recorded");
    let shown = first.format("%Y-%m-%d %H:%M:%S").to_string();
    assert!(listing_line(&app, id).contains(&shown), "{shown}");

    // Three seconds of use, past three cache expiries: the time stays the first one.
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        assert_eq!(
            app.get("/api/v1/events", &key).await.status(),
            StatusCode::OK
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last_used(), Some(first));

    // Once the stored time is more than a minute old, the next lookup writes it again.
    app.db.execute(&format!(
        "UPDATE api_keys SET last_used_at = '2026-01-01 00:00:00' WHERE id = {id}"
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    while last_used() < Some(first) {
        assert!(
            Instant::now() < deadline,
            "a stale last use is written again"
        );
        assert_eq!(
            app.get("/api/v1/events", &key).await.status(),
            StatusCode::OK
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_both_backends!(
    a_bad_expiry_is_refused,
    keys_list_shows_last_use_written_at_most_once_a_minute,
);
