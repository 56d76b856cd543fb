//! Patron links hardened (issue 14, items 6, 7 and 10): a ticket page cannot relay email to
//! anyone (offers limited per ticket and per recipient, no patron's name in a subject), a link
//! lives only as long as its ticket's generation, and opening a link is recorded at most once
//! per few minutes however often it is fetched.

use chrono::{Duration, Utc};
use encore::config::Config;
use encore::domain::ids::TicketId;
use encore::tokens::{LinkClaims, LinkPurpose};
use reqwest::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{on_each_backend, Backend, TestApp};
use crate::smtp::SmtpServer;

/// An app sending through a real SMTP server on loopback, with its settings adjusted.
async fn app_with_smtp(
    backend: Backend,
    configure: impl FnOnce(&mut Config) + Send + 'static,
) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, move |c| {
        c.smtp_url = Some(url);
        configure(c);
    })
    .await;
    (app, smtp)
}

/// A ticket for `email` to a performance tomorrow (open for transfers); its id.
async fn ticket_for(app: &TestApp, name: &str, email: &str) -> i64 {
    let performance = app
        .create_performance_at(Utc::now() + Duration::days(1), 10)
        .await;
    app.issue_to(performance, name, email).await["id"]
        .as_i64()
        .unwrap()
}

/// The path of a view link to the ticket at `generation` (as the confirmation email carries it).
fn view_path(app: &TestApp, ticket_id: i64, generation: i32) -> String {
    let claims = LinkClaims {
        ticket_id: TicketId(ticket_id),
        generation,
        purpose: LinkPurpose::View,
        exp: (Utc::now() + Duration::days(2)).timestamp(),
    };
    format!("/t/{}", app.encore.keys.sign(&claims).unwrap())
}

