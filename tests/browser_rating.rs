//! 好差评 pages in headless Chromium against a real daemon: the evaluator tablet at window
//! 5 asks as soon as the clerk finishes (a 不满意 needs a reason, and opens a case; a second
//! service is asked about again), and a supervisor works the case on `/display/cases`:
//! call-back, then rectification, which closes it. One rating per service: a rating on the
//! visitor's phone ends the tablet's ask at once (the feed tells it), and a rating the
//! daemon refuses is never thanked for. Screenshots under target/screenshots/.

use crate::browser_support;
use crate::support;

use browser_support::Browser;
use serde_json::{json, Value};
use support::{Api, Daemon};

fn visible_js(css: &str) -> String {
    format!("var e = document.querySelector('{css}'); return !!e && !e.hidden && e.offsetParent !== null;")
}

async fn until_stage(b: &Browser, state: &str) {
    let js = format!("return document.querySelector('#stage').dataset.state === '{state}';");
    b.until(&format!("the evaluator to be {state}"), &js).await;
}

/// Issues a ticket and serves it to the end at window `w`; returns the ticket.
async fn serve_one(api: &Api, clerk: &str, w: &str) -> Value {
    let t = api.issue("SC-0001").await;
    let called = api.call_next(clerk, w).await;
    assert_eq!(called["id"], t["id"]);
    api.window_ok(clerk, w, "serve", None).await;
    api.window_ok(clerk, w, "done", Some(json!({ "outcome": "completed" }))).await;
    t
}

