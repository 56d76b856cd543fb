//! The box-office console in a real browser: headless Chromium at a desk's width, driven over
//! WebDriver, on SQLite and PostgreSQL. A box-office member signs in with the keyboard alone,
//! reads Today (what is on, issued, arrived so far), and signs out; axe-core (vendored under
//! `tests/vendor/axe-core`, never served) checks every page on the way and fails the test on
//! any serious or critical violation.

use fantoccini::key::Key;
use fantoccini::Client;
use serde_json::Value;

use encore::domain::staff::Password;
use encore::domain::Role;
use encore::service::accounts;

use crate::browser::{find, wait_for_exact_text, wait_for_text, Chromedriver};
use crate::helpers::{on_both_backends, TestApp};

const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");
const PASSWORD: &str = "correct horse battery staple";

/// Runs axe-core on the page the browser shows and fails on any serious or critical violation,
/// naming each with the elements it found. Returns how many lesser ones there were.
pub async fn assert_accessible(browser: &Client, page: &str) -> usize {
    browser.execute(AXE, vec![]).await.expect("axe-core loads");
    let found = browser
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, {resultTypes: ['violations']})
                 .then(r => done(r.violations.map(v => ({
                     id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.map(n => n.target.join(' '))}))))
                 .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"#,
            vec![],
        )
        .await
        .expect("axe-core runs");
    let violations = found.as_array().expect("a list of violations").clone();
    let (grave, lesser): (Vec<Value>, Vec<Value>) = violations
        .into_iter()
        .partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));
    assert!(
        grave.is_empty(),
        "axe-core on {page}: serious or critical violations: {}",
        serde_json::to_string_pretty(&grave).unwrap()
    );
    eprintln!(
        "axe-core on {page}: 0 serious or critical, {} lesser",
        lesser.len()
    );
    lesser.len()
}

/// Whether the focused element shows it has focus (an outline or a ring), as keyboard users need.
async fn focus_is_visible(browser: &Client) -> bool {
    let style = browser
        .execute(
            r#"const s = getComputedStyle(document.activeElement);
               return [s.outlineStyle, s.outlineWidth, s.boxShadow];"#,
            vec![],
        )
        .await
        .expect("the focused element's style");
    let outline = style[0].as_str() != Some("none") && style[1].as_str() != Some("0px");
    let ring = style[2].as_str().is_some_and(|shadow| shadow != "none");
    outline || ring
}

async fn a_box_office_member_signs_in_reads_today_and_signs_out(app: TestApp) {
    accounts::create_account(
        &app.encore,
        "ada@box-office.example",
        "Ada Lovelace",
        Role::BoxOffice,
        Some(&Password::parse(PASSWORD).unwrap()),
    )
    .expect("an account");
    // Hamlet in three hours: three tickets issued, one holder already through the door.
    let performance = app
        .create_performance_at(chrono::Utc::now() + chrono::Duration::hours(3), 40)
        .await;
    let tickets = app.issue_bulk(performance, 3).await;
    let scanner = app.key(Role::Scanner);
    let (status, body) = app
        .scan(&scanner, tickets[0]["token"].as_str().unwrap(), "north")
        .await;
    assert_eq!(body["outcome"], "admitted", "{status}: {body}");

    let driver = Chromedriver::start().await;
    let browser = driver.desktop_browser().await;

    // The console sends a stranger to the sign-in page.
    browser.goto(&app.url("/box-office/")).await.unwrap();
    wait_for_text(&browser, "h1", "sign-in").await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        "/box-office/login"
    );
    let mut lesser = assert_accessible(&browser, "/box-office/login").await;

    // Keyboard only: the email field has focus, Tab moves on, Enter signs in.
    let email = browser.active_element().await.unwrap();
    assert_eq!(email.attr("name").await.unwrap().as_deref(), Some("email"));
    assert!(
        focus_is_visible(&browser).await,
        "the email field shows focus"
    );
    email
        .send_keys(&format!("ada@box-office.example{}", char::from(Key::Tab)))
        .await
        .unwrap();
    let password = browser.active_element().await.unwrap();
    assert_eq!(
        password.attr("name").await.unwrap().as_deref(),
        Some("password")
    );
    password
        .send_keys(&format!("{PASSWORD}{}", char::from(Key::Tab)))
        .await
        .unwrap();
    let button = browser.active_element().await.unwrap();
    assert_eq!(button.text().await.unwrap().trim(), "Sign in");
    assert!(focus_is_visible(&browser).await, "the button shows focus");
    button
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();

    // Today: who is signed in, and the performance with what the door has seen.
    wait_for_text(&browser, "main h1", "Today").await;
    wait_for_text(&browser, "header", "Ada Lovelace").await;
    wait_for_text(&browser, "main table tbody th", "Hamlet").await;
    wait_for_exact_text(&browser, "main table tbody td:nth-of-type(2)", "40").await;
    wait_for_exact_text(&browser, "main table tbody td:nth-of-type(3)", "3").await;
    wait_for_exact_text(&browser, "main table tbody td:nth-of-type(4)", "1").await;
    let link = find(&browser, "main table tbody th a").await;
    assert_eq!(
        link.attr("href").await.unwrap(),
        Some(format!("/box-office/performances/{performance}"))
    );
    lesser += assert_accessible(&browser, "/box-office/").await;

    // Sign out ends the session: the console is closed again.
    find(&browser, "form[action='/box-office/logout'] button")
        .await
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "h1", "sign-in").await;
    browser.goto(&app.url("/box-office/")).await.unwrap();
    wait_for_text(&browser, "h1", "sign-in").await;
    eprintln!("axe-core: {lesser} lesser violations in all");

    browser.close().await.unwrap();
}

