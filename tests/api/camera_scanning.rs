//! The scanner page reads tickets without its code field, in headless Chromium: a fake camera
//! plays a video of a ticket's QR (made here from the API's PNG), read once through the page's
//! `BarcodeDetector` branch and once with `BarcodeDetector` removed, through ZXing compiled to
//! WebAssembly that Encore serves itself; and a keyboard-wedge scanner's typing (the code and
//! Enter, sent to the page's body) admits. Each admission is checked in the ticket's history.
//! SQLite only: the page is the same on both backends, and the scan API under it is tested on
//! both.
//!
//! Chromium on Linux has no `BarcodeDetector` of its own, so the built-in run puts one in
//! before the page's scripts (a Chrome DevTools command through chromedriver): the vendored
//! ponyfill's detector as `window.BarcodeDetector`, which is what the page sees on Chrome for
//! Android. What that run proves is the page's built-in branch; the ZXing run proves the
//! fallback that iOS Safari and Firefox get, with the page loading the decoder itself.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use encore::domain::Role;
use fantoccini::key::Key;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::browser::{find, wait_for_text, Chromedriver};
use crate::helpers::{touches, Backend, TestApp};
use crate::scanner_page::{screenshot, text, use_key, within_limit};

const PONYFILL: &str = "/assets/vendor/barcode-detector-3.2.2/ponyfill.js";
const WASM: &str = "/assets/vendor/zxing-wasm-3.1.3/zxing_reader.wasm";

/// The fake camera's picture: a frame of this size, the QR in its middle on white.
const FRAME_WIDTH: u32 = 640;
const FRAME_HEIGHT: u32 = 480;

/// A Chrome DevTools Protocol command, sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct DevTools {
    command: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a WebDriver session");
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.command, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Runs `source` in every page this browser opens from now on, before the page's own scripts.
async fn before_page_scripts(browser: &Client, source: String) {
    browser
        .issue_cmd(DevTools {
            command: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({ "source": source }),
        })
        .await
        .expect("Page.addScriptToEvaluateOnNewDocument");
}

/// A few frames of YUV4MPEG2 video (what Chromium's fake camera plays, looping) showing the
/// QR `png`, centred on white: 4:2:0, luma in video range, no colour.
fn qr_video(png: &[u8], path: &Path) {
    let qr = image::load_from_memory(png)
        .expect("the API's QR is a PNG")
        .to_luma8();
    assert!(
        qr.width() <= FRAME_WIDTH && qr.height() <= FRAME_HEIGHT,
        "the QR ({}×{}) fits the frame",
        qr.width(),
        qr.height()
    );
    let (left, top) = (
        (FRAME_WIDTH - qr.width()) / 2,
        (FRAME_HEIGHT - qr.height()) / 2,
    );
    let luma = |level: u8| 16 + (u32::from(level) * 219 / 255) as u8;
    let mut y_plane = vec![luma(255); (FRAME_WIDTH * FRAME_HEIGHT) as usize];
    for (x, y, pixel) in qr.enumerate_pixels() {
        y_plane[((top + y) * FRAME_WIDTH + left + x) as usize] = luma(pixel.0[0]);
    }
    let chroma = vec![128u8; (FRAME_WIDTH * FRAME_HEIGHT / 2) as usize];
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        file,
        "YUV4MPEG2 W{FRAME_WIDTH} H{FRAME_HEIGHT} F10:1 Ip A1:1 C420jpeg"
    )
    .unwrap();
    for _ in 0..5 {
        file.write_all(b"FRAME\n").unwrap();
        file.write_all(&y_plane).unwrap();
        file.write_all(&chroma).unwrap();
    }
    file.flush().unwrap();
}

/// A phone Chromium whose camera plays `video`, allowed without asking.
async fn browser_filming(driver: &Chromedriver, video: &Path) -> Client {
    driver
        .browser_with(&[
            "--use-fake-device-for-media-stream".into(),
            "--use-fake-ui-for-media-stream".into(),
            format!("--use-file-for-fake-video-capture={}", video.display()),
        ])
        .await
}