#[tokio::test(flavor = "multi_thread")]
async fn the_evaluator_asks_when_the_clerk_finishes_and_a_bad_rating_opens_a_case() {
    let test = "the_evaluator_asks_when_the_clerk_finishes_and_a_bad_rating_opens_a_case";
    let Some(b) = browser_support::launch(test, 1280, 800).await else {
        return;
    };
    let d = Daemon::start().await;
    let api = &d.api;
    b.goto(&format!("http://{}/display/rate?window=5&token=demo-rate-5", d.addr)).await;
    until_stage(&b, "idle").await;
    b.until("the feed", "return document.querySelector('#conn-state').dataset.state === 'live';").await;
    assert!(b.text("#window-name").await.contains('5'));
    b.screenshot("rate-idle").await;

    let clerk = api.login("clerk5").await;
    api.window_ok(&clerk, "5", "open", None).await;
    let t = serve_one(api, &clerk, "5").await;
    until_stage(&b, "ask").await;
    assert_eq!(b.text("#ask-number").await, t["number"].as_str().expect("a number"));
    assert_eq!(b.eval("return document.querySelectorAll('.rt-level').length;").await, json!(5));
    b.screenshot("rate-ask").await;

    // 不满意: the reason step; sending without a reason is refused in the page.
    b.click(".rt-level[data-score=\"2\"]").await;
    until_stage(&b, "reason").await;
    b.click("#reason-submit").await;
    b.until("the page to ask for a reason", &visible_js("#reason-error")).await;
    assert_eq!(api.ticket(t["id"].as_str().unwrap()).await.body["rated"], json!(false), "nothing was sent");
    b.click(".rt-reason[data-code=\"slow\"]").await;
    b.type_into("#comment", "等了很久才叫号").await;
    b.screenshot("rate-reason").await;
    b.click("#reason-submit").await;
    until_stage(&b, "thanks").await;
    b.screenshot("rate-thanks").await;
    assert_eq!(api.ticket(t["id"].as_str().unwrap()).await.body["rated"], json!(true));

    let sup = api.login("supervisor").await;
    let cases = api.get("/api/v1/cases", Some(&sup)).await;
    let case = &cases.body["cases"][0];
    assert_eq!(case["number"], t["number"], "{}", cases.text);
    assert_eq!((case["score"].as_u64(), case["reason"].as_str()), (Some(2), Some("slow")));
    assert_eq!(case["comment"], "等了很久才叫号");
    assert_eq!(case["window"], "5");

    // Back to idle, and the next service is asked about too: 非常满意 goes at once.
    until_stage(&b, "idle").await;
    let t2 = serve_one(api, &clerk, "5").await;
    until_stage(&b, "ask").await;
    assert_eq!(b.text("#ask-number").await, t2["number"].as_str().expect("a number"));
    b.click(".rt-level[data-score=\"5\"]").await;
    until_stage(&b, "thanks").await;
    assert_eq!(api.ticket(t2["id"].as_str().unwrap()).await.body["rated"], json!(true));
    let stats = api.get("/api/v1/stats", Some(&sup)).await;
    assert_eq!(stats.body["windows"]["5"]["ratings"]["by_score"], json!({ "1": 0, "2": 1, "3": 0, "4": 0, "5": 1 }));

    // A wrong token says so instead of waiting forever.
    b.goto(&format!("http://{}/display/rate?window=5&token=demo-rate-4", d.addr)).await;
    until_stage(&b, "error").await;
    b.screenshot("rate-bad-token").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_calls_back_and_rectifies_a_case_on_the_cases_page() {
    let test = "a_supervisor_calls_back_and_rectifies_a_case_on_the_cases_page";
    let Some(b) = browser_support::launch(test, 1280, 900).await else {
        return;
    };
    let d = Daemon::start().await;
    let api = &d.api;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let t = serve_one(api, &clerk, "1").await;
    let path = support::visitor_path(&t, "rating");
    let r = api.post(&path, None, Some(json!({ "score": 1, "reason": "attitude", "comment": "态度生硬" }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sup = api.login("supervisor").await;
    let id = api.get("/api/v1/cases", Some(&sup)).await.body["cases"][0]["id"].as_str().expect("a case").to_string();
    let card = format!(".cs-case[data-case=\"{id}\"]");

    b.goto(&format!("http://{}/display/cases", d.addr)).await;
    // A clerk is turned away.
    b.type_into("#login-user", "clerk2").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the clerk to be refused", &visible_js("#login-error")).await;
    assert!(b.text("#login-error").await.contains("主管"));
    b.eval("document.querySelector('#login-user').value = ''; return true;").await;
    b.type_into("#login-user", "supervisor").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.find(&card).await;
    assert!(b.text(&card).await.contains("非常不满意"));
    assert!(b.text(&card).await.contains("态度不好"));
    assert_eq!(b.text("#count-open").await, "1");
    let rectify_disabled = format!("return document.querySelector('{card} .cs-rectify button').disabled;");
    assert_eq!(b.eval(&rectify_disabled).await, json!(true), "rectification waits for a call-back");
    b.screenshot("cases-open").await;

    b.type_into(&format!("{card} .cs-callback textarea"), "已电话回访，群众反映窗口态度生硬").await;
    b.click(&format!("{card} .cs-callback button")).await;
    b.until("the call-back to be listed", &format!("return !!document.querySelector('{card} .cs-callbacks li');"))
        .await;
    assert_eq!(b.eval(&rectify_disabled).await, json!(false));
    b.type_into(&format!("{card} .cs-rectify textarea"), "已对窗口人员批评教育并培训").await;
    b.click(&format!("{card} .cs-rectify button")).await;
    // Closed, it leaves the list of cases not closed.
    b.until("the case to close", "return document.querySelector('#count-closed').textContent === '1';").await;
    b.until("the list to empty", &visible_js("#empty")).await;
    b.eval("var f = document.querySelector('#filter'); f.value = 'closed'; f.dispatchEvent(new Event('change')); return true;")
        .await;
    b.find(&format!("{card}[data-status=\"closed\"]")).await;
    assert!(b.text(&card).await.contains("已对窗口人员批评教育并培训"));
    b.screenshot("cases-closed").await;

    let closed = api.get("/api/v1/cases?status=closed", Some(&sup)).await;
    let c = &closed.body["cases"][0];
    assert_eq!((c["id"].as_str(), c["rectification"]["by"].as_str()), (Some(id.as_str()), Some("supervisor")));
    assert_eq!(c["callbacks"][0]["reached"], true);
    b.close().await;
}

/// Records every state the evaluator's stage takes, from the page's first script on, in
/// `window.__stages`.
const RECORD_STAGES: &str = "(function () {
    window.__stages = [];
    new MutationObserver(function () {
      var s = document.querySelector('#stage');
      if (s && window.__stages[window.__stages.length - 1] !== s.dataset.state) window.__stages.push(s.dataset.state);
    }).observe(document, { attributes: true, subtree: true, childList: true, attributeFilter: ['data-state'] });
  })();";

/// Opens the evaluator of window 5 with its stages recorded; waits for it to be live.
async fn evaluator(test: &str, d: &Daemon, script: &str) -> Option<Browser> {
    let b = browser_support::launch(test, 1280, 800).await?;
    b.cdp("Page.addScriptToEvaluateOnNewDocument", json!({ "source": script })).await;
    b.goto(&format!("http://{}/display/rate?window=5&token=demo-rate-5", d.addr)).await;
    until_stage(&b, "idle").await;
    b.until("the feed", "return document.querySelector('#conn-state').dataset.state === 'live';").await;
    Some(b)
}

/// Clerk 5 opens window 5 and serves a ticket; returns it once the tablet asks about it.
async fn serve_at_five(b: &Browser, api: &Api) -> Value {
    let clerk = api.login("clerk5").await;
    api.window_ok(&clerk, "5", "open", None).await;
    let t = serve_one(api, &clerk, "5").await;
    until_stage(b, "ask").await;
    t
}

/// Waits for the tablet to go back to idle; returns the stages it went through (see
/// `RECORD_STAGES`), having checked that it never thanked the visitor.
async fn idle_without_thanks(b: &Browser) -> Value {
    until_stage(b, "idle").await;
    let stages = b.eval("return window.__stages;").await;
    assert!(!stages.as_array().expect("stages").contains(&json!("thanks")), "no thanks from the tablet: {stages}");
    stages
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rating_on_the_phone_ends_the_tablets_ask_at_once_without_thanks() {
    let test = "a_rating_on_the_phone_ends_the_tablets_ask_at_once_without_thanks";
    let d = Daemon::start().await;
    let Some(b) = evaluator(test, &d, RECORD_STAGES).await else {
        return;
    };
    let api = &d.api;
    let t = serve_at_five(&b, api).await;

    // The visitor rates on the phone; the tablet stops asking, well before its ask_s.
    let r = api.post(&support::visitor_path(&t, "rating"), None, Some(json!({ "score": 4 }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    until_stage(&b, "rated").await;
    let text = b.text("#panel-rated").await;
    assert!(text.contains("已经评价过") && text.contains("手机"), "says why it stopped asking: {text}");
    assert!(text.contains(t["number"].as_str().expect("a number")), "{text}");
    b.screenshot("rate-rated-on-phone").await;
    let stages = idle_without_thanks(&b).await;
    let after: Vec<&Value> =
        stages.as_array().expect("stages").iter().skip_while(|s| s.as_str() != Some("rated")).collect();
    assert!(!after.iter().any(|s| s.as_str() == Some("ask")), "never asks again: {stages}");
    b.close().await;
}

/// Holds the feed's messages while `window.__holdFeed` is true (a feed that lags, as on a
/// busy network), delivering them in order once it is false again.
const HOLD_FEED: &str = "(function () {
    var Real = window.WebSocket;
    window.__holdFeed = false;
    window.WebSocket = function (url, p) {
      var ws = p === undefined ? new Real(url) : new Real(url, p), held = [], handler = null;
      setInterval(function () { while (!window.__holdFeed && held.length && handler) handler(held.shift()); }, 20);
      Object.defineProperty(ws, 'onmessage', { set: function (f) {
        handler = f;
        Real.prototype.__lookupSetter__('onmessage').call(ws, function (e) {
          if (window.__holdFeed || held.length) held.push(e); else f.call(ws, e);
        });
      }, get: function () { return handler; } });
      return ws;
    };
    window.WebSocket.prototype = Real.prototype;
    ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(function (k) { window.WebSocket[k] = Real[k]; });
  })();";

#[tokio::test(flavor = "multi_thread")]
async fn a_rating_the_daemon_refuses_is_not_thanked_for_on_the_tablet() {
    let test = "a_rating_the_daemon_refuses_is_not_thanked_for_on_the_tablet";
    let d = Daemon::start().await;
    let Some(b) = evaluator(test, &d, &format!("{RECORD_STAGES}{HOLD_FEED}")).await else {
        return;
    };
    let api = &d.api;
    let t = serve_at_five(&b, api).await;

    // The phone's rating lands while the tablet has not heard of it yet; the visitor then
    // taps 非常满意 on the tablet, which the daemon refuses (409 already_rated).
    b.eval("window.__holdFeed = true; return true;").await;
    let r = api.post(&support::visitor_path(&t, "rating"), None, Some(json!({ "score": 2, "reason": "slow" }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    b.click(".rt-level[data-score=\"5\"]").await;
    until_stage(&b, "rated").await;
    let text = b.text("#panel-rated").await;
    assert!(text.contains("没有记录") && text.contains("已有评价"), "the refusal, truthfully: {text}");
    b.screenshot("rate-refused").await;
    b.eval("window.__holdFeed = false; return true;").await;
    idle_without_thanks(&b).await;
    let sup = api.login("supervisor").await;
    let stats = api.get("/api/v1/stats", Some(&sup)).await;
    assert_eq!(
        stats.body["windows"]["5"]["ratings"]["by_score"],
        json!({ "1": 0, "2": 1, "3": 0, "4": 0, "5": 0 }),
        "the phone's rating stands, alone"
    );
    b.close().await;
}
