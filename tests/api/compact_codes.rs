//! Compact ticket codes (issue 18): a new ticket's code is `E` + Base45 of a fixed binary
//! layout and its Ed25519 signature, a version-5 QR code (37×37 modules) where the JWT of
//! earlier versions needed version 11 (61×61). The door answers both alike: the codes already
//! printed and sent keep admitting. The offline scanner page checks compact codes too.

use chrono::{Duration, Utc};
use fantoccini::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::browser::{find, wait_for_exact_text, wait_for_text, Chromedriver};
use crate::helpers::{on_both_backends, Backend, TestApp};
use crate::scanner_page::{text, use_key, within_limit};
use encore::domain::Role;
use encore::tokens::{version_of, GeneratedKey, KeyRing, TicketClaims};

/// Decodes a PNG's one QR code: its text and its version.
fn read_qr(png: &[u8]) -> (String, usize) {
    let image = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code in the image");
    let (meta, content) = grids[0].decode().expect("the QR code decodes");
    (content, meta.version.0)
}

/// The door's answer to `token` (at the door of `door`, when it says): the outcome, after
/// checking it was never a server error.
async fn outcome(app: &TestApp, scanner: &str, token: &str, door: Option<i64>) -> String {
    let mut body = json!({"token": token, "gate": "north", "device": "d"});
    if let Some(performance) = door {
        body["performance_id"] = json!(performance);
    }
    let (status, answer) = app.scan_with(scanner, &body).await;
    assert!(
        status.is_success() || status.is_client_error(),
        "{status} {answer}"
    );
    answer["outcome"].as_str().unwrap().to_string()
}

/// The same claims as a compact code and as the JWT an earlier version issued.
fn both(app: &TestApp, claims: &TicketClaims) -> [String; 2] {
    [
        app.encore.keys.sign_ticket(claims).unwrap(),
        app.encore.keys.sign(claims).unwrap(),
    ]
}

fn claims_of(app: &TestApp, ticket: &Value) -> TicketClaims {
    app.encore
        .keys
        .verify(ticket["token"].as_str().unwrap())
        .unwrap()
}

fn admitted_tickets(app: &TestApp) -> i64 {
    app.db
        .count("SELECT COUNT(*) AS n FROM tickets WHERE admitted_at IS NOT NULL")
}

/// A ticket issued now carries a compact code; its QR (PNG and SVG) is version 5, 37×37
/// modules, where the same claims as a JWT need version 11, 61×61. It admits once, then is
/// already admitted.
async fn a_new_ticket_has_a_compact_code_in_a_version_5_qr(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    let token = ticket["token"].as_str().unwrap();
    assert!(token.starts_with('E'), "{token}");
    assert!(token.len() <= 121, "{} characters: {token}", token.len());
    assert!(token
        .bytes()
        .all(|c| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&c)));

    let id = ticket["id"].as_i64().unwrap();
    let png = app
        .get(&format!("/api/v1/tickets/{id}/qr.png"), &app.admin_key)
        .await;
    assert_eq!(png.status(), StatusCode::OK);
    let (content, version) = read_qr(&png.bytes().await.unwrap());
    assert_eq!(content, token);
    assert_eq!((version, 17 + 4 * version), (5, 37), "37×37 modules");
    assert_eq!(version_of(token).unwrap(), 5);
    // The JWT an earlier version issued for the same ticket: version 11, 61×61.
    let old = app.old_jwt(token);
    assert_eq!(version_of(&old).unwrap(), 11, "{} characters", old.len());

    // The SVG scales with the page (a viewBox; the ticket page sets its width).
    let svg = app
        .get(&format!("/api/v1/tickets/{id}/qr.svg"), &app.admin_key)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        svg.contains("viewBox=\"0 0 "),
        "{}",
        &svg[..200.min(svg.len())]
    );

    assert_eq!(
        outcome(&app, &scanner, token, Some(performance)).await,
        "admitted"
    );
    assert_eq!(
        outcome(&app, &scanner, token, Some(performance)).await,
        "already_admitted"
    );
    // The old code of the same ticket is the same ticket: already in.
    assert_eq!(
        outcome(&app, &scanner, &old, None).await,
        "already_admitted"
    );
    assert_eq!(admitted_tickets(&app), 1);
}

