//! Voice without the internet, against a real daemon: a call names its espeak-ng audio on
//! the feed, the audio is a WAVE file rendered once and then served from the cache (also
//! after a restart), an upgraded espeak-ng names (and renders) other audio than the old
//! one's, unknown audio is a JSON 404, speaker zones travel with each call, and the hall
//! falls back to the browser's voice where espeak-ng is missing or turned off.
//!
//! The tests that render need Debian's `espeak-ng`: without it they are left out loudly,
//! and with `CI` set they fail (.ci/run installs it).

use crate::support;

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use support::{config_dir, without_rate_limits, Api, Daemon, Display};

/// Whether espeak-ng runs here; off CI a missing one leaves the test out, loudly.
fn espeak_or_skip(test: &str) -> bool {
    let ok = std::process::Command::new("espeak-ng").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("CI must run the voice tests, but espeak-ng is missing: .ci/run installs it");
        }
        let _ = writeln!(
            std::io::stderr(),
            "\n*** VOICE TEST LEFT OUT: {test} — espeak-ng not found; `apt-get install espeak-ng` to run it ***\n"
        );
    }
    ok
}

/// Replaces `from` in the example hall.toml, which must be there.
fn edit_hall(hall: String, from: &str, to: &str) -> String {
    assert!(hall.contains(from), "the example hall.toml no longer has {from:?}");
    hall.replace(from, to)
}

/// The example hall with `edit` applied to hall.toml, rate limits off.
fn hall_with(edit: impl Fn(String) -> String) -> hallq::config::Config {
    let dir = config_dir(move |h| edit(without_rate_limits(h)));
    hallq::config::load_dir(dir.path()).unwrap_or_else(|e| panic!("the edited hall loads: {e}"))
}

async fn start(config: hallq::config::Config) -> Daemon {
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    Daemon::start_config(data, None, config).await
}

/// A Prometheus counter's value from /metrics.
async fn counter(api: &Api, name: &str) -> u64 {
    let m = api.get("/metrics", Some(support::METRICS_TOKEN)).await;
    assert_eq!(m.status, 200);
    m.text
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse::<u64>().ok()))
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{}", m.text))
}

fn wav_files(data: &Path) -> usize {
    std::fs::read_dir(data.join("voice"))
        .map(|d| d.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with(".wav")).count())
        .unwrap_or(0)
}

/// GETs `url` raw: status, content type, bytes.
async fn fetch(api: &Api, url: &str) -> (u16, String, Vec<u8>) {
    let resp = api.http.get(api.url(url)).send().await.expect("the daemon answers");
    let status = resp.status().as_u16();
    let ty = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, ty, resp.bytes().await.expect("a body").to_vec())
}

fn assert_wave(bytes: &[u8]) {
    assert!(bytes.len() > 10_000, "a spoken call-out is more than a header: {} bytes", bytes.len());
    assert_eq!(&bytes[..4], b"RIFF", "a RIFF file");
    assert_eq!(&bytes[8..12], b"WAVE", "a WAVE file");
    let riff_len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    assert_eq!(riff_len + 8, bytes.len(), "the RIFF size is set (not a stream's placeholder)");
}

/// Opens window `w` for its clerk and returns the clerk's token.
async fn open(api: &Api, w: &str) -> String {
    let clerk = api.login(&format!("clerk{w}")).await;
    api.window_ok(&clerk, w, "open", None).await;
    clerk
}

