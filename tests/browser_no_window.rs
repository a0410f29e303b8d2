//! Issue 15: "a queue no open window serves shows 暂无窗口办理 rather than a number". In
//! headless Chromium against a real daemon with every window closed, four pages side by
//! side in tabs — the lobby, the kiosk (its ticket on screen and in the print layout), the
//! ticket's status page and the supervisor's — say 暂无窗口办理 for queue A, not a figure,
//! not "—", not "超过 4 小时"; then a clerk opens window 1 (A) and each turns to a wait in
//! minutes, worded the same on every page, the lobby's and the supervisor's as the wait of
//! a ticket taken now. The appointment queue Y, which takes no walk-in, says 仅限预约签到
//! on the lobby and the supervisor's page whether a window serving it is open or not.
//! Screenshots under target/screenshots/no-window-*.png.

use crate::browser_support;
use crate::support;

use browser_support::{launch_exact, Browser};
use serde_json::{json, Value};
use support::Daemon;

const NO_WINDOW: &str = "暂无窗口办理";
const BOOKED_ONLY: &str = "仅限预约签到";

/// A wait in minutes as every page words it: "约 12 分钟" (or "约 1 小时 20 分").
const MINUTES_JS: &str = "function minutes(s) { return /^约 \\d+ (分钟|小时)( \\d+ 分)?$/.test(s); }";

async fn screen(b: &Browser, width: u32, height: u32, mobile: bool) {
    let metrics = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile });
    b.cdp("Emulation.setDeviceMetricsOverride", metrics).await;
}

async fn media(b: &Browser, media: &str) {
    b.cdp("Emulation.setEmulatedMedia", json!({ "media": media })).await;
}

/// Takes an A ticket on the kiosk in the current tab; returns its number and its status
/// page (with the visitor's key, as the QR code has it).
async fn take_a(b: &Browser, d: &Daemon, code: &str) -> (String, String) {
    b.until_kiosk_home().await;
    b.click("#queues .k-queue[data-queue=\"A\"]").await;
    b.click(&format!("#list [data-code=\"{code}\"]")).await;
    b.click("#take").await;
    let qr = b
        .until(
            "the ticket with its QR code",
            "var v = document.querySelector('#view-ticket'), q = document.querySelector('#ticket-qr');
             return !v.hidden && q.complete && q.naturalWidth > 0 && q.getAttribute('src');",
        )
        .await;
    let src = qr.as_str().expect("a QR source").to_string();
    // /api/v1/tickets/ID/qr.svg?k=KEY
    let id = src.trim_start_matches("/api/v1/tickets/").split('/').next().expect("an id").to_string();
    let key = src.split("k=").nth(1).expect("a key").to_string();
    let number = b.text("#ticket-number").await;
    (number, format!("http://{}/t/{id}?k={key}", d.addr))
}

/// The supervisor's row of queue `q`: its expected-wait cell.
fn supervisor_eta_js(q: &str) -> String {
    format!("var r = document.querySelector('#queue-rows tr[data-queue=\"{q}\"]'); return r ? r.querySelector('.sv-eta').textContent : '';")
}

