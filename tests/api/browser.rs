//! The patron pages in a real browser: headless Chromium at phone width, driven over WebDriver,
//! follows the links in the emails — Ada opens her ticket and offers it to Grace, Grace claims it
//! — and then the doors admit only Grace's new ticket. SQLite only: the pages are the same on
//! both backends, and the services under them are tested on both elsewhere.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use encore::domain::Role;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::StatusCode;
use rustix::process::{self, Pid, Signal};
use serde_json::{json, Value};

use crate::helpers::{Backend, TestApp};
use crate::smtp::SmtpServer;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const WAIT: Duration = Duration::from_secs(15);

/// A chromedriver on a free loopback port. It runs in a process group of its own, with the
/// Chromium it starts, so dropping it (even when a test panics) kills the browser too: killing
/// chromedriver alone leaves Chromium running. Their temporary files (the browser profile among
/// them) go to a folder of the test's own, removed afterwards.
pub struct Chromedriver {
    url: String,
    child: Child,
    _temp: tempfile::TempDir,
}

impl Chromedriver {
    pub async fn start() -> Chromedriver {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: the browser test needs Debian's chromium and chromium-driver \
                 packages (.ci/run installs them)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let temp = tempfile::tempdir().expect("a temporary directory");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("TMPDIR", temp.path())
            .process_group(0)
            .stdout(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut driver = Chromedriver {
            url: format!("http://127.0.0.1:{port}"),
            child,
            _temp: temp,
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(status) = client.get(format!("{}/status", driver.url)).send().await {
                if status
                    .json::<Value>()
                    .await
                    .is_ok_and(|s| s["value"]["ready"] == true)
                {
                    return driver;
                }
            }
            if let Ok(Some(exit)) = driver.child.try_wait() {
                panic!("chromedriver exited at start: {exit}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromedriver did not become ready at {}", driver.url);
    }

    /// A headless Chromium the size of a phone screen.
    pub async fn browser(&self) -> Client {
        self.browser_with(&[]).await
    }

    /// The phone-sized Chromium with more command-line switches (a fake camera, …).
    pub async fn browser_with(&self, switches: &[String]) -> Client {
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--window-size=390,844".into(),
        ];
        args.extend_from_slice(switches);
        let options = json!({
            "binary": CHROMIUM,
            "args": args,
            // A window is never narrower than 500 px, even headless: the page gets a phone's
            // viewport from device emulation.
            "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0}},
        });
        self.session(options).await
    }

    /// A headless Chromium the size of a box-office desk's screen.
    pub async fn desktop_browser(&self) -> Client {
        let options = json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"],
        });
        self.session(options).await
    }

    async fn session(&self, options: Value) -> Client {
        let capabilities = serde_json::Map::from_iter([("goog:chromeOptions".into(), options)]);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (process_group(0)).
        let group = Pid::from_child(&self.child);
        let _ = process::kill_process_group(group, Signal::KILL);
        let _ = self.child.wait();
    }
}

/// Where test output worth looking at goes: `test-artifacts` in the target folder.
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create the test-artifacts folder");
    dir
}

