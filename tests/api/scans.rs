use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, Utc};
use futures::future::join_all;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, Deadline, TestApp};
use encore::domain::Role;
use encore::service::signing;
use encore::tokens::{GeneratedKey, KeyRing, TicketClaims};

fn parts(token: &str) -> (String, String, String) {
    let mut it = token.split('.');
    (
        it.next().unwrap().into(),
        it.next().unwrap().into(),
        it.next().unwrap().into(),
    )
}

fn b64(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(json).unwrap())
}

fn kid_of(app: &TestApp, token: &str) -> String {
    app.encore.keys.kid_of(token).unwrap()
}

/// Asserts a refusal: its status, its code, and that it was recorded but admitted no one.
async fn assert_refused(
    app: &TestApp,
    scanner: &str,
    token: &str,
    status: StatusCode,
    outcome: &str,
) -> Value {
    let recorded = format!("SELECT COUNT(*) AS n FROM arrival_events WHERE outcome = '{outcome}'");
    let admitted = "SELECT COUNT(*) AS n FROM tickets WHERE admitted_at IS NOT NULL";
    let (recorded_before, admitted_before) = (app.db.count(&recorded), app.db.count(admitted));
    let (got_status, body) = app.scan(scanner, token, "north").await;
    assert_eq!(body["outcome"], outcome, "{body}");
    assert_eq!(got_status, status, "{body}");
    assert_eq!(body["admitted"], false);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(
        app.db.count(&recorded),
        recorded_before + 1,
        "the attempt is recorded with its outcome"
    );
    assert_eq!(
        app.db.count(admitted),
        admitted_before,
        "a refusal admits no one"
    );
    body
}

/// Garbage, tampering, `alg: none`, HMAC signed with the public key, a stranger's key: each is
/// refused with its own reason, and nothing is admitted.
async fn forged_and_garbage_tokens_are_refused(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    // The JWT an earlier version issued (compact codes: tests/api/compact_codes.rs).
    let token = &app.old_jwt(ticket["token"].as_str().unwrap());
    let (header, payload, signature) = parts(token);
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&payload).unwrap()).unwrap();
    let kid = kid_of(&app, token);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    for garbage in [
        "",
        "hello",
        "a.b.c",
        "....",
        "e30.e30.e30",
        &"x".repeat(4000),
    ] {
        assert_refused(&app, &scanner, garbage, unprocessable, "malformed").await;
    }

    // Another ticket id under the original signature.
    let mut forged = claims.clone();
    forged["tid"] = json!(ticket["id"].as_i64().unwrap() + 1);
    let tampered = format!("{header}.{}.{signature}", b64(&forged));
    assert_refused(
        &app,
        &scanner,
        &tampered,
        unprocessable,
        "invalid_signature",
    )
    .await;

    // A flipped signature.
    let mut bad_sig = signature.clone().into_bytes();
    bad_sig[5] = if bad_sig[5] == b'A' { b'B' } else { b'A' };
    let flipped = format!("{header}.{payload}.{}", String::from_utf8(bad_sig).unwrap());
    assert_refused(&app, &scanner, &flipped, unprocessable, "invalid_signature").await;

    // alg: none, with and without a signature part.
    let none_header = b64(&json!({"alg": "none", "kid": kid}));
    assert_refused(
        &app,
        &scanner,
        &format!("{none_header}.{payload}."),
        unprocessable,
        "invalid_signature",
    )
    .await;
    assert_refused(
        &app,
        &scanner,
        &format!("{none_header}.{payload}.{signature}"),
        unprocessable,
        "invalid_signature",
    )
    .await;

    // HS256 "signed" with the public key as the HMAC secret: the classic confusion attack.
    let jwks: Value = app.jwks().await;
    let public_x = jwks["keys"][0]["x"].as_str().unwrap().to_string();
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(kid.clone());
    for secret in [
        public_x.as_bytes().to_vec(),
        URL_SAFE_NO_PAD.decode(&public_x).unwrap(),
    ] {
        let hmac =
            jsonwebtoken::encode(&hs_header, &claims, &EncodingKey::from_secret(&secret)).unwrap();
        assert_refused(&app, &scanner, &hmac, unprocessable, "invalid_signature").await;
    }

    // A well-formed EdDSA token from a key the service never had.
    let stranger = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
    let claims: TicketClaims = serde_json::from_value(claims).unwrap();
    assert_refused(
        &app,
        &scanner,
        &stranger.sign(&claims).unwrap(),
        unprocessable,
        "unknown_key",
    )
    .await;
    // No kid at all.
    let no_kid = format!("{}.{payload}.{signature}", b64(&json!({"alg": "EdDSA"})));
    assert_refused(&app, &scanner, &no_kid, unprocessable, "unknown_key").await;

    // None of it admitted the ticket: the real token still does.
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM tickets WHERE admitted_at IS NOT NULL"),
        0
    );
    let (status, body) = app.scan(&scanner, token, "north").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The validity window: a ticket for a performance that is over is expired; one for a
