//! The status page's call reminder (叫号提醒, issue 15) in headless Chromium against a real
//! daemon: a tap on "开启叫号提醒" unlocks sound and vibration; the page then rings and
//! vibrates once when `[hall] remind_ahead` (3) tickets are ahead and again, louder, at
//! the call; without that tap it never tries (the browser would block it); it says
//! plainly when the phone cannot vibrate, and when a reminder fell due while the page was
//! in the background.
//!
//! What the phone did is read at the browser's edge: `navigator.vibrate` and the start of
//! every Web Audio oscillator are recorded (and still called) by a script the test adds
//! before the page's own.

use crate::browser_support;
use crate::support;

use browser_support::{launch_exact, Browser};
use serde_json::{json, Value};
use support::Daemon;

/// Records every vibration pattern asked for in `window.__vibrations` and every tone
/// started in `window.__tones`, passing both on to the browser. With `no_vibrate`, the
/// phone has no vibration API at all (an iPhone's Safari).
fn recorder(no_vibrate: bool) -> String {
    let vibrate = if no_vibrate {
        "delete Navigator.prototype.vibrate;"
    } else {
        "var real = Navigator.prototype.vibrate;
         Navigator.prototype.vibrate = function (p) { window.__vibrations.push(p); return real.call(this, p); };"
    };
    format!(
        "(function () {{
            window.__vibrations = []; window.__tones = [];
            {vibrate}
            var start = OscillatorNode.prototype.start;
            OscillatorNode.prototype.start = function (t) {{
              window.__tones.push(this.frequency.value); return start.apply(this, arguments);
            }};
         }})();"
    )
}

async fn phone(test: &str, d: &Daemon, ticket: &Value, no_vibrate: bool) -> Option<Browser> {
    let b = launch_exact(test, 390, 844, true).await?;
    b.cdp("Page.addScriptToEvaluateOnNewDocument", json!({ "source": recorder(no_vibrate) })).await;
    b.goto(&format!("http://{}{}", d.addr, ticket["status_url"].as_str().expect("status_url"))).await;
    b.until(
        "the waiting ticket",
        "return document.querySelector('#status').getAttribute('data-status') === 'waiting';",
    )
    .await;
    Some(b)
}

async fn ahead_is(b: &Browser, n: u64) {
    b.until(&format!("{n} ahead"), &format!("return document.querySelector('#ahead b').textContent.trim() === '{n}';"))
        .await;
}

fn visible_js(css: &str) -> String {
    format!("var e = document.querySelector('{css}'); return !!e && e.getClientRects().length > 0;")
}

async fn recorded(b: &Browser) -> (Vec<Value>, Vec<Value>) {
    let v = b.eval("return [window.__vibrations, window.__tones];").await;
    (v[0].as_array().cloned().unwrap_or_default(), v[1].as_array().cloned().unwrap_or_default())
}

