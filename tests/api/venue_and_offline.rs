//! At the venue (issue 18), on SQLite and PostgreSQL: an event's optional venue address and
//! contact for help, through the JSON API (bad input 422 naming the field) and the console's
//! event form, shown on the patron's ticket page at phone width ("Venue: … — Open map", "Need
//! help? Call … / write to …") and in the confirmation email; and the ticket page opened once
//! keeps working with no signal: the app's server is stopped for real, the page reloaded, and
//! the saved copy shows the code, the details and when it was saved. axe-core checks the pages.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use fantoccini::{Client, Locator};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::browser::{find, wait_for_text, Chromedriver, WAIT};
use crate::console_browser::assert_accessible;
use crate::console_events::{api_refusal, unescaped, Console};
use crate::helpers::{on_both_backends, TestApp};
use crate::patron_flows::assert_tap_targets;
use encore::domain::Role;

const ADDRESS: &str = "Shakespeare's Globe\n21 New Globe Walk & Bankside\nLondon SE1 9DT";
/// The address on one line, as the map searches for it.
const ADDRESS_LINE: &str = "Shakespeare's Globe, 21 New Globe Walk & Bankside, London SE1 9DT";
const PHONE: &str = "+44 (20) 7401-9919";
const TEL: &str = "tel:+442074019919";
const EMAIL: &str = "help@globe.example";

/// The search an OpenStreetMap link asks for, its query decoded; panics unless `href` is an
/// OpenStreetMap search.
fn map_query(href: &str) -> String {
    let url = url::Url::parse(href).unwrap_or_else(|e| panic!("{href:?}: {e}"));
    assert_eq!(url.scheme(), "https", "{href}");
    assert_eq!(url.host_str(), Some("www.openstreetmap.org"), "{href}");
    assert_eq!(url.path(), "/search", "{href}");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs.len(), 1, "one parameter, the query: {href}");
    assert_eq!(pairs[0].0, "query", "{href}");
    pairs[0].1.clone()
}

