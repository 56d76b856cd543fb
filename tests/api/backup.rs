//! `encore backup` of a SQLite database while `encore serve` admits at the door: the copy holds
//! every admission acknowledged before the backup began, passes SQLite's integrity check, and
//! serves.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use serde_json::{json, Value};

use crate::helpers::{run_cli, ticket_request, Backend, ServeProcess, TestDatabase};

const TICKETS: usize = 1_200;
const SCANNERS: usize = 16;
/// Admissions acknowledged before the backup starts.
const BEFORE_BACKUP: usize = 300;
/// Bounds on the load, whatever happens.
const MAX_REQUESTS: usize = 30_000;
const MAX_TIME: Duration = Duration::from_secs(90);

fn admin_key(database_url: &str) -> String {
    let (code, key, stderr) = run_cli(
        database_url,
        &["keys", "create", "--role", "admin", "--name", "door"],
    );
    assert_eq!(code, 0, "{stderr}");
    key.trim().to_string()
}

/// (id, token) of `count` new tickets for `performance`.
async fn issue(
    server: &ServeProcess,
    key: &str,
    performance: i64,
    count: usize,
) -> Vec<(i64, String)> {
    let mut tickets = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(600) {
        let requests: Vec<Value> = chunk
            .iter()
            .map(|i| ticket_request(&format!("Guest {i}"), &format!("guest{i}@example.org")))
            .collect();
        let answer = server
            .post_json(
                key,
                &format!("/api/v1/performances/{performance}/tickets/bulk"),
                &json!({ "tickets": requests }),
            )
            .await;
        for t in answer["tickets"].as_array().expect("issued tickets") {
            tickets.push((
                t["id"].as_i64().unwrap(),
                t["token"].as_str().unwrap().to_string(),
            ));
        }
    }
    tickets
}

/// What the door load saw.
#[derive(Default)]
struct Door {
    /// Tickets whose admission was acknowledged (200 admitted), in order.
    admitted: Mutex<Vec<i64>>,
    /// Every answered scan.
    answered: AtomicUsize,
    /// Scans answered with anything but admitted / already_admitted.
    unexpected: Mutex<Vec<Value>>,
}

/// Scans every ticket once, then keeps re-scanning them (each re-scan still writes an arrival
/// event) until told to stop: the door stays busy for the whole backup.
async fn scanner(
    base: String,
    key: String,
    tickets: Arc<Vec<(i64, String)>>,
    next: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    door: Arc<Door>,
) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) && started.elapsed() < MAX_TIME {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= MAX_REQUESTS {
            return;
        }
        let (id, token) = &tickets[n % tickets.len()];
        let answer: Value = client
            .post(format!("{base}/api/v1/scans"))
            .bearer_auth(&key)
            .json(&json!({"token": token, "gate": "north", "device": "load"}))
            .send()
            .await
            .expect("a scan answer")
            .json()
            .await
            .expect("a JSON scan answer");
        door.answered.fetch_add(1, Ordering::Relaxed);
        match answer["outcome"].as_str() {
            Some("admitted") => door.admitted.lock().unwrap().push(*id),
            Some("already_admitted") => {}
            _ => door.unexpected.lock().unwrap().push(answer),
        }
    }
}

#[derive(QueryableByName)]
struct IntegrityLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_during_a_scan_load_holds_every_admission_acknowledged_before_it() {
    let db = TestDatabase::create(Backend::Sqlite);
    let key = admin_key(&db.url);
    let server = ServeProcess::start(&db.url).await;
    let performance = server.create_performance(&key, TICKETS as i64).await;
    let tickets = Arc::new(issue(&server, &key, performance, TICKETS).await);
    assert_eq!(tickets.len(), TICKETS);

