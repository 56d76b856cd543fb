//! Engagement by what happened at the door (issue 19): an event's message rules queue once per
//! performance to exactly their audience (admitted, or valid and never admitted), through the
//! outbox to a real SMTP server on loopback; a late offline admission stops a no-show message;
//! the no-show's one-click credit works once; marketing carries RFC 8058's one-click
//! unsubscribe, an opt-out stops marketing but not service mail, and the ticket page reverses
//! it; after-show marketing suggests what to see next from the patron's history.

use chrono::{DateTime, Duration, Utc};
use encore::domain::ids::TicketId;
use encore::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::door::{scan as offline_scan, upload};
use crate::helpers::{on_each_backend, touches, Backend, TestApp};
use crate::smtp::{Received, SmtpServer};

on_each_backend!(rules:
    each_rule_sends_once_to_exactly_its_audience,
    a_late_offline_admission_stops_the_no_show_message,
    the_no_show_credit_works_once_and_refuses_otherwise,
    an_opt_out_stops_marketing_but_not_service_mail,
    after_show_marketing_suggests_from_the_patrons_history,
    rules_are_kept_through_the_api_with_reasons_for_bad_input,
    quiet_patrons_are_listed_a_page_at_a_time_and_as_csv,
    the_operators_templates_replace_the_built_in_ones,
);

pub(crate) async fn app_with_smtp(backend: Backend) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, move |c| c.smtp_url = Some(url)).await;
    (app, smtp)
}