async fn create_event(app: &TestApp, body: &Value) -> Value {
    let response = app.post("/api/v1/events", &app.admin_key, body).await;
    let status = response.status();
    let event: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

async fn patch_event(app: &TestApp, id: i64, body: &Value) -> (StatusCode, Value) {
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/events/{id}")))
        .bearer_auth(&app.admin_key)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn hamlet(extra: Value) -> Value {
    let mut body = json!({"name": "Hamlet", "venue": "The Globe", "time_zone": "Europe/London"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

async fn the_venue_details_round_trip_through_the_api(app: TestApp) {
    let event = create_event(
        &app,
        &hamlet(
            json!({"venue_address": format!("  {}\r\n\n", ADDRESS.replace('\n', "\r\n")),
            "help_phone": PHONE, "help_email": EMAIL}),
        ),
    )
    .await;
    assert_eq!(
        event["venue_address"], ADDRESS,
        "trimmed, CRLF and blank lines gone"
    );
    assert_eq!(event["help_phone"], PHONE);
    assert_eq!(event["help_email"], EMAIL);
    assert_eq!(map_query(event["map_url"].as_str().unwrap()), ADDRESS_LINE);
    let id = event["id"].as_i64().unwrap();
    let read = app
        .get_json(&format!("/api/v1/events/{id}"), &app.admin_key)
        .await;
    assert_eq!(read, event, "stored as answered");

    // A change: the phone replaced, the email removed, the address left alone.
    let (status, changed) = patch_event(
        &app,
        id,
        &json!({"help_phone": "020 7401 9919", "help_email": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["help_phone"], "020 7401 9919");
    assert!(changed["help_email"].is_null(), "{changed}");
    assert_eq!(changed["venue_address"], ADDRESS);
    let (status, same) = patch_event(&app, id, &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same, changed, "{{}} changes nothing");
    let (status, cleared) = patch_event(
        &app,
        id,
        &json!({"venue_address": null, "help_phone": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for field in ["venue_address", "map_url", "help_phone", "help_email"] {
        assert!(cleared[field].is_null(), "{field}: {cleared}");
    }

    // An event without them has none.
    let plain = create_event(&app, &hamlet(json!({}))).await;
    for field in ["venue_address", "map_url", "help_phone", "help_email"] {
        assert!(plain[field].is_null(), "{field}: {plain}");
    }

    // Bad input: 422 naming the field, on creation and on a change, and nothing changes.
    let bad = [
        ("venue_address", json!("")),
        ("venue_address", json!(" \n ")),
        ("venue_address", json!("Globe\u{7} Theatre")),
        ("venue_address", json!("1\n2\n3\n4\n5\n6\n7")),
        ("venue_address", json!("x".repeat(501))),
        ("venue_address", json!(12)),
        ("help_phone", json!("call us")),
        ("help_phone", json!("12")),
        ("help_phone", json!("+44 20 7401 9919 0000 0")),
        ("help_phone", json!("javascript:alert(1)")),
        ("help_phone", json!("")),
        ("help_email", json!("not an address")),
        ("help_email", json!("help@[192.0.2.1]")),
        ("help_email", json!("")),
    ];
    let events_before = app
        .get_json("/api/v1/events", &app.admin_key)
        .await
        .as_array()
        .unwrap()
        .len();
    for (field, value) in &bad {
        let body = hamlet(json!({ *field: value }));
        let (status, code, message) =
            api_refusal(&app, Method::POST, "/api/v1/events", &body).await;
        assert!(status.is_client_error(), "{field} = {value}: {status}");
        if !value.is_number() {
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{field} = {value}"
            );
            assert_eq!(code, "validation_failed", "{field} = {value}: {message}");
            assert!(message.contains(field), "{field} = {value}: {message}");
        }
        let (status, problem) = patch_event(&app, id, &json!({ *field: value })).await;
        assert!(status.is_client_error(), "{field} = {value}: {problem}");
        if !value.is_number() {
            assert_eq!(problem["field"], *field, "{problem}");
        }
    }
    let events_after = app
        .get_json("/api/v1/events", &app.admin_key)
        .await
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events_after, events_before, "no event was created");
    let unchanged = app
        .get_json(&format!("/api/v1/events/{id}"), &app.admin_key)
        .await;
    assert_eq!(unchanged, cleared, "no change was made");

    // The OpenAPI document states the new fields, as the fuzzer reads them.
    let openapi = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let schemas = &openapi["components"]["schemas"];
    for schema in ["CreateEvent", "UpdateEvent"] {
        let properties = &schemas[schema]["properties"];
        assert_eq!(properties["venue_address"]["maxLength"], 500, "{schema}");
        assert_eq!(properties["help_phone"]["maxLength"], 32, "{schema}");
        assert_eq!(properties["help_email"]["format"], "email", "{schema}");
    }
    for field in ["venue_address", "map_url", "help_phone", "help_email"] {
        assert!(
            schemas["EventView"]["properties"][field].is_object(),
            "EventView.{field}: {}",
            schemas["EventView"]
        );
    }
}

async fn the_console_form_sets_and_clears_them(app: TestApp) {
    let console = Console::sign_in(&app, "ada@example.org", Role::BoxOffice).await;
    let form = console.page("/box-office/events").await;
    for labelled in [
        r#"<label for="venue_address">"#,
        r#"<label for="help_phone">"#,
        r#"<label for="help_email">"#,
    ] {
        assert!(form.contains(labelled), "{labelled} in {form}");
    }
    let mut fields = vec![
        ("name", "Hamlet"),
        ("venue", "The Globe"),
        ("time_zone", "Europe/London"),
        ("reminder_offsets_minutes", "1440"),
        ("exchange_fee_minor", "0"),
        ("change_cutoff_minutes", "120"),
        ("transfer_offer_hours", "72"),
        ("venue_address", ADDRESS),
        ("help_phone", PHONE),
        ("help_email", EMAIL),
    ];
    let created = console.post("/box-office/events", &fields).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = location
        .strip_prefix("/box-office/events/")
        .unwrap()
        .parse()
        .unwrap();
    let event = app
        .get_json(&format!("/api/v1/events/{id}"), &app.admin_key)
        .await;
    assert_eq!(event["venue_address"], ADDRESS, "{event}");
    assert_eq!(event["help_phone"], PHONE);
    assert_eq!(event["help_email"], EMAIL);

    // The event's own form shows them, to change.
    let page = unescaped(&console.page(&location).await.replace("&#38;", "&"));
    assert!(page.contains(&format!(">{ADDRESS}</textarea>")), "{page}");
    assert!(page.contains(&format!(r#"value="{PHONE}""#)), "{page}");

    // A bad phone number: the form again with the API's reason, nothing changed.
    let mut edit: Vec<(&str, &str)> = fields
        .iter()
        .copied()
        .filter(|(name, _)| !matches!(*name, "time_zone" | "reminder_offsets_minutes"))
        .collect();
    for field in edit.iter_mut() {
        if field.0 == "help_phone" {
            field.1 = "call the box office";
        }
    }
    let refused = console.post(&location, &edit).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = unescaped(&refused.text().await.unwrap());
    assert!(page.contains("help_phone"), "{page}");
    assert!(page.contains("is not part of a phone number"), "{page}");
    assert!(
        page.contains(r#"value="call the box office""#),
        "what was typed stays: {page}"
    );
    let same = app
        .get_json(&format!("/api/v1/events/{id}"), &app.admin_key)
        .await;
    assert_eq!(same, event);

    // Emptied fields remove them; a new address replaces the old.
    for field in fields.iter_mut() {
        match field.0 {
            "help_phone" | "help_email" => field.1 = "",
            "venue_address" => field.1 = "Royal Albert Hall\nLondon SW7 2AP",
            _ => {}
        }
    }
    let edit: Vec<(&str, &str)> = fields
        .iter()
        .copied()
        .filter(|(name, _)| !matches!(*name, "time_zone" | "reminder_offsets_minutes"))
        .collect();
    let saved = console.post(&location, &edit).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let event = app
        .get_json(&format!("/api/v1/events/{id}"), &app.admin_key)
        .await;
    assert_eq!(event["venue_address"], "Royal Albert Hall\nLondon SW7 2AP");
    assert!(event["help_phone"].is_null(), "{event}");
    assert!(event["help_email"].is_null(), "{event}");
}

/// A performance of `event` in three days, and Ada's ticket for it.
async fn ticket_for(app: &TestApp, event: i64) -> Value {
    let performance = app
        .post(
            &format!("/api/v1/events/{event}/performances"),
            &app.admin_key,
            &json!({"starts_at": Utc::now() + Duration::days(3), "capacity": 10}),
        )
        .await;
    assert_eq!(performance.status(), StatusCode::CREATED);
    let performance: Value = performance.json().await.unwrap();
    app.issue_ticket(performance["id"].as_i64().unwrap()).await
}

async fn attr(browser: &Client, css: &str, name: &str) -> String {
    find(browser, css)
        .await
        .attr(name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{css} has {name}"))
}

async fn assert_fits_the_phone(browser: &Client, page: &str) {
    let width = browser
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap();
    assert!(width.as_u64().unwrap() <= 390, "{page} is {width} px wide");
}

/// The newest confirmation email's text and HTML parts, from the mail folder.
async fn confirmation(app: &TestApp) -> (String, String) {
    app.worker().deliver_due().await.unwrap();
    let mut found = None;
    for entry in std::fs::read_dir(&app.config.mail_dir).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
        if message
            .subject()
            .unwrap_or_default()
            .starts_with("Your ticket")
        {
            found = Some((
                message.body_text(0).unwrap().into_owned(),
                message.body_html(0).unwrap().into_owned(),
            ));
        }
    }
    found.expect("a confirmation email")
}

async fn the_ticket_page_shows_the_venue_and_whom_to_ask_for_help(app: TestApp) {
    let event = create_event(
        &app,
        &hamlet(json!({"venue_address": ADDRESS, "help_phone": PHONE, "help_email": EMAIL})),
    )
    .await;
    let ticket = ticket_for(&app, event["id"].as_i64().unwrap()).await;
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser
        .goto(&app.url(&format!("/t/{}", app.view_token(&ticket))))
        .await
        .unwrap();
    wait_for_text(&browser, "#event", "Hamlet").await;

    let venue = find(&browser, "#venue-address").await.text().await.unwrap();
    assert!(venue.starts_with("Venue: Shakespeare's Globe"), "{venue}");
    assert!(venue.contains("21 New Globe Walk & Bankside"), "{venue}");
    assert!(venue.contains("London SE1 9DT"), "{venue}");
    assert!(venue.ends_with("— Open map"), "{venue}");
    let map = attr(&browser, "#map-link", "href").await;
    assert_eq!(map_query(&map), ADDRESS_LINE, "{map}");
    assert_eq!(map, event["map_url"], "the page links what the API says");
    let help = find(&browser, "#help").await.text().await.unwrap();
    assert_eq!(help, format!("Need help? Call {PHONE} / write to {EMAIL}"));
    assert_eq!(attr(&browser, "#help-phone", "href").await, TEL);
    assert_eq!(
        attr(&browser, "#help-email", "href").await,
        format!("mailto:{EMAIL}")
    );
    assert_tap_targets(&browser, "#map-link, #help-phone, #help-email").await;
    assert_fits_the_phone(&browser, "the ticket page with the venue").await;
    assert_accessible(&browser, "the ticket page with the venue and help").await;

    // The confirmation email says the same.
    let (text, html) = confirmation(&app).await;
    assert!(text.contains(ADDRESS_LINE), "{text}");
    assert!(text.contains(&format!("Map: {map}")), "{text}");
    assert!(
        text.contains(&format!("Need help? Call {PHONE} or write to {EMAIL}.")),
        "{text}"
    );
    assert!(
        html.contains(&map.replace('&', "&amp;")) || html.contains(&map),
        "{html}"
    );
    assert!(html.contains(&format!(r#"href="{TEL}""#)), "{html}");
    assert!(
        html.contains(&format!(r#"href="mailto:{EMAIL}""#)),
        "{html}"
    );

    // An event without them shows nothing more.
    let plain = create_event(&app, &hamlet(json!({}))).await;
    let ticket = ticket_for(&app, plain["id"].as_i64().unwrap()).await;
    browser
        .goto(&app.url(&format!("/t/{}", app.view_token(&ticket))))
        .await
        .unwrap();
    wait_for_text(&browser, "#event", "Hamlet").await;
    for absent in ["#at-the-venue", "#venue-address", "#map-link", "#help"] {
        assert!(
            browser.find(Locator::Css(absent)).await.is_err(),
            "{absent} on a page without venue details"
        );
    }
    browser.close().await.unwrap();
}

/// Waits until the page says it is saved on the phone (its service worker kept it).
async fn wait_until_saved(browser: &Client) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Ok(element) = browser.find(Locator::Css("#offline-ready")).await {
            if element.is_displayed().await.unwrap_or(false) {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the page never said it was saved: {}",
            browser.source().await.unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The paths the ticket pages' cache holds, and the names of every cache of this origin.
async fn cached(browser: &Client) -> (BTreeSet<String>, Vec<String>) {
    let found = browser
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               caches.keys().then(async (names) => {
                 const paths = [];
                 for (const name of names) {
                   for (const request of await (await caches.open(name)).keys()) {
                     paths.push(new URL(request.url).pathname);
                   }
                 }
                 done([names, paths]);
               }).catch((e) => done([['error: ' + e], []]));"#,
            vec![],
        )
        .await
        .unwrap();
    let names = found[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    let paths = found[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    (paths, names)
}

/// "HH:MM" in London between `from` and `to` (the minutes a page may have been read in).
fn london_clocks(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    let mut at = from;
    let mut clocks = Vec::new();
    while at <= to + Duration::minutes(1) {
        clocks.push(
            at.with_timezone(&chrono_tz::Europe::London)
                .format("%H:%M")
                .to_string(),
        );
        at += Duration::minutes(1);
    }
    clocks
}

async fn the_ticket_page_opens_again_with_no_signal(app: TestApp) {
    let event = create_event(&app, &hamlet(json!({"venue_address": ADDRESS}))).await;
    let static_ticket = ticket_for(&app, event["id"].as_i64().unwrap()).await;
    let rotating = create_event(&app, &hamlet(json!({"barcode": "rotating"}))).await;
    let rotating_ticket = ticket_for(&app, rotating["id"].as_i64().unwrap()).await;
    let static_path = format!("/t/{}", app.view_token(&static_ticket));
    let rotating_path = format!("/t/{}", app.view_token(&rotating_ticket));

    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    let opened = Utc::now();
    // Ada opens her ticket (the email's link, so with a one-time notice in the query) and
    // her rotating one, and a link that does not work.
    browser
        .goto(&app.url(&format!("{static_path}?done=claimed")))
        .await
        .unwrap();
    wait_for_text(&browser, "#holder", "Ada Lovelace").await;
    wait_until_saved(&browser).await;
    let static_qr = find(&browser, "#qr svg").await.html(false).await.unwrap();
    browser.goto(&app.url("/t/not-a-link")).await.unwrap();
    wait_for_text(&browser, "h1", "does not work").await;
    browser.goto(&app.url(&rotating_path)).await.unwrap();
    wait_for_text(&browser, "#holder", "Ada Lovelace").await;
    wait_until_saved(&browser).await;
    find(&browser, "#qr svg").await;
    assert!(
        !find(&browser, "#saved-copy")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "online, the page is not the saved copy"
    );
    let read = Utc::now();

    // Privacy: the phone keeps the two ticket pages she opened and their files, nothing else
    // (not the link that did not work, not the query).
    let (paths, names) = cached(&browser).await;
    assert_eq!(names, ["encore-ticket-v1"], "one cache");
    let expected: BTreeSet<String> = [
        "/assets/patron.css",
        "/assets/ticket-offline.js",
        "/assets/totp.js",
        "/assets/qrcode.js",
        "/assets/ticket.js",
        static_path.as_str(),
        rotating_path.as_str(),
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(paths, expected);

    // The signal goes: the server is stopped, its port answers nothing.
    app.stop_server().await;
    assert!(
        reqwest::Client::new()
            .get(app.url(&static_path))
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .is_err(),
        "the server still answers"
    );

    // She reloads her rotating ticket: it comes back, saying when it was saved, and its code
    // keeps rotating from the saved copy.
    browser.refresh().await.unwrap();
    wait_for_text(&browser, "#saved-copy", "Saved on this phone at").await;
    let saved = find(&browser, "#saved-copy").await.text().await.unwrap();
    assert!(saved.contains("you are offline"), "{saved}");
    assert!(
        london_clocks(opened, read)
            .iter()
            .any(|clock| saved.contains(&format!("at {clock} on "))),
        "the time of the load ({opened} to {read}, London): {saved}"
    );
    wait_for_text(&browser, "#holder", "Ada Lovelace").await;
    find(&browser, "#qr svg").await;
    let value = attr(&browser, "#qr", "data-value").await;
    assert!(!value.is_empty(), "a rotating code is drawn");
    assert_accessible(&browser, "the saved rotating ticket, offline").await;

    // And the other ticket, opened again: the same QR, the details, the venue.
    browser.goto(&app.url(&static_path)).await.unwrap();
    wait_for_text(&browser, "#saved-copy", "you are offline").await;
    wait_for_text(&browser, "#holder", "Ada Lovelace").await;
    wait_for_text(&browser, "#event", "Hamlet").await;
    wait_for_text(&browser, "#venue-address", "New Globe Walk").await;
    let qr = find(&browser, "#qr svg").await.html(false).await.unwrap();
    assert_eq!(qr, static_qr, "the same code");
    assert!(
        browser.find(Locator::Css("#notice")).await.is_err(),
        "the saved copy has no one-time notice"
    );
    assert!(
        !find(&browser, "#offline-ready")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "offline, the page says it is the saved copy, not that it was just saved"
    );
    assert_fits_the_phone(&browser, "the saved ticket").await;
    assert_accessible(&browser, "the saved ticket, offline").await;
    browser.close().await.unwrap();
}

on_both_backends!(
    the_venue_details_round_trip_through_the_api,
    the_console_form_sets_and_clears_them,
    the_ticket_page_shows_the_venue_and_whom_to_ask_for_help,
    the_ticket_page_opens_again_with_no_signal,
);
