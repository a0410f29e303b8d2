//! Headless Chromium for the page tests, driven over WebDriver (chromedriver) with
//! fantoccini, against a real daemon from `support`.
//!
//! On a machine without Debian's `chromium` and `chromium-driver` the page tests are left
//! out, loudly (written straight to the terminal, past the test harness's capture); with
//! `CI` set, a missing browser fails the test instead, so CI can never pass without them.

#![allow(dead_code)]

mod pool;

use std::collections::BTreeSet;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::wd::{WebDriverCompatibleCommand, WindowHandle};
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::{Method, Url};
use serde_json::{json, Value};

/// How long a page may take to show something before the test fails as hung.
pub const PAGE_GUARD: Duration = Duration::from_secs(20);

/// How many times faster than real time the pages' CSS animations and transitions play
/// (DevTools' animation speed, per tab). The tests read what a page shows and says, never
/// how it moves, and every animation still starts, runs to its end and fires its events;
/// what is cut is the frames in between. Chromium paints them in software here, and the
/// lobby's gold glow on a 1920×1080 panel was three quarters of a burst test's CPU
/// (BENCHMARKS.md, "The suite's time"). Not the page's own reduced-motion mode: that is
/// another layout path, not the one a hall's screens run.
const ANIMATION_SPEED: f64 = 10.0;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    /// Its chromedriver and session, until `close` keeps them for the next test or a drop
    /// ends them.
    held: Option<pool::Held>,
    /// Every origin a tab was sent to, whose storage `close` clears.
    origins: Mutex<BTreeSet<String>>,
}

fn say_loudly(line: &str) {
    // Straight to the terminal: libtest captures print!/eprint! but not writes to the
    // stderr handle itself.
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Starts a browser with a `width`×`height` window, or returns `None` (after saying so)
/// when this machine has no Chromium and this is not CI.
pub async fn launch(test: &str, width: u32, height: u32) -> Option<Browser> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
    if !missing.is_empty() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "CI must run the page tests, but {missing:?} is missing: .ci/run installs chromium and chromium-driver"
            );
        }
        say_loudly(&format!(
            "\n*** PAGE TEST LEFT OUT: {test} — {missing:?} not found; `apt-get install chromium chromium-driver` to run it ***\n"
        ));
        return None;
    }
    let browser = match pool::take() {
        Some(held) => match reuse(held, width, height).await {
            Some(b) => b,
            None => start(width, height).await,
        },
        None => start(width, height).await,
    };
    browser.speed_up_animations().await;
    Some(browser)
}

