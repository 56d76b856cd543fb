//! Rotating codes (issue 17): an event's tickets show a TOTP code that changes every few
//! seconds. The door admits the code of now (give or take the leeway), refuses an old one as
//! `stale_code`, one of an earlier generation as `superseded`, and a static code of the event as
//! `static_code_not_accepted` — except a paper code the box office printed, recorded as paper.
//! The code appears only from the event's reveal on. The offline bundle carries the secrets of
//! its performance's admitting tickets, and nothing more. On both backends; the pages in
//! headless Chromium (the scanner offline, the ticket page rotating with the server gone).

use std::net::TcpListener;
use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::browser::{find, wait_for_exact_text, wait_for_text, Chromedriver};
use crate::helpers::{
    on_both_backends, run_cli, test_config, ticket_request, Backend, ServeProcess, TestApp,
    TestDatabase,
};
use crate::scanner_page::{screenshot, text, use_key, within_limit};
use encore::domain::ids::{PerformanceId, TicketId};
use encore::domain::rotating::{CodeSubject, RotatingBarcode};
use encore::domain::Role;
use encore::service::{rotating, Encore};
use encore::tokens::{LinkClaims, LinkPurpose};

/// A rotating event (with `extra` fields) and a performance of it starting in `starts_in`.
async fn rotating_performance(app: &TestApp, extra: Value, starts_in: chrono::Duration) -> i64 {
    let mut event = json!({"name": "Giselle", "venue": "Opera", "time_zone": "UTC",
        "barcode": "rotating"});
    event
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let event = app
        .post_expecting("/api/v1/events", &event, StatusCode::CREATED)
        .await;
    assert_eq!(event["barcode"], "rotating", "{event}");
    let performance = app
        .post_expecting(
            &format!("/api/v1/events/{}/performances", event["id"]),
            &json!({"starts_at": Utc::now() + starts_in, "capacity": 50}),
            StatusCode::CREATED,
        )
        .await;
    performance["id"].as_i64().unwrap()
}

/// The ticket's rotating barcode as the library gives it to a wallet pass.
fn barcode(app: &TestApp, ticket: &Value) -> RotatingBarcode {
    let id = TicketId(ticket["id"].as_i64().unwrap());
    rotating::ticket_barcode(&app.encore, id)
        .expect("the ticket is on record")
        .expect("a valid ticket of a rotating event has a rotating barcode")
}

fn now() -> i64 {
    Utc::now().timestamp()
}

/// The kind of code each scan of `ticket` presented, in order.
fn kinds(app: &TestApp, ticket: i64, outcome: &str) -> i64 {
    app.db.count(&format!(
        "SELECT COUNT(*) AS n FROM arrival_events WHERE ticket_id = {ticket} \
         AND outcome = '{outcome}'"
    ))
}

fn code_kind_count(app: &TestApp, ticket: i64, kind: &str) -> i64 {
    app.db.count(&format!(
        "SELECT COUNT(*) AS n FROM arrival_events WHERE ticket_id = {ticket} \
         AND code_kind = '{kind}'"
    ))
}

