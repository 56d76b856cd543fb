//! The door as its staff live it (issue 18), in headless Chromium at phone width (390 px), on
//! both backends: each scanner answer is timed, felt, heard and cleared; a duplicate names the
//! person to check; offline answers name the holder; another performance is named; the page
//! says what it scans for and how many it let in; a wrong key is a red error; a fresh device
//! starts with the set-up; the offline list is in words; the arrivals dashboard names its
//! performance, who is still to come and why scans were refused. Every page state passes
//! axe-core, and its controls are reachable by keyboard and at least 44 px square.

use std::time::Instant;

use chrono::{DateTime, Utc};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::browser::{find, wait_for_exact_text, wait_for_text, Chromedriver};
use crate::console_browser::assert_accessible;
use crate::helpers::{on_both_backends, ticket_request, TestApp};
use crate::scanner_page::{text, use_key, within_limit};
use encore::domain::Role;

/// Records what the page asks of the vibration motor and the speaker, in place of both:
/// `__feedback.vibrations` (each pattern) and `__feedback.tones` (each tone's frequency).
const INSTRUMENT: &str = r#"
window.__feedback = { vibrations: [], tones: [] };
Object.defineProperty(navigator, 'vibrate', {
  configurable: true,
  value: (pattern) => { window.__feedback.vibrations.push(pattern); return true; },
});
class RecordingAudio {
  constructor() { this.currentTime = 0; this.destination = {}; this.state = 'running'; }
  resume() { return Promise.resolve(); }
  createGain() { return { gain: { value: 1 }, connect() {} }; }
  createOscillator() {
    const oscillator = {
      type: 'sine', frequency: { value: 0 }, connect() {}, stop() {},
      start() { window.__feedback.tones.push(oscillator.frequency.value); },
    };
    return oscillator;
  }
}
window.AudioContext = RecordingAudio;
window.webkitAudioContext = RecordingAudio;
"#;

/// What the page asked of the motor and speaker since the last call; forgets it.
async fn feedback(browser: &Client) -> (Value, Value) {
    let recorded = browser
        .execute(
            "const f = window.__feedback; window.__feedback = { vibrations: [], tones: [] }; return f;",
            vec![],
        )
        .await
        .unwrap();
    (recorded["vibrations"].clone(), recorded["tones"].clone())
}

/// The scanner page in a fresh phone-sized browser, its feedback recorded.
async fn open_scanner(app: &TestApp) -> (Chromedriver, Client) {
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser.goto(&app.url("/scan")).await.unwrap();
    browser.execute(INSTRUMENT, vec![]).await.unwrap();
    (driver, browser)
}

/// Sets the scanner up as a steward would: the key, the performance, the gate.
async fn set_up(browser: &Client, key: &str, performance: i64, gate: &str) {
    use_key(browser, key).await;
    find(browser, "#performance")
        .await
        .select_by_value(&performance.to_string())
        .await
        .unwrap();
    type_into(browser, "#gate", gate).await;
    wait_for_text(browser, "#scanning-for", "Scanning for").await;
    wait_for_text(browser, "#header-gate", &format!("Gate {gate}")).await;
}

/// Replaces a field's value by typing, and leaves it (so that its change is taken).
async fn type_into(browser: &Client, css: &str, value: &str) {
    let field = find(browser, css).await;
    field.clear().await.unwrap();
    field
        .send_keys(&format!("{value}{}", char::from(Key::Tab)))
        .await
        .unwrap();
}

async fn enter_token(browser: &Client, token: &str) {
    find(browser, "#token")
        .await
        .send_keys(token)
        .await
        .unwrap();
    find(browser, "#check").await.click().await.unwrap();
}