pub(crate) async fn create_event(
    app: &TestApp,
    name: &str,
    venue: &str,
    no_show_percent: Option<i64>,
) -> i64 {
    let response = app
        .post(
            "/api/v1/events",
            &app.admin_key,
            &json!({"name": name, "venue": venue, "time_zone": "Europe/Berlin",
                    "reminder_offsets_minutes": [],
                    "policy": {"no_show_credit_percent": no_show_percent}}),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

pub(crate) async fn create_performance(
    app: &TestApp,
    event: i64,
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
) -> i64 {
    let response = app
        .post(
            &format!("/api/v1/events/{event}/performances"),
            &app.admin_key,
            &json!({"starts_at": starts_at, "ends_at": ends_at, "capacity": 100}),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

/// Tonight's show: started two hours ago, over five minutes ago.
pub(crate) async fn show_just_over(app: &TestApp, event: i64) -> i64 {
    let now = Utc::now();
    create_performance(
        app,
        event,
        now - Duration::hours(2),
        Some(now - Duration::minutes(5)),
    )
    .await
}

pub(crate) async fn add_rule(app: &TestApp, event: i64, rule: Value) -> Value {
    let response = app
        .post(
            &format!("/api/v1/events/{event}/message-rules"),
            &app.admin_key,
            &rule,
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn rule(audience: &str, anchor: &str, offset: i64, purpose: &str, subject: &str) -> Value {
    json!({"audience": audience, "anchor": anchor, "offset_minutes": offset, "purpose": purpose,
           "subject": subject, "body": format!("Dear {{holder_name}}, about {{event_name}}: {subject}.")})
}

fn id(ticket: &Value) -> i64 {
    ticket["id"].as_i64().unwrap()
}

pub(crate) fn token(ticket: &Value) -> &str {
    ticket["token"].as_str().unwrap()
}

/// Delivers everything due, however many rounds that takes.
pub(crate) async fn deliver_all(app: &TestApp) {
    let worker = app.worker();
    while worker.deliver_due().await.unwrap() > 0 {}
}

/// The emails received since `from`, by recipient and subject.
pub(crate) fn received_after(smtp: &SmtpServer, from: usize) -> Vec<(String, String, Received)> {
    smtp.messages()
        .into_iter()
        .skip(from)
        .map(|m| {
            let (to, subject) = {
                let parsed = m.parsed();
                (
                    m.to[0].clone(),
                    parsed.subject().unwrap_or_default().to_string(),
                )
            };
            (to, subject, m)
        })
        .collect()
}

pub(crate) fn text_of(message: &Received) -> String {
    message
        .parsed()
        .body_text(0)
        .expect("a text part")
        .to_string()
}

pub(crate) fn header(message: &Received, name: &str) -> Option<String> {
    message
        .parsed()
        .header_raw(name)
        .map(|v| v.trim().to_string())
}

/// The first URL in `text` that starts with `prefix`.
fn link_in(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '>' || c == '"')
        .next()
        .unwrap()
        .to_string()
}

/// Three tickets of a show that is just over: Ada came, Bob never did, Cy's was canceled. The
/// rules: during the show and after it to those who came, and to the no-shows.
async fn each_rule_sends_once_to_exactly_its_audience(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", Some(50)).await;
    let show = show_just_over(&app, event).await;
    let ada = app.issue_to(show, "Ada", "ada@example.org").await;
    let bob = app.issue_to(show, "Bob", "bob@example.org").await;
    let cy = app.issue_to(show, "Cy", "cy@example.org").await;
    let scanner = app.key(Role::Scanner);
    let (status, scanned) = app.scan(&scanner, token(&ada), "north").await;
    assert_eq!(scanned["outcome"], "admitted", "{status} {scanned}");
    let canceled = app
        .post(
            &format!("/api/v1/tickets/{}/cancel", id(&cy)),
            &app.admin_key,
            &json!({"reason": "Seat broken", "refund_to_credit": true}),
        )
        .await;
    assert_eq!(canceled.status(), StatusCode::OK);
    add_rule(
        &app,
        event,
        rule("admitted", "start", 30, "service", "Interval drinks"),
    )
    .await;
    add_rule(
        &app,
        event,
        rule("admitted", "end", 0, "marketing", "Thank you"),
    )
    .await;
    add_rule(
        &app,
        event,
        rule("not_admitted", "end", 0, "service", "We missed you"),
    )
    .await;
    // A rule whose moment has not come: an hour after the end.
    add_rule(&app, event, rule("admitted", "end", 60, "service", "Later")).await;
    deliver_all(&app).await;
    let before = smtp.messages().len();

    let worker = app.worker();
    assert_eq!(
        worker.queue_due_messages().await.unwrap(),
        3,
        "Ada twice, Bob once"
    );
    assert_eq!(worker.queue_due_messages().await.unwrap(), 0, "queued once");
    deliver_all(&app).await;
    smtp.wait_for(before + 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut got: Vec<(String, String)> = received_after(&smtp, before)
        .into_iter()
        .map(|(to, subject, _)| (to, subject))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("ada@example.org".into(), "Interval drinks".into()),
            ("ada@example.org".into(), "Thank you".into()),
            ("bob@example.org".into(), "We missed you".into()),
        ]
    );
    let sent = received_after(&smtp, before);
    let thanks = &sent.iter().find(|(_, s, _)| s == "Thank you").unwrap().2;
    let unsubscribe =
        header(thanks, "List-Unsubscribe").expect("marketing carries List-Unsubscribe");
    assert!(
        unsubscribe.starts_with(&format!("<{}/unsubscribe/", app.base)),
        "{unsubscribe}"
    );
    assert_eq!(
        header(thanks, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(text_of(thanks).contains("Dear Ada, about Hamlet"));
    let missed = &sent
        .iter()
        .find(|(_, s, _)| s == "We missed you")
        .unwrap()
        .2;
    assert_eq!(
        header(missed, "List-Unsubscribe"),
        None,
        "service mail has no unsubscribe"
    );
    let text = text_of(missed);
    assert!(
        text.contains("22.50 EUR"),
        "half of 45.00 EUR offered: {text}"
    );
    assert!(text.contains(&format!("{}/no-show/", app.base)), "{text}");

    // Later, the last rule's moment comes; nothing already sent goes again.
    app.db.execute(&format!(
        "UPDATE message_rules SET offset_minutes = 1 WHERE subject = 'Later' AND event_id = {event}"
    ));
    assert_eq!(
        worker.queue_due_messages().await.unwrap(),
        1,
        "only the later rule, to Ada"
    );
    let journey = app
        .get_json(
            &format!("/api/v1/tickets/{}/history", id(&bob)),
            &app.admin_key,
        )
        .await;
    assert!(touches(&journey, "email_queued")
        .iter()
        .any(|t| t["detail"]["kind"] == "rule_message"));
}

/// Bob's no-show message is queued; then a scanner that was offline uploads his admission at
/// the door: the message is skipped, with the reason.
async fn a_late_offline_admission_stops_the_no_show_message(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", None).await;
    let show = show_just_over(&app, event).await;
    let bob = app.issue_to(show, "Bob", "bob@example.org").await;
    add_rule(
        &app,
        event,
        rule("not_admitted", "end", 0, "service", "We missed you"),
    )
    .await;
    deliver_all(&app).await;
    let before = smtp.messages().len();
    assert_eq!(app.worker().queue_due_messages().await.unwrap(), 1);

    let scanner = app.key(Role::Scanner);
    // (The ticket was issued just now, so its scan cannot be older: the door's clock bounds.)
    let at_the_door = Utc::now() - Duration::seconds(1);
    let uploaded = upload(
        &app,
        &scanner,
        "gate-2-offline",
        vec![offline_scan(token(&bob), "south", at_the_door)],
    )
    .await;
    assert_eq!(uploaded["results"][0]["outcome"], "admitted", "{uploaded}");
    deliver_all(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        smtp.messages().len(),
        before,
        "no message to someone who came"
    );
    let emails = app
        .get_json(
            &format!("/api/v1/tickets/{}/emails", id(&bob)),
            &app.admin_key,
        )
        .await;
    let message = emails
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "rule_message")
        .expect("the queued rule message");
    assert_eq!(message["status"], "skipped", "{message}");
    assert!(message["last_error"]
        .as_str()
        .unwrap()
        .contains("admitted after the message was queued"));
}

/// The no-show's link: the page shows the offer; the first click credits half the price and
/// queues a receipt; a second click, an admitted ticket, a show not yet over and a deadline
/// passed are all refused with a reason.
async fn the_no_show_credit_works_once_and_refuses_otherwise(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", Some(50)).await;
    let show = show_just_over(&app, event).await;
    let bob = app.issue_to(show, "Bob", "bob@example.org").await;
    let ada = app.issue_to(show, "Ada", "ada@example.org").await;
    let scanner = app.key(Role::Scanner);
    app.scan(&scanner, token(&ada), "north").await;
    add_rule(
        &app,
        event,
        rule("not_admitted", "end", 0, "service", "We missed you"),
    )
    .await;
    deliver_all(&app).await;
    let before = smtp.messages().len();
    app.worker().queue_due_messages().await.unwrap();
    deliver_all(&app).await;
    let sent = smtp.wait_for(before + 1).await;
    let link = link_in(&text_of(&sent[before]), &format!("{}/no-show/", app.base));

    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("22.50 EUR"), "{html}");
    let first = app.client.post(&link).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let done = first.text().await.unwrap();
    assert!(
        done.contains("Credit added") && done.contains("22.50 EUR"),
        "{done}"
    );
    let second = app.client.post(&link).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert!(second
        .text()
        .await
        .unwrap()
        .contains("already turned into credit"));
    let credit = app
        .get_json("/api/v1/patrons/bob@example.org/credit", &app.admin_key)
        .await;
    assert_eq!(credit["balances"][0]["balance_minor"], 2250, "{credit}");
    let emails = app
        .get_json(
            &format!("/api/v1/tickets/{}/emails", id(&bob)),
            &app.admin_key,
        )
        .await;
    assert!(emails
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "exchange_receipt"));
    // The receipt says what the unused ticket became, not that it was exchanged.
    let before = smtp.messages().len();
    deliver_all(&app).await;
    let sent = smtp.wait_for(before + 1).await;
    let receipt = &sent[before];
    let subject = receipt.parsed().subject().unwrap_or_default().to_string();
    assert!(
        subject.starts_with("Your credit for the unused ticket: Hamlet on"),
        "{subject}"
    );
    let text = text_of(receipt);
    assert!(text.contains("Your unused ticket for Hamlet"), "{text}");
    assert!(text.contains("became 22.50 EUR of stored credit"), "{text}");
    assert!(!text.contains("Exchange fee"), "{text}");

    // Ada came: a no-show link for her ticket (were one made) is refused.
    let refused = |ticket: i64| {
        let token = app.patron_link(ticket, 1, encore::tokens::LinkPurpose::NoShowCredit);
        app.client
            .post(app.url(&format!("/no-show/{token}")))
            .send()
    };
    let admitted = refused(id(&ada)).await.unwrap();
    assert_eq!(admitted.status(), StatusCode::CONFLICT);
    assert!(admitted
        .text()
        .await
        .unwrap()
        .contains("already used to enter"));

    // A free ticket is worth no credit: nothing is offered.
    let free = app
        .post(
            &format!("/api/v1/performances/{show}/tickets"),
            &app.admin_key,
            &json!({"holder_name": "Gil", "holder_email": "gil@example.org",
                    "price_minor": 0, "currency": "EUR"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let nothing = refused(id(&free)).await.unwrap();
    assert_eq!(nothing.status(), StatusCode::CONFLICT);
    assert!(nothing
        .text()
        .await
        .unwrap()
        .contains("does not offer credit"));

    // A show not yet over, and one whose deadline passed.
    let tonight = create_performance(&app, event, Utc::now() - Duration::minutes(30), None).await;
    let early = app.issue_to(tonight, "Eve", "eve@example.org").await;
    let too_early = refused(id(&early)).await.unwrap();
    assert_eq!(too_early.status(), StatusCode::CONFLICT);
    assert!(too_early.text().await.unwrap().contains("not over yet"));
    let long_ago = app.issue_to(tonight, "Fay", "fay@example.org").await;
    app.db.execute(&format!(
        "UPDATE performances SET starts_at = '2026-10-01 19:00:00', ends_at = '2026-10-01 21:00:00' WHERE id = {tonight}"
    ));
    let too_late = refused(id(&long_ago)).await.unwrap();
    assert_eq!(too_late.status(), StatusCode::CONFLICT);
    assert!(too_late.text().await.unwrap().contains("has passed"));
    // And a link whose own deadline passed does not work at all.
    let expired = app
        .encore
        .keys
        .sign(&encore::tokens::LinkClaims {
            ticket_id: TicketId(id(&long_ago)),
            generation: 1,
            purpose: encore::tokens::LinkPurpose::NoShowCredit,
            exp: (Utc::now() - Duration::minutes(1)).timestamp(),
        })
        .unwrap();
    let dead = app
        .client
        .post(app.url(&format!("/no-show/{expired}")))
        .send()
        .await
        .unwrap();
    assert_eq!(dead.status(), StatusCode::NOT_FOUND);
}

/// Ada unsubscribes with one click (as a mail client does, RFC 8058): the next show's
/// marketing skips her while its service message still comes; the journey records it; her
/// ticket page turns news back on, and marketing reaches her again.
async fn an_opt_out_stops_marketing_but_not_service_mail(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", None).await;
    let first = show_just_over(&app, event).await;
    let ada = app.issue_to(first, "Ada", "ada@example.org").await;
    let scanner = app.key(Role::Scanner);
    app.scan(&scanner, token(&ada), "north").await;
    add_rule(
        &app,
        event,
        rule("admitted", "end", 0, "marketing", "Thank you"),
    )
    .await;
    add_rule(
        &app,
        event,
        rule("admitted", "end", 0, "service", "Lost property"),
    )
    .await;
    deliver_all(&app).await;
    let before = smtp.messages().len();
    assert_eq!(app.worker().queue_due_messages().await.unwrap(), 2);
    deliver_all(&app).await;
    let sent = smtp.wait_for(before + 2).await;
    let thanks = sent[before..]
        .iter()
        .find(|m| m.parsed().subject() == Some("Thank you"))
        .unwrap();
    let unsubscribe = header(thanks, "List-Unsubscribe").unwrap();
    let unsubscribe = unsubscribe.trim_start_matches('<').trim_end_matches('>');
    // A link scanner's GET changes nothing.
    let page = app.client.get(unsubscribe).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("Unsubscribe from news"));
    let one_click = app
        .client
        .post(unsubscribe)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), StatusCode::OK);
    assert!(one_click
        .text()
        .await
        .unwrap()
        .contains("You are unsubscribed"));
    let journey = app
        .get_json(
            &format!("/api/v1/tickets/{}/history", id(&ada)),
            &app.admin_key,
        )
        .await;
    assert_eq!(touches(&journey, "unsubscribed").len(), 1, "{journey}");

    // The next show: marketing skips Ada, service still reaches her.
    let second = show_just_over(&app, event).await;
    let again = app.issue_to(second, "Ada", "ada@example.org").await;
    app.scan(&scanner, token(&again), "north").await;
    deliver_all(&app).await;
    let before = smtp.messages().len();
    assert_eq!(
        app.worker().queue_due_messages().await.unwrap(),
        1,
        "service only"
    );
    deliver_all(&app).await;
    let sent = smtp.wait_for(before + 1).await;
    assert_eq!(sent[before].parsed().subject(), Some("Lost property"));

    // From her ticket page, news back on.
    let view = app.view_token(&again);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = app
        .client
        .get(app.url(&format!("/t/{view}")))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("Receive news again"));
    let back = no_redirects
        .post(app.url(&format!("/t/{view}/news")))
        .form(&[("news", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let bad = no_redirects
        .post(app.url(&format!("/t/{view}/news")))
        .form(&[("news", "maybe")])
        .send()
        .await
        .unwrap();
    assert!(bad.status().is_client_error(), "{}", bad.status());
    let journey = app
        .get_json(
            &format!("/api/v1/tickets/{}/history", id(&again)),
            &app.admin_key,
        )
        .await;
    assert_eq!(touches(&journey, "resubscribed").len(), 1, "{journey}");
    let third = show_just_over(&app, event).await;
    let once_more = app.issue_to(third, "Ada", "ada@example.org").await;
    app.scan(&scanner, token(&once_more), "north").await;
    assert_eq!(
        app.worker().queue_due_messages().await.unwrap(),
        2,
        "marketing again"
    );
}

/// Ada came to Hamlet and to a concert at the Globe before; tonight she saw Hamlet. Her
/// thank-you suggests Hamlet's next date and the Globe's next show, not an unrelated event,
/// not a sold-out date, and not the date she already holds.
async fn after_show_marketing_suggests_from_the_patrons_history(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let hamlet = create_event(&app, "Hamlet", "The Globe", None).await;
    let concert = create_event(&app, "Night Music", "The Globe", None).await;
    let opera = create_event(&app, "Carmen", "Opera House", None).await;
    let tonight = show_just_over(&app, hamlet).await;
    let ada = app.issue_to(tonight, "Ada", "ada@example.org").await;
    let scanner = app.key(Role::Scanner);
    app.scan(&scanner, token(&ada), "north").await;
    let soon = |days: i64| Utc::now() + Duration::days(days);
    let hamlet_next = create_performance(&app, hamlet, soon(7), None).await;
    let hamlet_held = create_performance(&app, hamlet, soon(3), None).await;
    app.issue_to(hamlet_held, "Ada", "ada@example.org").await;
    let _concert_next = create_performance(&app, concert, soon(10), None).await;
    let _opera_next = create_performance(&app, opera, soon(2), None).await;
    add_rule(
        &app,
        hamlet,
        rule("admitted", "end", 0, "marketing", "Thank you"),
    )
    .await;
    deliver_all(&app).await;
    let before = smtp.messages().len();
    assert_eq!(app.worker().queue_due_messages().await.unwrap(), 1);
    deliver_all(&app).await;
    let sent = smtp.wait_for(before + 1).await;
    let text = text_of(&sent[before]);
    let suggestions = &text[text.find("You might enjoy next:").expect(&text)..];
    let lines: Vec<&str> = suggestions
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("- "))
        .collect();
    assert_eq!(lines.len(), 2, "{suggestions}");
    assert!(lines[0].starts_with("- Hamlet,"), "{lines:?}");
    assert!(lines[1].starts_with("- Night Music,"), "{lines:?}");
    assert!(!suggestions.contains("Carmen"));
    let _ = hamlet_next;
}

/// Create, list, read, replace and delete; bad input answers 4xx naming the field; a deleted
/// rule's queued messages are skipped.
async fn rules_are_kept_through_the_api_with_reasons_for_bad_input(backend: Backend) {
    let (app, _smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", None).await;
    let created = add_rule(
        &app,
        event,
        rule("admitted", "end", 30, "marketing", "Thanks"),
    )
    .await;
    let rule_id = created["id"].as_i64().unwrap();
    assert_eq!(created["audience"], "admitted");
    assert_eq!(created["purpose"], "marketing");
    let path = format!("/api/v1/events/{event}/message-rules");
    let listed = app.get_json(&path, &app.admin_key).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let replaced = app
        .client
        .put(app.url(&format!("{path}/{rule_id}")))
        .bearer_auth(&app.admin_key)
        .json(&rule("admitted", "end", 45, "service", "Lost property"))
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), StatusCode::OK);
    let shown = app
        .get_json(&format!("{path}/{rule_id}"), &app.admin_key)
        .await;
    assert_eq!(shown["offset_minutes"], 45);
    assert_eq!(shown["subject"], "Lost property");

    for (bad, field) in [
        (rule("not_admitted", "start", 10, "service", "x"), "anchor"),
        (
            rule("admitted", "end", -5, "service", "x"),
            "offset_minutes",
        ),
        (
            rule("admitted", "end", 20_000, "service", "x"),
            "offset_minutes",
        ),
        (
            rule("admitted", "end", 0, "service", "Hi {name}"),
            "subject",
        ),
        (
            json!({"audience": "everyone", "anchor": "end", "offset_minutes": 0,
                "purpose": "service", "subject": "s", "body": "b"}),
            "not_admitted",
        ),
    ] {
        let response = app.post(&path, &app.admin_key, &bad).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_client_error(), "{status} {body}");
        assert!(body.contains(field), "{field}: {body}");
    }
    let missing = app
        .post(
            "/api/v1/events/999999/message-rules",
            &app.admin_key,
            &rule("admitted", "end", 0, "service", "s"),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let scanner = app.key(Role::Scanner);
    let forbidden = app
        .post(&path, &scanner, &rule("admitted", "end", 0, "service", "s"))
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    // Queued, then deleted before sending: skipped.
    let show = show_just_over(&app, event).await;
    let ada = app.issue_to(show, "Ada", "ada@example.org").await;
    app.scan(&app.key(Role::Scanner), token(&ada), "north")
        .await;
    app.db.execute(&format!(
        "UPDATE message_rules SET offset_minutes = 0 WHERE id = {rule_id}"
    ));
    deliver_all(&app).await;
    assert_eq!(app.worker().queue_due_messages().await.unwrap(), 1);
    let deleted = app
        .client
        .delete(app.url(&format!("{path}/{rule_id}")))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    deliver_all(&app).await;
    let emails = app
        .get_json(
            &format!("/api/v1/tickets/{}/emails", id(&ada)),
            &app.admin_key,
        )
        .await;
    let message = emails
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "rule_message")
        .unwrap();
    assert_eq!(message["status"], "skipped");
    let gone = app.get(&format!("{path}/{rule_id}"), &app.admin_key).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

/// Ada came once, in January; Bob never came, and was last touched in January too; Cy was
/// issued a ticket today. Quiet for 30 days: Bob (the quietest), then Ada; paged, and as CSV.
async fn quiet_patrons_are_listed_a_page_at_a_time_and_as_csv(backend: Backend) {
    let (app, _smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", None).await;
    let show = show_just_over(&app, event).await;
    let ada = app.issue_to(show, "Ada", "ada@example.org").await;
    let bob = app.issue_to(show, "Bob", "bob@example.org").await;
    app.issue_to(show, "Cy", "cy@example.org").await;
    app.db.execute(&format!(
        "UPDATE tickets SET issued_at = '2026-01-01 10:00:00' WHERE id IN ({}, {})",
        id(&ada),
        id(&bob)
    ));
    app.db.execute(&format!(
        "UPDATE tickets SET admitted_at = '2026-01-02 19:00:00', admitted_gate = 'north' WHERE id = {}",
        id(&ada)
    ));
    let quiet = app
        .get_json("/api/v1/patrons?quiet_for_days=30", &app.admin_key)
        .await;
    assert_eq!(quiet["total"], 2, "{quiet}");
    let patrons = quiet["patrons"].as_array().unwrap();
    assert_eq!(patrons[0]["email"], "bob@example.org");
    assert_eq!(patrons[0]["last_touch"], "issued");
    assert_eq!(patrons[0]["attendance_rate"], 0.0);
    assert_eq!(patrons[1]["email"], "ada@example.org");
    assert_eq!(patrons[1]["last_touch"], "admitted");
    assert_eq!(patrons[1]["lifetime_tickets"], 1);
    assert_eq!(patrons[1]["attendance_rate"], 1.0);

    let second = app
        .get_json(
            "/api/v1/patrons?quiet_for_days=30&per_page=1&page=2",
            &app.admin_key,
        )
        .await;
    assert_eq!(second["patrons"].as_array().unwrap().len(), 1);
    assert_eq!(second["patrons"][0]["email"], "ada@example.org");
    assert_eq!(second["total"], 2);

    let csv = app
        .get(
            "/api/v1/patrons?quiet_for_days=30&format=csv",
            &app.admin_key,
        )
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let body = csv.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "email,name,last_touch_at,last_touch,lifetime_tickets,attendance_rate"
    );
    assert!(
        lines[1].starts_with("bob@example.org,Bob,2026-01-01T10:00:00"),
        "{body}"
    );
    assert_eq!(lines.len(), 3, "{body}");

    for bad in [
        "/api/v1/patrons?quiet_for_days=0",
        "/api/v1/patrons?quiet_for_days=30&per_page=501",
        "/api/v1/patrons?quiet_for_days=30&format=xml",
        "/api/v1/patrons?quiet_for_days=30&q=ada",
        "/api/v1/patrons?q=ada&page=2",
    ] {
        let response = app.get(bad, &app.admin_key).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// The operator's folder replaces the rule message's subject and text part (the HTML part
/// stays built in); a file with an unknown placeholder stops the worker's start, naming both.
async fn the_operators_templates_replace_the_built_in_ones(backend: Backend) {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("rule_message.subject.txt"),
        "Danke, {{ t.holder_name }}!",
    )
    .unwrap();
    std::fs::write(
        templates.path().join("rule_message.txt"),
        "{{ m.body }}\n\nIhr Ticket: {{ t.link }}\n",
    )
    .unwrap();
    let smtp = SmtpServer::start().await;
    let (url, dir) = (smtp.url(), templates.path().display().to_string());
    let app = TestApp::spawn_with(backend, move |c| {
        c.smtp_url = Some(url);
        c.email_templates_dir = Some(dir);
    })
    .await;
    let event = create_event(&app, "Hamlet", "The Globe", None).await;
    let show = show_just_over(&app, event).await;
    let ada = app.issue_to(show, "Ada", "ada@example.org").await;
    app.scan(&app.key(Role::Scanner), token(&ada), "north")
        .await;
    add_rule(
        &app,
        event,
        rule("admitted", "end", 0, "service", "Thank you"),
    )
    .await;
    deliver_all(&app).await;
    let before = smtp.messages().len();
    app.worker().queue_due_messages().await.unwrap();
    deliver_all(&app).await;
    let sent = smtp.wait_for(before + 1).await;
    let message = &sent[before];
    assert_eq!(message.parsed().subject(), Some("Danke, Ada!"));
    let text = text_of(message);
    assert!(
        text.starts_with("Dear Ada, about Hamlet: Thank you."),
        "{text}"
    );
    assert!(text.contains("Ihr Ticket: http://"), "{text}");
    let html = message.parsed().body_html(0).unwrap().to_string();
    assert!(
        html.contains("Your ticket</a>"),
        "the HTML part stays built in: {html}"
    );

    std::fs::write(
        templates.path().join("reminder.txt"),
        "Hi {{ t.holder_nme }}",
    )
    .unwrap();
    let error = encore::worker::Worker::from_config(app.encore.clone(), &app.config)
        .err()
        .expect("a template with a typo stops the start")
        .to_string();
    assert!(
        error.contains("reminder.txt") && error.contains("t.holder_nme"),
        "{error}"
    );
}
