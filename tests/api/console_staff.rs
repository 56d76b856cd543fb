//! The console's Staff page and the staff JSON API, over HTTP against the running app: admins
//! only (a box-office account or key is refused, 403), an account created with its one-time
//! link shown once, a key created and shown once, a key revoked and then refused by the API,
//! an account's sessions ended, and forms without the CSRF token refused with nothing changed.

use encore::domain::Role;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::console_events::{
    api_refusal, assert_shows_refusal, client, unescaped, Console, PASSWORD,
};
use crate::helpers::{on_both_backends, Deadline, TestApp};

/// The text of the element with `id` (a `<p id="…">…</p>`).
fn text_of(page: &str, id: &str) -> String {
    let start = page
        .find(&format!(r#"id="{id}">"#))
        .unwrap_or_else(|| panic!("#{id} in {page}"))
        + id.len()
        + 6;
    page[start..start + page[start..].find('<').unwrap()].to_string()
}

/// Waits until `key` is refused (the servers remember a verified key for a second).
async fn until_refused(app: &TestApp, key: &str) {
    let deadline = Deadline::after(std::time::Duration::from_secs(10));
    loop {
        let status = app.get("/api/v1/events", key).await.status();
        if status == StatusCode::UNAUTHORIZED {
            return;
        }
        assert_eq!(status, StatusCode::OK);
        deadline.retry("the revoked key is refused").await;
    }
}

async fn the_staff_page_is_refused_to_a_box_office_account(app: TestApp) {
    let console = Console::sign_in(&app, "ada@example.org", Role::BoxOffice).await;
    let today = console.page("/box-office/").await;
    assert!(!today.contains(r#"href="/box-office/staff""#), "{today}");
    let refused = console.get("/box-office/staff").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("for admins only"));
    let keys = app.db.count("SELECT COUNT(*) AS n FROM api_keys");
    for (path, form) in [
        (
            "/box-office/staff",
            vec![
                ("email", "eve@example.org"),
                ("name", "Eve"),
                ("role", "admin"),
            ],
        ),
        (
            "/box-office/staff/keys",
            vec![("name", "mine"), ("role", "admin")],
        ),
        ("/box-office/staff/keys/1/revoke", vec![]),
        (
            "/box-office/staff/sessions/revoke",
            vec![("email", "ada@example.org")],
        ),
    ] {
        // With the session's own CSRF token: still not an admin.
        let response = console.post(path, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM api_keys"), keys);
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM staff_accounts"), 1);
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM staff_sessions WHERE revoked_at IS NOT NULL"),
        0
    );
    assert_eq!(
        app.get("/api/v1/events", &app.admin_key).await.status(),
        StatusCode::OK,
        "the admin key was not revoked"
    );
}

async fn an_admin_creates_an_account_and_a_key_in_the_console(app: TestApp) {
    let admin = Console::sign_in(&app, "root@example.org", Role::Admin).await;
    let staff = admin.page("/box-office/staff").await;
    for labelled in [
        r#"<label for="account-email">"#,
        r#"<label for="account-role">"#,
        r#"<label for="key-name">"#,
        r#"<label for="key-days">"#,
    ] {
        assert!(staff.contains(labelled), "{labelled} in {staff}");
    }
    assert!(staff.contains("root@example.org"));

    // An account: its one-time link, shown once.
    let created = admin
        .post(
            "/box-office/staff",
            &[
                ("email", "grace@example.org"),
                ("name", "Grace Hopper"),
                ("role", "box_office"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let page = created.text().await.unwrap();
    let link = text_of(&page, "set-password-link");
    let path = link
        .strip_prefix(&app.base)
        .expect("a link here")
        .to_string();
    assert!(path.starts_with("/box-office/password/"), "{link}");
    let again = admin.page("/box-office/staff").await;
    assert!(again.contains("grace@example.org") && again.contains("no password yet"));
    assert!(!again.contains(&path), "the link is shown once");
    let set = client()
        .post(app.url(&path))
        .form(&[("password", PASSWORD), ("confirm", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let signed_in = client()
        .post(app.url("/box-office/login"))
        .form(&[("email", "grace@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()[LOCATION], "/box-office/");

    // The same email again: the API's refusal.
    let api = api_refusal(
        &app,
        reqwest::Method::POST,
        "/api/v1/staff",
        &json!({"email": "Grace@example.org", "name": "G", "role": "admin"}),
    )
    .await;
    assert_eq!(
        (api.0, api.1.as_str()),
        (StatusCode::CONFLICT, "staff_email_taken")
    );
    let refused = admin
        .post(
            "/box-office/staff",
            &[
                ("email", "Grace@example.org"),
                ("name", "G"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_shows_refusal(refused, &api).await;
    let refused = admin
        .post(
            "/box-office/staff",
            &[("email", "not an email"), ("name", "G"), ("role", "admin")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unescaped(&refused.text().await.unwrap()).contains("(validation_failed)"));

    // A key: shown once, and it works with its role.
    let created = admin
        .post(
            "/box-office/staff/keys",
            &[
                ("name", "north door"),
                ("role", "scanner"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let page = created.text().await.unwrap();
    let key = text_of(&page, "new-key");
    assert!(key.starts_with("enc_"), "{key}");
    assert_eq!(
        app.get("/api/v1/events", &key).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/staff", &key).await.status(),
        StatusCode::FORBIDDEN
    );
    let again = admin.page("/box-office/staff").await;
    assert!(again.contains("north door") && again.contains("active, expires"));
    assert!(!again.contains(&key), "the key is shown once");
    let listed: Value = app.get_json("/api/v1/keys", &app.admin_key).await;
    let north = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "north door")
        .unwrap();
    assert_eq!(north["role"], "scanner");
    assert!(north["expires_at"].is_string(), "{north}");
    let refused = admin
        .post(
            "/box-office/staff/keys",
            &[("name", "x"), ("role", "scanner"), ("expires_in_days", "0")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_key_revoked_in_the_console_is_refused_by_the_api(app: TestApp) {
    let admin = Console::sign_in(&app, "root@example.org", Role::Admin).await;
    let created = app
        .post_expecting(
            "/api/v1/keys",
            &json!({"name": "box office till", "role": "box_office"}),
            StatusCode::CREATED,
        )
        .await;
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        app.get("/api/v1/events", &key).await.status(),
        StatusCode::OK
    );

    let revoked = admin
        .post(&format!("/box-office/staff/keys/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(revoked
        .text()
        .await
        .unwrap()
        .contains(&format!("Key #{id} is revoked.")));
    until_refused(&app, &key).await;
    // Revoked already: the API's 404, shown as it gives it.
    let api = api_refusal(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/keys/{id}/revoke"),
        &json!({}),
    )
    .await;
    assert_eq!(api.0, StatusCode::NOT_FOUND);
    let again = admin
        .post(&format!("/box-office/staff/keys/{id}/revoke"), &[])
        .await;
    assert_shows_refusal(again, &api).await;

    // Ending an account's sessions: its cookie no longer opens the console.
    let other = Console::sign_in(&app, "grace@example.org", Role::BoxOffice).await;
    let ended = admin
        .post(
            "/box-office/staff/sessions/revoke",
            &[("email", "grace@example.org")],
        )
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert!(ended
        .text()
        .await
        .unwrap()
        .contains("Ended 1 session of grace@example.org."));
    let closed = other.get("/box-office/").await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);
    assert_eq!(closed.headers()[LOCATION], "/box-office/login");
    // An account that does not exist: the service's 404, not a 500.
    let unknown = admin
        .post(
            "/box-office/staff/sessions/revoke",
            &[("email", "nobody@example.org")],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.text().await.unwrap().contains("(not_found)"));
}

async fn staff_forms_without_the_csrf_token_change_nothing(app: TestApp) {
    let admin = Console::sign_in(&app, "root@example.org", Role::Admin).await;
    let keys = app.db.count("SELECT COUNT(*) AS n FROM api_keys");
    for (path, form) in [
        (
            "/box-office/staff",
            vec![
                ("email", "eve@example.org"),
                ("name", "Eve"),
                ("role", "admin"),
            ],
        ),
        (
            "/box-office/staff/keys",
            vec![("name", "mine"), ("role", "admin")],
        ),
        ("/box-office/staff/keys/1/revoke", vec![]),
        (
            "/box-office/staff/sessions/revoke",
            vec![("email", "root@example.org")],
        ),
    ] {
        let response = admin.post_raw(path, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM api_keys"), keys);
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NOT NULL"),
        0
    );
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM staff_accounts"), 1);
    assert_eq!(
        admin.get("/box-office/staff").await.status(),
        StatusCode::OK
    );
}

async fn the_staff_json_api_is_for_admins(app: TestApp) {
    for role in [Role::BoxOffice, Role::Scanner] {
        let key = app.key(role);
        for (method, path) in [
            (reqwest::Method::GET, "/api/v1/staff"),
            (reqwest::Method::POST, "/api/v1/staff"),
            (reqwest::Method::GET, "/api/v1/keys"),
            (reqwest::Method::POST, "/api/v1/keys"),
            (reqwest::Method::POST, "/api/v1/keys/1/revoke"),
        ] {
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .bearer_auth(&key)
                .json(&json!({"name": "x", "role": "admin", "email": "x@example.org"}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{role:?} {method} {path}"
            );
        }
    }
    assert_eq!(app.db.count("SELECT COUNT(*) AS n FROM staff_accounts"), 0);
    assert_eq!(
        app.db
            .count("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NOT NULL"),
        0
    );

    // Accounts: without a password, a one-time link; with one, none, and it signs in.
    let linked = app
        .post_expecting(
            "/api/v1/staff",
            &json!({"email": "Grace@Example.org", "name": "Grace Hopper", "role": "box_office"}),
            StatusCode::CREATED,
        )
        .await;
    let url = linked["set_password_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/box-office/password/", app.base)),
        "{linked}"
    );
    assert_eq!(linked["has_password"], false);
    assert_eq!(linked["role"], "box_office");
    assert_eq!(linked["email"], "Grace@example.org");
    let form = client().get(url).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let ready = app
        .post_expecting(
            "/api/v1/staff",
            &json!({"email": "ada@example.org", "name": "Ada Lovelace", "role": "admin", "password": PASSWORD}),
            StatusCode::CREATED,
        )
        .await;
    assert!(ready.get("set_password_url").is_none(), "{ready}");
    assert_eq!(ready["has_password"], true);
    let signed_in = client()
        .post(app.url("/box-office/login"))
        .form(&[("email", "ada@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let short = app
        .post_expecting(
            "/api/v1/staff",
            &json!({"email": "bob@example.org", "name": "Bob", "role": "admin", "password": "short"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(short["field"], "password");
    let taken = app
        .post_expecting(
            "/api/v1/staff",
            &json!({"email": "ADA@example.org", "name": "Ada", "role": "scanner"}),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(taken["code"], "staff_email_taken");
    let listed = app.get_json("/api/v1/staff", &app.admin_key).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let text = serde_json::to_string(listed).unwrap();
    assert!(
        !text.contains("argon2") && !text.contains(PASSWORD) && !text.contains("set_password_url")
    );

    // Keys: shown once, listed without it; expiry bounded; one's own key is not revoked.
    let created = app
        .post_expecting(
            "/api/v1/keys",
            &json!({"name": "north door", "role": "scanner", "expires_in_seconds": 3600}),
            StatusCode::CREATED,
        )
        .await;
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with(created["key_prefix"].as_str().unwrap()));
    assert!(created["expires_at"].is_string());
    let (status, _) = app.scan(key, "not-a-token", "north").await;
    assert_ne!(status, StatusCode::UNAUTHORIZED, "the new key works");
    let listed = app.get_json("/api/v1/keys", &app.admin_key).await;
    let text = serde_json::to_string(&listed).unwrap();
    assert!(!text.contains(key) && !text.contains("key_hash") && !text.contains("\"key\""));
    assert_eq!(listed.as_array().unwrap().len(), 4, "{listed}");
    for bad in [0, -5, 400_000_000] {
        let refused = app
            .post_expecting(
                "/api/v1/keys",
                &json!({"name": "x", "role": "scanner", "expires_in_seconds": bad}),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        assert_eq!(refused["field"], "expires_in_seconds", "{bad}");
    }
    let own = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "admin")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let refused = app
        .post_expecting(
            &format!("/api/v1/keys/{own}/revoke"),
            &json!({}),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(refused["code"], "own_key");

    // Revoked: 204, then refused by the API.
    let id = created["id"].as_i64().unwrap();
    let revoked = app
        .post(
            &format!("/api/v1/keys/{id}/revoke"),
            &app.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let deadline = Deadline::after(std::time::Duration::from_secs(10));
    while app.scan(key, "not-a-token", "north").await.0 != StatusCode::UNAUTHORIZED {
        deadline.retry("the revoked key is refused").await;
    }
    let again = app
        .post(
            &format!("/api/v1/keys/{id}/revoke"),
            &app.admin_key,
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let listed = app.get_json("/api/v1/keys", &app.admin_key).await;
    let revoked = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap();
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
}

on_both_backends!(
    the_staff_page_is_refused_to_a_box_office_account,
    an_admin_creates_an_account_and_a_key_in_the_console,
    a_key_revoked_in_the_console_is_refused_by_the_api,
    staff_forms_without_the_csrf_token_change_nothing,
    the_staff_json_api_is_for_admins,
);
