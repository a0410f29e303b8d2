//! The lobby screen and the window screen in a real browser (headless Chromium), against a
//! real daemon: a call shows and is queued for speaking, both TV orientations, the lobby
//! riding out a daemon restart, and the small screen above a window.
//! Screenshots go to target/screenshots/ (lobby-*, window-*).

use crate::browser_support;
use crate::support;

use browser_support::launch_page;

use std::sync::Arc;

use hallq::daemon::{serve, DaemonError, Options};
use serde_json::json;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const LOBBY_LIVE: &str = r#"return document.querySelector('#conn-state').dataset.state === 'live'"#;

fn current_number_is(number: &str) -> String {
    format!("return document.querySelector('#current-number').textContent.trim() === {number:?}")
}

fn spoken(text: &str) -> String {
    format!("return Array.isArray(window.hallqSpoken) && window.hallqSpoken.includes({text:?})")
}

/// Waits until the page's one-off animations (a call's flash) have finished, so that a
/// screenshot shows the screen at rest.
async fn settle(browser: &browser_support::Browser) {
    browser
        .until(
            "animations to finish",
            "return document.getAnimations().every(a => a.effect.getComputedTiming().iterations === Infinity)",
        )
        .await;
}

/// Asserts that the lobby fits its screen: no panel past the bottom or the right edge, and
/// no row of a list cut off by its panel, no text running out of its tile or card.
async fn assert_fits(browser: &browser_support::Browser) {
    let cut = browser
        .eval(
            "const W = window.innerWidth, H = window.innerHeight, out = [];
             for (const p of document.querySelectorAll('.panel, .foot, .bar')) {
               const r = p.getBoundingClientRect();
               if (r.bottom > H + 1 || r.right > W + 1) out.push(p.className);
               for (const li of p.querySelectorAll('li')) {
                 const q = li.getBoundingClientRect();
                 if (q.bottom > r.bottom + 1 || q.right > r.right + 1) out.push(p.className + ' ' + li.textContent);
                 // Nor may a text run past its tile or card (a long wait, a long number).
                 for (const part of li.querySelectorAll('*')) {
                   const c = part.getBoundingClientRect();
                   if (c.width > 0 && (c.right > q.right + 1 || c.left < q.left - 1)) out.push('in ' + li.textContent + ': ' + part.textContent);
                 }
               }
             }
             return out",
        )
        .await;
    assert_eq!(cut, json!([]), "parts of the lobby do not fit the screen");
}

