//! A performance's arrivals in the console, under the staff session: who came in at which
//! gate, who is still to come, and the door's refusals by reason — the same figures as the
//! API's arrivals, which now also says who is still to arrive.

use encore::domain::Role;
use reqwest::StatusCode;

use crate::console_events::Console;
use crate::helpers::{on_both_backends, TestApp};

/// The text of the `<dd>` with this id.
fn figure(page: &str, id: &str) -> String {
    let start = page
        .find(&format!(r#"<dd id="{id}">"#))
        .unwrap_or_else(|| panic!("no figure {id}: {page}"));
    let rest = &page[start..];
    rest[rest.find('>').unwrap() + 1..rest.find("</dd>").unwrap()].to_string()
}

async fn the_arrivals_page_shows_the_door_under_the_session(app: TestApp) {
    let performance = app.create_performance(10).await;
    let tickets = app.issue_bulk(performance, 4).await;
    let scanner = app.key(Role::Scanner);
    let token = |i: usize| tickets[i]["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.scan(&scanner, &token(0), "north").await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.scan(&scanner, &token(1), "south").await.0,
        StatusCode::OK
    );
    let (_, twice) = app.scan(&scanner, &token(0), "south").await;
    assert_eq!(twice["outcome"], "already_admitted");
    app.post_expecting(
        &format!("/api/v1/tickets/{}/cancel", tickets[3]["id"]),
        &serde_json::json!({"reason": "The holder asked", "refund_to_credit": false}),
        StatusCode::OK,
    )
    .await;
    let (_, canceled) = app.scan(&scanner, &token(3), "north").await;
    assert_eq!(canceled["outcome"], "canceled");

    let api = app
        .get_json(
            &format!("/api/v1/performances/{performance}/arrivals"),
            &app.admin_key,
        )
        .await;
    assert_eq!(api["admitted"], 2);
    assert_eq!(api["still_to_arrive"], 1, "{api}");

    let console = Console::sign_in(&app, "clerk@box-office.example", Role::BoxOffice).await;
    let header = console
        .page(&format!("/box-office/performances/{performance}"))
        .await;
    let path = format!("/box-office/performances/{performance}/arrivals");
    assert!(header.contains(&format!(r#"href="{path}""#)), "{header}");
    assert_eq!(figure(&header, "arrived"), "2");

    let response = console.get(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let page = response.text().await.unwrap();
    assert_eq!(figure(&page, "admitted"), "2");
    assert_eq!(figure(&page, "still-to-arrive"), "1");
    assert_eq!(figure(&page, "issued"), api["tickets_issued"].to_string());
    assert_eq!(figure(&page, "capacity"), "10");
    for gate in [
        r#"<th scope="row">north</th><td class="num">1</td>"#,
        r#"<th scope="row">south</th><td class="num">1</td>"#,
    ] {
        assert!(page.contains(gate), "{gate} in {page}");
    }
    for refusal in [
        r#"<th scope="row">already admitted</th><td class="num">1</td>"#,
        r#"<th scope="row">canceled</th><td class="num">1</td>"#,
    ] {
        assert!(page.contains(refusal), "{refusal} in {page}");
    }
    assert!(
        !page.contains(r#"<th scope="row">admitted</th>"#),
        "admissions are not refusals: {page}"
    );
    assert!(
        page.contains(r#"<meter min="0" max="2" value="2""#),
        "{page}"
    );
}

async fn the_arrivals_page_needs_a_session_and_a_performance(app: TestApp) {
    let performance = app.create_performance(10).await;
    let path = format!("/box-office/performances/{performance}/arrivals");
    let anonymous = crate::console_events::client()
        .get(app.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "to the sign-in");

    let console = Console::sign_in(&app, "clerk@box-office.example", Role::BoxOffice).await;
    let missing = console
        .get("/box-office/performances/999999/arrivals")
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let empty = console.page(&path).await;
    assert!(empty.contains("Nobody has been admitted yet."), "{empty}");
    assert!(empty.contains("No scan has been refused."), "{empty}");
}

on_both_backends!(
    the_arrivals_page_shows_the_door_under_the_session,
    the_arrivals_page_needs_a_session_and_a_performance,
);
