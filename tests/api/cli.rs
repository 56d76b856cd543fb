//! The `encore` binary's own commands, run as a user would run them.

use std::io::Write;

use reqwest::StatusCode;

use crate::helpers::{
    on_each_backend, run_cli, run_cli_with, Backend, Deadline, ServeProcess, TestApp, TestDatabase,
};

/// How long a running server may take to catch up with a key change (its refresh is 1 s).
const WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

async fn keys_create_prints_a_working_key_once(backend: Backend) {
    let db = TestDatabase::create(backend);
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
    // Only its SHA-256 is stored.
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(secret.as_bytes()));
    let stored = format!("SELECT COUNT(*) AS n FROM api_keys WHERE key_hash = '{digest}'");
    assert_eq!(db.count(&stored), 1);
    let leaked = format!(
        "SELECT COUNT(*) AS n FROM api_keys WHERE name = '{secret}' OR key_prefix = '{secret}' OR key_hash = '{secret}'"
    );
    assert_eq!(db.count(&leaked), 0, "the secret itself is stored nowhere");

    // The printed key works against a running server, with its role.
    let server = ServeProcess::start(&db.url).await;
    let client = reqwest::Client::new();
    let event = serde_json::json!({"name": "Gala", "venue": "Hall", "time_zone": "UTC"});
    let response = client
        .post(format!("{}/api/v1/events", server.base))
        .bearer_auth(secret)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    let (code, _, stderr) = run_cli(
        &db.url,
        &["keys", "create", "--role", "janitor", "--name", "x"],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("janitor"), "{stderr}");
}