/// The first link starting with `prefix` in the text part of an email to `to`, among the
/// messages after the first `seen`; waits for it to arrive.
async fn link_in_email(smtp: &SmtpServer, seen: usize, to: &str, prefix: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        for message in smtp.messages().iter().skip(seen) {
            if !message.to.iter().any(|recipient| recipient == to) {
                continue;
            }
            let text = message
                .parsed()
                .body_text(0)
                .unwrap_or_default()
                .into_owned();
            if let Some(start) = text.find(prefix) {
                return text[start..].split_whitespace().next().unwrap().to_string();
            }
        }
        assert!(
            Instant::now() < deadline,
            "no email to {to} with a link starting {prefix}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the element at `css` shows `needle` (case-insensitive): after a click the browser
/// may still be on the old page, or loading the new one.
pub async fn wait_for_text(browser: &Client, css: &str, needle: &str) {
    let needle_lower = needle.to_lowercase();
    wait_until_text(browser, css, needle, |text| {
        text.to_lowercase().contains(&needle_lower)
    })
    .await;
}

/// Waits until the element's whole text (trimmed) is `expected`: for counts, where `"3"` must
/// not be satisfied by `"13"`.
pub async fn wait_for_exact_text(browser: &Client, css: &str, expected: &str) {
    wait_until_text(browser, css, &format!("exactly {expected:?}"), |text| {
        text.trim() == expected
    })
    .await;
}

async fn wait_until_text(browser: &Client, css: &str, wanted: &str, done: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(element) = browser.find(Locator::Css(css)).await {
            if let Ok(text) = element.text().await {
                if done(&text) {
                    return;
                }
            }
        }
        if Instant::now() >= deadline {
            let url = browser.current_url().await.map(String::from);
            let source = browser.source().await.unwrap_or_default();
            panic!("{css} never showed {wanted}; at {url:?} the page is:\n{source}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn find(browser: &Client, css: &str) -> Element {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} is on the page: {e}"))
}

/// The ticket id a ticket page is about.
async fn ticket_id_on_page(browser: &Client) -> i64 {
    let id = find(browser, "#ticket-ref")
        .await
        .attr("data-ticket-id")
        .await
        .unwrap();
    id.expect("#ticket-ref has data-ticket-id")
        .parse()
        .expect("a numeric ticket id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patron_offers_her_ticket_and_her_friend_claims_it() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(Backend::Sqlite, move |c| c.smtp_url = Some(url)).await;
    // Four hours ahead: before the two-hour cut-off for changes, and inside the scan window.
    let performance = app
        .create_performance_at(chrono::Utc::now() + chrono::Duration::hours(4), 10)
        .await;
    let ada_ticket = app.issue_ticket(performance).await; // Ada Lovelace, for Hamlet
    app.worker().deliver_due().await.unwrap();
    let ada_page = link_in_email(&smtp, 0, "ada@example.org", &app.url("/t/")).await;

    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;

    // Ada opens her ticket on her phone.
    browser.goto(&ada_page).await.unwrap();
    wait_for_text(&browser, "#holder", "Ada Lovelace").await;
    let page = find(&browser, "body").await.text().await.unwrap();
    assert!(page.contains("Hamlet"), "the event is named: {page}");
    let screenshot = artifacts_dir().join("ticket-page-phone.png");
    std::fs::write(&screenshot, browser.screenshot().await.unwrap()).unwrap();
    let png = image::load_from_memory_with_format(
        &std::fs::read(&screenshot).unwrap(),
        image::ImageFormat::Png,
    )
    .expect("the screenshot is a PNG");
    assert!(
        png.width() < 800,
        "a phone-wide screenshot: {}",
        png.width()
    );

    // She offers it to Grace.
    let form = find(&browser, "form#transfer-form").await;
    for (input, value) in [("name", "Grace Hopper"), ("email", "grace@example.org")] {
        let css = format!("input[name={input}]");
        let field = form.find(Locator::Css(&css)).await;
        let field = field.unwrap_or_else(|e| panic!("the transfer form has {css}: {e}"));
        field.send_keys(value).await.unwrap();
    }
    find(&browser, "#transfer-submit")
        .await
        .click()
        .await
        .unwrap();
    // The page asks first.
    wait_for_text(&browser, "#review", "Grace Hopper").await;
    find(&browser, "#transfer-confirm")
        .await
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "#status", "offered").await;

    // Grace claims it from the email she got, and lands on her own ticket.
    let seen = smtp.messages().len();
    app.worker().deliver_due().await.unwrap();
    let claim_page = link_in_email(&smtp, seen, "grace@example.org", &app.url("/claim/")).await;
    browser.goto(&claim_page).await.unwrap();
    wait_for_text(&browser, "#offer", "Ada Lovelace").await;
    find(&browser, "form#claim-form #claim-submit")
        .await
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "#holder", "Grace Hopper").await;
    let landed = browser.current_url().await.unwrap();
    assert!(landed.path().starts_with("/t/"), "{landed}");
    let grace_id = ticket_id_on_page(&browser).await;
    assert_ne!(ada_ticket["id"], grace_id, "the claim issues a new ticket");

    // At the door Ada's QR is refused and Grace's admits.
    let scanner = app.key(Role::Scanner);
    let (status, body) = app
        .scan(&scanner, ada_ticket["token"].as_str().unwrap(), "north")
        .await;
    assert_eq!(body["outcome"], "transferred", "{body}");
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let grace_ticket = app
        .get_json(&format!("/api/v1/tickets/{grace_id}"), &app.admin_key)
        .await;
    assert_eq!(grace_ticket["holder_name"], "Grace Hopper");
    assert_eq!(grace_ticket["holder_email"], "grace@example.org");
    let (status, body) = app
        .scan(&scanner, grace_ticket["token"].as_str().unwrap(), "north")
        .await;
    assert_eq!(body["outcome"], "admitted", "{body}");
    assert_eq!(status, StatusCode::OK, "{body}");

    // Grace's confirmation links to her new ticket.
    let seen = smtp.messages().len();
    app.worker().deliver_due().await.unwrap();
    let grace_page = link_in_email(&smtp, seen, "grace@example.org", &app.url("/t/")).await;
    browser.goto(&grace_page).await.unwrap();
    wait_for_text(&browser, "#holder", "Grace Hopper").await;
    assert_eq!(ticket_id_on_page(&browser).await, grace_id);

    browser.close().await.unwrap();
}
