//! The supervisor page (`/display/supervisor`) in headless Chromium against a real daemon
//! on an injected clock: a clerk's login is turned away; the supervisor signs in, sees the
//! hall calm, then a long queue and a window paused too long raise alerts that the page
//! highlights (alert list, queue row, window card) and announces; the supervisor
//! acknowledges one with its button; a later alert is announced again. Screenshots under
//! target/screenshots/.

use crate::browser_support;
use crate::support;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use hallq::core::model::QueueId;
use serde_json::Value;
use support::{default_start_ms, Daemon};

async fn daemon() -> Daemon {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let a = QueueId::parse("A").unwrap();
    config.setup.alerts.queues.get_mut(&a).expect("queue A has thresholds").waiting = 2;
    // This test is about thresholds; the unstaffed alert has a test of its own below.
    config.setup.alerts.unstaffed = 0;
    let data = Arc::new(tempfile::tempdir().unwrap());
    Daemon::start_config(data, Some(Arc::new(AtomicI64::new(default_start_ms()))), config).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_sees_alerts_highlighted_and_acknowledges_one() {
    let test = "a_supervisor_sees_alerts_highlighted_and_acknowledges_one";
    let Some(b) = browser_support::launch(test, 1366, 900).await else {
        return;
    };
    let d = daemon().await;
    let t0 = default_start_ms();
    let base = format!("http://{}", d.addr);
    b.set_page_clock(t0).await;
    // The browser in UTC, as the test machine and many hall PCs are: eight hours behind the
    // example hall (+08:00), so a clock in the browser's zone reads 02:00, not 10:00.
    b.cdp("Emulation.setTimezoneOverride", serde_json::json!({ "timezoneId": "UTC" })).await;
    b.goto(&format!("{base}/display/supervisor")).await;
    assert_eq!(b.eval("return new Date(Date.now()).getHours();").await, Value::from(2), "the browser runs in UTC");

    // A clerk may not use this page.
    b.type_into("#login-user", "clerk1").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the page to refuse a clerk", "return !document.querySelector('#login-error').hidden;").await;
    assert!(b.text("#login-error").await.contains("值班长"), "{}", b.text("#login-error").await);

    b.eval("document.querySelector('#login-user').value = ''; return true;").await;
    b.type_into("#login-user", "supervisor").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until(
        "the calm hall",
        "return !document.querySelector('#screen-main').hidden
            && document.querySelectorAll('#queue-rows tr').length === 5
            && !document.querySelector('#alerts-none').hidden;",
    )
    .await;
    assert_eq!(b.eval("return window.__hallqAlertsAnnounced || 0;").await, Value::from(0));

    // The header clock shows the hall's time (10:00 at +08:00), the same as "更新于".
    let updated = b.text("#updated-at").await;
    let clock = b.text("#clock").await;
    assert!(updated.starts_with("10:00:"), "updated at {updated}");
    assert_eq!(clock, updated[..5], "the header clock in the hall's time, like 更新于 {updated}");

    // Three tickets in A (alert above 2); window 12 paused, then 25 minutes pass (alert
    // above 20).
    let api = &d.api;
    let item = api.item_in("A").await;
    for _ in 0..3 {
        api.issue(&item).await;
    }
    let clerk = api.login("clerk12").await;
    api.window_ok(&clerk, "12", "open", None).await;
    api.window_ok(&clerk, "12", "pause", None).await;
    d.set_clock(t0 + 25 * 60_000);
    b.until(
        "two alerts on the page",
        "return document.querySelectorAll('#alert-list .sv-alert[data-acked=\"no\"]').length === 2
            && document.querySelector('#queue-rows tr[data-queue=\"A\"]').classList.contains('is-alert')
            && document.querySelector('#window-grid [data-window=\"12\"]').classList.contains('is-alert');",
    )
    .await;
    let texts = b.text("#alert-list").await;
    assert!(texts.contains("综合受理 排队 3 人，超过 2 人"), "{texts}");
    assert!(texts.contains("暂停 25 分钟，超过 20 分钟"), "{texts}");
    let window = b.text("#window-grid [data-window=\"12\"]").await;
    assert!(window.contains("暂停") && window.contains("clerk12") && window.contains("25 分钟"), "{window}");
    let order = b.eval("return Array.from(document.querySelectorAll('#window-grid [data-window]')).map(function (e) { return e.dataset.window; }).join(',');").await;
    let hall_order: Vec<String> = (1..=60).map(|n| n.to_string()).collect();
    assert_eq!(order, hall_order.join(","), "windows in the hall's order");
    let announced = b.eval("return window.__hallqAlertsAnnounced || 0;").await.as_u64().unwrap_or(0);
    assert!(announced >= 1, "a new alert is announced (chime and flash)");
    assert_eq!(b.eval("return document.body.classList.contains('sv-flash');").await, Value::Bool(true));
    // The clock follows the daemon's time (its clock jumped 25 minutes), not the browser's.
    b.until("the clock at the daemon's time", "return document.querySelector('#clock').textContent === '10:25';").await;
    let shot = b.screenshot("supervisor-alert").await;
    assert!(shot.exists());

    // Acknowledge the queue alert with its button.
    b.click("#alert-list .sv-alert[data-kind=\"queue_waiting\"] .sv-btn-ack").await;
    b.until(
        "the alert to show as acknowledged",
        "var e = document.querySelector('#alert-list .sv-alert[data-kind=\"queue_waiting\"]');
         return e && e.dataset.acked === 'yes' && e.innerText.indexOf('supervisor') >= 0;",
    )
    .await;
    let sup = api.login("supervisor").await;
    let list = api.get("/api/v1/alerts?active=true", Some(&sup)).await;
    let acked: Vec<&Value> =
        list.body["alerts"].as_array().unwrap().iter().filter(|a| a["acked_by"] == "supervisor").collect();
    assert_eq!(acked.len(), 1, "{}", list.text);
    assert_eq!(acked[0]["kind"], "queue_waiting");

    // A later alert (the oldest wait passes 30 minutes) is announced again.
    d.set_clock(t0 + 31 * 60_000);
    let js = format!(
        "return (window.__hallqAlertsAnnounced || 0) > {announced}
        && document.querySelectorAll('#alert-list .sv-alert').length === 3;"
    );
    b.until("a third alert, announced", &js).await;
    assert!(b.text("#alert-list").await.contains("最长等候 31 分钟"));
    b.screenshot("supervisor-three-alerts").await;
    b.close().await;
}

/// Issue 15, point 9: B had 16 and V (绿色通道) 6 waiting while every window serving them
/// was closed, and the page raised only "排队 16 人". Now each queue nobody serves is an
/// alert of its own, first in the list and louder than the rest, with its current count;
/// it clears when a window serving the queue opens.
#[tokio::test(flavor = "multi_thread")]
async fn queues_that_no_open_window_serves_come_first_and_clear_when_a_window_opens() {
    let test = "queues_that_no_open_window_serves_come_first_and_clear_when_a_window_opens";
    let Some(b) = browser_support::launch(test, 1440, 900).await else {
        return;
    };
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let data = Arc::new(tempfile::tempdir().unwrap());
    let t0 = default_start_ms();
    let d = Daemon::start_config(data, Some(Arc::new(AtomicI64::new(t0))), config).await;
    let api = &d.api;
    // Window 1 (A) is open; B (window 10) and V (window 11) have no open window.
    let clerk1 = api.login("clerk1").await;
    api.window_ok(&clerk1, "1", "open", None).await;
    let (b_item, v_item) = (api.item_in("B").await, api.item_in("V").await);
    for _ in 0..16 {
        api.issue(&b_item).await;
    }
    for _ in 0..6 {
        api.issue(&v_item).await;
    }
    api.issue(&api.item_in("A").await).await;

    b.set_page_clock(t0).await;
    b.goto(&format!("http://{}/display/supervisor", d.addr)).await;
    b.type_into("#login-user", "supervisor").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until(
        "two unstaffed queues, first in the list",
        "var items = document.querySelectorAll('#alert-list .sv-alert');
         return items.length >= 3 && items[0].dataset.kind === 'queue_unstaffed'
            && items[1].dataset.kind === 'queue_unstaffed';",
    )
    .await;
    let texts = b.text("#alert-list").await;
    assert!(texts.contains("B 企业服务：16 人等候，没有开启的窗口办理"), "{texts}");
    assert!(texts.contains("V 优先服务（绿色通道）：6 人等候，没有开启的窗口办理"), "{texts}");
    assert!(!texts.contains("A 综合受理："), "A has an open window: {texts}");
    let b_row = b.text("#queue-rows tr[data-queue=\"B\"]").await;
    assert!(b_row.contains("无窗口办理"), "{b_row}");
    // Louder than the other alerts: larger type on a red ground.
    let size = b
        .eval(
            "var a = document.querySelector('#alert-list .sv-alert[data-kind=\"queue_unstaffed\"]');
               var o = document.querySelector('#alert-list .sv-alert[data-kind=\"queue_waiting\"]');
               return [parseFloat(getComputedStyle(a).fontSize), parseFloat(getComputedStyle(o).fontSize)];",
        )
        .await;
    assert!(size[0].as_f64() > size[1].as_f64(), "{size}");
    b.screenshot("supervisor-unstaffed").await;

    // A clerk opens window 10 (B): B's alert clears on the next tick, V's stays.
    let clerk10 = api.login("clerk10").await;
    api.window_ok(&clerk10, "10", "open", None).await;
    b.until(
        "B's alert to clear",
        "var items = document.querySelectorAll('#alert-list .sv-alert[data-kind=\"queue_unstaffed\"]');
         return items.length === 1 && items[0].querySelector('.sv-alert-text').textContent.indexOf('V ') === 0;",
    )
    .await;
    let sup = api.login("supervisor").await;
    let all = api.get("/api/v1/alerts", Some(&sup)).await;
    let unstaffed: Vec<&Value> =
        all.body["alerts"].as_array().unwrap().iter().filter(|a| a["kind"] == "queue_unstaffed").collect();
    assert_eq!(unstaffed.len(), 2, "{}", all.text);
    assert_eq!(unstaffed[0]["queue"], "B");
    assert_eq!(unstaffed[0]["active"], false, "cleared when window 10 opened: {}", all.text);
    assert_eq!(unstaffed[1]["queue"], "V");
    assert_eq!(unstaffed[1]["active"], true);
    b.close().await;
}
