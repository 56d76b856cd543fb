//! The console's Find a patron and patron pages, over HTTP against the running app: the search
//! (a name's prefix, a typo, the as-you-type fragment), the patron's tickets, credit and journey,
//! and each action on a ticket through its form — exchange into credit, cancel with a refund,
//! send a failed confirmation again, transfer to a friend — with a refusal shown as the API
//! gives it, and a form without its CSRF token refused (403) with nothing changed.

use chrono::{Duration, Utc};
use encore::domain::staff::Password;
use encore::domain::Role;
use encore::service::accounts;
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{on_both_backends, on_each_backend, Backend, TestApp};
use crate::smtp::SmtpServer;

const PASSWORD: &str = "correct horse battery staple";
const ADA: &str = "ada@example.org";
const ADA_PAGE: &str = "/box-office/patrons/ada@example.org";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A box-office account, signed in: the session cookie's token.
async fn box_office_session(app: &TestApp) -> String {
    let encore = app.encore.clone();
    tokio::task::spawn_blocking(move || {
        let password = Password::parse(PASSWORD).unwrap();
        accounts::create_account(
            &encore,
            "clerk@box-office.example",
            "Charles Babbage",
            Role::BoxOffice,
            Some(&password),
        )
        .unwrap();
    })
    .await
    .unwrap();
    let response = client()
        .post(app.url("/box-office/login"))
        .form(&[
            ("email", "clerk@box-office.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
    cookie
        .strip_prefix("encore_staff=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_string()
}

async fn get_with(app: &TestApp, path: &str, session: &str) -> Response {
    client()
        .get(app.url(path))
        .header("Cookie", format!("encore_staff={session}"))
        .send()
        .await
        .unwrap()
}

async fn page_of(app: &TestApp, path: &str, session: &str) -> String {
    let response = get_with(app, path, session).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.unwrap()
}

async fn post_with(app: &TestApp, path: &str, session: &str, form: &[(&str, &str)]) -> Response {
    client()
        .post(app.url(path))
        .header("Cookie", format!("encore_staff={session}"))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The CSRF token in a page's forms.
fn csrf_of(page: &str) -> String {
    let start = page.find(r#"name="csrf" value=""#).expect("a CSRF field") + 19;
    page[start..][..page[start..].find('"').unwrap()].to_string()
}

/// Posts one of the patron page's forms, with the page's CSRF token.
async fn act(app: &TestApp, session: &str, path: &str, fields: &[(&str, &str)]) -> Response {
    let csrf = csrf_of(&page_of(app, ADA_PAGE, session).await);
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    post_with(app, path, session, &form).await
}

fn ticket_path(ticket: &Value, action: &str) -> String {
    format!("{ADA_PAGE}/tickets/{}/{action}", ticket["id"])
}

/// Asserts a 303 back to Ada's page with the notice `done`; the page it leads to.
async fn done(
    app: &TestApp,
    session: &str,
    response: Response,
    done: &str,
    ticket: &Value,
) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_string();
    assert_eq!(
        location,
        format!("{ADA_PAGE}?done={done}&ticket={}", ticket["id"])
    );
    page_of(app, &location, session).await
}

/// Three days ahead: far from any change's cut-off.
async fn performance(app: &TestApp) -> i64 {
    app.create_performance_at(Utc::now() + Duration::days(3), 50)
        .await
}

async fn ticket_json(app: &TestApp, ticket: &Value) -> Value {
    app.get_json(&format!("/api/v1/tickets/{}", ticket["id"]), &app.admin_key)
        .await
}

async fn credit_of(app: &TestApp, email: &str) -> Value {
    app.get_json(&format!("/api/v1/patrons/{email}/credit"), &app.admin_key)
        .await
}

/// What the ticket's section of the patron page says.
fn ticket_section<'a>(page: &'a str, ticket: &Value) -> &'a str {
    let start = page
        .find(&format!(r#"id="ticket-{}""#, ticket["id"]))
        .expect("the ticket on the page");
    let section = &page[start..];
    &section[..section.find("</section>").unwrap()]
}

fn status_of<'a>(page: &'a str, ticket: &Value) -> &'a str {
    let section = ticket_section(page, ticket);
    let start = section.find(r#"<dd class="status">"#).unwrap() + 19;
    &section[start..][..section[start..].find('<').unwrap()]
}

async fn find_a_patron_by_a_name_prefix_and_by_a_typo(app: TestApp) {
    let performance = performance(&app).await;
    app.issue_to(performance, "Ada Lovelace", ADA).await;
    app.issue_to(performance, "Grace Hopper", "grace@example.org")
        .await;
    let session = box_office_session(&app).await;

    // Without a session, the search sends the browser to sign in.
    let anonymous = client()
        .get(app.url("/box-office/patrons?q=Love"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()[LOCATION], "/box-office/login");

    // The empty page: a labelled search box, and this page alone may run our own script.
    let empty = get_with(&app, "/box-office/patrons", &session).await;
    assert_eq!(empty.status(), StatusCode::OK);
    let csp = empty.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe") && !csp.contains("http"), "{csp}");
    let empty = empty.text().await.unwrap();
    assert!(empty.contains(r#"<label for="q">"#), "{empty}");
    assert!(empty.contains(r#"<form method="get" action="/box-office/patrons""#));
    assert!(empty.contains(r#"aria-live="polite""#));
    assert!(empty.contains(r#"<script src="/assets/patrons.js" defer></script>"#));
    let today = get_with(&app, "/box-office/", &session).await;
    let csp = today.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        !csp.contains("script-src"),
        "only the search page runs script: {csp}"
    );
    let script = client()
        .get(app.url("/assets/patrons.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script
        .text()
        .await
        .unwrap()
        .contains("/box-office/patrons/results?q="));

    // A prefix of the last name finds Ada, and only her, as a link to her page.
    let found = page_of(&app, "/box-office/patrons?q=Love", &session).await;
    assert!(
        found.contains(&format!(r#"<a href="{ADA_PAGE}">Ada Lovelace</a>"#)),
        "{found}"
    );
    assert!(found.contains("1 patron found."), "{found}");
    assert!(!found.contains("Grace Hopper"), "{found}");
    assert!(
        found.contains(r#"value="Love""#),
        "the box keeps what was typed"
    );

    // A typo in the last word still finds her; the fragment the script reads says so too.
    let typo = page_of(&app, "/box-office/patrons?q=lovelase", &session).await;
    assert!(
        typo.contains(&format!(r#"<a href="{ADA_PAGE}">Ada Lovelace</a>"#)),
        "{typo}"
    );
    assert!(typo.contains("close match"), "{typo}");
    let fragment = page_of(&app, "/box-office/patrons/results?q=hopp", &session).await;
    assert!(
        !fragment.contains("<html"),
        "a fragment, not a page: {fragment}"
    );
    assert!(
        fragment.contains(r#"<a href="/box-office/patrons/grace@example.org">Grace Hopper</a>"#),
        "{fragment}"
    );
    assert!(fragment.contains(r#"id="result-count""#) && fragment.contains("1 patron found."));

    // Too little, too much, or nobody: said in words, never an error page.
    let short = page_of(&app, "/box-office/patrons/results?q=a", &session).await;
    assert!(short.contains("Type at least 2 characters"), "{short}");
    let long = "x".repeat(500);
    let long = page_of(&app, &format!("/box-office/patrons?q={long}"), &session).await;
    assert!(long.contains("Not searched"), "{long}");
    let nobody = page_of(&app, "/box-office/patrons/results?q=zzzz", &session).await;
    assert!(nobody.contains("No patron found."), "{nobody}");
}

async fn the_patron_page_shows_tickets_credit_and_journey(app: TestApp) {
    let performance = performance(&app).await;
    let first = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let second = app.issue_to(performance, "Ada Lovelace", ADA).await;
    // Exchanged into credit through the API: the page shows the same state.
    let exchanged = app
        .post(
            &format!("/api/v1/tickets/{}/exchange", first["id"]),
            &app.admin_key,
            &json!({"into": "credit"}),
        )
        .await;
    assert_eq!(exchanged.status(), StatusCode::OK);
    let session = box_office_session(&app).await;

    let page = page_of(&app, ADA_PAGE, &session).await;
    assert!(page.contains("<h1>Ada Lovelace</h1>"), "{page}");
    for ticket in [&first, &second] {
        let section = ticket_section(&page, ticket);
        assert!(section.contains("Hamlet"), "{section}");
        assert!(section.contains("The Globe"), "{section}");
        assert!(section.contains("45.00 EUR"), "{section}");
        assert!(section.contains("Unreserved"), "{section}");
    }
    assert_eq!(status_of(&page, &first), "Exchanged");
    assert_eq!(status_of(&page, &second), "Valid");
    // An exchanged ticket offers nothing more; a valid one offers every action.
    let first_section = ticket_section(&page, &first);
    assert!(!first_section.contains("<form"), "{first_section}");
    assert!(
        first_section.contains("This ticket is exchanged"),
        "{first_section}"
    );
    let second_section = ticket_section(&page, &second);
    for action in ["exchange", "transfer", "cancel"] {
        assert!(
            second_section.contains(&format!("/tickets/{}/{action}\"", second["id"])),
            "{action}: {second_section}"
        );
    }
    assert!(second_section.contains(r#"<label for="into-"#));
    assert!(
        page.contains("Balance: <strong>45.00 EUR</strong>"),
        "{page}"
    );
    let ledger = &page[page.find(r#"id="ledger""#).expect("the ledger")..];
    assert!(ledger.contains("value of an exchanged ticket"), "{ledger}");
    let journey = &page[page.find(r#"id="journey""#).expect("the journey")..];
    assert!(
        journey.contains("Issued to Ada Lovelace (ada@example.org), 45.00 EUR"),
        "{journey}"
    );
    assert!(
        journey.contains("Exchanged: 45.00 EUR credited"),
        "{journey}"
    );
    assert!(
        journey.contains("Email queued: confirmation to ada@example.org"),
        "{journey}"
    );

    // Someone with nothing is an empty page; something that is no email address is no page.
    let stranger = page_of(&app, "/box-office/patrons/nobody%40example.org", &session).await;
    assert!(stranger.contains("No tickets in this name."), "{stranger}");
    let not_email = get_with(&app, "/box-office/patrons/not-an-email", &session).await;
    assert_eq!(not_email.status(), StatusCode::NOT_FOUND);
    let encoded = get_with(&app, "/box-office/patrons/%ff%fe", &session).await;
    assert_eq!(encoded.status(), StatusCode::NOT_FOUND);
}

async fn exchange_a_ticket_into_credit_through_the_form(app: TestApp) {
    let performance = performance(&app).await;
    let ticket = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let session = box_office_session(&app).await;

    let response = act(
        &app,
        &session,
        &ticket_path(&ticket, "exchange"),
        &[("into", "credit")],
    )
    .await;
    let page = done(&app, &session, response, "exchanged-credit", &ticket).await;
    assert!(
        page.contains(&format!(
            "Ticket #{} was exchanged into credit.",
            ticket["id"]
        )),
        "{page}"
    );
    assert_eq!(status_of(&page, &ticket), "Exchanged");
    assert!(
        page.contains("Balance: <strong>45.00 EUR</strong>"),
        "{page}"
    );
    assert_eq!(ticket_json(&app, &ticket).await["status"], "exchanged");
    let credit = credit_of(&app, ADA).await;
    assert_eq!(
        credit["balances"],
        json!([{"currency": "EUR", "balance_minor": 4500}])
    );
}

/// Into another performance of the event: the select offers the ones the exchange service
/// offers, and the new ticket is paid with the old one's value.
async fn exchange_a_ticket_into_another_performance_through_the_form(app: TestApp) {
    let event = app.create_event().await;
    let mut performances = Vec::new();
    for days in [3, 4] {
        let response = app
            .post(
                &format!("/api/v1/events/{event}/performances"),
                &app.admin_key,
                &json!({"starts_at": Utc::now() + Duration::days(days), "capacity": 10,
                        "price_minor": 4000, "currency": "EUR"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        performances.push(
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let ticket = app.issue_to(performances[0], "Ada Lovelace", ADA).await;
    let session = box_office_session(&app).await;

    let page = page_of(&app, ADA_PAGE, &session).await;
    let section = ticket_section(&page, &ticket);
    let option = format!(r#"<option value="{}">Hamlet · "#, performances[1]);
    assert!(section.contains(&option), "{section}");
    assert!(section.contains("(40.00 EUR)</option>"), "{section}");
    assert!(!section.contains(&format!(r#"<option value="{}">"#, performances[0])));

    let target = performances[1].to_string();
    let response = act(
        &app,
        &session,
        &ticket_path(&ticket, "exchange"),
        &[("into", &target)],
    )
    .await;
    let page = done(&app, &session, response, "exchanged-performance", &ticket).await;
    assert_eq!(status_of(&page, &ticket), "Exchanged");
    assert!(
        page.contains("Balance: <strong>5.00 EUR</strong>"),
        "{page}"
    );
    let new_id = app.db.count(&format!(
        "SELECT id AS n FROM tickets WHERE replaces_ticket_id = {}",
        ticket["id"]
    ));
    let new_ticket = json!({"id": new_id});
    assert_eq!(status_of(&page, &new_ticket), "Valid");
    let fresh = ticket_json(&app, &new_ticket).await;
    assert_eq!(fresh["performance_id"], performances[1]);
}

async fn cancel_a_ticket_with_a_refund_to_credit(app: TestApp) {
    let performance = performance(&app).await;
    let kept = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let ticket = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let session = box_office_session(&app).await;

    // No reason: refused as the API refuses it, nothing changed.
    let refused = act(
        &app,
        &session,
        &ticket_path(&ticket, "cancel"),
        &[("reason", " "), ("refund", "credit")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("<code>validation_failed</code>"));
    assert_eq!(ticket_json(&app, &ticket).await["status"], "valid");

    let response = act(
        &app,
        &session,
        &ticket_path(&ticket, "cancel"),
        &[("reason", "The holder asked"), ("refund", "credit")],
    )
    .await;
    let page = done(&app, &session, response, "canceled", &ticket).await;
    assert_eq!(status_of(&page, &ticket), "Canceled");
    assert_eq!(status_of(&page, &kept), "Valid");
    assert!(
        page.contains(
            "Canceled: The holder asked — 45.00 EUR credited — by Charles Babbage (box office)"
        ),
        "{page}"
    );
    assert!(page.contains("refund of a cancellation"), "{page}");
    assert_eq!(ticket_json(&app, &ticket).await["status"], "canceled");
    assert_eq!(ticket_json(&app, &kept).await["status"], "valid");
    let credit = credit_of(&app, ADA).await;
    assert_eq!(
        credit["balances"],
        json!([{"currency": "EUR", "balance_minor": 4500}])
    );
    assert_eq!(credit["ledger"][0]["reason"], "cancel_refund");
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'cancellation' AND ticket_id = {}",
            ticket["id"]
        )),
        1,
        "the holder is emailed"
    );
}

/// A confirmation the mail server rejected for good is offered again on the page; sending it
/// again puts it back in line, and the server gets it.
async fn resend_a_failed_confirmation(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = TestApp::spawn_with(backend, move |c| c.smtp_url = Some(url)).await;
    let performance = performance(&app).await;
    let ticket = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let worker = app.worker();
    smtp.reject_recipients(true);
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    smtp.reject_recipients(false);
    assert!(smtp.messages().is_empty());
    let session = box_office_session(&app).await;

    let page = page_of(&app, ADA_PAGE, &session).await;
    let section = ticket_section(&page, &ticket);
    assert!(section.contains("Confirmation failed"), "{section}");
    let email_id = app.db.count(&format!(
        "SELECT id AS n FROM outbox WHERE kind = 'confirmation' AND ticket_id = {}",
        ticket["id"]
    ));
    let resend = ticket_path(&ticket, &format!("emails/{email_id}/resend"));
    assert!(
        section.contains(&format!(r#"action="{resend}""#)),
        "{section}"
    );
    assert!(section.contains("Send the confirmation again"), "{section}");

    let response = act(&app, &session, &resend, &[]).await;
    let page = done(&app, &session, response, "resent", &ticket).await;
    assert!(
        ticket_section(&page, &ticket).contains("Confirmation on its way"),
        "{page}"
    );
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    let messages = smtp.wait_for(1).await;
    assert_eq!(messages.len(), 1, "the mail server gains the confirmation");
    let page = page_of(&app, ADA_PAGE, &session).await;
    let section = ticket_section(&page, &ticket);
    assert!(section.contains("Confirmation sent"), "{section}");
    assert!(
        !section.contains(&format!(r#"action="{resend}""#)),
        "a sent email is not put back in line: {section}"
    );
    assert!(
        section.contains("/confirmation/resend"),
        "a sent confirmation is offered as a fresh copy: {section}"
    );

    // Sending it again now is refused as the API refuses it.
    let again = act(&app, &session, &resend, &[]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again
        .text()
        .await
        .unwrap()
        .contains("<code>email_not_failed</code>"));
}

async fn transfer_a_ticket_to_a_friend(app: TestApp) {
    let performance = performance(&app).await;
    let ticket = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let session = box_office_session(&app).await;

    let response = act(
        &app,
        &session,
        &ticket_path(&ticket, "transfer"),
        &[("name", "Grace Hopper"), ("email", "grace@example.org")],
    )
    .await;
    let page = done(&app, &session, response, "transferred", &ticket).await;
    assert_eq!(status_of(&page, &ticket), "On offer to Grace Hopper");
    assert!(
        page.contains(
            "Offered to Grace Hopper (grace@example.org) by Ada Lovelace \
             — by Charles Babbage (box office)"
        ),
        "{page}"
    );
    assert_eq!(ticket_json(&app, &ticket).await["status"], "transferred");
    let offers = app
        .get_json(
            &format!("/api/v1/tickets/{}/transfers", ticket["id"]),
            &app.admin_key,
        )
        .await;
    assert_eq!(offers[0]["to_email"], "grace@example.org");
    assert_eq!(offers[0]["status"], "offered");
    assert_eq!(
        app.db.count("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'transfer_offer' AND recipient = 'grace@example.org'"),
        1
    );
}

/// The same refusal as the API: exchanging an exchanged ticket, an unknown ticket, a bad choice.
async fn a_refused_action_shows_the_apis_code_and_message(app: TestApp) {
    let performance = performance(&app).await;
    let ticket = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let session = box_office_session(&app).await;
    let path = ticket_path(&ticket, "exchange");
    let first = act(&app, &session, &path, &[("into", "credit")]).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);

    let again = act(&app, &session, &path, &[("into", "credit")]).await;
    let status = again.status();
    let page = again.text().await.unwrap();
    let api = app
        .post(
            &format!("/api/v1/tickets/{}/exchange", ticket["id"]),
            &app.admin_key,
            &json!({"into": "credit"}),
        )
        .await;
    assert_eq!(status, api.status());
    let api: Value = api.json().await.unwrap();
    assert_eq!(api["code"], "ticket_not_valid");
    assert!(
        page.contains(&format!("<code>{}</code>", api["code"].as_str().unwrap())),
        "{page}"
    );
    assert!(page.contains(api["message"].as_str().unwrap()), "{page}");
    assert!(page.contains(r#"role="alert""#));
    assert!(
        page.contains("<h1>Ada Lovelace</h1>"),
        "the patron page again: {page}"
    );
    let credit = credit_of(&app, ADA).await;
    assert_eq!(
        credit["balances"][0]["balance_minor"], 4500,
        "credited once"
    );

    // An unknown ticket, a performance that is no target, a choice that is neither: the API's
    // answers again; never a 500.
    let unknown = act(
        &app,
        &session,
        &format!("{ADA_PAGE}/tickets/999999/exchange"),
        &[("into", "credit")],
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown
        .text()
        .await
        .unwrap()
        .contains("<code>not_found</code>"));
    let other = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let target = act(
        &app,
        &session,
        &ticket_path(&other, "exchange"),
        &[("into", "424242")],
    )
    .await;
    assert_eq!(target.status(), StatusCode::CONFLICT);
    assert!(target
        .text()
        .await
        .unwrap()
        .contains("<code>not_an_exchange_target</code>"));
    let nonsense = act(
        &app,
        &session,
        &ticket_path(&other, "exchange"),
        &[("into", "everything")],
    )
    .await;
    assert_eq!(nonsense.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nonsense
        .text()
        .await
        .unwrap()
        .contains("<code>validation_failed</code>"));
    let to_self = act(
        &app,
        &session,
        &ticket_path(&other, "transfer"),
        &[("name", "Ada"), ("email", ADA)],
    )
    .await;
    assert_eq!(to_self.status(), StatusCode::CONFLICT);
    assert!(to_self
        .text()
        .await
        .unwrap()
        .contains("<code>transfer_to_self</code>"));
    let bad_email = act(
        &app,
        &session,
        &ticket_path(&other, "transfer"),
        &[("name", "Grace"), ("email", "grace")],
    )
    .await;
    assert_eq!(bad_email.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let not_a_ticket = act(
        &app,
        &session,
        &format!("{ADA_PAGE}/tickets/abc/cancel"),
        &[("reason", "x"), ("refund", "none")],
    )
    .await;
    assert_eq!(not_a_ticket.status(), StatusCode::NOT_FOUND);
    assert_eq!(ticket_json(&app, &other).await["status"], "valid");
}

async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing(app: TestApp) {
    let performance = performance(&app).await;
    let ticket = app.issue_to(performance, "Ada Lovelace", ADA).await;
    let session = box_office_session(&app).await;
    let path = ticket_path(&ticket, "exchange");

    let missing = post_with(&app, &path, &session, &[("into", "credit")]).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let wrong = post_with(
        &app,
        &path,
        &session,
        &[("csrf", "forged"), ("into", "credit")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let cancel = post_with(
        &app,
        &ticket_path(&ticket, "cancel"),
        &session,
        &[("reason", "x"), ("refund", "credit")],
    )
    .await;
    assert_eq!(cancel.status(), StatusCode::FORBIDDEN);
    // Without a session at all, even with a token from elsewhere.
    let csrf = csrf_of(&page_of(&app, ADA_PAGE, &session).await);
    let anonymous = client()
        .post(app.url(&path))
        .form(&[("csrf", csrf.as_str()), ("into", "credit")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);

    assert_eq!(ticket_json(&app, &ticket).await["status"], "valid");
    assert_eq!(credit_of(&app, ADA).await["balances"], json!([]));
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM outbox WHERE kind <> 'confirmation'"),
        0
    );
}

on_both_backends!(
    find_a_patron_by_a_name_prefix_and_by_a_typo,
    the_patron_page_shows_tickets_credit_and_journey,
    exchange_a_ticket_into_credit_through_the_form,
    exchange_a_ticket_into_another_performance_through_the_form,
    cancel_a_ticket_with_a_refund_to_credit,
    transfer_a_ticket_to_a_friend,
    a_refused_action_shows_the_apis_code_and_message,
    a_form_without_its_csrf_token_is_refused_and_changes_nothing,
);

on_each_backend!(with_smtp: resend_a_failed_confirmation);
