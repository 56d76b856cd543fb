//! The console's guards as a browser meets them, on SQLite and PostgreSQL: the session cookie's
//! attributes as Chromium stores them, a form whose CSRF token was tampered with (403, nothing
//! changes), the sign-in throttle's 429 page, a scanner account's 403 page, and a session
//! revoked elsewhere sending the next page to the sign-in form. axe-core checks the refusal
//! pages too: a refused member must still be able to read why.

use fantoccini::key::Key;
use fantoccini::Client;

use encore::domain::staff::Password;
use encore::domain::Role;
use encore::service::accounts;

use crate::browser::{find, wait_for_text, Chromedriver};
use crate::console_browser::assert_accessible;
use crate::helpers::{on_both_backends, TestApp};

const PASSWORD: &str = "correct horse battery staple";

fn account(app: &TestApp, email: &str, name: &str, role: Role) {
    accounts::create_account(
        &app.encore,
        email,
        name,
        role,
        Some(&Password::parse(PASSWORD).unwrap()),
    )
    .expect("an account");
}

/// Fills the sign-in form and presses Enter.
async fn submit_sign_in(browser: &Client, app: &TestApp, email: &str, password: &str) {
    browser.goto(&app.url("/box-office/login")).await.unwrap();
    let field = find(browser, "#email").await;
    field.clear().await.unwrap();
    field.send_keys(email).await.unwrap();
    let field = find(browser, "#password").await;
    field.clear().await.unwrap();
    field
        .send_keys(&format!("{password}{}", char::from(Key::Enter)))
        .await
        .unwrap();
}

/// The HTTP status of the page the browser shows (from the Navigation Timing entry).
async fn status_of_page(browser: &Client) -> u64 {
    browser
        .execute(
            "return performance.getEntriesByType('navigation')[0].responseStatus;",
            vec![],
        )
        .await
        .expect("the navigation entry")
        .as_u64()
        .expect("a status")
}

async fn the_session_cookie_is_locked_down_in_the_browser(app: TestApp) {
    account(
        &app,
        "ada@box-office.example",
        "Ada Lovelace",
        Role::BoxOffice,
    );
    let driver = Chromedriver::start().await;
    let browser = driver.desktop_browser().await;
    submit_sign_in(&browser, &app, "ada@box-office.example", PASSWORD).await;
    wait_for_text(&browser, "main h1", "Today").await;

    let cookies = browser.get_all_cookies().await.unwrap();
    assert_eq!(cookies.len(), 1, "one cookie, the session's: {cookies:?}");
    let session = &cookies[0];
    assert_eq!(session.name(), "encore_staff");
    assert_eq!(session.http_only(), Some(true), "{session:?}");
    // (fantoccini does not re-export the `cookie` crate's SameSite: compare its name)
    assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");
    assert_eq!(session.path(), Some("/"), "{session:?}");
    // Served over plain HTTP here, so not `Secure` (the browser would drop it otherwise).
    assert_ne!(session.secure(), Some(true), "{session:?}");
    // Scripts on the page cannot read it.
    let visible = browser
        .execute("return document.cookie;", vec![])
        .await
        .unwrap();
    assert_eq!(visible.as_str(), Some(""), "HttpOnly hides the cookie");
    browser.close().await.unwrap();
}

async fn a_tampered_form_is_refused_and_changes_nothing(app: TestApp) {
    account(
        &app,
        "ada@box-office.example",
        "Ada Lovelace",
        Role::BoxOffice,
    );
    let driver = Chromedriver::start().await;
    let browser = driver.desktop_browser().await;
    submit_sign_in(&browser, &app, "ada@box-office.example", PASSWORD).await;
    wait_for_text(&browser, "main h1", "Today").await;

    // A forged copy of the sign-out form: right session cookie, wrong token.
    browser
        .execute(
            "document.querySelector(\"form[action='/box-office/logout'] input[name=csrf]\").value = 'x'.repeat(43);",
            vec![],
        )
        .await
        .unwrap();
    find(&browser, "form[action='/box-office/logout'] button")
        .await
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "main h1", "Not allowed").await;
    assert_eq!(status_of_page(&browser).await, 403);
    wait_for_text(&browser, "#problem", "did not come from this console").await;
    assert_accessible(&browser, "the CSRF refusal").await;

    // The session was not ended: Today still opens.
    browser.goto(&app.url("/box-office/")).await.unwrap();
    wait_for_text(&browser, "main h1", "Today").await;
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM staff_sessions WHERE revoked_at IS NULL"),
        1
    );
    browser.close().await.unwrap();
}

async fn repeated_failed_sign_ins_meet_the_throttle_page(app: TestApp) {
    account(
        &app,
        "ada@box-office.example",
        "Ada Lovelace",
        Role::BoxOffice,
    );
    let driver = Chromedriver::start().await;
    let browser = driver.desktop_browser().await;
    // Ten wrong passwords for one account (the throttle's limit), then the right one.
    for attempt in 0..10 {
        submit_sign_in(
            &browser,
            &app,
            "ada@box-office.example",
            "wrong wrong wrong",
        )
        .await;
        wait_for_text(&browser, "main", "do not match an account").await;
        assert_eq!(status_of_page(&browser).await, 401, "attempt {attempt}");
    }
    submit_sign_in(&browser, &app, "ada@box-office.example", PASSWORD).await;
    wait_for_text(&browser, "main", "Too many failed sign-ins").await;
    assert_eq!(status_of_page(&browser).await, 429);
    wait_for_text(&browser, "main", "Try again in").await;
    assert!(browser.get_all_cookies().await.unwrap().is_empty());
    assert_accessible(&browser, "the sign-in throttle").await;
    browser.close().await.unwrap();
}

async fn a_scanner_account_is_shown_the_door(app: TestApp) {
    account(&app, "door@box-office.example", "Door Team", Role::Scanner);
    let driver = Chromedriver::start().await;
    let browser = driver.desktop_browser().await;
    submit_sign_in(&browser, &app, "door@box-office.example", PASSWORD).await;
    wait_for_text(&browser, "main h1", "Not allowed").await;
    assert_eq!(status_of_page(&browser).await, 403);
    wait_for_text(&browser, "#problem", "for the door").await;
    assert_accessible(&browser, "the scanner's refusal").await;
    browser.close().await.unwrap();
}

async fn a_session_revoked_elsewhere_sends_the_next_page_to_sign_in(app: TestApp) {
    account(
        &app,
        "ada@box-office.example",
        "Ada Lovelace",
        Role::BoxOffice,
    );
    let driver = Chromedriver::start().await;
    let browser = driver.desktop_browser().await;
    submit_sign_in(&browser, &app, "ada@box-office.example", PASSWORD).await;
    wait_for_text(&browser, "main h1", "Today").await;

    // An admin ends every session of the account (the CLI's `staff revoke-sessions`).
    let encore = app.encore.clone();
    tokio::task::spawn_blocking(move || {
        accounts::revoke_sessions(&encore, "ada@box-office.example")
    })
    .await
    .unwrap()
    .expect("sessions revoked");

    find(&browser, "nav a[href='/box-office/patrons']")
        .await
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "h1", "sign-in").await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        "/box-office/login"
    );
    browser.close().await.unwrap();
}

on_both_backends!(
    the_session_cookie_is_locked_down_in_the_browser,
    a_tampered_form_is_refused_and_changes_nothing,
    repeated_failed_sign_ins_meet_the_throttle_page,
    a_scanner_account_is_shown_the_door,
    a_session_revoked_elsewhere_sends_the_next_page_to_sign_in,
);
