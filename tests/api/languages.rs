//! The patron's language (issue 19): a ticket speaks the language it was issued in, else its
//! event's; its emails say everything in it, with its dates and money, through a real SMTP
//! server on loopback. A message rule's translation reaches the patrons who read that language;
//! the others get its own text. Bad languages are refused with the reason.

use chrono::{DateTime, Duration, Utc};
use encore::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::engagement::{
    add_rule, app_with_smtp, create_event, deliver_all, header, received_after, show_just_over,
    text_of, token,
};
use crate::helpers::{on_each_backend, Backend, TestApp};
use crate::smtp::SmtpServer;

on_each_backend!(languages:
    a_ticket_speaks_its_language_or_its_events,
    a_german_confirmation_has_german_words_dates_and_money,
    an_after_show_message_speaks_each_patrons_language,
    a_german_cancellation_says_what_was_credited_in_german,
    languages_are_checked_with_reasons,
);

/// 18 December 2027, 19:30 in Berlin: a Saturday.
fn curtain() -> DateTime<Utc> {
    "2027-12-18T18:30:00Z".parse().unwrap()
}

async fn performance_at(app: &TestApp, event: i64, starts_at: DateTime<Utc>) -> i64 {
    crate::engagement::create_performance(app, event, starts_at, None).await
}

async fn issue(app: &TestApp, performance: i64, name: &str, locale: Option<&str>) -> Value {
    let mut body = json!({"holder_name": name,
        "holder_email": format!("{}@example.org", name.to_lowercase()),
        "price_minor": 4500, "currency": "EUR", "seat": "A1"});
    if let Some(locale) = locale {
        body["locale"] = json!(locale);
    }
    let response = app
        .post(
            &format!("/api/v1/performances/{performance}/tickets"),
            &app.admin_key,
            &body,
        )
        .await;
    let status = response.status();
    let ticket: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    ticket
}

