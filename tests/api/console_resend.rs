//! Sending a ticket's confirmation again, for a patron who says it never came: through the API
//! and the patron page's button, a delivered confirmation goes out as a fresh copy once (a second
//! click while it is on its way is refused), the journey names who sent it, and a ticket that no
//! longer admits is refused.

use encore::domain::Role;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::console_events::Console;
use crate::helpers::{on_both_backends, touches, TestApp};

const ADA: &str = "ada@example.org";

fn resend_path(ticket: &Value) -> String {
    format!("/api/v1/tickets/{}/confirmation/resend", ticket["id"])
}

fn confirmations(app: &TestApp, ticket: &Value, status: &str) -> i64 {
    app.db.count(&format!(
        "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'confirmation' AND ticket_id = {} \
         AND status = '{status}'",
        ticket["id"]
    ))
}

/// Through the API: a delivered confirmation is queued afresh, once, and delivered again.
async fn a_delivered_confirmation_is_sent_again_once(app: TestApp) {
    let performance = app.create_performance(10).await;
    let ticket = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let worker = app.worker();
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    assert_eq!(confirmations(&app, &ticket, "sent"), 1);

    let again = app
        .post_expecting(&resend_path(&ticket), &json!({}), StatusCode::OK)
        .await;
    assert_eq!(again["kind"], "confirmation");
    assert_eq!(again["status"], "pending");
    assert_eq!(again["recipient"], ADA);

    // A second click while the copy is on its way sends nothing more.
    let response = app
        .post(&resend_path(&ticket), &app.admin_key, &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "email_on_its_way");
    assert_eq!(confirmations(&app, &ticket, "pending"), 1);

    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    assert_eq!(confirmations(&app, &ticket, "sent"), 2);

    let history = app
        .get_json(
            &format!("/api/v1/tickets/{}/history", ticket["id"]),
            &app.admin_key,
        )
        .await;
    let queued = touches(&history, "email_queued");
    assert_eq!(queued.len(), 2, "{history}");
    assert!(
        queued[0]["detail"].get("by").is_none(),
        "the first was queued by the issue, named there: {history}"
    );
    let by = queued[1]["detail"]["by"].as_str().unwrap_or_default();
    assert!(
        by.contains("(admin)"),
        "the copy names its sender: {history}"
    );
}

/// A canceled ticket no longer admits: its confirmation is not sent again.
async fn a_ticket_that_no_longer_admits_is_refused(app: TestApp) {
    let performance = app.create_performance(10).await;
    let ticket = app.issue_to(performance, "Ada Lovelace", ADA).await;
    app.worker().deliver_due().await.unwrap();
    app.post_expecting(
        &format!("/api/v1/tickets/{}/cancel", ticket["id"]),
        &json!({"reason": "The holder asked", "refund_to_credit": false}),
        StatusCode::OK,
    )
    .await;
    let response = app
        .post(&resend_path(&ticket), &app.admin_key, &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "ticket_not_valid", "{problem}");
    assert_eq!(confirmations(&app, &ticket, "pending"), 0);

    let missing = app
        .post(
            "/api/v1/tickets/999999/confirmation/resend",
            &app.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// On the patron page: the button appears once the confirmation was delivered, sends it again
/// and the journey shows the staff member who did.
async fn the_patron_page_sends_a_delivered_confirmation_again(app: TestApp) {
    let performance = app.create_performance(10).await;
    let ticket = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let console = Console::sign_in(&app, "clerk@box-office.example", Role::BoxOffice).await;
    let patron_page = format!("/box-office/patrons/{ADA}");
    let action = format!(
        "/box-office/patrons/{ADA}/tickets/{}/confirmation/resend",
        ticket["id"]
    );

    let page = console.page(&patron_page).await;
    assert!(
        !page.contains(&action),
        "not offered while the confirmation is on its way: {page}"
    );
    app.worker().deliver_due().await.unwrap();
    let page = console.page(&patron_page).await;
    assert!(page.contains(&format!(r#"action="{action}""#)), "{page}");

    let response = console.post(&action, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = response.headers()[LOCATION].to_str().unwrap().to_string();
    let page = console.page(&back).await;
    assert!(
        page.contains("has its confirmation on its way to the holder again"),
        "{page}"
    );
    assert!(page.contains("Confirmation on its way"), "{page}");
    assert!(
        page.contains(
            "Email queued: confirmation to ada@example.org — by Ada Lovelace (box office)"
        ),
        "{page}"
    );
    assert_eq!(confirmations(&app, &ticket, "pending"), 1);

    // Posted again before it went: refused as the API refuses it, nothing more queued.
    let again = console.post(&action, &[]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("email_on_its_way"));
    assert_eq!(confirmations(&app, &ticket, "pending"), 1);
}

on_both_backends!(
    a_delivered_confirmation_is_sent_again_once,
    a_ticket_that_no_longer_admits_is_refused,
    the_patron_page_sends_a_delivered_confirmation_again,
);
