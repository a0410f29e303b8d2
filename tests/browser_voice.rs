//! The lobby's voice in a real browser (headless Chromium) against a real daemon with
//! espeak-ng: a screen of one speaker zone plays the daemon's audio of its own windows'
//! calls only, one call at a time (a call alone `repeat` times, calls that queue up once
//! each, in their short form; tests/browser_burst.rs has the bursts), a screen told an unknown zone stays silent and says
//! so, of two screens in one zone only the one not opened with `&speaker=0` plays (no echo), and
//! without a working espeak-ng the page speaks (or flashes) by itself. Screenshots go to target/screenshots/ (lobby-voice-*).
//!
//! Needs Chromium (as every page test) and espeak-ng: without them the test is left out
//! loudly, and with `CI` set it fails.

use crate::browser_support;
use crate::support;

use std::sync::Arc;

use browser_support::{espeak_or_skip, ZONES};
use serde_json::{json, Value};
use support::{config_dir, without_rate_limits, Api, Daemon};

/// The example hall with two speaker zones (each call said twice), speaking fast so that
/// the test hears several calls in a few seconds.
async fn zoned_hall() -> Daemon {
    let dir = config_dir(|h| {
        let h = without_rate_limits(h);
        assert!(h.contains("speed_wpm = 150") && h.contains("repeat = 2"), "the example hall's voice moved");
        let h = h.replace("speed_wpm = 150", "speed_wpm = 400");
        format!("{h}{ZONES}")
    });
    let config = hallq::config::load_dir(dir.path()).unwrap_or_else(|e| panic!("the zoned hall loads: {e}"));
    Daemon::start_config(Arc::new(tempfile::tempdir().expect("a temp dir")), None, config).await
}

async fn call_at(api: &Api, w: &str) -> String {
    let clerk = api.login(&format!("clerk{w}")).await;
    api.window_ok(&clerk, w, "open", None).await;
    let t = api.call_next(&clerk, w).await;
    t["number"].as_str().expect("a number").to_string()
}

/// Waits until `n` call-outs have been said to the end, and returns the page's record.
async fn said(browser: &browser_support::Browser, n: usize) -> Vec<Value> {
    let js = format!("return window.__announced.filter(a => a.end !== null).length >= {n}");
    browser.until(&format!("{n} call-out(s) said"), &js).await;
    let v = browser.eval("return window.__announced").await;
    v.as_array().expect("a list").clone()
}

/// A call said alone plays `repeat` (2) times; one that had calls waiting behind it (or
/// waited itself) is said once, in its short form.
fn assert_plays(a: &Value) {
    let want = if a["rush"] == json!(true) { 1 } else { 2 };
    assert_eq!(a["plays"], want, "played {want} time(s): {a}");
}

