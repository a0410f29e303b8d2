//! The kiosk tells the truth (issue 15), in headless Chromium against a real daemon: every
//! item's and bundle's take button is on screen without scrolling, portrait and landscape;
//! the appointment queue's card leads to check-in, never to a walk-in ticket; outside the
//! opening hours, in the lunch break and on a rest day the home screen says the hall is
//! closed and when it opens, and 取号 is off; a priority bundle ticket says its class, lists
//! its steps and prints the hall's real missed-number rule.

use crate::browser_support;
use crate::support;

use std::sync::Arc;

use browser_support::{kiosk_url, launch_exact, visible_js, Browser, Cdp};
use serde_json::{json, Value};
use support::Daemon;

/// Opens every bundle (part `bundles`) or every item of one category (part `N`, the
/// category's index on the home screen) the way a visitor does (a tap on its tile or row)
/// and returns those whose take button is not wholly on screen, uncovered, as the view
/// opens (no scrolling); items of the appointment queue must open check-in instead. One
/// script per part, so that none runs near WebDriver's script timeout on a loaded machine.
const EVERY_TAKE_BUTTON: &str = "
    var bad = [], seen = 0, part = '__PART__';
    function check(code) {
      seen++;
      var take = document.querySelector('#take'), r = take.getBoundingClientRect();
      var inside = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.height > 40;
      var hit = inside && document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (!inside || !hit || !(hit === take || take.contains(hit))) bad.push(code + ' at ' + Math.round(r.top) + '-' + Math.round(r.bottom));
    }
    if (part === 'bundles') {
      document.querySelectorAll('#bundles [data-code]').forEach(function (b) {
        document.querySelector('#bundles [data-code=\"' + b.getAttribute('data-code') + '\"]').click();
        check(b.getAttribute('data-code'));
        document.querySelector('#view-item [data-back]').click();
      });
      return { bad: bad, seen: seen };
    }
    var cat = document.querySelectorAll('#categories [data-category]')[Number(part)].getAttribute('data-category');
    document.querySelector('#categories [data-category=\"' + cat + '\"]').click();
    // A long category comes a page at a time: every page of it (kiosk-pager.js).
    for (var more = true; more;) {
      var codes = Array.prototype.map.call(document.querySelectorAll('#list [data-code]'),
        function (r) { return r.getAttribute('data-code'); });
      codes.forEach(function (code) {
        document.querySelector('#list [data-code=\"' + code + '\"]').click();
        if (!document.querySelector('#view-checkin').hidden) {
          seen++;
          document.querySelector('#view-checkin [data-back]').click();
          document.querySelector('#categories [data-category=\"' + cat + '\"]').click();
          return;
        }
        check(code);
        document.querySelector('#view-item [data-back]').click();
      });
      var next = document.querySelector('#list-pager .k-page-next');
      more = !document.querySelector('#list-pager').hidden && !next.disabled;
      if (more) next.click();
    }
    document.querySelector('#view-list [data-back]').click();
    return { bad: bad, seen: seen };";