/// The code of now admits (and is recorded as rotating); one from the step before still does
/// (the leeway of one step); one from minutes ago is `stale_code`, and so is a wrong number.
async fn the_door_admits_the_code_of_now_and_refuses_a_stale_one(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = rotating_performance(&app, json!({}), chrono::Duration::hours(1)).await;
    let tickets = app.issue_bulk(performance, 4).await;
    let code = barcode(&app, &tickets[0]);
    assert_eq!(code.period_millis(), 15_000);
    assert_eq!(code.digits, 8);
    assert_eq!(code.secret_base16().len(), 40);
    assert_eq!(
        code.value_pattern,
        format!(
            "RC1:{performance}:{}:1:15:{{totp_value_0}}",
            tickets[0]["id"]
        )
    );

    let (status, body) = app.scan(&scanner, &code.value_at(now()), "north").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["holder_name"], "Guest 0");
    let id = tickets[0]["id"].as_i64().unwrap();
    assert_eq!(code_kind_count(&app, id, "rotating"), 1);

    let previous_step = barcode(&app, &tickets[1]).value_at(now() - 15);
    let (status, body) = app.scan(&scanner, &previous_step, "north").await;
    assert_eq!(status, StatusCode::OK, "one step of leeway: {body}");

    let screenshot = barcode(&app, &tickets[2]).value_at(now() - 120);
    let (status, body) = app.scan(&scanner, &screenshot, "north").await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("stale_code")),
        "{body}"
    );
    let live = barcode(&app, &tickets[2]).value_at(now());
    let digits = &live[live.len() - 8..];
    let wrong: String = digits
        .chars()
        .map(|c| {
            if c == '9' {
                '0'
            } else {
                char::from(c as u8 + 1)
            }
        })
        .collect();
    let mistyped = format!("{}{wrong}", &live[..live.len() - 8]);
    assert_eq!(
        app.scan(&scanner, &mistyped, "north").await.1["outcome"],
        "stale_code"
    );
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM tickets WHERE admitted_at IS NOT NULL"),
        2
    );
    // The live code of the ticket still admits; then it is already admitted.
    assert_eq!(app.scan(&scanner, &live, "north").await.0, StatusCode::OK);
    let (status, body) = app
        .scan(
            &scanner,
            &barcode(&app, &tickets[2]).value_at(now()),
            "south",
        )
        .await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (StatusCode::CONFLICT, Some("already_admitted"))
    );
    assert_eq!(body["first_admission"]["gate"], "north");
    // Another performance's door refuses it.
    let (_, body) = app
        .scan_with(
            &scanner,
            &json!({"token": barcode(&app, &tickets[3]).value_at(now()), "gate": "north",
                "device": "d", "performance_id": performance + 1000}),
        )
        .await;
    assert_eq!(body["outcome"], "wrong_performance", "{body}");
}

/// After a transfer taken back, the ticket is at a new generation: the code of the old one is
/// `superseded`, even at the right moment; the new generation's code admits. A claimed
/// ticket's old code is `transferred`.
async fn a_code_of_an_earlier_generation_is_superseded(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    // Four hours ahead: before the cut-off for changes, inside the scan window.
    let performance = rotating_performance(&app, json!({}), chrono::Duration::hours(4)).await;
    let tickets = app.issue_bulk(performance, 2).await;
    let id = tickets[0]["id"].as_i64().unwrap();
    let first = barcode(&app, &tickets[0]);
    let offered = app
        .post(
            &format!("/api/v1/tickets/{id}/transfer"),
            &app.admin_key,
            &json!({"name": "Grace", "email": "grace@example.org"}),
        )
        .await;
    assert_eq!(offered.status(), StatusCode::CREATED);
    let back = app
        .post(
            &format!("/api/v1/tickets/{id}/transfer/cancel"),
            &app.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(back.status(), StatusCode::OK);
    let second = barcode(&app, &tickets[0]);
    assert_eq!(second.subject.generation, first.subject.generation + 1);
    assert_ne!(
        second.secret, first.secret,
        "a new generation, a new secret"
    );

    let (status, body) = app.scan(&scanner, &first.value_at(now()), "north").await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (StatusCode::CONFLICT, Some("superseded")),
        "{body}"
    );
    assert_eq!(kinds(&app, id, "superseded"), 1);
    let (status, body) = app.scan(&scanner, &second.value_at(now()), "north").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Claimed by a friend: the sender's code no longer admits, the friend's does.
    let other = tickets[1]["id"].as_i64().unwrap();
    let old = barcode(&app, &tickets[1]);
    let offered = app
        .post(
            &format!("/api/v1/tickets/{other}/transfer"),
            &app.admin_key,
            &json!({"name": "Alan", "email": "alan@example.org"}),
        )
        .await;
    assert_eq!(offered.status(), StatusCode::CREATED);
    let claimed = app.claim(other, old.subject.generation).await;
    let (_, body) = app.scan(&scanner, &old.value_at(now()), "north").await;
    assert_eq!(body["outcome"], "transferred", "{body}");
    let (status, body) = app
        .scan(&scanner, &barcode(&app, &claimed).value_at(now()), "north")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["holder_name"], "Alan");
}

