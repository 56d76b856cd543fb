//! Secrets at rest: the signing keys are sealed in the database with the key of a key file kept
//! outside it; a database without its key file does not start; `encore keys rewrap` replaces
//! the key; and every file Encore writes is its owner's only, whatever the umask.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use encore::config::Config;
use encore::db::Db;
use encore::service::Encore;
use encore::tokens::GeneratedKey;
use serde_json::json;

use crate::helpers::{
    on_both_backends, run_cli_with, test_config, ticket_request, Backend, TestApp, TestDatabase,
};

#[derive(QueryableByName)]
struct StoredKey {
    #[diesel(sql_type = diesel::sql_types::Text)]
    kid: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    private_key: String,
}

/// (kid, private_key) of every signing key, as the database holds them.
fn stored_keys(db: &TestDatabase) -> Vec<(String, String)> {
    let sql = "SELECT kid, private_key FROM signing_keys ORDER BY kid";
    let rows: Vec<StoredKey> = match db.backend {
        Backend::Sqlite => diesel::sql_query(sql)
            .load(&mut SqliteConnection::establish(&db.url).unwrap())
            .unwrap(),
        Backend::Postgres => diesel::sql_query(sql)
            .load(&mut PgConnection::establish(&db.url).unwrap())
            .unwrap(),
    };
    rows.into_iter().map(|r| (r.kid, r.private_key)).collect()
}

/// A stored value that is a usable Ed25519 private key (PKCS#8 DER in base64, as an older
/// version stored it).
fn is_a_private_key(value: &str) -> bool {
    use base64::Engine;
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .is_ok_and(|der| ed25519_dalek::SigningKey::from_pkcs8_der(&der).is_ok())
}

/// The permission bits of `path`, in octal ("600").
fn mode(path: &Path) -> String {
    let mode = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    format!("{:o}", mode & 0o777)
}

/// What a copy of the database holds of the signing keys is sealed, and the keys still sign.
async fn the_database_alone_reveals_no_signing_key(app: TestApp) {
    let performance = app.create_performance(5).await;
    let ticket = app.issue_to(performance, "Ada", "ada@example.org").await;
    let new_kid = encore::service::signing::rotate(&app.encore).unwrap();
    let keys = stored_keys(&app.db);
    assert_eq!(keys.len(), 2);
    for (kid, private_key) in &keys {
        assert!(
            private_key.starts_with("sealed:v1:"),
            "{kid}: {private_key}"
        );
        assert!(
            !is_a_private_key(private_key),
            "{kid} is stored in plaintext"
        );
    }
    assert!(keys.iter().any(|(kid, _)| *kid == new_kid));
    let (status, scan) = app
        .scan(&app.admin_key, ticket["token"].as_str().unwrap(), "A")
        .await;
    assert_eq!(status, 200, "{scan}");
    assert_eq!(scan["outcome"], "admitted", "{scan}");
}

on_both_backends!(the_database_alone_reveals_no_signing_key);

/// A configuration whose key file is in the test's own folder.
fn config_with_key_file(db: &TestDatabase) -> Config {
    Config {
        key_file: Some(db.dir().join("encore.key").to_string_lossy().into_owned()),
        ..test_config(&db.url, &db.dir().join("mail"))
    }
}