/// A ticket with a seat, issued by the admin.
async fn issue_seated(
    app: &TestApp,
    performance: i64,
    name: &str,
    section: &str,
    seat: &str,
) -> Value {
    let mut request = ticket_request(
        name,
        &format!("{}@example.org", name.to_lowercase().replace(' ', ".")),
    );
    request["section"] = json!(section);
    request["seat"] = json!(seat);
    let response = app
        .post(
            &format!("/api/v1/performances/{performance}/tickets"),
            &app.admin_key,
            &request,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

fn token(ticket: &Value) -> String {
    ticket["token"].as_str().unwrap().to_string()
}

/// What the page's own clock words make of an instant (the browser's locale and zone).
async fn browser_label(browser: &Client, function: &str, at: &str) -> String {
    browser
        .execute(
            &format!("return Door.{function}(arguments[0]);"),
            vec![json!(at)],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

/// Every visible control of the page is at least 44 × 44 px, and Tab reaches each in turn.
async fn assert_controls_usable(browser: &Client, page: &str) {
    let controls = browser
        .execute(
            r#"const visible = (e) => e.getClientRects().length > 0 && !e.disabled;
               return [...document.querySelectorAll('main a[href], main button, main input, main select')]
                 .filter(visible)
                 .map((e) => { const r = e.getBoundingClientRect();
                   return { name: e.id || e.textContent.trim(), width: r.width, height: r.height }; });"#,
            vec![],
        )
        .await
        .unwrap();
    let controls = controls.as_array().unwrap().clone();
    assert!(!controls.is_empty(), "{page} has controls");
    let small: Vec<&Value> = controls
        .iter()
        .filter(|c| c["width"].as_f64().unwrap() < 44.0 || c["height"].as_f64().unwrap() < 44.0)
        .collect();
    assert!(
        small.is_empty(),
        "tap targets under 44 px on {page}: {small:?}"
    );

    // From the first control, Tab after Tab: every other control gets the focus in turn.
    let first = browser
        .execute(
            r#"const e = document.querySelector('main a[href], main button:not([hidden]), main input, main select');
               e.focus(); return e.id || e.textContent.trim();"#,
            vec![],
        )
        .await
        .unwrap();
    let mut reached = vec![first.as_str().unwrap_or_default().to_string()];
    for _ in 0..controls.len() + 3 {
        let tab = KeyActions::new("keyboard".into())
            .then(KeyAction::Down {
                value: Key::Tab.into(),
            })
            .then(KeyAction::Up {
                value: Key::Tab.into(),
            });
        browser.perform_actions(tab).await.unwrap();
        let focused = browser
            .execute(
                "const e = document.activeElement; return e.id || e.textContent.trim();",
                vec![],
            )
            .await
            .unwrap();
        reached.push(focused.as_str().unwrap_or_default().to_string());
    }
    for control in &controls {
        let name = control["name"].as_str().unwrap();
        assert!(
            reached.iter().any(|r| r == name),
            "{name} on {page} is not reached by Tab: {reached:?}"
        );
    }
}

// ---- Admitted and refused: the time, the clearing, the buzz and the beeps, the mute ----

async fn an_answer_shows_its_time_buzzes_beeps_and_clears(app: TestApp) {
    within_limit(async {
        let performance = app.create_performance(10).await;
        let tickets = app.issue_bulk(performance, 3).await;
        let (_driver, browser) = open_scanner(&app).await;
        set_up(&browser, &app.key(Role::Scanner), performance, "north").await;
        type_into(&browser, "#clear-after", "60").await;
        assert_controls_usable(&browser, "/scan (ready)").await;

        enter_token(&browser, &token(&tickets[0])).await;
        wait_for_exact_text(&browser, "#result-title", "Admitted").await;
        let time = text(&browser, "#result-time").await;
        let now = browser_label(&browser, "timeLabel", &Utc::now().to_rfc3339()).await;
        assert!(time.starts_with("at "), "{time}");
        // The answer's own time, to the second: within a few seconds of now.
        let shown = &time[3..];
        assert_eq!(shown.len(), now.len(), "{shown} vs {now}");
        let (vibrations, tones) = feedback(&browser).await;
        assert_eq!(vibrations, json!([[120]]), "one short buzz for admitted");
        assert_eq!(
            tones,
            json!([880, 1320]),
            "two rising high beeps for admitted"
        );
        assert_accessible(&browser, "/scan (admitted)").await;

        enter_token(&browser, "not-a-ticket").await;
        wait_for_exact_text(&browser, "#result-title", "Not a ticket code").await;
        assert!(find(&browser, "#result")
            .await
            .attr("class")
            .await
            .unwrap()
            .unwrap()
            .contains("refused"));
        assert!(text(&browser, "#result-time").await.starts_with("at "));
        let (vibrations, tones) = feedback(&browser).await;
        assert_eq!(
            vibrations,
            json!([[300, 120, 300]]),
            "two long buzzes for refused"
        );
        assert_eq!(tones, json!([220, 165]), "two low tones for refused");
        assert_accessible(&browser, "/scan (refused)").await;

        // Cleared after the delay set up (2 s here, 4 by default), back to "Ready".
        type_into(&browser, "#clear-after", "2").await;
        enter_token(&browser, &token(&tickets[1])).await;
        wait_for_exact_text(&browser, "#result-title", "Admitted").await;
        let shown_at = Instant::now();
        wait_for_exact_text(&browser, "#result-title", "Ready").await;
        let shown_for = shown_at.elapsed().as_secs_f64();
        assert!(
            (1.0..3.5).contains(&shown_for),
            "cleared after {shown_for} s"
        );
        assert_eq!(text(&browser, "#result-time").await, "");
        assert_eq!(text(&browser, "#result-holder").await, "");

        // Muted: no beep, the buzz stays; and the device remembers it.
        feedback(&browser).await;
        find(&browser, "#mute").await.click().await.unwrap();
        assert_eq!(
            find(&browser, "#mute")
                .await
                .attr("aria-pressed")
                .await
                .unwrap()
                .as_deref(),
            Some("true")
        );
        enter_token(&browser, &token(&tickets[2])).await;
        wait_for_exact_text(&browser, "#result-title", "Admitted").await;
        let (vibrations, tones) = feedback(&browser).await;
        assert_eq!(tones, json!([]), "muted: no beep");
        assert_eq!(vibrations, json!([[120]]), "muted: still a buzz");
        browser.refresh().await.unwrap();
        wait_for_text(&browser, "#key-status", "key accepted").await;
        assert_eq!(
            find(&browser, "#mute")
                .await
                .attr("aria-pressed")
                .await
                .unwrap()
                .as_deref(),
            Some("true")
        );
        assert_eq!(
            find(&browser, "#clear-after")
                .await
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("2")
        );
        browser.close().await.unwrap();
    })
    .await;
}

// ---- Already admitted: whom to check ----

async fn already_admitted_names_the_holder_seat_and_first_admission(app: TestApp) {
    within_limit(async {
        let performance = app.create_performance(10).await;
        let ada = issue_seated(&app, performance, "Ada Lovelace", "Stalls", "C3").await;
        let scanner = app.key(Role::Scanner);
        let (status, first) = app
            .scan_with(&scanner, &json!({"token": token(&ada), "gate": "south", "device": "phone-2", "performance_id": performance}))
            .await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let (_driver, browser) = open_scanner(&app).await;
        set_up(&browser, &scanner, performance, "north").await;

        enter_token(&browser, &token(&ada)).await;
        wait_for_exact_text(&browser, "#result-title", "Already admitted").await;
        assert_eq!(text(&browser, "#result-holder").await, "Ada Lovelace");
        let detail = text(&browser, "#result-detail").await;
        let on_record = app
            .get_json(&format!("/api/v1/tickets/{}", ada["id"]), &app.admin_key)
            .await;
        let first_time =
            browser_label(&browser, "timeLabel", on_record["admitted_at"].as_str().unwrap()).await;
        assert!(detail.contains("Section Stalls, seat C3"), "{detail}");
        assert!(detail.contains(&format!("First admitted at {first_time}, gate south")), "{detail}");
        assert_accessible(&browser, "/scan (already admitted)").await;
        browser.close().await.unwrap();
    })
    .await;
}

// ---- Offline: the holder and seat from the bundle ----

async fn an_offline_answer_names_the_holder_and_seat_from_the_bundle(app: TestApp) {
    within_limit(async {
        let performance = app.create_performance(10).await;
        let grace = issue_seated(&app, performance, "Grace Hopper", "Circle", "A1").await;
        let (_driver, browser) = open_scanner(&app).await;
        set_up(&browser, &app.key(Role::Scanner), performance, "north").await;
        wait_for_text(&browser, "#bundle", "1 ticket, updated").await;

        // The network goes: every call to the server fails as an unreachable one does.
        browser
            .execute(
                "window.fetch = () => Promise.reject(new TypeError('Failed to fetch'));",
                vec![],
            )
            .await
            .unwrap();
        enter_token(&browser, &token(&grace)).await;
        wait_for_text(&browser, "#result-mode", "offline").await;
        assert_eq!(text(&browser, "#result-title").await, "Admitted");
        assert_eq!(text(&browser, "#result-holder").await, "Grace Hopper");
        let detail = text(&browser, "#result-detail").await;
        assert!(detail.contains("Section Circle, seat A1"), "{detail}");
        assert_accessible(&browser, "/scan (offline admitted)").await;

        // Again: refused offline, naming whom this device let in, and when.
        enter_token(&browser, &token(&grace)).await;
        wait_for_exact_text(&browser, "#result-title", "Already admitted").await;
        assert_eq!(text(&browser, "#result-holder").await, "Grace Hopper");
        let detail = text(&browser, "#result-detail").await;
        assert!(detail.contains("Section Circle, seat A1"), "{detail}");
        assert!(detail.contains("gate north"), "{detail}");
        browser.close().await.unwrap();
    })
    .await;
}

// ---- Another performance, named ----

async fn another_performance_is_named(app: TestApp) {
    within_limit(async {
        let tonight = app.create_performance(10).await;
        let later_at: DateTime<Utc> = Utc::now() + chrono::Duration::hours(2);
        let later = app.create_performance_at(later_at, 10).await;
        let ticket = app.issue_ticket(later).await;
        let (_driver, browser) = open_scanner(&app).await;
        set_up(&browser, &app.key(Role::Scanner), tonight, "north").await;

        enter_token(&browser, &token(&ticket)).await;
        wait_for_exact_text(&browser, "#result-title", "Another performance").await;
        let when = browser_label(&browser, "minuteLabel", &later_at.to_rfc3339()).await;
        let detail = text(&browser, "#result-detail").await;
        assert_eq!(detail, format!("This ticket is for Hamlet · {when}."));
        assert_accessible(&browser, "/scan (another performance)").await;
        browser.close().await.unwrap();
    })
    .await;
}

// ---- The header: performance, gate, this device's admissions ----

async fn the_header_shows_performance_gate_and_device_count(app: TestApp) {
    within_limit(async {
        let starts_at = Utc::now() + chrono::Duration::hours(1);
        let performance = app.create_performance_at(starts_at, 10).await;
        let tickets = app.issue_bulk(performance, 2).await;
        let (_driver, browser) = open_scanner(&app).await;
        set_up(&browser, &app.key(Role::Scanner), performance, "east").await;
        let when = browser_label(&browser, "minuteLabel", &starts_at.to_rfc3339()).await;
        assert_eq!(
            text(&browser, "#scanning-for").await,
            format!("Scanning for Hamlet · {when}")
        );
        assert_eq!(text(&browser, "#header-gate").await, "Gate east");
        assert_eq!(text(&browser, "#device-count").await, "0");
        // The header comes first on the page.
        let first = browser
            .execute(
                "return document.querySelector('main').firstElementChild.id;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(first, "door-header");

        for ticket in &tickets {
            enter_token(&browser, &token(ticket)).await;
            wait_for_exact_text(&browser, "#result-title", "Admitted").await;
        }
        // A refusal does not count.
        enter_token(&browser, &token(&tickets[0])).await;
        wait_for_exact_text(&browser, "#result-title", "Already admitted").await;
        wait_for_exact_text(&browser, "#device-count", "2").await;
        assert_accessible(&browser, "/scan (header with count)").await;
        // Kept on the device.
        browser.refresh().await.unwrap();
        wait_for_text(&browser, "#scanning-for", "Scanning for").await;
        wait_for_exact_text(&browser, "#device-count", "2").await;
        assert_eq!(text(&browser, "#header-gate").await, "Gate east");
        browser.close().await.unwrap();
    })
    .await;
}

// ---- A wrong key: a red error ----

async fn a_wrong_key_is_a_red_error(app: TestApp) {
    within_limit(async {
        let _performance = app.create_performance(10).await;
        let (_driver, browser) = open_scanner(&app).await;
        find(&browser, "#key")
            .await
            .send_keys("enc_not_a_key")
            .await
            .unwrap();
        find(&browser, "#key-save").await.click().await.unwrap();
        wait_for_text(&browser, "#key-status", "this key does not work").await;
        let status = find(&browser, "#key-status").await;
        assert_eq!(status.attr("role").await.unwrap().as_deref(), Some("alert"));
        let background = browser
            .execute(
                "return getComputedStyle(document.getElementById('key-status')).backgroundColor;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(background, "rgb(179, 38, 30)", "a red box");
        let first = browser
            .execute(
                "return document.querySelector('main').firstElementChild.id;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(first, "setup", "the set-up stays first until a key works");
        assert_accessible(&browser, "/scan (wrong key)").await;
        browser.close().await.unwrap();
    })
    .await;
}

// ---- A fresh device: the set-up first ----

async fn a_fresh_device_shows_the_set_up_first(app: TestApp) {
    within_limit(async {
        let performance = app.create_performance(10).await;
        let (_driver, browser) = open_scanner(&app).await;
        let order = "return [...document.querySelector('main').children].map((e) => e.id);";
        wait_for_text(&browser, "#key-status", "paste a key").await;
        let sections = browser.execute(order, vec![]).await.unwrap();
        assert_eq!(sections[0], "setup", "{sections}");
        assert_accessible(&browser, "/scan (fresh device)").await;
        assert_controls_usable(&browser, "/scan (fresh device)").await;

        set_up(&browser, &app.key(Role::Scanner), performance, "north").await;
        let sections = browser.execute(order, vec![]).await.unwrap();
        assert_eq!(
            sections,
            json!(["door-header", "scanner", "door-status", "setup"]),
            "set up: the scanner first, the set-up last"
        );
        browser.close().await.unwrap();
    })
    .await;
}

// ---- The offline list in words ----

async fn the_offline_list_is_in_words(app: TestApp) {
    within_limit(async {
        let performance = app.create_performance(10).await;
        app.issue_bulk(performance, 3).await;
        let (_driver, browser) = open_scanner(&app).await;
        set_up(&browser, &app.key(Role::Scanner), performance, "north").await;
        wait_for_text(&browser, "#bundle", "3 tickets, updated ").await;
        let words = text(&browser, "#bundle").await;
        assert!(!words.contains("version"), "{words}");
        let clock = words.rsplit("updated ").next().unwrap();
        let now = browser_label(&browser, "clockLabel", &Utc::now().to_rfc3339()).await;
        assert_eq!(
            clock.len(),
            now.len(),
            "{clock} is a time of day like {now}"
        );
        assert_accessible(&browser, "/scan (offline list loaded)").await;

        // A ticket issued later is on the list at the next refresh.
        app.issue_ticket(performance).await;
        wait_for_text(&browser, "#bundle", "4 tickets, updated ").await;
        browser.close().await.unwrap();
    })
    .await;
}

// ---- The arrivals dashboard ----

async fn the_arrivals_dashboard_names_its_performance_who_is_to_come_and_refusals(app: TestApp) {
    within_limit(async {
        let starts_at = Utc::now() + chrono::Duration::hours(1);
        let performance = app.create_performance_at(starts_at, 50).await;
        let tickets = app.issue_bulk(performance, 4).await;
        let scanner = app.key(Role::Scanner);
        for ticket in &tickets[..2] {
            let (_, body) = app.scan(&scanner, &token(ticket), "north").await;
            assert_eq!(body["outcome"], "admitted", "{body}");
        }
        let (_, body) = app.scan(&scanner, &token(&tickets[0]), "north").await;
        assert_eq!(body["outcome"], "already_admitted", "{body}");
        // The last ticket is canceled, and shown twice at the door.
        let canceled = app
            .post(
                &format!("/api/v1/tickets/{}/cancel", tickets[3]["id"]),
                &app.admin_key,
                &json!({"reason": "the holder asked", "refund_to_credit": false}),
            )
            .await;
        assert_eq!(canceled.status(), StatusCode::OK);
        for _ in 0..2 {
            let (_, body) = app.scan(&scanner, &token(&tickets[3]), "south").await;
            assert_eq!(body["outcome"], "canceled", "{body}");
        }

        let driver = Chromedriver::start().await;
        let browser = driver.browser().await;
        browser.goto(&app.url("/box-office/arrivals")).await.unwrap();
        use_key(&browser, &app.key(Role::BoxOffice)).await;
        let when = browser_label(&browser, "minuteLabel", &starts_at.to_rfc3339()).await;
        wait_for_exact_text(&browser, "#performance-name", &format!("Hamlet · {when}")).await;
        wait_for_exact_text(&browser, "#admitted", "2").await;
        assert_eq!(text(&browser, "#still-to-arrive").await, "1", "the canceled ticket is not awaited");
        wait_for_exact_text(&browser, "#refusals tr[data-reason=canceled] td:first-child", "Canceled").await;
        assert_eq!(text(&browser, "#refusals tr[data-reason=canceled] td:last-child").await, "2");
        assert_eq!(text(&browser, "#refusals tr[data-reason=already_admitted] td:first-child").await, "Already admitted");
        assert_eq!(text(&browser, "#refusals tr[data-reason=already_admitted] td:last-child").await, "1");
        let reasons = browser.find_all(fantoccini::Locator::Css("#refusals tbody tr")).await.unwrap();
        assert_eq!(reasons.len(), 2, "admissions are not refusals");

        // Readable on a phone: the chart's labels at 12 px or more as shown, every figure labelled.
        let smallest = browser
            .execute(
                "return Math.min(...[...document.querySelectorAll('#chart text')].map((t) => t.getBoundingClientRect().height));",
                vec![],
            )
            .await
            .unwrap();
        assert!(smallest.as_f64().unwrap() >= 12.0, "chart labels {smallest} px high");
        let labels = browser
            .execute("return [...document.querySelectorAll('.figures dt')].map((d) => d.textContent);", vec![])
            .await
            .unwrap();
        assert_eq!(labels, json!(["Admitted", "Still to arrive", "Tickets issued", "Seats"]));
        assert_accessible(&browser, "/box-office/arrivals").await;
        assert_controls_usable(&browser, "/box-office/arrivals").await;
        browser.close().await.unwrap();
    })
    .await;
}

// ---- The offline bundle's holders (what the offline answers name) ----

async fn the_offline_bundle_names_each_holder_that_still_admits(app: TestApp) {
    // Four hours ahead: before the cut-off for an exchange.
    let performance = app
        .create_performance_at(Utc::now() + chrono::Duration::hours(4), 10)
        .await;
    let ada = issue_seated(&app, performance, "Ada Lovelace", "Stalls", "C3").await;
    let grace = app
        .issue_to(performance, "Grace Hopper", "grace@example.org")
        .await;
    let alan = app
        .issue_to(performance, "Alan Turing", "alan@example.org")
        .await;
    let exchanged = app
        .post(
            &format!("/api/v1/tickets/{}/exchange", alan["id"]),
            &app.admin_key,
            &json!({"into": "credit"}),
        )
        .await;
    assert_eq!(exchanged.status(), StatusCode::OK);
    let scanner = app.key(Role::Scanner);
    let path = format!("/api/v1/performances/{performance}/offline-bundle");

    let whole = app.get_json(&path, &scanner).await;
    assert_eq!(whole["complete"], true, "{whole}");
    assert_eq!(
        whole["tickets"], 2,
        "Alan's exchanged ticket no longer admits: {whole}"
    );
    assert_eq!(
        whole["holders"],
        json!([
            {"ticket_id": ada["id"], "holder_name": "Ada Lovelace", "seat": "C3", "section": "Stalls"},
            {"ticket_id": grace["id"], "holder_name": "Grace Hopper", "seat": null, "section": null},
        ])
    );

    // A later bundle carries no holders, but says how many tickets admit now.
    app.issue_to(performance, "Mary Shelley", "mary@example.org")
        .await;
    let later = app
        .get_json(&format!("{path}?since={}", whole["version"]), &scanner)
        .await;
    assert_eq!(later["complete"], false, "{later}");
    assert_eq!(later["holders"], json!([]), "{later}");
    assert_eq!(later["tickets"], 3, "{later}");
}

on_both_backends!(
    the_offline_bundle_names_each_holder_that_still_admits,
    an_answer_shows_its_time_buzzes_beeps_and_clears,
    already_admitted_names_the_holder_seat_and_first_admission,
    an_offline_answer_names_the_holder_and_seat_from_the_bundle,
    another_performance_is_named,
    the_header_shows_performance_gate_and_device_count,
    a_wrong_key_is_a_red_error,
    a_fresh_device_shows_the_set_up_first,
    the_offline_list_is_in_words,
    the_arrivals_dashboard_names_its_performance_who_is_to_come_and_refusals,
);