async fn next_call(display: &mut Display, number: &str) -> Value {
    display.until("call", |m| m["number"] == number).await.0
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_names_its_audio_which_is_rendered_once_and_then_served_from_the_cache() {
    if !espeak_or_skip("a_call_names_its_audio_which_is_rendered_once_and_then_served_from_the_cache") {
        return;
    }
    let d = Daemon::start().await;
    let api = d.api.clone();
    let mut display = api.display(None).await;
    let item = api.item_in("A").await;
    api.issue(&item).await;
    api.issue(&item).await;
    let clerk = open(&api, "5").await;
    api.call_next(&clerk, "5").await;
    let call = next_call(&mut display, "A001").await;
    let ann = &call["announce"];
    assert_eq!(ann["text"], "请A001号到5号窗口办理", "the screen's text is unchanged");
    assert_eq!(ann["speech"], "请A零零一号到五号窗口办理", "numbers are said in words");
    assert_eq!(ann["synth"], "espeak-ng");
    assert!(ann.get("zones").is_none(), "a hall without zones names none: {call}");
    let url = ann["audio"].as_str().unwrap_or_else(|| panic!("the call names its audio: {call}")).to_string();
    let hash = url.strip_prefix("/api/v1/voice/").and_then(|f| f.strip_suffix(".wav")).expect("a voice URL");
    assert!(hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "named by a hash: {url}");
    // Nothing is rendered until a lobby asks: a hall without an audio screen spends nothing.
    assert_eq!(counter(&api, "hallq_voice_renders_total").await, 0);

    let (status, ty, first) = fetch(&api, &url).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&first));
    assert_eq!(ty, "audio/wav");
    assert_wave(&first);
    assert_eq!(counter(&api, "hallq_voice_renders_total").await, 1);
    assert_eq!(wav_files(d.data.path()), 1);

    // Again, and a recall of the same call: the same audio, from the cache.
    let (status, _, again) = fetch(&api, &url).await;
    assert_eq!(status, 200);
    assert_eq!(again, first, "the cached audio is the same file");
    api.window_ok(&clerk, "5", "recall", None).await;
    let recall = display.until("call", |m| m["recall"] == true).await.0;
    assert_eq!(recall["announce"]["audio"], url.as_str(), "a recall says the same words");
    assert_eq!(fetch(&api, &url).await.0, 200);
    assert_eq!(counter(&api, "hallq_voice_renders_total").await, 1, "the cache served the repeats");
    assert_eq!(wav_files(d.data.path()), 1);

    // Another number is another text, another file.
    api.window_ok(&clerk, "5", "serve", None).await;
    api.window_ok(&clerk, "5", "done", Some(serde_json::json!({ "outcome": "completed" }))).await;
    api.call_next(&clerk, "5").await;
    let second = next_call(&mut display, "A002").await;
    let url2 = second["announce"]["audio"].as_str().expect("an audio URL").to_string();
    assert_ne!(url2, url);
    let (status, _, bytes2) = fetch(&api, &url2).await;
    assert_eq!(status, 200);
    assert_wave(&bytes2);
    assert_eq!(counter(&api, "hallq_voice_renders_total").await, 2);
    assert_eq!(wav_files(d.data.path()), 2);
    display.close().await;

    // After a restart the disk cache still answers, without rendering.
    let d = d.restart().await;
    let (status, _, after) = fetch(&d.api, &url).await;
    assert_eq!(status, 200);
    assert_eq!(after, first);
    assert_eq!(counter(&d.api, "hallq_voice_renders_total").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_or_malformed_audio_is_a_json_404_and_renders_nothing() {
    let d = Daemon::start().await;
    let unannounced = format!("/api/v1/voice/{}.wav", "0".repeat(32));
    for path in [
        unannounced.as_str(),
        "/api/v1/voice/abc.wav",
        "/api/v1/voice/0123456789ABCDEF0123456789ABCDEF.wav",
        "/api/v1/voice/00000000000000000000000000000000.mp3",
        "/api/v1/voice/..%2F..%2Fphone-hash.key",
    ] {
        let r = d.api.get(path, None).await;
        r.assert_error(404, "voice_not_found");
    }
    assert_eq!(counter(&d.api, "hallq_voice_renders_total").await, 0);
    assert_eq!(wav_files(d.data.path()), 0);
}

const ZONES: &str = r#"
[[zone]]
id = "1F"
name = "一楼大厅"
windows = ["1", "2", "3", "4", "5", "6"]

[[zone]]
id = "2F"
name = "二楼"
windows = [
    "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
    "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33",
    "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47",
    "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60",
]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn each_call_names_the_speaker_zones_of_its_window() {
    let d = start(hall_with(|h| format!("{h}{ZONES}"))).await;
    let info = d.api.get("/api/v1/voice", None).await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.body["zones"][0]["id"], "1F");
    assert_eq!(info.body["zones"][0]["name"], "一楼大厅");
    assert_eq!(info.body["zones"][1]["windows"][0], "6");
    let mut display = d.api.display(None).await;
    let item = d.api.item_in("A").await;
    for _ in 0..3 {
        d.api.issue(&item).await;
    }
    for (w, number, zones) in [("1", "A001", vec!["1F"]), ("6", "A002", vec!["1F", "2F"]), ("12", "", vec!["2F"])] {
        let clerk = open(&d.api, w).await;
        if number.is_empty() {
            // Window 12 serves queue Z only; a Z ticket.
            let z = d.api.item_in("Z").await;
            d.api.issue(&z).await;
        }
        let t = d.api.call_next(&clerk, w).await;
        let call = next_call(&mut display, t["number"].as_str().expect("a number")).await;
        assert_eq!(call["announce"]["zones"], serde_json::json!(zones), "window {w}: {call}");
    }
}