/// performance days away is not yet valid.
async fn tokens_outside_their_window_are_refused(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let past = app
        .create_performance_at(Utc::now() - Duration::hours(12), 10)
        .await;
    let future = app
        .create_performance_at(Utc::now() + Duration::days(3), 10)
        .await;
    let over = app.issue_ticket(past).await;
    let early = app.issue_ticket(future).await;
    let body = assert_refused(
        &app,
        &scanner,
        over["token"].as_str().unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "expired",
    )
    .await;
    assert_eq!(
        body["ticket_id"], over["id"],
        "a trusted token's refusal names its ticket"
    );
    assert_refused(
        &app,
        &scanner,
        early["token"].as_str().unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_yet_valid",
    )
    .await;
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM tickets WHERE admitted_at IS NOT NULL"),
        0
    );
}

/// A door that says which performance it admits to refuses tickets for another one.
async fn a_ticket_for_another_performance_is_refused(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let tonight = app.create_performance(10).await;
    let other = app.create_performance(10).await;
    let ticket = app.issue_ticket(tonight).await;
    let token = ticket["token"].as_str().unwrap();
    let (status, body) = app
        .scan_with(
            &scanner,
            &json!({"token": token, "gate": "north", "device": "d", "performance_id": other}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["outcome"], "wrong_performance");
    let (status, body) = app
        .scan_with(
            &scanner,
            &json!({"token": token, "gate": "north", "device": "d", "performance_id": tonight}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// How a ticket stops admitting, each through its real flow over the staff API and the patron
/// link.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Offered to a friend and taken back: the ticket returns with a new QR (generation 2).
    Superseded,
    Canceled,
    Exchanged,
    /// Offered to a friend who claims it.
    Transferred,
}

/// Ends ticket `id` as `how` says; the ticket as the API shows it afterwards.
async fn end(app: &TestApp, id: i64, how: Ending) -> Value {
    let ticket = |action: &str| format!("/api/v1/tickets/{id}/{action}");
    let offer = json!({"name": "Grace", "email": "grace@example.org"});
    match how {
        Ending::Superseded => {
            app.post_expecting(&ticket("transfer"), &offer, StatusCode::CREATED)
                .await;
            app.post_expecting(&ticket("transfer/cancel"), &json!({}), StatusCode::OK)
                .await;
        }
        Ending::Canceled => {
            let body = json!({"reason": "Double booking", "refund_to_credit": true});
            app.post_expecting(&ticket("cancel"), &body, StatusCode::OK)
                .await;
        }
        Ending::Exchanged => {
            app.post_expecting(
                &ticket("exchange"),
                &json!({"into": "credit"}),
                StatusCode::OK,
            )
            .await;
        }
        Ending::Transferred => {
            app.post_expecting(&ticket("transfer"), &offer, StatusCode::CREATED)
                .await;
            app.claim(id, 1).await;
        }
    }
    app.get_json(&format!("/api/v1/tickets/{id}"), &app.admin_key)
        .await
}

/// An old generation of a ticket is superseded; canceled, exchanged and transferred tickets say
/// so — each state written by its own flow. A token whose ticket row is gone (no flow deletes
/// one; a restore from an older backup can) is unknown.
async fn ended_and_superseded_tickets_are_refused(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    // Four hours ahead: inside the scan window and before the change cut-off.
    let performance = app
        .create_performance_at(Utc::now() + Duration::hours(4), 10)
        .await;
    let cases = [
        (Ending::Superseded, "valid", "superseded"),
        (Ending::Canceled, "canceled", "canceled"),
        (Ending::Exchanged, "exchanged", "exchanged"),
        (Ending::Transferred, "transferred", "transferred"),
    ];
    for (how, state, outcome) in cases {
        let ticket = app.issue_ticket(performance).await;
        let now = end(&app, ticket["id"].as_i64().unwrap(), how).await;
        assert_eq!(now["status"], state, "{how:?}: {now}");
        assert_refused(
            &app,
            &scanner,
            ticket["token"].as_str().unwrap(),
            StatusCode::CONFLICT,
            outcome,
        )
        .await;
    }
    let ticket = app.issue_ticket(performance).await;
    // A ticket gone from storage altogether (with the record of who issued it).
    for table in ["change_authors WHERE ticket_id", "tickets WHERE id"] {
        app.db
            .execute(&format!("DELETE FROM {table} = {}", ticket["id"]));
    }
    assert_refused(
        &app,
        &scanner,
        ticket["token"].as_str().unwrap(),
        StatusCode::NOT_FOUND,
        "unknown_ticket",
    )
    .await;

    // A superseded QR stays refused even after the current one is admitted.
    let ticket = app.issue_ticket(performance).await;
    let current = end(&app, ticket["id"].as_i64().unwrap(), Ending::Superseded).await;
    assert_eq!(current["generation"], 2, "{current}");
    let (status, _) = app
        .scan(&scanner, current["token"].as_str().unwrap(), "north")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_refused(
        &app,
        &scanner,
        ticket["token"].as_str().unwrap(),
        StatusCode::CONFLICT,
        "superseded",
    )
    .await;
}

/// 64 scanners, one ticket, the same moment: exactly one admission; all 64 attempts recorded.
async fn sixty_four_concurrent_scans_admit_once(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    let token = ticket["token"].as_str().unwrap();
    let gates: Vec<String> = (0..64).map(|i| format!("gate-{i}")).collect();
    let results = join_all(gates.iter().map(|gate| app.scan(&scanner, token, gate))).await;
    let admitted: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(admitted.len(), 1, "exactly one admission");
    let winner_gate = results
        .iter()
        .find(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| b["scanned_at"].clone())
        .unwrap();
    for (status, body) in &results {
        if *status != StatusCode::OK {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["outcome"], "already_admitted");
            assert_eq!(body["first_admission"]["at"], winner_gate);
        }
    }
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM arrival_events"), 64);
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM arrival_events WHERE outcome = 'admitted'"),
        1
    );
}

/// Bad scan requests are 4xx with a reason and record nothing.
async fn bad_scan_requests_are_refused_before_recording(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let cases = [
        json!({"token": "t", "gate": "", "device": "d"}),
        json!({"token": "t", "gate": "g", "device": "   "}),
        json!({"token": "t", "gate": "g\nx", "device": "d"}),
        json!({"token": "t", "gate": "g".repeat(65), "device": "d"}),
    ];
    for body in cases {
        let (status, answer) = app.scan_with(&scanner, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer["code"], "validation_failed");
    }
    for body in [
        json!({"token": 5, "gate": "g", "device": "d"}),
        json!({"gate": "g", "device": "d"}),
        json!({"token": "t", "gate": "g", "device": "d", "extra": 1}),
    ] {
        let (status, answer) = app.scan_with(&scanner, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer["code"], "invalid_body");
    }
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM arrival_events"), 0);
}

/// Re-reads the keys as the periodic refresh does, as soon as its once-a-second limit lets it.
async fn refresh_keys(app: &TestApp) {
    let deadline = Deadline::after(std::time::Duration::from_secs(5));
    while !signing::refresh(&app.encore).unwrap() {
        deadline.retry("the keys may be re-read").await;
    }
}

/// After a rotation new tokens carry the new key and old ones still admit; once the old key is
/// retired its tokens are refused as unknown_key.
async fn key_rotation_and_retirement(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = app.create_performance(10).await;
    let old_a = app.issue_ticket(performance).await;
    let old_b = app.issue_ticket(performance).await;
    let old_kid = kid_of(&app, old_a["token"].as_str().unwrap());

    let new_kid = signing::rotate(&app.encore).unwrap();
    // Every process re-reads keys periodically (at most once a second); do now what that timer
    // would.
    refresh_keys(&app).await;
    let jwks: Value = app.jwks().await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, vec![old_kid.as_str(), new_kid.as_str()]);

    let fresh = app.issue_ticket(performance).await;
    assert_eq!(kid_of(&app, fresh["token"].as_str().unwrap()), new_kid);
    let (status, _) = app
        .scan(&scanner, old_a["token"].as_str().unwrap(), "north")
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a token signed before the rotation still admits"
    );

    // The signing key cannot be retired; the old one can.
    let no_grace = std::time::Duration::ZERO;
    assert!(signing::retire(&app.encore.db, &new_kid, no_grace).is_err());
    signing::retire(&app.encore.db, &old_kid, no_grace).unwrap();
    refresh_keys(&app).await;
    assert_refused(
        &app,
        &scanner,
        old_b["token"].as_str().unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_key",
    )
    .await;
    // Asking for the ticket again gives a token under the new key, which admits.
    let reissued: Value = app
        .get_json(&format!("/api/v1/tickets/{}", old_b["id"]), &app.admin_key)
        .await;
    let (status, _) = app
        .scan(&scanner, reissued["token"].as_str().unwrap(), "north")
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// Forty different tickets scanned at once — admittable, canceled, superseded and already
/// admitted — each get their own right answer (on PostgreSQL they share one set-based write).
async fn a_rush_of_different_tickets_gets_each_its_answer(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    // Four hours ahead: inside the scan window and before the change cut-off.
    let performance = app
        .create_performance_at(Utc::now() + Duration::hours(4), 100)
        .await;
    let tickets = app.issue_bulk(performance, 40).await;
    let id = |i: usize| tickets[i]["id"].as_i64().unwrap();
    for (range, how) in [(10..20, Ending::Canceled), (20..30, Ending::Superseded)] {
        join_all(range.map(|i| end(&app, id(i), how))).await;
    }
    for ticket in &tickets[30..40] {
        let (status, _) = app
            .scan(&scanner, ticket["token"].as_str().unwrap(), "early")
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let answers = join_all(
        tickets
            .iter()
            .map(|t| app.scan(&scanner, t["token"].as_str().unwrap(), "rush")),
    )
    .await;
    for (i, (status, body)) in answers.iter().enumerate() {
        let expected = match i {
            0..=9 => "admitted",
            10..=19 => "canceled",
            20..=29 => "superseded",
            _ => "already_admitted",
        };
        assert_eq!(body["outcome"], expected, "ticket {i}: {body}");
        assert_eq!(body["ticket_id"], id(i));
        assert_eq!(*status == StatusCode::OK, expected == "admitted");
        if expected == "admitted" {
            assert_eq!(body["holder_name"], format!("Guest {i}"));
        }
        if expected == "already_admitted" {
            assert_eq!(body["first_admission"]["gate"], "early");
        }
    }
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM tickets WHERE admitted_at IS NOT NULL"),
        20
    );
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM arrival_events WHERE gate = 'rush'"),
        40
    );
}

on_both_backends!(
    forged_and_garbage_tokens_are_refused,
    tokens_outside_their_window_are_refused,
    a_ticket_for_another_performance_is_refused,
    ended_and_superseded_tickets_are_refused,
    sixty_four_concurrent_scans_admit_once,
    bad_scan_requests_are_refused_before_recording,
    key_rotation_and_retirement,
    a_rush_of_different_tickets_gets_each_its_answer,
);
