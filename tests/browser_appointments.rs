//! Appointments (预约) and remote tickets (线上取号) in headless Chromium against a real
//! daemon on an injected clock (10:00 on 2026-03-10, a Tuesday): a phone books a slot on
//! `/display/book` and sees its code, and the kiosk's check-in panel turns that code into
//! a ticket of queue Y; past and full slots cannot be picked, a bad phone number is
//! refused in the page, a booking is cancelled; an unknown code says so and issues
//! nothing; a late check-in prints an ordinary ticket; a remote ticket checks in from its
//! scanned status URL.

use crate::browser_support;
use crate::support;

use browser_support::{kiosk_url, launch_exact, visible_js, Browser, Cdp};
use serde_json::{json, Value};
use support::Daemon;

const ONLINE: &str = "demo-online-1";
/// The test day, as the daemon's clock starts it.
const TODAY: &str = "2026-03-10";
/// An item of queue A the example hall takes bookings for.
const SERVICE: &str = "SC-0211";

/// A phone (375×812) whose clock and time zone are the hall's, at `at_ms` on load.
async fn phone(test: &str, at_ms: i64) -> Option<Browser> {
    let b = launch_exact(test, 375, 812, true).await?;
    b.set_page_clock(at_ms).await;
    b.cdp("Emulation.setTimezoneOverride", json!({ "timezoneId": "Asia/Shanghai" })).await;
    Some(b)
}

/// A kiosk, portrait (1080×1920) or landscape, on its home screen with the check-in panel
/// open.
async fn kiosk_checkin(test: &str, d: &Daemon, extra: &str, landscape: bool) -> Option<Browser> {
    let (w, h) = if landscape { (1920, 1080) } else { (1080, 1920) };
    let b = launch_exact(test, w, h, false).await?;
    b.goto(&kiosk_url(d.addr, support::KIOSK, extra)).await;
    b.until_kiosk_home().await;
    b.until("the check-in button", &visible_js("#checkin-open")).await;
    b.screenshot(if landscape { "kiosk-checkin-home-landscape" } else { "kiosk-checkin-home" }).await;
    b.click("#checkin-open").await;
    b.until("the check-in panel", &visible_js("#ci-keypad")).await;
    Some(b)
}

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

/// Types `code` on the kiosk's keypad.
async fn type_code(b: &Browser, code: &str) {
    for ch in code.chars() {
        b.click(&format!("#ci-keypad [data-key=\"{ch}\"]")).await;
    }
    let typed = b.eval("return document.querySelector('#ci-code').getAttribute('data-code');").await;
    assert_eq!(typed, json!(code), "the keypad typed the code");
}

/// The number of tickets waiting in queue `q`, from the hall snapshot.
async fn waiting_in(d: &Daemon, q: &str) -> u64 {
    let hall = d.api.get("/api/v1/hall", None).await;
    assert_eq!(hall.status, 200, "{}", hall.text);
    hall.body["queues"]
        .as_array()
        .and_then(|qs| qs.iter().find(|x| x["id"] == q))
        .and_then(|x| x["waiting"].as_u64())
        .unwrap_or_else(|| panic!("no queue {q} in {}", hall.text))
}