/// Types `text` into the field `css`, replacing what it held.
async fn type_into(browser: &Client, css: &str, text: &str) {
    let field = find(browser, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// An admin signs in, creates an event and a performance through the forms, cancels the
/// performance, and opens the Staff page; axe-core checks the events list, the event's page (before and
/// after the performance), a refused form, the cancel form and its progress page, and the Staff
/// page with a new key shown once.
async fn an_admin_creates_an_event_and_a_performance_cancels_it_and_opens_staff(app: TestApp) {
    accounts::create_account(
        &app.encore,
        "root@box-office.example",
        "Grace Hopper",
        Role::Admin,
        Some(&Password::parse(PASSWORD).unwrap()),
    )
    .expect("an account");
    let driver = Chromedriver::start().await;
    let browser = driver.desktop_browser().await;

    browser.goto(&app.url("/box-office/login")).await.unwrap();
    wait_for_text(&browser, "h1", "sign-in").await;
    type_into(&browser, "#email", "root@box-office.example").await;
    type_into(
        &browser,
        "#password",
        &format!("{PASSWORD}{}", char::from(Key::Enter)),
    )
    .await;
    wait_for_text(&browser, "main h1", "Today").await;

    // Events, from the navigation.
    find(&browser, "nav a[href='/box-office/events']")
        .await
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "main h1", "Events").await;
    let mut lesser = assert_accessible(&browser, "/box-office/events").await;

    // A refused form first: the API's reason, and the page still accessible.
    type_into(&browser, "#name", "Winter Gala").await;
    type_into(&browser, "#venue", "Main Hall").await;
    type_into(&browser, "#time_zone", "Mars/Olympus").await;
    find(
        &browser,
        "form[action='/box-office/events'] button[type=submit]",
    )
    .await
    .click()
    .await
    .unwrap();
    wait_for_text(&browser, "#form-error", "validation_failed").await;
    wait_for_text(&browser, "#form-error", "IANA time zone").await;
    lesser += assert_accessible(&browser, "/box-office/events (refused)").await;

    // The name and venue were kept; fix the zone and create it, keyboard only.
    type_into(&browser, "#time_zone", "Europe/Vienna").await;
    let zone = find(&browser, "#time_zone").await;
    zone.send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    wait_for_text(&browser, "main h1", "Winter Gala").await;
    let event_page = browser.current_url().await.unwrap().path().to_string();
    assert!(
        event_page.starts_with("/box-office/events/"),
        "{event_page}"
    );
    lesser += assert_accessible(&browser, "the event's page").await;

    // A performance: the times through the date picker's value, the rest typed.
    browser
        .execute(
            "document.getElementById('starts_at').value = '2027-03-01T19:30';",
            vec![],
        )
        .await
        .unwrap();
    type_into(&browser, "#capacity", "120").await;
    type_into(&browser, "#price", "45.50").await;
    let add = find(
        &browser,
        "form[action$='/performances'] button[type=submit]",
    )
    .await;
    add.click().await.unwrap();
    wait_for_text(&browser, "main [role=status]", "performance is added").await;
    wait_for_text(
        &browser,
        "main table tbody th",
        "Monday 1 March 2027, 19:30 CET",
    )
    .await;
    wait_for_text(&browser, "main table tbody", "45.50 EUR").await;
    lesser += assert_accessible(&browser, "the event's page with a performance").await;
    // Tab reaches the performance's link with a visible focus.
    browser
        .execute(
            "document.querySelector('main table tbody th a').focus();",
            vec![],
        )
        .await
        .unwrap();
    assert!(focus_is_visible(&browser).await, "the link shows focus");

    // Cancel it, with a reason: the progress page, done at once (no tickets to cancel).
    find(&browser, "main table tbody td a[href$='/cancel']")
        .await
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "main h1", "Cancel a performance").await;
    lesser += assert_accessible(&browser, "the cancel form").await;
    type_into(
        &browser,
        "#reason",
        &format!("The tenor is ill{}", char::from(Key::Enter)),
    )
    .await;
    wait_for_text(&browser, "#status", "Done: 0 of 0 tickets canceled").await;
    lesser += assert_accessible(&browser, "the cancellation's progress").await;
    find(&browser, "main p a").await.click().await.unwrap();
    wait_for_text(
        &browser,
        "main table tbody td:last-child",
        "canceled, 0 tickets",
    )
    .await;

    // Staff: a key, shown once.
    find(&browser, "nav a[href='/box-office/staff']")
        .await
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "main h1", "Staff").await;
    lesser += assert_accessible(&browser, "/box-office/staff").await;
    type_into(&browser, "#key-name", "north door").await;
    find(
        &browser,
        "form[action='/box-office/staff/keys'] button[type=submit]",
    )
    .await
    .click()
    .await
    .unwrap();
    wait_for_text(&browser, "#new-key", "enc_").await;
    lesser += assert_accessible(&browser, "/box-office/staff (a new key)").await;
    eprintln!("axe-core: {lesser} lesser violations in all");

    let performances = app.get_json("/api/v1/events", &app.admin_key).await;
    assert_eq!(performances.as_array().unwrap().len(), 1, "{performances}");
    browser.close().await.unwrap();
}

