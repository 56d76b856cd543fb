//! The API contract: `/api/v1/openapi.json` documents every route the app serves, and every
//! route it documents is served.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Backend, TestApp};

/// (METHOD, path) of every operation in the served document.
pub async fn documented_routes(app: &TestApp) -> (Value, BTreeSet<(String, String)>) {
    // Served without a key.
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.expect("the document is JSON");
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    (doc, routes)
}

fn served_routes() -> BTreeSet<(String, String)> {
    encore::http::api_route_table()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_served_route_is_documented_and_every_documented_route_is_served() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, documented) = documented_routes(&app).await;
    let served = served_routes();

    let undocumented: Vec<String> = served
        .difference(&documented)
        .map(|(method, path)| {
            format!(
                "{method} {path} is served but missing from /api/v1/openapi.json: give its \
                 handler a #[utoipa::path({}, path = \"{path}\", ...)] and list the handler in \
                 paths(...) in src/http/openapi.rs",
                method.to_lowercase()
            )
        })
        .collect();
    assert!(undocumented.is_empty(), "\n{}\n", undocumented.join("\n"));

    let unserved: Vec<String> = documented
        .difference(&served)
        .map(|(method, path)| {
            format!("{method} {path} is documented but not in the route table (src/http/mod.rs)")
        })
        .collect();
    assert!(unserved.is_empty(), "\n{}\n", unserved.join("\n"));

    // The operational endpoints are part of the contract too.
    for path in [
        "/healthz",
        "/readyz",
        "/.well-known/jwks.json",
        "/api/v1/openapi.json",
    ] {
        assert!(
            documented.contains(&("GET".to_string(), path.to_string())),
            "GET {path} is not documented"
        );
    }
}

/// Every pattern actix routes, read from its resource map (which has no public iterator, so
/// from its `Debug` form; the test fails loudly if that form changes).
async fn registered_patterns() -> BTreeSet<String> {
    use actix_web::{test, web, App, HttpRequest, HttpResponse};
    let app = test::init_service(App::new().configure(encore::http::routes).default_service(
        web::to(|req: HttpRequest| async move {
            HttpResponse::Ok().body(format!("{:?}", req.resource_map()))
        }),
    ))
    .await;
    let request = test::TestRequest::get().uri("/no/such/route/").to_request();
    let map = String::from_utf8(test::call_and_read_body(&app, request).await.to_vec()).unwrap();
    let patterns: BTreeSet<String> = map
        .split("Single(\"")
        .skip(1)
        .filter_map(|rest| {
            rest.split_once("\")")
                .map(|(pattern, _)| pattern.to_string())
        })
        .collect();
    assert!(
        patterns.contains("/api/v1/events"),
        "cannot read actix's resource map any more: {map}"
    );
    patterns
}

/// A route under `/api/v1` registered anywhere but the route table would escape the check
/// above: actix's own resource map must hold no `/api/v1` pattern the table lacks.
#[actix_web::test]
async fn no_api_route_is_registered_outside_the_route_table() {
    let table: BTreeSet<String> = served_routes().into_iter().map(|(_, path)| path).collect();
    let outside: Vec<String> = registered_patterns()
        .await
        .into_iter()
        .filter(|pattern| pattern.starts_with("/api/") && !table.contains(pattern))
        .map(|pattern| {
            format!(
                "{pattern} is routed but not in api_routes (src/http/mod.rs): add it there, \
                 one line, and document it"
            )
        })
        .collect();
    assert!(outside.is_empty(), "\n{}\n", outside.join("\n"));
}

/// A path with its parameters filled in: numeric ids, and an email for `{email}`.
fn concrete(path: &str) -> String {
    path.replace("{email}", "ada@example.com")
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Each documented operation reaches its handler (never the "no such route" fallback), and a
/// request without a key gets an answer the document lists: 401 behind a key, 200 in public.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_answers_as_documented_without_a_key() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (doc, documented) = documented_routes(&app).await;
    for (method, path) in documented {
        let url = app.url(&concrete(&path));
        let response = app
            .client
            .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let body = response.bytes().await.unwrap();
        if status == StatusCode::NOT_FOUND {
            let problem: Value = serde_json::from_slice(&body).unwrap_or_default();
            assert_ne!(
                problem["message"], "No such route.",
                "{method} {path} is documented but the app has no such route"
            );
        }
        let operation = &doc["paths"][&path][method.to_lowercase()];
        let public = operation["security"] == serde_json::json!([{}]);
        let expected = if public {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(status, expected, "{method} {path} without a key");
        let response_doc = &operation["responses"][status.as_str()];
        assert!(
            response_doc.is_object(),
            "{method} {path} answered {status}, which the document does not list"
        );
        let content_type = content_type.expect("a content type");
        assert!(
            response_doc["content"][&content_type].is_object(),
            "{method} {path} answered {status} as {content_type}, which the document does not list"
        );
    }
}

/// A method a documented path lacks is a 405 whose `Allow` lists the documented methods.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_route_lacks_is_405_naming_the_methods_it_has() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (doc, _) = documented_routes(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let mut documented: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        documented.sort();
        // A method the path lacks: DELETE, or PUT where DELETE is served (a webhook).
        let lacking = if documented.iter().any(|m| m == "DELETE") {
            Method::PUT
        } else {
            Method::DELETE
        };
        let response = app
            .client
            .request(lacking.clone(), app.url(&concrete(path)))
            .bearer_auth(&app.admin_key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{lacking} {path}"
        );
        let mut allowed: Vec<String> = response.headers()["allow"]
            .to_str()
            .unwrap()
            .split(", ")
            .map(String::from)
            .collect();
        allowed.sort();
        assert_eq!(allowed, documented, "Allow of {path}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "method_not_allowed");
    }
}