/// The door gives a compact code and the JWT of the same claims the same answer, whatever it
/// is: genuine, another performance, outside the window, a stale generation, an unknown key,
/// and at a rotating event's door a static code refused and a paper code admitted.
async fn compact_and_old_codes_get_the_same_answers(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = app.create_performance(10).await;
    let other = app.create_performance(10).await;
    let now = Utc::now().timestamp();

    // Genuine, whichever is scanned first.
    for first in [0, 1] {
        let ticket = app.issue_ticket(performance).await;
        let codes = both(&app, &claims_of(&app, &ticket));
        assert_eq!(
            outcome(&app, &scanner, &codes[first], Some(performance)).await,
            "admitted"
        );
        assert_eq!(
            outcome(&app, &scanner, &codes[1 - first], Some(performance)).await,
            "already_admitted"
        );
    }

    let ticket = app.issue_ticket(performance).await;
    let genuine = claims_of(&app, &ticket);
    let stranger = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
    let cases: Vec<(&str, [String; 2], Option<i64>)> = vec![
        ("wrong_performance", both(&app, &genuine), Some(other)),
        (
            "expired",
            both(
                &app,
                &TicketClaims {
                    nbf: now - 20 * 3600,
                    exp: now - 10 * 3600,
                    ..genuine
                },
            ),
            None,
        ),
        (
            "not_yet_valid",
            both(
                &app,
                &TicketClaims {
                    nbf: now + 10 * 3600,
                    exp: now + 20 * 3600,
                    ..genuine
                },
            ),
            None,
        ),
        (
            "superseded",
            both(
                &app,
                &TicketClaims {
                    generation: 0,
                    ..genuine
                },
            ),
            None,
        ),
        (
            "unknown_key",
            [
                stranger.sign_ticket(&genuine).unwrap(),
                stranger.sign(&genuine).unwrap(),
            ],
            None,
        ),
    ];
    for (expected, codes, door) in cases {
        for code in &codes {
            assert_eq!(
                outcome(&app, &scanner, code, door).await,
                expected,
                "{code}"
            );
        }
    }
    assert_eq!(admitted_tickets(&app), 2, "no refusal admitted anyone");

    // A rotating event: its static codes are refused, its paper codes admit.
    let event = app
        .post_expecting(
            "/api/v1/events",
            &json!({"name": "Giselle", "venue": "Opera", "time_zone": "UTC",
                "barcode": "rotating"}),
            StatusCode::CREATED,
        )
        .await;
    let rotating = app
        .post_expecting(
            &format!("/api/v1/events/{}/performances", event["id"]),
            &json!({"starts_at": Utc::now() + Duration::hours(1), "capacity": 5}),
            StatusCode::CREATED,
        )
        .await["id"]
        .as_i64()
        .unwrap();
    for first in [0, 1] {
        let ticket = app.issue_ticket(rotating).await;
        let claims = claims_of(&app, &ticket);
        for code in both(&app, &claims) {
            assert_eq!(
                outcome(&app, &scanner, &code, None).await,
                "static_code_not_accepted"
            );
        }
        let paper = both(
            &app,
            &TicketClaims {
                paper: true,
                ..claims
            },
        );
        assert_eq!(
            outcome(&app, &scanner, &paper[first], None).await,
            "admitted"
        );
        assert_eq!(
            outcome(&app, &scanner, &paper[1 - first], None).await,
            "already_admitted"
        );
    }
    // The box office's paper code is a compact one.
    let ticket = app.issue_ticket(rotating).await;
    let paper = app
        .get_json(
            &format!("/api/v1/tickets/{}/paper-code", ticket["id"]),
            &app.admin_key,
        )
        .await;
    let paper = paper["token"].as_str().unwrap();
    assert!(paper.starts_with('E'), "{paper}");
    assert_eq!(version_of(paper).unwrap(), 5);
    assert_eq!(outcome(&app, &scanner, paper, None).await, "admitted");
}

