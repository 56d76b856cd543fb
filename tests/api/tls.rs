//! Built-in HTTPS (`tls_cert_file`, `tls_key_file`), with certificates made here by a test CA:
//! the server answers over TLS with the configured certificate, serves a new one to new
//! connections after the files are replaced, keeps the last good one when the files turn bad,
//! marks the console's session cookie `Secure`, and refuses to start with one file or an
//! unusable pair. SQLite only: TLS sits in front of the same app on both backends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use encore::domain::staff::Password;
use encore::domain::Role;
use encore::service::accounts;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use reqwest::header::SET_COOKIE;
use reqwest::tls::TlsInfo;
use reqwest::StatusCode;

use crate::helpers::{run_cli_with, Backend, Deadline, TestApp, TestDatabase};

/// How long a replaced certificate may take to be served: the server looks every 2 s.
const RELOAD_WITHIN: Duration = Duration::from_secs(15);

struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl TestCa {
    fn new() -> TestCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Encore test CA");
        let pem = params.self_signed(&key).unwrap().pem();
        TestCa {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// A server certificate for 127.0.0.1 named `name`: its DER, and the chain and key in PEM.
    fn server_certificate(&self, name: &str) -> (Vec<u8>, String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        (
            certificate.der().to_vec(),
            certificate.pem(),
            key.serialize_pem(),
        )
    }
}

struct PemFiles {
    cert: PathBuf,
    key: PathBuf,
}

impl PemFiles {
    fn in_dir(dir: &Path) -> PemFiles {
        PemFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }

    /// Writes a new pair as a renewal would: the certificate, then its key.
    fn write(&self, cert: &str, key: &str) {
        std::fs::write(&self.cert, cert).unwrap();
        std::fs::write(&self.key, key).unwrap();
    }
}

/// A client trusting only the test CA, reporting the server's certificate. A new client for
/// each look: one client would resume its TLS session, and a resumed session shows the
/// certificate of the first.
fn client_trusting(ca: &TestCa) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem.as_bytes()).unwrap())
        .tls_info(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The certificate (DER) the server presents to a new client at `url`, after a successful `GET`.
async fn served_certificate(ca: &TestCa, url: &str) -> Vec<u8> {
    let response = client_trusting(ca)
        .get(url)
        .send()
        .await
        .expect("an HTTPS answer");
    assert_eq!(response.status(), StatusCode::OK);
    response
        .extensions()
        .get::<TlsInfo>()
        .and_then(TlsInfo::peer_certificate)
        .expect("the server's certificate")
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_the_configured_certificate_and_picks_up_a_new_one() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let files = PemFiles::in_dir(dir.path());
    let (first_der, first_pem, first_key) = ca.server_certificate("encore first");
    files.write(&first_pem, &first_key);
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.tls_cert_file = Some(files.cert.display().to_string());
        config.tls_key_file = Some(files.key.display().to_string());
    })
    .await;
    let https = app.base.replacen("http://", "https://", 1);
    let healthz = format!("{https}/healthz");
    assert_eq!(served_certificate(&ca, &healthz).await, first_der);
    // Plain HTTP gets no answer on the HTTPS port.
    assert!(app.client.get(app.url("/healthz")).send().await.is_err());

    // Renewed: new connections get the new certificate.
    let (second_der, second_pem, second_key) = ca.server_certificate("encore second");
    files.write(&second_pem, &second_key);
    let deadline = Deadline::after(RELOAD_WITHIN);
    while served_certificate(&ca, &healthz).await != second_der {
        deadline
            .retry("the renewed certificate is served to new connections")
            .await;
    }

    // Files that cannot be used (a key of another certificate): the last good pair stays.
    let (_, third_pem, _) = ca.server_certificate("encore third");
    std::fs::write(&files.cert, third_pem).unwrap();
    tokio::time::sleep(encore::http::tls::RELOAD_CHECK_EVERY * 3).await;
    assert_eq!(served_certificate(&ca, &healthz).await, second_der);
    std::fs::write(&files.cert, "not a certificate").unwrap();
    tokio::time::sleep(encore::http::tls::RELOAD_CHECK_EVERY * 3).await;
    assert_eq!(served_certificate(&ca, &healthz).await, second_der);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_console_session_cookie_is_secure() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let files = PemFiles::in_dir(dir.path());
    let (_, pem, key) = ca.server_certificate("encore");
    files.write(&pem, &key);
    // The public address stays http://… here: serving TLS itself is what makes it Secure.
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.tls_cert_file = Some(files.cert.display().to_string());
        config.tls_key_file = Some(files.key.display().to_string());
    })
    .await;
    let encore = app.encore.clone();
    tokio::task::spawn_blocking(move || {
        let password = Password::parse("correct horse battery staple").unwrap();
        accounts::create_account(
            &encore,
            "ada@example.org",
            "Ada",
            Role::BoxOffice,
            Some(&password),
        )
        .unwrap();
    })
    .await
    .unwrap();
    let https = app.base.replacen("http://", "https://", 1);
    let response = client_trusting(&ca)
        .post(format!("{https}/box-office/login"))
        .form(&[
            ("email", "ada@example.org"),
            ("password", "correct horse battery staple"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("encore_staff="), "{cookie}");
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

#[test]
fn serve_refuses_one_tls_file_or_an_unusable_pair() {
    let db = TestDatabase::create(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let files = PemFiles::in_dir(dir.path());
    let serve = ["serve", "--bind", "127.0.0.1:0"];
    let cert = files.cert.display().to_string();
    let key = files.key.display().to_string();

    let (code, _, err) = run_cli_with(&db.url, &serve, &[("ENCORE_TLS_CERT_FILE", &cert)]);
    assert_ne!(code, 0);
    assert!(err.contains("tls_key_file is not"), "{err}");

    // Both named, neither there.
    let both = [
        ("ENCORE_TLS_CERT_FILE", &*cert),
        ("ENCORE_TLS_KEY_FILE", &*key),
    ];
    let (code, _, err) = run_cli_with(&db.url, &serve, &both);
    assert_ne!(code, 0);
    assert!(err.contains(&format!("cannot read {cert}")), "{err}");

    // A certificate with another certificate's key.
    let ca = TestCa::new();
    let (_, pem, _) = ca.server_certificate("one");
    let (_, _, other_key) = ca.server_certificate("two");
    files.write(&pem, &other_key);
    let (code, _, err) = run_cli_with(&db.url, &serve, &both);
    assert_ne!(code, 0);
    assert!(err.contains("cannot serve the certificate"), "{err}");
}
