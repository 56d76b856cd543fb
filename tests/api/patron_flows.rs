//! The patron's flows as a phone shows them (headless Chromium at 390 px), on SQLite and
//! PostgreSQL: each ends where the patron expects (issue 18). An exchange asks first and then
//! leads to the new ticket or to the credit; a transfer asks first, keeps what was typed, and the
//! friend lands on "It's yours" and their own ticket, also when they open the claim link again;
//! an admitted ticket says when and where; a canceled one says why and what was refunded;
//! `/` and unknown pages answer a page. axe-core checks each page on the way.

use chrono::{Duration, Utc};
use fantoccini::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

use encore::domain::Role;
use encore::tokens::LinkPurpose;

use crate::browser::{find, wait_for_text, Chromedriver};
use crate::console_browser::assert_accessible;
use crate::helpers::{on_both_backends, TestApp};

/// An event with two performances in three and four days, the second priced at 30.00 EUR; Ada
/// holds a 45.00 EUR ticket (seat F12) for the first. Her ticket.
async fn ada_with_a_ticket(app: &TestApp) -> (Value, i64) {
    let event = app.create_event().await;
    let mut performances = Vec::new();
    for (days, price) in [(3, 4500), (4, 3000)] {
        let response = app
            .post(
                &format!("/api/v1/events/{event}/performances"),
                &app.admin_key,
                &json!({"starts_at": Utc::now() + Duration::days(days), "capacity": 10,
                        "price_minor": price, "currency": "EUR"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        performances.push(
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let response = app
        .post(
            &format!("/api/v1/performances/{}/tickets", performances[0]),
            &app.admin_key,
            &json!({"holder_name": "Ada Lovelace", "holder_email": "ada@example.org",
                    "price_minor": 4500, "currency": "EUR", "seat": "F12"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    (response.json().await.unwrap(), performances[1])
}

async fn open_ticket(browser: &Client, app: &TestApp, ticket: &Value) -> String {
    let token = app.view_token(ticket);
    browser
        .goto(&app.url(&format!("/t/{token}")))
        .await
        .unwrap();
    wait_for_text(browser, "#event", "Hamlet").await;
    token
}

async fn click(browser: &Client, css: &str) {
    find(browser, css).await.click().await.unwrap();
}

/// The page fits a phone: nothing wider than the screen.
async fn assert_fits_the_phone(browser: &Client, page: &str) {
    let width = browser
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap();
    assert!(width.as_u64().unwrap() <= 390, "{page} is {width} px wide");
}

/// Each matching control is at least 44 px tall, as fingers need.
pub(crate) async fn assert_tap_targets(browser: &Client, css: &str) {
    let heights = browser
        .execute(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.getBoundingClientRect().height);",
            vec![json!(css)],
        )
        .await
        .unwrap();
    let heights = heights.as_array().unwrap();
    assert!(!heights.is_empty(), "no {css}");
    for height in heights {
        assert!(height.as_f64().unwrap() >= 44.0, "{css}: {height} px");
    }
}

/// The text part of the newest email in the mail folder whose subject starts with `subject`.
async fn email_text(app: &TestApp, subject: &str) -> String {
    app.worker().deliver_due().await.unwrap();
    for entry in std::fs::read_dir(&app.config.mail_dir).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
        if message.subject().unwrap_or_default().starts_with(subject) {
            return message.body_text(0).unwrap().into_owned();
        }
    }
    panic!("no email with the subject {subject:?}");
}

async fn an_exchange_into_credit_asks_first_and_shows_the_credit(app: TestApp) {
    let (ticket, _) = ada_with_a_ticket(&app).await;
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    let token = open_ticket(&browser, &app, &ticket).await;
    assert!(find(&browser, "#calendar")
        .await
        .is_displayed()
        .await
        .unwrap());

    // It asks first, and going back changes nothing.
    click(&browser, "#exchange-credit-submit").await;
    wait_for_text(&browser, "h1", "Exchange for credit?").await;
    wait_for_text(&browser, "#review-value", "45.00").await;
    wait_for_text(&browser, "#review-after", "45.00").await;
    wait_for_text(&browser, "#review-effect", "stops working at once").await;
    assert_accessible(&browser, "the exchange review").await;
    assert_tap_targets(&browser, "#exchange-confirm, #exchange-back").await;
    click(&browser, "#exchange-back").await;
    wait_for_text(&browser, "#status", "Valid").await;

    click(&browser, "#exchange-credit-submit").await;
    wait_for_text(&browser, "h1", "Exchange for credit?").await;
    click(&browser, "#exchange-confirm").await;
    wait_for_text(&browser, "#notice", "Exchanged").await;
    wait_for_text(&browser, "#status", "no longer admits").await;
    wait_for_text(&browser, "#outcome", "went to your stored credit").await;
    wait_for_text(&browser, "#credit-balance", "45.00").await;
    // The date no longer holds for Ada: no calendar.
    assert!(browser
        .find(fantoccini::Locator::Css("#calendar"))
        .await
        .is_err());
    assert_accessible(&browser, "an exchanged ticket").await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        format!("/t/{token}")
    );

    // The receipt names what the ticket became.
    let receipt = email_text(&app, "Your exchange receipt").await;
    assert!(receipt.contains("it became 45.00"), "{receipt}");
    browser.close().await.unwrap();
}

async fn an_exchange_into_a_performance_leads_to_the_new_ticket(app: TestApp) {
    let (ticket, later) = ada_with_a_ticket(&app).await;
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    let old_token = open_ticket(&browser, &app, &ticket).await;

    // The list is readable on a phone: date first, each choice a full-width target.
    let choice = find(&browser, "#performance label.choice").await;
    let text = choice.text().await.unwrap();
    assert!(
        text.contains("EUR") || text.contains("€") || text.contains("30.00"),
        "{text}"
    );
    assert_fits_the_phone(&browser, "the ticket page").await;
    assert_tap_targets(&browser, "#performance label.choice").await;

    click(
        &browser,
        &format!("input[name=performance_id][value='{later}']"),
    )
    .await;
    click(&browser, "#exchange-performance-submit").await;
    wait_for_text(&browser, "h1", "another performance").await;
    wait_for_text(&browser, "#review-into", "Hamlet").await;
    wait_for_text(&browser, "#review-price", "30.00").await;
    wait_for_text(&browser, "#review-after", "15.00").await;
    assert_accessible(&browser, "the exchange review (performance)").await;
    click(&browser, "#exchange-confirm").await;

    // On to the new ticket, with its own QR code.
    wait_for_text(&browser, "#notice", "this is your new ticket").await;
    wait_for_text(&browser, "#status", "Valid").await;
    find(&browser, "#qr svg").await;
    // The code fills the card on a phone, with the brightness hint beside it.
    let width = browser
        .execute(
            "return document.querySelector('#qr svg').getBoundingClientRect().width;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        width.as_f64().unwrap() >= 300.0,
        "the QR is {width} px wide"
    );
    wait_for_text(&browser, "#brightness-hint", "brightness").await;
    let new_path = browser.current_url().await.unwrap().path().to_string();
    assert_ne!(new_path, format!("/t/{old_token}"));
    assert_accessible(&browser, "the new ticket").await;

    // The old link leads there too.
    browser
        .goto(&app.url(&format!("/t/{old_token}")))
        .await
        .unwrap();
    wait_for_text(&browser, "#outcome", "It became a ticket for").await;
    click(&browser, "#new-ticket").await;
    wait_for_text(&browser, "#status", "Valid").await;
    assert_eq!(browser.current_url().await.unwrap().path(), new_path);

    let receipt = email_text(&app, "Your exchange receipt").await;
    assert!(
        receipt.contains("it became a ticket for Hamlet"),
        "{receipt}"
    );
    browser.close().await.unwrap();
}

async fn a_transfer_asks_first_keeps_what_was_typed_and_the_friend_lands_on_their_ticket(
    app: TestApp,
) {
    let (ticket, _) = ada_with_a_ticket(&app).await;
    let id = ticket["id"].as_i64().unwrap();
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    open_ticket(&browser, &app, &ticket).await;

    // A refused address (the browser's own check taken off): the page says why and keeps it.
    browser
        .execute(
            "document.getElementById('friend-email').type = 'text';",
            vec![],
        )
        .await
        .unwrap();
    find(&browser, "#friend-name")
        .await
        .send_keys("Grace Hopper")
        .await
        .unwrap();
    find(&browser, "#friend-email")
        .await
        .send_keys("grace-at-example")
        .await
        .unwrap();
    click(&browser, "#transfer-submit").await;
    wait_for_text(&browser, "#notice", "email").await;
    let kept = |css: &'static str| {
        let browser = browser.clone();
        async move {
            find(&browser, css)
                .await
                .prop("value")
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(kept("#friend-name").await, "Grace Hopper");
    assert_eq!(kept("#friend-email").await, "grace-at-example");
    assert_accessible(&browser, "a refused transfer").await;

    // Corrected, it asks first; going back keeps the text.
    let email = find(&browser, "#friend-email").await;
    email.clear().await.unwrap();
    email.send_keys("grace@example.org").await.unwrap();
    click(&browser, "#transfer-submit").await;
    wait_for_text(&browser, "h1", "Give this ticket to Grace Hopper?").await;
    wait_for_text(&browser, "#review-email", "grace@example.org").await;
    wait_for_text(&browser, "#review-effect", "stops working at once").await;
    assert_accessible(&browser, "the transfer review").await;
    assert_tap_targets(&browser, "#transfer-confirm, #transfer-back").await;
    click(&browser, "#transfer-back").await;
    wait_for_text(&browser, "#status", "Valid").await;
    assert_eq!(kept("#friend-email").await, "grace@example.org");
    click(&browser, "#transfer-submit").await;
    wait_for_text(&browser, "h1", "Give this ticket to Grace Hopper?").await;
    click(&browser, "#transfer-confirm").await;
    wait_for_text(&browser, "#notice", "Sent").await;
    wait_for_text(&browser, "#status", "Offered to Grace Hopper").await;

    // Grace opens her claim link: it shows the seat; she claims and lands on her ticket.
    let claim = app.patron_link(id, 1, LinkPurpose::Claim);
    browser
        .goto(&app.url(&format!("/claim/{claim}")))
        .await
        .unwrap();
    wait_for_text(&browser, "#claim-seat", "F12").await;
    assert_accessible(&browser, "the claim page").await;
    click(&browser, "#claim-submit").await;
    wait_for_text(&browser, "#notice", "It's yours").await;
    wait_for_text(&browser, "#holder", "Grace Hopper").await;
    find(&browser, "#qr svg").await;
    let hers = browser.current_url().await.unwrap().path().to_string();
    assert_accessible(&browser, "the friend's new ticket").await;

    // Opening the claim link again leads to her ticket, not to "already claimed".
    browser
        .goto(&app.url(&format!("/claim/{claim}")))
        .await
        .unwrap();
    wait_for_text(&browser, "#notice", "It's yours").await;
    assert_eq!(browser.current_url().await.unwrap().path(), hers);
    browser.close().await.unwrap();
}

async fn an_admitted_ticket_says_when_and_where(app: TestApp) {
    let performance = app
        .create_performance_at(Utc::now() + Duration::minutes(30), 10)
        .await;
    let ticket = app.issue_ticket(performance).await;
    let (_, scan) = app
        .scan(
            &app.key(Role::Scanner),
            ticket["token"].as_str().unwrap(),
            "north",
        )
        .await;
    assert_eq!(scan["outcome"], "admitted", "{scan}");
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    open_ticket(&browser, &app, &ticket).await;
    wait_for_text(&browser, "#status", "Admitted at").await;
    wait_for_text(&browser, "#status", "north gate").await;
    let status = find(&browser, "#status").await.text().await.unwrap();
    assert!(
        status.chars().filter(|c| *c == ':').count() >= 1
            && status
                .split_whitespace()
                .any(|w| w.len() >= 5 && w.as_bytes()[2] == b':'),
        "a time of day: {status}"
    );
    assert_accessible(&browser, "an admitted ticket").await;
    browser.close().await.unwrap();
}

async fn a_canceled_ticket_says_why_and_what_was_refunded(app: TestApp) {
    let (ticket, _) = ada_with_a_ticket(&app).await;
    let id = ticket["id"].as_i64().unwrap();
    let canceled = app
        .post(
            &format!("/api/v1/tickets/{id}/cancel"),
            &app.admin_key,
            &json!({"reason": "the stage flooded", "refund_to_credit": true}),
        )
        .await;
    assert!(canceled.status().is_success(), "{}", canceled.status());
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    open_ticket(&browser, &app, &ticket).await;
    wait_for_text(&browser, "#status", "no longer admits").await;
    wait_for_text(&browser, "#cancel-reason", "the stage flooded").await;
    wait_for_text(&browser, "#cancel-refund", "45.00").await;
    assert!(browser
        .find(fantoccini::Locator::Css("#calendar"))
        .await
        .is_err());
    assert_accessible(&browser, "a canceled ticket").await;
    browser.close().await.unwrap();
}

async fn the_front_door_and_unknown_pages_answer_a_page(app: TestApp) {
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser.goto(&app.url("/")).await.unwrap();
    wait_for_text(&browser, "h1", "Encore tickets").await;
    wait_for_text(&browser, "#home", "ticket email").await;
    assert_accessible(&browser, "/").await;
    browser.goto(&app.url("/no/such/page")).await.unwrap();
    wait_for_text(&browser, "h1", "There is no page here").await;
    assert_accessible(&browser, "an unknown page").await;
    browser.close().await.unwrap();

    // The API (and clients that ask for JSON) still get JSON.
    let api = app
        .client
        .get(app.url("/api/v1/nothing"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.json::<Value>().await.unwrap()["code"], "not_found");
    let json = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::NOT_FOUND);
    assert!(json.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("json"));
}

on_both_backends!(
    an_exchange_into_credit_asks_first_and_shows_the_credit,
    an_exchange_into_a_performance_leads_to_the_new_ticket,
    a_transfer_asks_first_keeps_what_was_typed_and_the_friend_lands_on_their_ticket,
    an_admitted_ticket_says_when_and_where,
    a_canceled_ticket_says_why_and_what_was_refunded,
    the_front_door_and_unknown_pages_answer_a_page,
);
