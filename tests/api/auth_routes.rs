//! Every staff route checks the key and its role before it reads anything of the request: no
//! key or a wrong key is 401 and a wrong role 403, whatever the path, query and body hold, and
//! such an answer says nothing about the input. Driven by the route table itself, so a route
//! added later is covered without touching this file.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{on_both_backends, TestApp};
use encore::domain::Role;
use encore::http::auth::Access;

/// The route's path with input no handler accepts: an id that is not a number, an email that
/// is not an address, and a query that does not parse.
fn with_bad_input(path: &str) -> String {
    let path = path
        .replace("{id}", "not-a-number")
        .replace("{email}", "not-an-email");
    format!("{path}?since=not-a-number")
}

/// Bodies a handler would refuse: incomplete JSON, valid JSON missing every field, and JSON of
/// the wrong shape.
const BAD_BODIES: [&str; 3] = [r#"{"name": "#, "{}", "[1, 2]"];

/// A key whose role the route's access does not permit, if any role is refused there.
fn wrong_role(access: Access) -> Option<Role> {
    match access {
        Access::Needs(Role::Scanner) => Some(Role::BoxOffice),
        Access::Needs(_) => Some(Role::Scanner),
        Access::AnyStaff | Access::Public => None,
    }
}

async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    key: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .request(method.clone(), app.url(&with_bad_input(path)))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("a response");
    let status = response.status();
    let body = response.json().await.expect("a problem body");
    (status, body)
}

/// The refusal is the one expected, and carries nothing but the code and its message.
fn assert_refused(route: &str, answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (got, body) = answer;
    assert_eq!(
        (*got, body["code"].as_str()),
        (status, Some(code)),
        "{route}: {body}"
    );
    let mut fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["code", "message", "status"],
        "{route}: no input detail: {body}"
    );
}

async fn staff_routes_refuse_before_reading_the_input(app: TestApp) {
    let unknown = "enc_this-key-was-never-issued";
    let keys = [
        (Role::Admin, app.admin_key.clone()),
        (Role::BoxOffice, app.key(Role::BoxOffice)),
        (Role::Scanner, app.key(Role::Scanner)),
    ];
    let mut public = Vec::new();
    for (method, path, access) in encore::http::api_route_access() {
        if access == Access::Public {
            public.push(path);
            continue;
        }
        let method = Method::from_bytes(method.as_str().as_bytes()).unwrap();
        for body in BAD_BODIES {
            let route = format!("{method} {path} with {body}");
            let answer = send(&app, &method, path, None, body).await;
            assert_refused(&route, &answer, StatusCode::UNAUTHORIZED, "unauthenticated");
            let answer = send(&app, &method, path, Some(unknown), body).await;
            assert_refused(&route, &answer, StatusCode::UNAUTHORIZED, "invalid_api_key");
            if let Some(role) = wrong_role(access) {
                let key = &keys.iter().find(|(r, _)| *r == role).unwrap().1;
                let answer = send(&app, &method, path, Some(key), body).await;
                assert_refused(&route, &answer, StatusCode::FORBIDDEN, "forbidden");
            }
        }
    }
    // Only these answer without a key.
    let open = [
        "/healthz",
        "/readyz",
        "/.well-known/jwks.json",
        "/api/v1/openapi.json",
    ];
    assert_eq!(public, open);
}

/// A scanner key posting a bad event is told it may not, not what is wrong with the event.
async fn a_scanner_key_posting_a_bad_event_is_forbidden(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let answer = send(&app, &Method::POST, "/api/v1/events", Some(&scanner), "{}").await;
    assert_refused(
        "POST /api/v1/events",
        &answer,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}

/// The key lookup used to race the body's parsing: an unknown key with an incomplete body was
/// answered 401 or 422 depending on which finished first. Many at once: every one is 401.
async fn unknown_keys_with_incomplete_bodies_are_always_401(app: TestApp) {
    let requests = (0..120).map(|i| {
        let app = &app;
        async move {
            let key = format!("enc_unknown-{i}");
            let body = if i % 2 == 0 { "{}" } else { r#"{"name": "# };
            send(app, &Method::POST, "/api/v1/events", Some(&key), body).await
        }
    });
    let answers = futures::future::join_all(requests).await;
    let answered: BTreeSet<(StatusCode, String)> = answers
        .iter()
        .map(|(status, body)| (*status, body["code"].as_str().unwrap_or("").to_string()))
        .collect();
    let expected = (StatusCode::UNAUTHORIZED, "invalid_api_key".to_string());
    assert_eq!(answered, BTreeSet::from([expected]));
}

on_both_backends!(
    staff_routes_refuse_before_reading_the_input,
    a_scanner_key_posting_a_bad_event_is_forbidden,
    unknown_keys_with_incomplete_bodies_are_always_401,
);

/// The document names 403 on every route a role is refused at, and on no route any staff key
/// may call; 401 on every staff route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_401_and_403_where_the_route_table_refuses() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let (doc, _) = crate::openapi::documented_routes(&app).await;
    for (method, path, access) in encore::http::api_route_access() {
        let responses = &doc["paths"][path][method.as_str().to_lowercase()]["responses"];
        let lists = |status: &str| responses[status].is_object();
        let route = format!("{method} {path}");
        assert_eq!(lists("401"), access != Access::Public, "{route}: 401");
        assert_eq!(lists("403"), wrong_role(access).is_some(), "{route}: 403");
    }
}