/// A patron page request as a browser makes it, redirects left for the test to see.
async fn page(
    app: &TestApp,
    method: Method,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .request(method, app.url(path))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn offer_from_page(app: &TestApp, link: &str, name: &str, email: &str) -> reqwest::Response {
    page(
        app,
        Method::POST,
        &format!("{link}/transfer"),
        &[("name", name), ("email", email)],
    )
    .await
}

/// Takes the offer back from the page; the path of the fresh link it leads on to.
async fn take_back(app: &TestApp, link: &str) -> String {
    let response = page(app, Method::POST, &format!("{link}/transfer/cancel"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap();
    let path = location.split('?').next().unwrap().to_string();
    assert_eq!(
        page(app, Method::GET, &path, &[]).await.status(),
        StatusCode::OK,
        "the page goes on by a link that works"
    );
    path
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.count(sql)
}

/// Offer, take back, offer again from one ticket page: the limit's worth of offers go out, the
/// next is 429 with a Retry-After no longer than the window, and nothing more is queued. The box
/// office is not limited.
async fn a_ticket_page_makes_at_most_the_limit_of_offers_then_answers_429(backend: Backend) {
    let (app, _smtp) = app_with_smtp(backend, |c| {
        c.transfer_offers_per_ticket = 3;
        c.transfer_offer_window_minutes = 60;
    })
    .await;
    let id = ticket_for(&app, "Ada", "ada@example.org").await;
    let mut link = view_path(&app, id, 1);
    for n in 0..3 {
        let friend = format!("friend{n}@example.org");
        let response = offer_from_page(&app, &link, "A friend", &friend).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "offer {n}");
        link = take_back(&app, &link).await;
    }
    let response = offer_from_page(&app, &link, "A friend", "another@example.org").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = response.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    assert!(response.text().await.unwrap().contains("Too many offers"));
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM transfers"), 3);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'transfer_offer'"
        ),
        3
    );

    // The box office, acting for the patron with a key of its own, is not limited.
    let response = app
        .post(
            &format!("/api/v1/tickets/{id}/transfer"),
            &app.admin_key,
            &json!({"name": "A friend", "email": "another@example.org"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// Offers to one address from several tickets' pages are limited too, whatever the letter case
/// of the address.
async fn offers_to_one_address_are_limited_across_tickets(backend: Backend) {
    let (app, _smtp) = app_with_smtp(backend, |c| c.transfer_offers_per_recipient = 2).await;
    let mut statuses = Vec::new();
    for (n, to) in [
        "victim@example.org",
        "VICTIM@example.org",
        "Victim@example.org",
    ]
    .iter()
    .enumerate()
    {
        let id = ticket_for(&app, "Holder", &format!("holder{n}@example.org")).await;
        let link = view_path(&app, id, 1);
        statuses.push(offer_from_page(&app, &link, "Victim", to).await.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::SEE_OTHER,
            StatusCode::SEE_OTHER,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM transfers"), 2);
}

/// A friend names themselves, claims, and offers the ticket on: the offer's subject carries
/// neither their words nor anyone else's name.
async fn no_patron_name_reaches_an_offer_subject(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend, |_| {}).await;
    let id = ticket_for(&app, "Ada", "ada@example.org").await;
    let spam = "Cheap pills at evil.example";
    let response =
        offer_from_page(&app, &view_path(&app, id, 1), spam, "mallory@example.org").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // (Ada's confirmation is skipped: her ticket is on offer by the time the worker runs.)
    app.worker().deliver_due().await.unwrap();
    smtp.wait_for(1).await;
    let claim = LinkClaims {
        ticket_id: TicketId(id),
        generation: 1,
        purpose: LinkPurpose::Claim,
        exp: (Utc::now() + Duration::days(1)).timestamp(),
    };
    let claim = format!("/claim/{}", app.encore.keys.sign(&claim).unwrap());
    let claimed = page(&app, Method::POST, &claim, &[]).await;
    assert_eq!(claimed.status(), StatusCode::SEE_OTHER);
    // Her own ticket's page (the redirect adds `?done=claimed` for the "It's yours" notice).
    let mallory_link = claimed.headers()[LOCATION].to_str().unwrap();
    let mallory_link = mallory_link.split('?').next().unwrap().to_string();
    let response = offer_from_page(&app, &mallory_link, "Victim", "victim@example.org").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // (Mallory's confirmation is skipped: the ticket is on offer again.)
    app.worker().deliver_due().await.unwrap();
    let messages = smtp.wait_for(2).await;
    let subjects: Vec<String> = messages
        .iter()
        .map(|m| m.parsed().subject().unwrap_or_default().to_string())
        .collect();
    let to_victim = messages
        .iter()
        .position(|m| m.to == ["victim@example.org"])
        .expect("the offer reached the victim");
    assert_eq!(
        subjects[to_victim],
        "A ticket for Hamlet is waiting for you"
    );
    for subject in &subjects {
        assert!(
            !subject.contains("evil.example") && !subject.contains("Ada"),
            "{subjects:?}"
        );
    }
}

/// The link's path in the newest email to `to` that carries one.
fn newest_link_to(smtp: &SmtpServer, app: &TestApp, to: &str) -> String {
    let prefix = app.url("/t/");
    let message = smtp
        .messages()
        .into_iter()
        .rev()
        .find(|m| m.to == [to])
        .expect("an email to the holder");
    let text = message.parsed().body_text(0).unwrap().to_string();
    let start = text.find(&prefix).expect("a patron link");
    let link = text[start..].split_whitespace().next().unwrap();
    link.trim_start_matches(&app.base).to_string()
}

/// Asserts the out-of-date answer: 410, a page that says so, private, and nothing of the ticket.
async fn assert_gone(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::GONE);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(response.headers()[REFERRER_POLICY], "no-referrer");
    let body = response.text().await.unwrap();
    assert!(body.contains("This link is out of date"), "{body}");
    for ticket_data in ["Ada", "Hamlet", "Globe", "<svg"] {
        assert!(!body.contains(ticket_data), "{ticket_data} in {body}");
    }
}

/// After a take-back (and after an expiry), the generation-1 link is 410 Gone everywhere —
/// page, calendar, actions — and the holder's newest email carries a link that works.
async fn a_superseded_link_is_gone_and_the_holder_has_a_current_one(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend, |_| {}).await;
    let id = ticket_for(&app, "Ada", "ada@example.org").await;
    app.worker().deliver_due().await.unwrap();
    let first = newest_link_to(&smtp, &app, "ada@example.org");
    assert_eq!(
        page(&app, Method::GET, &first, &[]).await.status(),
        StatusCode::OK
    );

    // Offer and take back from the page: on by a fresh link, the first one is gone.
    let response = offer_from_page(&app, &first, "Grace", "grace@example.org").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let second = take_back(&app, &first).await;
    assert_gone(page(&app, Method::GET, &first, &[]).await).await;
    assert_gone(page(&app, Method::GET, &format!("{first}/calendar.ics"), &[]).await).await;
    assert_gone(offer_from_page(&app, &first, "Grace", "grace@example.org").await).await;
    assert_gone(
        page(
            &app,
            Method::POST,
            &format!("{first}/exchange"),
            &[("into", "credit")],
        )
        .await,
    )
    .await;
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM transfers"), 1);
    let ticket = app
        .get_json(&format!("/api/v1/tickets/{id}"), &app.admin_key)
        .await;
    assert_eq!(
        (ticket["status"].as_str(), ticket["generation"].as_i64()),
        (Some("valid"), Some(2))
    );
    // The holder's email for the new generation carries a current link.
    let sent = smtp.messages().len();
    app.worker().deliver_due().await.unwrap();
    smtp.wait_for(sent + 1).await; // the new confirmation (the offer to Grace was taken back)
    let emailed = newest_link_to(&smtp, &app, "ada@example.org");
    let shown = page(&app, Method::GET, &emailed, &[]).await;
    assert_eq!(shown.status(), StatusCode::OK);
    assert!(
        shown.text().await.unwrap().contains("<svg"),
        "the QR is shown"
    );
    assert_eq!(
        page(&app, Method::GET, &second, &[]).await.status(),
        StatusCode::OK
    );

    // An offer that expires back to the holder moves the generation on the same way.
    let response = offer_from_page(&app, &emailed, "Grace", "grace@example.org").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    app.db.execute(
        "UPDATE transfers SET expires_at = '2000-01-01 00:00:00' WHERE status = 'offered'",
    );
    assert_eq!(app.worker().expire_transfer_offers().await.unwrap(), 1);
    let sent = smtp.messages().len();
    app.worker().deliver_due().await.unwrap();
    smtp.wait_for(sent + 1).await;
    assert_gone(page(&app, Method::GET, &emailed, &[]).await).await;
    let third = newest_link_to(&smtp, &app, "ada@example.org");
    assert_ne!(third, emailed);
    assert_eq!(
        page(&app, Method::GET, &third, &[]).await.status(),
        StatusCode::OK
    );
}

/// Fifty parallel opens of one link write one row; once the interval has passed, the next open
/// is recorded again.
async fn parallel_opens_of_a_link_are_recorded_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.link_open_record_minutes = 5).await;
    let id = ticket_for(&app, "Ada", "ada@example.org").await;
    let link = view_path(&app, id, 1);
    let opens = (0..50).map(|_| page(&app, Method::GET, &link, &[]));
    for response in futures::future::join_all(opens).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    let opens_sql = format!("SELECT COUNT(*) AS n FROM link_opens WHERE ticket_id = {id}");
    assert_eq!(count(&app, &opens_sql), 1);

    app.db
        .execute("UPDATE link_opens SET opened_at = '2000-01-01 00:00:00'");
    assert_eq!(
        page(&app, Method::GET, &link, &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(count(&app, &opens_sql), 2);
    let journey = app
        .get_json(&format!("/api/v1/tickets/{id}/history"), &app.admin_key)
        .await;
    assert_eq!(crate::helpers::touches(&journey, "link_opened").len(), 2);
}

on_each_backend!(
    limits_and_links: a_ticket_page_makes_at_most_the_limit_of_offers_then_answers_429,
    offers_to_one_address_are_limited_across_tickets,
    no_patron_name_reaches_an_offer_subject,
    a_superseded_link_is_gone_and_the_holder_has_a_current_one,
    parallel_opens_of_a_link_are_recorded_once,
);