on_both_backends!(
    a_box_office_member_signs_in_reads_today_and_signs_out,
    an_admin_creates_an_event_and_a_performance_cancels_it_and_opens_staff,
);

/// The performance page (its own module: one `on_both_backends!` per module).
mod walk_up {
    use super::*;

    /// The performance page in the browser: a box-office member opens a performance from Today,
    /// issues a walk-up ticket from the keyboard and sees its QR; axe-core checks the performance
    /// page and the ticket page.
    async fn a_box_office_member_issues_a_walk_up_ticket_and_sees_its_qr(app: TestApp) {
        accounts::create_account(
            &app.encore,
            "grace@box-office.example",
            "Grace Hopper",
            Role::BoxOffice,
            Some(&Password::parse(PASSWORD).unwrap()),
        )
        .expect("an account");
        let performance = app
            .create_performance_at(chrono::Utc::now() + chrono::Duration::hours(3), 40)
            .await;
        app.issue_bulk(performance, 3).await;

        let driver = Chromedriver::start().await;
        let browser = driver.desktop_browser().await;
        browser.goto(&app.url("/box-office/login")).await.unwrap();
        find(&browser, "#email")
            .await
            .send_keys("grace@box-office.example")
            .await
            .unwrap();
        find(&browser, "#password")
            .await
            .send_keys(&format!("{PASSWORD}{}", char::from(Key::Enter)))
            .await
            .unwrap();
        wait_for_text(&browser, "main h1", "Today").await;
        find(&browser, "main table tbody th a")
            .await
            .click()
            .await
            .unwrap();

        // The performance: its figures and its first page of tickets.
        wait_for_text(&browser, "main h1", "Hamlet").await;
        assert_eq!(
            browser.current_url().await.unwrap().path(),
            format!("/box-office/performances/{performance}")
        );
        wait_for_exact_text(&browser, "#capacity", "40").await;
        wait_for_exact_text(&browser, "#issued", "3").await;
        wait_for_text(&browser, "#ticket-list tbody", "Guest 2").await;
        let mut lesser = assert_accessible(&browser, "/box-office/performances/{id}").await;

        // Keyboard only: each field in turn, Tab between them, Enter issues.
        find(&browser, "#holder_name").await.click().await.unwrap();
        assert!(
            focus_is_visible(&browser).await,
            "the name field shows focus"
        );
        let tab = char::from(Key::Tab);
        browser
            .active_element()
            .await
            .unwrap()
            .send_keys(&format!("Alan Turing{tab}"))
            .await
            .unwrap();
        let email = browser.active_element().await.unwrap();
        assert_eq!(
            email.attr("name").await.unwrap().as_deref(),
            Some("holder_email")
        );
        email
            .send_keys(&format!("alan@bletchley.example{tab}"))
            .await
            .unwrap();
        let seat = browser.active_element().await.unwrap();
        assert_eq!(seat.attr("name").await.unwrap().as_deref(), Some("seat"));
        seat.send_keys(&format!("C3{tab}")).await.unwrap();
        let price = browser.active_element().await.unwrap();
        assert_eq!(
            price.attr("name").await.unwrap().as_deref(),
            Some("price_minor")
        );
        price
            .send_keys(&format!("4500{}", char::from(Key::Enter)))
            .await
            .unwrap();

        // The ticket with its QR, drawn from our own origin under the CSP.
        wait_for_text(&browser, "main h1", "Ticket #").await;
        wait_for_text(&browser, "#issued", "Ticket issued").await;
        wait_for_text(&browser, "#holder", "Alan Turing").await;
        let drawn = browser
            .execute(
                r#"const img = document.querySelector('img.qr');
                   return img.complete && img.naturalWidth > 0;"#,
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(drawn, Value::Bool(true), "the QR image is shown");
        let print = find(&browser, "#print").await;
        let href = print.attr("href").await.unwrap().unwrap();
        assert!(href.ends_with("/print"), "{href}");
        lesser += assert_accessible(&browser, "/box-office/tickets/{id}").await;
        eprintln!("axe-core: {lesser} lesser violations on the performance and ticket pages");

        browser.close().await.unwrap();
    }

    on_both_backends!(a_box_office_member_issues_a_walk_up_ticket_and_sees_its_qr);
}

/// Find a patron as the clerk types (the page's own script), open their page, and exchange a
/// ticket into credit through its form; axe-core on both pages.
mod find_a_patron {
    use super::*;