/// Issues `n` tickets of queue A; returns them.
async fn line_of(d: &Daemon, n: usize) -> Vec<Value> {
    let code = d.api.item_in("A").await;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(d.api.issue(&code).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tap_allows_the_reminder_at_three_ahead_and_at_the_call() {
    let test = "a_tap_allows_the_reminder_at_three_ahead_and_at_the_call";
    let d = Daemon::start().await;
    let tickets = line_of(&d, 6).await;
    let mine = &tickets[5];
    // Window 1 serves queue A: the five before this ticket are ahead of it.
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    let Some(b) = phone(test, &d, mine, false).await else {
        return;
    };
    ahead_is(&b, 5).await;
    b.until("the reminder offer", &visible_js("#remind-on")).await;
    assert!(b.text("#remind").await.contains("前面还剩 3 人"), "{}", b.text("#remind").await);
    b.screenshot("status-remind-offer").await;
    b.click("#remind-on").await;
    b.until("the reminder on", "return document.querySelector('#remind').dataset.enabled === 'yes';").await;
    let text = b.text("#remind").await;
    assert!(text.contains("已开启") && text.contains("声音") && text.contains("振动"), "{text}");
    assert!(text.contains("锁屏"), "it says what a locked screen does: {text}");
    b.screenshot("status-remind-on").await;
    let (v0, t0) = recorded(&b).await;
    assert_eq!((v0.len(), t0.len()), (1, 1), "the tap's own chime and buzz: {v0:?} {t0:?}");

    d.api.call_next(&clerk, "1").await;
    ahead_is(&b, 4).await;
    let (v, _) = recorded(&b).await;
    assert_eq!(v.len(), 1, "nothing at 4 ahead: {v:?}");
    d.api.window_ok(&clerk, "1", "no-show", None).await;
    d.api.call_next(&clerk, "1").await;
    ahead_is(&b, 3).await;
    b.until("the 3-ahead reminder", &visible_js("#remind-alert")).await;
    assert!(b.text("#remind-alert").await.contains("前面还有 3 人"));
    b.until("its vibration", "return window.__vibrations.length === 2;").await;
    let (v, tones) = recorded(&b).await;
    assert_eq!(v[1], json!([250, 150, 250]), "{v:?}");
    assert_eq!(tones.len(), 3, "two tones at 3 ahead: {tones:?}");
    b.screenshot("status-remind-three-ahead").await;

    // Once per wait: 2 ahead says nothing more.
    d.api.window_ok(&clerk, "1", "no-show", None).await;
    d.api.call_next(&clerk, "1").await;
    ahead_is(&b, 2).await;
    assert_eq!(recorded(&b).await.0.len(), 2);

    // The call: a longer vibration, three tones, and the banner.
    for _ in 0..2 {
        d.api.window_ok(&clerk, "1", "no-show", None).await;
        d.api.call_next(&clerk, "1").await;
    }
    d.api.window_ok(&clerk, "1", "no-show", None).await;
    let called = d.api.call_next(&clerk, "1").await;
    assert_eq!(called["id"], mine["id"]);
    b.until("the call", "return document.querySelector('#status').getAttribute('data-status') === 'called';").await;
    b.until("the call's vibration", "return window.__vibrations.length === 3;").await;
    let (v, tones) = recorded(&b).await;
    assert_eq!(v[2], json!([500, 200, 500, 200, 800]), "{v:?}");
    assert_eq!(tones.len(), 6, "three tones at the call: {tones:?}");
    assert!(b.text("#remind-alert").await.contains("请到 1 号窗口"));
    b.screenshot("status-remind-called").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_tap_it_does_not_try_and_without_vibration_it_says_so() {
    let test = "without_the_tap_it_does_not_try_and_without_vibration_it_says_so";
    let d = Daemon::start().await;
    let tickets = line_of(&d, 5).await;
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    // A phone whose browser cannot vibrate.
    let Some(b) = phone(test, &d, &tickets[4], true).await else {
        return;
    };
    ahead_is(&b, 4).await;
    b.until("the reminder offer", &visible_js("#remind-on")).await;
    assert!(b.text("#remind").await.contains("不支持振动"), "said before the tap: {}", b.text("#remind").await);
    // Not tapped: at 3 ahead the banner shows, but no sound is tried (a browser blocks it).
    d.api.call_next(&clerk, "1").await;
    ahead_is(&b, 3).await;
    b.until("the 3-ahead banner", &visible_js("#remind-alert")).await;
    assert_eq!(recorded(&b).await.1.len(), 0, "no sound without the tap");

    // Tapped: sound works, vibration does not, and the page says so.
    b.click("#remind-on").await;
    b.until("the reminder on", "return document.querySelector('#remind').dataset.enabled === 'yes';").await;
    let text = b.text("#remind").await;
    assert!(text.contains("声音 ✓") && !text.contains("振动 ✓") && text.contains("不支持振动"), "{text}");
    b.screenshot("status-remind-no-vibration").await;

    // The page goes to the background (the screen locked); the call comes meanwhile; back
    // in front, the page says a reminder may not have sounded.
    b.eval(
        "Object.defineProperty(document, 'visibilityState', { configurable: true, get: function () { return 'hidden'; } });
         document.dispatchEvent(new Event('visibilitychange')); return true;",
    )
    .await;
    for _ in 0..3 {
        d.api.window_ok(&clerk, "1", "no-show", None).await;
        d.api.call_next(&clerk, "1").await;
    }
    d.api.window_ok(&clerk, "1", "no-show", None).await;
    d.api.call_next(&clerk, "1").await;
    b.until("the call", "return document.querySelector('#status').getAttribute('data-status') === 'called';").await;
    b.eval(
        "Object.defineProperty(document, 'visibilityState', { configurable: true, get: function () { return 'visible'; } });
         document.dispatchEvent(new Event('visibilitychange')); return true;",
    )
    .await;
    b.until("the missed note", "return document.querySelector('#remind-alert').innerText.indexOf('在后台') >= 0;")
        .await;
    assert!(b.text("#remind-alert").await.contains("请到 1 号窗口"));
    b.screenshot("status-remind-was-hidden").await;
    b.close().await;
}
