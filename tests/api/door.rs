//! The door offline: the bundle a scanner decides with when the network is gone (checked by
//! deciding every token offline, signature included, exactly as the contract says a scanner
//! does), the upload of offline scans (idempotent, earliest admission wins, conflicts counted),
//! and the lobby email an admission sends, once.

use std::collections::HashMap;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use encore::domain::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, touches, Backend, TestApp};
use crate::smtp::SmtpServer;

/// A performance starting in four hours: open for exchanges and transfers (the cut-off is two
/// hours), and its tokens admit now. The event has `lobby_message` when given.
async fn performance(app: &TestApp, lobby_message: Option<&str>) -> i64 {
    let mut event = json!({"name": "Hamlet", "venue": "The Globe", "time_zone": "Europe/London"});
    if let Some(message) = lobby_message {
        event["lobby_message"] = json!(message);
    }
    let response = app.post("/api/v1/events", &app.admin_key, &event).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let event: Value = response.json().await.unwrap();
    assert_eq!(event["lobby_message"], json!(lobby_message));
    let response = app
        .post(
            &format!("/api/v1/events/{}/performances", event["id"]),
            &app.admin_key,
            &json!({"starts_at": Utc::now() + Duration::hours(4), "capacity": 50}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

pub(crate) fn token(ticket: &Value) -> &str {
    ticket["token"].as_str().unwrap()
}

pub(crate) fn id(ticket: &Value) -> i64 {
    ticket["id"].as_i64().unwrap()
}

async fn bundle(app: &TestApp, key: &str, performance: i64, since: Option<i64>) -> Value {
    let path = match since {
        Some(v) => format!("/api/v1/performances/{performance}/offline-bundle?since={v}"),
        None => format!("/api/v1/performances/{performance}/offline-bundle"),
    };
    let response = app.get(&path, key).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The bundle's entries by ticket: (generation, status).
fn entries(bundle: &Value) -> HashMap<i64, (i64, String)> {
    bundle["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["ticket_id"].as_i64().unwrap(),
                (
                    e["generation"].as_i64().unwrap(),
                    e["status"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

/// What a scanner holding `bundle` (and nothing else) decides for `token`, as the contract
/// says: the signature verified with one of the bundle's keys, the window, the performance,
/// then the bundle's entry for the ticket.
fn decide_offline(bundle: &Value, token: &str) -> String {
    let claims = crate::helpers::verify_with_published_keys(token, &bundle["keys"]["keys"]);
    let now = Utc::now().timestamp();
    assert!(claims["nbf"].as_i64().unwrap() <= now && now < claims["exp"].as_i64().unwrap());
    assert_eq!(claims["pid"], bundle["performance_id"]);
    match entries(bundle).get(&claims["tid"].as_i64().unwrap()) {
        None => "admitted".into(),
        Some((generation, status)) if status == "valid" => {
            if *generation == claims["gen"].as_i64().unwrap() {
                "admitted".into()
            } else {
                "superseded".into()
            }
        }
        Some((_, status)) => status.clone(),
    }
}

/// Every way a token stops admitting reaches the bundle, full and incremental; a valid ticket
/// never does; the same refresh twice is empty.
async fn the_bundle_lists_every_token_a_scanner_must_refuse(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = performance(&app, None).await;
    let mut tickets = Vec::new();
    for name in [
        "valid",
        "exchanged",
        "transferred",
        "superseded",
        "canceled",
        "claimed",
        "box_office_canceled",
    ] {
        tickets.push(
            app.issue_to(performance, name, &format!("{name}@example.org"))
                .await,
        );
    }
    let [valid, exchanged, transferred, superseded, canceled, claimed, box_office_canceled] =
        &tickets[..]
    else {
        unreachable!()
    };

    let first = bundle(&app, &scanner, performance, None).await;
    assert_eq!(first["complete"], true);
    assert_eq!(first["performance_id"], performance);
    assert!(first["starts_at"].is_string() && first["doors_open_at"].is_string());
    assert_eq!(entries(&first), HashMap::new(), "nothing to refuse yet");
    let v0 = first["version"].as_i64().unwrap();

    app.post_expecting(
        &format!("/api/v1/tickets/{}/exchange", id(exchanged)),
        &json!({"into": "credit"}),
        StatusCode::OK,
    )
    .await;
    let friend = json!({"name": "Grace", "email": "grace@example.org"});
    app.post_expecting(
        &format!("/api/v1/tickets/{}/transfer", id(transferred)),
        &friend,
        StatusCode::CREATED,
    )
    .await;
    let second = bundle(&app, &scanner, performance, Some(v0)).await;
    assert_eq!(second["complete"], false);
    assert_eq!(
        entries(&second),
        HashMap::from([
            (id(exchanged), (1, "exchanged".to_string())),
            (id(transferred), (1, "transferred".to_string())),
        ])
    );
    let v1 = second["version"].as_i64().unwrap();
    assert!(v1 > v0);

    // A transfer taken back gives the ticket a new generation; a cancel, by the box office or
    // by any other write to the row (set directly here: the trigger sees every write); a
    // claimed offer issues the friend a new ticket at the next generation.
    app.post_expecting(
        &format!("/api/v1/tickets/{}/transfer", id(superseded)),
        &friend,
        StatusCode::CREATED,
    )
    .await;
    let reissued = app
        .post_expecting(
            &format!("/api/v1/tickets/{}/transfer/cancel", id(superseded)),
            &json!({}),
            StatusCode::OK,
        )
        .await;
    app.db.execute(&format!(
        "UPDATE tickets SET status = 'canceled' WHERE id = {}",
        id(canceled)
    ));
    app.post_expecting(
        &format!("/api/v1/tickets/{}/cancel", id(box_office_canceled)),
        &json!({"reason": "Asked for it", "refund_to_credit": false}),
        StatusCode::OK,
    )
    .await;
    app.post_expecting(
        &format!("/api/v1/tickets/{}/transfer", id(claimed)),
        &friend,
        StatusCode::CREATED,
    )
    .await;
    let friends_ticket = app.claim(id(claimed), 1).await;
    assert_eq!(friends_ticket["generation"], 2);

    let third = bundle(&app, &scanner, performance, Some(v1)).await;
    assert_eq!(third["complete"], false);
    assert_eq!(
        entries(&third),
        HashMap::from([
            (id(superseded), (2, "valid".to_string())),
            (id(canceled), (1, "canceled".to_string())),
            (id(box_office_canceled), (1, "canceled".to_string())),
            (id(claimed), (1, "transferred".to_string())),
            (id(&friends_ticket), (2, "valid".to_string())),
        ]),
        "only the changes after v1, the latest per ticket"
    );
    assert_eq!(
        third["refused"].as_array().unwrap().len(),
        5,
        "one entry per ticket"
    );
    let v2 = third["version"].as_i64().unwrap();

    // Admitting a ticket is not a change a scanner refuses by (the scan path stays untouched).
    let (status, _) = app.scan(&scanner, token(valid), "north").await;
    assert_eq!(status, StatusCode::OK);
    let unchanged = bundle(&app, &scanner, performance, Some(v2)).await;
    assert_eq!(unchanged["version"], v2);
    assert_eq!(unchanged["refused"], json!([]));

    // The full bundle says what all the increments say together, and a scanner holding it
    // decides every token ever issued as the server does.
    let full = bundle(&app, &scanner, performance, None).await;
    assert_eq!(full["version"], v2);
    let mut merged = entries(&second);
    merged.extend(entries(&third));
    assert_eq!(entries(&full), merged);
    assert!(!entries(&full).contains_key(&id(valid)));
    let expected = [
        (token(valid), "admitted"),
        (token(exchanged), "exchanged"),
        (token(transferred), "transferred"),
        (token(superseded), "superseded"),
        (token(&reissued), "admitted"),
        (token(canceled), "canceled"),
        (token(box_office_canceled), "canceled"),
        (token(claimed), "transferred"),
        (token(&friends_ticket), "admitted"),
    ];
    for (token, outcome) in expected {
        assert_eq!(decide_offline(&full, token), outcome, "{token}");
        if outcome != "admitted" {
            let (_, online) = app.scan(&scanner, token, "south").await;
            assert_eq!(online["outcome"], outcome, "the server agrees");
        }
    }

    // A version this database never gave (a restored backup) gets everything.
    let ahead = bundle(&app, &scanner, performance, Some(v2 + 100)).await;
    assert_eq!(ahead["complete"], true);
    assert_eq!(entries(&ahead), merged);
}

async fn the_bundle_refuses_bad_requests(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = performance(&app, None).await;
    let path = format!("/api/v1/performances/{performance}/offline-bundle");
    for (query, status, code) in [
        ("?since=-1", StatusCode::BAD_REQUEST, "invalid_query"),
        ("?since=abc", StatusCode::BAD_REQUEST, "invalid_query"),
    ] {
        let response = app.get(&format!("{path}{query}"), &scanner).await;
        assert_eq!(response.status(), status, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], code);
    }
    let response = app
        .get("/api/v1/performances/999999/offline-bundle", &scanner)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let box_office = app.key(Role::BoxOffice);
    assert_eq!(
        app.get(&path, &box_office).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.client
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

pub(crate) fn at(t: DateTime<Utc>) -> String {
    t.trunc_subsecs(3)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn scan(token: &str, gate: &str, scanned_at: DateTime<Utc>) -> Value {
    json!({"token": token, "gate": gate, "scanned_at": at(scanned_at)})
}

/// A scan the device refused at the door, for the reason it gave.
pub(crate) fn refused(token: &str, gate: &str, scanned_at: DateTime<Utc>, reason: &str) -> Value {
    json!({"token": token, "gate": gate, "scanned_at": at(scanned_at), "refused": reason})
}

pub(crate) async fn upload(app: &TestApp, key: &str, device: &str, scans: Vec<Value>) -> Value {
    let response = app
        .post(
            "/api/v1/scans/batch",
            key,
            &json!({"device": device, "scans": scans}),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub(crate) fn outcomes(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect()
}

fn arrival_events(app: &TestApp) -> i64 {
    app.db.count("SELECT COUNT(*) AS n FROM arrival_events")
}

/// The same upload twice: the same outcomes, `replayed`, and nothing recorded twice.
async fn an_upload_merges_once_however_often_it_is_sent(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = performance(&app, None).await;
    let ada = app.issue_to(performance, "Ada", "ada@example.org").await;
    let bob = app.issue_to(performance, "Bob", "bob@example.org").await;
    let old = Utc::now().trunc_subsecs(3) - Duration::minutes(1);
    let scans = vec![
        scan(token(&ada), "north", old),
        // The device's own duplicate, which it refused at the door.
        scan(token(&bob), "north", old + Duration::seconds(40)),
        scan(token(&bob), "north", old + Duration::seconds(30)),
        scan("not-a-token", "north", old),
        // Judged at the device's clock: three days ago this ticket did not admit yet.
        scan(token(&ada), "north", old - Duration::days(3)),
    ];
    let first = upload(&app, &scanner, "phone-3", scans.clone()).await;
    assert_eq!(
        outcomes(&first),
        [
            "admitted",
            "already_admitted",
            "admitted",
            "malformed",
            "not_yet_valid"
        ]
    );
    assert_eq!(
        (first["admitted"].as_i64(), first["conflicts"].as_i64()),
        (Some(2), Some(0))
    );
    let results = first["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["replayed"] == false));
    assert_eq!(results[0]["ticket_id"], id(&ada));
    assert_eq!(results[0]["holder_name"], "Ada");
    assert_eq!(results[0]["first_admission"], Value::Null);
    assert_eq!(results[1]["first_admission"]["gate"], "north");
    assert_eq!(
        results[1]["first_admission"]["at"].as_str().map(parse),
        Some(old + Duration::seconds(30)),
        "the device's earliest scan is the admission"
    );
    assert_eq!(results[3]["ticket_id"], Value::Null);
    let recorded = arrival_events(&app);
    assert_eq!(recorded, 5);

    let again = upload(&app, &scanner, "phone-3", scans.clone()).await;
    assert_eq!(outcomes(&again), outcomes(&first));
    assert!(again["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["replayed"] == true));
    assert_eq!(again["admitted"], first["admitted"]);
    assert_eq!(arrival_events(&app), recorded, "nothing recorded twice");

    // A retry with one new scan: only that one is new.
    let cleo = app.issue_to(performance, "Cleo", "cleo@example.org").await;
    let mut more = scans;
    more.push(scan(token(&cleo), "north", old + Duration::minutes(1)));
    more.push(scan(token(&cleo), "north", old + Duration::minutes(1)));
    let third = upload(&app, &scanner, "phone-3", more).await;
    let replayed: Vec<bool> = third["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["replayed"].as_bool().unwrap())
        .collect();
    assert_eq!(replayed, [true, true, true, true, true, false, true]);
    assert_eq!(outcomes(&third)[5..], ["admitted", "admitted"]);
    assert_eq!(arrival_events(&app), recorded + 1);

    // Online, the uploaded admission holds: a duplicate, first admitted offline.
    let (status, body) = app.scan(&scanner, token(&ada), "south").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["outcome"], "already_admitted");
    assert_eq!(body["first_admission"]["at"].as_str().map(parse), Some(old));
    let arrivals = app
        .get_json(
            &format!("/api/v1/performances/{performance}/arrivals"),
            &scanner,
        )
        .await;
    assert_eq!(arrivals["admitted"], 3);
    assert_eq!(arrivals["conflicts"], 0);

    // The same new upload sent twice at once (a retry racing its original): one is merged,
    // the other answers as a replay, and nothing is recorded twice.
    let (dora, eve) = (
        app.issue_to(performance, "Dora", "dora@example.org").await,
        app.issue_to(performance, "Eve", "eve@example.org").await,
    );
    let racing = vec![
        scan(token(&dora), "north", old + Duration::minutes(2)),
        scan(token(&eve), "north", old + Duration::minutes(2)),
        scan("garbage", "north", old + Duration::minutes(2)),
    ];
    let before = arrival_events(&app);
    let (one, two) = tokio::join!(
        upload(&app, &scanner, "phone-3", racing.clone()),
        upload(&app, &scanner, "phone-3", racing)
    );
    assert_eq!(outcomes(&one), ["admitted", "admitted", "malformed"]);
    assert_eq!(outcomes(&two), outcomes(&one));
    let replays = |body: &Value| -> Vec<bool> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["replayed"].as_bool().unwrap())
            .collect()
    };
    let mut both = [replays(&one), replays(&two)];
    both.sort();
    assert_eq!(both, [[false; 3], [true; 3]]);
    assert_eq!(arrival_events(&app), before + 3);
}

pub(crate) fn parse(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// One ticket admitted offline at two gates: whichever device uploads second hears
/// `conflict`, the earliest admission is the one on record, and arrivals count it.
async fn a_ticket_admitted_at_two_gates_is_a_conflict(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = performance(&app, None).await;
    let early = Utc::now().trunc_subsecs(3) - Duration::minutes(2);
    let late = early + Duration::minutes(3);

    // The later scan is uploaded first: admitted; then the earlier one: a conflict that takes
    // the admission's place.
    let ada = app.issue_to(performance, "Ada", "ada@example.org").await;
    let south = upload(
        &app,
        &scanner,
        "phone-south",
        vec![scan(token(&ada), "south", late)],
    )
    .await;
    assert_eq!(outcomes(&south), ["admitted"]);
    let north = upload(
        &app,
        &scanner,
        "phone-north",
        vec![scan(token(&ada), "north", early)],
    )
    .await;
    assert_eq!(outcomes(&north), ["conflict"]);
    assert_eq!(north["conflicts"], 1);
    assert_eq!(north["admitted"], 0);
    let first = &north["results"][0]["first_admission"];
    assert_eq!(
        (first["gate"].as_str(), first["at"].as_str().map(parse)),
        (Some("north"), Some(early))
    );
    assert_eq!(north["results"][0]["holder_name"], "Ada");

    // The other order: the earlier is uploaded first and stays.
    let bob = app.issue_to(performance, "Bob", "bob@example.org").await;
    upload(
        &app,
        &scanner,
        "phone-north",
        vec![scan(token(&bob), "north", early)],
    )
    .await;
    let south = upload(
        &app,
        &scanner,
        "phone-south",
        vec![scan(token(&bob), "south", late)],
    )
    .await;
    assert_eq!(outcomes(&south), ["conflict"]);
    let first = &south["results"][0]["first_admission"];
    assert_eq!(
        (first["gate"].as_str(), first["at"].as_str().map(parse)),
        (Some("north"), Some(early))
    );

    // Admitted online, then an offline scan from another device uploads: a conflict too.
    let cleo = app.issue_to(performance, "Cleo", "cleo@example.org").await;
    let (status, _) = app.scan(&scanner, token(&cleo), "east").await;
    assert_eq!(status, StatusCode::OK);
    // A second later: uploads carry milliseconds, so "now" could fall in the admission's own
    // millisecond, truncate to before it, and rightly win as the earlier scan.
    let west = upload(
        &app,
        &scanner,
        "phone-west",
        vec![scan(
            token(&cleo),
            "west",
            Utc::now() + Duration::seconds(1),
        )],
    )
    .await;
    assert_eq!(outcomes(&west), ["conflict"]);
    assert_eq!(west["results"][0]["first_admission"]["gate"], "east");

    // Replayed, a conflict stays one conflict.
    let replay = upload(
        &app,
        &scanner,
        "phone-north",
        vec![scan(token(&ada), "north", early)],
    )
    .await;
    assert_eq!(outcomes(&replay), ["conflict"]);
    assert_eq!(replay["results"][0]["replayed"], true);

    let arrivals = app
        .get_json(
            &format!("/api/v1/performances/{performance}/arrivals"),
            &scanner,
        )
        .await;
    assert_eq!(arrivals["conflicts"], 3, "{arrivals}");
    assert_eq!(arrivals["attempts_by_outcome"]["conflict"], 3);
    assert_eq!(arrivals["admitted"], 3, "each ticket counts once");
    let gates: HashMap<String, i64> = arrivals["by_gate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["gate"].as_str().unwrap().to_string(),
                g["admitted"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        gates,
        HashMap::from([("north".into(), 2), ("east".into(), 1)])
    );
}

/// The ticket as the box office sees it.
pub(crate) async fn ticket_now(app: &TestApp, ticket: &Value) -> Value {
    app.get_json(&format!("/api/v1/tickets/{}", id(ticket)), &app.admin_key)
        .await
}

/// A scan in a ticket's history: outcome, gate, device, and the device's refusal.
type Told = (String, String, String, Option<String>);

/// The scans in a ticket's history: (outcome, gate, device, device_refusal).
async fn scans_in_history(app: &TestApp, ticket: &Value) -> Vec<Told> {
    let history = app
        .get_json(
            &format!("/api/v1/tickets/{}/history", id(ticket)),
            &app.admin_key,
        )
        .await;
    touches(&history, "scan")
        .into_iter()
        .map(|t| {
            let d = &t["detail"];
            let text = |k: &str| d[k].as_str().unwrap().to_string();
            // Always there: null when the device refused nothing.
            let refusal = d
                .get("device_refusal")
                .unwrap_or_else(|| panic!("no device_refusal in {d}"));
            let refusal = (!refusal.is_null()).then(|| refusal.as_str().unwrap().to_string());
            (text("outcome"), text("gate"), text("device"), refusal)
        })
        .collect()
}

fn strings(list: &[(&str, &str, &str, Option<&str>)]) -> Vec<Told> {
    list.iter()
        .map(|(a, b, c, d)| {
            (
                a.to_string(),
                b.to_string(),
                c.to_string(),
                d.map(str::to_string),
            )
        })
        .collect()
}

/// Scans the device refused offline are recorded — as the server's own refusal, or as
/// `refused_offline` when the server would have admitted — and never admit: a later online
/// scan still does. Replayed, they add nothing. The history shows each attempt at its gate.
async fn offline_refusals_are_recorded_and_never_admit(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = performance(&app, None).await;
    let ada = app.issue_to(performance, "Ada", "ada@example.org").await;
    let bob = app.issue_to(performance, "Bob", "bob@example.org").await;
    let cleo = app.issue_to(performance, "Cleo", "cleo@example.org").await;
    app.post_expecting(
        &format!("/api/v1/tickets/{}/cancel", id(&bob)),
        &json!({"reason": "Asked for it", "refund_to_credit": false}),
        StatusCode::OK,
    )
    .await;
    app.post_expecting(
        &format!("/api/v1/tickets/{}/exchange", id(&cleo)),
        &json!({"into": "credit"}),
        StatusCode::OK,
    )
    .await;

    // A device without the bundle turned Ada and Bob away; with a stale one, it caught Cleo's
    // exchange all the same; a code that is not a ticket.
    let old = Utc::now().trunc_subsecs(3) - Duration::minutes(1);
    let scans = vec![
        refused(token(&ada), "east", old, "no_bundle"),
        refused(token(&bob), "east", old + Duration::seconds(5), "no_bundle"),
        refused(
            token(&cleo),
            "east",
            old + Duration::seconds(9),
            "exchanged",
        ),
        refused(
            "not-a-token",
            "east",
            old + Duration::seconds(12),
            "malformed",
        ),
    ];
    let first = upload(&app, &scanner, "phone-east", scans.clone()).await;
    assert_eq!(
        outcomes(&first),
        ["refused_offline", "canceled", "exchanged", "malformed"]
    );
    assert_eq!(
        (first["admitted"].as_i64(), first["conflicts"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(first["refused"], 4);
    let results = first["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["replayed"] == false));
    assert_eq!(results[0]["ticket_id"], id(&ada));
    assert_eq!(results[0]["first_admission"], Value::Null);
    assert_eq!(results[2]["ticket_id"], id(&cleo));
    assert_eq!(results[3]["ticket_id"], Value::Null);
    assert_eq!(arrival_events(&app), 4);
    assert_eq!(ticket_now(&app, &ada).await["admitted_at"], Value::Null);
    let arrivals = app
        .get_json(
            &format!("/api/v1/performances/{performance}/arrivals"),
            &scanner,
        )
        .await;
    assert_eq!(arrivals["admitted"], 0, "{arrivals}");
    assert_eq!(arrivals["conflicts"], 0);
    assert_eq!(
        arrivals["attempts_by_outcome"],
        json!({"refused_offline": 1, "canceled": 1, "exchanged": 1}),
        "the malformed code names no performance"
    );

    // Sent again (the answer was lost): the same outcomes, nothing recorded twice.
    let again = upload(&app, &scanner, "phone-east", scans).await;
    assert_eq!(outcomes(&again), outcomes(&first));
    assert!(again["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["replayed"] == true));
    assert_eq!(
        (again["admitted"].as_i64(), again["refused"].as_i64()),
        (Some(0), Some(4))
    );
    assert_eq!(arrival_events(&app), 4);
    assert_eq!(ticket_now(&app, &ada).await["admitted_at"], Value::Null);

    // Ada comes back to a door that is online: she is admitted.
    let (status, body) = app.scan(&scanner, token(&ada), "north").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ticket_now(&app, &ada).await["admitted_gate"], "north");

    // A refusal after her admission is a duplicate, and changes nothing either.
    let later = upload(
        &app,
        &scanner,
        "phone-east",
        vec![refused(
            token(&ada),
            "east",
            Utc::now() + Duration::seconds(1),
            "already_admitted",
        )],
    )
    .await;
    assert_eq!(outcomes(&later), ["already_admitted"]);
    assert_eq!(later["results"][0]["first_admission"]["gate"], "north");
    assert_eq!(later["admitted"], 0);
    assert_eq!(ticket_now(&app, &ada).await["admitted_gate"], "north");

    // The journey tells each attempt, with its gate, and for a refusal the device's reason
    // beside the server's outcome: Ada's ticket was valid, the device had no bundle; Bob's was
    // canceled, which the device could not know. The online scan has none.
    assert_eq!(
        scans_in_history(&app, &ada).await,
        strings(&[
            ("refused_offline", "east", "phone-east", Some("no_bundle")),
            ("admitted", "north", "test-device", None),
            (
                "already_admitted",
                "east",
                "phone-east",
                Some("already_admitted")
            ),
        ])
    );
    assert_eq!(
        scans_in_history(&app, &bob).await,
        strings(&[("canceled", "east", "phone-east", Some("no_bundle"))])
    );
    assert_eq!(
        scans_in_history(&app, &cleo).await,
        strings(&[("exchanged", "east", "phone-east", Some("exchanged"))])
    );
}

/// Earliest admission wins, and a refusal is not an admission: one made before another
/// device's admission leaves it as it is, whichever reaches the server first.
async fn an_earlier_offline_refusal_leaves_the_admission_alone(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = performance(&app, None).await;
    let early = Utc::now().trunc_subsecs(3) - Duration::minutes(2);
    let late = early + Duration::minutes(3);
    let admission = |ticket: &Value| {
        (
            ticket["admitted_gate"].as_str().map(str::to_string),
            ticket["admitted_at"].as_str().map(parse),
        )
    };

    // The admission reaches the server first, then the earlier refusal.
    let ada = app.issue_to(performance, "Ada", "ada@example.org").await;
    let south = upload(
        &app,
        &scanner,
        "phone-south",
        vec![scan(token(&ada), "south", late)],
    )
    .await;
    assert_eq!(outcomes(&south), ["admitted"]);
    let north = upload(
        &app,
        &scanner,
        "phone-north",
        vec![refused(token(&ada), "north", early, "no_bundle")],
    )
    .await;
    assert_eq!(outcomes(&north), ["refused_offline"]);
    assert_eq!(
        (north["admitted"].as_i64(), north["conflicts"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        admission(&ticket_now(&app, &ada).await),
        (Some("south".into()), Some(late))
    );

    // The other way round: the refusal first; the admission is then no conflict.
    let bob = app.issue_to(performance, "Bob", "bob@example.org").await;
    let north = upload(
        &app,
        &scanner,
        "phone-north",
        vec![refused(token(&bob), "north", early, "unknown_key")],
    )
    .await;
    assert_eq!(outcomes(&north), ["refused_offline"]);
    let south = upload(
        &app,
        &scanner,
        "phone-south",
        vec![scan(token(&bob), "south", late)],
    )
    .await;
    assert_eq!(outcomes(&south), ["admitted"]);
    assert_eq!(
        admission(&ticket_now(&app, &bob).await),
        (Some("south".into()), Some(late))
    );

    // In one upload, whatever the order it lists them in: a refusal before the device's own
    // admission, and its refusal of a duplicate after one.
    let cleo = app.issue_to(performance, "Cleo", "cleo@example.org").await;
    let dan = app.issue_to(performance, "Dan", "dan@example.org").await;
    let west = upload(
        &app,
        &scanner,
        "phone-west",
        vec![
            scan(token(&cleo), "west", late),
            refused(token(&cleo), "west", early, "no_bundle"),
            refused(token(&dan), "west", late, "already_admitted"),
            scan(token(&dan), "west", early),
        ],
    )
    .await;
    assert_eq!(
        outcomes(&west),
        [
            "admitted",
            "refused_offline",
            "already_admitted",
            "admitted"
        ]
    );
    assert_eq!(
        (
            west["admitted"].as_i64(),
            west["conflicts"].as_i64(),
            west["refused"].as_i64()
        ),
        (Some(2), Some(0), Some(2))
    );
    assert_eq!(
        admission(&ticket_now(&app, &cleo).await),
        (Some("west".into()), Some(late))
    );
    assert_eq!(
        admission(&ticket_now(&app, &dan).await),
        (Some("west".into()), Some(early))
    );

    let arrivals = app
        .get_json(
            &format!("/api/v1/performances/{performance}/arrivals"),
            &scanner,
        )
        .await;
    assert_eq!(arrivals["admitted"], 4, "{arrivals}");
    assert_eq!(arrivals["conflicts"], 0, "{arrivals}");
    assert_eq!(arrivals["attempts_by_outcome"]["refused_offline"], 3);
    assert_eq!(arrivals["attempts_by_outcome"]["admitted"], 4);
    assert_eq!(arrivals["attempts_by_outcome"]["already_admitted"], 1);
}

async fn bad_uploads_are_refused_with_a_reason(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = performance(&app, None).await;
    let ada = app.issue_to(performance, "Ada", "ada@example.org").await;
    let good = scan(token(&ada), "north", Utc::now());
    let too_many: Vec<Value> = (0..1001).map(|_| good.clone()).collect();
    let cases = [
        (
            json!({"device": "p", "scans": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"device": "p", "scans": too_many}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"device": " ", "scans": [good]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"device": "p", "scans": [{"token": "x", "gate": "", "scanned_at": at(Utc::now())}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"device": "p", "scans": [{"token": "x", "gate": "n", "scanned_at": "yesterday"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"scans": [good]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let response = app.post("/api/v1/scans/batch", &scanner, &body).await;
        assert_eq!(response.status(), status);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["code"], code, "{answer}");
    }
    // A device's refusal is a short code: not blank, not too long, no control characters.
    let now = Utc::now();
    for reason in ["", "   ", &"x".repeat(65), "no\nbundle"] {
        let body = json!({"device": "p", "scans": [
            refused(token(&ada), "north", now, "no_bundle"),
            refused(token(&ada), "north", now, reason),
        ]});
        let response = app.post("/api/v1/scans/batch", &scanner, &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{reason:?}"
        );
        let answer: Value = response.json().await.unwrap();
        assert_eq!(
            (answer["code"].as_str(), answer["field"].as_str()),
            (Some("validation_failed"), Some("scans")),
            "{answer}"
        );
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains("scan 1: refused:"), "{message}");
    }
    let body = json!({"device": "p", "scans": [{"token": "x", "gate": "n",
        "scanned_at": at(now), "refused": 3}]});
    let response = app.post("/api/v1/scans/batch", &scanner, &body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["code"], "invalid_body", "{answer}");
    let box_office = app.key(Role::BoxOffice);
    let response = app
        .post(
            "/api/v1/scans/batch",
            &box_office,
            &json!({"device": "p", "scans": [good]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(arrival_events(&app), 0, "nothing recorded");
}

pub(crate) async fn app_with_smtp(backend: Backend) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, move |c| c.smtp_url = Some(url)).await;
    (app, smtp)
}

/// The kinds of email queued for a ticket.
pub(crate) async fn email_kinds(app: &TestApp, ticket: &Value) -> Vec<String> {
    let emails = app
        .get_json(
            &format!("/api/v1/tickets/{}/emails", id(ticket)),
            &app.admin_key,
        )
        .await;
    emails
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Sends whatever is due until `n` emails have arrived in all; then nothing more is due.
pub(crate) async fn deliver(
    app: &TestApp,
    smtp: &SmtpServer,
    n: usize,
) -> Vec<crate::smtp::Received> {
    let worker = app.worker();
    for _ in 0..100 {
        worker.deliver_due().await.unwrap();
        if smtp.messages().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let messages = smtp.wait_for(n).await;
    assert_eq!(
        worker.deliver_due().await.unwrap(),
        0,
        "nothing else is due"
    );
    assert_eq!(smtp.messages().len(), n);
    messages
}

/// Admitted (online or uploaded): one lobby email, whatever the number of scans; refused:
/// none; an event without a message: none.
async fn the_lobby_message_is_emailed_once_on_admission(backend: Backend) {
    let (app, smtp) = app_with_smtp(backend).await;
    let scanner = app.key(Role::Scanner);
    let bad = app
        .post(
            "/api/v1/events",
            &app.admin_key,
            &json!({"name": "X", "venue": "Y", "time_zone": "UTC", "lobby_message": "Hi {name}"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["field"], "lobby_message");

    let welcome = "Welcome {holder_name} — the bar is on the left, intermission at 20:15";
    let hamlet = performance(&app, Some(welcome)).await;
    let ada = app
        .issue_to(hamlet, "Ada <b>Lovelace</b>", "ada@example.org")
        .await;
    let bob = app.issue_to(hamlet, "Bob", "bob@example.org").await;
    let cleo = app.issue_to(hamlet, "Cleo", "cleo@example.org").await;
    let silent = performance(&app, None).await;
    let dan = app.issue_to(silent, "Dan", "dan@example.org").await;
    let mut crowd = Vec::new();
    for i in 0..4 {
        crowd.push(
            app.issue_to(
                hamlet,
                &format!("Guest {i}"),
                &format!("guest{i}@example.org"),
            )
            .await,
        );
    }
    deliver(&app, &smtp, 8).await; // the confirmations

    // Ada is admitted online and scanned again; Bob's ticket was canceled and is refused;
    // Cleo comes in through an uploaded offline scan (uploaded twice); Dan's event has no
    // lobby message.
    let (status, _) = app.scan(&scanner, token(&ada), "north").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.scan(&scanner, token(&ada), "south").await;
    assert_eq!(status, StatusCode::CONFLICT);
    app.db.execute(&format!(
        "UPDATE tickets SET status = 'canceled' WHERE id = {}",
        id(&bob)
    ));
    let (_, refused) = app.scan(&scanner, token(&bob), "north").await;
    assert_eq!(refused["outcome"], "canceled");
    let offline = vec![scan(
        token(&cleo),
        "west",
        Utc::now() - Duration::minutes(2),
    )];
    upload(&app, &scanner, "phone-1", offline.clone()).await;
    upload(&app, &scanner, "phone-1", offline).await;
    let (status, _) = app.scan(&scanner, token(&dan), "north").await;
    assert_eq!(status, StatusCode::OK);
    // A rush: scans that arrive together are admitted in one writer batch (on PostgreSQL in
    // one set-based statement), and their lobby emails queued in one more.
    let rush =
        futures::future::join_all(crowd.iter().map(|t| app.scan(&scanner, token(t), "east"))).await;
    assert!(
        rush.iter().all(|(status, _)| *status == StatusCode::OK),
        "{rush:?}"
    );

    let messages = deliver(&app, &smtp, 14).await;
    let lobby: Vec<_> = messages[8..].iter().collect();
    let mut to: Vec<&str> = lobby.iter().map(|m| m.to[0].as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        [
            "ada@example.org",
            "cleo@example.org",
            "guest0@example.org",
            "guest1@example.org",
            "guest2@example.org",
            "guest3@example.org"
        ]
    );
    for message in &lobby {
        assert_eq!(message.parsed().subject(), Some("Welcome to Hamlet"));
    }
    let to_ada = lobby.iter().find(|m| m.to[0] == "ada@example.org").unwrap();
    let parsed = to_ada.parsed();
    let text = parsed.body_text(0).unwrap();
    assert!(
        text.contains(
            "Welcome Ada <b>Lovelace</b> — the bar is on the left, intermission at 20:15"
        ),
        "{text}"
    );
    let html = parsed.body_html(0).unwrap();
    assert!(!html.contains("<b>Lovelace"), "escaped in HTML: {html}");

    assert_eq!(email_kinds(&app, &ada).await, ["confirmation", "lobby"]);
    assert_eq!(email_kinds(&app, &bob).await, ["confirmation"]);
    assert_eq!(email_kinds(&app, &cleo).await, ["confirmation", "lobby"]);
    assert_eq!(email_kinds(&app, &dan).await, ["confirmation"]);
}

on_both_backends!(
    the_bundle_lists_every_token_a_scanner_must_refuse,
    the_bundle_refuses_bad_requests,
    an_upload_merges_once_however_often_it_is_sent,
    a_ticket_admitted_at_two_gates_is_a_conflict,
    offline_refusals_are_recorded_and_never_admit,
    an_earlier_offline_refusal_leaves_the_admission_alone,
    bad_uploads_are_refused_with_a_reason,
);

mod lobby {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_the_lobby_message_is_emailed_once_on_admission() {
        the_lobby_message_is_emailed_once_on_admission(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_the_lobby_message_is_emailed_once_on_admission() {
        the_lobby_message_is_emailed_once_on_admission(Backend::Postgres).await
    }
}
