//! 全程领办 in headless Chromium against a real daemon, on a phone-sized guide page: the
//! guide signs in, turns alerts on, takes a number for a visitor (found by pinyin
//! initials) under escort and takes a bundle ticket from the kiosk under escort by its
//! number; the page lists both; a clerk calls the first, and the page shows it called at
//! window 1 with the alert (banner and vibration); window 10's clerk finishes the bundle
//! ticket's first step, and the page alerts its next step. All of it within the daemon's
//! own bound on a guide's reads; when another session of the guide uses that bound up, the
//! page waits out the 429 and catches up. Screenshots under target/screenshots/guide-*.png.

use crate::browser_support;
use crate::support;

use browser_support::{visible_js, Browser};
use serde_json::Value;
use support::Daemon;

/// Waits until the guide page's card of `number` has `status`.
async fn until_card(b: &Browser, number: &str, status: &str) {
    let js = format!("var c = document.querySelector('.gd-visitor[data-number=\"{number}\"]'); return !!c && c.dataset.status === '{status}';");
    b.until(&format!("{number} {status} on the guide page"), &js).await;
}

/// Signs guide1 in on the guide page at `base` and turns the alerts on, with the phone's
/// vibration motor replaced by a record of what it is asked.
async fn sign_in_with_alerts(b: &Browser, base: &str) {
    b.goto(&format!("{base}/display/guide")).await;
    b.type_into("#login-user", "guide1").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the guide's page", &visible_js("#screen-main")).await;
    b.eval(
        "window.__buzz = []; navigator.vibrate = function (p) { window.__buzz.push(p); return true; }; return true;",
    )
    .await;
    b.click("#alert-enable").await;
    // Issue 17 §1: the page follows the hall's feed rather than polling.
    b.until("the guide page's feed", "return document.body.dataset.feed === 'live';").await;
}

