//! The `encore` binary's own commands, run as a user would run them.

use std::io::Write;

use reqwest::StatusCode;

use crate::helpers::{run_cli, Backend, TestApp, TestDatabase};

#[tokio::test]
async fn keys_create_prints_a_working_key_once() {
    let db = TestDatabase::create(Backend::Sqlite);
    let (code, stdout, stderr) = run_cli(
        &db.url,
        &[
            "keys",
            "create",
            "--role",
            "box_office",
            "--name",
            "Front desk",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let secret = stdout.trim();
    assert!(secret.starts_with("enc_") && secret.len() > 30, "{secret}");
    assert!(stderr.contains("only time"), "{stderr}");

    let (code, listing, _) = run_cli(&db.url, &["keys", "list"]);
    assert_eq!(code, 0);
    assert!(listing.contains("Front desk") && listing.contains("box_office"));
    assert!(!listing.contains(secret), "the secret is never shown again");
    assert_eq!(
        db.count(&format!(
            "SELECT COUNT(*) AS n FROM api_keys WHERE key_hash = '{secret}'"
        )),
        0,
        "only a hash is stored"
    );

    let (code, _, stderr) = run_cli(
        &db.url,
        &["keys", "create", "--role", "janitor", "--name", "x"],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("janitor"), "{stderr}");
}

#[tokio::test]
async fn keys_rotate_and_retire_from_the_command_line() {
    let db = TestDatabase::create(Backend::Sqlite);
    let (code, _, _) = run_cli(&db.url, &["migrate"]);
    assert_eq!(code, 0);
    let (_, first, _) = run_cli(&db.url, &["keys", "signing"]);
    let first_kid = first.split_whitespace().next().unwrap().to_string();
    let (code, new_kid, _) = run_cli(&db.url, &["keys", "rotate"]);
    assert_eq!(code, 0);
    let (_, listing, _) = run_cli(&db.url, &["keys", "signing"]);
    assert!(
        listing.contains(&format!("{} ", new_kid.trim()))
            && listing.contains("signing")
            && listing.contains("verifying"),
        "{listing}"
    );
    let (code, _, stderr) = run_cli(&db.url, &["keys", "retire", new_kid.trim()]);
    assert_ne!(code, 0, "the signing key cannot be retired");
    assert!(stderr.contains("rotate"), "{stderr}");
    let (code, _, _) = run_cli(&db.url, &["keys", "retire", &first_kid]);
    assert_eq!(code, 0);
}

/// A CSV with good and bad rows: the good are issued, the bad reported by line; a re-run
/// issues nothing twice.
async fn import_csv_reports_bad_rows_and_is_rerunnable(app: TestApp) {
    let performance = app.create_performance(100).await;
    let mut csv = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        csv,
        "holder_name,holder_email,price_minor,currency,seat,section,ref"
    )
    .unwrap();
    writeln!(csv, "Ada Lovelace,ada@example.org,4500,EUR,A1,Stalls,").unwrap();
    writeln!(csv, "Bob,not-an-email,4500,EUR,,,").unwrap();
    writeln!(csv, ",nameless@example.org,4500,EUR,,,").unwrap();
    writeln!(csv, "Cy,cy@example.org,lots,EUR,,,").unwrap();
    writeln!(csv, "Dee,dee@example.org,3000,EUR,,,order-7").unwrap();
    writeln!(csv, "Eve,eve@example.org,3000,EUR,,,").unwrap();
    writeln!(csv, "Eve,eve@example.org,3000,EUR,,,").unwrap();
    csv.flush().unwrap();
    let path = csv.path().to_str().unwrap().to_string();
    let perf = performance.to_string();

    let (code, stdout, stderr) = run_cli(&app.db.url, &["import", &path, "--performance", &perf]);
    assert_eq!(
        code, 3,
        "rejected rows give exit status 3: {stdout} {stderr}"
    );
    assert!(
        stdout.contains("7 rows: 4 issued, 0 already issued before, 3 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("line 3: holder_email"), "{stdout}");
    assert!(stdout.contains("line 4: holder_name"), "{stdout}");
    assert!(stdout.contains("line 5: price_minor"), "{stdout}");
    let count = format!("SELECT COUNT(*) AS n FROM tickets WHERE performance_id = {performance}");
    assert_eq!(
        app.db.count(&count),
        4,
        "two identical rows are two tickets"
    );

    let (code, stdout, _) = run_cli(&app.db.url, &["import", &path, "--performance", &perf]);
    assert_eq!(code, 3);
    assert!(
        stdout.contains("7 rows: 0 issued, 4 already issued before, 3 rejected"),
        "{stdout}"
    );
    assert_eq!(app.db.count(&count), 4);

    // The imported tickets are real: their tokens admit.
    let ada_id = app.db.count(&format!("SELECT id AS n FROM tickets WHERE holder_email = 'ada@example.org' AND performance_id = {performance}"));
    let response = app
        .get(&format!("/api/v1/tickets/{ada_id}"), &app.admin_key)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let ticket: serde_json::Value = response.json().await.unwrap();
    assert_eq!(ticket["seat"], "A1");
    let scanner = app.key(encore::domain::Role::Scanner);
    let (status, _) = app
        .scan(&scanner, ticket["token"].as_str().unwrap(), "north")
        .await;
    assert_eq!(status, StatusCode::OK);

    let (code, _, stderr) = run_cli(
        &app.db.url,
        &["import", "/no/such/file.csv", "--performance", &perf],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("cannot open"), "{stderr}");
}

mod import {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        import_csv_reports_bad_rows_and_is_rerunnable(TestApp::spawn(Backend::Sqlite).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        import_csv_reports_bad_rows_and_is_rerunnable(TestApp::spawn(Backend::Postgres).await)
            .await;
    }
}
