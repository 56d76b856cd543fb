//! The console's performance page over HTTP, signed in with a session cookie, on both backends:
//! ticket search and keyset pages (never over 100 rows), the walk-up issue with its QR, a
//! refused walk-up showing the API's reason, the CSV import with its progress and per-line
//! errors, CSRF refusal, and unknown performances.

use std::time::{Duration, Instant};

use encore::domain::staff::Password;
use encore::domain::Role;
use encore::service::accounts;
use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, touches, TestApp};

const PASSWORD: &str = "correct horse battery staple";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A box-office account, signed in: its session cookie's token.
async fn box_office_session(app: &TestApp) -> String {
    let encore = app.encore.clone();
    tokio::task::spawn_blocking(move || {
        let password = Password::parse(PASSWORD).unwrap();
        accounts::create_account(
            &encore,
            "ada@box-office.example",
            "Ada Lovelace",
            Role::BoxOffice,
            Some(&password),
        )
        .unwrap();
    })
    .await
    .unwrap();
    let response = client()
        .post(app.url("/box-office/login"))
        .form(&[("email", "ada@box-office.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    let value = cookie.strip_prefix("encore_staff=").unwrap();
    value[..value.find(';').unwrap()].to_string()
}

async fn get(app: &TestApp, path: &str, session: &str) -> Response {
    client()
        .get(app.url(path))
        .header("Cookie", format!("encore_staff={session}"))
        .send()
        .await
        .unwrap()
}

/// GET a console page: its status and HTML.
async fn page(app: &TestApp, path: &str, session: &str) -> (StatusCode, String) {
    let response = get(app, path, session).await;
    (response.status(), response.text().await.unwrap())
}

async fn post(app: &TestApp, path: &str, session: &str, form: &[(&str, &str)]) -> Response {
    client()
        .post(app.url(path))
        .header("Cookie", format!("encore_staff={session}"))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The CSRF token in a page's forms.
fn csrf_of(page: &str) -> String {
    let start = page.find(r#"name="csrf" value=""#).expect("a CSRF field") + 19;
    page[start..][..page[start..].find('"').unwrap()].to_string()
}

/// The ticket ids listed in a performance page's table, in order.
fn listed(page: &str) -> Vec<i64> {
    page.split(r#"<th scope="row"><a href="/box-office/tickets/"#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

/// The target of the link with `id` in `page`, unescaped.
fn link(page: &str, id: &str) -> Option<String> {
    let at = page.find(&format!(r#"" id="{id}""#))?;
    let start = page[..at].rfind(r#"href=""#)? + 6;
    Some(page[start..at].replace("&#38;", "&").replace("&amp;", "&"))
}

/// `text` as the pages escape it.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Who issued the ticket, as its history says.
async fn issued_by(app: &TestApp, id: i64) -> String {
    let history = app
        .get_json(&format!("/api/v1/tickets/{id}/history"), &app.admin_key)
        .await;
    let issued = touches(&history, "issued");
    assert_eq!(issued.len(), 1, "{history}");
    issued[0]["detail"]["by"].as_str().unwrap_or("").to_string()
}

fn tickets_of(app: &TestApp, performance: i64) -> i64 {
    app.db.count(&format!(
        "SELECT COUNT(*) AS n FROM tickets WHERE performance_id = {performance}"
    ))
}

async fn tickets_are_searched_and_paged_a_hundred_at_a_time(app: TestApp) {
    let performance = app.create_performance(500).await;
    app.issue_bulk(performance, 150).await;
    let zelda = app
        .issue_to(performance, "Zelda Fitzgerald", "zelda@example.org")
        .await["id"]
        .as_i64()
        .unwrap();
    let canceled = app
        .post(
            &format!("/api/v1/tickets/{zelda}/cancel"),
            &app.admin_key,
            &json!({"reason": "double booking", "refund_to_credit": false}),
        )
        .await;
    assert_eq!(canceled.status(), StatusCode::OK);
    let session = box_office_session(&app).await;
    let base = format!("/box-office/performances/{performance}");

    // The header: capacity, issued, and the arrivals dashboard.
    let (status, first) = page(&app, &base, &session).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(first.contains(r#"<dd id="capacity">500</dd>"#), "{first}");
    assert!(first.contains(r#"<dd id="issued">150</dd>"#), "{first}");
    assert!(first.contains(r#"<dd id="arrived">0</dd>"#), "{first}");
    assert!(first.contains(&format!(r#"href="{base}/arrivals""#)));
    assert_eq!(listed(&first).len(), 100, "the first page holds 100");
    assert!(
        link(&first, "first-page").is_none(),
        "already the first page"
    );

    // By name prefix, across pages: 100 + 50, each id once, in order, no page over 100.
    let (_, guests) = page(&app, &format!("{base}?q=gue"), &session).await;
    let mut ids = listed(&guests);
    assert_eq!(ids.len(), 100);
    let next = link(&guests, "next-page").expect("a next page");
    assert!(next.contains("q=gue") && next.contains("cursor="), "{next}");
    let (status, second) = page(&app, &next, &session).await;
    assert_eq!(status, StatusCode::OK);
    let more = listed(&second);
    assert_eq!(more.len(), 50, "the rest");
    assert!(link(&second, "next-page").is_none(), "the last page");
    let back = link(&second, "first-page").expect("a first-page link");
    assert_eq!(back, format!("{base}?q=gue"));
    ids.extend(more);
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, ids, "every guest once, by id");
    assert_eq!(ids.len(), 150);
    assert!(!ids.contains(&zelda));

    // By name, by status, and both.
    let (_, found) = page(&app, &format!("{base}?q=Zel"), &session).await;
    assert_eq!(listed(&found), vec![zelda]);
    let (_, found) = page(&app, &format!("{base}?status=canceled"), &session).await;
    assert_eq!(listed(&found), vec![zelda]);
    assert!(found.contains(r#"<option value="canceled" selected>"#));
    let (_, found) = page(&app, &format!("{base}?q=zel&status=valid"), &session).await;
    assert_eq!(listed(&found), Vec::<i64>::new());
    let (_, valid) = page(&app, &format!("{base}?status=valid"), &session).await;
    assert_eq!(listed(&valid).len(), 100);
    let next = link(&valid, "next-page").unwrap();
    assert_eq!(listed(&page(&app, &next, &session).await.1).len(), 50);

    // A search the API refuses is refused with its reason, not a 500.
    let (status, bad) = page(&app, &format!("{base}?status=lost&cursor=zz"), &session).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(bad.contains("validation_failed"), "{bad}");
    assert!(
        bad.contains("status: must be one of valid, exchanged, transferred, canceled"),
        "{bad}"
    );
}

/// Decodes the QR code in a PNG.
fn qr_content(png: &[u8]) -> String {
    let image = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code");
    grids[0].decode().expect("the QR code decodes").1
}

async fn a_walk_up_ticket_is_issued_and_shows_its_qr(app: TestApp) {
    let performance = app.create_performance(10).await;
    let session = box_office_session(&app).await;
    let base = format!("/box-office/performances/{performance}");
    let (_, form) = page(&app, &base, &session).await;
    for field in [
        r#"<label for="holder_name">"#,
        r#"<label for="holder_email">"#,
        r#"<label for="seat">"#,
        r#"<label for="price_minor">"#,
        r#"<label for="apply_credit">"#,
        r#"<label for="locale">"#,
        r#"<option value="de">Deutsch</option>"#,
        r#"<label for="csv">"#,
    ] {
        assert!(form.contains(field), "{field}");
    }
    let csrf = csrf_of(&form);

    let issued = post(
        &app,
        &format!("{base}/tickets"),
        &session,
        &[
            ("csrf", &csrf),
            ("holder_name", "Grace Hopper"),
            ("holder_email", "grace@navy.example"),
            ("seat", "B7"),
            ("price_minor", "4500"),
            ("currency", "EUR"),
            ("apply_credit", "1"),
            ("locale", "de"),
        ],
    )
    .await;
    assert_eq!(issued.status(), StatusCode::SEE_OTHER);
    let location = issued.headers()[LOCATION].to_str().unwrap().to_string();
    let id: i64 = location
        .strip_prefix("/box-office/tickets/")
        .and_then(|rest| rest.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a ticket page: {location}"));
    assert!(
        location.ends_with("credit_applied=0"),
        "no credit to spend: {location}"
    );

    // The ticket, as the API has it.
    let api: Value = app
        .get_json(&format!("/api/v1/tickets/{id}"), &app.admin_key)
        .await;
    assert_eq!(api["holder_name"], "Grace Hopper");
    assert_eq!(api["seat"], "B7");
    assert_eq!(api["locale"], "de", "the language chosen in the form");
    assert_eq!(api["performance_id"], performance);
    assert_eq!(tickets_of(&app, performance), 1);
    assert_eq!(issued_by(&app, id).await, "Ada Lovelace (box office)");

    // Its page shows the QR at once, inline from our own origin, and a print link.
    let (status, ticket) = page(&app, &location, &session).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ticket.contains("Ticket issued"), "{ticket}");
    assert!(ticket.contains("Credit applied: 0.00 EUR"), "{ticket}");
    assert!(ticket.contains("Grace Hopper"));
    assert!(ticket.contains(&format!(r#"src="/box-office/tickets/{id}/qr.svg""#)));
    assert!(ticket.contains(&format!(r#"href="/box-office/tickets/{id}/print""#)));
    let (status, print) = page(&app, &format!("/box-office/tickets/{id}/print"), &session).await;
    assert_eq!(status, StatusCode::OK);
    assert!(print.contains(&format!(r#"src="/box-office/tickets/{id}/qr.svg""#)));
    assert!(!print.contains("Sign out"), "no console chrome to print");

    let svg = get(&app, &format!("/box-office/tickets/{id}/qr.svg"), &session).await;
    assert_eq!(svg.status(), StatusCode::OK);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert_eq!(svg.headers()["cache-control"], "no-store");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let png = get(&app, &format!("/box-office/tickets/{id}/qr.png"), &session).await;
    assert_eq!(png.status(), StatusCode::OK);
    assert_eq!(png.headers()["content-type"], "image/png");
    let png = png.bytes().await.unwrap();
    assert_eq!(qr_content(&png), api["token"].as_str().unwrap());

    // The QR needs the session: a stranger is sent to sign in.
    let stranger = client()
        .get(app.url(&format!("/box-office/tickets/{id}/qr.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::SEE_OTHER);
    assert_eq!(stranger.headers()[LOCATION], "/box-office/login");
}

async fn a_refused_walk_up_shows_the_apis_reason(app: TestApp) {
    let performance = app.create_performance(1).await;
    let session = box_office_session(&app).await;
    let base = format!("/box-office/performances/{performance}");
    let csrf = csrf_of(&page(&app, &base, &session).await.1);
    let walk_up = |email: &'static str, price: &'static str| {
        let (app, session, csrf, base) = (&app, &session, &csrf, &base);
        async move {
            let response = post(
                app,
                &format!("{base}/tickets"),
                session,
                &[
                    ("csrf", csrf.as_str()),
                    ("holder_name", "Alan Turing"),
                    ("holder_email", email),
                    ("seat", ""),
                    ("price_minor", price),
                    ("currency", "EUR"),
                ],
            )
            .await;
            (response.status(), response.text().await.unwrap())
        }
    };

    // A bad email: the API's code and message, the form kept.
    let api = app
        .post(
            &format!("/api/v1/performances/{performance}/tickets"),
            &app.admin_key,
            &json!({"holder_name": "Alan Turing", "holder_email": "alan-at-bletchley",
                    "price_minor": 4500, "currency": "EUR"}),
        )
        .await;
    assert_eq!(api.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let api: Value = api.json().await.unwrap();
    let (status, refused) = walk_up("alan-at-bletchley", "4500").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(api["code"], "validation_failed");
    let message = api["message"].as_str().unwrap();
    assert!(refused.contains(r#"id="issue-error""#), "{refused}");
    assert!(refused.contains("validation_failed"), "{refused}");
    assert!(
        refused.contains(&escaped(message)),
        "{message} in {refused}"
    );
    assert!(
        refused.contains(r#"value="Alan Turing""#),
        "the form is kept"
    );

    // A price that is not a number: refused by field, never a 500.
    let (status, refused) = walk_up("alan@bletchley.example", "45 euros").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains("price_minor: "), "{refused}");
    assert_eq!(tickets_of(&app, performance), 0);

    // Sold out: the same 409 and message as the API.
    let (status, _) = walk_up("alan@bletchley.example", "4500").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let api = app
        .post(
            &format!("/api/v1/performances/{performance}/tickets"),
            &app.admin_key,
            &json!({"holder_name": "Alan Turing", "holder_email": "alan@bletchley.example",
                    "price_minor": 4500, "currency": "EUR"}),
        )
        .await;
    assert_eq!(api.status(), StatusCode::CONFLICT);
    let api: Value = api.json().await.unwrap();
    let (status, refused) = walk_up("alan@bletchley.example", "4500").await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(refused.contains("sold_out"), "{refused}");
    assert!(
        refused.contains(api["message"].as_str().unwrap()),
        "{refused}"
    );
    assert_eq!(tickets_of(&app, performance), 1);
}

async fn a_csv_import_reports_the_bad_line_and_issues_the_rest(app: TestApp) {
    let performance = app.create_performance(100).await;
    let session = box_office_session(&app).await;
    let base = format!("/box-office/performances/{performance}");
    let csrf = csrf_of(&page(&app, &base, &session).await.1);
    let csv = "holder_name,holder_email,price_minor,currency,seat\n\
               Ada Lovelace,ada@example.org,4500,EUR,A1\n\
               Bad Row,not-an-email,4500,EUR,A2\n\
               Grace Hopper,grace@example.org,4500,EUR,A3\n\
               Alan Turing,alan@example.org,4500,EUR,A4\n";
    let started = post(
        &app,
        &format!("{base}/imports"),
        &session,
        &[("csrf", &csrf), ("csv", csv)],
    )
    .await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let progress = started.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(progress.starts_with("/box-office/imports/"), "{progress}");

    // The progress page refreshes itself until the import is done.
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = loop {
        let (status, body) = page(&app, &progress, &session).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(r#"<progress id="import-progress""#), "{body}");
        if !body.contains(r#"http-equiv="refresh""#) {
            break body;
        }
        assert!(Instant::now() < deadline, "the import finishes: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        done.contains(r#"max="4" value="4""#),
        "all rows read: {done}"
    );
    assert!(
        done.contains("3 issued, 0 already issued before, 1 rejected"),
        "{done}"
    );
    assert!(
        done.contains(
            r#"<tr><th scope="row" class="num">3</th><td>holder_email: not an email address</td></tr>"#
        ) || done.contains(r#"<th scope="row" class="num">3</th><td>holder_email:"#),
        "line 3 and its reason: {done}"
    );
    assert_eq!(tickets_of(&app, performance), 3);
    let (_, listing) = page(&app, &format!("{base}?q=grace"), &session).await;
    let grace = listed(&listing);
    assert_eq!(grace.len(), 1);
    assert_eq!(issued_by(&app, grace[0]).await, "Ada Lovelace (box office)");

    // Another account does not see this import.
    let encore = app.encore.clone();
    tokio::task::spawn_blocking(move || {
        accounts::create_account(
            &encore,
            "bob@box-office.example",
            "Bob",
            Role::BoxOffice,
            Some(&Password::parse(PASSWORD).unwrap()),
        )
        .unwrap();
    })
    .await
    .unwrap();
    let bob = client()
        .post(app.url("/box-office/login"))
        .form(&[("email", "bob@box-office.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = bob.headers()["set-cookie"].to_str().unwrap();
    let bob = &cookie["encore_staff=".len()..cookie.find(';').unwrap()];
    assert_eq!(page(&app, &progress, bob).await.0, StatusCode::NOT_FOUND);

    // An empty paste is refused with its reason.
    let (status, refused) = {
        let r = post(
            &app,
            &format!("{base}/imports"),
            &session,
            &[("csrf", &csrf), ("csv", "  ")],
        )
        .await;
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains(r#"id="import-error""#), "{refused}");
    assert!(refused.contains("csv: is empty"), "{refused}");
}

async fn forms_without_csrf_are_refused_and_change_nothing(app: TestApp) {
    let performance = app.create_performance(10).await;
    let session = box_office_session(&app).await;
    let base = format!("/box-office/performances/{performance}");
    let ticket = [
        ("holder_name", "Grace Hopper"),
        ("holder_email", "grace@navy.example"),
        ("price_minor", "4500"),
        ("currency", "EUR"),
    ];
    let refused = post(&app, &format!("{base}/tickets"), &session, &ticket).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let mut forged = ticket.to_vec();
    forged.push(("csrf", "not-the-sessions-token-not-the-sessions-tok"));
    let refused = post(&app, &format!("{base}/tickets"), &session, &forged).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let csv = "holder_name,holder_email,price_minor,currency\nAda,ada@example.org,4500,EUR\n";
    let refused = post(&app, &format!("{base}/imports"), &session, &[("csv", csv)]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(tickets_of(&app, performance), 0, "nothing issued");
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM outbox"),
        0,
        "nothing queued"
    );
}

async fn an_unknown_performance_or_ticket_is_not_found(app: TestApp) {
    let performance = app.create_performance(10).await;
    let session = box_office_session(&app).await;
    let csrf = csrf_of(
        &page(
            &app,
            &format!("/box-office/performances/{performance}"),
            &session,
        )
        .await
        .1,
    );
    let missing = performance + 1000;
    let (status, body) = page(
        &app,
        &format!("/box-office/performances/{missing}"),
        &session,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body.contains(&format!("performance {missing} does not exist")),
        "{body}"
    );
    let (status, _) = page(&app, "/box-office/performances/not-a-number", &session).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let issued = post(
        &app,
        &format!("/box-office/performances/{missing}/tickets"),
        &session,
        &[
            ("csrf", &csrf),
            ("holder_name", "Grace Hopper"),
            ("holder_email", "grace@navy.example"),
            ("price_minor", "4500"),
            ("currency", "EUR"),
        ],
    )
    .await;
    assert_eq!(issued.status(), StatusCode::NOT_FOUND);
    let imported = post(
        &app,
        &format!("/box-office/performances/{missing}/imports"),
        &session,
        &[
            ("csrf", &csrf),
            ("csv", "holder_name,holder_email,price_minor,currency\n"),
        ],
    )
    .await;
    assert_eq!(imported.status(), StatusCode::NOT_FOUND);
    for path in [
        "/box-office/tickets/987654",
        "/box-office/tickets/987654/print",
        "/box-office/tickets/987654/qr.svg",
        "/box-office/tickets/987654/qr.png",
        "/box-office/imports/0123456789abcdef0123456789abcdef",
    ] {
        assert_eq!(
            page(&app, path, &session).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM tickets"), 0);
}

on_both_backends!(
    tickets_are_searched_and_paged_a_hundred_at_a_time,
    a_walk_up_ticket_is_issued_and_shows_its_qr,
    a_refused_walk_up_shows_the_apis_reason,
    a_csv_import_reports_the_bad_line_and_issues_the_rest,
    forms_without_csrf_are_refused_and_change_nothing,
    an_unknown_performance_or_ticket_is_not_found,
);