#[test]
fn zones_that_leave_a_window_out_or_name_an_unknown_one_are_refused_with_file_line_and_key() {
    // Every window of the sixty but 12, and one the hall has not.
    let windows: Vec<String> = (1..=60).filter(|&n| n != 12).chain([99]).map(|n| format!("\"{n}\"")).collect();
    let bad = format!("\n[[zone]]\nid = \"1F\"\nwindows = [{}]\n", windows.join(", "));
    let dir = config_dir(|h| format!("{h}{bad}"));
    let errs = hallq::config::load_dir(dir.path()).expect_err("a zone with an unknown window is refused");
    let text = errs.to_string();
    assert!(text.contains("hall.toml:") && text.contains("zone[0].windows") && text.contains("\"99\""), "{text}");
    assert!(text.contains("window(s) 12 are in no [[zone]]"), "window 12 is in no zone: {text}");

    let dir = config_dir(|h| {
        let h = edit_hall(h, "synth = \"espeak-ng\"", "synth = \"loud\"");
        edit_hall(h, "speed_wpm = 150", "speed_wpm = 9")
    });
    let text = hallq::config::load_dir(dir.path()).expect_err("a bad [hall.voice] is refused").to_string();
    assert!(text.contains("hall.voice.synth") && text.contains("\"loud\""), "{text}");
    assert!(text.contains("hall.voice.speed_wpm") && text.contains("from 80 to 450"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_espeak_ng_the_browser_speaks_and_with_synth_off_nobody_does() {
    let missing = "synth = \"espeak-ng\"\ncommand = \"/nonexistent/espeak-ng\"";
    for (edit, synth) in [(missing, "browser"), ("synth = \"off\"", "off")] {
        let d = start(hall_with(|h| edit_hall(h, "synth = \"espeak-ng\"", edit))).await;
        let info = d.api.get("/api/v1/voice", None).await;
        assert_eq!(info.body["synth"], synth, "{}", info.text);
        let mut display = d.api.display(None).await;
        d.api.issue(&d.api.item_in("A").await).await;
        let clerk = open(&d.api, "10").await;
        d.api.call_next(&clerk, "10").await;
        let call = next_call(&mut display, "A001").await;
        assert_eq!(call["announce"]["synth"], synth);
        assert_eq!(call["announce"]["speech"], "请A零零一号到十号窗口办理");
        assert!(call["announce"].get("audio").is_none(), "no audio without espeak-ng: {call}");
        assert!(!d.data.path().join("voice").join("probe.wav.check").exists());
    }
}

/// The audio URL of the first call of the day (A001 at window 5) in a daemon whose
/// espeak-ng program is `command`, over a fresh data directory holding the voice cache
/// files `cached`; and the daemon.
async fn first_call_audio(command: &str, cached: &[std::path::PathBuf]) -> (Daemon, String) {
    let mut config = hall_with(|h| h);
    config.voice.command = command.to_string();
    let data = tempfile::tempdir().expect("a temp dir");
    let voice = data.path().join("voice");
    std::fs::create_dir_all(&voice).expect("make the voice cache");
    for file in cached {
        let name = file.file_name().expect("a file name");
        std::fs::copy(file, voice.join(name)).expect("copy a cached call-out");
    }
    let d = Daemon::start_config(Arc::new(data), None, config).await;
    let mut display = d.api.display(None).await;
    d.api.issue(&d.api.item_in("A").await).await;
    let clerk = open(&d.api, "5").await;
    d.api.call_next(&clerk, "5").await;
    let call = next_call(&mut display, "A001").await;
    assert_eq!(call["announce"]["speech"], "请A零零一号到五号窗口办理");
    let url = call["announce"]["audio"].as_str().unwrap_or_else(|| panic!("audio with {command}: {call}")).to_string();
    display.close().await;
    (d, url)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgraded_espeak_ng_renders_afresh_instead_of_serving_the_old_audio() {
    if !espeak_or_skip("an_upgraded_espeak_ng_renders_afresh_instead_of_serving_the_old_audio") {
        return;
    }
    // The same real espeak-ng behind a wrapper that says it is a newer release, as after
    // `apt-get upgrade`: it renders with the real program.
    let bin = tempfile::tempdir().expect("a temp dir");
    let upgraded = bin.path().join("espeak-ng-upgraded");
    let script = "#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then\n  echo 'eSpeak NG text-to-speech: 1.52.0  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data'\n  exit 0\nfi\nexec espeak-ng \"$@\"\n";
    std::fs::write(&upgraded, script).expect("write the wrapper");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&upgraded, std::fs::Permissions::from_mode(0o755)).expect("make it runnable");

    // Today's espeak-ng renders the call once.
    let (old, url) = first_call_audio("espeak-ng", &[]).await;
    let (status, _, first) = fetch(&old.api, &url).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&first));
    let cached: Vec<std::path::PathBuf> = std::fs::read_dir(old.data.path().join("voice"))
        .expect("the voice cache")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");

    // The same espeak-ng over that cache names the same audio and serves it unrendered.
    let (same, same_url) = first_call_audio("espeak-ng", &cached).await;
    assert_eq!(same_url, url, "the same version names the same words' audio alike");
    assert_eq!(fetch(&same.api, &same_url).await.2, first);
    assert_eq!(counter(&same.api, "hallq_voice_renders_total").await, 0, "served from the cache");

    // The upgraded one over the same cache names other audio and renders it afresh.
    let (new, new_url) = first_call_audio(upgraded.to_str().expect("a UTF-8 path"), &cached).await;
    assert_ne!(new_url, url, "a new espeak-ng version names other audio");
    let (status, _, bytes) = fetch(&new.api, &new_url).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_wave(&bytes);
    assert_eq!(counter(&new.api, "hallq_voice_renders_total").await, 1, "rendered by the new version");
}