/// Issues a ticket to `name` and films its QR (the API's PNG) into a video in `dir`.
async fn ticket_on_video(
    app: &TestApp,
    performance: i64,
    name: &str,
    dir: &Path,
) -> (Value, std::path::PathBuf) {
    let email = format!(
        "{}@example.org",
        name.split(' ').next().unwrap().to_lowercase()
    );
    let ticket = app.issue_to(performance, name, &email).await;
    let response = app
        .get(
            &format!("/api/v1/tickets/{}/qr.png", ticket["id"]),
            &app.admin_key,
        )
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let png = response.bytes().await.unwrap();
    let video = dir.join(format!("ticket-{}.y4m", ticket["id"]));
    qr_video(&png, &video);
    (ticket, video)
}

/// The ticket's history has exactly one scan, an admission at the page's gate by a web scanner.
async fn admitted_once(app: &TestApp, ticket: &Value) {
    let history = app
        .get_json(
            &format!("/api/v1/tickets/{}/history", ticket["id"]),
            &app.admin_key,
        )
        .await;
    let scans = touches(&history, "scan");
    assert_eq!(scans.len(), 1, "{history}");
    let detail = &scans[0]["detail"];
    assert_eq!(detail["outcome"], "admitted", "{history}");
    assert_eq!(detail["gate"], "main", "{history}");
}

/// Opens the scanner with the scanner key, the camera started; waits for `name` to be admitted.
async fn camera_admits(browser: &Client, app: &TestApp, key: &str, method: &str, name: &str) {
    browser.goto(&app.url("/scan")).await.unwrap();
    use_key(browser, key).await;
    wait_for_text(browser, "#camera-method", &format!("Camera: {method}")).await;
    wait_for_text(browser, "#wedge-method", "Hardware scanner ready").await;
    find(browser, "#camera-toggle").await.click().await.unwrap();
    wait_for_text(browser, "#camera-method", &format!("Camera on: {method}")).await;
    wait_for_text(browser, "#result-holder", name).await;
    assert_eq!(text(browser, "#result-title").await, "Admitted");
}

