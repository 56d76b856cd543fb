//! A scanner's clock in an upload of offline scans: a time before the ticket was issued, or
//! after the upload (beyond `offline_clock_leeway_seconds`), cannot be true. Such a scan is
//! recorded as `clock_out_of_bounds`, admits nobody and moves no admission; a scan within the
//! bounds merges as before.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use encore::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::door::{outcomes, parse, refused, scan, ticket_now, token, upload};
use crate::helpers::{on_both_backends, touches, TestApp};

/// When the ticket was issued, or first admitted.
fn time(ticket: &Value, field: &str) -> DateTime<Utc> {
    parse(ticket[field].as_str().unwrap())
}

async fn device_clocks_out_of_bounds_are_recorded_and_move_no_admission(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    // Starting in three hours, its scan window runs from four hours ago (six before the doors,
    // which open an hour before the start) to nine hours ahead: three hours back and eight
    // ahead are inside it, so only the ticket's issue and the upload bound those times.
    let performance = app
        .create_performance_at(Utc::now() + Duration::hours(3), 10)
        .await;
    let ada = app.issue_to(performance, "Ada", "ada@example.org").await;
    let bob = app.issue_to(performance, "Bob", "bob@example.org").await;
    let cleo = app.issue_to(performance, "Cleo", "cleo@example.org").await;
    let dora = app.issue_to(performance, "Dora", "dora@example.org").await;

    // Ada comes in online.
    let (status, online) = app.scan(&scanner, token(&ada), "south").await;
    assert_eq!(status, StatusCode::OK, "{online}");
    let admitted = ticket_now(&app, &ada).await;

    let now = Utc::now();
    let scans = vec![
        // Three hours before Ada's ticket was issued: it would take her admission's place.
        scan(
            token(&ada),
            "north",
            time(&ada, "issued_at") - Duration::hours(3),
        ),
        // Eight hours after the upload: it would admit Bob in the future.
        scan(token(&bob), "north", now + Duration::hours(8)),
        // Within the bounds: after the issue, and a minute ahead of the upload (the clock
        // may be off by the leeway).
        scan(token(&cleo), "north", now),
        scan(token(&dora), "north", now + Duration::minutes(1)),
        // A scan the device refused is bounded too.
        refused(
            token(&bob),
            "north",
            time(&bob, "issued_at") - Duration::hours(3),
            "no_bundle",
        ),
    ];
    let first = upload(&app, &scanner, "phone-1", scans.clone()).await;
    assert_eq!(
        outcomes(&first),
        [
            "clock_out_of_bounds",
            "clock_out_of_bounds",
            "admitted",
            "admitted",
            "clock_out_of_bounds"
        ],
        "{first}"
    );
    assert_eq!(
        (
            first["admitted"].as_i64(),
            first["conflicts"].as_i64(),
            first["clock_out_of_bounds"].as_i64()
        ),
        (Some(2), Some(0), Some(3)),
        "{first}"
    );
    assert_eq!(first["results"][0]["ticket_id"], ada["id"]);
    assert_eq!(first["results"][0]["holder_name"], Value::Null);

    // Ada's admission is the online one still; Bob is not in.
    let ada_now = ticket_now(&app, &ada).await;
    assert_eq!(
        (&ada_now["admitted_at"], &ada_now["admitted_gate"]),
        (&admitted["admitted_at"], &json!("south")),
        "{ada_now}"
    );
    assert_eq!(ticket_now(&app, &bob).await["admitted_at"], Value::Null);
    assert_eq!(
        time(&ticket_now(&app, &cleo).await, "admitted_at"),
        now.trunc_subsecs(3)
    );
    let (status, later) = app.scan(&scanner, token(&bob), "south").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "Bob is admitted when he comes: {later}"
    );

    // Sent again, the upload is a replay: the same outcomes, nothing recorded twice.
    let recorded = app.db.count("SELECT COUNT(*) AS n FROM arrival_events");
    let again = upload(&app, &scanner, "phone-1", scans).await;
    assert_eq!(again["results"], {
        let mut replayed = first["results"].clone();
        for r in replayed.as_array_mut().unwrap() {
            r["replayed"] = json!(true);
        }
        replayed
    });
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM arrival_events"),
        recorded
    );

    // The arrivals count the attempts, the history tells them, the metrics count them once.
    let arrivals = app
        .get_json(
            &format!("/api/v1/performances/{performance}/arrivals"),
            &scanner,
        )
        .await;
    assert_eq!(arrivals["admitted"], 4, "{arrivals}");
    assert_eq!(arrivals["attempts_by_outcome"]["clock_out_of_bounds"], 3);
    let history = app
        .get_json(
            &format!("/api/v1/tickets/{}/history", ada["id"]),
            &app.admin_key,
        )
        .await;
    let scans: Vec<&str> = touches(&history, "scan")
        .iter()
        .map(|t| t["detail"]["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(scans, ["clock_out_of_bounds", "admitted"], "oldest first");
    let metrics = app
        .get("/metrics", &app.admin_key)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"encore_offline_scans_total{outcome="clock_out_of_bounds"} 3"#),
        "{metrics}"
    );
}

on_both_backends!(device_clocks_out_of_bounds_are_recorded_and_move_no_admission);