async fn patch_event(app: &TestApp, event: i64, patch: &Value) -> (StatusCode, Value) {
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/events/{event}")))
        .bearer_auth(&app.admin_key)
        .json(patch)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// What a text part must never show: a message id instead of words.
fn assert_no_message_ids(text: &str) {
    for id_prefix in ["email-", "page-", "ticket-"] {
        assert!(
            !text.split_whitespace().any(|w| w.starts_with(id_prefix)),
            "a message id in: {text}"
        );
    }
}

/// The confirmation each holder received, by address.
async fn confirmations(
    app: &TestApp,
    smtp: &SmtpServer,
    count: usize,
) -> Vec<(String, String, String)> {
    deliver_all(app).await;
    smtp.wait_for(count).await;
    received_after(smtp, 0)
        .into_iter()
        .map(|(to, subject, message)| (to, subject, text_of(&message)))
        .collect()
}

async fn a_ticket_speaks_its_language_or_its_events(backend: Backend) {
    let (app, _smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", None).await;
    let event_view = app
        .get_json(&format!("/api/v1/events/{event}"), &app.admin_key)
        .await;
    assert_eq!(event_view["locale"], "en", "English unless told");
    let show = performance_at(&app, event, curtain()).await;
    assert_eq!(issue(&app, show, "Ada", None).await["locale"], "en");
    assert_eq!(
        issue(&app, show, "Bea", Some("de-AT")).await["locale"],
        "de"
    );

    let (status, changed) = patch_event(&app, event, &json!({"locale": "de"})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["locale"], "de");
    assert_eq!(
        issue(&app, show, "Cy", None).await["locale"],
        "de",
        "now the event's"
    );
    assert_eq!(
        issue(&app, show, "Dan", Some("en")).await["locale"],
        "en",
        "given wins"
    );
}

async fn a_german_confirmation_has_german_words_dates_and_money(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", None).await;
    let show = performance_at(&app, event, curtain()).await;
    issue(&app, show, "Ada", Some("de")).await;
    issue(&app, show, "Bob", None).await;
    let sent = confirmations(&app, &smtp, 2).await;
    let (_, subject, german) = sent
        .iter()
        .find(|(to, ..)| to == "ada@example.org")
        .unwrap();
    assert_eq!(subject, "Ihr Ticket für Hamlet am 18. Dez 2027");
    for expected in [
        "Guten Tag Ada,",
        "hier ist Ihr Ticket für Hamlet.",
        "Wann:   Samstag, 18. Dezember 2027, 19:30 CET (Einlass Samstag, 18. Dezember 2027, 18:30 CET)",
        "Platz:   A1",
        "Preis:  45,00 EUR",
        "Bis bald!",
    ] {
        assert!(german.contains(expected), "{expected:?} not in:\n{german}");
    }
    assert_no_message_ids(german);

    let (_, subject, english) = sent
        .iter()
        .find(|(to, ..)| to == "bob@example.org")
        .unwrap();
    assert_eq!(subject, "Your ticket for Hamlet on 18 Dec 2027");
    assert!(
        english.contains("Saturday 18 December 2027, 19:30 CET"),
        "{english}"
    );
    assert!(english.contains("Price:  45.00 EUR"), "{english}");
    assert_no_message_ids(english);
}

/// After the show, Ada (German) and Bob (English) both came. The rule has a German
/// translation: Ada reads it, with German suggestions and unsubscribe line; Bob reads the
/// rule's own text. The German text part is printed for the record.
async fn an_after_show_message_speaks_each_patrons_language(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", None).await;
    let tonight = show_just_over(&app, event).await;
    let ada = issue(&app, tonight, "Ada", Some("de")).await;
    let bob = issue(&app, tonight, "Bob", None).await;
    let scanner = app.key(Role::Scanner);
    for ticket in [&ada, &bob] {
        let (_, scanned) = app.scan(&scanner, token(ticket), "north").await;
        assert_eq!(scanned["outcome"], "admitted", "{scanned}");
    }
    let next = Utc::now() + Duration::days(7);
    performance_at(&app, event, next).await;
    let created = add_rule(
        &app,
        event,
        json!({"audience": "admitted", "anchor": "end", "offset_minutes": 0,
               "purpose": "marketing",
               "subject": "Thank you for coming, {holder_name}",
               "body": "We hope you enjoyed {event_name} at {venue}.",
               "translations": [{"locale": "de",
                   "subject": "Danke für Ihren Besuch, {holder_name}",
                   "body": "Wir hoffen, {event_name} im {venue} hat Ihnen gefallen."}]}),
    )
    .await;
    assert_eq!(created["translations"][0]["locale"], "de", "{created}");
    deliver_all(&app).await;
    let before = smtp.messages().len();
    assert_eq!(app.worker().queue_due_messages().await.unwrap(), 2);
    deliver_all(&app).await;
    smtp.wait_for(before + 2).await;
    let sent = received_after(&smtp, before);

    let (_, subject, german) = sent
        .iter()
        .find(|(to, ..)| to == "ada@example.org")
        .unwrap();
    assert_eq!(subject, "Danke für Ihren Besuch, Ada");
    let text = text_of(german);
    println!("--- after-show email, German (text part) ---\nSubject: {subject}\n{text}");
    assert!(
        text.starts_with("Wir hoffen, Hamlet im The Globe hat Ihnen gefallen."),
        "{text}"
    );
    let suggestions = &text[text
        .find("Das könnte Ihnen als Nächstes gefallen:")
        .expect(&text)..];
    let first = suggestions.lines().nth(1).unwrap_or_default();
    assert!(first.starts_with("- Hamlet, "), "{suggestions}");
    let weekday = [
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonntag",
    ];
    assert!(
        weekday.iter().any(|d| first.contains(d)),
        "a German date: {first}"
    );
    assert!(text.contains("Sie erhalten solche Nachrichten"), "{text}");
    assert!(header(german, "List-Unsubscribe").is_some());
    assert_no_message_ids(&text);

    let (_, subject, english) = sent
        .iter()
        .find(|(to, ..)| to == "bob@example.org")
        .unwrap();
    assert_eq!(subject, "Thank you for coming, Bob");
    let text = text_of(english);
    println!("--- after-show email, English (text part) ---\nSubject: {subject}\n{text}");
    assert!(
        text.starts_with("We hope you enjoyed Hamlet at The Globe."),
        "{text}"
    );
    assert!(text.contains("You might enjoy next:"), "{text}");
}

async fn a_german_cancellation_says_what_was_credited_in_german(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", None).await;
    let show = performance_at(&app, event, curtain()).await;
    let ada = issue(&app, show, "Ada", Some("de")).await;
    deliver_all(&app).await;
    let before = smtp.messages().len();
    let canceled = app
        .post(
            &format!("/api/v1/tickets/{}/cancel", ada["id"]),
            &app.admin_key,
            &json!({"reason": "Der Platz ist beschädigt", "refund_to_credit": true}),
        )
        .await;
    assert_eq!(canceled.status(), StatusCode::OK);
    deliver_all(&app).await;
    smtp.wait_for(before + 1).await;
    let sent = received_after(&smtp, before);
    let (_, subject, message) = &sent[0];
    assert_eq!(
        subject,
        "Ihr Ticket für Hamlet am 18. Dez 2027 ist storniert"
    );
    let text = text_of(message);
    assert!(text.contains("Grund: Der Platz ist beschädigt"), "{text}");
    assert!(text.contains("Ihnen gutgeschrieben: 45,00 EUR"), "{text}");
    assert_no_message_ids(&text);
}

async fn languages_are_checked_with_reasons(backend: Backend) {
    let (app, _smtp) = app_with_smtp(backend).await;
    let event = create_event(&app, "Hamlet", "The Globe", None).await;
    let show = performance_at(&app, event, curtain()).await;
    let refused = app
        .post(
            &format!("/api/v1/performances/{show}/tickets"),
            &app.admin_key,
            &json!({"holder_name": "Ada", "holder_email": "ada@example.org",
                    "price_minor": 4500, "currency": "EUR", "locale": "fr"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert!(body.to_string().contains("locale"), "{body}");
    assert!(
        body.to_string().contains("German"),
        "names what we speak: {body}"
    );

    let (status, body) = patch_event(&app, event, &json!({"locale": "klingon"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let path = format!("/api/v1/events/{event}/message-rules");
    let rule = |translations: Value| {
        json!({"audience": "admitted", "anchor": "end", "offset_minutes": 0,
               "purpose": "service", "subject": "Thanks", "body": "Thanks.",
               "translations": translations})
    };
    for (translations, why) in [
        (
            json!([{"locale": "fr", "subject": "Merci", "body": "Merci."}]),
            "a language we do not speak",
        ),
        (
            json!([{"locale": "de", "subject": "Danke", "body": "Danke."},
                   {"locale": "de", "subject": "Danke!", "body": "Danke!"}]),
            "twice",
        ),
        (
            json!([{"locale": "de", "subject": "Danke", "body": "{nope}"}]),
            "a placeholder unknown",
        ),
    ] {
        let response = app.post(&path, &app.admin_key, &rule(translations)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    }
}