/// Issues `n` tickets for an item of `queue`.
async fn issue_n(api: &support::Api, queue: &str, n: usize) {
    let item = api.item_in(queue).await;
    for _ in 0..n {
        api.issue(&item).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lobby_shows_and_announces_a_call_landscape() {
    let Some(browser) = launch_page("lobby_shows_and_announces_a_call_landscape", 1920, 1080).await else {
        return;
    };
    let d = support::Daemon::start().await;
    browser.goto(&d.api.url("/display/lobby")).await;
    browser.until("the lobby is live", LOBBY_LIVE).await;
    browser.until("the hall name", "return document.querySelector('#hall-name').textContent.includes('青川区')").await;
    // Headless Chromium runs with autoplay allowed: no "enable sound" prompt.
    browser.until("the voice state is known", "return !document.querySelector('#voice-state').hidden").await;
    assert_eq!(browser.eval("return document.querySelector('#sound-gate').hidden").await, json!(true));
    settle(&browser).await;
    browser.screenshot("lobby-idle").await;

    issue_n(&d.api, "A", 3).await;
    issue_n(&d.api, "B", 2).await;
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    let ticket = d.api.call_next(&clerk, "1").await;
    assert_eq!(ticket["number"], "A001");

    browser.until("A001 is the current call", &current_number_is("A001")).await;
    browser.until("the call is queued for speaking", &spoken("请A001号到1号窗口办理")).await;
    assert!(browser.text("#current-window").await.contains('1'), "the current call names window 1");
    let first_recent = browser.text("#recent-calls li").await;
    assert!(first_recent.contains("A001"), "the newest recent call is A001: {first_recent}");
    browser
        .until(
            "queue A shows 2 waiting",
            "return document.querySelector('#queues [data-queue=A] .waiting').textContent.trim() === '2'",
        )
        .await;
    browser
        .until(
            "window 1 shows its ticket",
            "return document.querySelector('#windows [data-window=\"1\"]').textContent.includes('A001')",
        )
        .await;
    // Nothing personal on the screen: no clerk's user name.
    let body = browser.eval("return document.body.innerText").await;
    assert!(!body.as_str().unwrap_or_default().contains("clerk1"), "the lobby shows a clerk's name");
    assert_fits(&browser).await;
    // The current call is exactly one spoken entry.
    let n = browser.eval("return window.hallqSpoken.length").await;
    assert_eq!(n, json!(1), "one call, one announcement");
    settle(&browser).await;
    browser.screenshot("lobby-landscape").await;

    // English, then back to Chinese for whoever opens the page next.
    browser.click("#lang-toggle .lang-toggle").await;
    browser.until("English labels", "return document.documentElement.lang === 'en'").await;
    settle(&browser).await;
    browser.screenshot("lobby-landscape-en").await;
    browser.click("#lang-toggle .lang-toggle").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lobby_portrait_with_a_busy_hall() {
    let Some(browser) = launch_page("lobby_portrait_with_a_busy_hall", 1080, 1920).await else {
        return;
    };
    let d = support::Daemon::start().await;
    browser.goto(&d.api.url("/display/lobby")).await;
    browser.until("the lobby is live", LOBBY_LIVE).await;

    issue_n(&d.api, "A", 14).await;
    issue_n(&d.api, "B", 3).await;
    // The appointment queue takes no walk-in: two more A tickets instead.
    issue_n(&d.api, "A", 2).await;
    issue_n(&d.api, "V", 1).await;
    let mut last = String::new();
    for w in ["1", "2", "3", "4", "5", "6", "7", "10"] {
        let clerk = d.api.login(&format!("clerk{w}")).await;
        d.api.window_ok(&clerk, w, "open", None).await;
        let t = d.api.call_next(&clerk, w).await;
        last = t["number"].as_str().expect("a number").to_string();
        if w == "3" || w == "5" {
            d.api.window_ok(&clerk, w, "serve", None).await;
        }
        if w == "6" {
            d.api.window_ok(&clerk, w, "serve", None).await;
            d.api.window_ok(&clerk, w, "done", Some(json!({ "outcome": "completed" }))).await;
            d.api.window_ok(&clerk, w, "pause", None).await;
        }
    }
    let clerk8 = d.api.login("clerk8").await;
    d.api.window_ok(&clerk8, "8", "open", None).await;

    // The big panel shows the call being said, in call order (browser_burst checks it); the
    // newest call heads the recent list at once.
    let newest_first =
        format!("return (document.querySelector('#recent-calls li')?.textContent || '').includes('{last}')");
    browser.until("the last call heads the recent list", &newest_first).await;
    browser.until("eight recent calls", "return document.querySelectorAll('#recent-calls li').length === 8").await;
    browser
        .until(
            "nine windows shown",
            "return document.querySelectorAll('#windows li:not([data-state=closed])').length === 9",
        )
        .await;
    let spoken_n = browser.eval("return window.hallqSpoken.length").await;
    assert_eq!(spoken_n, json!(8), "each of the eight calls is queued for speaking once");
    assert_fits(&browser).await;
    settle(&browser).await;
    browser.screenshot("lobby-portrait").await;
    calls_at_the_far_end_of_sixty_windows(&browser, &d.api).await;
    browser.close().await;
}

/// The example hall's sixty windows crowd the board (ten narrow tiles a row), and in
/// portrait a busy recent list takes the board's place: the sixty tiles show whole while
/// eight calls are recent; then calls at windows 47 and 58 show on their tiles, in the
/// recent list and on the big panel, each on screen, whole and over no other tile or row.
async fn calls_at_the_far_end_of_sixty_windows(browser: &browser_support::Browser, api: &support::Api) {
    browser.until("sixty window tiles", "return document.querySelectorAll('#windows li').length === 60").await;
    let tiles: Vec<String> =
        ["1", "47", "58", "60"].iter().map(|w| format!("#windows li[data-window=\"{w}\"]")).collect();
    let board: Vec<String> = tiles.iter().flat_map(|t| [format!("{t} .win-id"), format!("{t} .win-ticket")]).collect();
    whole_on_screen(browser, &board, "the sixty windows' board").await;
    let mut parts = vec!["#current-number".to_string(), "#current-window".to_string()];
    let (mut last, mut far_tiles) = (String::new(), Vec::new());
    for w in ["47", "58"] {
        let clerk = api.login(&format!("clerk{w}")).await;
        api.window_ok(&clerk, w, "open", None).await;
        last = api.call_next(&clerk, w).await["number"].as_str().expect("a number").to_string();
        let tile = format!("#windows li[data-window=\"{w}\"]");
        let shows = format!("return document.querySelector('{tile} .win-ticket')?.textContent === '{last}'");
        browser.until(&format!("window {w}'s tile shows {last}"), &shows).await;
        let row = format!("#recent-calls li[data-number=\"{last}\"][data-window=\"{w}\"]");
        let listed = format!("return !!document.querySelector('{row}')");
        browser.until(&format!("{last} to window {w} in the recent list"), &listed).await;
        parts.extend([format!("{row} .rc-number"), format!("{row} .rc-window")]);
        far_tiles.extend([format!("{tile} .win-id"), format!("{tile} .win-ticket")]);
    }
    // The big panel follows the voice, which says the ten calls in turn (about 3 s each):
    // longer than one page guard.
    let hero = format!(
        "return document.querySelector('#current-number').textContent.trim() === '{last}' \
         && document.querySelector('#current-window').textContent.includes('58')"
    );
    let deadline = tokio::time::Instant::now() + 3 * browser_support::PAGE_GUARD;
    while browser.eval(&hero).await != json!(true) {
        assert!(tokio::time::Instant::now() < deadline, "the big panel never showed {last} at window 58");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_fits(browser).await;
    settle(browser).await;
    browser.screenshot("lobby-portrait-sixty").await;
    if browser.eval("return document.querySelector('.board.is-recent-tall') === null").await == json!(true) {
        parts.extend(far_tiles);
    }
    whole_on_screen(browser, &parts, "the far windows' calls").await;
}

/// Asserts that each of `selectors` is on screen and whole, and that no two window tiles
/// or recent rows overlap.
async fn whole_on_screen(browser: &browser_support::Browser, selectors: &[String], what: &str) {
    let problems = browser.eval(&format!("{WHOLE_ON_SCREEN}\nreturn whole({})", json!(selectors))).await;
    assert_eq!(problems, json!([]), "what a visitor reads of {what}");
}

/// A page function `whole(selectors)`: what is wrong with each element a visitor must read
/// (missing, hidden, off the screen, clipped by a box that hides overflow), and any two
/// window tiles or recent rows that overlap.
const WHOLE_ON_SCREEN: &str = r#"
function whole(selectors) {
  const W = window.innerWidth, H = window.innerHeight, out = [];
  const inside = (r, b) => r.left >= b.left - 1 && r.right <= b.right + 1 && r.top >= b.top - 1 && r.bottom <= b.bottom + 1;
  for (const sel of selectors) {
    const e = document.querySelector(sel);
    if (!e) { out.push(sel + ': missing'); continue; }
    const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
    if (r.width < 1 || r.height < 1 || cs.visibility !== 'visible' || e.textContent.trim() === '') out.push(sel + ': not shown');
    const clips = cs.overflow !== 'visible' || cs.textOverflow === 'ellipsis';
    if (clips && (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)) out.push(sel + ': text cut off');
    // The text's own boxes, which may stand out of the element's (large type, tight lines).
    const range = document.createRange();
    range.selectNodeContents(e);
    const b = range.getBoundingClientRect(), t = b.width || b.height ? b : r;
    const ink = { left: Math.min(r.left, t.left), top: Math.min(r.top, t.top), right: Math.max(r.right, t.right), bottom: Math.max(r.bottom, t.bottom) };
    for (let a = e.parentElement; a; a = a.parentElement) {
      if (getComputedStyle(a).overflow !== 'visible' && !inside(ink, a.getBoundingClientRect())) out.push(sel + ': clipped by ' + a.className);
    }
    if (!inside(ink, { left: 0, top: 0, right: W, bottom: H })) out.push(sel + ': off the screen ' + JSON.stringify(ink));
  }
  for (const list of ['#windows > li', '#recent-calls > li']) {
    const rs = [...document.querySelectorAll(list)].map(e => [e, e.getBoundingClientRect()]);
    rs.forEach(([e, a], i) => rs.slice(i + 1).forEach(([f, b]) => {
      if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1)
        out.push(list + ': ' + e.textContent + ' over ' + f.textContent);
    }));
  }
  return out;
}
"#;

/// A daemon started by this test on a port of its choosing (the harness's restart picks a
/// new port, but a lobby screen reconnects to the address it was opened at).
struct SamePortDaemon {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), DaemonError>>,
}

impl SamePortDaemon {
    async fn start(addr: std::net::SocketAddr, data: Arc<TempDir>) -> Self {
        let config = hallq::config::embedded_default().expect("the example hall loads");
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind the lobby's port again");
        let options = Options { data_dir: data.path().to_path_buf(), always_open: true, clock: None };
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, config, options, async move {
            let _ = stop_rx.await;
        }));
        let api = support::Api::new(addr);
        let health = api.get("/healthz", None).await;
        assert_eq!(health.status, 200, "{}", health.text);
        Self { stop: Some(stop_tx), task }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let result = support::guard("daemon shutdown", self.task).await.expect("the daemon task did not panic");
        result.expect("the daemon stopped cleanly");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lobby_rides_out_a_daemon_restart() {
    let Some(browser) = launch_page("lobby_rides_out_a_daemon_restart", 1920, 1080).await else {
        return;
    };
    let d = support::Daemon::start().await;
    let addr = d.addr;
    let api = d.api.clone();
    browser.goto(&api.url("/display/lobby")).await;
    browser.until("the lobby is live", LOBBY_LIVE).await;

    issue_n(&api, "A", 3).await;
    let clerk = api.login("clerk2").await;
    d.api.window_ok(&clerk, "2", "open", None).await;
    d.api.call_next(&clerk, "2").await;
    browser.until("A001 is the current call", &current_number_is("A001")).await;

    let (data, _clock) = d.stop().await;
    browser
        .until(
            "the lobby says it is reconnecting",
            "const c = document.querySelector('#conn-state[data-state=reconnecting]');
             const b = document.querySelector('#reconnect-banner');
             return c && b && !b.hidden && b.getBoundingClientRect().height > 0",
        )
        .await;
    settle(&browser).await;
    browser.screenshot("lobby-reconnecting").await;

    let again = SamePortDaemon::start(addr, data).await;
    // The log carried the state over: window 2 still calls A001, and it calls on at once,
    // most often before the lobby (waiting between attempts) is back: the daemon then holds
    // nothing from before its start, the lobby gets a snapshot, and A002 is told after it
    // as a call it missed. Either way the lobby must say it.
    let clerk = api.login("clerk2").await;
    api.window_ok(&clerk, "2", "serve", None).await;
    api.window_ok(&clerk, "2", "done", Some(json!({ "outcome": "completed" }))).await;
    let next = api.call_next(&clerk, "2").await;
    assert_eq!(next["number"], "A002");
    browser.until("the lobby is live again", LOBBY_LIVE).await;
    browser.until("A002 is the current call", &current_number_is("A002")).await;
    browser.until("A002 is queued for speaking", &spoken("请A002号到2号窗口办理")).await;
    browser
        .until("A002 is said", "return (window.__announced || []).some(a => a.number === 'A002' && a.start > 0)")
        .await;
    browser.until("the banner is gone", "return document.querySelector('#reconnect-banner').hidden").await;
    browser
        .until(
            "queue A shows 1 waiting",
            "return document.querySelector('#queues [data-queue=A] .waiting').textContent.trim() === '1'",
        )
        .await;
    let recent =
        browser.eval("return [...document.querySelectorAll('#recent-calls li')].map(l => l.dataset.number)").await;
    assert_eq!(recent, json!(["A002", "A001"]), "the recent calls survive the restart");
    settle(&browser).await;
    browser.screenshot("lobby-after-restart").await;
    browser.close().await;
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn window_screen_shows_calls_and_pause() {
    let Some(browser) = launch_page("window_screen_shows_calls_and_pause", 800, 450).await else {
        return;
    };
    let d = support::Daemon::start().await;
    issue_n(&d.api, "A", 2).await;
    browser.goto(&d.api.url("/display/window?id=5")).await;
    browser.until("the window name", "return document.querySelector('#window-name').textContent.includes('5号')").await;
    browser
        .until("window 5 is closed", "return document.querySelector('#window-state').dataset.state === 'closed'")
        .await;
    settle(&browser).await;
    browser.screenshot("window-closed").await;

    let clerk = d.api.login("clerk5").await;
    d.api.window_ok(&clerk, "5", "open", None).await;
    browser.until("window 5 is open", "return document.querySelector('#window-state').dataset.state === 'open'").await;
    let t = d.api.call_next(&clerk, "5").await;
    assert_eq!(t["number"], "A001");
    browser
        .until(
            "A001 on the window screen",
            "return document.querySelector('#window-number').textContent.trim() === 'A001'",
        )
        .await;
    browser
        .until("window 5 is calling", "return document.querySelector('#window-state').dataset.state === 'calling'")
        .await;
    settle(&browser).await;
    browser.screenshot("window-calling").await;

    d.api.window_ok(&clerk, "5", "serve", None).await;
    browser
        .until("window 5 is serving", "return document.querySelector('#window-state').dataset.state === 'serving'")
        .await;
    settle(&browser).await;
    browser.screenshot("window-serving").await;
    d.api.window_ok(&clerk, "5", "done", Some(json!({ "outcome": "completed" }))).await;
    d.api.window_ok(&clerk, "5", "pause", None).await;
    browser
        .until("window 5 is paused", "return document.querySelector('#window-state').dataset.state === 'paused'")
        .await;
    let state_text = browser.text("#window-state").await;
    assert!(state_text.contains("暂停服务"), "the paused window says so: {state_text}");
    settle(&browser).await;
    browser.screenshot("window-paused").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn index_lists_every_page() {
    let Some(browser) = launch_page("index_lists_every_page", 1280, 900).await else {
        return;
    };
    let d = support::Daemon::start().await;
    browser.goto(&d.api.url("/")).await;
    browser.until("the hall's windows", "return document.querySelectorAll('#window-links a').length === 60").await;
    // The demo kiosk's token comes with the demo credentials, once the daemon has checked them.
    browser
        .until(
            "the demo kiosk link",
            "return !!document.querySelector('a[href=\"/display/kiosk?token=demo-kiosk-1\"]')",
        )
        .await;
    let links = browser.eval("return [...document.querySelectorAll('a')].map(a => a.getAttribute('href'))").await;
    for want in [
        "/display/lobby",
        "/display/kiosk?token=demo-kiosk-1",
        "/display/clerk",
        "/display/window?id=12",
        "/display/window?id=60",
    ] {
        assert!(links.as_array().is_some_and(|l| l.contains(&json!(want))), "the index links {want}: {links}");
    }
    browser.until("the hall name", "return document.querySelector('#hall-name').textContent.includes('青川区')").await;
    browser.screenshot("index").await;
    browser.close().await;
}
