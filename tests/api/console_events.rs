//! The console's Events pages over HTTP against the running app: an event and a performance
//! created and changed through the forms (checked through the JSON API), invalid forms shown
//! again with the API's own reason, a performance canceled and its progress page followed to
//! the end, and forms without the session's CSRF token refused with nothing changed.

use encore::domain::actor::Actor;
use encore::domain::ids::PerformanceId;
use encore::domain::staff::Password;
use encore::domain::Role;
use encore::service::accounts;
use encore::service::cancellations::{self, Reason};
use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, Deadline, TestApp};

pub const PASSWORD: &str = "correct horse battery staple";

/// A client that follows no redirect and keeps no cookies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A signed-in console user with `role`: their session cookie and the CSRF token of their forms.
pub struct Console<'a> {
    pub app: &'a TestApp,
    pub token: String,
    pub csrf: String,
}

impl<'a> Console<'a> {
    pub async fn sign_in(app: &'a TestApp, email: &str, role: Role) -> Console<'a> {
        let encore = app.encore.clone();
        let owned = email.to_string();
        tokio::task::spawn_blocking(move || {
            let password = Password::parse(PASSWORD).unwrap();
            accounts::create_account(&encore, &owned, "Ada Lovelace", role, Some(&password))
                .unwrap();
        })
        .await
        .unwrap();
        let response = client()
            .post(app.url("/box-office/login"))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        let token = cookie
            .strip_prefix("encore_staff=")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let mut console = Console {
            app,
            token,
            csrf: String::new(),
        };
        let today = console.get("/box-office/").await;
        assert_eq!(today.status(), StatusCode::OK);
        console.csrf = csrf_of(&today.text().await.unwrap());
        console
    }

    pub async fn get(&self, path: &str) -> Response {
        client()
            .get(self.app.url(path))
            .header("Cookie", format!("encore_staff={}", self.token))
            .send()
            .await
            .unwrap()
    }

    /// GET, expecting 200; the page.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// POSTs the form with the session's CSRF token.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let mut fields = vec![("csrf", self.csrf.as_str())];
        fields.extend_from_slice(form);
        self.post_raw(path, &fields).await
    }

