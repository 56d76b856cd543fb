//! The door's pages in headless Chromium: the scanner (`/scan`) admits, refuses a second scan,
//! keeps deciding from the offline bundle while the server is down and uploads its queue (the
//! admissions and the refusals) when it is back; the box office's dashboard (`/box-office/arrivals`) shows who came in. SQLite
//! only: the pages are the same on both backends, and the API under them is tested on both.

use std::net::TcpListener;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::browser::{artifacts_dir, find, wait_for_exact_text, wait_for_text, Chromedriver};
use crate::helpers::{
    run_cli, ticket_request, touches, Backend, ServeProcess, TestApp, TestDatabase,
};
use encore::domain::Role;

/// However a browser test goes wrong, it ends within this.
const TEST_LIMIT: Duration = Duration::from_secs(150);

/// Runs a browser test, failing it if it takes longer than `TEST_LIMIT`.
pub async fn within_limit(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("the browser test ends within TEST_LIMIT");
}

/// A new staff key with `role`, made by the CLI as an operator would.
fn cli_key(db: &TestDatabase, role: &str) -> String {
    let (code, key, err) = run_cli(&db.url, &["keys", "create", "--role", role, "--name", role]);
    assert_eq!(code, 0, "{err}");
    key.trim().to_string()
}

/// Pastes `key` into the page's key form; waits until the page has accepted it (the door
/// pages once their performance list has loaded).
pub async fn use_key(browser: &Client, key: &str) {
    find(browser, "#key").await.send_keys(key).await.unwrap();
    find(browser, "#key-save").await.click().await.unwrap();
    wait_for_text(browser, "#key-status", "key accepted").await;
}

/// Types (as a keyboard-wedge scanner or a paste would) a ticket code and checks it.
async fn enter_token(browser: &Client, token: &str) {
    find(browser, "#token")
        .await
        .send_keys(token)
        .await
        .unwrap();
    find(browser, "#check").await.click().await.unwrap();
}

pub async fn text(browser: &Client, css: &str) -> String {
    find(browser, css).await.text().await.unwrap()
}

async fn result_class(browser: &Client) -> String {
    let class = find(browser, "#result").await.attr("class").await.unwrap();
    class.unwrap_or_default()
}

/// Keeps a picture of the top of the page in the test-artifacts folder.
pub async fn screenshot(browser: &Client, name: &str) {
    browser
        .execute("window.scrollTo(0, 0)", vec![])
        .await
        .unwrap();
    let png = browser.screenshot().await.unwrap();
    std::fs::write(artifacts_dir().join(name), png).unwrap();
}

