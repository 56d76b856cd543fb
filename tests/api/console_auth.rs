//! The box-office console's accounts and sessions, over HTTP against the running app: sign in
//! and reach Today, the session cookie, no user enumeration, CSRF, the sign-in throttle (per
//! account and per address), roles, revocation, sign-out, and the CLI's `encore staff`.

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use encore::domain::staff::Password;
use encore::domain::Role;
use encore::service::accounts;
use reqwest::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use reqwest::{Response, StatusCode};
use sha2::{Digest, Sha256};

use crate::helpers::{on_both_backends, run_cli, run_cli_with, TestApp};

const PASSWORD: &str = "correct horse battery staple";

/// A client that follows no redirect and keeps no cookies (each test carries its own),
/// connecting from `from` (any 127.0.0.0/8 address reaches the server on loopback).
fn client_from(from: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(address) = from {
        builder = builder.local_address(address.parse::<IpAddr>().unwrap());
    }
    builder.build().unwrap()
}

fn client() -> reqwest::Client {
    client_from(None)
}

/// Creates an account with `PASSWORD` through the service, as `encore staff create
/// --password-stdin` does.
async fn account(app: &TestApp, email: &str, name: &str, role: Role) {
    let encore = app.encore.clone();
    let (email, name) = (email.to_string(), name.to_string());
    tokio::task::spawn_blocking(move || {
        let password = Password::parse(PASSWORD).unwrap();
        accounts::create_account(&encore, &email, &name, role, Some(&password)).unwrap();
    })
    .await
    .unwrap();
}