/// The paths this page has fetched so far.
async fn fetched(browser: &Client) -> Vec<String> {
    let paths = browser
        .execute(
            "return performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(paths).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_camera_admits_with_the_built_in_detector_and_with_zxing_webassembly() {
    within_limit(camera_admits_with_either_decoder()).await;
}

async fn camera_admits_with_either_decoder() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let scanner = app.key(Role::Scanner);
    let performance = app.create_performance(10).await;
    let videos = tempfile::tempdir().unwrap();
    let (ada, ada_video) = ticket_on_video(&app, performance, "Ada Lovelace", videos.path()).await;
    let (grace, grace_video) =
        ticket_on_video(&app, performance, "Grace Hopper", videos.path()).await;
    let driver = Chromedriver::start().await;

    // A browser with its own BarcodeDetector (here the ponyfill's, put in before the page).
    let browser = browser_filming(&driver, &ada_video).await;
    let ponyfill = app.client.get(app.url(PONYFILL)).send().await.unwrap();
    let ponyfill = ponyfill.text().await.unwrap();
    before_page_scripts(
        &browser,
        format!(
            "{ponyfill}\n;BarcodeDetectionAPI.prepareZXingModule({{overrides: {{locateFile: \
             (path, prefix) => path.endsWith('.wasm') ? '{WASM}' : prefix + path}}}});\n\
             window.BarcodeDetector = BarcodeDetectionAPI.BarcodeDetector;"
        ),
    )
    .await;
    camera_admits(
        &browser,
        &app,
        &scanner,
        "built-in detector",
        "Ada Lovelace",
    )
    .await;
    assert!(
        !fetched(&browser).await.iter().any(|path| path == PONYFILL),
        "the page used the browser's detector, not its own"
    );
    admitted_once(&app, &ada).await;
    browser.close().await.unwrap();

    // A browser without one (iOS Safari, Firefox): the page loads ZXing from this server.
    let browser = browser_filming(&driver, &grace_video).await;
    before_page_scripts(&browser, "delete window.BarcodeDetector;".into()).await;
    camera_admits(
        &browser,
        &app,
        &scanner,
        "ZXing (WebAssembly)",
        "Grace Hopper",
    )
    .await;
    let paths = fetched(&browser).await;
    for path in [PONYFILL, WASM] {
        assert!(paths.iter().any(|p| p == path), "{path} fetched: {paths:?}");
    }
    screenshot(&browser, "scanner-camera-zxing.png").await;
    admitted_once(&app, &grace).await;
    browser.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyboard_wedge_scanner_admits_without_touching_the_screen() {
    within_limit(wedge_admits()).await;
}

async fn wedge_admits() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let scanner = app.key(Role::Scanner);
    let performance = app.create_performance(10).await;
    let ada = app
        .issue_to(performance, "Ada Lovelace", "ada@example.org")
        .await;
    let driver = Chromedriver::start().await;
    let browser = driver.browser().await;
    browser.goto(&app.url("/scan")).await.unwrap();
    use_key(&browser, &scanner).await;
    wait_for_text(&browser, "#wedge-method", "Hardware scanner ready").await;

    // Nothing focused (the steward touched no field): the scanner types the code and Enter.
    browser
        .execute("document.activeElement.blur()", vec![])
        .await
        .unwrap();
    let token = ada["token"].as_str().unwrap();
    find(&browser, "body")
        .await
        .send_keys(&format!("{token}{}", char::from(Key::Enter)))
        .await
        .unwrap();
    wait_for_text(&browser, "#result-holder", "Ada Lovelace").await;
    assert_eq!(text(&browser, "#result-title").await, "Admitted");
    assert_eq!(
        find(&browser, "#token").await.prop("value").await.unwrap(),
        Some(String::new()),
        "the code went around the field"
    );
    admitted_once(&app, &ada).await;

    // A person typing on the page (slowly) is not a scanner: nothing is checked.
    for key in "ABCDEFGHIJ".chars() {
        find(&browser, "body")
            .await
            .send_keys(&key.to_string())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    find(&browser, "body")
        .await
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Still Ada's answer, or (its few seconds over) the page ready again: no refusal.
    let title = text(&browser, "#result-title").await;
    assert!(title == "Admitted" || title == "Ready", "{title}");
    admitted_once(&app, &ada).await;
    browser.close().await.unwrap();
}

/// The decoder comes from this server with the types and lifetimes browsers need, and the
/// script expects exactly the WebAssembly served beside it (it carries the file's SHA-256).
#[tokio::test]
async fn the_qr_decoder_is_served_by_the_binary() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let wasm = app.client.get(app.url(WASM)).send().await.unwrap();
    assert_eq!(wasm.status(), reqwest::StatusCode::OK);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        wasm.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let wasm = wasm.bytes().await.unwrap();
    assert_eq!(&wasm[..4], b"\0asm", "a WebAssembly module");
    let ponyfill = app.client.get(app.url(PONYFILL)).send().await.unwrap();
    assert!(ponyfill.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(
        ponyfill.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let ponyfill = ponyfill.text().await.unwrap();
    let digest = hex::encode(Sha256::digest(&wasm));
    assert!(
        ponyfill.contains(&digest),
        "the ponyfill expects another zxing_reader.wasm than {digest}"
    );
    assert!(
        !ponyfill.contains("eval("),
        "the scanner's policy allows WebAssembly, not eval"
    );
    let page = app.client.get(app.url("/scan")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"<script src="/assets/scan_input.js" defer></script>"#));
}
