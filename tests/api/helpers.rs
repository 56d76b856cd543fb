//! The test harness: a real Encore server on a random port, over a real database — a fresh
//! SQLite file, or a fresh PostgreSQL database on the server at `TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`). PostgreSQL tests fail, never skip,
//! when it cannot be reached.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use encore::config::Config;
use encore::domain::ids::TicketId;
use encore::domain::Role;
use encore::service::{staff, Encore};
use encore::tokens::{LinkClaims, LinkPurpose};
use encore::worker::Worker;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each named `async fn(TestApp)` of the module:
/// `the_test` runs as `sqlite::the_test` and `postgres::the_test`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await).await
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

/// As `on_both_backends!`, for tests that start what they need themselves (a server with its
/// own settings, the `encore` binary) from an `async fn(Backend)`, in a module `module`:
/// `the_test` runs as `module::sqlite::the_test` and `module::postgres::the_test`.
macro_rules! on_each_backend {
    ($module:ident: $($name:ident),* $(,)?) => {
        mod $module {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        super::super::$name($crate::helpers::Backend::Sqlite).await
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        super::super::$name($crate::helpers::Backend::Postgres).await
                    }
                )*
            }
        }
    };
}
pub(crate) use on_each_backend;

pub fn postgres_server_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own for one test, dropped afterwards.
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    pg_name: Option<String>,
    temp: tempfile::TempDir,
}

impl TestDatabase {
    pub fn create(backend: Backend) -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temporary directory");
        match backend {
            Backend::Sqlite => TestDatabase {
                backend,
                url: dir.path().join("encore.db").to_string_lossy().into_owned(),
                pg_name: None,
                temp: dir,
            },
            Backend::Postgres => {
                let server = postgres_server_url();
                let mut admin = PgConnection::establish(&server).unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is required by the postgres tests and cannot be reached at {server}: {e}. \
                         Start it, or point TEST_POSTGRES_URL at a server (.ci/run does both)."
                    )
                });
                let mut random = [0u8; 8];
                getrandom::fill(&mut random).expect("randomness");
                let name = format!("encore_test_{}", hex::encode(random));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("CREATE DATABASE");
                let base = server
                    .rsplit_once('/')
                    .map_or(server.as_str(), |(base, _)| base);
                TestDatabase {
                    backend,
                    url: format!("{base}/{name}"),
                    pg_name: Some(name),
                    temp: dir,
                }
            }
        }
    }

    /// The test's own temporary folder.
    pub fn dir(&self) -> &std::path::Path {
        self.temp.path()
    }

    /// Runs SQL against the test database directly, for checks the API does not expose.
    pub fn execute(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let mut c = diesel::SqliteConnection::establish(&self.url).expect("open sqlite");
                diesel::sql_query("PRAGMA busy_timeout = 5000")
                    .execute(&mut c)
                    .unwrap();
                diesel::sql_query(sql).execute(&mut c).expect(sql);
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.url).expect("open postgres");
                diesel::sql_query(sql).execute(&mut c).expect(sql);
            }
        }
    }

    /// A single number from a `SELECT COUNT(*) AS n …`-style query.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<N> = match self.backend {
            Backend::Sqlite => {
                let mut c = diesel::SqliteConnection::establish(&self.url).expect("open sqlite");
                diesel::sql_query(sql).load(&mut c).expect(sql)
            }
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.url).expect("open postgres");
                diesel::sql_query(sql).load(&mut c).expect(sql)
            }
        };
        rows.first().map(|r| r.n).expect("one row")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            if let Ok(mut admin) = PgConnection::establish(&postgres_server_url()) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// Settings for a test: quick retries and short leases, so failure paths run in seconds.
pub fn test_config(database_url: &str, mail_dir: &std::path::Path) -> Config {
    Config {
        database_url: database_url.to_string(),
        bind: "127.0.0.1:0".into(),
        workers: 2,
        db_pool_size: 8,
        mail_dir: mail_dir.to_string_lossy().into_owned(),
        email_retry_base_ms: 50,
        email_lease_seconds: 2,
        // A send starts only when the lease covers its longest time: these fit in the lease.
        smtp_pool_wait_ms: 250,
        smtp_send_timeout_ms: 750,
        outbox_poll_ms: 50,
        send_concurrency: 4,
        api_key_cache_seconds: 1,
        ..Config::default()
    }
}