/// Every part of `EVERY_TAKE_BUTTON` on the kiosk's home screen: how many were opened, and
/// those whose take button was off screen.
async fn every_take_button(b: &Browser) -> (u64, Vec<Value>) {
    let categories = b.eval("return document.querySelectorAll('#categories [data-category]').length;").await;
    let categories = categories.as_u64().expect("a count of categories");
    let parts = std::iter::once("bundles".to_string()).chain((0..categories).map(|i| i.to_string()));
    let (mut seen, mut bad) = (0, Vec::new());
    for part in parts {
        let out = b.eval(&EVERY_TAKE_BUTTON.replace("__PART__", &part)).await;
        seen += out["seen"].as_u64().unwrap_or_else(|| panic!("part {part}: {out}"));
        bad.extend(out["bad"].as_array().cloned().unwrap_or_default());
    }
    (seen, bad)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_items_and_bundles_take_button_is_on_screen_in_portrait_and_landscape() {
    let d = Daemon::start().await;
    let catalog = d.api.catalog().await;
    let all = catalog["items"].as_array().expect("items").len() + catalog["bundles"].as_array().expect("bundles").len();
    for (w, h, name) in [(1080, 1920, "portrait"), (1920, 1080, "landscape")] {
        let test = format!("every_take_button_on_screen ({name})");
        let Some(b) = launch_exact(&test, w, h, false).await else {
            return;
        };
        b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
        b.until_kiosk_home().await;
        let (seen, bad) = every_take_button(&b).await;
        assert_eq!(seen, all as u64, "every item and bundle was opened");
        assert_eq!(bad, Vec::<Value>::new(), "{name}: take buttons off screen");
        // The longest bundle, as a visitor sees it.
        b.click("#bundles [data-code=\"YJS-01\"]").await;
        b.until("the bundle view", &visible_js("#take")).await;
        b.screenshot(&format!("kiosk-bundle-take-{name}")).await;
        b.close().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_appointment_card_and_item_lead_to_check_in_never_to_a_walk_in_ticket() {
    let Some(b) = launch_exact("the_appointment_card_leads_to_check_in", 1080, 1920, false).await else {
        return;
    };
    let d = Daemon::start().await;
    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    let card = b.text("#queues [data-queue=\"Y\"]").await;
    assert!(card.contains("签到"), "the Y card says what it is for: {card}");
    b.click("#queues [data-queue=\"Y\"]").await;
    b.until("the check-in panel", &visible_js("#ci-keypad")).await;
    assert!(b.eval(&visible_js("#take")).await == Value::Bool(false), "no take button on the way");
    b.screenshot("kiosk-y-card-check-in").await;
    b.click("#view-checkin [data-back]").await;
    b.until_kiosk_home().await;

    // Found by search, the appointment queue's item opens check-in too.
    b.type_into("#search", "wsyy").await;
    b.click("#results [data-code=\"YY-0001\"]").await;
    b.until("the check-in panel", &visible_js("#ci-keypad")).await;
    assert_eq!(d.api.waiting_in("Y").await, 0, "no walk-in ticket in the appointment queue");
    b.close().await;
}

/// A daemon of the example hall that keeps its hours and calendar, on a clock at `start`.
async fn hall_with_hours(start: i64) -> Daemon {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(start));
    Daemon::start_hours(data, Some(clock), config, false).await
}

/// Waits until the home screen's closed notice reads `head` and `when`.
async fn until_closed(b: &Browser, head: &str, when: &str) {
    let js = format!(
        "var c = document.querySelector('#closed');
         return !c.hidden && c.innerText.indexOf('{head}') >= 0 && c.innerText.indexOf('{when}') >= 0;"
    );
    b.until(&format!("the closed notice '{head}' '{when}'"), &js).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_opening_hours_the_home_screen_says_closed_and_when_it_opens() {
    // Tuesday 2026-03-10, 12:10: the lunch break (12:00-13:00).
    let lunch = support::shanghai_ms(2026, 3, 10, 12, 10, 0);
    let d = hall_with_hours(lunch).await;
    let Some(b) = launch_exact("outside_opening_hours_the_home_screen_says_closed", 1080, 1920, false).await else {
        return;
    };
    // The kiosk asks for the hours each second, not each 10 s: the clock moves three times.
    b.goto(&kiosk_url(d.addr, support::KIOSK, "&hours_poll=1")).await;
    b.until_kiosk_home().await;
    until_closed(&b, "午休", "今天 13:00 开始取号").await;
    let text = b.text("#closed").await;
    assert!(text.contains("08:30-12:00") && text.contains("13:00-17:30"), "the hours: {text}");
    assert!(text.contains("预约签到"), "a booked visitor may still check in at lunch: {text}");
    b.screenshot("kiosk-closed-lunch").await;
    // An item's take button is off and says why.
    b.click("#bundles [data-code=\"YJS-02\"]").await;
    b.until("the take button off", "return document.querySelector('#take').disabled;").await;
    assert_eq!(b.text("#take").await, "暂停取号");
    assert_eq!(b.text("#take-note").await, "午休时间，暂停取号 · 今天 13:00 开始取号");
    b.screenshot("kiosk-closed-item").await;
    b.click("#view-item [data-back]").await;

    // At 13:00 the notice goes by itself, and a ticket can be taken.
    d.set_clock(support::shanghai_ms(2026, 3, 10, 13, 0, 5));
    b.until("the closed notice to go", "return document.querySelector('#closed').hidden;").await;
    b.click("#bundles [data-code=\"YJS-02\"]").await;
    b.until("the take button on", "return !document.querySelector('#take').disabled;").await;
    b.click("#take").await;
    b.until("a ticket", &visible_js("#ticket")).await;
    b.click("#done").await;
    b.until_kiosk_home().await;

    // Friday evening: closed until Monday morning, past the weekend.
    d.set_clock(support::shanghai_ms(2026, 3, 13, 18, 0, 0));
    until_closed(&b, "今日取号已结束", "3月16日（周一） 08:30 开始取号").await;
    b.screenshot("kiosk-closed-evening").await;
    // Saturday, a rest day of the hall calendar.
    d.set_clock(support::shanghai_ms(2026, 3, 14, 10, 0, 0));
    until_closed(&b, "今天休息", "3月16日（周一） 08:30 开始取号").await;
    b.screenshot("kiosk-closed-rest-day").await;
    let code = d.api.item_in("A").await;
    d.api.issue_with(json!({ "service": code })).await.assert_error(503, "hall_closed");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hours_follow_the_calendar_a_make_up_saturday_opens_a_holiday_does_not() {
    // Saturday 2026-02-14 is a make-up working day (调休); Monday 02-16 a public holiday.
    let d = hall_with_hours(support::shanghai_ms(2026, 2, 14, 9, 0, 0)).await;
    let h = d.api.get("/api/v1/hours", None).await;
    assert_eq!((h.body["open"].as_bool(), h.body["why"].as_str()), (Some(true), Some("open")), "{}", h.text);
    assert_eq!(h.body["closes_at"], "2026-02-14T12:00:00+08:00");
    d.set_clock(support::shanghai_ms(2026, 2, 16, 9, 0, 0));
    let h = d.api.get("/api/v1/hours", None).await;
    assert_eq!((h.body["open"].as_bool(), h.body["why"].as_str()), (Some(false), Some("rest_day")), "{}", h.text);
    // The Spring Festival holidays run to 02-20, then the weekend; 02-23 too is a holiday.
    assert_eq!(h.body["opens_at"], "2026-02-24T08:30:00+08:00", "{}", h.text);
    let code = d.api.item_in("A").await;
    d.api.issue_with(json!({ "service": code })).await.assert_error(503, "hall_closed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_priority_bundle_ticket_says_its_class_lists_its_steps_and_the_real_rejoin_rule() {
    let d = Daemon::start().await;
    for (w, h, name) in [(1080, 1920, "portrait"), (1920, 1080, "landscape")] {
        let Some(b) = launch_exact(&format!("a_priority_bundle_ticket ({name})"), w, h, false).await else {
            return;
        };
        b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
        b.until_kiosk_home().await;
        // YJS-23 spans two queues: B (enterprise) first, then A (comprehensive).
        b.click("#bundles [data-code=\"YJS-23\"]").await;
        b.click("#priorities [data-priority=\"elderly\"]").await;
        b.click("#take").await;
        b.until("the ticket", &visible_js("#ticket")).await;
        assert_eq!(b.text("#ticket-priority").await, "优先 · 老年人");
        let steps = b.eval(
            "return Array.prototype.map.call(document.querySelectorAll('#ticket-steps li'), function (l) { return l.innerText; });",
        )
        .await;
        let steps = steps.as_array().expect("steps").clone();
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert!(steps[0].as_str().is_some_and(|s| s.starts_with("B 企业服务")), "{steps:?}");
        assert!(steps[1].as_str().is_some_and(|s| s.starts_with("A 综合受理")), "{steps:?}");
        let note = b.text("#ticket-note").await;
        assert!(note.contains("过号后 30 分钟内可扫码重新排队"), "the hall's rule (rejoin_min 30): {note}");
        assert!(!note.contains("过号需重新取号"), "{note}");
        // 完成 stays on screen under the taller ticket.
        let done = b.eval("var r = document.querySelector('#done').getBoundingClientRect(); return r.bottom <= innerHeight && r.top >= 0;").await;
        assert_eq!(done, json!(true), "{name}: the done button is on screen");
        b.screenshot(&format!("kiosk-priority-bundle-ticket-{name}")).await;

        // On paper too (the page's print layout).
        let print = json!({ "media": "print" });
        b.client.issue_cmd(Cdp { cmd: "Emulation.setEmulatedMedia", params: print }).await.expect("print media");
        for css in ["#ticket-priority", "#ticket-steps", "#ticket-note"] {
            assert!(b.eval(&visible_js(css)).await == Value::Bool(true), "{css} is printed");
        }
        b.screenshot(&format!("kiosk-priority-bundle-print-{name}")).await;
        b.close().await;
    }

    // An ordinary one-item ticket says neither class nor steps.
    let Some(b) = launch_exact("a_plain_ticket", 1080, 1920, false).await else {
        return;
    };
    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    b.type_into("#search", "gtgsh").await;
    b.click("#results .k-row:not(.is-bundle)").await;
    b.click("#take").await;
    b.until("the ticket", &visible_js("#ticket")).await;
    assert!(b.eval(&visible_js("#ticket-priority")).await == Value::Bool(false));
    assert!(b.eval(&visible_js("#ticket-steps-wrap")).await == Value::Bool(false));
    b.close().await;
}