/// A new chromedriver and Chromium with a `width`×`height` window.
async fn start(width: u32, height: u32) -> Browser {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    // chromedriver leads a process group of its own, which the Chromium it starts joins:
    // a test that fails (and never closes its session) ends both with one signal.
    let driver = Command::new(CHROMEDRIVER)
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("a browser profile dir");
    let args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--autoplay-policy=no-user-gesture-required".into(),
        "--lang=zh-CN".into(),
        "--hide-scrollbars".into(),
        // Tests open pages in several tabs and read them in turn: a tab in the background
        // keeps its timers and its feed, as a screen of its own would.
        "--disable-background-timer-throttling".into(),
        "--disable-renderer-backgrounding".into(),
        "--disable-backgrounding-occluded-windows".into(),
        format!("--window-size={width},{height}"),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({ "binary": CHROMIUM, "args": args }));
    let url = format!("http://127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + PAGE_GUARD;
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
            Ok(c) => break c,
            Err(e) if tokio::time::Instant::now() > deadline => panic!("chromedriver did not start a session: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let session = client.session_id().await.ok().flatten().unwrap_or_default();
    Browser::new(client, pool::Held { driver, profile, port, session })
}

/// The browser a finished test kept (`pool`), with a `width`×`height` window; `None` (and
/// that browser ended) if it no longer answers.
async fn reuse(held: pool::Held, width: u32, height: u32) -> Option<Browser> {
    let url = format!("http://127.0.0.1:{}", held.port);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = match Client::with_existing_session(&url, &held.session, connector).await {
        Ok(c) => c,
        Err(_) => {
            pool::end(held);
            return None;
        }
    };
    let browser = Browser::new(client, held);
    match browser.client.set_window_size(width, height).await {
        Ok(()) => Some(browser),
        Err(_) => None,
    }
}

/// Starts a browser whose page area (not its window) is `width`×`height`, the size of the
/// screen a page is made for, with a screen's own behaviour (no phone emulation): the
/// window is grown by whatever its chrome takes.
pub async fn launch_page(test: &str, width: u32, height: u32) -> Option<Browser> {
    let browser = launch(test, width, height).await?;
    browser.goto("about:blank").await;
    let inner = browser.eval("return [window.innerWidth, window.innerHeight]").await;
    let (iw, ih) = (inner[0].as_u64().unwrap_or(0) as u32, inner[1].as_u64().unwrap_or(0) as u32);
    if (iw, ih) != (width, height) {
        let (w, h) = (width + width.saturating_sub(iw), height + height.saturating_sub(ih));
        browser.client.set_window_size(w, h).await.expect("resize the browser window");
    }
    Some(browser)
}

/// Two speaker zones over the example hall's sixty windows, to append to hall.toml: the
/// ground floor's windows 1-6 and the upstairs 7-60 (every window must be in a zone).
pub const ZONES: &str = r#"
[[zone]]
id = "1F"
name = "一楼大厅"
windows = ["1", "2", "3", "4", "5", "6"]

[[zone]]
id = "2F"
name = "二楼"
windows = [
    "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20",
    "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34",
    "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48",
    "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60",
]
"#;

/// Whether espeak-ng runs here. Without it a voice test is left out, loudly; with `CI`
/// set it fails instead, as a missing browser does.
pub fn espeak_or_skip(test: &str) -> bool {
    let ok = Command::new("espeak-ng").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("CI must run the voice tests, but espeak-ng is missing: .ci/run installs it");
        }
        say_loudly(&format!("\n*** PAGE TEST LEFT OUT: {test} — espeak-ng not found ***\n"));
    }
    ok
}

/// The kiosk of `token` on the daemon at `addr`, with `extra` query (`&idle=5`, or "").
pub fn kiosk_url(addr: impl std::fmt::Display, token: &str, extra: &str) -> String {
    format!("http://{addr}/display/kiosk?token={token}{extra}")
}

/// A script: whether the element matching `css` exists and is shown.
pub fn visible_js(css: &str) -> String {
    format!(
        "var e = document.querySelector('{css}');
         return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';"
    )
}

/// A Chrome DevTools command sent through chromedriver.
#[derive(Debug)]
pub struct Cdp {
    pub cmd: &'static str,
    pub params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, <Url as std::str::FromStr>::Err> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _url: &Url) -> (Method, Option<String>) {
        (Method::POST, Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()))
    }
}

/// Starts a browser whose page area is exactly `width`×`height` CSS pixels (a window has
/// browser chrome around its page, and Chromium's windows are at least 500 px wide, so a
/// phone is emulated instead); `mobile` gives it a phone's touch and viewport behaviour.
pub async fn launch_exact(test: &str, width: u32, height: u32, mobile: bool) -> Option<Browser> {
    let b = launch(test, width.max(500), height + 200).await?;
    let metrics = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile });
    b.cdp("Emulation.setDeviceMetricsOverride", metrics).await;
    if mobile {
        b.cdp("Emulation.setTouchEmulationEnabled", json!({ "enabled": true, "maxTouchPoints": 5 })).await;
    }
    Some(b)
}

