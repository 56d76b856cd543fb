//! The sign-in throttle behind a reverse proxy: from a proxy named in `trusted_proxies`, each
//! client is counted by the address the proxy forwards; from anyone else `X-Forwarded-For` is
//! ignored, so a client cannot dodge the throttle by writing the header itself.

use std::net::IpAddr;

use reqwest::{Response, StatusCode};

use crate::helpers::{Backend, TestApp};

const PROXY: &str = "127.0.0.9";

fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(address.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn wrong_sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    forwarded: &str,
    i: usize,
) -> Response {
    client
        .post(app.url("/box-office/login"))
        .header("X-Forwarded-For", forwarded)
        .form(&[
            ("email", format!("guess{i}@example.org").as_str()),
            ("password", "wrong wrong wrong"),
        ])
        .send()
        .await
        .unwrap()
}

async fn behind_a_trusted_proxy_each_client_is_counted(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.trusted_proxies = vec![PROXY.into()]).await;
    let proxy = client_from(PROXY);
    for i in 0..10 {
        let r = wrong_sign_in(&app, &proxy, "198.51.100.7", i).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let refused = wrong_sign_in(&app, &proxy, "198.51.100.7", 10).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // A client the attacker wrote in front of its own address changes nothing.
    let dodging = wrong_sign_in(&app, &proxy, "203.0.113.1, 198.51.100.7", 11).await;
    assert_eq!(dodging.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not refused.
    let neighbour = wrong_sign_in(&app, &proxy, "198.51.100.8", 12).await;
    assert_eq!(neighbour.status(), StatusCode::UNAUTHORIZED);
}

async fn from_anyone_else_the_header_is_ignored(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.trusted_proxies = vec![PROXY.into()]).await;
    let attacker = client_from("127.0.0.10");
    for i in 0..10 {
        let forged = format!("198.51.100.{i}");
        let r = wrong_sign_in(&app, &attacker, &forged, i).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let refused = wrong_sign_in(&app, &attacker, "198.51.100.99", 10).await;
    assert_eq!(
        refused.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "ten failures from one address, whatever it wrote in the header"
    );
}

crate::helpers::on_each_backend!(
    proxies:
    behind_a_trusted_proxy_each_client_is_counted,
    from_anyone_else_the_header_is_ignored,
);
