//! The clerk console (`/display/clerk`) in headless Chromium against a real daemon: a clerk
//! logs in, opens window 1, calls, serves and finishes tickets with the buttons and with
//! the keyboard; a double click on "next" calls one ticket only; a call from the
//! console reaches the lobby screen in a second browser, shown and queued to be spoken.
//! The call-by-number dialog and the words for each call rule are in
//! browser_clerk_number.rs.

use crate::browser_support;
use crate::support;

use std::time::Instant;

use browser_support::Browser;
use fantoccini::key::Key;
use serde_json::{json, Value};
use support::Daemon;

/// The text of the number the console shows.
pub(crate) const NUMBER_JS: &str = "return document.querySelector('#current-number').textContent.trim();";

/// Logs `user` in on the console page and opens window `w`; returns when the console
/// shows that window, idle.
pub(crate) async fn sign_in_and_open(b: &Browser, d: &Daemon, user: &str, w: &str) {
    b.open_clerk_window(&format!("http://{}", d.addr), user, support::PASSWORD, w).await;
}

/// Waits until the console shows `number` as the current ticket.
pub(crate) async fn until_number(b: &Browser, number: &str) {
    b.until_clerk_number(number).await;
}

/// Waits until the console's window is in `state` and no request is in flight.
pub(crate) async fn until_state(b: &Browser, state: &str) {
    let js = format!(
        "return document.querySelector('#ticket-panel').dataset.state === '{state}'
            && !document.querySelector('.ck-act.is-busy');"
    );
    b.until(&format!("the window to be {state}"), &js).await;
}

/// Whether the action button `action` can be clicked now.
pub(crate) async fn enabled(b: &Browser, action: &str) -> bool {
    let js = format!(
        "var e = document.querySelector('[data-action=\"{action}\"]'); return !!e && !e.disabled && !e.hidden;"
    );
    b.eval(&js).await == Value::Bool(true)
}