/// Places left in `slot` of `day`.
async fn free(d: &Daemon, day: &str, slot: &str) -> u64 {
    let r = d.api.get(&format!("/api/v1/appointments/slots?day={day}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["slots"]
        .as_array()
        .and_then(|l| l.iter().find(|s| s["slot"] == slot))
        .and_then(|s| s["free"].as_u64())
        .unwrap_or_else(|| panic!("no slot {slot} in {}", r.text))
}

/// Books `slot` today through the API; returns the code.
async fn book(d: &Daemon, slot: &str, phone: &str) -> String {
    let body = json!({ "service": SERVICE, "day": TODAY, "slot": slot, "phone": phone });
    let r = d.api.post("/api/v1/appointments", None, Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["code"].as_str().expect("a code").to_string()
}

async fn booking(d: &Daemon, code: &str) -> Value {
    let r = d.api.get(&format!("/api/v1/appointments/{code}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// Opens the booking page and picks the service by its pinyin initials.
async fn pick_service(b: &Browser, d: &Daemon) {
    let catalog = d.api.catalog().await;
    let item = catalog["items"].as_array().and_then(|l| l.iter().find(|i| i["code"] == SERVICE)).expect("the item");
    let initials = item["initials"].as_str().expect("initials");
    b.goto(&format!("http://{}/display/book", d.addr)).await;
    // The page lists the first services of the 632 and says how many more a search finds.
    b.until("the list of services", "return document.querySelector('#services-more').textContent.length > 0;").await;
    // Among the 629 items six initials leave a dozen (城乡居民基本养老/医疗保险…): all of them.
    b.type_into("#search", initials).await;
    b.until("the search to narrow the list", "return document.querySelectorAll('#services .bk-svc').length < 5;").await;
    b.click(&format!("#services [data-code=\"{SERVICE}\"]")).await;
    let chosen = b.text("#chosen-name").await;
    assert_eq!(chosen, item["name"].as_str().expect("a name"));
}

fn slot_js(slot: &str, what: &str) -> String {
    format!("var e = document.querySelector('#slots [data-slot=\"{slot}\"]'); return !!e && {what};")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_books_on_the_booking_page_and_checks_the_code_in_at_the_kiosk_as_a_y_ticket() {
    let test = "a_visitor_books_on_the_booking_page_and_checks_the_code_in_at_the_kiosk_as_a_y_ticket";
    let start = support::default_start_ms();
    let d = Daemon::start_with_clock(start).await;
    let Some(b) = phone(test, start).await else {
        return;
    };
    pick_service(&b, &d).await;
    b.until("today picked", &format!("return !!document.querySelector('#days .is-on[data-day=\"{TODAY}\"]');")).await;
    let days = b.eval("return document.querySelectorAll('#days [data-day]').length;").await;
    assert_eq!(days, json!(7), "today and six more days");
    b.until("the 10:30 slot open", &slot_js("10:30", "!e.disabled")).await;
    // At 10:00 the morning's first slots have begun: shown, but not to be picked.
    assert_eq!(b.eval(&slot_js("09:30", "e.disabled")).await, json!(true));
    assert!(b.text("#slots [data-slot=\"09:30\"]").await.contains("已过"));
    assert!(b.text(".bk-privacy").await.contains("单向加密"), "the page says how the number is kept");
    b.click("#slots [data-slot=\"10:30\"]").await;
    b.type_into("#phone", "138 0013 8000").await;
    b.screenshot("book-form").await;

    // A double tap books once.
    b.eval("var s = document.querySelector('#submit'); s.click(); s.click(); return true;").await;
    b.until("the booking code", "return document.querySelector('#code').getAttribute('data-code').length === 8;").await;
    let code = b.eval("return document.querySelector('#code').getAttribute('data-code');").await;
    let code = code.as_str().expect("a code").to_string();
    assert_eq!(free(&d, TODAY, "10:30").await, 3, "one place taken by a double tap");
    let page = b.text("body").await;
    assert!(page.contains(TODAY) && page.contains("10:30") && page.contains("预约成功"), "{page}");
    assert!(!page.contains("13800138000") && !page.contains("138 0013"), "no phone number on the page: {page}");
    let url = b.eval("return location.search;").await;
    assert_eq!(url, json!(format!("?code={code}")), "a reload finds the booking again");
    assert_eq!(booking(&d, &code).await["status"], "booked");
    b.screenshot("book-code").await;

    // At the kiosk: the code on the keypad gives a ticket of the appointment queue.
    let Some(k) = kiosk_checkin(test, &d, "", false).await else {
        return;
    };
    type_code(&k, &code).await;
    k.screenshot("kiosk-checkin-code").await;
    k.click("#ci-code-submit").await;
    until_ticket(&k, "Y001").await;
    let kind = k.text("#ticket-kind").await;
    assert!(kind.contains("预约号") && kind.contains("10:30"), "the ticket says it is an appointment: {kind}");
    assert_eq!(booking(&d, &code).await["status"], "checked_in");
    assert_eq!(waiting_in(&d, "Y").await, 1);
    k.screenshot("kiosk-checkin-ticket").await;
    let print = json!({ "media": "print" });
    k.client.issue_cmd(Cdp { cmd: "Emulation.setEmulatedMedia", params: print }).await.expect("print media");
    assert_eq!(k.eval(&visible_js("#ticket-kind")).await, json!(true), "the printed ticket says it too");
    assert_eq!(k.eval(&visible_js("#view-checkin")).await, json!(false), "only the ticket is printed");
    k.screenshot("kiosk-checkin-print").await;
    k.close().await;

    // The phone, reloaded, says the booking was used.
    b.goto(&format!("http://{}/display/book?code={}", d.addr, code.to_lowercase())).await;
    b.until("the checked-in booking", "return document.querySelector('#done-title').textContent === '已签到取号';")
        .await;
    assert_eq!(b.eval(&visible_js("#cancel")).await, json!(false), "a used booking cannot be cancelled");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_booking_page_disables_full_slots_refuses_a_bad_phone_and_cancels_a_booking() {
    let test = "the_booking_page_disables_full_slots_refuses_a_bad_phone_and_cancels_a_booking";
    let start = support::default_start_ms();
    let d = Daemon::start_with_clock(start).await;
    for phone in ["13900000001", "13900000002", "13900000003", "13900000004"] {
        book(&d, "11:00", phone).await;
    }
    let Some(b) = phone(test, start).await else {
        return;
    };
    pick_service(&b, &d).await;
    b.until("the 11:00 slot full", &slot_js("11:00", "e.disabled")).await;
    assert!(b.text("#slots [data-slot=\"11:00\"]").await.contains("已约满"));

    // Tomorrow at 09:00, first with a number that is not a mobile number.
    let tomorrow = "2026-03-11";
    b.click(&format!("#days [data-day=\"{tomorrow}\"]")).await;
    b.until("tomorrow's 09:00 open", &slot_js("09:00", "!e.disabled")).await;
    b.click("#slots [data-slot=\"09:00\"]").await;
    b.type_into("#phone", "12345").await;
    b.click("#submit").await;
    b.until("the phone error", &visible_js("#error")).await;
    assert!(b.text("#error").await.contains("11 位手机号码"));
    assert_eq!(free(&d, tomorrow, "09:00").await, 4, "nothing was booked");
    b.screenshot("book-bad-phone").await;
    b.eval("document.querySelector('#phone').value = ''; return true;").await;
    b.type_into("#phone", "13700137000").await;
    b.click("#submit").await;
    b.until("the booking code", "return document.querySelector('#code').getAttribute('data-code').length === 8;").await;
    let code = b.eval("return document.querySelector('#code').getAttribute('data-code');").await;
    let code = code.as_str().expect("a code").to_string();
    assert_eq!(booking(&d, &code).await["slot"], "09:00");

    // Cancel asks first; "不取消" keeps it.
    b.click("#cancel").await;
    b.until("the confirmation", &visible_js("#confirm")).await;
    b.click("#confirm-no").await;
    assert_eq!(booking(&d, &code).await["status"], "booked");
    b.click("#cancel").await;
    b.click("#confirm-yes").await;
    b.until("the cancelled booking", "return document.querySelector('#done').dataset.status === 'cancelled';").await;
    assert_eq!(booking(&d, &code).await["status"], "cancelled");
    assert_eq!(free(&d, tomorrow, "09:00").await, 4, "the place is free again");
    assert_eq!(b.text("#done-title").await, "预约已取消");
    b.screenshot("book-cancelled").await;
    b.click("#lang-toggle button").await;
    b.until("English", "return document.querySelector('#done-title').textContent === 'Booking cancelled';").await;
    b.screenshot("book-cancelled-en").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_booking_code_at_the_kiosk_says_so_and_issues_nothing() {
    let test = "an_unknown_booking_code_at_the_kiosk_says_so_and_issues_nothing";
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let real = book(&d, "10:30", "13800138000").await;
    let unknown = if real == "ZZZZ2345" { "ZZZZ2346" } else { "ZZZZ2345" };
    let Some(k) = kiosk_checkin(test, &d, "&idle=5", false).await else {
        return;
    };
    type_code(&k, unknown).await;
    k.click("#ci-code-submit").await;
    k.until("the error", &visible_js("#error")).await;
    assert_eq!(k.text("#error").await, "没有找到这个预约码，请核对后重新输入。");
    assert_eq!((waiting_in(&d, "Y").await, waiting_in(&d, "A").await), (0, 0), "no ticket was issued");
    assert_eq!(booking(&d, &real).await["status"], "booked", "the real booking is untouched");
    k.screenshot("kiosk-checkin-unknown").await;

    // In English the same refusal reads in English.
    k.click("#error-ok").await;
    k.click("#lang-toggle button").await;
    k.click("#ci-code-submit").await;
    k.until(
        "the English error",
        "return document.querySelector('#error').textContent.indexOf('No booking has this code') === 0;",
    )
    .await;
    k.click("#error-ok").await;

    // Left alone, the panel goes back home and forgets the code.
    k.until_kiosk_home().await;
    let left = k.eval("return document.querySelector('#ci-code').getAttribute('data-code');").await;
    assert_eq!(left, json!(""), "nothing typed outlives the visitor");
    assert_eq!(waiting_in(&d, "Y").await, 0);
    k.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_check_in_at_the_kiosk_prints_an_ordinary_ticket() {
    let test = "a_late_check_in_at_the_kiosk_prints_an_ordinary_ticket";
    let start = support::default_start_ms();
    let d = Daemon::start_with_clock(start).await;
    let code = book(&d, "10:30", "13800138000").await;
    d.set_clock(start + 46 * 60_000);
    let Some(k) = kiosk_checkin(test, &d, "", true).await else {
        return;
    };
    k.screenshot("kiosk-checkin-landscape").await;
    // Typed in lower case into the scan field, as a visitor or a scanner would.
    k.type_into("#ci-scan", &format!("{}\u{E007}", code.to_lowercase())).await;
    until_ticket(&k, "A001").await;
    let kind = k.text("#ticket-kind").await;
    assert!(kind.contains("普通号"), "the ticket says it became an ordinary one: {kind}");
    assert_eq!(booking(&d, &code).await["status"], "late");
    assert_eq!((waiting_in(&d, "Y").await, waiting_in(&d, "A").await), (0, 1));
    k.screenshot("kiosk-checkin-late").await;
    k.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remote_ticket_checks_in_at_the_kiosk_from_its_scanned_status_url() {
    let test = "a_remote_ticket_checks_in_at_the_kiosk_from_its_scanned_status_url";
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let remote = d.api.post("/api/v1/tickets", Some(ONLINE), Some(json!({ "service": SERVICE }))).await;
    assert_eq!(remote.status, 201, "{}", remote.text);
    let id = remote.body["id"].as_str().expect("an id").to_string();
    let number = remote.body["number"].as_str().expect("a number").to_string();
    let clerk = d.api.login("clerk3").await;
    d.api.window_ok(&clerk, "3", "open", None).await;
    assert!(d.api.window_ok(&clerk, "3", "next", None).await["ticket"].is_null(), "not called before it checks in");

    let Some(k) = kiosk_checkin(test, &d, "", false).await else {
        return;
    };
    // The scanner types the QR code's text and Enter, whatever has the focus.
    k.click("#ci-keypad [data-key=\"A\"]").await;
    // The phone's QR code: the status page's address with the visitor's key.
    let status_url = remote.body["status_url"].as_str().expect("a status_url");
    assert!(status_url.contains("?k="), "{status_url}");
    let scanned = format!("http://{}{status_url}\u{E007}", d.addr);
    k.type_into("#ci-scan", &scanned).await;
    until_ticket(&k, &number).await;
    let kind = k.text("#ticket-kind").await;
    assert!(kind.contains("线上取号"), "the ticket says it was taken online: {kind}");
    k.screenshot("kiosk-checkin-remote").await;
    assert_eq!(d.api.call_next(&clerk, "3").await["id"], id.as_str(), "checked in, it is called");

    // A second scan of the same ticket is refused in plain words.
    k.click("#done").await;
    k.until_kiosk_home().await;
    k.click("#checkin-open").await;
    k.type_into("#ci-scan", &scanned).await;
    k.until("the error", &visible_js("#error")).await;
    let error = k.text("#error").await;
    assert!(error.contains("已经签到过了"), "checked in already: {error}");
    k.screenshot("kiosk-checkin-remote-again").await;
    k.close().await;
}

/// Records, from the page's first script on, every day the booking page ever offered (a
/// day chip that could be tapped) in `window.__offered`, and every day it ever listed a
/// slot for in `window.__slotDays`.
const RECORD_OFFERS: &str = "(function () {
    window.__offered = {}; window.__slotDays = {};
    new MutationObserver(function () {
      document.querySelectorAll('#days [data-day]').forEach(function (b) {
        if (!b.disabled) window.__offered[b.getAttribute('data-day')] = true;
      });
      var on = document.querySelector('#days .is-on');
      if (on && document.querySelector('#slots [data-slot]')) window.__slotDays[on.getAttribute('data-day')] = true;
    }).observe(document, { attributes: true, subtree: true, childList: true });
  })();";

#[tokio::test(flavor = "multi_thread")]
async fn the_booking_page_never_offers_a_rest_day_or_holiday_and_offers_a_make_up_working_day() {
    let test = "the_booking_page_never_offers_a_rest_day_or_holiday_and_offers_a_make_up_working_day";
    // Thursday 2026-02-12, before the Spring Festival: Friday works, Saturday 02-14 is a
    // make-up working day (调休), Sunday rests, 02-16 … 02-18 are public holidays.
    let start = support::shanghai_ms(2026, 2, 12, 10, 0, 0);
    let d = Daemon::start_with_clock(start).await;
    let Some(b) = phone(test, start).await else {
        return;
    };
    b.cdp("Page.addScriptToEvaluateOnNewDocument", json!({ "source": RECORD_OFFERS })).await;
    pick_service(&b, &d).await;
    b.until(
        "every day's answer",
        "return document.querySelectorAll('#days [data-day]').length === 7
            && !/…/.test(document.querySelector('#days').textContent);",
    )
    .await;
    b.until("today picked", "return !!document.querySelector('#days .is-on[data-day=\"2026-02-12\"]');").await;
    let chips = b
        .eval(
            "return Array.prototype.map.call(document.querySelectorAll('#days [data-day]'), function (e) {
               return [e.getAttribute('data-day'), !e.disabled, e.innerText.indexOf('休息') >= 0]; });",
        )
        .await;
    assert_eq!(
        chips,
        json!([
            ["2026-02-12", true, false],
            ["2026-02-13", true, false],
            ["2026-02-14", true, false],
            ["2026-02-15", false, true],
            ["2026-02-16", false, true],
            ["2026-02-17", false, true],
            ["2026-02-18", false, true]
        ]),
        "rest day and holidays closed, the make-up Saturday open"
    );
    // The make-up Saturday has its slots; a closed day cannot be picked.
    b.click("#days [data-day=\"2026-02-14\"]").await;
    b.until("the make-up day's slots", &slot_js("08:30", "!e.disabled")).await;
    b.eval("document.querySelector('#days [data-day=\"2026-02-15\"]').click(); return true;").await;
    assert_eq!(
        b.eval("return document.querySelector('#days .is-on').getAttribute('data-day');").await,
        json!("2026-02-14")
    );
    b.screenshot("book-calendar").await;
    let offered = b.eval("return Object.keys(window.__offered).sort();").await;
    assert_eq!(
        offered,
        json!(["2026-02-12", "2026-02-13", "2026-02-14"]),
        "never, not even for a moment, a closed day"
    );
    let slot_days = b.eval("return Object.keys(window.__slotDays).sort();").await;
    assert_eq!(slot_days, json!(["2026-02-12", "2026-02-14"]), "slots only of days the hall works");
    b.close().await;
}