    /// POSTs exactly these fields.
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Response {
        client()
            .post(self.app.url(path))
            .header("Cookie", format!("encore_staff={}", self.token))
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// The CSRF token in a page's forms.
pub fn csrf_of(page: &str) -> String {
    let start = page.find(r#"name="csrf" value=""#).expect("a CSRF field") + 19;
    page[start..][..page[start..].find('"').unwrap()].to_string()
}

/// A page's text with askama's escapes undone, to compare with the API's messages.
pub fn unescaped(page: &str) -> String {
    page.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The refusal the API gives for a JSON request: (status, code, message).
pub async fn api_refusal(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> (StatusCode, String, String) {
    let response = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&app.admin_key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let problem: Value = response.json().await.unwrap();
    (
        status,
        problem["code"].as_str().unwrap().to_string(),
        problem["message"].as_str().unwrap().to_string(),
    )
}

/// The page shows the refusal exactly as the API gives it.
pub async fn assert_shows_refusal(response: Response, api: &(StatusCode, String, String)) {
    let status = response.status();
    let page = unescaped(&response.text().await.unwrap());
    assert_eq!(status, api.0, "{page}");
    assert!(
        page.contains(&format!(
            "{} <span class=\"code\">({})</span>",
            api.2, api.1
        )),
        "the page shows {api:?}: {page}"
    );
}

const EVENT_FORM: [(&str, &str); 11] = [
    ("name", "Winter Gala"),
    ("venue", "Main Hall"),
    ("locale", "de"),
    ("time_zone", "Europe/Vienna"),
    ("reminder_offsets_minutes", "60, 1440"),
    ("lobby_message", "Welcome {holder_name}"),
    ("exchange_allowed", "on"),
    ("exchange_fee_minor", "150"),
    ("change_cutoff_minutes", "90"),
    ("transfer_offer_hours", "48"),
    ("refund_on_cancel", "on"),
];

fn event_id_of(response: &Response) -> i64 {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap();
    location
        .strip_prefix("/box-office/events/")
        .expect("the event's page")
        .parse()
        .unwrap()
}

async fn events_and_performances_are_created_and_changed_through_the_forms(app: TestApp) {
    let console = Console::sign_in(&app, "ada@example.org", Role::BoxOffice).await;
    let empty = console.page("/box-office/events").await;
    for labelled in [
        r#"<label for="name">"#,
        r#"<label for="time_zone">"#,
        r#"<label for="reminder_offsets_minutes">"#,
        r#"<label for="lobby_message">"#,
        r#"<label for="refund_on_cancel">"#,
        r#"<label for="locale">"#,
    ] {
        assert!(empty.contains(labelled), "{labelled} in {empty}");
    }

    let created = console.post("/box-office/events", &EVENT_FORM).await;
    let id = event_id_of(&created);
    let event = app
        .get_json(&format!("/api/v1/events/{id}"), &app.admin_key)
        .await;
    assert_eq!(event["name"], "Winter Gala");
    assert_eq!(event["venue"], "Main Hall");
    assert_eq!(event["time_zone"], "Europe/Vienna");
    assert_eq!(event["reminder_offsets_minutes"], json!([1440, 60]));
    assert_eq!(event["lobby_message"], "Welcome {holder_name}");
    assert_eq!(event["locale"], "de", "the patrons' language chosen");
    let policy = &event["policy"];
    assert_eq!(policy["exchange_allowed"], true);
    assert_eq!(policy["exchange_any_event"], false);
    assert_eq!(policy["transfer_allowed"], false, "unchecked: {event}");
    assert_eq!(policy["exchange_fee_minor"], 150);
    assert_eq!(policy["change_cutoff_minutes"], 90);
    assert_eq!(policy["transfer_offer_hours"], 48);
    assert_eq!(policy["refund_on_cancel"], true);
    let listed = console.page("/box-office/events").await;
    assert!(listed.contains(&format!(
        r#"<a href="/box-office/events/{id}">Winter Gala</a>"#
    )));

    // Changing it: every field of the form, as a merge patch.
    let changed = console
        .post(
            &format!("/box-office/events/{id}"),
            &[
                ("name", "Winter Gala"),
                ("venue", "The Old Vic"),
                ("locale", "en"),
                ("lobby_message", ""),
                ("transfer_allowed", "on"),
                ("exchange_fee_minor", "0"),
                ("change_cutoff_minutes", "30"),
                ("transfer_offer_hours", "24"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        changed.headers()[LOCATION],
        format!("/box-office/events/{id}?done=saved")
    );
    let event = app
        .get_json(&format!("/api/v1/events/{id}"), &app.admin_key)
        .await;
    assert_eq!(event["venue"], "The Old Vic");
    assert_eq!(event["locale"], "en");
    assert!(event["lobby_message"].is_null(), "{event}");
    assert_eq!(event["policy"]["exchange_allowed"], false);
    assert_eq!(event["policy"]["transfer_allowed"], true);
    assert_eq!(event["policy"]["refund_on_cancel"], false);
    assert_eq!(event["policy"]["change_cutoff_minutes"], 30);
    assert_eq!(event["time_zone"], "Europe/Vienna", "the zone stays");
    assert_eq!(event["reminder_offsets_minutes"], json!([1440, 60]));

    // A performance, its times typed in Vienna's time.
    let added = console
        .post(
            &format!("/box-office/events/{id}/performances"),
            &[
                ("starts_at", "2027-03-01T19:30"),
                ("doors_open_at", ""),
                ("capacity", "120"),
                ("price", "45.5"),
                ("currency", "EUR"),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        added.headers()[LOCATION],
        format!("/box-office/events/{id}?done=added")
    );
    let summer = console
        .post(
            &format!("/box-office/events/{id}/performances"),
            &[
                ("starts_at", "2027-07-01T20:00"),
                ("doors_open_at", "2027-07-01T19:15"),
                ("capacity", "80"),
                ("price", ""),
                ("currency", "EUR"),
            ],
        )
        .await;
    assert_eq!(summer.status(), StatusCode::SEE_OTHER);
    let performances = app
        .get_json(&format!("/api/v1/events/{id}/performances"), &app.admin_key)
        .await;
    let performances = performances.as_array().unwrap();
    assert_eq!(performances.len(), 2, "{performances:?}");
    let winter = &performances[0];
    assert_eq!(winter["starts_at"], "2027-03-01T18:30:00Z", "{winter}");
    assert_eq!(winter["doors_open_at"], "2027-03-01T17:30:00Z");
    assert_eq!(winter["capacity"], 120);
    // The API does not show a performance's price: read it where it is stored.
    let winter_id = winter["id"].as_i64().unwrap();
    assert_eq!(
        app.db.count(&format!(
            "SELECT price_minor AS n FROM performances WHERE id = {winter_id} AND currency = 'EUR'"
        )),
        4550
    );
    let summer = &performances[1];
    assert_eq!(summer["starts_at"], "2027-07-01T18:00:00Z", "{summer}");
    assert_eq!(summer["doors_open_at"], "2027-07-01T17:15:00Z");
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM performances WHERE id = {} AND price_minor IS NULL",
            summer["id"]
        )),
        1
    );

    let page = console
        .page(&format!("/box-office/events/{id}?done=added"))
        .await;
    assert!(page.contains("The performance is added."), "{page}");
    assert!(page.contains("Monday 1 March 2027, 19:30 CET"), "{page}");
    assert!(page.contains("Thursday 1 July 2027, 20:00 CEST"), "{page}");
    assert!(page.contains("45.50 EUR"), "{page}");
    assert!(page.contains(&format!(
        r#"href="/box-office/performances/{}/cancel""#,
        winter["id"]
    )));
}

async fn an_invalid_form_is_shown_again_with_the_apis_reason(app: TestApp) {
    let console = Console::sign_in(&app, "ada@example.org", Role::Admin).await;

    // An unknown time zone: the API's 422 and message.
    let mut form = EVENT_FORM.to_vec();
    form[2] = ("time_zone", "Mars/Olympus");
    let api = api_refusal(
        &app,
        reqwest::Method::POST,
        "/api/v1/events",
        &json!({"name": "Winter Gala", "venue": "Main Hall", "time_zone": "Mars/Olympus"}),
    )
    .await;
    assert_eq!(api.0, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = console.post("/box-office/events", &form).await;
    assert_shows_refusal(refused, &api).await;
    // A repeated reminder offset, and a lobby message with an unknown placeholder.
    form[2] = ("time_zone", "Europe/Vienna");
    form[3] = ("reminder_offsets_minutes", "60, 60");
    let api = api_refusal(
        &app,
        reqwest::Method::POST,
        "/api/v1/events",
        &json!({"name": "G", "venue": "H", "time_zone": "UTC", "reminder_offsets_minutes": [60, 60]}),
    )
    .await;
    assert_shows_refusal(console.post("/box-office/events", &form).await, &api).await;
    form[3] = ("reminder_offsets_minutes", "60");
    form[4] = ("lobby_message", "Hello {nobody}");
    let api = api_refusal(
        &app,
        reqwest::Method::POST,
        "/api/v1/events",
        &json!({"name": "G", "venue": "H", "time_zone": "UTC", "lobby_message": "Hello {nobody}"}),
    )
    .await;
    let refused = console.post("/box-office/events", &form).await;
    let status = refused.status();
    let page = unescaped(&refused.text().await.unwrap());
    assert_eq!(status, api.0);
    assert!(page.contains(&api.2), "{api:?} in {page}");
    // What was typed is kept.
    assert!(page.contains(r#"value="Winter Gala""#), "{page}");
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM events"), 0);

    // The event's own forms.
    let id = event_id_of(&console.post("/box-office/events", &EVENT_FORM).await);
    let api = api_refusal(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/v1/events/{id}"),
        &json!({"policy": {"transfer_offer_hours": 0}}),
    )
    .await;
    let refused = console
        .post(
            &format!("/box-office/events/{id}"),
            &[
                ("name", "Winter Gala"),
                ("venue", "Main Hall"),
                ("exchange_fee_minor", "0"),
                ("change_cutoff_minutes", "30"),
                ("transfer_offer_hours", "0"),
            ],
        )
        .await;
    assert_shows_refusal(refused, &api).await;
    let api = api_refusal(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/v1/events/{id}"),
        &json!({"venue": "   "}),
    )
    .await;
    let refused = console
        .post(
            &format!("/box-office/events/{id}"),
            &[
                ("name", "Winter Gala"),
                ("venue", "   "),
                ("exchange_fee_minor", "0"),
                ("change_cutoff_minutes", "30"),
                ("transfer_offer_hours", "24"),
            ],
        )
        .await;
    assert_shows_refusal(refused, &api).await;
    let event = app
        .get_json(&format!("/api/v1/events/{id}"), &app.admin_key)
        .await;
    assert_eq!(event["venue"], "Main Hall", "nothing changed: {event}");

    // Doors after the start, a capacity out of range: the API's reasons.
    let performances = format!("/box-office/events/{id}/performances");
    let api = api_refusal(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/events/{id}/performances"),
        &json!({"starts_at": "2027-03-01T18:30:00Z", "doors_open_at": "2027-03-01T19:00:00Z", "capacity": 10}),
    )
    .await;
    let refused = console
        .post(
            &performances,
            &[
                ("starts_at", "2027-03-01T19:30"),
                ("doors_open_at", "2027-03-01T20:00"),
                ("capacity", "10"),
                ("price", ""),
                ("currency", "EUR"),
            ],
        )
        .await;
    assert_shows_refusal(refused, &api).await;
    let api = api_refusal(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/events/{id}/performances"),
        &json!({"starts_at": "2027-03-01T18:30:00Z", "capacity": 2_000_000}),
    )
    .await;
    let refused = console
        .post(
            &performances,
            &[
                ("starts_at", "2027-03-01T19:30"),
                ("capacity", "2000000"),
                ("currency", "EUR"),
            ],
        )
        .await;
    assert_shows_refusal(refused, &api).await;
    // A currency that is not one, and input the API's JSON could not even carry.
    let api = api_refusal(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/events/{id}/performances"),
        &json!({"starts_at": "2027-03-01T18:30:00Z", "capacity": 10, "price_minor": 100, "currency": "euro"}),
    )
    .await;
    let refused = console
        .post(
            &performances,
            &[
                ("starts_at", "2027-03-01T19:30"),
                ("capacity", "10"),
                ("price", "1"),
                ("currency", "euro"),
            ],
        )
        .await;
    assert_shows_refusal(refused, &api).await;
    for bad in [
        [("starts_at", "next week"), ("capacity", "10")],
        [("starts_at", "2027-03-28T02:30"), ("capacity", "10")],
        [("starts_at", "2027-03-01T19:30"), ("capacity", "ten")],
    ] {
        let refused = console.post(&performances, &bad).await;
        let status = refused.status();
        let page = refused.text().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {page}");
        assert!(page.contains("(validation_failed)"), "{bad:?}: {page}");
    }
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM performances"), 0);

    // Nothing there, or not even an id: 404 pages, never a 500.
    assert_eq!(
        console.get("/box-office/events/999999").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        console
            .get("/box-office/events/not-a-number")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let missing = console
        .post(
            "/box-office/events/999999/performances",
            &[("starts_at", "2027-03-01T19:30"), ("capacity", "1")],
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        console
            .get("/box-office/performances/999999/cancellation")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// The progress bar's value and maximum, and whether the page reloads itself.
fn progress_of(page: &str) -> (String, String, bool) {
    let start = page.find("<progress").expect("a progress bar");
    let tag = &page[start..start + page[start..].find('>').unwrap()];
    let attribute = |name: &str| {
        let at = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[at..at + tag[at..].find('"').unwrap()].to_string()
    };
    (
        attribute("value"),
        attribute("max"),
        page.contains(r#"<meta http-equiv="refresh" content="2">"#),
    )
}

async fn a_performance_is_canceled_and_its_progress_page_reaches_done(app: TestApp) {
    let console = Console::sign_in(&app, "ada@example.org", Role::BoxOffice).await;
    let performance = app.create_performance(50).await;
    app.issue_bulk(performance, 5).await;

    // The form, then the reason the API gives for a missing reason.
    let form = console
        .page(&format!("/box-office/performances/{performance}/cancel"))
        .await;
    assert!(form.contains(r#"<label for="reason">"#), "{form}");
    let api = api_refusal(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/performances/{performance}/cancel"),
        &json!({"reason": " "}),
    )
    .await;
    let refused = console
        .post(
            &format!("/box-office/performances/{performance}/cancel"),
            &[("reason", " ")],
        )
        .await;
    assert_shows_refusal(refused, &api).await;

    let started = console
        .post(
            &format!("/box-office/performances/{performance}/cancel"),
            &[("reason", "The tenor is ill")],
        )
        .await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let progress = format!("/box-office/performances/{performance}/cancellation");
    assert_eq!(started.headers()[LOCATION], progress.as_str());
    let deadline = Deadline::after(std::time::Duration::from_secs(20));
    let done = loop {
        let page = console.page(&progress).await;
        if page.contains(r#"data-status="done""#) {
            break page;
        }
        assert!(progress_of(&page).2, "a running job's page reloads: {page}");
        deadline.retry("the cancellation finishes").await;
    };
    assert_eq!(
        progress_of(&done),
        ("5".into(), "5".into(), false),
        "{done}"
    );
    assert!(done.contains("Done: 5 of 5 tickets canceled."), "{done}");
    assert!(done.contains("The tenor is ill"));
    // The job names who started it, as the journey will.
    assert!(
        done.contains("Started by Ada Lovelace (box office)."),
        "{done}"
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM performance_cancellations WHERE performance_id = {performance} \
             AND started_by = 'Ada Lovelace (box office)'"
        )),
        1
    );
    let job = app
        .get_json(
            &format!("/api/v1/performances/{performance}/cancellation"),
            &app.admin_key,
        )
        .await;
    assert_eq!(
        (job["status"].as_str(), job["canceled"].as_i64()),
        (Some("done"), Some(5))
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM tickets WHERE performance_id = {performance} AND status = 'canceled'"
        )),
        5
    );
    // The cancel form now leads to the progress; asking again starts nothing new.
    let again = console
        .get(&format!("/box-office/performances/{performance}/cancel"))
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(again.headers()[LOCATION], progress.as_str());
    let again = console
        .post(
            &format!("/box-office/performances/{performance}/cancel"),
            &[("reason", "Another reason")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM performance_cancellations"),
        1
    );

    // A job not yet run: the bar is empty and the page reloads itself every 2 s.
    let other = app.create_performance(10).await;
    app.issue_bulk(other, 2).await;
    let encore = app.encore.clone();
    let job = tokio::task::spawn_blocking(move || {
        cancellations::begin_performance_cancellation(
            &encore,
            PerformanceId(other),
            &Reason::parse("Flooded").unwrap(),
            &Actor::Operator,
        )
        .unwrap()
        .0
    })
    .await
    .unwrap();
    let page = console
        .page(&format!("/box-office/performances/{other}/cancellation"))
        .await;
    assert_eq!(progress_of(&page), ("0".into(), "2".into(), true), "{page}");
    assert!(page.contains(r#"data-status="running""#));
    // With a script, the page polls the console's own endpoint instead (the refresh is its
    // <noscript>): its one script is ours, and may only talk to us.
    let running = console
        .get(&format!("/box-office/performances/{other}/cancellation"))
        .await;
    let csp = running.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.starts_with(
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self';"
        ),
        "{csp}"
    );
    assert!(page.contains(r#"<noscript><meta http-equiv="refresh" content="2"></noscript>"#));
    assert!(page.contains(r#"<script src="/assets/console-cancellation.js" defer></script>"#));
    let script = client()
        .get(app.url("/assets/console-cancellation.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.text().await.unwrap().contains("dataset.poll"));
    let polled: Value = console
        .get(&format!(
            "/box-office/performances/{other}/cancellation.json"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        polled,
        json!({"status": "running", "total": 2, "canceled": 0})
    );
    let anonymous = client()
        .get(app.url(&format!(
            "/box-office/performances/{other}/cancellation.json"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous.status(),
        StatusCode::SEE_OTHER,
        "a session is needed"
    );
    let encore = app.encore.clone();
    tokio::task::spawn_blocking(move || {
        cancellations::run_to_end(&encore, job.id, 1, std::time::Duration::ZERO, |_| {}).unwrap()
    })
    .await
    .unwrap();
    let page = console
        .page(&format!("/box-office/performances/{other}/cancellation"))
        .await;
    assert_eq!(
        progress_of(&page),
        ("2".into(), "2".into(), false),
        "{page}"
    );
    assert!(
        !page.contains("<script"),
        "a finished job's page runs nothing: {page}"
    );
    let polled: Value = console
        .get(&format!(
            "/box-office/performances/{other}/cancellation.json"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(polled, json!({"status": "done", "total": 2, "canceled": 2}));
}

async fn event_forms_without_the_csrf_token_change_nothing(app: TestApp) {
    let console = Console::sign_in(&app, "ada@example.org", Role::Admin).await;
    let event = app.create_event().await;
    let performance = app.create_performance(10).await;
    let forged = EVENT_FORM.to_vec();
    for (path, form) in [
        ("/box-office/events".to_string(), forged.clone()),
        (format!("/box-office/events/{event}"), forged.clone()),
        (
            format!("/box-office/events/{event}/performances"),
            vec![("starts_at", "2027-03-01T19:30"), ("capacity", "10")],
        ),
        (
            format!("/box-office/performances/{performance}/cancel"),
            vec![("reason", "Forged")],
        ),
    ] {
        let missing = console.post_raw(&path, &form).await;
        assert_eq!(missing.status(), StatusCode::FORBIDDEN, "{path}");
        let mut wrong = form.clone();
        wrong.push(("csrf", "not-the-sessions-token-not-the-sessions-tok"));
        assert_eq!(
            console.post_raw(&path, &wrong).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM events"), 2);
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM performances"), 1);
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM performances WHERE canceled_at IS NOT NULL"),
        0
    );
    let hamlet = app
        .get_json(&format!("/api/v1/events/{event}"), &app.admin_key)
        .await;
    assert_eq!(hamlet["name"], "Hamlet");
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM performance_cancellations"),
        0
    );
}

on_both_backends!(
    events_and_performances_are_created_and_changed_through_the_forms,
    an_invalid_form_is_shown_again_with_the_apis_reason,
    a_performance_is_canceled_and_its_progress_page_reaches_done,
    event_forms_without_the_csrf_token_change_nothing,
    an_events_message_rules_are_kept_in_the_console,
);

/// The event page lists its message rules, adds one as the API would (a refused one is shown
/// again with the API's reason and what was typed), and deletes one.
async fn an_events_message_rules_are_kept_in_the_console(app: TestApp) {
    let console = Console::sign_in(&app, "ada@example.org", Role::BoxOffice).await;
    let event = app.create_event().await;
    let path = format!("/box-office/events/{event}/message-rules");
    let page = console.page(&format!("/box-office/events/{event}")).await;
    assert!(page.contains("Messages after the door"), "{page}");
    assert!(!page.contains(r#"id="rules""#));

    let refused = console
        .post(
            &path,
            &[
                ("audience", "not_admitted"),
                ("offset_minutes", "30"),
                ("anchor", "start"),
                ("purpose", "service"),
                ("subject", "We missed you"),
                ("body", "Dear {holder_name}"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = unescaped(&refused.text().await.unwrap());
    assert!(
        page.contains(r#"id="rule-error" data-field="anchor""#),
        "{page}"
    );
    assert!(
        page.contains(r#"value="We missed you""#),
        "what was typed stays: {page}"
    );

    let added = console
        .post(
            &path,
            &[
                ("audience", "admitted"),
                ("offset_minutes", "45"),
                ("anchor", "end"),
                ("purpose", "marketing"),
                ("subject", "Thank you, {holder_name}"),
                ("body", "We hope you enjoyed {event_name}."),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let page = console
        .page(&format!("/box-office/events/{event}?done=rule_added"))
        .await;
    assert!(
        page.contains("Those admitted, 45 minutes after the end"),
        "{page}"
    );
    let rules = app
        .get_json(
            &format!("/api/v1/events/{event}/message-rules"),
            &app.admin_key,
        )
        .await;
    assert_eq!(rules[0]["purpose"], "marketing");
    assert_eq!(rules[0]["subject"], "Thank you, {holder_name}");
    let rule_id = rules[0]["id"].as_i64().unwrap();

    let without_csrf = console
        .post_raw(&format!("{path}/{rule_id}/delete"), &[])
        .await;
    assert_eq!(without_csrf.status(), StatusCode::FORBIDDEN);
    let deleted = console.post(&format!("{path}/{rule_id}/delete"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let rules = app
        .get_json(
            &format!("/api/v1/events/{event}/message-rules"),
            &app.admin_key,
        )
        .await;
    assert_eq!(rules.as_array().unwrap().len(), 0);
}
