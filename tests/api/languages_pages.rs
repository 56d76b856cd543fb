//! The patron's pages in the ticket's language (issue 19), on SQLite and PostgreSQL: a ticket
//! issued in German opens a German page at phone width in headless Chromium — its headings and
//! buttons, its date ("Freitag, 18. Dezember …") and money ("45,00 EUR"), `<html lang="de">`,
//! no message id anywhere — and a German transfer goes through end to end: a refused address
//! said in German, the review, the friend's claim page and the friend's own ticket. The pages a
//! link reaches without the browser (unsubscribe, a link out of date) speak German too; a link
//! that leads to no ticket, and an English ticket, stay English.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use fantoccini::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

use encore::tokens::LinkPurpose;

use crate::browser::{find, wait_for_text, Chromedriver};
use crate::console_browser::assert_accessible;
use crate::helpers::{on_both_backends, TestApp};

const MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// The first Friday at least three days away, 19:30 in Berlin; as German writes its date, with
/// no time zone ("Freitag, 18. Dezember 2026, 19:30").
fn a_friday_evening() -> (chrono::DateTime<Utc>, String) {
    let mut day = (Utc::now() + Duration::days(3))
        .with_timezone(&Berlin)
        .date_naive();
    while day.weekday() != Weekday::Fri {
        day = day.succ_opt().unwrap();
    }
    let curtain = Berlin
        .from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(19, 30, 0).unwrap()))
        .unwrap();
    let german = format!(
        "Freitag, {}. {} {}, 19:30",
        day.day(),
        MONTHS[day.month0() as usize],
        day.year()
    );
    (curtain.with_timezone(&Utc), german)
}

