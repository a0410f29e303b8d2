//! The clerk console's call by number (`/display/clerk`, headless Chromium, a real daemon):
//! the dialog calls a ticket out of turn with a reason, refuses an unknown number in its
//! own words and changes nothing, and the console says why each ticket was called. The
//! console's helpers are browser_clerk.rs's.

use crate::browser_clerk::{enabled, key, press, sign_in_and_open, until_number, until_state, NUMBER_JS};
use crate::browser_support;
use crate::support;

use fantoccini::key::Key;
use hallq::core::model::{CallRule, UserName};
use hallq::core::Event;
use serde_json::json;
use support::Daemon;

/// Whether the call-by-number dialog is open.
const DIALOG_OPEN_JS: &str = "return !document.querySelector('#call-dialog').hidden;";

/// Counts the page's POSTs to `/call` in `window.__callPosts`.
const COUNT_CALLS_JS: &str = "window.__callPosts = 0;
     var f = window.fetch;
     window.fetch = function (url, init) {
       if (String(url).endsWith('/call') && init && init.method === 'POST') window.__callPosts++;
       return f.apply(this, arguments);
     };
     return true;";

#[tokio::test(flavor = "multi_thread")]
async fn a_clerk_calls_a_ticket_out_of_turn_by_its_number_with_a_reason() {
    let test = "a_clerk_calls_a_ticket_out_of_turn_by_its_number_with_a_reason";
    let Some(b) = browser_support::launch(test, 1366, 768).await else {
        return;
    };
    let d = Daemon::start().await;
    let item = d.api.item_in("A").await;
    let first = d.api.issue(&item).await;
    d.api.issue(&item).await;
    let third = d.api.issue(&item).await;
    assert_eq!(third["number"], "A003");
    sign_in_and_open(&b, &d, "clerk1", "1").await;
    assert!(enabled(&b, "call-number").await, "an idle window may call by number");

    // H opens the dialog with the number field focused.
    press(&b, "h").await;
    b.until("the call dialog to open", DIALOG_OPEN_JS).await;
    let focused = b.eval("return document.activeElement && document.activeElement.id;").await;
    assert_eq!(focused, "call-number", "the number field takes the focus");
    // Lower case and no padding: the page sends A003. A quick reason fills the field.
    b.type_into("#call-number", "a3").await;
    b.click("#call-quick [data-reason=\"q_back\"]").await;
    let reason = b.eval("return document.querySelector('#call-reason').value;").await;
    assert_eq!(reason, "补材料后返回");
    assert_eq!(b.text("#call-count").await, "6/200");
    let shot = b.screenshot("clerk-call-by-number").await;
    eprintln!("the open call-by-number dialog: {}", shot.display());

    // Two submits in one tick send one request.
    b.eval(COUNT_CALLS_JS).await;
    b.eval("var f = document.querySelector('#call-form'); f.requestSubmit(); f.requestSubmit(); return true;").await;
    until_number(&b, "A003").await;
    until_state(&b, "calling").await;
    assert_eq!(b.eval(DIALOG_OPEN_JS).await, false, "the dialog closes after the call");
    assert_eq!(b.eval("return window.__callPosts;").await, 1, "the second submit must not send a request");
    let why = b.text("#ticket-rule").await;
    assert!(why.contains("按号呼叫：补材料后返回（clerk1）"), "the console says why A003 was called: {why}");
    b.screenshot("clerk-called-by-number").await;

    // The daemon called A003 at window 1, ahead of A001, by number.
    let called = d.api.ticket(third["id"].as_str().unwrap()).await;
    assert_eq!(
        (called.body["status"].as_str(), called.body["window"].as_str()),
        (Some("called"), Some("1")),
        "{}",
        called.text
    );
    assert_eq!(called.body["call_rule"]["code"], "by_number", "{}", called.text);
    assert!(!called.text.contains("补材料"), "the public ticket carries no clerk's words: {}", called.text);
    let still = d.api.ticket(first["id"].as_str().unwrap()).await;
    assert_eq!(still.body["status"], "waiting", "{}", still.text);
    let clerk = d.api.login("clerk1").await;
    let window = d.api.get("/api/v1/windows/1", Some(&clerk)).await;
    assert_eq!(window.body["ticket"]["number"], "A003", "{}", window.text);
    assert_eq!(window.body["ticket"]["call_rule"]["code"], "by_number", "{}", window.text);

    // While the window holds a ticket the dialog cannot open, and the button says why.
    assert!(!enabled(&b, "call-number").await, "call by number is disabled while a ticket is held");
    let note = b.text("[data-action=\"call-number\"] small").await;
    assert!(note.contains("办结"), "the button says what to do first: {note}");
    press(&b, "h").await;
    press(&b, &key(Key::F10)).await;
    assert_eq!(b.eval(DIALOG_OPEN_JS).await, false, "the shortcut opens nothing while a ticket is held");

    // In English, and after a reload, the line still reads with the reason.
    b.click("#lang-toggle button").await;
    b.until("English", "return document.documentElement.lang === 'en';").await;
    let why = b.text("#ticket-rule").await;
    assert!(why.contains("called by number: 补材料后返回 (clerk1)"), "{why}");
    b.client.refresh().await.expect("reload");
    until_number(&b, "A003").await;
    let why = b.text("#ticket-rule").await;
    assert!(why.contains("called by number: 补材料后返回 (clerk1)"), "after a reload: {why}");
    b.close().await;

    // The log records who called A003 and why (rule 7); only the log holds the reason.
    let (data, _) = d.stop().await;
    let store = hallq::store::Store::open(data.path()).expect("the log opens after shutdown");
    let rules: Vec<CallRule> = store
        .records_after(0)
        .filter_map(|r| match r.expect("a readable record").1.event {
            Event::TicketCalled { id, rule, .. } if id.to_string() == third["id"].as_str().unwrap() => Some(rule),
            _ => None,
        })
        .collect();
    let expected =
        CallRule::ByNumber { clerk: UserName::parse("clerk1").unwrap(), reason: "补材料后返回".into() };
    assert_eq!(rules, vec![expected], "one call of A003, by number, by clerk1, with the reason");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_number_is_refused_in_the_dialog_and_changes_nothing() {
    let test = "an_unknown_number_is_refused_in_the_dialog_and_changes_nothing";
    let Some(b) = browser_support::launch(test, 1366, 768).await else {
        return;
    };
    let d = Daemon::start().await;
    let item = d.api.item_in("A").await;
    let first = d.api.issue(&item).await;
    sign_in_and_open(&b, &d, "clerk1", "1").await;
    b.eval(COUNT_CALLS_JS).await;

    // F10 opens the dialog; a blank reason is refused on the page, without a request.
    press(&b, &key(Key::F10)).await;
    b.until("the call dialog to open", DIALOG_OPEN_JS).await;
    b.type_into("#call-number", "A001").await;
    b.type_into("#call-number", &key(Key::Enter)).await;
    let error = b
        .until(
            "the missing reason",
            "var e = document.querySelector('#call-error'); return !e.hidden && e.textContent;",
        )
        .await;
    assert!(error.as_str().unwrap_or_default().contains("原因"), "the page asks for a reason: {error}");
    assert_eq!(b.eval("return window.__callPosts;").await, 0);

    // An unknown number: the daemon's refusal, in Chinese, inside the open dialog.
    b.eval("document.querySelector('#call-number').value = ''; document.querySelector('#call-error').hidden = true; return true;").await;
    b.type_into("#call-number", "a404").await;
    b.type_into("#call-reason", "窗口转来").await;
    // Console shortcuts stay quiet while the dialog is open: F1 does not call next.
    b.type_into("#call-reason", &key(Key::F1)).await;
    b.type_into("#call-reason", &key(Key::Enter)).await;
    let error = b
        .until(
            "the refusal in the dialog",
            "var e = document.querySelector('#call-error'); return !e.hidden && e.textContent;",
        )
        .await;
    assert_eq!(error, "今天没有这个号码，请核对后重新输入");
    assert_eq!(b.eval("return window.__callPosts;").await, 1);
    assert_eq!(b.eval(DIALOG_OPEN_JS).await, true, "a refusal leaves the dialog open");
    assert_eq!(b.eval("return document.querySelector('#call-number').value;").await, "A404");
    let focused = b.eval("return document.activeElement && document.activeElement.id;").await;
    assert_eq!(focused, "call-number", "the number field takes the focus back");
    b.until("the submit to be enabled again", "return !document.querySelector('#call-submit').disabled;").await;
    b.screenshot("clerk-call-by-number-unknown").await;

    // Nothing changed: the window is idle and A001 still waits.
    let window = d.api.get("/api/v1/windows/1", Some(&d.api.login("clerk1").await)).await;
    assert_eq!(window.body["window"]["state"], "open", "{}", window.text);
    assert!(window.body["ticket"].is_null(), "{}", window.text);
    let still = d.api.ticket(first["id"].as_str().unwrap()).await;
    assert_eq!(still.body["status"], "waiting", "{}", still.text);
    assert_eq!(b.eval(NUMBER_JS).await, "");

    // Esc closes; opened from its button, the dialog gives the focus back to it.
    press(&b, &key(Key::Escape)).await;
    assert_eq!(b.eval(DIALOG_OPEN_JS).await, false, "Esc closes the dialog");
    b.click("[data-action=\"call-number\"]").await;
    b.until("the call dialog to open", DIALOG_OPEN_JS).await;
    assert_eq!(b.eval("return document.querySelector('#call-number').value;").await, "", "a new dialog starts empty");
    press(&b, &key(Key::Escape)).await;
    let back = b.eval("var a = document.activeElement; return !!a && a.dataset.action === 'call-number';").await;
    assert_eq!(back, true, "the focus returns to the button");
    assert_eq!(b.eval(DIALOG_OPEN_JS).await, false);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_words_every_call_rule_and_degrades_on_unknown_ones() {
    let test = "the_console_words_every_call_rule_and_degrades_on_unknown_ones";
    let Some(b) = browser_support::launch(test, 1366, 768).await else {
        return;
    };
    let d = Daemon::start().await;
    b.goto(&format!("http://{}/display/clerk", d.addr)).await;
    b.until("the page's scripts", "return !!window.HallqClerkCall && !document.querySelector('#screen-login').hidden;")
        .await;
    let words = b
        .eval(
            r#"var C = window.HallqClerkCall, I = window.HallqI18n, out = {};
               var rules = {
                 transferred_here: { code: 'transferred_here', text: '转至本窗口的号码' },
                 aged: { code: 'aged', text: '等候42分钟，超过30分钟', waited_min: 42, max_min: 30 },
                 priority: { code: 'priority', text: '优先人群：老年人（每2位普通号可叫1位优先号）', class: 'elderly', per_ordinary: 2 },
                 ordinary_turn: { code: 'ordinary_turn', text: '刚叫过优先号，轮到普通号（第1/2位）', turn: 1, of: 2 },
                 earliest_issued: { code: 'earliest_issued', text: '取号时间最早' },
                 by_number: { code: 'by_number', text: '工作人员按号呼叫' },
                 mine: { code: 'by_number', text: '工作人员按号呼叫' },
                 future: { code: 'moon_phase', text: '月相', phase: 3 },
                 bare: { code: 'aged' },
                 nothing: null
               };
               ['zh', 'en'].forEach(function (l) {
                 I.set(l);
                 Object.keys(rules).forEach(function (k) {
                   out[l + ':' + k] = C.ruleText(rules[k], k === 'mine' ? { reason: '过号重排', clerk: 'clerk2' } : null);
                 });
               });
               I.set('zh');
               out.numbers = ['a12', ' A 0012 ', 'Ａ１２', 'b1000', 'vy7', 'A012'].map(C.normalise);
               return out;"#,
        )
        .await;
    let expect = json!({
        "zh:transferred_here": "转至本窗口的号码",
        "zh:aged": "等候42分钟，超过30分钟",
        "zh:priority": "优先人群：老年人（每2位普通号可叫1位优先号）",
        "zh:ordinary_turn": "刚叫过优先号，轮到普通号（第1/2位）",
        "zh:earliest_issued": "取号时间最早",
        "zh:by_number": "工作人员按号呼叫",
        "zh:mine": "按号呼叫：过号重排（clerk2）",
        "zh:future": "月相",
        "zh:bare": "按大厅叫号规则选出",
        "zh:nothing": "",
        "en:transferred_here": "transferred to this window",
        "en:aged": "waited 42 min, over 30 min",
        "en:priority": "priority: senior (1 priority call per 2 ordinary)",
        "en:ordinary_turn": "ordinary turn 1 of 2 after a priority call",
        "en:earliest_issued": "earliest ticket taken",
        "en:by_number": "called by number by a clerk",
        "en:mine": "called by number: 过号重排 (clerk2)",
        "en:future": "chosen by the hall's calling rules",
        "en:bare": "chosen by the hall's calling rules",
        "en:nothing": "",
        "numbers": ["A012", "A012", "A012", "B1000", "VY007", "A012"],
    });
    assert_eq!(words, expect);
    b.close().await;
}
