//! The console's CSV imports are kept in the database: their progress page is read from there
//! (by the account that started them only), and an import a stopped process left running is
//! finished when the service starts again, issuing nothing twice.

use std::time::{Duration, Instant};

use encore::domain::Role;
use reqwest::header::LOCATION;
use reqwest::StatusCode;

use crate::console_events::Console;
use crate::helpers::{on_both_backends, TestApp};

const HEADER: &str = "holder_name,holder_email,price_minor,currency,ref";

fn csv(rows: &[&str]) -> String {
    let mut file = HEADER.to_string();
    for row in rows {
        file.push('\n');
        file.push_str(row);
    }
    file
}

const ADA: &str = "Ada Lovelace,ada@example.org,4500,EUR,a";
const GRACE: &str = "Grace Hopper,grace@navy.example,4500,EUR,b";
const ALAN: &str = "Alan Turing,alan@example.org,4500,EUR,c";

fn tickets_of(app: &TestApp, performance: i64) -> i64 {
    app.db.count(&format!(
        "SELECT COUNT(*) AS n FROM tickets WHERE performance_id = {performance}"
    ))
}

/// Waits until the import's row is no longer running; its status.
async fn ended(app: &TestApp, id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let running = app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM imports WHERE id = '{id}' AND status = 'running'"
        ));
        if running == 0 {
            let finished = app.db.count(&format!(
                "SELECT COUNT(*) AS n FROM imports WHERE id = '{id}' AND status = 'finished'"
            ));
            return if finished == 1 { "finished" } else { "stopped" }.to_string();
        }
        assert!(Instant::now() < deadline, "import {id} ends");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn an_imports_progress_is_kept_in_the_database_for_its_starter(app: TestApp) {
    let performance = app.create_performance(10).await;
    let clerk = Console::sign_in(&app, "clerk@box-office.example", Role::BoxOffice).await;
    let started = clerk
        .post(
            &format!("/box-office/performances/{performance}/imports"),
            &[("csv", &csv(&[ADA, GRACE]))],
        )
        .await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let progress = started.headers()[LOCATION].to_str().unwrap().to_string();
    let id = progress
        .trim_start_matches("/box-office/imports/")
        .to_string();
    assert_eq!(ended(&app, &id).await, "finished");
    assert_eq!(
        app.db
            .count(&format!("SELECT done AS n FROM imports WHERE id = '{id}'")),
        2
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM imports WHERE id = '{id}' AND csv = ''"
        )),
        1,
        "the file is let go once the import ended"
    );
    let page = clerk.page(&progress).await;
    assert!(
        page.contains("2 issued, 0 already issued before, 0 rejected"),
        "{page}"
    );

    // Another account cannot read it, nor can anyone guess another id.
    let other = Console::sign_in(&app, "other@box-office.example", Role::BoxOffice).await;
    assert_eq!(other.get(&progress).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        clerk
            .get("/box-office/imports/0123456789abcdef")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

async fn an_import_left_running_by_a_stopped_process_is_finished_on_start(app: TestApp) {
    let performance = app.create_performance(10).await;
    let clerk = Console::sign_in(&app, "clerk@box-office.example", Role::BoxOffice).await;
    // A first run issued Ada and Grace…
    let first = clerk
        .post(
            &format!("/box-office/performances/{performance}/imports"),
            &[("csv", &csv(&[ADA, GRACE]))],
        )
        .await;
    let first = first.headers()[LOCATION].to_str().unwrap().to_string();
    assert_eq!(
        ended(&app, first.trim_start_matches("/box-office/imports/")).await,
        "finished"
    );
    assert_eq!(tickets_of(&app, performance), 2);

    // …and the process stopped while a second import of the whole file was running.
    let staff = app
        .db
        .count("SELECT id AS n FROM staff_accounts WHERE email = 'clerk@box-office.example'");
    let file = csv(&[ADA, GRACE, ALAN]).replace('\'', "''");
    app.db.execute(&format!(
        "INSERT INTO imports (id, performance_id, staff_id, csv, total, done, status, started_at) \
         VALUES ('feedc0de', {performance}, {staff}, '{file}', 3, 2, 'running', CURRENT_TIMESTAMP)"
    ));

    // What `encore serve` runs as it starts.
    let encore = app.encore.clone();
    tokio::task::spawn_blocking(move || encore::worker::jobs::resume_imports::run(&encore))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended(&app, "feedc0de").await, "finished");
    assert_eq!(
        tickets_of(&app, performance),
        3,
        "Alan is issued, nobody twice"
    );
    let page = clerk.page("/box-office/imports/feedc0de").await;
    assert!(
        page.contains("1 issued, 2 already issued before, 0 rejected"),
        "{page}"
    );
    let history = app
        .get_json(
            &format!("/api/v1/patrons/{}", "alan@example.org"),
            &app.admin_key,
        )
        .await;
    assert!(
        history.to_string().contains("Ada Lovelace (box office)"),
        "the resumed import names its starter: {history}"
    );
}

on_both_backends!(
    an_imports_progress_is_kept_in_the_database_for_its_starter,
    an_import_left_running_by_a_stopped_process_is_finished_on_start,
);