/// A worker loop running in the background (`TestApp::run_worker`); stopped on drop.
pub struct RunningWorker(tokio::task::JoinHandle<()>);

impl Drop for RunningWorker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running Encore with an admin key.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub encore: Encore,
    pub db: TestDatabase,
    pub config: Config,
    pub admin_key: String,
    server: ServerHandle,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with settings adjusted by `configure` (e.g. an SMTP server to send through).
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
        let db = TestDatabase::create(backend);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut config = test_config(&db.url, &db.dir().join("mail"));
        // Links in emails lead back to this server.
        config.public_base_url = base.clone();
        configure(&mut config);
        let encore = tokio::task::spawn_blocking({
            let config = config.clone();
            move || Encore::start(&config).expect("encore starts")
        })
        .await
        .unwrap();
        let server = encore::http::server(encore.clone(), &config, listener).expect("server");
        let handle = server.handle();
        tokio::spawn(server);
        let mut app = TestApp {
            base,
            client: reqwest::Client::new(),
            encore,
            db,
            config,
            admin_key: String::new(),
            server: handle,
        };
        app.admin_key = app.key(Role::Admin);
        app
    }

    /// Stops the server for good (not gracefully): its port no longer answers, as when a
    /// phone loses its signal. The database and `encore` stay usable.
    pub async fn stop_server(&self) {
        self.server.stop(false).await;
    }

    /// The email worker, as `encore serve` runs it; tests drive its rounds themselves.
    pub fn worker(&self) -> Worker {
        Worker::from_config(self.encore.clone(), &self.config).expect("worker")
    }

    /// The email worker's own loop, running as under `encore serve`, with its periodic checks
    /// (due reminders, expired transfer offers) every `reminder_check_seconds`; it stops when
    /// the returned guard is dropped.
    pub fn run_worker(&self, reminder_check_seconds: u64) -> RunningWorker {
        let config = Config {
            reminder_check_seconds,
            ..self.config.clone()
        };
        let worker = Worker::from_config(self.encore.clone(), &config).expect("worker");
        RunningWorker(tokio::spawn(worker.run(self.encore.outbox_wakeup.clone())))
    }

    /// A friend claims the offer of `ticket_id` (at `generation`) through the claim link, as
    /// the offer email gives it; the friend's new ticket.
    pub async fn claim(&self, ticket_id: i64, generation: i32) -> Value {
        let link = self
            .encore
            .keys
            .sign(&LinkClaims {
                ticket_id: TicketId(ticket_id),
                generation,
                purpose: LinkPurpose::Claim,
                exp: (Utc::now() + chrono::Duration::hours(1)).timestamp(),
            })
            .unwrap();
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(self.url(&format!("/claim/{link}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let new_id = self.db.count(&format!(
            "SELECT claimed_ticket_id AS n FROM transfers WHERE ticket_id = {ticket_id}"
        ));
        self.get_json(&format!("/api/v1/tickets/{new_id}"), &self.admin_key)
            .await
    }

    /// A patron link's token for `ticket_id` at `generation`, made for `purpose`, good for two
    /// days (as the emails give them).
    pub fn patron_link(&self, ticket_id: i64, generation: i32, purpose: LinkPurpose) -> String {
        self.encore
            .keys
            .sign(&LinkClaims {
                ticket_id: TicketId(ticket_id),
                generation,
                purpose,
                exp: (Utc::now() + chrono::Duration::days(2)).timestamp(),
            })
            .unwrap()
    }

    /// The JWT an earlier version of Encore issued for the same code as `token` (a compact
    /// code): its claims, signed with the same keys as that version did.
    pub fn old_jwt(&self, token: &str) -> String {
        let claims = self.encore.keys.verify(token).expect("a genuine code");
        self.encore.keys.sign(&claims).unwrap()
    }

    /// The ticket page's link token of `ticket` (an API answer), as its confirmation gives it.
    pub fn view_token(&self, ticket: &Value) -> String {
        let generation = ticket["generation"].as_i64().unwrap_or(1) as i32;
        self.patron_link(
            ticket["id"].as_i64().unwrap(),
            generation,
            LinkPurpose::View,
        )
    }

    /// A new staff key with `role`, created the way `encore keys create` does.
    pub fn key(&self, role: Role) -> String {
        staff::create_key(&self.encore.db, "test", role)
            .expect("create key")
            .1
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, key: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("GET")
    }

    /// GET, expecting JSON back.
    pub async fn get_json(&self, path: &str, key: &str) -> Value {
        self.get(path, key).await.json().await.expect("a JSON body")
    }

    /// The published public keys (no API key needed).
    pub async fn jwks(&self) -> Value {
        let response = self
            .client
            .get(self.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap();
        response.json().await.expect("a JSON body")
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// POSTs as the admin, asserts the answer's status, and returns its body.
    pub async fn post_expecting(&self, path: &str, body: &Value, expected: StatusCode) -> Value {
        let response = self.post(path, &self.admin_key, body).await;
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON answer");
        assert_eq!(status, expected, "POST {path}: {body}");
        body
    }

    pub async fn create_event(&self) -> i64 {
        let response = self
            .post(
                "/api/v1/events",
                &self.admin_key,
                &json!({"name": "Hamlet", "venue": "The Globe", "time_zone": "Europe/London"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// A performance of a new event starting at `starts_at`.
    pub async fn create_performance_at(&self, starts_at: DateTime<Utc>, capacity: i64) -> i64 {
        let event = self.create_event().await;
        let response = self
            .post(
                &format!("/api/v1/events/{event}/performances"),
                &self.admin_key,
                &json!({"starts_at": starts_at, "capacity": capacity}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// A performance starting in an hour: its tickets admit now.
    pub async fn create_performance(&self, capacity: i64) -> i64 {
        self.create_performance_at(Utc::now() + chrono::Duration::hours(1), capacity)
            .await
    }

    pub async fn issue_ticket(&self, performance: i64) -> Value {
        self.issue_to(performance, "Ada Lovelace", "ada@example.org")
            .await
    }

    /// Issues one ticket for `name` at `email`; the ticket with its token.
    pub async fn issue_to(&self, performance: i64, name: &str, email: &str) -> Value {
        let response = self
            .post(
                &format!("/api/v1/performances/{performance}/tickets"),
                &self.admin_key,
                &ticket_request(name, email),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    pub async fn issue_bulk(&self, performance: i64, count: usize) -> Vec<Value> {
        let tickets: Vec<Value> = (0..count)
            .map(|i| ticket_request(&format!("Guest {i}"), &format!("guest{i}@example.org")))
            .collect();
        let response = self
            .post(
                &format!("/api/v1/performances/{performance}/tickets/bulk"),
                &self.admin_key,
                &json!({ "tickets": tickets }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["tickets"].as_array().unwrap().clone()
    }

    /// Scans `token` at `gate`; returns the status and the body.
    pub async fn scan(&self, key: &str, token: &str, gate: &str) -> (StatusCode, Value) {
        self.scan_with(
            key,
            &json!({"token": token, "gate": gate, "device": "test-device"}),
        )
        .await
    }

    pub async fn scan_with(&self, key: &str, body: &Value) -> (StatusCode, Value) {
        let response = self.post("/api/v1/scans", key, body).await;
        let status = response.status();
        (status, response.json().await.unwrap())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // stop() sends its command at once; the returned future only waits for completion.
        drop(self.server.stop(false));
    }
}

/// The touches of one kind (`"scan"`, `"canceled"`…) in the `timeline` of a ticket's history or
/// a patron's page, oldest first.
pub fn touches<'a>(journey: &'a Value, what: &str) -> Vec<&'a Value> {
    journey["timeline"]
        .as_array()
        .expect("a journey has a timeline")
        .iter()
        .filter(|t| t["what"] == what)
        .collect()
}

/// The published key (of `keys`, a JWKS's `keys`) that a ticket code names: the JWT's `kid`,
/// or the key whose hint a compact code carries.
pub fn signing_jwk<'a>(token: &str, keys: &'a Value) -> &'a Value {
    use base64::Engine;
    use encore::tokens::compact::{key_hint, Decoded};
    let keys = keys.as_array().expect("a list of keys");
    if let Ok(code) = Decoded::parse(token) {
        keys.iter()
            .find(|k| {
                let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(k["x"].as_str().unwrap())
                    .unwrap();
                key_hint(&x) == code.hint()
            })
            .expect("the code's key is published")
    } else {
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        keys.iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the token's key is published")
    }
}

/// The claims of a ticket code — compact or JWT — checked with nothing but the published keys
/// `keys` (a JWKS's `keys`), as an offline scanner does: `tid`, `pid`, `gen`, `nbf`, `exp`
/// (and `paper` when it is one). Panics unless the signature verifies.
pub fn verify_with_published_keys(token: &str, keys: &Value) -> Value {
    use base64::Engine;
    use encore::tokens::compact::Decoded;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let jwk = signing_jwk(token, keys);
    assert_eq!(
        (
            jwk["kty"].as_str(),
            jwk["crv"].as_str(),
            jwk["alg"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    match Decoded::parse(token) {
        Ok(code) => {
            let signature =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(code.signature());
            let genuine = jsonwebtoken::crypto::verify(
                &signature,
                code.signing_input(),
                &key,
                Algorithm::EdDSA,
            )
            .unwrap();
            assert!(genuine, "a genuine signature: {token}");
            serde_json::to_value(code.claims().unwrap()).unwrap()
        }
        Err(_) => {
            let mut validation = Validation::new(Algorithm::EdDSA);
            validation.validate_exp = false;
            validation.required_spec_claims.clear();
            jsonwebtoken::decode::<Value>(token, &key, &validation)
                .expect("a genuine signature")
                .claims
        }
    }
}

pub fn ticket_request(name: &str, email: &str) -> Value {
    json!({"holder_name": name, "holder_email": email, "price_minor": 4500, "currency": "EUR"})
}

/// An `encore serve` process of the real binary, stopped (SIGKILL) when dropped.
pub struct ServeProcess {
    pub base: String,
    child: Child,
}

impl ServeProcess {
    pub async fn start(database_url: &str) -> ServeProcess {
        Self::start_with(database_url, &[]).await
    }

    /// With extra environment settings. The email worker is off unless `env` turns it on.
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> ServeProcess {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(database_url, port, env).await
    }

    /// On a given loopback port: a server stopped and started again keeps its address (a
    /// browser's page and storage stay with it).
    pub async fn start_on(database_url: &str, port: u16, env: &[(&str, &str)]) -> ServeProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_encore"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .env("ENCORE_WORKERS", "2")
            .env("ENCORE_RUN_WORKER", "false")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start encore serve");
        let process = ServeProcess {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{}/readyz", process.base)).send().await {
                if r.status().is_success() {
                    return process;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("encore serve did not become ready at {}", process.base);
    }

    /// POSTs `body` to this process with the staff `key`; the answer's JSON.
    pub async fn post_json(&self, key: &str, path: &str, body: &Value) -> Value {
        reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("a JSON answer")
    }

    /// GETs `path` from this process with the staff `key`; the answer's JSON.
    pub async fn get_json(&self, key: &str, path: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("a JSON answer")
    }

    /// A performance of a new event, starting in an hour (its tickets admit now); its id.
    pub async fn create_performance(&self, key: &str, capacity: i64) -> i64 {
        let event = self
            .post_json(
                key,
                "/api/v1/events",
                &json!({"name": "Gala", "venue": "Hall", "time_zone": "UTC"}),
            )
            .await;
        let starts_at = Utc::now() + chrono::Duration::hours(1);
        let performance = self
            .post_json(
                key,
                &format!("/api/v1/events/{}/performances", event["id"]),
                &json!({"starts_at": starts_at, "capacity": capacity}),
            )
            .await;
        performance["id"].as_i64().expect("a performance id")
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the real `encore` binary with `args` against a database; returns (status, stdout, stderr).
pub fn run_cli(database_url: &str, args: &[&str]) -> (i32, String, String) {
    run_cli_with(database_url, args, &[])
}

pub fn run_cli_with(
    database_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("run encore");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A wait with an end, for "the server has caught up" loops (never a fixed sleep): check, and if
/// not yet, `retry(what)`, which pauses briefly or, once `within` has passed, panics with `what`.
pub struct Deadline {
    at: std::time::Instant,
    within: Duration,
}

impl Deadline {
    pub fn after(within: Duration) -> Deadline {
        Deadline {
            at: std::time::Instant::now() + within,
            within,
        }
    }

    pub async fn retry(&self, what: &str) {
        assert!(
            std::time::Instant::now() < self.at,
            "{what}: not within {:?}",
            self.within
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