fn lobby_eta_js(q: &str) -> String {
    format!("var e = document.querySelector('#queues .q[data-queue=\"{q}\"] .q-eta'); return e ? e.innerText.replace(/\\s+/g, ' ').trim() : '';")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_says_no_window_open_until_one_opens_then_a_wait_in_minutes() {
    let test = "every_page_says_no_window_open_until_one_opens_then_a_wait_in_minutes";
    let Some(b) = launch_exact(test, 1920, 1080, false).await else {
        return;
    };
    let d = Daemon::start().await;
    let code = d.api.item_in("A").await;
    // Five A tickets already wait: once one window opens, the next has a real wait.
    for _ in 0..5 {
        d.api.issue(&code).await;
    }
    let base = format!("http://{}", d.addr);

    // The lobby.
    b.goto(&format!("{base}/display/lobby")).await;
    let lobby = b.tab().await;
    let js = format!("return ({})() === '{NO_WINDOW}';", wrap(&lobby_eta_js("A")));
    b.until("the lobby's A row to say no window", &js).await;
    b.until(
        "every walk-in queue to say no window, Y booked visitors only",
        &format!(
            "var all = document.querySelectorAll('#queues .q');
         return all.length === 5 && Array.prototype.every.call(all, function (q) {{
           var said = q.querySelector('.q-eta').innerText.trim();
           return said === (q.getAttribute('data-queue') === 'Y' ? '{BOOKED_ONLY}' : '{NO_WINDOW}');
         }});"
        ),
    )
    .await;
    b.screenshot("no-window-lobby").await;

    // The kiosk, portrait: the ticket says it, on screen and on paper.
    let kiosk = b.open_tab(&format!("{base}/display/kiosk?token={}", support::KIOSK)).await;
    screen(&b, 1080, 1920, false).await;
    let home = b.until("the kiosk's A card", "var e = document.querySelector('#queues .k-queue[data-queue=\"A\"] .k-queue-wait'); return e && e.textContent.indexOf('等候') >= 0 && e.textContent;").await;
    assert_eq!(home, Value::from(format!("等候 5 人 · {NO_WINDOW}")), "the kiosk's home card");
    let (first, status_url) = take_a(&b, &d, &code).await;
    assert_eq!(first, "A006");
    assert_eq!(b.text("#ticket-eta").await, NO_WINDOW);
    assert_eq!(b.text("#ticket-ahead").await, "5 人");
    b.screenshot("no-window-kiosk-ticket").await;
    media(&b, "print").await;
    let printed = b.eval("var e = document.querySelector('#ticket-eta'); return e.getClientRects().length > 0 ? e.innerText.trim() : null;").await;
    assert_eq!(printed, Value::from(NO_WINDOW), "the print layout shows the wait");
    b.screenshot("no-window-kiosk-print").await;
    media(&b, "").await;
    b.click("#done").await;

    // The ticket's status page, on a phone.
    let status = b.open_tab(&status_url).await;
    screen(&b, 390, 844, true).await;
    b.until(
        "the status page's wait",
        &format!("return document.querySelector('#eta').innerText.trim() === '{NO_WINDOW}';"),
    )
    .await;
    b.screenshot("no-window-status").await;

    // The supervisor's page.
    let sup = b.open_tab(&format!("{base}/display/supervisor")).await;
    screen(&b, 1440, 900, false).await;
    b.type_into("#login-user", "supervisor").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until(
        "the supervisor's A row to say no window",
        &format!("return ({})() === '{NO_WINDOW}';", wrap(&supervisor_eta_js("A"))),
    )
    .await;
    let header = b.text("#screen-main th[data-i18n=\"q_eta\"]").await;
    assert_eq!(header, "现在取号等候", "the column says whose wait it is");
    b.screenshot("no-window-supervisor").await;

    // A clerk opens window 1 (A and Y): every page turns to minutes, B stays without.
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    let api_eta = |t: &Value| t["eta_minutes"].as_u64();
    let ticket = d
        .api
        .get(&format!("/api/v1/tickets/{}", status_url.split("/t/").nth(1).unwrap().split('?').next().unwrap()), None)
        .await;
    let m = api_eta(&ticket.body).expect("a wait once window 1 is open");
    assert!(m > 0, "five ahead at one window: {}", ticket.text);

    b.until(
        "the supervisor's A row in minutes",
        &format!("{MINUTES_JS} return minutes(({})());", wrap(&supervisor_eta_js("A"))),
    )
    .await;
    assert_eq!(b.eval(&supervisor_eta_js("B")).await, Value::from(NO_WINDOW));
    assert_eq!(
        b.eval(&supervisor_eta_js("Y")).await,
        Value::from(BOOKED_ONLY),
        "window 1 serves Y, which takes no walk-in"
    );
    b.screenshot("window-open-supervisor").await;

    b.switch_to(&status).await;
    b.until(
        "the status page's wait in minutes",
        &format!("{MINUTES_JS} return minutes(document.querySelector('#eta').innerText.trim());"),
    )
    .await;
    let eta = b.text("#eta").await;
    // The API's wait, worded as the printed ticket words it.
    assert_eq!(eta, hallq::printer::ticket::wait_words(u32::try_from(m).ok(), false), "the status page");
    b.screenshot("window-open-status").await;

    b.switch_to(&lobby).await;
    b.until(
        "the lobby's A row in minutes",
        &format!(
            "{MINUTES_JS} var e = document.querySelector('#queues .q[data-queue=\"A\"] .q-eta');
         return e.querySelector('.q-eta-k') && e.querySelector('.q-eta-k').textContent === '现在取号'
            && minutes(e.querySelector('.q-eta-v').textContent);"
        ),
    )
    .await;
    let b_row = b.eval(&lobby_eta_js("B")).await;
    assert_eq!(b_row, Value::from(NO_WINDOW), "no open window serves B");
    assert_eq!(b.eval(&lobby_eta_js("Y")).await, Value::from(BOOKED_ONLY), "no wait for a walk-in told in Y");
    // The lobby's figure is the supervisor's: both the wait of a ticket taken now.
    let lobby_a = b.eval("return document.querySelector('#queues .q[data-queue=\"A\"] .q-eta-v').textContent;").await;
    b.screenshot("window-open-lobby").await;
    b.switch_to(&sup).await;
    b.until(
        "the supervisor to agree with the lobby",
        &format!("return ({})() === {lobby_a};", wrap(&supervisor_eta_js("A"))),
    )
    .await;

    b.switch_to(&kiosk).await;
    let home = format!(
        "{MINUTES_JS} var e = document.querySelector('#queues .k-queue[data-queue=\"A\"] .k-queue-wait');
         var parts = e ? e.textContent.split(' · ') : [];
         return parts[0] === '等候 6 人' && minutes(parts[1]);"
    );
    b.until("the kiosk's A card in minutes, without a reload", &home).await;
    let (next, _) = take_a(&b, &d, &code).await;
    assert_eq!(next, "A007");
    let eta = b.text("#ticket-eta").await;
    assert!(eta.starts_with("约 ") && (eta.ends_with(" 分钟") || eta.contains("小时")), "the kiosk's ticket: {eta}");
    b.screenshot("window-open-kiosk-ticket").await;
    b.close().await;
}

/// `js` (statements ending in a `return`) as a function expression.
fn wrap(js: &str) -> String {
    format!("function () {{ {js} }}")
}
