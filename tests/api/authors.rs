//! Every change records who made it: the history names the API key, the patron, the friend or
//! the operator behind each issue, exchange, offer, claim and cancellation (issue 16).

use chrono::{Duration, Utc};
use encore::domain::ids::TicketId;
use encore::domain::Role;
use encore::service::staff;
use encore::tokens::{LinkClaims, LinkPurpose};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, run_cli, ticket_request, touches, TestApp};

fn link(app: &TestApp, ticket_id: i64, generation: i32, purpose: LinkPurpose) -> String {
    let claims = LinkClaims {
        ticket_id: TicketId(ticket_id),
        generation,
        purpose,
        exp: (Utc::now() + Duration::hours(1)).timestamp(),
    };
    app.encore.keys.sign(&claims).unwrap()
}

async fn history(app: &TestApp, id: i64) -> Value {
    app.get_json(&format!("/api/v1/tickets/{id}/history"), &app.admin_key)
        .await
}

/// The `by` of the one touch `what` of a history.
fn by<'a>(history: &'a Value, what: &str) -> &'a str {
    let found = touches(history, what);
    assert_eq!(found.len(), 1, "one {what} touch: {history}");
    found[0]["detail"]["by"]
        .as_str()
        .unwrap_or_else(|| panic!("{what} names its author: {history}"))
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn each_change_names_its_author(app: TestApp) {
    let till = staff::create_key(&app.encore.db, "till-2", Role::BoxOffice)
        .unwrap()
        .1;
    let till_name = "API key “till-2” (box office)";
    let performance = app
        .create_performance_at(Utc::now() + Duration::days(3), 20)
        .await;
    let issue = |name: &str, email: &str| {
        let body = ticket_request(name, email);
        let path = format!("/api/v1/performances/{performance}/tickets");
        let till = till.clone();
        let app = &app;
        async move {
            let response = app.post(&path, &till, &body).await;
            assert_eq!(response.status(), StatusCode::CREATED);
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap()
        }
    };

    // Issued by the till; exchanged into credit by the till; canceled by the till.
    let exchanged = issue("Ada Lovelace", "ada@example.org").await;
    let response = app
        .post(
            &format!("/api/v1/tickets/{exchanged}/exchange"),
            &till,
            &json!({"into": "credit"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let told = history(&app, exchanged).await;
    assert_eq!(by(&told, "issued"), till_name);
    assert_eq!(by(&told, "exchanged"), till_name);

    let canceled = issue("Alan Turing", "alan@example.org").await;
    let response = app
        .post(
            &format!("/api/v1/tickets/{canceled}/cancel"),
            &till,
            &json!({"reason": "Patron asked", "refund_to_credit": true}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(by(&history(&app, canceled).await, "canceled"), till_name);

    // The holder offers hers from her page and takes it back; offers again; the friend claims.
    let offered = issue("Grace Hopper", "grace@example.org").await;
    let page = |generation: i32, path: &str| {
        app.url(&format!(
            "/t/{}{path}",
            link(&app, offered, generation, LinkPurpose::View)
        ))
    };
    let sent = no_redirects()
        .post(page(1, "/transfer"))
        .form(&[("name", "Katherine Johnson"), ("email", "kj@example.org")])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let taken_back = no_redirects()
        .post(page(1, "/transfer/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(taken_back.status(), StatusCode::SEE_OTHER);
    let told = history(&app, offered).await;
    assert_eq!(by(&told, "issued"), till_name);
    assert_eq!(by(&told, "transfer_offered"), "Grace Hopper (patron)");
    assert_eq!(by(&told, "transfer_canceled"), "Grace Hopper (patron)");

    let response = app
        .post(
            &format!("/api/v1/tickets/{offered}/transfer"),
            &till,
            &json!({"name": "Katherine Johnson", "email": "kj@example.org"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let claimed = no_redirects()
        .post(app.url(&format!(
            "/claim/{}",
            link(&app, offered, 2, LinkPurpose::Claim)
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(claimed.status(), StatusCode::SEE_OTHER);
    let told = history(&app, offered).await;
    let offers = touches(&told, "transfer_offered");
    assert_eq!(offers.len(), 2, "{told}");
    assert_eq!(offers[1]["detail"]["by"], till_name, "{told}");
    assert_eq!(by(&told, "transfer_claimed"), "Katherine Johnson (patron)");
    let friends_id = touches(&told, "transfer_claimed")[0]["detail"]["claimed_ticket_id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        by(&history(&app, friends_id).await, "issued"),
        "Katherine Johnson (patron)"
    );

    // The holder exchanges from her page: her own name.
    let own = issue("Mary Jackson", "mary@example.org").await;
    let exchanged_by_holder = no_redirects()
        .post(app.url(&format!(
            "/t/{}/exchange",
            link(&app, own, 1, LinkPurpose::View)
        )))
        .form(&[("into", "credit")])
        .send()
        .await
        .unwrap();
    assert_eq!(exchanged_by_holder.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        by(&history(&app, own).await, "exchanged"),
        "Mary Jackson (patron)"
    );

    // The patron's page tells the same: her exchange and by whom.
    let patron = app
        .get_json("/api/v1/patrons/ada@example.org", &app.admin_key)
        .await;
    assert_eq!(by(&patron, "exchanged"), till_name);
}

async fn a_performance_cancellation_names_who_started_it(app: TestApp) {
    let performance = app.create_performance(10).await;
    let ids: Vec<i64> = app
        .issue_bulk(performance, 3)
        .await
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let (code, _, stderr) = run_cli(
        &app.db.url,
        &[
            "performances",
            "cancel",
            &performance.to_string(),
            "--reason",
            "Storm",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    for id in ids {
        let told = history(&app, id).await;
        assert_eq!(by(&told, "canceled"), "an operator (command line)");
    }
}

on_both_backends!(
    each_change_names_its_author,
    a_performance_cancellation_names_who_started_it
);