/// An event in Berlin whose first performance is on a Friday evening (45.00 EUR) and whose
/// second, a day later, costs 30.00 EUR; Ada holds a German ticket (seat F12) for the first.
/// Her ticket and how German writes the first performance's date.
async fn a_german_ticket(app: &TestApp) -> (Value, String) {
    let response = app
        .post(
            "/api/v1/events",
            &app.admin_key,
            &json!({"name": "Hamlet", "venue": "Schaubühne", "time_zone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let event = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let (curtain, german_date) = a_friday_evening();
    let mut performances = Vec::new();
    for (starts_at, price) in [(curtain, 4500), (curtain + Duration::days(1), 3000)] {
        let response = app
            .post(
                &format!("/api/v1/events/{event}/performances"),
                &app.admin_key,
                &json!({"starts_at": starts_at, "capacity": 10,
                        "price_minor": price, "currency": "EUR"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        performances.push(response.json::<Value>().await.unwrap()["id"].clone());
    }
    let response = app
        .post(
            &format!("/api/v1/performances/{}/tickets", performances[0]),
            &app.admin_key,
            &json!({"holder_name": "Ada Lovelace", "holder_email": "ada@example.org",
                    "price_minor": 4500, "currency": "EUR", "seat": "F12", "locale": "de"}),
        )
        .await;
    let status = response.status();
    let ticket: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(ticket["locale"], "de", "{ticket}");
    (ticket, german_date)
}

async fn click(browser: &Client, css: &str) {
    find(browser, css).await.click().await.unwrap();
}

async fn text_of(browser: &Client, css: &str) -> String {
    find(browser, css).await.text().await.unwrap()
}

/// The page's `<html lang>`.
async fn page_language(browser: &Client) -> String {
    browser
        .execute("return document.documentElement.lang;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

/// The German page says nothing as a message id (`page-…`) or in the English it replaced.
async fn assert_all_german(browser: &Client, page: &str) {
    assert_eq!(page_language(browser).await, "de", "{page}");
    let text = browser
        .execute(
            "return document.title + '\\n' + document.body.innerText;",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert_no_message_ids(&text);
    let lower = text.to_lowercase();
    for english in ["your ", "ticket", " the ", "possible until", "credit"] {
        assert!(!lower.contains(english), "{page} says {english:?}: {text}");
    }
}

/// No word of the text is a message id.
fn assert_no_message_ids(text: &str) {
    for word in text.split(|c: char| c.is_whitespace() || "()\"'".contains(c)) {
        for id_prefix in ["page-", "ticket-", "email-"] {
            assert!(
                !word.starts_with(id_prefix),
                "a message id {word:?} in: {text}"
            );
        }
    }
}

/// An HTML page's text, between its tags (whose attributes hold element ids such as
/// `ticket-ref`, which are no words on the page).
fn text_between_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

async fn a_german_ticket_page_says_everything_in_german(app: TestApp) {
    let (ticket, german_date) = a_german_ticket(&app).await;
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    let token = app.view_token(&ticket);
    browser
        .goto(&app.url(&format!("/t/{token}")))
        .await
        .unwrap();
    wait_for_text(&browser, "#event", "Hamlet").await;

    // The date and the money as German writes them.
    let when = text_of(&browser, "#when").await;
    assert!(
        when.starts_with(&german_date),
        "{when} is not {german_date}"
    );
    assert!(when.contains("Einlass ab Freitag"), "{when}");
    let card = text_of(&browser, "main .card").await;
    for words in ["Name", "Ada Lovelace", "Platz", "F12", "Preis", "45,00 EUR"] {
        assert!(card.contains(words), "{words}: {card}");
    }
    assert_eq!(text_of(&browser, "#status").await, "Gültig");

    // Headings and buttons.
    assert_eq!(text_of(&browser, "#transfer h2").await, "Karte weitergeben");
    assert_eq!(
        text_of(&browser, "#transfer-submit").await,
        "Prüfen und senden"
    );
    assert_eq!(text_of(&browser, "#exchange h2").await, "Karte umtauschen");
    assert_eq!(
        text_of(&browser, "#exchange-credit-submit").await,
        "Gegen 45,00 EUR Guthaben umtauschen"
    );
    let choice = text_of(&browser, "#performance label.choice").await;
    assert!(
        choice.starts_with("Samstag, ") && choice.contains("30,00 EUR"),
        "{choice}"
    );
    assert_eq!(
        text_of(&browser, "#news-submit").await,
        "Keine Neuigkeiten, bitte"
    );
    assert!(browser.title().await.unwrap().ends_with(": Ihre Karte"));
    assert_all_german(&browser, "the ticket page").await;
    assert_accessible(&browser, "the German ticket page").await;

    // The exchange review, in German, and back.
    click(&browser, "#exchange-credit-submit").await;
    wait_for_text(&browser, "h1", "Gegen Guthaben umtauschen?").await;
    assert_eq!(text_of(&browser, "#review-value").await, "45,00 EUR");
    assert_eq!(text_of(&browser, "#review-after").await, "45,00 EUR");
    assert_eq!(text_of(&browser, "#exchange-confirm").await, "Umtauschen");
    assert_all_german(&browser, "the exchange review").await;
    click(&browser, "#exchange-back").await;
    wait_for_text(&browser, "#status", "Gültig").await;
    browser.close().await.unwrap();
}

async fn a_german_transfer_goes_through_in_german_to_the_friends_own_ticket(app: TestApp) {
    let (ticket, german_date) = a_german_ticket(&app).await;
    let id = ticket["id"].as_i64().unwrap();
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    let token = app.view_token(&ticket);
    browser
        .goto(&app.url(&format!("/t/{token}")))
        .await
        .unwrap();
    wait_for_text(&browser, "#event", "Hamlet").await;

    // A refused address (the browser's own check taken off) is refused in German.
    browser
        .execute(
            "document.getElementById('friend-email').type = 'text';",
            vec![],
        )
        .await
        .unwrap();
    let name = find(&browser, "#friend-name").await;
    name.send_keys("Grace Hopper").await.unwrap();
    let email = find(&browser, "#friend-email").await;
    email.send_keys("grace-at-example").await.unwrap();
    click(&browser, "#transfer-submit").await;
    wait_for_text(&browser, "#notice", "gültige E-Mail-Adresse").await;
    assert_all_german(&browser, "a refused transfer").await;

    // The review asks first, in German.
    let email = find(&browser, "#friend-email").await;
    email.clear().await.unwrap();
    email.send_keys("grace@example.org").await.unwrap();
    click(&browser, "#transfer-submit").await;
    wait_for_text(&browser, "h1", "Diese Karte an Grace Hopper weitergeben?").await;
    let effect = text_of(&browser, "#review-effect").await;
    assert!(
        effect.starts_with("Ihr QR-Code gilt dann sofort nicht mehr."),
        "{effect}"
    );
    assert_eq!(
        text_of(&browser, "#transfer-confirm").await,
        "An Grace Hopper senden"
    );
    assert_all_german(&browser, "the transfer review").await;
    assert_accessible(&browser, "the German transfer review").await;
    click(&browser, "#transfer-confirm").await;
    wait_for_text(&browser, "#notice", "Gesendet.").await;
    wait_for_text(&browser, "#status", "Angeboten an Grace Hopper").await;
    let offer = text_of(&browser, "#offer").await;
    assert!(offer.contains("Karte zurücknehmen"), "{offer}");
    assert_all_german(&browser, "the ticket on offer").await;

    // Grace's claim page speaks the offered ticket's language.
    let claim = app.patron_link(id, 1, LinkPurpose::Claim);
    browser
        .goto(&app.url(&format!("/claim/{claim}")))
        .await
        .unwrap();
    wait_for_text(&browser, "#claim-seat", "F12").await;
    let offer = text_of(&browser, "#offer").await;
    assert!(offer.contains(&german_date), "{offer}");
    assert!(
        offer.contains("Ada Lovelace gibt diese Karte weiter an Grace Hopper."),
        "{offer}"
    );
    assert_eq!(text_of(&browser, "#claim-submit").await, "Karte annehmen");
    assert_all_german(&browser, "the claim page").await;
    assert_accessible(&browser, "the German claim page").await;

    // She claims it and lands on her own ticket, in German too.
    click(&browser, "#claim-submit").await;
    wait_for_text(&browser, "#notice", "Sie gehört Ihnen").await;
    wait_for_text(&browser, "#holder", "Grace Hopper").await;
    find(&browser, "#qr svg").await;
    assert_all_german(&browser, "the friend's ticket").await;

    // Ada's page says where her ticket went.
    browser
        .goto(&app.url(&format!("/t/{token}")))
        .await
        .unwrap();
    wait_for_text(&browser, "#status", "Auf Grace Hopper übertragen").await;
    assert_all_german(&browser, "the transferred ticket").await;
    browser.close().await.unwrap();
}

/// `GET` a page the way a browser asks for it: its status and body.
async fn get_page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = app
        .client
        .get(app.url(path))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn pages_without_the_browser_speak_the_tickets_language_or_english(app: TestApp) {
    let (ticket, _) = a_german_ticket(&app).await;
    let id = ticket["id"].as_i64().unwrap();

    // The unsubscribe page of a German ticket.
    let unsubscribe = app.patron_link(id, 1, LinkPurpose::Unsubscribe);
    let (status, body) = get_page(&app, &format!("/unsubscribe/{unsubscribe}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"<html lang="de">"#), "{body}");
    assert!(body.contains("Von Neuigkeiten abmelden"), "{body}");
    assert_no_message_ids(&text_between_tags(&body));

    // Offered and taken back, the ticket moved on: its old link says so in German.
    let token = app.view_token(&ticket);
    let offered = app
        .client
        .post(app.url(&format!("/t/{token}/transfer")))
        .form(&[("name", "Grace Hopper"), ("email", "grace@example.org")])
        .send()
        .await
        .unwrap();
    assert!(offered.text().await.unwrap().contains("Gesendet."));
    let taken_back = app
        .client
        .post(app.url(&format!("/t/{token}/transfer/cancel")))
        .send()
        .await
        .unwrap();
    let body = taken_back.text().await.unwrap();
    assert!(body.contains("Die Karte gehört wieder Ihnen"), "{body}");
    let (status, body) = get_page(&app, &format!("/t/{token}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains(r#"<html lang="de">"#), "{body}");
    assert!(
        body.contains("Dieser Link ist nicht mehr aktuell"),
        "{body}"
    );

    // A link that leads to no ticket, and a ticket of an English event, stay English.
    let (status, body) = get_page(&app, "/t/not-a-link").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains(r#"<html lang="en">"#), "{body}");
    assert!(body.contains("This link does not work"), "{body}");
    let performance = app
        .create_performance_at(Utc::now() + Duration::days(3), 10)
        .await;
    let english = app.issue_ticket(performance).await;
    let (status, body) = get_page(&app, &format!("/t/{}", app.view_token(&english))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"<html lang="en">"#), "{body}");
    assert!(body.contains("Give this ticket to a friend"), "{body}");
    assert_no_message_ids(&text_between_tags(&body));
}

on_both_backends!(
    a_german_ticket_page_says_everything_in_german,
    a_german_transfer_goes_through_in_german_to_the_friends_own_ticket,
    pages_without_the_browser_speak_the_tickets_language_or_english,
);
