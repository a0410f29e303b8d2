//! The clerk console (`/display/clerk`) with issue 4's rules 4–6 in headless Chromium
//! against a real daemon: a clerk parks a ticket with the shortcut, calls the next, and
//! resumes the parked one from the "暂存中" list (a call-out on the feed, once however
//! often Resume is clicked); Recall counts to the hall's limit and then points to
//! No-show; a bundle ticket shows its steps and Done sends it on to the next one.

use crate::browser_support;
use crate::support;

use browser_support::Browser;
use fantoccini::key::Key;
use serde_json::Value;
use support::Daemon;

/// Logs `user` in on the console page and opens window `w`; returns when the console
/// shows that window, idle.
async fn sign_in_and_open(b: &Browser, d: &Daemon, user: &str, w: &str) {
    b.open_clerk_window(&format!("http://{}", d.addr), user, support::PASSWORD, w).await;
}

async fn until_number(b: &Browser, number: &str) {
    b.until_clerk_number(number).await;
}

/// Waits until the console's window is in `state` and no request is in flight.
async fn until_state(b: &Browser, state: &str) {
    let js = format!(
        "return document.querySelector('#ticket-panel').dataset.state === '{state}'
            && !document.querySelector('.ck-act.is-busy') && !document.querySelector('.ck-resume.is-busy');"
    );
    b.until(&format!("the window to be {state}"), &js).await;
}

async fn enabled(b: &Browser, action: &str) -> bool {
    let js = format!(
        "var e = document.querySelector('[data-action=\"{action}\"]'); return !!e && !e.disabled && !e.hidden;"
    );
    b.eval(&js).await == Value::Bool(true)
}

async fn press(b: &Browser, key: &str) {
    b.find("body").await.send_keys(key).await.unwrap_or_else(|e| panic!("press {key:?}: {e}"));
}

fn key(k: Key) -> String {
    let c: char = k.into();
    c.to_string()
}

/// Counts the page's POSTs whose path ends with `/{action}` in `window.__posts[action]`,
/// and keeps their Idempotency-Keys in `window.__keys`.
const COUNT_POSTS_JS: &str = "window.__posts = {}; window.__keys = [];
     var f = window.fetch;
     window.fetch = function (url, init) {
       if (init && init.method === 'POST') {
         var action = String(url).split('/').pop();
         window.__posts[action] = (window.__posts[action] || 0) + 1;
         window.__keys.push(init.headers && init.headers['Idempotency-Key']);
       }
       return f.apply(this, arguments);
     };
     return true;";

async fn posts(b: &Browser, action: &str) -> u64 {
    b.eval(&format!("return window.__posts['{action}'] || 0;")).await.as_u64().unwrap_or_default()
}