/// A database written by an older version (its signing key in plaintext) has the key sealed
/// on the first start, once: the key keeps its id and signs; starting again changes nothing.
async fn plaintext_keys_of_an_older_version_are_sealed_on_first_start(backend: Backend) {
    let db = TestDatabase::create(backend);
    let config = config_with_key_file(&db);
    let old = GeneratedKey::generate().unwrap();
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let pool = Db::connect(&url, 2, Duration::from_secs(5)).unwrap();
        pool.migrate().unwrap();
    })
    .await
    .unwrap();
    db.execute(&format!(
        "INSERT INTO signing_keys (kid, private_key, public_key, created_at) \
         VALUES ('{}', '{}', '{}', CURRENT_TIMESTAMP)",
        old.kid, old.private_key, old.public_key
    ));
    assert!(is_a_private_key(&stored_keys(&db)[0].1));

    let start = |config: Config| async move {
        tokio::task::spawn_blocking(move || Encore::start(&config).expect("encore starts"))
            .await
            .unwrap()
    };
    let encore = start(config.clone()).await;
    let after_first = stored_keys(&db);
    assert_eq!(after_first.len(), 1, "no key added: the old one signs");
    assert_eq!(after_first[0].0, old.kid);
    assert!(after_first[0].1.starts_with("sealed:v1:"));
    assert_eq!(encore.keys.active_kid(), old.kid);
    // The sealed key is the old key: what it signs verifies with the old public key alone.
    let token = encore.keys.sign(&claims()).unwrap();
    let old_ring = encore::tokens::KeyRing::new(std::slice::from_ref(&old)).unwrap();
    assert_eq!(old_ring.verify(&token), Ok(claims()));
    drop(encore);

    let again = start(config).await;
    assert_eq!(stored_keys(&db), after_first, "sealed once");
    assert_eq!(again.keys.active_kid(), old.kid);
}

