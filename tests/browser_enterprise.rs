//! 助企服务 in headless Chromium against a real daemon (the example hall, E001's
//! specialist zhuanyuan1 at window 10): at the kiosk, an item of queue B offers the
//! credit-code entry; an unregistered code says so; the licence QR code's URL, typed as a
//! scanner types it, gives a ticket whose line names the specialist's window and no
//! enterprise. On the staff page the specialist sees their enterprises, opens E001's
//! follow-up log with the visit from that ticket, and adds a milestone. The visitor's status
//! page says where an enterprise ticket waits: at the specialist's window, then, the window
//! paused past the hall's hold, in the enterprise queue.

use crate::browser_support;
use crate::support;

use browser_support::{kiosk_url, launch_exact, visible_js};
use serde_json::json;
use support::{Daemon, PASSWORD};

const LICENCE_URL: &str = "http://www.gsxt.gov.cn/index.html?uniscid=91510100MA6CAY4CLW";

#[tokio::test(flavor = "multi_thread")]
async fn an_enterprise_scans_its_licence_at_the_kiosk_and_its_specialist_logs_a_milestone() {
    let test = "an_enterprise_scans_its_licence_at_the_kiosk_and_its_specialist_logs_a_milestone";
    let Some(b) = launch_exact(test, 1080, 1920, false).await else {
        return;
    };
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let z1 = d.api.login("zhuanyuan1").await;
    d.api.window_ok(&z1, "10", "open", None).await;
    let catalog = d.api.catalog().await;
    let code = d.api.item_in("B").await;
    let item = catalog["items"].as_array().expect("items").iter().find(|i| i["code"] == code.as_str()).expect("item");
    let category = item["category"].as_str().expect("a category");

    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    b.click(&format!("#categories [data-category=\"{category}\"]")).await;
    b.click(&format!("#list [data-code=\"{code}\"]")).await;
    b.until("the credit-code button on a queue B item", &visible_js("#ent-open")).await;
    b.screenshot("enterprise-kiosk-item").await;
    b.click("#ent-open").await;
    b.until("the credit-code entry", &visible_js("#ent-code")).await;

    // A code nobody registered: the kiosk says so, and no ticket is issued.
    b.type_into("#ent-code", "91350100M000100Y43\n").await;
    b.until("the unregistered answer", "return !document.querySelector('#error-box').hidden;").await;
    assert!(b.text("#error").await.contains("未登记"), "{}", b.text("#error").await);
    b.screenshot("enterprise-kiosk-unknown").await;
    b.click("#error-ok").await;
    assert_eq!(d.api.waiting_in("B").await, 0);

    // The scanner types the licence's URL and Enter.
    b.type_into("#ent-code", &format!("{LICENCE_URL}\n")).await;
    b.until("the ticket", "return !document.querySelector('#view-ticket').hidden;").await;
    let kind = b.text("#ticket-kind").await;
    assert!(kind.contains("10 号窗口") && kind.contains("已识别为本中心服务企业"), "{kind}");
    assert_eq!(b.text("#ticket-number").await, "B001");
    let page = b.eval("return document.body.innerText + document.querySelector('#ent-code').value;").await;
    let page = page.as_str().unwrap_or_default().to_string();
    assert!(
        !page.contains("青川智造") && !page.contains("91510100MA6CAY4CLW"),
        "the kiosk shows the enterprise or its code"
    );
    b.screenshot("enterprise-kiosk-ticket").await;
    b.close().await;

    // The specialist serves it: a visit in E001's log.
    let called = d.api.call_next(&z1, "10").await;
    assert_eq!(called["number"], "B001");
    d.api.window_ok(&z1, "10", "serve", None).await;
    d.api.window_ok(&z1, "10", "done", Some(json!({ "outcome": "completed" }))).await;

    status_page_line(&d, &z1, test).await;

    let Some(b) = launch_exact(test, 1440, 900, false).await else {
        return;
    };
    b.goto(&format!("http://{}/display/enterprise", d.addr)).await;
    b.type_into("#login-user", "zhuanyuan1").await;
    b.type_into("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the specialist's three enterprises", "return document.querySelectorAll('#list tr').length === 3;").await;
    b.click("#list tr[data-id=\"E001\"]").await;
    b.until("E001's log with its visit", "return !!document.querySelector('#log li[data-kind=\"visit\"]');").await;
    b.eval("document.querySelector('#f-kind').value = 'project'; document.querySelector('#f-date').value = '2026-03-09'; return true;").await;
    b.type_into("#f-note", "项目已立项，计划年内开工").await;
    b.click("#f-submit").await;
    b.until("the milestone in the log", "return !!document.querySelector('#log li[data-kind=\"project\"]');").await;
    assert!(b.text("#log").await.contains("立项"));
    assert_eq!(b.eval("return document.querySelector('#admin-card').hidden;").await, json!(true));
    b.screenshot("enterprise-log").await;
    b.close().await;
}

/// The status page of an enterprise ticket (issue 17 follow-up point 2): the personal
/// line while window 10 is open, the enterprise queue once its pause outlasts the hold.
async fn status_page_line(d: &Daemon, z1: &str, test: &str) {
    let body = json!({ "code": LICENCE_URL, "service": d.api.item_in("B").await });
    let issued = d.api.post("/api/v1/enterprise-tickets", Some(support::KIOSK), Some(body)).await;
    let id = issued.body["id"].as_str().expect("a ticket").to_string();
    let Some(b) = launch_exact(test, 390, 844, false).await else {
        return;
    };
    let url = format!("http://{}/t/{id}", d.addr);
    b.goto(&url).await;
    let shown = "return !document.querySelector('#enterprise-line').hidden && document.querySelector('#enterprise-line').dataset.line;";
    assert_eq!(b.until("the personal line", shown).await, json!("personal"));
    assert!(b.text("#enterprise-line-text").await.contains("10 号窗口"));
    b.screenshot("enterprise-status-personal").await;
    d.api.window_ok(z1, "10", "pause", None).await;
    d.set_clock(support::default_start_ms() + 11 * 60_000);
    support::guard("the ticket back in queue B", async {
        while d.api.ticket(&id).await.body["enterprise_line"]["kind"] != "queue" {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    b.goto(&url).await;
    let queue = "return document.querySelector('#enterprise-line').dataset.line === 'queue';";
    b.until("the enterprise queue", queue).await;
    let text = b.text("#enterprise-line-text").await;
    assert!(text.contains("企业服务区") && text.contains("B002"), "{text}");
    b.screenshot("enterprise-status-queue").await;
    b.close().await;
    d.api.window_ok(z1, "10", "resume", None).await;
}