impl Browser {
    /// Logs `user` in on the clerk console at `base` (`http://host:port`) and opens window
    /// `w`; returns when the console shows that window, idle.
    pub async fn open_clerk_window(&self, base: &str, user: &str, password: &str, w: &str) {
        self.goto(&format!("{base}/display/clerk")).await;
        self.type_into("#login-user", user).await;
        self.type_into("#login-password", password).await;
        self.click("#login-submit").await;
        self.click(&format!("#window-select [data-window=\"{w}\"]")).await;
        self.until("the open button to be enabled", "return !document.querySelector('#open-window').disabled;").await;
        self.click("#open-window").await;
        self.until(
            "the console to show an idle window",
            "return !document.querySelector('#screen-console').hidden
            && document.querySelector('#ticket-panel').dataset.state === 'open'
            && !document.querySelector('[data-action=\"next\"]').disabled;",
        )
        .await;
    }

    /// Waits until the kiosk shows its home screen: the catalogue's categories and bundles.
    pub async fn until_kiosk_home(&self) {
        self.until(
            "the kiosk home screen",
            "return document.querySelectorAll('#categories .k-cat').length > 0
                && document.querySelectorAll('#bundles [data-code]').length > 0
                && !document.querySelector('#view-home').hidden;",
        )
        .await;
    }

    /// Waits until the clerk console shows `number` as the current ticket.
    pub async fn until_clerk_number(&self, number: &str) {
        let js = format!("return document.querySelector('#current-number').textContent.trim() === '{number}';");
        self.until(&format!("the console to show {number}"), &js).await;
    }