/// Opens the lobby at `/display/lobby?{query}` and waits until its voice indicator says
/// `state`.
async fn open_lobby(browser: &browser_support::Browser, api: &Api, query: &str, state: &str) {
    browser.goto(&api.url(&format!("/display/lobby?{query}"))).await;
    browser.until("the lobby is live", "return document.querySelector('#conn-state').dataset.state === 'live'").await;
    let js = format!("return document.querySelector('#voice-state').dataset.state === {state:?}");
    browser.until(&format!("the voice indicator says {state}"), &js).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zones_lobby_plays_the_daemons_audio_of_its_own_calls_one_at_a_time() {
    let test = "a_zones_lobby_plays_the_daemons_audio_of_its_own_calls_one_at_a_time";
    if !espeak_or_skip(test) {
        return;
    }
    let Some(browser) = browser_support::launch(test, 1920, 1080).await else {
        return;
    };
    let d = zoned_hall().await;
    let item = d.api.item_in("A").await;
    for _ in 0..5 {
        d.api.issue(&item).await;
    }

    open_lobby(&browser, &d.api, "zone=1F", "audio").await;
    let label = browser.text("#voice-state").await;
    assert!(label.contains("一楼大厅"), "the indicator names the zone: {label}");
    // Three calls at once: two on the ground floor, one upstairs between them.
    let first = call_at(&d.api, "1").await;
    let upstairs = call_at(&d.api, "7").await;
    let second = call_at(&d.api, "2").await;
    let log = said(&browser, 2).await;
    let heard: Vec<(&str, &str)> =
        log.iter().map(|a| (a["number"].as_str().unwrap_or(""), a["window"].as_str().unwrap_or(""))).collect();
    assert_eq!(heard, vec![(first.as_str(), "1"), (second.as_str(), "2")], "only 1F's calls, in order: {log:?}");
    for a in &log {
        assert_eq!(a["via"], "audio", "the daemon's audio played: {a}");
        assert_plays(a);
        assert_eq!(a["zone"], "1F");
    }
    let (end0, start1) = (log[0]["end"].as_f64().unwrap_or(f64::MAX), log[1]["start"].as_f64().unwrap_or(0.0));
    assert!(start1 >= end0, "the second call began only after the first ended: {log:?}");
    let queued = browser.eval("return window.hallqSpoken.length").await;
    assert_eq!(queued, json!(2), "the upstairs call {upstairs} is not said on the ground floor");
    browser
        .until(
            "animations to finish",
            "return document.getAnimations().every(a => a.effect.getComputedTiming().iterations === Infinity)",
        )
        .await;
    browser.screenshot("lobby-voice-zone-1F").await;

    // Upstairs: a ground-floor call is left to the ground floor.
    open_lobby(&browser, &d.api, "zone=2F", "audio").await;
    let downstairs = call_at(&d.api, "3").await;
    let here = call_at(&d.api, "8").await;
    let log = said(&browser, 1).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["number"], here.as_str());
    assert_eq!(log[0]["via"], "audio");
    assert_eq!((&log[0]["plays"], &log[0]["rush"]), (&json!(2), &json!(false)), "a call alone, said `repeat` times");
    let queued = browser.eval("return window.hallqSpoken").await;
    assert_eq!(queued.as_array().map(Vec::len), Some(1), "{downstairs} is not said upstairs: {queued}");

    // A screen told a zone the hall does not have says so and speaks nothing.
    open_lobby(&browser, &d.api, "zone=9F", "off").await;
    let label = browser.text("#voice-state").await;
    assert!(label.contains("未知广播分区 9F"), "{label}");
    d.api.issue(&item).await;
    let clerk = d.api.login("clerk4").await;
    d.api.window_ok(&clerk, "4", "open", None).await;
    let t = d.api.call_next(&clerk, "4").await;
    let number = t["number"].as_str().expect("a number");
    browser
        .until(
            "the call is shown",
            &format!("return document.querySelector('#current-number').textContent.trim() === {number:?}"),
        )
        .await;
    assert_eq!(browser.eval("return window.hallqSpoken.length").await, json!(0));
    browser.screenshot("lobby-voice-unknown-zone").await;
    drop(d);

    // Where espeak-ng does not work, the calls carry no audio and the page speaks or
    // flashes by itself.
    let dir = config_dir(|h| {
        let h = without_rate_limits(h);
        h.replace("synth = \"espeak-ng\"", "synth = \"espeak-ng\"\ncommand = \"/nonexistent/espeak-ng\"")
    });
    let config = hallq::config::load_dir(dir.path()).unwrap_or_else(|e| panic!("the hall loads: {e}"));
    let d = Daemon::start_config(Arc::new(tempfile::tempdir().expect("a temp dir")), None, config).await;
    browser.goto(&d.api.url("/display/lobby")).await;
    browser.until("the lobby is live", "return document.querySelector('#conn-state').dataset.state === 'live'").await;
    browser.until("the indicator is known", "return !document.querySelector('#voice-state').hidden").await;
    d.api.issue(&item).await;
    let number = call_at(&d.api, "5").await;
    let log = said(&browser, 1).await;
    assert_eq!(log[0]["number"], number.as_str());
    assert!(log[0]["via"] == "speech" || log[0]["via"] == "flash", "the browser's own voice or a flash: {log:?}");
    assert_eq!(log[0]["plays"], 0);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn of_two_screens_in_one_zone_only_the_zones_speaker_plays() {
    let test = "of_two_screens_in_one_zone_only_the_zones_speaker_plays";
    if !espeak_or_skip(test) {
        return;
    }
    let Some(speaker) = browser_support::launch(test, 1280, 720).await else {
        return;
    };
    let Some(other) = browser_support::launch(test, 1280, 720).await else {
        return;
    };
    let d = zoned_hall().await;
    let item = d.api.item_in("A").await;
    for _ in 0..2 {
        d.api.issue(&item).await;
    }
    // Two screens at either end of the ground floor; the one not wired to the
    // loudspeakers is opened with &speaker=0.
    open_lobby(&speaker, &d.api, "zone=1F", "audio").await;
    open_lobby(&other, &d.api, "zone=1F&speaker=0", "other_screen").await;
    let label = other.text("#voice-state").await;
    assert!(label.contains("广播屏"), "the silent screen says who speaks: {label}");
    assert_eq!(other.eval("return document.querySelector('#sound-gate').hidden").await, json!(true));

    let first = call_at(&d.api, "1").await;
    let second = call_at(&d.api, "2").await;
    let log = said(&speaker, 2).await;
    let heard: Vec<&str> = log.iter().map(|a| a["number"].as_str().unwrap_or("")).collect();
    assert_eq!(heard, vec![first.as_str(), second.as_str()], "{log:?}");
    assert!(log.iter().all(|a| a["via"] == "audio"), "the speaker played both: {log:?}");
    log.iter().for_each(assert_plays);
    // The other screen shows the calls, and says nothing: not the audio, not the chime.
    other
        .until(
            "the other screen shows the second call",
            &format!("return document.querySelector('#current-number').textContent.trim() === {second:?}"),
        )
        .await;
    assert_eq!(other.eval("return window.__announced").await, json!([]), "the other screen played nothing");
    assert_eq!(other.eval("return window.hallqSpoken").await, json!([]));
    let audio = other
        .eval("return performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/voice/')).length")
        .await;
    assert_eq!(audio, json!(0), "the other screen did not even fetch the audio");
    other.screenshot("lobby-voice-other-screen").await;
    speaker.close().await;
    other.close().await;
}
