//! Several `encore serve` processes on one database: correctness may not rest on in-process
//! state. Two real server processes scan the same 500 tickets at once.

use std::collections::HashMap;

use futures::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{run_cli, ticket_request, Backend, ServeProcess, TestDatabase};

async fn two_processes_admit_each_ticket_once(backend: Backend) {
    let db = TestDatabase::create(backend);
    let (code, key, err) = run_cli(
        &db.url,
        &["keys", "create", "--role", "admin", "--name", "door"],
    );
    assert_eq!(code, 0, "{err}");
    let key = key.trim().to_string();

    let a = ServeProcess::start(&db.url).await;
    let b = ServeProcess::start(&db.url).await;
    let client = reqwest::Client::new();
    let post = |base: &str, path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };

    let performance = a.create_performance(&key, 500).await;
    let tickets: Vec<Value> = (0..500)
        .map(|i| ticket_request("Guest", &format!("g{i}@example.org")))
        .collect();
    let issued = a
        .post_json(
            &key,
            &format!("/api/v1/performances/{performance}/tickets/bulk"),
            &json!({ "tickets": tickets }),
        )
        .await;
    let tokens: Vec<String> = issued["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(tokens.len(), 500);

    // Every ticket is scanned once through each process, all interleaved, 32 at a time.
    let scans = tokens
        .iter()
        .flat_map(|t| [(a.base.clone(), t.clone()), (b.base.clone(), t.clone())]);
    let results: Vec<(StatusCode, Value)> = stream::iter(scans)
        .map(|(base, token)| {
            let request = post(
                &base,
                "/api/v1/scans",
                json!({"token": token, "gate": base, "device": "race"}),
            );
            async move {
                let response = request.await.unwrap();
                (response.status(), response.json::<Value>().await.unwrap())
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;

    let mut admissions: HashMap<i64, usize> = HashMap::new();
    for (status, body) in &results {
        match body["outcome"].as_str() {
            Some("admitted") => {
                assert_eq!(*status, StatusCode::OK);
                *admissions
                    .entry(body["ticket_id"].as_i64().unwrap())
                    .or_default() += 1;
            }
            Some("already_admitted") => assert_eq!(*status, StatusCode::CONFLICT),
            _ => panic!("unexpected answer {status}: {body}"),
        }
    }
    assert_eq!(admissions.len(), 500, "every ticket admitted");
    assert!(
        admissions.values().all(|&n| n == 1),
        "no ticket admitted twice"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM tickets WHERE admitted_at IS NOT NULL"),
        500
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM arrival_events WHERE outcome = 'admitted'"),
        500
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM arrival_events"), 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_processes_admit_each_ticket_once() {
    two_processes_admit_each_ticket_once(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sqlite_processes_admit_each_ticket_once() {
    two_processes_admit_each_ticket_once(Backend::Sqlite).await;
}