    let (next, stop, door) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
        Arc::new(Door::default()),
    );
    let scanners: Vec<_> = (0..SCANNERS)
        .map(|_| {
            tokio::spawn(scanner(
                server.base.clone(),
                key.clone(),
                tickets.clone(),
                next.clone(),
                stop.clone(),
                door.clone(),
            ))
        })
        .collect();
    let waiting = Instant::now();
    while door.admitted.lock().unwrap().len() < BEFORE_BACKUP {
        assert!(
            waiting.elapsed() < MAX_TIME,
            "the door load never got going"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Every admission acknowledged up to here must be in the copy.
    let noted: Vec<i64> = door.admitted.lock().unwrap().clone();
    let answered_before = door.answered.load(Ordering::Relaxed);
    let copy = db.dir().join("copy.db");
    let copy_path = copy.to_str().unwrap().to_string();
    let backup = tokio::task::spawn_blocking({
        let (url, copy_path) = (db.url.clone(), copy_path.clone());
        move || run_cli(&url, &["backup", &copy_path])
    });
    let (code, stdout, stderr) = backup.await.unwrap();
    let answered_during = door.answered.load(Ordering::Relaxed) - answered_before;
    stop.store(true, Ordering::Relaxed);
    for s in scanners {
        s.await.unwrap();
    }
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("integrity ok"), "{stdout}");
    eprintln!(
        "backup under load: {} admissions acknowledged before it began, {answered_during} scans \
         answered while it ran; {}",
        noted.len(),
        stdout.trim()
    );
    assert!(
        answered_during > 0,
        "the door answered no scan while the backup ran: it was not taken under load"
    );
    {
        let unexpected = door.unexpected.lock().unwrap();
        assert!(
            unexpected.is_empty(),
            "{:?}",
            &unexpected[..unexpected.len().min(3)]
        );
    }
    drop(server);

    // The copy is sound by SQLite's own check...
    let mut conn = SqliteConnection::establish(&copy_path).unwrap();
    let check: Vec<IntegrityLine> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    assert_eq!(check.len(), 1);
    assert_eq!(check[0].integrity_check, "ok");
    drop(conn);

    // ...and a fresh `encore serve` on it knows every noted admission.
    let restored = ServeProcess::start(&copy_path).await;
    for id in &noted {
        let ticket = restored
            .get_json(&key, &format!("/api/v1/tickets/{id}"))
            .await;
        assert!(
            ticket["admitted_at"].is_string(),
            "ticket {id} was admitted before the backup began, but the copy says {ticket}"
        );
    }
    // Its token is refused as already admitted, at the first gate and time.
    let (first, token) = tickets.iter().find(|(id, _)| *id == noted[0]).unwrap();
    let again = restored
        .post_json(
            &key,
            "/api/v1/scans",
            &json!({"token": token, "gate": "south", "device": "after-restore"}),
        )
        .await;
    assert_eq!(
        again["outcome"], "already_admitted",
        "ticket {first}: {again}"
    );
    assert_eq!(again["first_admission"]["gate"], "north");
}

#[tokio::test]
async fn backup_refuses_an_existing_file_a_missing_database_and_postgres() {
    let db = TestDatabase::create(Backend::Sqlite);
    let (code, _, stderr) = run_cli(&db.url, &["migrate"]);
    assert_eq!(code, 0, "{stderr}");

    let existing = db.dir().join("existing.db");
    std::fs::write(&existing, b"keep me").unwrap();
    let (code, _, stderr) = run_cli(&db.url, &["backup", existing.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

    let nowhere = db.dir().join("nothing-here.db");
    let copy = db.dir().join("copy.db");
    let (code, _, stderr) = run_cli(
        nowhere.to_str().unwrap(),
        &["backup", copy.to_str().unwrap()],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("no SQLite database"), "{stderr}");
    assert!(!nowhere.exists() && !copy.exists());

    let pg = TestDatabase::create(Backend::Postgres);
    let (code, _, stderr) = run_cli(&pg.url, &["backup", copy.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(!copy.exists());
    // Nor does it leave a temporary file behind.
    let leftovers: Vec<_> = std::fs::read_dir(db.dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
    // A correct backup succeeds and the copy checks out.
    let (code, stdout, stderr) = run_cli(&db.url, &["backup", copy.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("integrity ok"), "{stdout}");
}