/// Rotation reaches running servers by themselves; an old key can be retired only once every
/// process has had time to sign with the new one.
async fn keys_rotate_and_retire_from_the_command_line(backend: Backend) {
    let db = TestDatabase::create(backend);
    let fast = [("ENCORE_KEY_REFRESH_SECONDS", "1")];
    let (code, key, _) = run_cli_with(
        &db.url,
        &["keys", "create", "--role", "admin", "--name", "ops"],
        &fast,
    );
    assert_eq!(code, 0);
    let key = key.trim().to_string();
    let server = ServeProcess::start_with(&db.url, &fast).await;
    let performance = server.create_performance(&key, 5).await;
    let ticket = server
        .post_json(
            &key,
            &format!("/api/v1/performances/{performance}/tickets"),
            &crate::helpers::ticket_request("Ada", "ada@example.org"),
        )
        .await;
    // The key that signed a ticket's code, among those the server publishes.
    let kid_of = |t: &serde_json::Value, jwks: &serde_json::Value| {
        crate::helpers::signing_jwk(t["token"].as_str().unwrap(), &jwks["keys"])["kid"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let jwks_path = "/.well-known/jwks.json";
    let first_kid = kid_of(&ticket, &server.get_json(&key, jwks_path).await);

    let (code, new_kid, _) = run_cli_with(&db.url, &["keys", "rotate"], &fast);
    assert_eq!(code, 0);
    let new_kid = new_kid.trim().to_string();
    let (code, _, stderr) = run_cli_with(&db.url, &["keys", "retire", &first_kid], &fast);
    assert_ne!(
        code, 0,
        "too early: a process may still sign with the old key"
    );
    assert!(stderr.contains("younger than"), "{stderr}");

    // Within the refresh interval the running server signs with the new key, by itself.
    let ticket_path = format!("/api/v1/tickets/{}", ticket["id"]);
    let deadline = Deadline::after(WITHIN);
    while kid_of(
        &server.get_json(&key, &ticket_path).await,
        &server.get_json(&key, jwks_path).await,
    ) != new_kid
    {
        deadline.retry("the server signs with the new key").await;
    }

    let (_, listing, _) = run_cli_with(&db.url, &["keys", "signing"], &fast);
    assert!(
        listing.contains(&format!("{new_kid} ")) && listing.contains("verifying"),
        "{listing}"
    );
    let (code, _, stderr) = run_cli_with(&db.url, &["keys", "retire", &new_kid], &fast);
    assert_ne!(code, 0, "the signing key cannot be retired");
    assert!(stderr.contains("rotate"), "{stderr}");
    // Once the new key is older than the grace, the old one retires; until then every refusal
    // says why.
    let deadline = Deadline::after(WITHIN);
    loop {
        let (code, _, stderr) = run_cli_with(&db.url, &["keys", "retire", &first_kid], &fast);
        if code == 0 {
            break;
        }
        assert!(stderr.contains("younger than"), "{stderr}");
        deadline.retry("the old key retires").await;
    }

    // The old token is refused by the server once it has re-read the keys (its published keys
    // no longer name the old one).
    let jwks = format!("{}/.well-known/jwks.json", server.base);
    let deadline = Deadline::after(WITHIN);
    loop {
        let published: serde_json::Value = reqwest::get(&jwks).await.unwrap().json().await.unwrap();
        let kids: Vec<&str> = published["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert!(kids.contains(&new_kid.as_str()), "{published}");
        if !kids.contains(&first_kid.as_str()) {
            break;
        }
        deadline.retry("the server drops the retired key").await;
    }
    let scan = serde_json::json!({"token": ticket["token"], "gate": "g", "device": "d"});
    let answer = server.post_json(&key, "/api/v1/scans", &scan).await;
    assert_eq!(answer["outcome"], "unknown_key");
}

on_each_backend!(
    keys: keys_create_prints_a_working_key_once,
    keys_rotate_and_retire_from_the_command_line,
);

/// A CSV with good and bad rows: the good are issued, the bad reported by line; a re-run
/// issues nothing twice.
async fn import_csv_reports_bad_rows_and_is_rerunnable(app: TestApp) {
    let performance = app.create_performance(100).await;
    let mut csv = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        csv,
        "holder_name,holder_email,price_minor,currency,seat,section,locale,ref"
    )
    .unwrap();
    writeln!(csv, "Ada Lovelace,ada@example.org,4500,EUR,A1,Stalls,de,").unwrap();
    writeln!(csv, "Bob,not-an-email,4500,EUR,,,,").unwrap();
    writeln!(csv, ",nameless@example.org,4500,EUR,,,,").unwrap();
    writeln!(csv, "Cy,cy@example.org,lots,EUR,,,,").unwrap();
    writeln!(csv, "Dee,dee@example.org,3000,EUR,,,,order-7").unwrap();
    writeln!(csv, "Eve,eve@example.org,3000,EUR,,,,").unwrap();
    writeln!(csv, "Eve,eve@example.org,3000,EUR,,,,").unwrap();
    writeln!(csv, "Fay,fay@example.org,3000,EUR,,,fr,").unwrap();
    csv.flush().unwrap();
    let path = csv.path().to_str().unwrap().to_string();
    let perf = performance.to_string();

    let (code, stdout, stderr) = run_cli(&app.db.url, &["import", &path, "--performance", &perf]);
    assert_eq!(
        code, 3,
        "rejected rows give exit status 3: {stdout} {stderr}"
    );
    assert!(
        stdout.contains("8 rows: 4 issued, 0 already issued before, 4 rejected"),
        "{stdout}"
    );
    assert!(stdout.contains("line 3: holder_email"), "{stdout}");
    assert!(stdout.contains("line 4: holder_name"), "{stdout}");
    assert!(stdout.contains("line 5: price_minor"), "{stdout}");
    assert!(stdout.contains("line 9: locale"), "{stdout}");
    let count = format!("SELECT COUNT(*) AS n FROM tickets WHERE performance_id = {performance}");
    assert_eq!(
        app.db.count(&count),
        4,
        "two identical rows are two tickets"
    );

    let (code, stdout, _) = run_cli(&app.db.url, &["import", &path, "--performance", &perf]);
    assert_eq!(code, 3);
    assert!(
        stdout.contains("8 rows: 0 issued, 4 already issued before, 4 rejected"),
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
    assert_eq!(ticket["locale"], "de");
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

/// Rows issued by an earlier run take no seat in the sold-out decision, and a repeated ref is
/// refused by line rather than aborting the import.
async fn import_decides_sold_out_on_new_rows_only(app: TestApp) {
    let performance = app.create_performance(3).await;
    let perf = performance.to_string();
    let write_csv = |rows: &[&str]| {
        let mut csv = tempfile::NamedTempFile::new().unwrap();
        writeln!(csv, "holder_name,holder_email,price_minor,currency,ref").unwrap();
        for r in rows {
            writeln!(csv, "Guest,{r}@example.org,100,EUR,{r}").unwrap();
        }
        csv.flush().unwrap();
        csv
    };
    let first = write_csv(&["r1", "r2"]);
    let (code, stdout, _) = run_cli(
        &app.db.url,
        &[
            "import",
            first.path().to_str().unwrap(),
            "--performance",
            &perf,
        ],
    );
    assert_eq!(code, 0, "{stdout}");

    let second = write_csv(&["r1", "r2", "r3", "r3", "r4"]);
    let (code, stdout, _) = run_cli(
        &app.db.url,
        &[
            "import",
            second.path().to_str().unwrap(),
            "--performance",
            &perf,
        ],
    );
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("5 rows: 1 issued, 2 already issued before, 2 rejected"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 5: ref: \"r3\" repeats line 4"),
        "{stdout}"
    );
    assert!(stdout.contains("line 6: sold out"), "{stdout}");
    assert_eq!(
        app.db.count(&format!(
            "SELECT tickets_issued AS n FROM performances WHERE id = {performance}"
        )),
        3
    );
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sold_out_is_decided_on_new_rows_sqlite() {
        import_decides_sold_out_on_new_rows_only(TestApp::spawn(Backend::Sqlite).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sold_out_is_decided_on_new_rows_postgres() {
        import_decides_sold_out_on_new_rows_only(TestApp::spawn(Backend::Postgres).await).await;
    }
}

/// `encore config` prints what `encore serve` would run with: each source in its order of
/// precedence, passwords redacted, and it opens no database (this one is unreachable).
#[test]
fn config_prints_the_effective_settings_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("encore.toml");
    std::fs::write(
        &file,
        "db_pool_size = 3\nbind = \"127.0.0.1:7000\"\nsmtp_url = \"smtp://mailer:hunter2@mail.invalid:25\"\n",
    )
    .unwrap();
    let database_url = "postgres://encore:s3cret@db.invalid:5432/encore?password=n0pe";
    let (code, stdout, stderr) = run_cli_with(
        database_url,
        &["config"],
        &[
            ("ENCORE_CONFIG", file.to_str().unwrap()),
            ("ENCORE_BIND", "0.0.0.0:9000"),
            ("SMTP_URL", "smtps://relay:correct-horse@smtp.invalid:465"),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "db_pool_size = 3",        // from the file
        "bind = \"0.0.0.0:9000\"", // the environment beats the file
        "workers = 0",             // a default
        "metrics_enabled = true",
        "database_url = \"postgres://encore:***@db.invalid:5432/encore?password=***\"",
        "smtp_url = \"smtps://relay:***@smtp.invalid:465\"", // SMTP_URL beats both
        "# metrics_bind is unset",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "{line:?} missing from\n{stdout}"
        );
    }
    assert!(stdout.contains("(read)"), "{stdout}");
    for secret in ["s3cret", "n0pe", "hunter2", "correct-horse"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} leaked:\n{stdout}\n{stderr}"
        );
    }
}

/// Runs `encore serve` with a bad setting; it must stop at once. Returns what it said.
fn serve_refuses(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("DATABASE_URL", dir.path().join("encore.db"))
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start encore serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("encore serve started despite the bad setting {env:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    stderr
}

#[test]
fn a_bad_setting_stops_start_up_and_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "db_pool_sise = 4\n").unwrap();
    let unparsable = dir.path().join("unparsable.toml");
    std::fs::write(&unparsable, "bind = [\n").unwrap();
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("ENCORE_DB_POOL_SIZE", "lots")], "DB_POOL_SIZE"),
        (&[("ENCORE_DB_POOL_SIZE", "0")], "db_pool_size"),
        (&[("ENCORE_LOG_FORMAT", "xml")], "LOG_FORMAT"),
        (&[("ENCORE_METRICS_ENABLED", "maybe")], "METRICS_ENABLED"),
        (&[("ENCORE_POOL_SIZE", "4")], "pool_size"),
        (
            &[("ENCORE_CONFIG", unknown.to_str().unwrap())],
            "db_pool_sise",
        ),
    ];
    for (env, named) in cases {
        let said = serve_refuses(env);
        assert!(
            said.contains("invalid configuration") && said.contains(named),
            "{env:?} should name {named}: {said}"
        );
    }
    let said = serve_refuses(&[("ENCORE_CONFIG", unparsable.to_str().unwrap())]);
    assert!(said.contains("unparsable.toml"), "{said}");
    // `encore config` refuses the same way.
    let (code, _, said) = run_cli_with(
        "encore.db",
        &["config"],
        &[("ENCORE_MAIL_FROM", "not an address")],
    );
    assert_ne!(code, 0);
    assert!(said.contains("mail_from"), "{said}");
}
