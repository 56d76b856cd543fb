//! The box office's searches: a performance's tickets (search, status filter, keyset pages) and
//! patrons (name and email prefixes, one typo, at most 20), over HTTP on both backends.

use std::collections::BTreeSet;

use encore::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, TestApp};

fn ticket(name: &str, email: &str, seat: &str) -> Value {
    json!({"holder_name": name, "holder_email": email, "price_minor": 4500, "currency": "EUR",
           "seat": seat})
}

/// Issues `tickets` for `performance` in one bulk request; their ids, in the given order.
async fn issue(app: &TestApp, performance: i64, tickets: Vec<Value>) -> Vec<i64> {
    let mut ids = Vec::new();
    for chunk in tickets.chunks(1000) {
        let body = app
            .post_expecting(
                &format!("/api/v1/performances/{performance}/tickets/bulk"),
                &json!({ "tickets": chunk }),
                StatusCode::CREATED,
            )
            .await;
        ids.extend(
            body["tickets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
    }
    ids
}

/// GET `path` as the admin: the status and the JSON body.
async fn get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let response = app.get(path, &app.admin_key).await;
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

/// The ids of a ticket search's answer (asserting 200).
async fn found_ids(app: &TestApp, performance: i64, query: &str) -> Vec<i64> {
    let (status, body) = get(
        app,
        &format!("/api/v1/performances/{performance}/tickets?{query}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

async fn tickets_are_found_by_name_email_seat_id_and_status(app: TestApp) {
    let performance = app.create_performance(100).await;
    let other = app.create_performance(100).await;
    let ids = issue(
        &app,
        performance,
        vec![
            ticket("Ada Lovelace", "ada@example.org", "A1"),
            ticket("Grace Hopper", "Grace.H@navy.example", "B7"),
            ticket("Alan Turing", "alan@bletchley.example", "A2"),
            ticket("Mary Ann Smith", "mas@example.org", "C3"),
        ],
    )
    .await;
    let [ada, grace, alan, mary] = ids[..] else {
        panic!("four tickets")
    };
    issue(
        &app,
        other,
        vec![ticket("Ada Lovelace", "ada@example.org", "A1")],
    )
    .await;
    let cancel = app
        .post(
            &format!("/api/v1/tickets/{alan}/cancel"),
            &app.admin_key,
            &json!({"reason": "double booking", "refund_to_credit": false}),
        )
        .await;
    assert_eq!(cancel.status(), StatusCode::OK);

    let found = |q: &'static str| found_ids(&app, performance, q);
    assert_eq!(
        found("").await,
        vec![ada, grace, alan, mary],
        "everything, in id order"
    );
    assert_eq!(found("q=lov").await, vec![ada], "a later name word");
    assert_eq!(found("q=GRACE").await, vec![grace], "any letter case");
    assert_eq!(found("q=smi").await, vec![mary], "the third name word");
    assert_eq!(found("q=grace.h%40navy").await, vec![grace], "the email");
    assert_eq!(found("q=alan%40").await, vec![alan], "the email");
    assert_eq!(found("q=a1").await, vec![ada], "the seat");
    assert_eq!(
        found("q=b").await,
        vec![grace],
        "seat B7 only: no name or email starts with b"
    );
    let by_id = found_ids(&app, performance, &format!("q={grace}")).await;
    assert_eq!(by_id, vec![grace], "the id");
    let by_hash_id = found_ids(&app, performance, &format!("q=%23{mary}")).await;
    assert_eq!(by_hash_id, vec![mary], "#id");
    assert_eq!(found("q=ada+lov").await, vec![ada], "every word must match");
    assert_eq!(found("q=ada+hop").await, Vec::<i64>::new());
    assert_eq!(
        found("q=ovelace").await,
        Vec::<i64>::new(),
        "prefixes, not infixes"
    );
    assert_eq!(found("q=%25").await, Vec::<i64>::new(), "% is no wildcard");
    assert_eq!(found("status=canceled").await, vec![alan]);
    assert_eq!(
        found("status=valid&q=a").await,
        vec![ada, mary],
        "Ada, Mary Ann; Alan is canceled"
    );

    let (_, body) = get(
        &app,
        &format!("/api/v1/performances/{performance}/tickets?q=ada"),
    )
    .await;
    let first = &body["tickets"][0];
    assert_eq!(first["holder_name"], "Ada Lovelace");
    assert_eq!(first["holder_email"], "ada@example.org");
    assert_eq!(first["seat"], "A1");
    assert_eq!(first["status"], "valid");
    assert_eq!(first["performance_id"], performance);
    assert_eq!(body["next_cursor"], Value::Null);
}

async fn pages_walk_every_ticket_once_in_id_order(app: TestApp) {
    let performance = app.create_performance(300).await;
    let issued = issue(
        &app,
        performance,
        (0..250)
            .map(|i| ticket(&format!("Guest {i}"), &format!("g{i}@example.org"), "F1"))
            .collect(),
    )
    .await;

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/api/v1/performances/{performance}/tickets?limit=100"),
            Some(c) => format!("/api/v1/performances/{performance}/tickets?limit=100&cursor={c}"),
        };
        let (status, body) = get(&app, &path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: Vec<i64> = body["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect();
        sizes.push(page.len());
        seen.extend(page);
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(sizes.len() < 10, "the pages never end");
    }
    assert_eq!(sizes, vec![100, 100, 50]);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "ascending, no duplicate"
    );
    let mut expected = issued.clone();
    expected.sort_unstable();
    assert_eq!(seen, expected, "no gap, nothing else");

    // The default page is 50, and a page of a search pages the same way.
    assert_eq!(found_ids(&app, performance, "").await.len(), 50);
    let (_, body) = get(
        &app,
        &format!("/api/v1/performances/{performance}/tickets?q=guest&limit=100"),
    )
    .await;
    assert_eq!(body["tickets"].as_array().unwrap().len(), 100);
    assert!(body["next_cursor"].is_string());
}

async fn bad_cursor_limit_status_or_query_is_400(app: TestApp) {
    let performance = app.create_performance(10).await;
    let base = format!("/api/v1/performances/{performance}/tickets");
    let long = "x".repeat(201);
    for (query, field) in [
        ("cursor=!!", Some("cursor")),
        ("cursor=MTIz", Some("cursor")),
        ("limit=0", Some("limit")),
        ("limit=101", Some("limit")),
        ("limit=-5", Some("limit")),
        ("limit=ten", None),
        ("status=lost", Some("status")),
        ("status=VALID", Some("status")),
        ("colour=red", None),
        (&format!("q={long}") as &str, Some("q")),
        ("q=a%00b", Some("q")),
    ] {
        let (status, body) = get(&app, &format!("{base}?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["code"], "invalid_query", "{query}");
        if let Some(field) = field {
            assert_eq!(body["field"], field, "{query}: {body}");
        }
    }
    let (status, body) = get(&app, "/api/v1/performances/999999/tickets").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    for query in ["", "?q=", "?q=a", "?q=%20a%20", "?q=a%01", "?limit=3"] {
        let (status, body) = get(&app, &format!("/api/v1/patrons{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["code"], "invalid_query", "{query}");
    }
}

async fn a_scanner_key_is_refused_both_searches(app: TestApp) {
    let performance = app.create_performance(10).await;
    let scanner = app.key(Role::Scanner);
    let box_office = app.key(Role::BoxOffice);
    for path in [
        format!("/api/v1/performances/{performance}/tickets"),
        "/api/v1/patrons?q=ada".to_string(),
    ] {
        assert_eq!(
            app.get(&path, &scanner).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            app.get(&path, &box_office).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

/// The emails of a patron search's answer, in order (asserting 200).
async fn patrons(app: &TestApp, q: &str) -> Vec<Value> {
    let (status, body) = get(app, &format!("/api/v1/patrons?q={q}")).await;
    assert_eq!(status, StatusCode::OK, "{q}: {body}");
    body["patrons"].as_array().unwrap().clone()
}

async fn emails(app: &TestApp, q: &str) -> Vec<String> {
    patrons(app, q)
        .await
        .iter()
        .map(|p| p["email"].as_str().unwrap().to_string())
        .collect()
}

async fn patrons_are_found_by_name_and_email_prefix_and_with_one_typo(app: TestApp) {
    let soon = app.create_performance(100).await;
    let later = app
        .create_performance_at(chrono::Utc::now() + chrono::Duration::days(30), 100)
        .await;
    issue(
        &app,
        later,
        vec![
            ticket("Ada Lovelace", "ada.lovelace@example.org", "A1"),
            ticket("Grace Hopper", "grace@navy.example", "B1"),
        ],
    )
    .await;
    issue(
        &app,
        soon,
        vec![
            ticket("Ada Lovelace", "ada.lovelace@example.org", "A2"),
            ticket("Ada Byron", "byron@example.org", "A3"),
            ticket("Mary Ann Smith", "mas@example.org", "C3"),
            ticket("Lovis Corinth", "lovis@example.org", "C4"),
        ],
    )
    .await;

    let ada = patrons(&app, "lovel").await;
    assert_eq!(ada.len(), 1, "{ada:?}");
    assert_eq!(ada[0]["email"], "ada.lovelace@example.org");
    assert_eq!(ada[0]["name"], "Ada Lovelace");
    assert_eq!(
        ada[0]["ticket_count"], 2,
        "one row per patron, counting both"
    );
    assert_eq!(ada[0]["valid_ticket_count"], 2);
    assert_eq!(ada[0]["next_performance"]["performance_id"], soon);
    assert_eq!(ada[0]["matched"], "exact");

    assert_eq!(
        emails(&app, "ADA").await,
        vec!["byron@example.org", "ada.lovelace@example.org"],
        "first-name prefix, any case, ranked by name (Ada Byron, Ada Lovelace)"
    );
    assert_eq!(
        emails(&app, "ada.l").await,
        vec!["ada.lovelace@example.org"]
    );
    assert_eq!(
        emails(&app, "grace%40navy").await,
        vec!["grace@navy.example"]
    );
    assert_eq!(
        emails(&app, "ann").await,
        vec!["mas@example.org"],
        "second word"
    );
    assert_eq!(
        emails(&app, "smi").await,
        vec!["mas@example.org"],
        "last word"
    );
    assert_eq!(emails(&app, "mary+smi").await, vec!["mas@example.org"]);
    assert_eq!(
        emails(&app, "ada+lov").await,
        vec!["ada.lovelace@example.org"]
    );
    assert_eq!(emails(&app, "zz").await, Vec::<String>::new());

    // One typo in the last word: exact matches first, then the typo's.
    let typo = patrons(&app, "lovelase").await;
    assert_eq!(typo.len(), 1, "{typo:?}");
    assert_eq!(typo[0]["email"], "ada.lovelace@example.org");
    assert_eq!(typo[0]["matched"], "typo");
    assert_eq!(
        emails(&app, "ada+lovleace").await,
        vec!["ada.lovelace@example.org"]
    );
    assert_eq!(emails(&app, "hoper").await, vec!["grace@navy.example"]);
    assert_eq!(
        emails(&app, "lovi").await,
        vec!["lovis@example.org", "ada.lovelace@example.org"],
        "Lovis exactly, Lovelace with one typo (lovi ~ love)"
    );
    assert_eq!(
        emails(&app, "lovelsse").await,
        Vec::<String>::new(),
        "two typos"
    );
}

async fn patron_results_are_capped_at_twenty(app: TestApp) {
    let performance = app.create_performance(100).await;
    issue(
        &app,
        performance,
        (0..30)
            .map(|i| {
                ticket(
                    &format!("Guest {i:02}"),
                    &format!("guest{i:02}@example.org"),
                    "G",
                )
            })
            .collect(),
    )
    .await;
    let found = emails(&app, "guest").await;
    assert_eq!(found.len(), 20);
    let distinct: BTreeSet<&String> = found.iter().collect();
    assert_eq!(distinct.len(), 20, "one row per patron");
    assert_eq!(found[0], "guest00@example.org", "by name: Guest 00 first");
}

on_both_backends!(
    tickets_are_found_by_name_email_seat_id_and_status,
    pages_walk_every_ticket_once_in_id_order,
    bad_cursor_limit_status_or_query_is_400,
    a_scanner_key_is_refused_both_searches,
    patrons_are_found_by_name_and_email_prefix_and_with_one_typo,
    patron_results_are_capped_at_twenty,
);