    async fn a_box_office_member_finds_a_patron_as_they_type_and_exchanges_a_ticket(app: TestApp) {
        accounts::create_account(
            &app.encore,
            "ada@box-office.example",
            "Ada Lovelace",
            Role::BoxOffice,
            Some(&Password::parse(PASSWORD).unwrap()),
        )
        .expect("an account");
        let performance = app
            .create_performance_at(chrono::Utc::now() + chrono::Duration::days(3), 40)
            .await;
        let ticket = app
            .issue_to(performance, "Grace Hopper", "grace@example.org")
            .await;
        app.issue_to(performance, "Grace Hopper", "grace@example.org")
            .await;
        app.issue_to(performance, "Alan Turing", "alan@example.org")
            .await;

        let driver = Chromedriver::start().await;
        let browser = driver.desktop_browser().await;
        browser.goto(&app.url("/box-office/login")).await.unwrap();
        find(&browser, "input[name='email']")
            .await
            .send_keys("ada@box-office.example")
            .await
            .unwrap();
        find(&browser, "input[name='password']")
            .await
            .send_keys(&format!("{PASSWORD}{}", char::from(Key::Enter)))
            .await
            .unwrap();
        wait_for_text(&browser, "main h1", "Today").await;

        // Find a patron: the box has focus; typing a prefix brings the results without a
        // page load (the marker set on this page survives), and the count is announced.
        find(&browser, "nav a[href='/box-office/patrons']")
            .await
            .click()
            .await
            .unwrap();
        wait_for_text(&browser, "main h1", "Find a patron").await;
        let mut lesser = assert_accessible(&browser, "/box-office/patrons").await;
        browser
            .execute("window.notReloaded = true; return null;", vec![])
            .await
            .unwrap();
        let input = browser.active_element().await.unwrap();
        assert_eq!(input.attr("id").await.unwrap().as_deref(), Some("q"));
        input.send_keys("Hopp").await.unwrap();
        wait_for_text(&browser, "#result-list", "Grace Hopper").await;
        wait_for_exact_text(&browser, "#result-count", "1 patron found.").await;
        let live = find(&browser, "#result-count").await;
        assert_eq!(
            live.attr("aria-live").await.unwrap().as_deref(),
            Some("polite")
        );
        let same_page = browser
            .execute("return window.notReloaded === true;", vec![])
            .await
            .unwrap();
        assert_eq!(
            same_page,
            Value::Bool(true),
            "the results came without a page load"
        );
        let url = browser.current_url().await.unwrap();
        assert_eq!(url.query(), Some("q=Hopp"));
        lesser += assert_accessible(&browser, "/box-office/patrons?q=Hopp").await;

        // The patron's page: open it from the results, exchange one ticket into credit.
        find(&browser, "#result-list a")
            .await
            .click()
            .await
            .unwrap();
        wait_for_text(&browser, "main h1", "Grace Hopper").await;
        wait_for_text(&browser, "#journey", "Issued to Grace Hopper").await;
        lesser += assert_accessible(&browser, "/box-office/patrons/grace@example.org").await;
        let id = &ticket["id"];
        find(
            &browser,
            &format!("#ticket-{id} form[action$='/exchange'] button"),
        )
        .await
        .click()
        .await
        .unwrap();
        wait_for_text(&browser, "#notice", "exchanged into credit").await;
        wait_for_exact_text(&browser, &format!("#ticket-{id} .status"), "Exchanged").await;
        wait_for_text(&browser, "#balance", "45.00 EUR").await;
        wait_for_text(
            &browser,
            "#journey",
            "Exchanged: 45.00 EUR credited — by Ada Lovelace (box office)",
        )
        .await;
        lesser += assert_accessible(
            &browser,
            "/box-office/patrons/grace@example.org (after the exchange)",
        )
        .await;
        eprintln!("axe-core (find a patron): {lesser} lesser violations in all");
        browser.close().await.unwrap();
    }