/// The emailed (static) code of a rotating event is refused; a paper code the box office
/// printed admits and is recorded as paper; at a static event nothing changes for static codes.
async fn static_codes_are_refused_but_paper_codes_admit(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = rotating_performance(&app, json!({}), chrono::Duration::hours(1)).await;
    let tickets = app.issue_bulk(performance, 2).await;
    let id = tickets[0]["id"].as_i64().unwrap();
    let (status, body) = app
        .scan(&scanner, tickets[0]["token"].as_str().unwrap(), "north")
        .await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("static_code_not_accepted")
        ),
        "{body}"
    );
    assert_eq!(code_kind_count(&app, id, "static"), 1);

    let paper = app
        .get_json(&format!("/api/v1/tickets/{id}/paper-code"), &app.admin_key)
        .await;
    assert_eq!(paper["generation"], 1, "{paper}");
    let png = app
        .get(
            &format!("/api/v1/tickets/{id}/paper-code.png"),
            &app.admin_key,
        )
        .await;
    assert_eq!(png.status(), StatusCode::OK);
    assert_eq!(png.headers()["content-type"], "image/png");
    // A scanner may not print one.
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{id}/paper-code"), &scanner)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let (status, body) = app
        .scan(&scanner, paper["token"].as_str().unwrap(), "box office")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(code_kind_count(&app, id, "paper"), 1);
    let history = app
        .get_json(&format!("/api/v1/tickets/{id}/history"), &app.admin_key)
        .await;
    assert!(history.to_string().contains("static_code_not_accepted"));

    // The barcode switched back to static: the emailed code admits again.
    let event = app
        .get_json(
            &format!("/api/v1/performances/{performance}"),
            &app.admin_key,
        )
        .await["event_id"]
        .clone();
    let changed = app
        .client
        .patch(app.url(&format!("/api/v1/events/{event}")))
        .bearer_auth(&app.admin_key)
        .json(&json!({"barcode": "static"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let (status, body) = app
        .scan(&scanner, tickets[1]["token"].as_str().unwrap(), "north")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A ticket page link, as the emails carry it.
fn view_link(app: &TestApp, ticket: &Value) -> String {
    link_for(&app.encore, ticket)
}

fn link_for(encore: &Encore, ticket: &Value) -> String {
    let claims = LinkClaims {
        ticket_id: TicketId(ticket["id"].as_i64().unwrap()),
        generation: ticket["generation"].as_i64().unwrap() as i32,
        purpose: LinkPurpose::View,
        exp: (Utc::now() + chrono::Duration::hours(1)).timestamp(),
    };
    encore.keys.sign(&claims).unwrap()
}

/// With `reveal_hours_before_doors`, the page says when the code appears and carries no
/// secret until then, and the door refuses the code as `not_yet_valid`; from the reveal on
/// (here: the event moves it earlier) the page carries it and the door admits.
async fn the_code_appears_only_from_the_reveal_on(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    // Doors in three hours; the code shows one hour before them.
    let performance = rotating_performance(
        &app,
        json!({"rotation_seconds": 20, "reveal_hours_before_doors": 1}),
        chrono::Duration::hours(4),
    )
    .await;
    let ticket = app.issue_ticket(performance).await;
    let code = barcode(&app, &ticket);
    assert_eq!(code.period_millis(), 20_000);
    let page = app
        .client
        .get(app.url(&format!("/t/{}", view_link(&app, &ticket))))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"rotating-from\""), "{html}");
    assert!(
        !html.contains(&code.secret_base16()),
        "no secret before the reveal"
    );
    assert!(!html.contains("data-key"), "{html}");
    let (status, body) = app.scan(&scanner, &code.value_at(now()), "north").await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_yet_valid")),
        "{body}"
    );

    let event = app
        .get_json(
            &format!("/api/v1/performances/{performance}"),
            &app.admin_key,
        )
        .await["event_id"]
        .clone();
    let changed = app
        .client
        .patch(app.url(&format!("/api/v1/events/{event}")))
        .bearer_auth(&app.admin_key)
        .json(&json!({"barcode": "rotating", "rotation_seconds": 20,
            "reveal_hours_before_doors": 6}))
        .send()
        .await
        .unwrap();
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["reveal_hours_before_doors"], 6, "{changed}");
    let page = app
        .client
        .get(app.url(&format!("/t/{}", view_link(&app, &ticket))))
        .send()
        .await
        .unwrap();
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&code.secret_base16()),
        "the holder's page carries it"
    );
    assert!(html.contains("brightness"), "{html}");
    let (status, body) = app.scan(&scanner, &code.value_at(now()), "north").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A period given without the barcode is refused, naming the field.
    let refused = app
        .client
        .patch(app.url(&format!("/api/v1/events/{event}")))
        .bearer_auth(&app.admin_key)
        .json(&json!({"rotation_seconds": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// The bundle of a rotating performance carries the secret of each of its admitting tickets
/// (and of no other performance's, nor of an ended ticket); a static performance's none. An
/// upload of a rotating code scanned offline is merged like any other.
async fn the_offline_bundle_holds_only_its_performances_secrets(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = rotating_performance(&app, json!({}), chrono::Duration::hours(1)).await;
    let elsewhere = rotating_performance(&app, json!({}), chrono::Duration::hours(1)).await;
    let static_one = app.create_performance(10).await;
    let tickets = app.issue_bulk(performance, 3).await;
    let others = app.issue_bulk(elsewhere, 2).await;
    app.issue_bulk(static_one, 1).await;
    let canceled = tickets[2]["id"].as_i64().unwrap();
    let response = app
        .post(
            &format!("/api/v1/tickets/{canceled}/cancel"),
            &app.admin_key,
            &json!({"reason": "Asked to", "refund_to_credit": false}),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());

    let bundle = app
        .get_json(
            &format!("/api/v1/performances/{performance}/offline-bundle"),
            &scanner,
        )
        .await;
    let rotating = &bundle["rotating"];
    assert_eq!(rotating["period_seconds"], 15, "{bundle}");
    assert_eq!(rotating["digits"], 8);
    assert_eq!(rotating["leeway_steps"], 1);
    let held: Vec<(i64, String)> = rotating["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["ticket_id"].as_i64().unwrap(),
                t["key"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected: Vec<(i64, String)> = tickets[..2]
        .iter()
        .map(|t| (t["id"].as_i64().unwrap(), barcode(&app, t).secret_base16()))
        .collect();
    assert_eq!(held, expected, "this performance's admitting tickets only");
    let text = bundle.to_string();
    for other in &others {
        assert!(!text.contains(&barcode(&app, other).secret_base16()));
    }
    let static_bundle = app
        .get_json(
            &format!("/api/v1/performances/{static_one}/offline-bundle"),
            &scanner,
        )
        .await;
    assert!(static_bundle["rotating"].is_null(), "{static_bundle}");

    // A scanner that checked codes offline uploads them: the live one admits, a stale one and
    // the emailed static code are recorded as such.
    let scanned_at = Utc::now();
    let code = barcode(&app, &tickets[0]).value_at(scanned_at.timestamp());
    let stale = barcode(&app, &tickets[1]).value_at(scanned_at.timestamp() - 300);
    let upload = app
        .post_expecting(
            "/api/v1/scans/batch",
            &json!({"device": "phone-9", "scans": [
                {"token": code, "gate": "north", "scanned_at": scanned_at},
                {"token": stale, "gate": "north", "scanned_at": scanned_at,
                    "refused": "stale_code"},
                {"token": tickets[1]["token"], "gate": "north", "scanned_at": scanned_at},
            ]}),
            StatusCode::OK,
        )
        .await;
    let outcomes: Vec<&str> = upload["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["admitted", "stale_code", "static_code_not_accepted"],
        "{upload}"
    );
    assert_eq!(
        code_kind_count(&app, tickets[0]["id"].as_i64().unwrap(), "rotating"),
        1
    );
}

/// A rotating event's confirmation carries no QR (its door refuses static codes) and sends
/// the holder to the ticket page, which shows the code.
async fn a_rotating_events_confirmation_sends_the_holder_to_the_page(app: TestApp) {
    let performance = rotating_performance(&app, json!({}), chrono::Duration::days(2)).await;
    app.issue_ticket(performance).await;
    assert_eq!(app.worker().deliver_due().await.unwrap(), 1);
    let file = std::fs::read_dir(&app.config.mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "eml"))
        .expect("the confirmation, as a file");
    let raw = std::fs::read(file).unwrap();
    let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(message.attachment_count(), 0, "no QR image");
    let text = message.body_text(0).unwrap();
    assert!(
        text.contains("open your ticket page: its code changes every 15 seconds"),
        "{text}"
    );
    assert!(!text.contains("QR code in this email"), "{text}");
    let html = message.body_html(0).unwrap();
    assert!(!html.contains("cid:qr"), "{html}");
    assert!(html.contains("/t/"), "{html}");
}

on_both_backends!(
    a_rotating_events_confirmation_sends_the_holder_to_the_page,
    the_door_admits_the_code_of_now_and_refuses_a_stale_one,
    a_code_of_an_earlier_generation_is_superseded,
    static_codes_are_refused_but_paper_codes_admit,
    the_code_appears_only_from_the_reveal_on,
    the_offline_bundle_holds_only_its_performances_secrets,
);

/// A new staff key with `role`, made by the CLI as an operator would.
fn cli_key(db: &TestDatabase, role: &str) -> String {
    let (code, key, err) = run_cli(&db.url, &["keys", "create", "--role", role, "--name", role]);
    assert_eq!(code, 0, "{err}");
    key.trim().to_string()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A rotating event (every `period` seconds) with a performance in an hour, on `server`.
async fn rotating_on(server: &ServeProcess, admin: &str, period: u32) -> i64 {
    let event = server
        .post_json(
            admin,
            "/api/v1/events",
            &json!({"name": "Gala", "venue": "Hall", "time_zone": "UTC",
                "barcode": "rotating", "rotation_seconds": period}),
        )
        .await;
    let performance = server
        .post_json(
            admin,
            &format!("/api/v1/events/{}/performances", event["id"]),
            &json!({"starts_at": Utc::now() + chrono::Duration::hours(1), "capacity": 10}),
        )
        .await;
    performance["id"].as_i64().expect("a performance id")
}

async fn enter_code(browser: &fantoccini::Client, code: &str) {
    let field = find(browser, "#token").await;
    field.clear().await.unwrap();
    field.send_keys(code).await.unwrap();
    find(browser, "#check").await.click().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scanner_page_checks_rotating_codes_offline() {
    within_limit(scanner_page_checks_rotating_codes_offline()).await;
}

/// With the server gone, the scanner page admits a live rotating code from its bundle (the
/// TOTP computed in the browser), refuses a stale one and the emailed static code, and uploads
/// all three when the server is back.
async fn scanner_page_checks_rotating_codes_offline() {
    let db = TestDatabase::create(Backend::Sqlite);
    let admin = cli_key(&db, "admin");
    let scanner = cli_key(&db, "scanner");
    let port = free_port();
    let server = ServeProcess::start_on(&db.url, port, &[]).await;
    let base = server.base.clone();
    let performance = rotating_on(&server, &admin, 15).await;
    let tickets_path = format!("/api/v1/performances/{performance}/tickets");
    let mut tickets = Vec::new();
    for (name, email) in [("Ada", "ada@example.org"), ("Grace", "grace@example.org")] {
        tickets.push(
            server
                .post_json(&admin, &tickets_path, &ticket_request(name, email))
                .await,
        );
    }
    let bundle = server
        .get_json(
            &scanner,
            &format!("/api/v1/performances/{performance}/offline-bundle"),
        )
        .await;
    // The codes as a wallet would show them, from the bundle's keys.
    let code_of = |i: usize| -> RotatingBarcode {
        let held = &bundle["rotating"]["tickets"][i];
        let secret: [u8; 20] = hex::decode(held["key"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        RotatingBarcode::new(
            CodeSubject {
                performance_id: PerformanceId(performance),
                ticket_id: TicketId(held["ticket_id"].as_i64().unwrap()),
                generation: held["generation"].as_i64().unwrap() as i32,
                period_seconds: 15,
            },
            secret,
        )
    };

    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser.goto(&format!("{base}/scan")).await.unwrap();
    use_key(&browser, &scanner).await;
    wait_for_text(&browser, "#bundle", "tickets, updated").await;
    wait_for_text(&browser, "#page-kept", "kept for offline use").await;

    drop(server);
    browser.refresh().await.unwrap();
    wait_for_text(&browser, "#key-status", "cannot be reached").await;
    wait_for_text(&browser, "#bundle", "tickets, updated").await;

    enter_code(&browser, &code_of(0).value_at(now())).await;
    wait_for_text(&browser, "#result-mode", "offline").await;
    wait_for_text(&browser, "#result-title", "Admitted").await;
    screenshot(&browser, "scanner-page-rotating-offline.png").await;
    enter_code(&browser, &code_of(1).value_at(now() - 600)).await;
    wait_for_text(&browser, "#result-title", "old code").await;
    enter_code(&browser, tickets[1]["token"].as_str().unwrap()).await;
    wait_for_text(&browser, "#result-title", "show the live code").await;
    wait_for_exact_text(&browser, "#queue", "3").await;

    let server = ServeProcess::start_on(&db.url, port, &[]).await;
    wait_for_exact_text(&browser, "#queue", "0").await;
    let ada = server
        .get_json(&admin, &format!("/api/v1/tickets/{}", tickets[0]["id"]))
        .await;
    assert!(ada["admitted_at"].is_string(), "{ada}");
    let arrivals = server
        .get_json(
            &admin,
            &format!("/api/v1/performances/{performance}/arrivals"),
        )
        .await;
    // The stale code names no ticket (its digits did not authenticate it): it is recorded
    // apart from the performance.
    assert_eq!(
        arrivals["attempts_by_outcome"],
        json!({"admitted": 1, "static_code_not_accepted": 1}),
        "{arrivals}"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM arrival_events WHERE outcome = 'stale_code'"),
        1
    );
    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticket_page_keeps_rotating_with_the_server_gone() {
    within_limit(ticket_page_keeps_rotating_with_the_server_gone()).await;
}

/// The ticket page draws the code of now, which the door admits; with the server stopped, a
/// period later it shows another code, still the one of now.
async fn ticket_page_keeps_rotating_with_the_server_gone() {
    const PERIOD: u32 = 5;
    let db = TestDatabase::create(Backend::Sqlite);
    let admin = cli_key(&db, "admin");
    let scanner = cli_key(&db, "scanner");
    let server = ServeProcess::start_on(&db.url, free_port(), &[]).await;
    let performance = rotating_on(&server, &admin, PERIOD).await;
    let tickets_path = format!("/api/v1/performances/{performance}/tickets");
    let ticket = server
        .post_json(
            &admin,
            &tickets_path,
            &ticket_request("Ada Lovelace", "ada@example.org"),
        )
        .await;
    // The service as another process of the same database sees it (same keys): it signs the
    // patron's link and tells what the code must be.
    let config = test_config(&db.url, &db.dir().join("mail"));
    let encore = tokio::task::spawn_blocking(move || Encore::start(&config).unwrap())
        .await
        .unwrap();
    let link = link_for(&encore, &ticket);
    let expected = {
        let encore = encore.clone();
        let id = TicketId(ticket["id"].as_i64().unwrap());
        tokio::task::spawn_blocking(move || rotating::ticket_barcode(&encore, id))
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    };

    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser
        .goto(&format!("{}/t/{link}", server.base))
        .await
        .unwrap();
    wait_for_text(&browser, "#qr-holder", "Ada Lovelace").await;
    wait_for_text(&browser, "#brightness-hint", "brightness").await;
    let shown = |browser: fantoccini::Client| async move {
        find(&browser, "#qr")
            .await
            .attr("data-value")
            .await
            .unwrap()
            .expect("#qr has data-value")
    };
    let first = shown(browser.clone()).await;
    let t = now();
    let valid = |value: &str, t: i64| {
        [t - i64::from(PERIOD), t, t + i64::from(PERIOD)]
            .iter()
            .any(|&at| expected.value_at(at) == value)
    };
    assert!(valid(&first, t), "{first} is a code of about now");
    let svg = find(&browser, "#qr svg").await;
    assert!(svg.attr("viewBox").await.unwrap().is_some());
    let version = find(&browser, "#qr")
        .await
        .attr("data-qr-version")
        .await
        .unwrap()
        .unwrap();
    println!("rotating code {first}: QR version {version}");
    screenshot(&browser, "ticket-page-rotating.png").await;

    // The door admits what the page shows.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/scans", server.base))
        .bearer_auth(&scanner)
        .json(&json!({"token": first, "gate": "north", "device": "door-1"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["holder_name"], "Ada Lovelace");

    // No server: a period later the page shows the next code, drawn in the browser.
    drop(server);
    tokio::time::sleep(Duration::from_secs(u64::from(PERIOD) + 1)).await;
    let later = shown(browser.clone()).await;
    assert_ne!(later, first, "the code rotated");
    assert!(valid(&later, now()), "{later} is a code of now");
    assert_eq!(text(&browser, "#qr-holder").await, "Ada Lovelace");
    browser.close().await.unwrap();
}