async fn sign_in_from(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> Response {
    client
        .post(app.url("/box-office/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// Signs in; the session cookie's token.
async fn signed_in(app: &TestApp, email: &str) -> String {
    let response = sign_in_from(app, &client(), email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/box-office/");
    session_token(&response).expect("a session cookie")
}

fn set_cookie(response: &Response) -> String {
    response
        .headers()
        .get(SET_COOKIE)
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap()
        .to_string()
}

fn session_token(response: &Response) -> Option<String> {
    let cookie = set_cookie(response);
    let value = cookie.strip_prefix("encore_staff=")?.split(';').next()?;
    (!value.is_empty()).then(|| value.to_string())
}

async fn get_with(app: &TestApp, path: &str, token: &str) -> Response {
    client()
        .get(app.url(path))
        .header("Cookie", format!("encore_staff={token}"))
        .send()
        .await
        .unwrap()
}

async fn post_with(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    form: &[(&str, &str)],
) -> Response {
    let mut request = client().post(app.url(path)).form(form);
    if let Some(token) = token {
        request = request.header("Cookie", format!("encore_staff={token}"));
    }
    request.send().await.unwrap()
}

/// The CSRF token in a page's sign-out form.
fn csrf_of(page: &str) -> String {
    let start = page.find(r#"name="csrf" value=""#).expect("a CSRF field") + 19;
    page[start..][..page[start..].find('"').unwrap()].to_string()
}

fn is_sign_in_redirect(response: &Response) -> bool {
    response.status() == StatusCode::SEE_OTHER
        && response.headers()[LOCATION] == "/box-office/login"
}

async fn sign_in_reaches_today(app: TestApp) {
    let performance = app.create_performance(40).await;
    let tickets = app.issue_bulk(performance, 3).await;
    let scanner = app.key(Role::Scanner);
    let token = tickets[0]["token"].as_str().unwrap();
    assert_eq!(app.scan(&scanner, token, "Main").await.0, StatusCode::OK);
    // Next month's performance is not today's business.
    let later = app
        .create_performance_at(chrono::Utc::now() + chrono::Duration::days(30), 10)
        .await;
    account(&app, "ada@example.org", "Ada Lovelace", Role::BoxOffice).await;

    // Not signed in: the console sends the browser to the sign-in page.
    let anonymous = client().get(app.url("/box-office/")).send().await.unwrap();
    assert!(is_sign_in_redirect(&anonymous));
    let form = client()
        .get(app.url("/box-office/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let form = form.text().await.unwrap();
    for accessible in [
        r#"<html lang="en">"#,
        "<main",
        "<h1>",
        r#"<label for="email">"#,
        r#"<label for="password">"#,
        r#"name="email""#,
        r#"name="password""#,
    ] {
        assert!(form.contains(accessible), "{accessible} in {form}");
    }

    // The email in another letter case is the same account.
    let session = signed_in(&app, "ADA@example.org").await;
    let today = get_with(&app, "/box-office/", &session).await;
    assert_eq!(today.status(), StatusCode::OK);
    let csp = today.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(today.headers()["cache-control"], "no-store");
    let page = today.text().await.unwrap();
    assert!(page.contains("Ada Lovelace"), "{page}");
    assert!(page.contains(&format!(r#"href="/box-office/performances/{performance}""#)));
    assert!(
        !page.contains(&format!("/box-office/performances/{later}\"")),
        "{page}"
    );
    let row = &page[page
        .find(&format!("/box-office/performances/{performance}"))
        .unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    let numbers: Vec<&str> = row
        .split(r#"<td class="num">"#)
        .skip(1)
        .map(|cell| &cell[..cell.find('<').unwrap()])
        .collect();
    assert_eq!(
        numbers,
        ["40", "3", "1"],
        "capacity, issued, arrived: {row}"
    );

    // The stylesheet is served by the binary.
    let css = client()
        .get(app.url("/assets/console.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(css.text().await.unwrap().contains(":focus-visible"));
}

async fn the_session_cookie_is_locked_down(app: TestApp) {
    account(&app, "ada@example.org", "Ada Lovelace", Role::Admin).await;
    let response = sign_in_from(&app, &client(), "ada@example.org", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&response);
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    for wanted in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&wanted), "{wanted} in {cookie}");
    }
    assert!(!attributes.contains(&"Secure"), "plain HTTP here: {cookie}");
    let token = session_token(&response).unwrap();
    // 256 random bits, URL-safe base64.
    assert_eq!(token.len(), 43, "{token}");
    // Only the token's SHA-256 is stored.
    let digest = hex::encode(Sha256::digest(token.as_bytes()));
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM staff_sessions WHERE token_hash = '{digest}' AND csrf_token <> '{token}'"
        )),
        1
    );
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM staff_sessions WHERE token_hash = '{token}'"
        )),
        0
    );
    // The password is stored as an Argon2id hash only.
    assert_eq!(
        app.db.count(&format!(
            "SELECT COUNT(*) AS n FROM staff_accounts WHERE password_hash LIKE '$argon2id$v=19$m=19456,t=2,p=1$%' AND password_hash NOT LIKE '%{PASSWORD}%'"
        )),
        1
    );

    // Served over TLS (an https public base URL), the cookie is Secure.
    let tls = TestApp::spawn_with(app.db.backend, |config| {
        config.public_base_url = "https://tickets.example.org".into();
    })
    .await;
    account(&tls, "ada@example.org", "Ada Lovelace", Role::Admin).await;
    let response = sign_in_from(&tls, &client(), "ada@example.org", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&response);
    assert!(cookie.split(';').any(|a| a.trim() == "Secure"), "{cookie}");
}

async fn wrong_password_and_unknown_email_look_the_same(app: TestApp) {
    account(&app, "ada@example.org", "Ada Lovelace", Role::BoxOffice).await;
    let wrong = sign_in_from(
        &app,
        &client(),
        "ada@example.org",
        "not the password at all",
    )
    .await;
    let unknown = sign_in_from(
        &app,
        &client(),
        "nobody@example.org",
        "not the password at all",
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), wrong.status());
    assert!(wrong.headers().get(SET_COOKIE).is_none());
    assert!(unknown.headers().get(SET_COOKIE).is_none());
    let (wrong, unknown) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(wrong, unknown);
    assert!(wrong.contains("do not match an account"), "{wrong}");
    assert!(!wrong.contains("ada@example.org"));

    // A sign-in form posted from another site is refused before anything is checked.
    let forged = client()
        .post(app.url("/box-office/login"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("email", "ada@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.headers().get(SET_COOKIE).is_none());
}

/// A session ends after `staff_session_idle_minutes` without a request, and after
/// `staff_session_hours` whatever happens (the clock moved by rewriting the session's times).
async fn sessions_expire_when_idle_and_after_the_absolute_limit(app: TestApp) {
    account(&app, "ada@example.org", "Ada Lovelace", Role::BoxOffice).await;
    let idle = signed_in(&app, "ada@example.org").await;
    let old = signed_in(&app, "ada@example.org").await;
    assert_eq!(
        get_with(&app, "/box-office/", &idle).await.status(),
        StatusCode::OK
    );
    let hash = |token: &str| hex::encode(Sha256::digest(token.as_bytes()));
    app.db.execute(&format!(
        "UPDATE staff_sessions SET last_seen_at = '2000-01-01 00:00:00' WHERE token_hash = '{}'",
        hash(&idle)
    ));
    app.db.execute(&format!(
        "UPDATE staff_sessions SET created_at = '2000-01-01 00:00:00' WHERE token_hash = '{}'",
        hash(&old)
    ));
    assert!(is_sign_in_redirect(
        &get_with(&app, "/box-office/", &idle).await
    ));
    assert!(is_sign_in_redirect(
        &get_with(&app, "/box-office/", &old).await
    ));
    // A fresh sign-in works as ever.
    let fresh = signed_in(&app, "ada@example.org").await;
    assert_eq!(
        get_with(&app, "/box-office/", &fresh).await.status(),
        StatusCode::OK
    );
}

async fn forms_without_the_sessions_csrf_token_are_refused(app: TestApp) {
    account(&app, "ada@example.org", "Ada Lovelace", Role::BoxOffice).await;
    let session = signed_in(&app, "ada@example.org").await;
    let page = get_with(&app, "/box-office/", &session)
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    assert_eq!(csrf.len(), 43);

    let missing = post_with(&app, "/box-office/logout", Some(&session), &[]).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let wrong = post_with(
        &app,
        "/box-office/logout",
        Some(&session),
        &[("csrf", "x".repeat(43).as_str())],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    // Another session's token is no better.
    let other = signed_in(&app, "ada@example.org").await;
    let other_csrf = csrf_of(
        &get_with(&app, "/box-office/", &other)
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_ne!(other_csrf, csrf);
    let crossed = post_with(
        &app,
        "/box-office/logout",
        Some(&session),
        &[("csrf", &other_csrf)],
    )
    .await;
    assert_eq!(crossed.status(), StatusCode::FORBIDDEN);
    // Nothing changed: the session is alive.
    assert_eq!(
        get_with(&app, "/box-office/", &session).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM staff_sessions WHERE revoked_at IS NULL"),
        2
    );
    // A form posted with no session at all is refused, not redirected.
    let anonymous = post_with(&app, "/box-office/logout", None, &[("csrf", &csrf)]).await;
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
}

async fn sign_out_ends_the_session(app: TestApp) {
    account(&app, "ada@example.org", "Ada Lovelace", Role::BoxOffice).await;
    let session = signed_in(&app, "ada@example.org").await;
    let csrf = csrf_of(
        &get_with(&app, "/box-office/", &session)
            .await
            .text()
            .await
            .unwrap(),
    );
    let out = post_with(
        &app,
        "/box-office/logout",
        Some(&session),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(out.headers()[LOCATION], "/box-office/login");
    let cleared = set_cookie(&out);
    assert!(
        cleared.starts_with("encore_staff=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    // The server forgot it: the old cookie, replayed, no longer works.
    assert!(is_sign_in_redirect(
        &get_with(&app, "/box-office/", &session).await
    ));
    let again = post_with(
        &app,
        "/box-office/logout",
        Some(&session),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM staff_sessions WHERE revoked_at IS NOT NULL"),
        1
    );
}

/// Ten failures for one account, from two addresses (five each, so neither address is
/// throttled): the account is refused with 429 from anywhere, even with its right password;
/// another account from the same address is not.
async fn failed_sign_ins_throttle_the_account(app: TestApp) {
    account(&app, "ada@example.org", "Ada Lovelace", Role::BoxOffice).await;
    account(&app, "grace@example.org", "Grace Hopper", Role::BoxOffice).await;
    // A success clears the account's count.
    for _ in 0..3 {
        let r = sign_in_from(
            &app,
            &client_from(Some("127.0.0.2")),
            "ada@example.org",
            "wrong wrong wrong",
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        sign_in_from(
            &app,
            &client_from(Some("127.0.0.2")),
            "ada@example.org",
            PASSWORD
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.db.count(
            "SELECT COUNT(*) AS n FROM sign_in_failures WHERE subject = 'account:ada@example.org'"
        ),
        0
    );
    assert_eq!(
        app.db.count(
            "SELECT COUNT(*) AS n FROM sign_in_failures WHERE subject = 'address:127.0.0.2'"
        ),
        3,
        "the address keeps its count"
    );

    let mut slowest = Duration::ZERO;
    for i in 0..10 {
        let from = if i < 5 { "127.0.0.3" } else { "127.0.0.4" };
        let started = Instant::now();
        let r = sign_in_from(
            &app,
            &client_from(Some(from)),
            "Ada@Example.org",
            "wrong wrong wrong",
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        slowest = slowest.max(started.elapsed());
    }
    // The tenth attempt came after nine failures: it waited the full second first.
    assert!(slowest >= Duration::from_secs(1), "{slowest:?}");

    let refused = sign_in_from(
        &app,
        &client_from(Some("127.0.0.5")),
        "ada@example.org",
        PASSWORD,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().get(SET_COOKIE).is_none());
    let retry: i64 = refused.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // Refused attempts are not failures: the count stays at ten.
    assert_eq!(
        app.db.count(
            "SELECT COUNT(*) AS n FROM sign_in_failures WHERE subject = 'account:ada@example.org'"
        ),
        10
    );
    // Another account from the same address signs in.
    let grace = sign_in_from(
        &app,
        &client_from(Some("127.0.0.5")),
        "grace@example.org",
        PASSWORD,
    )
    .await;
    assert_eq!(grace.status(), StatusCode::SEE_OTHER);
}

/// Ten failures from one address, each for a different (unknown) email: that address is
/// refused with 429, even for a real account and its right password; another address is not.
async fn failed_sign_ins_throttle_the_address(app: TestApp) {
    account(&app, "ada@example.org", "Ada Lovelace", Role::BoxOffice).await;
    let attacker = client_from(Some("127.0.0.6"));
    for i in 0..10 {
        let r = sign_in_from(
            &app,
            &attacker,
            &format!("guess{i}@example.org"),
            "wrong wrong wrong",
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let refused = sign_in_from(&app, &attacker, "ada@example.org", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = refused.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    // An unknown email from there gets the same refusal.
    let unknown = sign_in_from(&app, &attacker, "guess99@example.org", "wrong wrong wrong").await;
    assert_eq!(unknown.status(), StatusCode::TOO_MANY_REQUESTS);

    let elsewhere = sign_in_from(
        &app,
        &client_from(Some("127.0.0.7")),
        "ada@example.org",
        PASSWORD,
    )
    .await;
    assert_eq!(elsewhere.status(), StatusCode::SEE_OTHER);
}

async fn scanner_accounts_are_refused_the_console(app: TestApp) {
    account(&app, "door@example.org", "Door Team", Role::Scanner).await;
    let session = signed_in(&app, "door@example.org").await;
    let today = get_with(&app, "/box-office/", &session).await;
    assert_eq!(today.status(), StatusCode::FORBIDDEN);
    assert!(today.text().await.unwrap().contains("for the door"));
    let out = post_with(
        &app,
        "/box-office/logout",
        Some(&session),
        &[("csrf", "anything")],
    )
    .await;
    assert_eq!(out.status(), StatusCode::FORBIDDEN);
}

async fn revoked_sessions_are_refused_at_once(app: TestApp) {
    account(&app, "ada@example.org", "Ada Lovelace", Role::BoxOffice).await;
    let first = signed_in(&app, "ada@example.org").await;
    let second = signed_in(&app, "ada@example.org").await;
    let csrf = csrf_of(
        &get_with(&app, "/box-office/", &first)
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(
        get_with(&app, "/box-office/", &second).await.status(),
        StatusCode::OK
    );

    // From the command line, while the server runs.
    let (code, stdout, stderr) = run_cli(
        &app.db.url,
        &["staff", "revoke-sessions", "--email", "ada@example.org"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ended 2 sessions"), "{stdout}");
    assert!(is_sign_in_redirect(
        &get_with(&app, "/box-office/", &first).await
    ));
    assert!(is_sign_in_redirect(
        &get_with(&app, "/box-office/", &second).await
    ));
    let out = post_with(&app, "/box-office/logout", Some(&first), &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), StatusCode::FORBIDDEN);

    // And through the service call the console's admins will use.
    let third = signed_in(&app, "ada@example.org").await;
    assert_eq!(
        get_with(&app, "/box-office/", &third).await.status(),
        StatusCode::OK
    );
    let encore = app.encore.clone();
    let ended =
        tokio::task::spawn_blocking(move || accounts::revoke_sessions(&encore, "ada@example.org"))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(ended, 1);
    assert!(is_sign_in_redirect(
        &get_with(&app, "/box-office/", &third).await
    ));
}

/// Runs `encore` against the app's database with `stdin` as standard input.
fn run_cli_with_stdin(app: &TestApp, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_encore"))
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run encore");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn staff_create_with_password_stdin_then_sign_in(app: TestApp) {
    let (code, stdout, stderr) = run_cli_with_stdin(
        &app,
        &[
            "staff",
            "create",
            "--email",
            "Ada@Example.org",
            "--name",
            "Ada Lovelace",
            "--role",
            "box_office",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    assert!(
        !stdout.contains("/box-office/password/"),
        "no link when a password is given: {stdout}"
    );

    let session = signed_in(&app, "ada@example.org").await;
    assert_eq!(
        get_with(&app, "/box-office/", &session).await.status(),
        StatusCode::OK
    );

    let (code, listing, _) = run_cli(&app.db.url, &["staff", "list"]);
    assert_eq!(code, 0);
    assert!(
        listing.contains("Ada@example.org")
            && listing.contains("box_office")
            && listing.contains("active"),
        "{listing}"
    );
    assert!(!listing.contains("argon2") && !listing.contains(PASSWORD));

    // The same mailbox in another case is taken; a short password is refused.
    let (code, _, stderr) = run_cli_with_stdin(
        &app,
        &[
            "staff",
            "create",
            "--email",
            "ada@example.org",
            "--name",
            "Again",
            "--role",
            "admin",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("already exists"), "{stderr}");
    let (code, _, stderr) = run_cli_with_stdin(
        &app,
        &[
            "staff",
            "create",
            "--email",
            "bob@example.org",
            "--name",
            "Bob",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("at least 15 characters"), "{stderr}");
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM staff_accounts"), 1);
}

async fn the_one_time_link_sets_a_password_once(app: TestApp) {
    let (code, stdout, stderr) = run_cli_with(
        &app.db.url,
        &[
            "staff",
            "create",
            "--email",
            "ada@example.org",
            "--name",
            "Ada Lovelace",
            "--role",
            "admin",
        ],
        &[("ENCORE_PUBLIC_BASE_URL", &app.base)],
    );
    assert_eq!(code, 0, "{stderr}");
    let link = stdout.trim();
    let path = link
        .strip_prefix(&app.base)
        .expect("a link to this server")
        .to_string();
    assert!(path.starts_with("/box-office/password/"), "{link}");
    // No password yet: nothing signs in.
    let none = sign_in_from(&app, &client(), "ada@example.org", PASSWORD).await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);

    let form = client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let form = form.text().await.unwrap();
    assert!(
        form.contains("ada@example.org") && form.contains(r#"<label for="confirm">"#),
        "{form}"
    );

    let mismatch = client()
        .post(app.url(&path))
        .form(&[
            ("password", PASSWORD),
            ("confirm", "something else entirely"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    let set = client()
        .post(app.url(&path))
        .form(&[("password", PASSWORD), ("confirm", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    assert_eq!(set.headers()[LOCATION], "/box-office/login?password=set");
    signed_in(&app, "ada@example.org").await;

    // Used once: the link no longer works, and the password stays.
    let again = client()
        .post(app.url(&path))
        .form(&[
            ("password", "another long password"),
            ("confirm", "another long password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        client().get(app.url(&path)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let old = sign_in_from(&app, &client(), "ada@example.org", "another long password").await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    signed_in(&app, "ada@example.org").await;
}

on_both_backends!(
    sign_in_reaches_today,
    the_session_cookie_is_locked_down,
    wrong_password_and_unknown_email_look_the_same,
    forms_without_the_sessions_csrf_token_are_refused,
    sign_out_ends_the_session,
    sessions_expire_when_idle_and_after_the_absolute_limit,
    failed_sign_ins_throttle_the_account,
    failed_sign_ins_throttle_the_address,
    scanner_accounts_are_refused_the_console,
    revoked_sessions_are_refused_at_once,
    staff_create_with_password_stdin_then_sign_in,
    the_one_time_link_sets_a_password_once,
);