/// Waits until the offline list the page holds is at `version`.
async fn wait_for_bundle_version(browser: &Client, version: &str) {
    let deadline = std::time::Instant::now() + crate::browser::WAIT;
    loop {
        let held = find(browser, "#bundle")
            .await
            .attr("data-version")
            .await
            .unwrap();
        if held.as_deref() == Some(version) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the offline list is at version {held:?}, not {version}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get_json(client: &reqwest::Client, base: &str, path: &str, key: &str) -> Value {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("GET");
    response.json().await.expect("a JSON answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scanner_admits_refuses_and_keeps_admitting_offline() {
    within_limit(scanner_admits_refuses_and_keeps_admitting_offline()).await;
}

async fn scanner_admits_refuses_and_keeps_admitting_offline() {
    let db = TestDatabase::create(Backend::Sqlite);
    let admin = cli_key(&db, "admin");
    let scanner = cli_key(&db, "scanner");
    // The server is stopped and started again on the same address: the page keeps its origin.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = ServeProcess::start_on(&db.url, port, &[]).await;
    let base = server.base.clone();
    // Four hours ahead: inside the scan window, and before the cut-off for an exchange.
    let event = server
        .post_json(
            &admin,
            "/api/v1/events",
            &json!({"name": "Gala", "venue": "Hall", "time_zone": "UTC"}),
        )
        .await;
    let starts_at = chrono::Utc::now() + chrono::Duration::hours(4);
    let performance = server
        .post_json(
            &admin,
            &format!("/api/v1/events/{}/performances", event["id"]),
            &json!({"starts_at": starts_at, "capacity": 10}),
        )
        .await;
    let performance = performance["id"].as_i64().expect("a performance id");
    let tickets_path = format!("/api/v1/performances/{performance}/tickets");
    let mut tickets = Vec::new();
    for (name, email) in [
        ("Ada Lovelace", "ada@example.org"),
        ("Grace Hopper", "grace@example.org"),
        ("Alan Turing", "alan@example.org"),
        ("Mary Shelley", "mary@example.org"),
    ] {
        let ticket = server
            .post_json(&admin, &tickets_path, &ticket_request(name, email))
            .await;
        tickets.push(ticket);
    }
    let token = |i: usize| tickets[i]["token"].as_str().unwrap().to_string();
    let (ada, grace, alan, mary) = (token(0), token(1), token(2), token(3));
    let ticket_id = |i: usize| tickets[i]["id"].as_i64().unwrap();
    let (ada_id, grace_id, alan_id, mary_id) =
        (ticket_id(0), ticket_id(1), ticket_id(2), ticket_id(3));
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser.goto(&format!("{base}/scan")).await.unwrap();
    use_key(&browser, &scanner).await;
    let gate = find(&browser, "#gate").await;
    gate.clear().await.unwrap();
    gate.send_keys("north").await.unwrap();

    // Ada's code admits: big green with her name.
    enter_token(&browser, &ada).await;
    wait_for_text(&browser, "#result-holder", "Ada Lovelace").await;
    assert_eq!(text(&browser, "#result-title").await, "Admitted");
    assert!(result_class(&browser).await.contains("admitted"));
    assert_eq!(text(&browser, "#result-mode").await, "");
    screenshot(&browser, "scanner-page-admitted.png").await;

    // The same code again: red, "already admitted", at the north gate.
    enter_token(&browser, &ada).await;
    wait_for_text(&browser, "#result-title", "already admitted").await;
    assert!(result_class(&browser).await.contains("refused"));
    let detail = text(&browser, "#result-detail").await;
    assert!(detail.contains("gate north"), "{detail}");

    // The offline bundle arrives as soon as the performance is chosen, and the page is kept.
    wait_for_text(&browser, "#bundle", "tickets, updated").await;
    wait_for_text(&browser, "#page-kept", "kept for offline use").await;

    // Alan exchanges his ticket for credit: its code still has a good signature, and the
    // page's next refresh of the bundle (`?since=`) learns that it must refuse it.
    let receipt = server
        .post_json(
            &admin,
            &format!("/api/v1/tickets/{}/exchange", tickets[2]["id"]),
            &json!({"into": "credit"}),
        )
        .await;
    assert_eq!(receipt["credited_minor"], 4500, "{receipt}");
    let bundle = get_json(
        &reqwest::Client::new(),
        &base,
        &format!("/api/v1/performances/{performance}/offline-bundle"),
        &scanner,
    )
    .await;
    // The list in words for the door; its version is kept where only a test looks.
    let version = bundle["version"].to_string();
    wait_for_bundle_version(&browser, &version).await;
    wait_for_text(&browser, "#bundle", "3 tickets, updated").await;

    // The server goes away, and the phone reloads the page: it comes from the kept copy, with
    // the key, the performance and the bundle this browser holds.
    drop(server);
    browser.refresh().await.unwrap();
    wait_for_text(&browser, "#key-status", "cannot be reached").await;
    wait_for_text(&browser, "#bundle", "tickets, updated").await;
    assert_eq!(text(&browser, "#queue").await, "0");

    // Grace's code is decided from the bundle (its signature checked in the browser), and
    // queued.
    enter_token(&browser, &grace).await;
    wait_for_text(&browser, "#result-mode", "offline").await;
    assert_eq!(text(&browser, "#result-title").await, "Admitted");
    assert!(result_class(&browser).await.contains("admitted"));
    // Named from the offline list.
    assert_eq!(text(&browser, "#result-holder").await, "Grace Hopper");
    wait_for_exact_text(&browser, "#queue", "1").await;
    wait_for_text(&browser, "#network", "offline").await;
    screenshot(&browser, "scanner-page-offline.png").await;

    // Offline refusals: Ada is in (this device admitted her), Alan's ticket was exchanged, a
    // code with a forged signature is not a ticket, and neither is some text. Each is queued
    // with the reason the page gave, for the server to record.
    enter_token(&browser, &ada).await;
    wait_for_text(&browser, "#result-title", "already admitted").await;
    assert_eq!(
        text(&browser, "#result-mode").await.to_lowercase(),
        "offline"
    );
    enter_token(&browser, &alan).await;
    wait_for_text(&browser, "#result-title", "exchanged").await;
    assert!(result_class(&browser).await.contains("refused"));
    let mut forged = grace.clone().into_bytes();
    let middle = forged.len() - 20; // inside the signature, whose every bit counts there
    forged[middle] = if forged[middle] == b'A' { b'B' } else { b'A' };
    enter_token(&browser, &String::from_utf8(forged).unwrap()).await;
    wait_for_text(&browser, "#result-title", "not a genuine ticket").await;
    enter_token(&browser, "not-a-ticket").await;
    wait_for_text(&browser, "#result-title", "not a ticket code").await;
    // A device that lost its offline list turns away even Mary, whose ticket is valid.
    browser
        .execute(
            &format!("localStorage.removeItem('encore.scanner.bundle.{performance}')"),
            vec![],
        )
        .await
        .unwrap();
    enter_token(&browser, &mary).await;
    wait_for_text(&browser, "#result-title", "cannot check offline").await;
    assert_eq!(text(&browser, "#queue").await, "6");

    // The server is back: the queue is uploaded by itself and Grace is on record as admitted,
    // at the gate and about the time she came in; the five refusals are recorded, none of
    // them an admission, Mary's as one the server would have admitted.
    let server = ServeProcess::start_on(&db.url, port, &[]).await;
    wait_for_exact_text(&browser, "#queue", "0").await;
    wait_for_text(
        &browser,
        "#upload-status",
        "1 admitted; 5 refusals recorded (1 valid when refused).",
    )
    .await;
    let client = reqwest::Client::new();
    let grace_now = get_json(
        &client,
        &server.base,
        &format!("/api/v1/tickets/{grace_id}"),
        &admin,
    )
    .await;
    assert!(grace_now["admitted_at"].is_string(), "{grace_now}");
    assert_eq!(grace_now["admitted_gate"], "north", "{grace_now}");
    let arrivals = get_json(
        &client,
        &server.base,
        &format!("/api/v1/performances/{performance}/arrivals"),
        &admin,
    )
    .await;
    assert_eq!(arrivals["admitted"], 2, "{arrivals}");
    assert_eq!(
        arrivals["attempts_by_outcome"],
        json!({"admitted": 2, "already_admitted": 2, "exchanged": 1, "refused_offline": 1}),
        "Ada online twice and offline once, Grace, Alan, Mary: {arrivals}"
    );
    let scans = |history: &Value| -> Vec<(String, String)> {
        touches(history, "scan")
            .into_iter()
            .map(|t| {
                let d = &t["detail"];
                (
                    d["outcome"].as_str().unwrap().into(),
                    d["gate"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let history = |id: i64| {
        let (client, base, admin) = (&client, &server.base, &admin);
        async move {
            get_json(
                client,
                base,
                &format!("/api/v1/tickets/{id}/history"),
                admin,
            )
            .await
        }
    };
    let strings = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        scans(&history(alan_id).await),
        strings(&[("exchanged", "north")])
    );
    assert_eq!(
        scans(&history(mary_id).await),
        strings(&[("refused_offline", "north")])
    );
    assert_eq!(
        scans(&history(ada_id).await),
        strings(&[
            ("admitted", "north"),
            ("already_admitted", "north"),
            ("already_admitted", "north"),
        ])
    );
    // The codes that name no ticket are recorded too.
    for outcome in ["invalid_signature", "malformed"] {
        let recorded = db.count(&format!(
            "SELECT COUNT(*) AS n FROM arrival_events WHERE outcome = '{outcome}' \
             AND ticket_id IS NULL AND upload_key IS NOT NULL"
        ));
        assert_eq!(recorded, 1, "{outcome}");
    }
    // Online again, the page asks the server: Grace is already in.
    enter_token(&browser, &grace).await;
    wait_for_text(&browser, "#result-title", "already admitted").await;
    assert_eq!(text(&browser, "#result-mode").await, "");
    // Mary was turned away, not admitted: now she is.
    enter_token(&browser, &mary).await;
    wait_for_text(&browser, "#result-holder", "Mary Shelley").await;
    assert_eq!(text(&browser, "#result-title").await, "Admitted");

    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_arrivals_dashboard_counts_admissions_per_gate() {
    within_limit(arrivals_dashboard_counts_admissions_per_gate()).await;
}

async fn arrivals_dashboard_counts_admissions_per_gate() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let performance = app.create_performance(50).await;
    let tickets = app.issue_bulk(performance, 4).await;
    let scanner = app.key(Role::Scanner);
    for (ticket, gate) in tickets.iter().zip(["north", "north", "south"]) {
        let (_, body) = app
            .scan(&scanner, ticket["token"].as_str().unwrap(), gate)
            .await;
        assert_eq!(body["outcome"], "admitted", "{body}");
    }

    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser
        .goto(&app.url("/box-office/arrivals"))
        .await
        .unwrap();
    use_key(&browser, &app.key(Role::BoxOffice)).await;
    wait_for_exact_text(&browser, "#admitted", "3").await;
    assert_eq!(text(&browser, "#capacity").await, "50");
    wait_for_exact_text(&browser, "#gates tr[data-gate=north] td:last-child", "2").await;
    wait_for_exact_text(&browser, "#gates tr[data-gate=south] td:last-child", "1").await;
    // The chart: a bar for the minute of arrivals, the admitted line, the capacity line.
    let bars = browser
        .find_all(Locator::Css("#chart rect.bar"))
        .await
        .unwrap();
    assert!(!bars.is_empty(), "a bar per minute with arrivals");
    find(&browser, "#chart path.cumulative").await;
    find(&browser, "#chart line.capacity").await;

    // A fourth arrival shows up by itself, within a refresh.
    let (_, body) = app
        .scan(&scanner, tickets[3]["token"].as_str().unwrap(), "south")
        .await;
    assert_eq!(body["outcome"], "admitted", "{body}");
    wait_for_exact_text(&browser, "#admitted", "4").await;
    wait_for_exact_text(&browser, "#gates tr[data-gate=south] td:last-child", "2").await;
    let conflicts_shown = find(&browser, "#conflicts").await.is_displayed().await;
    assert!(!conflicts_shown.unwrap(), "no conflict yet");

    // The same ticket comes in offline through another gate: the upload is a conflict, and
    // the dashboard says so.
    let upload = app
        .post(
            "/api/v1/scans/batch",
            &scanner,
            &json!({"device": "phone-west", "scans": [{
                "token": tickets[3]["token"],
                "gate": "west",
                "scanned_at": chrono::Utc::now(),
            }]}),
        )
        .await;
    let upload: Value = upload.json().await.unwrap();
    assert_eq!(upload["conflicts"], 1, "{upload}");
    wait_for_text(
        &browser,
        "#conflicts",
        "1 ticket(s) admitted offline at two gates",
    )
    .await;
    assert_eq!(text(&browser, "#admitted").await, "4");
    screenshot(&browser, "arrivals-dashboard.png").await;

    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_door_pages_allow_only_their_own_scripts() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for page in ["/scan", "/box-office/arrivals", "/box-office/patron"] {
        let response = app.client.get(app.url(page)).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{page}");
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        // Each directive whole: `script-src 'self' 'unsafe-inline'` contains "script-src 'self'".
        let directive = |name: &str| -> Vec<&str> {
            let mut matching = policy
                .split(';')
                .map(|d| d.split_whitespace().collect::<Vec<_>>())
                .filter(|d| d.first() == Some(&name));
            let found = matching.next().unwrap_or_default();
            assert!(matching.next().is_none(), "{name} twice in {policy}");
            found
        };
        assert_eq!(
            directive("default-src"),
            ["default-src", "'none'"],
            "{policy}"
        );
        // The scanner may compile WebAssembly (its QR decoder), still from this origin only.
        let scripts: &[&str] = if page == "/scan" {
            &["script-src", "'self'", "'wasm-unsafe-eval'"]
        } else {
            &["script-src", "'self'"]
        };
        assert_eq!(directive("script-src"), scripts, "{policy}");
        assert_eq!(
            directive("connect-src"),
            ["connect-src", "'self'"],
            "{policy}"
        );
        assert_eq!(response.headers()["cache-control"], "no-store");
        let html = response.text().await.unwrap();
        assert!(!html.contains("<script>"), "no inline script on {page}");
    }
    for script in [
        "/assets/door.js",
        "/assets/scan.js",
        "/assets/arrivals.js",
        "/assets/journey.js",
        "/scan-sw.js",
    ] {
        let response = app.client.get(app.url(script)).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{script}");
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
    }
}