    /// Sends one Chrome DevTools command, failing the test if it is refused.
    pub async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        let what = format!("{cmd} {params}");
        self.client.issue_cmd(Cdp { cmd, params }).await.unwrap_or_else(|e| panic!("DevTools {what}: {e}"))
    }

    /// Makes every page loaded from now on read `at_ms` (ms since the epoch) as the time of
    /// its load on `Date.now()`, so that a page compares times with a daemon on an
    /// injected clock.
    pub async fn set_page_clock(&self, at_ms: i64) {
        let source = format!(
            "(function () {{ var real = Date.now, off = {at_ms} - real(); Date.now = function () {{ return real() + off; }}; }})();"
        );
        self.cdp("Page.addScriptToEvaluateOnNewDocument", json!({ "source": source })).await;
    }

    /// Opens `url` in a new tab of this browser and makes it the current one; returns it,
    /// for `switch_to`. A tab shares the browser's storage (as a visitor's would), not its
    /// emulated screen size or clock: set those again in it.
    pub async fn open_tab(&self, url: &str) -> WindowHandle {
        let tab = self.client.new_window(true).await.unwrap_or_else(|e| panic!("a new tab: {e}")).handle;
        self.switch_to(&tab).await;
        self.speed_up_animations().await;
        self.goto(url).await;
        tab
    }

    /// Plays the current tab's animations at `ANIMATION_SPEED`, for every page it loads
    /// from now on.
    async fn speed_up_animations(&self) {
        self.cdp("Animation.setPlaybackRate", json!({ "playbackRate": ANIMATION_SPEED })).await;
    }

    /// Makes `tab` the current tab: what the test reads, clicks and shoots from now on.
    pub async fn switch_to(&self, tab: &WindowHandle) {
        self.client.switch_to_window(tab.clone()).await.unwrap_or_else(|e| panic!("switch to tab {tab:?}: {e}"));
    }

    /// The current tab.
    pub async fn tab(&self) -> WindowHandle {
        self.client.window().await.unwrap_or_else(|e| panic!("the current tab: {e}"))
    }

    pub async fn goto(&self, url: &str) {
        self.visit(url);
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PAGE_GUARD)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?} appeared: {e}"))
    }

    /// Clicks the first element matching `css`. A page that re-renders a list (on a feed
    /// message, say) may replace the element between finding and clicking it; then it is
    /// found again, for as long as `PAGE_GUARD`.
    pub async fn click(&self, css: &str) {
        let until = std::time::Instant::now() + PAGE_GUARD;
        loop {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(e) if e.to_string().contains("stale element") && std::time::Instant::now() < until => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("click {css:?}: {e}"),
            }
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
    }

    /// The rendered text (`innerText`) of the first element matching `css`. Not
    /// WebDriver's "visible text", which reads nothing from an element that is still fading
    /// in (opacity 0) — a race that made page tests flaky.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await;
        let selector = serde_json::to_string(css).expect("a selector serialises");
        let js = format!("var e = document.querySelector({selector}); return e ? e.innerText.trim() : null;");
        match self.eval(&js).await {
            Value::String(s) => s,
            other => panic!("text of {css:?}: {other}"),
        }
    }

    /// Runs `js` (a function body; `return` a value) in the page.
    pub async fn eval(&self, js: &str) -> Value {
        self.client.execute(js, vec![]).await.unwrap_or_else(|e| panic!("script failed: {e}\n{js}"))
    }

    /// Waits until `js` returns a truthy value; returns that value.
    pub async fn until(&self, what: &str, js: &str) -> Value {
        let deadline = tokio::time::Instant::now() + PAGE_GUARD;
        loop {
            let v = self.eval(js).await;
            let truthy =
                !matches!(v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("") && v != json!([]);
            if truthy {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                let shot = self.screenshot(&format!("hung-{}", what.replace(' ', "-"))).await;
                panic!("waited too long for {what} (screenshot {})", shot.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG of the page under `target/screenshots/NAME.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        let png = self.client.screenshot().await.expect("take a screenshot");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Ends the test's use of this browser: reset as a new one (see `pool`) and kept for
    /// the next test, or ended if it cannot be reset.
    pub async fn close(mut self) {
        let Some(held) = self.held.take() else { return };
        if self.reset().await.is_ok() && self.client.persist().await.is_ok() {
            pool::give(held);
        } else {
            let _ = self.client.clone().close().await;
            pool::end(held);
        }
    }

    /// Leaves the browser as a new one would be (`pool`): one blank tab, made after every
    /// other is closed; no cookies or cache; downloads as by default; the storage of every
    /// origin it was sent to cleared.
    async fn reset(&self) -> Result<(), fantoccini::error::CmdError> {
        let origins = std::mem::take(&mut *self.origins.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        for origin in origins {
            let params = json!({ "origin": origin, "storageTypes": "all" });
            self.client.issue_cmd(Cdp { cmd: "Storage.clearDataForOrigin", params }).await?;
        }
        for cmd in ["Network.clearBrowserCookies", "Network.clearBrowserCache"] {
            self.client.issue_cmd(Cdp { cmd, params: json!({}) }).await?;
        }
        // Downloads (browser_reports sends them to a temp dir of its own) as a new browser's.
        let params = json!({ "behavior": "default" });
        self.client.issue_cmd(Cdp { cmd: "Browser.setDownloadBehavior", params }).await?;
        let fresh = self.client.new_window(true).await?.handle;
        for tab in self.client.windows().await? {
            if tab != fresh {
                self.client.switch_to_window(tab).await?;
                self.client.close_window().await?;
            }
        }
        self.client.switch_to_window(fresh).await
    }

    fn new(client: Client, held: pool::Held) -> Self {
        Self { client, held: Some(held), origins: Mutex::new(BTreeSet::new()) }
    }

    /// Notes `url`'s origin, whose storage `close` clears.
    fn visit(&self, url: &str) {
        if let Ok(u) = Url::parse(url) {
            if let url::Origin::Tuple(..) = u.origin() {
                let mut origins = self.origins.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                origins.insert(u.origin().ascii_serialization());
            }
        }
    }
}

impl Drop for Browser {
    /// A test that panicked never gave its browser back: end chromedriver's whole process
    /// group, Chromium with it, not chromedriver alone (which would leave Chromium running).
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            pool::end(held);
        }
    }
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("screenshots")
}