pub(crate) async fn press(b: &Browser, key: &str) {
    b.find("body").await.send_keys(key).await.unwrap_or_else(|e| panic!("press {key:?}: {e}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn clerk_logs_in_calls_serves_and_finishes() {
    let Some(b) = browser_support::launch("clerk_logs_in_calls_serves_and_finishes", 1366, 768).await else {
        return;
    };
    let d = Daemon::start().await;
    let item = d.api.item_in("A").await;
    let first = d.api.issue(&item).await;
    let second = d.api.issue(&item).await;
    assert_eq!(first["number"], "A001");
    assert_eq!(second["number"], "A002");

    // A PC set to another time zone still shows the hall's times.
    b.cdp("Emulation.setTimezoneOverride", serde_json::json!({ "timezoneId": "America/New_York" })).await;
    // A wrong password is refused in plain words, on the page.
    b.goto(&format!("http://{}/display/clerk", d.addr)).await;
    b.type_into("#login-user", "clerk1").await;
    b.type_into("#login-password", "wrong").await;
    b.click("#login-submit").await;
    b.until("the login error", "return !document.querySelector('#login-error').hidden;").await;
    let error = b.text("#login-error").await;
    assert!(error.contains("密码"), "the login error should say the password is wrong: {error}");
    b.screenshot("clerk-login-error").await;

    sign_in_and_open(&b, &d, "clerk1", "1").await;
    for action in ["recall", "serve", "done", "done-incomplete", "no-show", "transfer", "resume"] {
        assert!(!enabled(&b, action).await, "{action} must be disabled at an idle window");
    }
    assert!(enabled(&b, "pause").await && enabled(&b, "close").await);
    b.screenshot("clerk-idle").await;

    b.click("[data-action=\"next\"]").await;
    until_number(&b, "A001").await;
    until_state(&b, "calling").await;
    assert!(!enabled(&b, "next").await, "next must be disabled while a ticket is called");
    assert!(enabled(&b, "serve").await && enabled(&b, "recall").await && enabled(&b, "no-show").await);
    b.screenshot("clerk-calling").await;
    let issued = first["issued_at"].as_str().expect("an issue time");
    assert_eq!(b.text("#t-issued").await, issued[11..16], "the hall's time of issue, not New York's");

    b.click("[data-action=\"serve\"]").await;
    until_state(&b, "serving").await;
    assert!(enabled(&b, "done").await && enabled(&b, "done-incomplete").await && enabled(&b, "transfer").await);
    // The current ticket shows its item by name and the materials to check.
    let catalog = d.api.catalog().await;
    let entry = catalog["items"].as_array().unwrap().iter().find(|i| i["code"] == item.as_str()).unwrap().clone();
    let items = b.text("#ticket-items").await;
    assert!(items.contains(entry["name"].as_str().unwrap()), "the item's name is shown: {items}");
    let material = entry["materials"][0].as_str().unwrap();
    assert!(items.contains(material), "the item's materials are shown: {items}");
    // The serving time ticks.
    b.until("the serving timer", "return /^\\d+:\\d\\d$/.test(document.querySelector('#t-live').textContent);").await;
    b.screenshot("clerk-serving").await;

    b.click("[data-action=\"done\"]").await;
    until_state(&b, "open").await;
    let done = d.api.ticket(first["id"].as_str().unwrap()).await;
    assert_eq!(done.body["status"], "done", "{}", done.text);
    assert_eq!(done.body["outcome"], "completed", "{}", done.text);

    b.click("[data-action=\"next\"]").await;
    until_number(&b, "A002").await;
    until_state(&b, "calling").await;

    // A reload keeps the session and the window with its ticket.
    b.client.refresh().await.expect("reload");
    until_number(&b, "A002").await;
    until_state(&b, "calling").await;

    // Nothing left: "next" says so without calling anyone.
    b.click("[data-action=\"no-show\"]").await;
    until_state(&b, "open").await;
    b.click("[data-action=\"next\"]").await;
    b.until("the nobody-waiting notice", "return !document.querySelector('#toast').hidden;").await;
    until_state(&b, "open").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_double_click_on_next_calls_one_ticket() {
    let Some(b) = browser_support::launch("a_double_click_on_next_calls_one_ticket", 1366, 768).await else {
        return;
    };
    let d = Daemon::start().await;
    let item = d.api.item_in("A").await;
    let first = d.api.issue(&item).await;
    let second = d.api.issue(&item).await;
    sign_in_and_open(&b, &d, "clerk1", "1").await;

    // Count the page's calls of `next`, then click twice in the same tick.
    b.eval(
        "window.__nextPosts = 0;
         var f = window.fetch;
         window.fetch = function (url, init) {
           if (String(url).endsWith('/next') && init && init.method === 'POST') window.__nextPosts++;
           return f.apply(this, arguments);
         };
         var el = document.querySelector('[data-action=\"next\"]');
         el.click(); el.click();
         return true;",
    )
    .await;
    until_number(&b, "A001").await;
    until_state(&b, "calling").await;
    assert_eq!(b.eval("return window.__nextPosts;").await, 1, "the second click must not send a request");

    let one = d.api.ticket(first["id"].as_str().unwrap()).await;
    let two = d.api.ticket(second["id"].as_str().unwrap()).await;
    assert_eq!(one.body["status"], "called", "{}", one.text);
    assert_eq!(two.body["status"], "waiting", "only one ticket is called: {}", two.text);
    let hall = d.api.get("/api/v1/hall", None).await;
    let holding: Vec<&Value> =
        hall.body["windows"].as_array().unwrap().iter().filter(|w| !w["ticket"].is_null()).collect();
    assert_eq!(holding.len(), 1, "exactly one window holds a ticket: {}", hall.text);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keyboard_shortcuts_drive_the_window() {
    let Some(b) = browser_support::launch("keyboard_shortcuts_drive_the_window", 1366, 768).await else {
        return;
    };
    let d = Daemon::start().await;
    let item = d.api.item_in("A").await;
    d.api.issue(&item).await;
    d.api.issue(&item).await;
    sign_in_and_open(&b, &d, "clerk1", "1").await;

    let f1: char = Key::F1.into();
    press(&b, &f1.to_string()).await;
    until_number(&b, "A001").await;
    until_state(&b, "calling").await;
    press(&b, "s").await;
    until_state(&b, "serving").await;
    press(&b, "d").await;
    until_state(&b, "open").await;
    press(&b, "n").await;
    until_number(&b, "A002").await;
    until_state(&b, "calling").await;
    let shown = b.eval(NUMBER_JS).await;
    assert_eq!(shown, "A002");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_from_the_console_reaches_the_lobby() {
    let Some(console) = browser_support::launch("a_call_from_the_console_reaches_the_lobby", 1366, 768).await else {
        return;
    };
    let Some(lobby) = browser_support::launch("a_call_from_the_console_reaches_the_lobby", 1920, 1080).await else {
        return;
    };
    let d = Daemon::start().await;
    let item = d.api.item_in("A").await;
    for _ in 0..3 {
        d.api.issue(&item).await;
    }
    lobby.goto(&format!("http://{}/display/lobby", d.addr)).await;
    lobby.until("the lobby to be live", "return document.querySelector('#conn-state').dataset.state === 'live';").await;
    sign_in_and_open(&console, &d, "clerk1", "1").await;

    // Two calls in a row; each is timed from the click to the lobby showing the number and
    // having queued its spoken text (page clocks, to the millisecond), and as the test saw it.
    for number in ["A001", "A002"] {
        if number != "A001" {
            console.click("[data-action=\"serve\"]").await;
            until_state(&console, "serving").await;
            console.click("[data-action=\"done\"]").await;
            until_state(&console, "open").await;
        }
        let spoken = format!("请{number}号到1号窗口办理");
        lobby
            .eval(&format!(
                "window.__shownAt = null;
                 var n = document.querySelector('#current-number');
                 var seen = function () {{
                   if (!window.__shownAt && n.textContent.trim() === '{number}') window.__shownAt = Date.now();
                 }};
                 new MutationObserver(seen).observe(n, {{ childList: true, characterData: true, subtree: true }});
                 return true;"
            ))
            .await;
        let started = Instant::now();
        let clicked_at = console
            .eval("var at = Date.now(); document.querySelector('[data-action=\"next\"]').click(); return at;")
            .await;
        let js = format!(
            "return document.querySelector('#current-number').textContent.trim() === '{number}'
                && (window.hallqSpoken || []).indexOf('{spoken}') >= 0;"
        );
        lobby.until(&format!("the lobby to show and speak {number}"), &js).await;
        let seen = started.elapsed();
        let shown_at = lobby.eval("return window.__shownAt;").await;
        let page_ms = match (shown_at.as_i64(), clicked_at.as_i64()) {
            (Some(shown), Some(clicked)) => format!("{} ms", shown - clicked),
            _ => "unknown".to_string(),
        };
        eprintln!(
            "clerk console -> lobby: {number} shown on the lobby {page_ms} after the click (page clocks); \
             shown and its text queued to speak, as the test saw it: {} ms",
            seen.as_millis()
        );
        until_number(&console, number).await;
    }
    until_state(&console, "calling").await;
    console.screenshot("clerk-and-lobby-console").await;
    lobby.screenshot("clerk-and-lobby-lobby").await;
    console.close().await;
    lobby.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_picks_a_window_transfers_pauses_and_reads_english() {
    let test = "an_admin_picks_a_window_transfers_pauses_and_reads_english";
    let Some(b) = browser_support::launch(test, 1920, 1080).await else {
        return;
    };
    let d = Daemon::start().await;
    let bundle = d.api.issue_with(json!({ "service": "YJS-01", "priority": "elderly" })).await;
    assert_eq!(bundle.status, 201, "{}", bundle.text);
    let item = d.api.item_in("A").await;
    d.api.issue(&item).await;
    // clerk1 holds window 1, so the admin cannot take it.
    let clerk1 = d.api.login("clerk1").await;
    d.api.window_ok(&clerk1, "1", "open", None).await;

    b.goto(&format!("http://{}/display/clerk", d.addr)).await;
    b.type_into("#login-user", "admin").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    // An admin may open any window: all sixty are offered.
    b.until("all windows offered", "return document.querySelectorAll('#window-select [data-window]').length === 60;")
        .await;
    b.click("#window-select [data-window=\"1\"]").await;
    b.screenshot("clerk-pick").await;
    b.click("#open-window").await;
    // The toast fades in, and WebDriver reads no text from a transparent element: wait for
    // the words themselves in the DOM.
    let toast = b
        .until(
            "the refusal toast",
            "var t = document.querySelector('#toast'); return !t.hidden && t.textContent.trim();",
        )
        .await;
    let toast = toast.as_str().unwrap_or_default().to_string();
    assert!(toast.contains("其他工作人员"), "a taken window is refused in plain words: {toast}");
    b.screenshot("clerk-window-taken").await;

    b.click("#window-select [data-window=\"10\"]").await;
    b.click("#open-window").await;
    b.until("the console", "return !document.querySelector('#screen-console').hidden;").await;
    until_state(&b, "open").await;
    b.click("[data-action=\"next\"]").await;
    until_number(&b, bundle.body["number"].as_str().unwrap()).await;
    until_state(&b, "calling").await;
    let tags = b.text("#ticket-tags").await;
    assert!(tags.contains("老年人"), "the priority class is shown: {tags}");
    let items = b.text("#ticket-items").await;
    assert!(items.contains("企业开办一件事"), "the bundle is named: {items}");
    b.screenshot("clerk-1920-bundle").await;

    // F7 opens the transfer dialog and Esc closes it, sending nothing.
    let transfer_open = "return !document.querySelector('#transfer-dialog').hidden;";
    press(&b, &key(Key::F7)).await;
    b.until("the transfer dialog", transfer_open).await;
    press(&b, &key(Key::Escape)).await;
    assert_eq!(b.eval(transfer_open).await, false, "Esc closes the transfer dialog");
    until_state(&b, "calling").await;

    // Transfer to queue B through the dialog.
    b.click("[data-action=\"transfer\"]").await;
    b.click("#transfer-targets [data-queue=\"B\"]").await;
    b.screenshot("clerk-transfer").await;
    b.click("#transfer-confirm").await;
    until_state(&b, "open").await;
    let moved = d.api.ticket(bundle.body["id"].as_str().unwrap()).await;
    assert_eq!(moved.body["queue"], "B", "{}", moved.text);
    assert_eq!(moved.body["status"], "waiting", "{}", moved.text);

    // Pause with F8, which asks why: 1 picks the first of the hall's reasons (午间休息);
    // F8 again resumes. The reason reaches the clerk's scorecard.
    let f8: char = Key::F8.into();
    press(&b, &f8.to_string()).await;
    b.until("the pause reasons", "return !document.getElementById('pause-dialog').hidden;").await;
    b.screenshot("clerk-pause-reason").await;
    press(&b, "1").await;
    until_state(&b, "paused").await;
    assert!(enabled(&b, "resume").await && !enabled(&b, "next").await);
    b.screenshot("clerk-paused").await;
    press(&b, &f8.to_string()).await;
    until_state(&b, "open").await;
    let sup = d.api.login("supervisor").await;
    let cards = d.api.get("/api/v1/reports/scorecards", Some(&sup)).await;
    let rows = cards.body["rows"].as_array().cloned().unwrap_or_default();
    let admin =
        rows.iter().find(|r| r["clerk"] == "admin").unwrap_or_else(|| panic!("no scorecard of admin: {}", cards.text));
    assert_eq!(admin["pauses"], 1, "{admin}");
    assert_eq!(admin["paused_by_reason"][0][0], "lunch", "the reason picked did not reach the scorecard: {admin}");

    // English, remembered across a reload, with the session and window restored.
    b.click("#lang-toggle button").await;
    b.until("English", "return document.documentElement.lang === 'en';").await;
    b.click("[data-action=\"next\"]").await;
    until_state(&b, "calling").await;
    b.client.refresh().await.expect("reload");
    until_state(&b, "calling").await;
    let band = b.text("#ticket-state-label").await;
    assert_eq!(band, "Calling");
    b.screenshot("clerk-english").await;

    // Closing needs an empty window; then the console goes back to the window list.
    b.click("[data-action=\"no-show\"]").await;
    until_state(&b, "open").await;
    b.click("[data-action=\"close\"]").await;
    b.until("the window list", "return !document.querySelector('#screen-pick').hidden;").await;
    b.close().await;
}

pub(crate) fn key(k: Key) -> String {
    let c: char = k.into();
    c.to_string()
}