    on_both_backends!(a_box_office_member_finds_a_patron_as_they_type_and_exchanges_a_ticket);
}

/// A box office's whole day in the browser, on each backend: sign in, create an event and a
/// performance, issue a walk-up ticket, import a CSV (one bad line), find a patron by a prefix
/// of their name and exchange their ticket into credit, cancel another patron's ticket, read
/// both changes in the journey with the staff member's name, and sign out. axe-core checks each
/// page on the way.
mod box_office_day {
    use super::*;

    async fn sign_in(browser: &Client, app: &TestApp) {
        browser.goto(&app.url("/box-office/login")).await.unwrap();
        type_into(browser, "#email", "ada@box-office.example").await;
        type_into(
            browser,
            "#password",
            &format!("{PASSWORD}{}", char::from(Key::Enter)),
        )
        .await;
        wait_for_text(browser, "main h1", "Today").await;
    }

    /// Opens a patron's page from Find a patron, typing a prefix of their name.
    async fn open_patron(browser: &Client, prefix: &str, name: &str) {
        find(browser, "nav a[href='/box-office/patrons']")
            .await
            .click()
            .await
            .unwrap();
        wait_for_text(browser, "main h1", "Find a patron").await;
        find(browser, "#q").await.send_keys(prefix).await.unwrap();
        wait_for_text(browser, "#result-list", name).await;
        find(browser, "#result-list a").await.click().await.unwrap();
        wait_for_text(browser, "main h1", name).await;
    }

    /// The id of the one ticket `email` holds.
    async fn ticket_of(app: &TestApp, email: &str) -> i64 {
        let patron = app
            .get_json(&format!("/api/v1/patrons/{email}"), &app.admin_key)
            .await;
        let tickets = patron["tickets"].as_array().expect("the patron's tickets");
        assert_eq!(tickets.len(), 1, "{patron}");
        tickets[0]["id"].as_i64().unwrap()
    }