fn claims() -> encore::tokens::TicketClaims {
    encore::tokens::TicketClaims {
        ticket_id: encore::domain::ids::TicketId(1),
        performance_id: encore::domain::ids::PerformanceId(1),
        generation: 1,
        nbf: 1_700_000_000,
        exp: 1_900_000_000,
        paper: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_keys_of_an_older_version_are_sealed_on_first_start_sqlite() {
    plaintext_keys_of_an_older_version_are_sealed_on_first_start(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_keys_of_an_older_version_are_sealed_on_first_start_postgres() {
    plaintext_keys_of_an_older_version_are_sealed_on_first_start(Backend::Postgres).await
}

/// The key file named for `db` by `ENCORE_KEY_FILE`, in the test's own folder.
fn key_file_env(db: &TestDatabase) -> (String, [(&'static str, String); 1]) {
    let path = db.dir().join("encore.key").to_string_lossy().into_owned();
    (path.clone(), [("ENCORE_KEY_FILE", path)])
}

fn cli(db: &TestDatabase, env: &[(&'static str, String)], args: &[&str]) -> (i32, String, String) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_cli_with(&db.url, args, &env)
}

/// Start-up with sealed keys and no key file stops, saying which file is missing and what to
/// do; with the file back, it starts.
#[test]
fn without_its_key_file_start_up_stops_with_a_clear_error() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDatabase::create(backend);
        let (path, env) = key_file_env(&db);
        let (code, _, stderr) = cli(&db, &env, &["keys", "signing"]);
        assert_eq!(code, 0, "{backend:?}: {stderr}");
        assert_eq!(mode(Path::new(&path)), "600");
        let saved = db.dir().join("saved.key");
        std::fs::rename(&path, &saved).unwrap();

        let (code, _, stderr) = cli(&db, &env, &["keys", "signing"]);
        assert_eq!(code, 1, "{backend:?}");
        assert!(
            stderr.contains("encrypted") && stderr.contains(&format!("{path} does not exist")),
            "{backend:?}: {stderr}"
        );
        assert!(
            !Path::new(&path).exists(),
            "no new key file made over sealed keys"
        );

        std::fs::rename(&saved, &path).unwrap();
        let (code, _, stderr) = cli(&db, &env, &["keys", "signing"]);
        assert_eq!(code, 0, "{backend:?}: {stderr}");
    }
}

/// `encore keys rewrap` seals every key (retired ones too) under a new key file key: the key
/// file changes (still 0600), the old key file opens nothing, and the keys still sign.
#[test]
fn keys_rewrap_replaces_the_key_file_key() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDatabase::create(backend);
        let (path, env) = key_file_env(&db);
        assert_eq!(cli(&db, &env, &["keys", "rotate"]).0, 0);
        let before = stored_keys(&db);
        assert_eq!(before.len(), 2);
        let old_key_file = std::fs::read_to_string(&path).unwrap();

        let (code, stdout, stderr) = cli(&db, &env, &["keys", "rewrap"]);
        assert_eq!(code, 0, "{backend:?}: {stderr}");
        assert_eq!(stdout.trim(), path);
        assert_ne!(std::fs::read_to_string(&path).unwrap(), old_key_file);
        assert_eq!(mode(Path::new(&path)), "600");
        assert!(!Path::new(&format!("{path}.new")).exists());
        let after = stored_keys(&db);
        assert_eq!(after.len(), 2);
        for ((kid, old), (kid_after, new)) in before.iter().zip(&after) {
            assert_eq!(kid, kid_after);
            assert_ne!(old, new, "{kid} sealed again");
            assert!(new.starts_with("sealed:v1:"));
        }
        let (code, listing, stderr) = cli(&db, &env, &["keys", "signing"]);
        assert_eq!(code, 0, "{backend:?}: {stderr}");
        assert_eq!(listing.lines().count(), 2, "{listing}");

        let stale = db.dir().join("old.key");
        std::fs::write(&stale, old_key_file).unwrap();
        let stale_env = [("ENCORE_KEY_FILE", stale.to_string_lossy().into_owned())];
        let (code, _, stderr) = cli(&db, &stale_env, &["keys", "signing"]);
        assert_eq!(code, 1, "{backend:?}");
        assert!(stderr.contains("cannot be decrypted"), "{stderr}");
    }
}

/// Runs the real binary with `args` under umask 000 (as permissive as it gets).
fn under_umask_000(database_url: &str, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_encore"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn");
    command
}

/// Under umask 000, `encore serve` and `encore backup` create the database, its WAL and shared
/// memory, the key file, the backup, the mail folder and the `.eml` files private.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_file_encore_writes_is_private_whatever_the_umask() {
    let db = TestDatabase::create(Backend::Sqlite);
    let mail = db.dir().join("mail");
    let output = under_umask_000(
        &db.url,
        &["keys", "create", "--role", "admin", "--name", "t"],
    )
    .output()
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let key = String::from_utf8(output.stdout).unwrap().trim().to_string();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut serve = under_umask_000(&db.url, &["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("ENCORE_MAIL_DIR", &mail)
        .env("ENCORE_OUTBOX_POLL_MS", "50")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "encore serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let post = |path: String, body: serde_json::Value| {
        let request = client
            .post(format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body);
        async move {
            request
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let event = post(
        "/api/v1/events".into(),
        json!({"name": "Gala", "venue": "Hall", "time_zone": "UTC"}),
    )
    .await;
    let starts_at = chrono::Utc::now() + chrono::Duration::days(3);
    let performance = post(
        format!("/api/v1/events/{}/performances", event["id"]),
        json!({"starts_at": starts_at, "capacity": 5}),
    )
    .await;
    post(
        format!("/api/v1/performances/{}/tickets", performance["id"]),
        ticket_request("Ada", "ada@example.org"),
    )
    .await;
    let eml = loop {
        let found = std::fs::read_dir(&mail)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .find(|p| p.extension().is_some_and(|e| e == "eml"));
        if let Some(found) = found {
            break found;
        }
        assert!(Instant::now() < deadline, "no .eml was written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    let backup = db.dir().join("copy.db");
    let output = under_umask_000(&db.url, &["backup", &backup.to_string_lossy()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let _ = serve.kill();
    let _ = serve.wait();

    let files = ["encore.db", "encore.db-wal", "encore.db-shm", "encore.key"];
    for name in files {
        assert_eq!(mode(&db.dir().join(name)), "600", "{name}");
    }
    assert_eq!(mode(&backup), "600", "the backup");
    assert_eq!(mode(&eml), "600", "{}", eml.display());
    assert_eq!(mode(&mail), "700", "the mail folder");
}
