//! The kiosk (`/display/kiosk`) and the ticket-status page (`/t/{id}`) in headless
//! Chromium against a real daemon: a click-through takes a ticket and shows its number and
//! QR code (portrait and landscape); pinyin initials find an item; the status page follows
//! a ticket from waiting to done without a reload and accepts one rating (a reason is
//! required for the bottom two); a missed number rejoins from it until its deadline, a
//! parked ticket says where to come back to, and a bundle lists its steps; a kiosk with a
//! bad token says so in plain words.

use crate::browser_support;
use crate::support;

use browser_support::{kiosk_url, launch_exact, visible_js, Browser, Cdp};
use serde_json::{json, Value};
use support::Daemon;

/// Waits until the kiosk shows a ticket numbered `number` with its QR code loaded.
async fn until_ticket(b: &Browser, number: &str) {
    let js = format!(
        "var v = document.querySelector('#ticket'); var q = document.querySelector('#ticket-qr');
         return !!v && v.getClientRects().length > 0
            && document.querySelector('#ticket-number').textContent.trim() === '{number}'
            && q.complete && q.naturalWidth > 0;"
    );
    b.until(&format!("the ticket {number} with its QR code"), &js).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kiosk_click_through_takes_a_ticket_with_its_qr_code() {
    let Some(b) = launch_exact("kiosk_click_through_takes_a_ticket_with_its_qr_code", 1080, 1920, false).await else {
        return;
    };
    let d = Daemon::start().await;
    let catalog = d.api.catalog().await;
    let code = d.api.item_in("A").await;
    let item = catalog["items"].as_array().expect("items").iter().find(|i| i["code"] == code.as_str()).expect("item");
    let category = item["category"].as_str().expect("a category");

    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    b.until("the hall name", "return document.querySelector('#hall-name').textContent.includes('政务服务中心');").await;
    b.until("live waiting counts", "return document.querySelector('.k-queue-wait').textContent.length > 0;").await;
    b.screenshot("kiosk-home").await;

    // Browse: category → item.
    b.click(&format!("#categories [data-category=\"{category}\"]")).await;
    b.click(&format!("#list [data-code=\"{code}\"]")).await;
    b.until("the item view", &visible_js("#take")).await;
    let materials = b.eval("return document.querySelectorAll('#item-materials li').length;").await;
    assert!(materials.as_u64().is_some_and(|n| n > 0), "the item shows its materials");
    let chips = b.eval("return document.querySelectorAll('#priorities [data-priority]').length;").await;
    assert_eq!(chips, json!(5), "no priority plus the four classes of the example hall");
    b.screenshot("kiosk-item").await;

    // A double tap takes one number only.
    b.eval("var t = document.querySelector('#take'); t.click(); t.click(); return true;").await;
    until_ticket(&b, "A001").await;
    assert_eq!(d.api.waiting_in("A").await, 1, "a double tap printed one ticket");
    let materials = b.eval("return document.querySelectorAll('#ticket-materials li').length;").await;
    assert!(materials.as_u64().is_some_and(|n| n > 0), "the ticket lists the materials");
    let ahead = b.text("#ticket-ahead").await;
    assert!(ahead.contains('0'), "nobody is ahead of the first ticket: {ahead}");
    b.screenshot("kiosk-ticket").await;

    // The print layout: the ticket alone, black on white, 80 mm wide.
    let print = json!({ "media": "print" });
    b.client.issue_cmd(Cdp { cmd: "Emulation.setEmulatedMedia", params: print }).await.expect("print media");
    let width = b.eval("return document.querySelector('#ticket').getBoundingClientRect().width;").await;
    let mm = width.as_f64().expect("a width") * 25.4 / 96.0;
    assert!((mm - 80.0).abs() < 1.0, "the printed ticket is 80 mm wide, not {mm} mm");
    let bar = b.eval("return document.querySelector('.k-bar').getClientRects().length;").await;
    assert_eq!(bar, json!(0), "only the ticket is printed");
    b.screenshot("kiosk-print").await;
    let screen = json!({ "media": "" });
    b.client.issue_cmd(Cdp { cmd: "Emulation.setEmulatedMedia", params: screen }).await.expect("screen media");

    // "完成" returns home for the next visitor.
    b.click("#done").await;
    b.until_kiosk_home().await;
    b.close().await;

    // Left alone, a ticket goes back home by itself (here after 5 s instead of 60).
    let Some(b) = launch_exact("kiosk_click_through (idle)", 1080, 1920, false).await else {
        return;
    };
    b.goto(&format!("{}&idle=5", kiosk_url(d.addr, support::KIOSK, ""))).await;
    b.until_kiosk_home().await;
    b.click(&format!("#categories [data-category=\"{category}\"]")).await;
    b.click(&format!("#list [data-code=\"{code}\"]")).await;
    b.click("#take").await;
    until_ticket(&b, "A002").await;
    let countdown = b.text("#countdown").await;
    assert!(countdown.contains("秒后自动返回首页"), "the ticket says when it goes away: {countdown}");
    b.until_kiosk_home().await;
    let search = b.eval("return document.querySelector('#search').value;").await;
    assert_eq!(search, json!(""), "a fresh home screen");
    b.close().await;

    // Landscape: home, then a second ticket.
    let Some(b) = launch_exact("kiosk_click_through (landscape)", 1920, 1080, false).await else {
        return;
    };
    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    b.screenshot("kiosk-landscape").await;
    b.click("#bundles [data-code=\"YJS-02\"]").await;
    b.until("the bundle view", &visible_js("#take")).await;
    b.screenshot("kiosk-landscape-bundle").await;
    b.click("#priorities [data-priority=\"elderly\"]").await;
    b.click("#take").await;
    b.until(
        "the bundle's ticket",
        "var q = document.querySelector('#ticket-qr');
         return document.querySelector('#ticket').getClientRects().length > 0 && q.complete && q.naturalWidth > 0;",
    )
    .await;
    b.screenshot("kiosk-landscape-ticket").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kiosk_finds_an_item_by_its_pinyin_initials() {
    let Some(b) = launch_exact("kiosk_finds_an_item_by_its_pinyin_initials", 1080, 1920, false).await else {
        return;
    };
    let d = Daemon::start().await;
    let catalog = d.api.catalog().await;
    let item = catalog["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["name"].as_str().is_some_and(|n| n.starts_with("个体工商户")))
        .expect("an item named 个体工商户…")
        .clone();
    let code = item["code"].as_str().expect("code");
    let initials = item["initials"].as_str().expect("the catalogue gives each item its pinyin initials");
    assert!(initials.starts_with("gtgsh"), "initials of {}: {initials}", item["name"]);

    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    b.click("#search").await;
    b.until("the on-screen keyboard", &visible_js("#kbd")).await;
    // Type "gtg" on the on-screen keyboard, the rest on the hardware keyboard.
    for key in ["g", "t", "g"] {
        b.click(&format!("#kbd [data-key=\"{key}\"]")).await;
    }
    b.type_into("#search", &initials[3..5]).await;
    let value = b.eval("return document.querySelector('#search').value;").await;
    assert_eq!(value, json!("gtgsh"));
    b.until(
        &format!("{code} in the results"),
        &format!("return !!document.querySelector('#results [data-code=\"{code}\"]');"),
    )
    .await;
    let browse_hidden = b.eval("return document.querySelector('#home-browse').hidden;").await;
    assert_eq!(browse_hidden, json!(true), "results replace the browse tiles");
    b.screenshot("kiosk-search").await;

    // A Chinese substring finds it too; picking it opens the item.
    b.eval(
        "var s = document.querySelector('#search'); s.value = ''; s.dispatchEvent(new Event('input')); return true;",
    )
    .await;
    b.type_into("#search", "工商户设立").await;
    b.click(&format!("#results [data-code=\"{code}\"]")).await;
    let title = b.text("#item-title").await;
    assert_eq!(title, item["name"].as_str().expect("name"));

    // In English the labels change; the catalogue's names stay as the hall wrote them.
    b.click("#lang-toggle button").await;
    b.until("English labels", "return document.querySelector('#take').textContent.trim() === 'Take a number';").await;
    b.screenshot("kiosk-item-en").await;
    b.close().await;
}

/// Waits until the status page shows `status` (its `data-status`).
async fn until_status(b: &Browser, status: &str) {
    let js = format!("return document.querySelector('#status').getAttribute('data-status') === '{status}';");
    b.until(&format!("the status page to show {status}"), &js).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_follows_a_ticket_to_done_and_takes_one_rating() {
    let Some(b) = launch_exact("status_page_follows_a_ticket_to_done_and_takes_one_rating", 375, 812, true).await
    else {
        return;
    };
    let d = Daemon::start().await;
    let code = d.api.item_in("A").await;
    let ticket = d.api.issue(&code).await;
    let id = ticket["id"].as_str().expect("id").to_string();
    let number = ticket["number"].as_str().expect("number").to_string();
    // The page as the QR code opens it: with the visitor's key.
    let page = format!("http://{}{}", d.addr, ticket["status_url"].as_str().expect("status_url"));
    assert!(page.contains("?k="), "{page}");

    b.goto(&page).await;
    until_status(&b, "waiting").await;
    assert_eq!(b.text("#number").await, number);
    assert_eq!(b.text("#status").await, "等候中");
    b.until("people ahead", "return document.querySelector('#ahead b').textContent.trim() === '0';").await;
    assert!(b.eval(&visible_js("#cancel")).await == Value::Bool(true), "a waiting ticket can be cancelled");
    b.eval("window.__sameLoad = true; return true;").await;
    b.screenshot("status-waiting").await;

    let tok = d.api.login("clerk1").await;
    d.api.window_ok(&tok, "1", "open", None).await;
    let called = d.api.call_next(&tok, "1").await;
    assert_eq!(called["id"], id.as_str());
    until_status(&b, "called").await;
    let call = b.text("#call-main").await;
    assert!(call.contains("请到") && call.contains('1'), "the call is prominent: {call}");
    assert!(b.eval(&visible_js("#cancel")).await == Value::Bool(false), "no cancel once called");
    b.screenshot("status-called").await;

    d.api.window_ok(&tok, "1", "serve", None).await;
    until_status(&b, "serving").await;
    d.api.window_ok(&tok, "1", "done", Some(json!({ "outcome": "completed" }))).await;
    until_status(&b, "done").await;
    assert_eq!(b.eval("return window.__sameLoad === true;").await, json!(true), "followed without a reload");
    b.until("the rating form", &visible_js("#rate")).await;
    b.screenshot("status-done").await;

    // 非常不满意 without a reason is refused in the page.
    b.click("[data-score=\"1\"]").await;
    b.click("#rate-submit").await;
    b.until("the page to ask for a reason", &visible_js("#rate-error")).await;
    assert_eq!(d.api.ticket(&id).await.body["rated"], json!(false), "nothing was sent");
    assert!(b.eval(&visible_js("#rate-thanks")).await == Value::Bool(false));

    // Score 5 is accepted once.
    b.click("[data-score=\"5\"]").await;
    b.click("#rate-submit").await;
    b.until("the thanks", &visible_js("#rate-thanks")).await;
    assert!(b.eval(&visible_js("#rate")).await == Value::Bool(false), "the form is gone");
    assert!(b.eval(&visible_js("#rate-submit")).await == Value::Bool(false));
    assert_eq!(d.api.ticket(&id).await.body["rated"], json!(true));
    b.screenshot("status-rated").await;

    // A reload remembers it was rated.
    b.goto(&page).await;
    b.until("the thanks after a reload", &visible_js("#rate-thanks")).await;
    assert!(b.eval(&visible_js("#rate")).await == Value::Bool(false));

    // An unknown ticket gets a plain message.
    b.goto(&format!("http://{}/t/00000000000000000000000000000000", d.addr)).await;
    b.until("the not-found message", &visible_js("#notfound")).await;
    assert!(b.text("#notfound").await.contains("没有找到这张票"));
    b.screenshot("status-notfound").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_cancels_after_confirmation() {
    let Some(b) = launch_exact("status_page_cancels_after_confirmation", 375, 812, true).await else {
        return;
    };
    let d = Daemon::start().await;
    let code = d.api.item_in("A").await;
    let ticket = d.api.issue(&code).await;
    let id = ticket["id"].as_str().expect("id").to_string();
    // Opened by the id alone (what staff see), the page only shows: no cancel, and a hint.
    b.goto(&format!("http://{}/t/{id}", d.addr)).await;
    until_status(&b, "waiting").await;
    b.until("the hint to scan the QR code", &visible_js("#note")).await;
    assert!(b.text("#note").await.contains("二维码"), "{}", b.text("#note").await);
    assert!(b.eval(&visible_js("#cancel")).await == Value::Bool(false), "no cancel without the key");
    b.screenshot("status-without-key").await;
    b.goto(&format!("http://{}{}", d.addr, ticket["status_url"].as_str().expect("status_url"))).await;
    until_status(&b, "waiting").await;
    b.click("#cancel").await;
    b.until("the confirmation", &visible_js("#confirm")).await;
    b.screenshot("status-confirm-cancel").await;
    b.click("#confirm-no").await;
    assert_eq!(d.api.ticket(&id).await.body["status"], "waiting", "keeping the place cancels nothing");
    b.click("#cancel").await;
    b.click("#confirm-yes").await;
    until_status(&b, "cancelled").await;
    assert_eq!(d.api.ticket(&id).await.body["status"], "cancelled");
    b.screenshot("status-cancelled").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kiosk_with_a_bad_token_says_so_plainly() {
    let Some(b) = launch_exact("kiosk_with_a_bad_token_says_so_plainly", 1080, 1920, false).await else {
        return;
    };
    let d = Daemon::start().await;
    b.goto(&kiosk_url(d.addr, "not-a-kiosk", "")).await;
    b.until_kiosk_home().await;
    b.click("#bundles [data-code]").await;
    b.click("#take").await;
    b.until("the error", &visible_js("#error")).await;
    let text = b.text("#error").await;
    assert!(text.contains("本机未授权，请联系工作人员"), "plain words: {text}");
    assert!(!text.contains("Bearer") && !text.contains("Error"), "no technical text: {text}");
    assert_eq!(d.api.waiting_in("A").await, 0, "no ticket was issued");
    b.screenshot("kiosk-bad-token").await;
    b.close().await;
}

/// Opens a phone on ticket `t`'s status page (its `status_url`, with the visitor's key)
/// whose clock reads `at_ms` at load (the daemon's injected clock), and waits for the
/// ticket in `status`.
async fn open_status_at(test: &str, d: &Daemon, t: &Value, at_ms: i64, status: &str) -> Option<Browser> {
    let b = launch_exact(test, 375, 812, true).await?;
    b.set_page_clock(at_ms).await;
    b.goto(&format!("http://{}{}", d.addr, t["status_url"].as_str().expect("status_url"))).await;
    until_status(&b, status).await;
    Some(b)
}

/// Issues `n` tickets for an item of queue A, then has clerk1 open window 1, call the
/// first and mark it no-show; returns the tickets and clerk1's token.
async fn miss_the_first_of(d: &Daemon, n: usize) -> (Vec<Value>, String) {
    let code = d.api.item_in("A").await;
    let mut tickets = Vec::new();
    for _ in 0..n {
        tickets.push(d.api.issue(&code).await);
    }
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(d.api.call_next(&clerk, "1").await["id"], tickets[0]["id"]);
    let missed = d.api.window_ok(&clerk, "1", "no-show", None).await;
    assert_eq!(missed["rejoin_until"], "2026-03-10T10:30:00+08:00", "{missed}");
    (tickets, clerk)
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_rejoins_a_missed_number_and_shows_a_parked_one_where_to_go() {
    let test = "status_page_rejoins_a_missed_number_and_shows_a_parked_one_where_to_go";
    let start = support::default_start_ms();
    let d = Daemon::start_with_clock(start).await;
    let (tickets, clerk) = miss_the_first_of(&d, 2).await;
    let id = tickets[0]["id"].as_str().expect("id").to_string();
    let Some(b) = open_status_at(test, &d, &tickets[0], start + 5 * 60_000, "no_show").await else {
        return;
    };

    // Missed, with the way back and its deadline in the hall's time.
    b.until("the rejoin card", &visible_js("#rejoin-btn")).await;
    assert_eq!(b.text("#rejoin h2").await, "您已过号");
    let text = b.text("#rejoin-text").await;
    assert!(text.contains("10:30") && text.contains("号码不变"), "the deadline and what rejoining keeps: {text}");
    assert!(b.eval(&visible_js("#note")).await == Value::Bool(false), "no 'take a new ticket' while it may rejoin");
    b.screenshot("status-missed-rejoin").await;

    // Two taps in one tick rejoin once; the page shows the new place: behind A002.
    b.eval("var e = document.querySelector('#rejoin-btn'); e.click(); e.click(); return true;").await;
    until_status(&b, "waiting").await;
    assert_eq!(b.text("#number").await, "A001", "the number is kept");
    b.until("one ahead", "return document.querySelector('#ahead b').textContent.trim() === '1';").await;
    assert!(b.text("#msg").await.contains("已重新排队"));
    assert!(b.eval(&visible_js("#rejoin")).await == Value::Bool(false));
    b.screenshot("status-rejoined").await;
    let back = d.api.ticket(&id).await;
    assert_eq!(
        (back.body["status"].as_str(), back.body["ahead"].as_u64()),
        (Some("waiting"), Some(1)),
        "{}",
        back.text
    );

    // A002 is called, served, then parked while its visitor fetches a paper: its page says
    // where to come back to, live.
    let second = tickets[1]["id"].as_str().expect("id").to_string();
    b.goto(&format!("http://{}{}", d.addr, tickets[1]["status_url"].as_str().expect("status_url"))).await;
    until_status(&b, "waiting").await;
    assert_eq!(d.api.call_next(&clerk, "1").await["id"], second.as_str());
    d.api.window_ok(&clerk, "1", "serve", None).await;
    until_status(&b, "serving").await;
    d.api.window_ok(&clerk, "1", "park", None).await;
    until_status(&b, "parked").await;
    assert_eq!(b.text("#call-main").await, "请补齐材料后回到 1 号窗口");
    assert!(b.text("#call-sub").await.contains("号码不变"));
    b.screenshot("status-parked").await;
    d.api.window_ok(&clerk, "1", "unpark", Some(json!({ "ticket": second }))).await;
    until_status(&b, "called").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_says_to_take_a_new_ticket_once_the_time_to_rejoin_is_over() {
    let test = "status_page_says_to_take_a_new_ticket_once_the_time_to_rejoin_is_over";
    let start = support::default_start_ms();
    let d = Daemon::start_with_clock(start).await;
    let (tickets, _) = miss_the_first_of(&d, 1).await;
    let id = tickets[0]["id"].as_str().expect("id").to_string();

    // The phone's clock still says 10:29, the daemon's 10:31: the daemon has the last word.
    let Some(b) = open_status_at(test, &d, &tickets[0], start + 29 * 60_000, "no_show").await else {
        return;
    };
    b.until("the rejoin button", &visible_js("#rejoin-btn")).await;
    d.set_clock(start + 31 * 60_000);
    b.click("#rejoin-btn").await;
    b.until("the rejoin button to go", &format!("return !(function () {{ {} }})();", visible_js("#rejoin-btn"))).await;
    let text = b.text("#rejoin-text").await;
    assert!(text.contains("10:30") && text.contains("重新取号"), "past the deadline: take a new ticket: {text}");
    assert_eq!(d.api.ticket(&id).await.body["status"], "no_show");
    b.screenshot("status-rejoin-expired").await;

    // Loaded after the deadline on its own clock, the page offers no button at all.
    let Some(late) = open_status_at(test, &d, &tickets[0], start + 31 * 60_000, "no_show").await else {
        return;
    };
    late.until(
        "the expired text",
        "return document.querySelector('#rejoin-text').textContent.indexOf('重新取号') >= 0;",
    )
    .await;
    assert!(late.eval(&visible_js("#rejoin-btn")).await == Value::Bool(false));
    b.close().await;
    late.close().await;
}

/// Whether the status page lists its steps in these states, e.g. "done current".
fn steps_are(states: &str) -> String {
    format!(
        "return Array.prototype.map.call(document.querySelectorAll('#step-list .st-step'),
            function (e) {{ return e.dataset.state; }}).join(' ') === '{states}';"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_lists_a_bundles_steps_and_where_to_go_next() {
    let test = "status_page_lists_a_bundles_steps_and_where_to_go_next";
    let Some(b) = launch_exact(test, 375, 812, true).await else {
        return;
    };
    let d = Daemon::start().await;
    // YJS-23 spans two queues: B (enterprise) first, then A (comprehensive).
    let ticket = d.api.issue_with(json!({ "service": "YJS-23" })).await;
    assert_eq!(ticket.status, 201, "{}", ticket.text);
    b.goto(&format!("http://{}{}", d.addr, ticket.body["status_url"].as_str().expect("status_url"))).await;
    until_status(&b, "waiting").await;
    b.until("the steps, the first current", &steps_are("current pending")).await;
    assert!(b.text("#steps-title").await.contains("共 2 步"));
    assert!(b.text("#steps-next").await.contains("B 企业服务"), "wait for the first step's queue");

    let clerk = d.api.login("clerk10").await;
    d.api.window_ok(&clerk, "10", "open", None).await;
    d.api.call_next(&clerk, "10").await;
    d.api.window_ok(&clerk, "10", "serve", None).await;
    until_status(&b, "serving").await;
    assert!(b.text("#steps-next").await.contains("本步完成后，请等候「A 综合受理」叫号"));
    d.api.window_ok(&clerk, "10", "done", None).await;
    until_status(&b, "waiting").await;
    b.until("the first step done", &steps_are("done current")).await;
    let list = b.text("#step-list").await;
    assert!(list.contains("10 号窗口"), "where the first step was done: {list}");
    assert!(b.text("#steps-next").await.contains("请等候「A 综合受理」叫号"));
    b.screenshot("status-bundle-steps").await;
    b.close().await;
}