    async fn a_box_office_runs_its_day_in_the_browser(app: TestApp) {
        accounts::create_account(
            &app.encore,
            "ada@box-office.example",
            "Ada Lovelace",
            Role::BoxOffice,
            Some(&Password::parse(PASSWORD).unwrap()),
        )
        .expect("an account");
        let driver = Chromedriver::start().await;
        let browser = driver.desktop_browser().await;
        sign_in(&browser, &app).await;
        let mut lesser = assert_accessible(&browser, "Today").await;

        // An event and a performance in five days' time.
        find(&browser, "nav a[href='/box-office/events']")
            .await
            .click()
            .await
            .unwrap();
        wait_for_text(&browser, "main h1", "Events").await;
        type_into(&browser, "#name", "Winter Gala").await;
        type_into(&browser, "#venue", "Main Hall").await;
        type_into(
            &browser,
            "#time_zone",
            &format!("Europe/Vienna{}", char::from(Key::Enter)),
        )
        .await;
        wait_for_text(&browser, "main h1", "Winter Gala").await;
        let starts = (chrono::Utc::now() + chrono::Duration::days(5))
            .format("%Y-%m-%dT19:30")
            .to_string();
        browser
            .execute(
                "document.getElementById('starts_at').value = arguments[0];",
                vec![Value::String(starts)],
            )
            .await
            .unwrap();
        type_into(&browser, "#capacity", "120").await;
        type_into(&browser, "#price", "45.00").await;
        find(
            &browser,
            "form[action$='/performances'] button[type=submit]",
        )
        .await
        .click()
        .await
        .unwrap();
        wait_for_text(&browser, "main [role=status]", "performance is added").await;
        lesser += assert_accessible(&browser, "the event's page").await;

        // The performance: a walk-up ticket for Alan Turing, with its QR.
        find(&browser, "main table tbody th a")
            .await
            .click()
            .await
            .unwrap();
        wait_for_text(&browser, "main h1", "Winter Gala").await;
        let performance_page = browser.current_url().await.unwrap();
        type_into(&browser, "#holder_name", "Alan Turing").await;
        type_into(&browser, "#holder_email", "alan@example.org").await;
        type_into(&browser, "#price_minor", "4500").await;
        type_into(
            &browser,
            "#currency",
            &format!("EUR{}", char::from(Key::Enter)),
        )
        .await;
        wait_for_text(&browser, "#holder", "Alan Turing").await;
        lesser += assert_accessible(&browser, "the walk-up ticket").await;

        // A CSV import: two patrons, one bad line reported by its number.
        browser.goto(performance_page.as_str()).await.unwrap();
        wait_for_text(&browser, "main h1", "Winter Gala").await;
        type_into(
            &browser,
            "#csv",
            "holder_name,holder_email,price_minor,currency\n\
             Grace Hopper,grace@example.org,4500,EUR\n\
             Katherine Johnson,kj@example.org,4500,EUR\n\
             Nobody,not-an-email,4500,EUR",
        )
        .await;
        find(&browser, "form[action$='/imports'] button")
            .await
            .click()
            .await
            .unwrap();
        wait_for_text(&browser, "#import-result", "2 issued").await;
        wait_for_text(&browser, "#rejected tbody th", "4").await;
        lesser += assert_accessible(&browser, "the import's result").await;

        // Grace, found by a prefix of her name: her ticket into credit.
        open_patron(&browser, "Hopp", "Grace Hopper").await;
        let graces = ticket_of(&app, "grace@example.org").await;
        find(
            &browser,
            &format!("#ticket-{graces} form[action$='/exchange'] button"),
        )
        .await
        .click()
        .await
        .unwrap();
        wait_for_text(&browser, "#notice", "exchanged into credit").await;
        wait_for_text(&browser, "#journey", "by Ada Lovelace (box office)").await;
        lesser += assert_accessible(&browser, "Grace's page").await;

        // Alan's walk-up ticket canceled, refunded to credit.
        open_patron(&browser, "Turi", "Alan Turing").await;
        let alans = ticket_of(&app, "alan@example.org").await;
        type_into(&browser, &format!("#reason-{alans}"), "Patron asked").await;
        find(
            &browser,
            &format!("#ticket-{alans} form[action$='/cancel'] button"),
        )
        .await
        .click()
        .await
        .unwrap();
        wait_for_text(&browser, "#notice", "canceled").await;
        wait_for_text(
            &browser,
            "#journey",
            "Canceled: Patron asked — 45.00 EUR credited — by Ada Lovelace (box office)",
        )
        .await;
        lesser += assert_accessible(&browser, "Alan's page").await;

        // The API's journey says the same, with the author.
        for (email, what) in [
            ("grace@example.org", "exchanged"),
            ("alan@example.org", "canceled"),
        ] {
            let journey = app
                .get_json(&format!("/api/v1/patrons/{email}"), &app.admin_key)
                .await;
            let touches = crate::helpers::touches(&journey, what);
            assert_eq!(touches.len(), 1, "{journey}");
            assert_eq!(
                touches[0]["detail"]["by"], "Ada Lovelace (box office)",
                "{journey}"
            );
        }

        // Sign out: the console is closed again.
        find(&browser, "form[action='/box-office/logout'] button")
            .await
            .click()
            .await
            .unwrap();
        wait_for_text(&browser, "h1", "sign-in").await;
        browser.goto(&app.url("/box-office/")).await.unwrap();
        wait_for_text(&browser, "h1", "sign-in").await;
        eprintln!("axe-core (a box office's day): {lesser} lesser violations in all");
        browser.close().await.unwrap();
    }

    on_both_backends!(a_box_office_runs_its_day_in_the_browser);
}