/// The guide page's reads of its visitors since its feed went live were the feed's: the
/// fallback poll ran none, and the feed caused some.
async fn followed_the_feed(b: &Browser) {
    let js =
        "var c = window.HallqGuideFeed.counts; return [c.polled, c.pushed > 0, document.body.dataset.feed, c.limited];";
    let counts = b.eval(js).await;
    assert_eq!(
        counts,
        serde_json::json!([0, true, "live", 0]),
        "the alerts came from the feed, not the poll, within the limit"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guide_follows_two_visitors_and_is_alerted_at_the_call_and_the_next_step() {
    let test = "a_guide_follows_two_visitors_and_is_alerted_at_the_call_and_the_next_step";
    let Some(b) = browser_support::launch_exact(test, 412, 860, true).await else {
        return;
    };
    // kiosk1 has a printer: the assisted ticket goes to it for a visitor without a phone.
    let mut printer = crate::printer_support::FakePrinter::start(crate::printer_support::READY).await;
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    config.limits.guide_reads = hallq::config::RateLimits::default().guide_reads;
    let kiosk1 = crate::printer_support::printer_at_kiosk1(&mut config, printer.addr, 0);
    let d = Daemon::start_config(std::sync::Arc::new(tempfile::tempdir().expect("a temp dir")), None, config).await;
    let base = format!("http://{}", d.addr);
    let cat = d.api.catalog().await;
    let bundle = cat["bundles"]
        .as_array()
        .and_then(|all| {
            all.iter().find(|x| x["steps"].as_array().is_some_and(|s| s.len() >= 2 && s[0]["queue"] == "B"))
        })
        .expect("a bundle of two steps or more starting in queue B (window 10's)");
    let steps = bundle["steps"].as_array().map_or(0, Vec::len);

    sign_in_with_alerts(&b, &base).await;

    // 代取号: 个体工商户设立登记 by its pinyin initials, under escort, printed at kiosk1.
    b.type_into("#svc-search", "gtgshsl").await;
    b.click("#svc-results [data-code=\"SC-0021\"]").await;
    b.until("the printers", &visible_js("#assist-print-row")).await;
    let pick = format!("var s = document.querySelector('#assist-print'); s.value = '{kiosk1}'; return s.value;");
    assert_eq!(b.eval(&pick).await, Value::String(kiosk1.clone()), "kiosk1 printer is offered");
    b.click("#assist-submit").await;
    b.until("the number taken", &visible_js("#assist-number")).await;
    let first = b.text("#assist-number").await;
    b.until("the print-out said", &visible_js(".gd-print[data-print=\"ok\"]")).await;
    let paper = printer.next_job().await;
    assert!(paper.text().contains(&first), "kiosk1 printed {first}: {}", paper.text());
    b.eval("document.querySelector('#assist-result').scrollIntoView(); return true;").await;
    b.screenshot("guide-assisted-printed").await;
    let kiosk = d.api.issue(bundle["id"].as_str().expect("a bundle id")).await;
    let second = kiosk["number"].as_str().expect("a number").to_string();
    b.type_into("#escort-number", &second).await;
    b.click("#escort-submit").await;
    until_card(&b, &second, "waiting").await;
    until_card(&b, &first, "waiting").await;
    assert_eq!(b.text("#count-live").await, "2");

    // The clerk calls the first: the page says where, and rings.
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    let called = d.api.call_next(&clerk, "1").await;
    assert_eq!(called["number"], first.as_str());
    until_card(&b, &first, "called").await;
    b.until("the call alert", &visible_js("#guide-alert")).await;
    let alert = b.text("#guide-alert").await;
    assert!(alert.contains(&first) && alert.contains("1 号窗口"), "{alert}");
    let card = b.text(&format!(".gd-visitor[data-number=\"{first}\"]")).await;
    assert!(card.contains("请到 1 号窗口") && card.contains("个体工商户设立登记"), "{card}");
    let waiting = b.text(&format!(".gd-visitor[data-number=\"{second}\"]")).await;
    assert!(waiting.contains("前面 0 人") && waiting.contains(&format!("第 1/{steps} 步")), "{waiting}");
    let buzz = b.eval("return window.__buzz.map(function (p) { return JSON.stringify(p); });").await;
    assert!(
        buzz.as_array().is_some_and(|p| p.iter().any(|x| x == "[500,200,500,200,800]")),
        "vibrated at the call: {buzz}"
    );
    followed_the_feed(&b).await;
    b.eval("window.scrollTo(0, 0); return true;").await;
    b.screenshot("guide-called").await;

    // The bundle ticket's first step done at window 10: the page alerts the next step.
    d.api.window_ok(&clerk, "1", "serve", None).await;
    d.api.window_ok(&clerk, "1", "done", None).await;
    let clerk10 = d.api.login("clerk10").await;
    d.api.window_ok(&clerk10, "10", "open", None).await;
    assert_eq!(d.api.call_next(&clerk10, "10").await["number"], second.as_str());
    d.api.window_ok(&clerk10, "10", "serve", None).await;
    d.api.window_ok(&clerk10, "10", "done", None).await;
    let js = "return document.querySelector('#guide-alert').dataset.kind === 'step';";
    b.until("the step alert", js).await;
    let alert = b.text("#guide-alert").await;
    assert!(alert.contains(&second) && alert.contains(&format!("2/{steps}")), "{alert}");
    until_card(&b, &first, "done").await;
    followed_the_feed(&b).await;
    b.eval("window.scrollTo(0, 0); return true;").await;
    b.screenshot("guide-step").await;
    assert_eq!(b.eval("return document.querySelectorAll('.gd-visitor').length;").await, Value::from(2));
    waits_out_the_limit(&b, &d, &second).await;
    b.close().await;
}

/// Another session of guide1 uses up the guide's reads ([hall.limits] guide_reads_burst)
/// while the hall moves, until the page has met a 429; then that session lets go of
/// `second`, and the page, having waited out the Retry-After, lists the one visitor left,
/// with no error shown.
async fn waits_out_the_limit(b: &Browser, d: &Daemon, second: &str) {
    let other = d.api.login("guide1").await;
    let item = d.api.item_in("A").await;
    let deadline = tokio::time::Instant::now() + browser_support::PAGE_GUARD;
    let limited = "return window.HallqGuideFeed.counts.limited;";
    // The guide's bucket refills every 250 ms: drained every 30 ms, it has rarely a read
    // left when the page asks, a second after each queue change on the feed.
    for round in 0.. {
        if b.eval(limited).await != 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the page never met the guide's limit");
        for _ in 0..100 {
            let r = d.api.get("/api/v1/guide", Some(&other)).await;
            if r.status == 429 {
                r.assert_error(429, "rate_limited");
                break;
            }
        }
        if round % 10 == 0 {
            d.api.issue(&item).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let r = d.api.post(&format!("/api/v1/guide/escorts/{second}/release"), Some(&other), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    d.api.issue(&item).await;
    b.until("the page caught up after the 429", "return document.querySelectorAll('.gd-visitor').length === 1;").await;
    assert!(
        b.eval("return document.querySelector('#list-error').hidden;").await == Value::Bool(true),
        "no error shown"
    );
}
