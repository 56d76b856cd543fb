//! The scanner page (`/scan`) in headless Chromium: "Forget this device's key" drops the key
//! and the offline lists it loaded from the browser, and asks for a key again. SQLite only: the
//! page is the same on both backends.

use fantoccini::Client;
use serde_json::Value;

use crate::browser::{find, wait_for_text, Chromedriver};
use crate::helpers::{Backend, TestApp};
use crate::scanner_page::{use_key, within_limit};
use encore::domain::Role;

/// The browser's localStorage slots, sorted.
async fn kept(browser: &Client) -> Vec<String> {
    let slots = browser
        .execute("return Object.keys(localStorage).sort()", vec![])
        .await
        .unwrap();
    serde_json::from_value::<Vec<String>>(slots).unwrap()
}

fn holds_key_or_bundle(slots: &[String]) -> Vec<&String> {
    slots
        .iter()
        .filter(|s| *s == "encore.scanner.key" || s.starts_with("encore.scanner.bundle."))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgetting_the_key_drops_it_and_its_bundle_and_asks_for_a_key() {
    within_limit(forgetting_the_key()).await;
}

async fn forgetting_the_key() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let performance = app.create_performance(10).await;
    let scanner = app.key(Role::Scanner);
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser.goto(&app.url("/scan")).await.unwrap();
    use_key(&browser, &scanner).await;
    wait_for_text(&browser, "#bundle", "tickets, updated").await;
    let bundle = format!("encore.scanner.bundle.{performance}");
    let before = kept(&browser).await;
    assert!(
        before.contains(&"encore.scanner.key".to_string()),
        "{before:?}"
    );
    assert!(before.contains(&bundle), "{before:?}");

    find(&browser, "#forget-key").await.click().await.unwrap();
    wait_for_text(&browser, "#key-status", "paste a key").await;
    let after = kept(&browser).await;
    assert_eq!(
        holds_key_or_bundle(&after),
        Vec::<&String>::new(),
        "{after:?}"
    );
    assert_eq!(
        find(&browser, "#bundle").await.text().await.unwrap(),
        "not loaded"
    );
    let focused: Value = browser
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(focused, "key", "the key form is ready to take a key");

    // A reload finds no key either, and a new key works again.
    browser.refresh().await.unwrap();
    wait_for_text(&browser, "#key-status", "paste a key").await;
    use_key(&browser, &scanner).await;
    wait_for_text(&browser, "#bundle", "tickets, updated").await;
    browser.close().await.unwrap();
}
