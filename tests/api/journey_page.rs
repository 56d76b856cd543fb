//! The box office's patron journey page (`/box-office/patron`) in headless Chromium: with a
//! pasted staff key it looks a patron up by email and tells their tickets, their credit and
//! their timeline in words, opens one ticket's history, and says in words what is wrong with a
//! malformed email, an unknown ticket or a bad key. SQLite only, as the other page tests: the
//! API under the page is tested on both backends in `journey.rs`.

use chrono::{Duration, Utc};
use encore::domain::Role;
use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::json;

use crate::browser::{artifacts_dir, find, wait_for_text, Chromedriver};
use crate::helpers::{Backend, TestApp};
use crate::scanner_page::{screenshot, text, use_key, within_limit};

/// Types `email` and `ticket` into the lookup form (clearing what was there) and submits it.
async fn look_up(browser: &Client, email: &str, ticket: &str) {
    for (css, value) in [("#email", email), ("#ticket", ticket)] {
        let field = find(browser, css).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }
    find(browser, "#lookup").await.click().await.unwrap();
}

async fn is_shown(browser: &Client, css: &str) -> bool {
    find(browser, css).await.is_displayed().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_box_office_reads_a_patrons_journey_in_words() {
    within_limit(box_office_reads_a_patrons_journey_in_words()).await;
}

async fn box_office_reads_a_patrons_journey_in_words() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // Four hours ahead: inside the scan window.
    let performance = app
        .create_performance_at(Utc::now() + Duration::hours(4), 10)
        .await;
    let admitted = app
        .issue_to(performance, "Ada Lovelace", "ada@example.org")
        .await;
    let canceled = app
        .issue_to(performance, "Ada Lovelace", "ada@example.org")
        .await;
    let (admitted_id, canceled_id) = (
        admitted["id"].as_i64().unwrap(),
        canceled["id"].as_i64().unwrap(),
    );
    let worker = app.worker();
    while worker.deliver_due().await.unwrap() > 0 {}
    // A scanner without the network turned Ada away first; its upload puts that in her journey.
    let upload = app
        .post(
            "/api/v1/scans/batch",
            &app.key(Role::Scanner),
            &json!({"device": "phone-east", "scans": [{"token": admitted["token"], "gate": "east",
                    "scanned_at": Utc::now(), "refused": "no_bundle"}]}),
        )
        .await;
    assert_eq!(upload.status(), StatusCode::OK);
    let (status, scan) = app
        .scan(
            &app.key(Role::Scanner),
            admitted["token"].as_str().unwrap(),
            "north",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{scan}");
    app.post_expecting(
        &format!("/api/v1/tickets/{canceled_id}/cancel"),
        &json!({"reason": "Seat broken", "refund_to_credit": true}),
        StatusCode::OK,
    )
    .await;
    // Another scanner turned both tickets away later, once for a reason of its own: the page
    // says a code it does not know as it came, as text.
    let upload = app
        .post(
            "/api/v1/scans/batch",
            &app.key(Role::Scanner),
            &json!({"device": "phone-west", "scans": [
                {"token": canceled["token"], "gate": "west", "scanned_at": Utc::now(),
                 "refused": "unknown_key"},
                {"token": admitted["token"], "gate": "west", "scanned_at": Utc::now(),
                 "refused": "<img src=x onerror=alert(1)>"},
                {"token": admitted["token"], "gate": "west",
                 "scanned_at": Utc::now() + Duration::seconds(1), "refused": "constructor"},
            ]}),
        )
        .await;
    assert_eq!(upload.status(), StatusCode::OK);
    while worker.deliver_due().await.unwrap() > 0 {}

    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser.goto(&app.url("/box-office/patron")).await.unwrap();
    use_key(&browser, &app.admin_key).await;
    // The box office's two pages link to each other.
    find(&browser, "a[href='/box-office/arrivals']").await;
    let arrivals = app.client.get(app.url("/box-office/arrivals")).send().await;
    let arrivals = arrivals.unwrap().text().await.unwrap();
    assert!(
        arrivals.contains("href=\"/box-office/patron\""),
        "{arrivals}"
    );

    // Ada's tickets: one admitted at the north gate, one canceled; her credit is the refund.
    look_up(&browser, "ada@example.org", "").await;
    wait_for_text(&browser, "#patron-email", "ada@example.org").await;
    let admitted_row = format!("#tickets tr[data-ticket='{admitted_id}']");
    let canceled_row = format!("#tickets tr[data-ticket='{canceled_id}']");
    wait_for_text(&browser, &admitted_row, "admitted at north").await;
    wait_for_text(&browser, &canceled_row, "canceled").await;
    // The performance is named once the page has asked for it.
    wait_for_text(&browser, &admitted_row, "Hamlet").await;
    assert!(text(&browser, &canceled_row)
        .await
        .contains("Ada Lovelace (ada@example.org)"));
    assert_eq!(text(&browser, "#balances").await, "45.00 EUR");

    // The timeline, in words and in order.
    let timeline = text(&browser, "#timeline").await;
    let lines: Vec<&str> = timeline.lines().collect();
    let position = |needle: &str| {
        lines
            .iter()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no line {needle:?} in the timeline:\n{timeline}"))
    };
    let issued = position("Issued to Ada Lovelace (ada@example.org), 45.00 EUR");
    let sent = position("Email sent: confirmation");
    // The device's reason beside the server's verdict.
    let turned_away = position(
        "Scanned at east: refused offline by the scanner (it had no offline list), though the \
         ticket was valid then (phone-east)",
    );
    let scanned = position("Scanned at north: admitted");
    // Only the uploaded scans say they were made offline.
    assert!(
        lines[turned_away].contains("; made offline, uploaded "),
        "{timeline}"
    );
    assert!(!lines[scanned].contains("made offline"), "{timeline}");
    let canceled_line = position("Canceled: Seat broken — 45.00 EUR credited");
    position("Credit +45.00 EUR: refund of a cancellation");
    position("Email sent: cancellation");
    let refused_canceled = position(
        "Scanned at west: refused offline by the scanner (its offline list had no key for the \
         code); the server's verdict: canceled (phone-west)",
    );
    let unknown_code = position(
        "Scanned at west: refused offline by the scanner (it said \u{201c}<img src=x \
         onerror=alert(1)>\u{201d}); the server's verdict: already admitted (phone-west)",
    );
    position(
        "Scanned at west: refused offline by the scanner (it said \u{201c}constructor\u{201d}); \
         the server's verdict: already admitted (phone-west)",
    );
    assert!(
        canceled_line < refused_canceled && refused_canceled < unknown_code,
        "{timeline}"
    );
    let markup = browser
        .find_all(Locator::Css("#timeline img"))
        .await
        .unwrap();
    assert!(markup.is_empty(), "a code is text, never markup");
    assert!(
        issued < sent && sent < turned_away && turned_away < scanned && scanned < canceled_line,
        "{timeline}"
    );
    let items = browser
        .find_all(Locator::Css("#timeline li"))
        .await
        .unwrap();
    assert!(
        items.len() >= 8,
        "two issues, emails, a scan, a cancel, a credit:\n{timeline}"
    );
    screenshot(&browser, "patron-journey-page.png").await;
    browser
        .execute(
            "document.getElementById('timeline').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    let png = browser.screenshot().await.unwrap();
    std::fs::write(artifacts_dir().join("patron-journey-timeline.png"), png).unwrap();

    // Clicking a ticket shows that ticket's history alone.
    find(&browser, &format!("{admitted_row} button.link"))
        .await
        .click()
        .await
        .unwrap();
    wait_for_text(
        &browser,
        "#history-title",
        &format!("Ticket #{admitted_id}"),
    )
    .await;
    wait_for_text(&browser, "#history-summary", "admitted at north").await;
    let history = text(&browser, "#history-timeline").await;
    assert!(history.contains("Scanned at north: admitted"), "{history}");
    assert!(
        !history.contains("Canceled"),
        "only this ticket's touches: {history}"
    );
    // And a ticket asked for by number, with no email.
    look_up(&browser, "", &canceled_id.to_string()).await;
    wait_for_text(
        &browser,
        "#history-title",
        &format!("Ticket #{canceled_id}"),
    )
    .await;
    wait_for_text(&browser, "#history-timeline", "Canceled: Seat broken").await;
    assert!(!is_shown(&browser, "#patron").await);

    // What is wrong, in words: the API's own message for a malformed email and an unknown
    // ticket, and a key that does not work.
    look_up(&browser, "not-an-email", "").await;
    wait_for_text(&browser, "#lookup-status", "is not a valid email address").await;
    assert!(!is_shown(&browser, "#patron").await);
    assert!(!is_shown(&browser, "#history").await);
    look_up(&browser, "", "999999").await;
    wait_for_text(&browser, "#lookup-status", "ticket 999999 does not exist").await;
    look_up(&browser, "", "12a").await;
    wait_for_text(&browser, "#lookup-status", "digits only").await;
    find(&browser, "#key")
        .await
        .send_keys("enc_not_a_key")
        .await
        .unwrap();
    find(&browser, "#key-save").await.click().await.unwrap();
    wait_for_text(&browser, "#key-status", "this key does not work").await;
    look_up(&browser, "ada@example.org", "").await;
    wait_for_text(&browser, "#lookup-status", "this key does not work").await;
    assert!(!is_shown(&browser, "#patron").await);

    browser.close().await.unwrap();
}