/// Any character of a compact code changed is refused as not genuine (or, changed in the key
/// hint, as an unknown key), never admitted and never a server error; text shaped nearly like
/// one is not a ticket code. The genuine code still admits afterwards.
async fn a_tampered_compact_code_is_refused(app: TestApp) {
    let scanner = app.key(Role::Scanner);
    let performance = app.create_performance(10).await;
    let ticket = app.issue_ticket(performance).await;
    let token = ticket["token"].as_str().unwrap();
    let tampered = |at: usize| {
        let mut bytes = token.as_bytes().to_vec();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    // The key hint is the first three characters after the `E`.
    for at in [
        1,
        4,
        10,
        20,
        30,
        40,
        60,
        80,
        token.len() - 3,
        token.len() - 1,
    ] {
        let answer = outcome(&app, &scanner, &tampered(at), None).await;
        let expected: &[&str] = if at <= 3 {
            &["unknown_key", "invalid_signature"]
        } else {
            &["invalid_signature"]
        };
        assert!(
            expected.contains(&answer.as_str()),
            "character {at}: {answer}"
        );
    }
    // Cut to a length Base45 never gives (one more than a multiple of three after the `E`).
    let cut = match (token.len() - 1 + 2) % 3 {
        0 => 3,
        cut => cut,
    };
    let truncated = &token[..token.len() - cut];
    let lowercase = token.to_lowercase();
    let lowered = format!("E{}", &lowercase[1..]);
    for garbage in ["E", "EAB", truncated, &lowered, &format!("{token}{token}")] {
        assert_eq!(
            outcome(&app, &scanner, garbage, None).await,
            "malformed",
            "{garbage}"
        );
    }
    assert_eq!(admitted_tickets(&app), 0);
    assert_eq!(outcome(&app, &scanner, token, None).await, "admitted");
}

on_both_backends!(
    a_new_ticket_has_a_compact_code_in_a_version_5_qr,
    compact_and_old_codes_get_the_same_answers,
    a_tampered_compact_code_is_refused,
);

/// A Chrome DevTools Protocol command, sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct DevTools {
    command: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a WebDriver session");
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.command, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Cuts the browser's network (or gives it back), as a door losing its Wi-Fi.
async fn network(browser: &Client, online: bool) {
    browser
        .issue_cmd(DevTools {
            command: "Network.enable",
            params: json!({}),
        })
        .await
        .expect("Network.enable");
    browser
        .issue_cmd(DevTools {
            command: "Network.emulateNetworkConditions",
            params: json!({"offline": !online, "latency": 0,
                "downloadThroughput": -1, "uploadThroughput": -1}),
        })
        .await
        .expect("Network.emulateNetworkConditions");
}

/// Types a code into the scanner page's field and checks it.
async fn enter_token(browser: &Client, token: &str) {
    find(browser, "#token")
        .await
        .send_keys(token)
        .await
        .unwrap();
    find(browser, "#check").await.click().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_scanner_admits_compact_codes_and_old_ones() {
    within_limit(offline_scanner_admits_compact_codes_and_old_ones()).await;
}

/// With the network gone, the scanner page decides from its offline bundle: a compact code's
/// Ed25519 signature checked with WebCrypto admits, a second scan is already admitted, an old
/// JWT code still admits, a tampered compact code is not genuine; back online, the queue
/// uploads and the server has them admitted.
async fn offline_scanner_admits_compact_codes_and_old_ones() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let scanner = app.key(Role::Scanner);
    let performance = app.create_performance(10).await;
    let ada = app
        .issue_to(performance, "Ada Lovelace", "ada@example.org")
        .await;
    let grace = app
        .issue_to(performance, "Grace Hopper", "grace@example.org")
        .await;
    let ada_code = ada["token"].as_str().unwrap().to_string();
    let grace_old = app.old_jwt(grace["token"].as_str().unwrap());
    assert!(ada_code.starts_with('E') && grace_old.starts_with("eyJ"));

    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser.goto(&app.url("/scan")).await.unwrap();
    use_key(&browser, &scanner).await;
    wait_for_text(&browser, "#bundle", "tickets, updated").await;
    network(&browser, false).await;

    enter_token(&browser, &ada_code).await;
    wait_for_text(&browser, "#result-mode", "offline").await;
    assert_eq!(text(&browser, "#result-title").await, "Admitted");
    assert_eq!(text(&browser, "#result-holder").await, "Ada Lovelace");
    wait_for_exact_text(&browser, "#queue", "1").await;

    enter_token(&browser, &ada_code).await;
    wait_for_text(&browser, "#result-title", "already admitted").await;
    wait_for_exact_text(&browser, "#queue", "2").await;

    enter_token(&browser, &grace_old).await;
    wait_for_text(&browser, "#result-holder", "Grace Hopper").await;
    assert_eq!(text(&browser, "#result-title").await, "Admitted");
    wait_for_exact_text(&browser, "#queue", "3").await;

    let mut forged = ada_code.clone().into_bytes();
    let inside_signature = forged.len() - 20;
    forged[inside_signature] = if forged[inside_signature] == b'A' {
        b'B'
    } else {
        b'A'
    };
    enter_token(&browser, &String::from_utf8(forged).unwrap()).await;
    wait_for_text(&browser, "#result-title", "not a genuine ticket").await;
    wait_for_exact_text(&browser, "#queue", "4").await;
    assert_eq!(admitted_tickets(&app), 0, "nothing reached the server yet");

    network(&browser, true).await;
    wait_for_exact_text(&browser, "#queue", "0").await;
    assert_eq!(admitted_tickets(&app), 2, "Ada and Grace, admitted offline");
    browser.close().await.unwrap();
}