/// The Resume button of the parked ticket `number`, as an XPath.
fn resume_of(number: &str) -> String {
    format!("//li[b[normalize-space()='{number}']]/button")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clerk_parks_with_the_shortcut_calls_the_next_and_resumes_from_the_list() {
    let test = "a_clerk_parks_with_the_shortcut_calls_the_next_and_resumes_from_the_list";
    let Some(b) = browser_support::launch(test, 1366, 768).await else {
        return;
    };
    let d = Daemon::start().await;
    let item = d.api.item_in("A").await;
    let first = d.api.issue(&item).await;
    d.api.issue(&item).await;
    let first_id = first["id"].as_str().expect("id").to_string();
    sign_in_and_open(&b, &d, "clerk3", "3").await;
    assert!(!enabled(&b, "park").await, "nothing to park at an idle window");
    assert!(b.text("#park-list").await.contains("暂无暂存号码"));
    b.eval(COUNT_POSTS_JS).await;

    press(&b, "n").await;
    until_number(&b, "A001").await;
    until_state(&b, "calling").await;
    assert!(enabled(&b, "park").await, "a called ticket can be parked");
    press(&b, "s").await;
    until_state(&b, "serving").await;
    assert!(enabled(&b, "park").await, "a ticket being served can be parked");

    // Z parks it: the window is free, and the list shows the number, its item and the time.
    press(&b, "z").await;
    until_state(&b, "open").await;
    assert_eq!(posts(&b, "park").await, 1);
    b.until("A001 in the parked list", "return document.querySelectorAll('#park-list .ck-parked').length === 1;").await;
    let row = b.text("#park-list .ck-parked").await;
    let name = d.api.catalog().await["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["code"] == item.as_str()))
        .and_then(|i| i["name"].as_str())
        .expect("the item's name")
        .to_string();
    assert!(row.contains("A001") && row.contains(&name) && row.contains("已暂存"), "{row}");
    assert_eq!(b.text("#park-count").await, "1");
    assert_eq!(d.api.ticket(&first_id).await.body["status"], "parked");
    assert!(!enabled(&b, "close").await, "a window with a parked ticket cannot close");
    assert!(b.text("[data-action=\"close\"] small").await.contains("暂存"), "and the button says why");

    // The window calls on; meanwhile Resume is disabled and says why.
    press(&b, &key(Key::F1)).await;
    until_number(&b, "A002").await;
    until_state(&b, "calling").await;
    let resume = "#park-list [data-unpark]";
    assert_eq!(b.eval(&format!("return document.querySelector('{resume}').disabled;")).await, true);
    let why = b.text("#park-list .ck-parked-why").await;
    assert!(why.contains("办结"), "a disabled Resume says why: {why}");
    b.screenshot("clerk-parked-while-calling").await;

    press(&b, "s").await;
    until_state(&b, "serving").await;
    press(&b, "d").await;
    until_state(&b, "open").await;

    // Resume, clicked twice in one tick: one request, and the displays call A001 out again.
    let mut display = d.api.display(None).await;
    display.expect("snapshot").await;
    b.until("Resume to be enabled", &format!("return !document.querySelector('{resume}').disabled;")).await;
    b.screenshot("clerk-parked-idle").await;
    b.eval(&format!("var e = document.querySelector('{resume}'); e.click(); e.click(); return true;")).await;
    until_number(&b, "A001").await;
    until_state(&b, "calling").await;
    assert_eq!(posts(&b, "unpark").await, 1, "the second click must not send a request");
    let (call, _) = display.until("call", |m| m["number"] == "A001").await;
    assert_eq!(call["window"], "3", "{call}");
    assert!(b.text("#ticket-rule").await.contains("暂存后恢复办理"), "the console says why A001 is back");
    assert!(b.text("#park-list").await.contains("暂无暂存号码"));
    assert_eq!(b.text("#park-count").await, "");
    let keys = b.eval("return window.__keys;").await;
    let keys: Vec<&str> = keys.as_array().expect("keys").iter().filter_map(Value::as_str).collect();
    assert_eq!(keys.len(), 7, "next, serve, park, next, serve, done, unpark: {keys:?}");
    assert!(keys.iter().all(|k| k.len() >= 32), "every POST carries an Idempotency-Key: {keys:?}");
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "a fresh key for each action: {keys:?}");
    b.screenshot("clerk-resumed").await;

    // F12 parks too; after a reload the list is read back from the daemon.
    press(&b, &key(Key::F12)).await;
    until_state(&b, "open").await;
    b.client.refresh().await.expect("reload");
    until_state(&b, "open").await;
    b.until("A001 parked after the reload", "return document.querySelectorAll('#park-list .ck-parked').length === 1;")
        .await;
    assert!(b.text("#park-list").await.contains("A001"));
    b.client
        .find(fantoccini::Locator::XPath(&resume_of("A001")))
        .await
        .expect("the Resume button of A001")
        .click()
        .await
        .expect("click Resume");
    until_number(&b, "A001").await;
    until_state(&b, "calling").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn recall_counts_to_the_limit_then_points_to_no_show() {
    let Some(b) = browser_support::launch("recall_counts_to_the_limit_then_points_to_no_show", 1366, 768).await else {
        return;
    };
    let d = Daemon::start().await;
    let item = d.api.item_in("A").await;
    let ticket = d.api.issue(&item).await;
    sign_in_and_open(&b, &d, "clerk1", "1").await;
    assert_eq!(b.text("[data-action=\"recall\"] b").await, "重呼", "no count without a ticket");
    b.click("[data-action=\"next\"]").await;
    until_number(&b, "A001").await;
    until_state(&b, "calling").await;
    assert_eq!(b.text("[data-action=\"recall\"] b").await, "重呼 0/2");
    b.eval(COUNT_POSTS_JS).await;

    for n in 1..=2 {
        press(&b, "r").await;
        let js = format!("return document.querySelector('[data-action=\"recall\"] b').textContent === '重呼 {n}/2';");
        b.until(&format!("recall {n}/2"), &js).await;
        until_state(&b, "calling").await;
    }
    assert!(!enabled(&b, "recall").await, "the limit disables Recall");
    let hint = b.text("[data-action=\"recall\"] small").await;
    assert!(hint.contains("过号") && hint.contains("F6"), "and points to No-show: {hint}");
    b.screenshot("clerk-recall-limit").await;
    // Neither the key nor a click sends a third recall.
    press(&b, "r").await;
    b.eval("document.querySelector('[data-action=\"recall\"]').click(); return true;").await;
    assert_eq!(posts(&b, "recall").await, 2);
    let t = d.api.ticket(ticket["id"].as_str().expect("id")).await;
    assert_eq!((t.body["recalls"].as_u64(), t.body["status"].as_str()), (Some(2), Some("called")), "{}", t.text);

    // In English too.
    b.click("#lang-toggle button").await;
    b.until("English", "return document.documentElement.lang === 'en';").await;
    assert_eq!(b.text("[data-action=\"recall\"] b").await, "Recall 2/2");
    assert!(b.text("[data-action=\"recall\"] small").await.contains("no-show"));
    b.click("#lang-toggle button").await;

    press(&b, "x").await;
    until_state(&b, "open").await;
    assert_eq!(b.text("[data-action=\"recall\"] b").await, "重呼");
    assert_eq!(d.api.ticket(ticket["id"].as_str().expect("id")).await.body["status"], "no_show");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_shows_its_step_and_done_sends_it_on_to_the_next() {
    let Some(b) = browser_support::launch("a_bundle_shows_its_step_and_done_sends_it_on_to_the_next", 1366, 768).await
    else {
        return;
    };
    let d = Daemon::start().await;
    // YJS-23 spans two queues: B (enterprise) first, then A (comprehensive).
    let issued = d.api.issue_with(serde_json::json!({ "service": "YJS-23" })).await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    let id = issued.body["id"].as_str().expect("id").to_string();
    let number = issued.body["number"].as_str().expect("number").to_string();
    sign_in_and_open(&b, &d, "clerk10", "10").await;

    b.click("[data-action=\"next\"]").await;
    until_number(&b, &number).await;
    until_state(&b, "calling").await;
    assert_eq!(b.text("#ticket-steps").await, "第 1/2 步：B 企业服务 → A 综合受理");
    let other = b.eval("return document.querySelectorAll('#ticket-items .ck-item.is-other-step').length;").await;
    assert!(other.as_u64().is_some_and(|n| n > 0), "the second step's items are marked: {other}");
    b.click("[data-action=\"serve\"]").await;
    until_state(&b, "serving").await;
    assert_eq!(b.text("[data-action=\"done\"] b").await, "完成本步 → A");
    let title = b.eval("return document.querySelector('[data-action=\"done\"]').title;").await;
    assert!(title.as_str().is_some_and(|t| t.contains("A 综合受理")), "and says where: {title}");
    b.screenshot("clerk-bundle-step").await;

    b.click("[data-action=\"done\"]").await;
    until_state(&b, "open").await;
    let moved = d.api.ticket(&id).await;
    assert_eq!(
        (moved.body["status"].as_str(), moved.body["queue"].as_str(), moved.body["step"].as_u64()),
        (Some("waiting"), Some("A"), Some(1)),
        "{}",
        moved.text
    );
    assert_eq!(moved.body["number"], number.as_str(), "the number is kept");

    // Window 10 also serves A: the same number comes back for its last step.
    b.click("[data-action=\"next\"]").await;
    until_number(&b, &number).await;
    until_state(&b, "calling").await;
    assert_eq!(b.text("#ticket-steps").await, "第 2/2 步：✓ B 企业服务 → A 综合受理");
    b.click("[data-action=\"serve\"]").await;
    until_state(&b, "serving").await;
    assert_eq!(b.text("[data-action=\"done\"] b").await, "办结", "the last step's Done finishes the ticket");
    b.click("[data-action=\"done\"]").await;
    until_state(&b, "open").await;
    assert_eq!(d.api.ticket(&id).await.body["status"], "done");
    b.close().await;
}