/// The document itself: OpenAPI 3.1, the key's two ways in, the problem body with its codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_keys_and_errors() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (doc, _) = documented_routes(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["type"], "apiKey");
    assert_eq!(schemes["api_key"]["in"], "header");
    assert_eq!(schemes["api_key"]["name"], "X-Api-Key");

    let problem = &doc["components"]["schemas"]["Problem"];
    for field in ["status", "code", "message"] {
        assert!(
            problem["required"]
                .as_array()
                .unwrap()
                .contains(&field.into()),
            "Problem.{field} is required"
        );
    }

    // Issuing a ticket: behind a key, a path parameter, a JSON body, and conflicts.
    let issue = &doc["paths"]["/api/v1/performances/{id}/tickets"]["post"];
    for status in [
        "201", "400", "401", "403", "404", "409", "413", "415", "422", "503",
    ] {
        assert!(
            issue["responses"][status].is_object(),
            "issuing a ticket documents {status}"
        );
    }
    let unauthorized = &issue["responses"]["401"]["content"]["application/problem+json"];
    let codes = &unauthorized["schema"]["allOf"][1]["properties"]["code"]["enum"];
    assert_eq!(
        codes,
        &serde_json::json!(["unauthenticated", "invalid_api_key", "api_key_expired"])
    );

    // A scan's refusals are the door's own answer; a bad body is a problem.
    let scan = &doc["paths"]["/api/v1/scans"]["post"]["responses"];
    assert!(scan["409"]["content"]["application/json"].is_object());
    assert!(scan["422"]["content"]["application/json"].is_object());
    assert!(scan["422"]["content"]["application/problem+json"].is_object());
    assert!(scan["409"]["content"]["application/problem+json"].is_null());
}

/// The writes that take an `Idempotency-Key` say so, with the replay header of their answers
/// and the 422 a reused key gets — also the one without a body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_writes_document_the_key_and_the_replay() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (doc, _) = documented_routes(&app).await;
    for (path, success) in [
        ("/api/v1/performances/{id}/tickets", "201"),
        ("/api/v1/performances/{id}/tickets/bulk", "201"),
        ("/api/v1/tickets/{id}/exchange", "200"),
        ("/api/v1/tickets/{id}/transfer", "201"),
        ("/api/v1/tickets/{id}/transfer/cancel", "200"),
        ("/api/v1/tickets/{id}/cancel", "200"),
    ] {
        let operation = &doc["paths"][path]["post"];
        let key = operation["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "Idempotency-Key")
            .unwrap_or_else(|| panic!("POST {path} documents no Idempotency-Key"));
        assert_eq!(key["in"], "header", "POST {path}");
        assert_eq!(key["required"], false, "POST {path}");
        assert_eq!(key["schema"]["maxLength"], 255, "POST {path}");
        let replayed = &operation["responses"][success]["headers"]["Idempotent-Replayed"];
        assert!(replayed.is_object(), "POST {path} {success}: {operation}");
        let reused = &operation["responses"]["422"]["content"]["application/problem+json"];
        let codes = &reused["schema"]["allOf"][1]["properties"]["code"]["enum"];
        assert!(
            codes
                .as_array()
                .is_some_and(|c| c.contains(&"idempotency_key_reused".into())),
            "POST {path} 422: {reused}"
        );
    }
    // Writes without a key do not claim one.
    let events = &doc["paths"]["/api/v1/events"]["post"];
    assert!(events["parameters"]
        .as_array()
        .is_none_or(|p| p.iter().all(|p| p["name"] != "Idempotency-Key")));
}
