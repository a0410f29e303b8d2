//! The display feed over a real WebSocket (`/ws/feed`) against a real daemon: the first
//! snapshot, call-outs with their window and queue messages, fan-out to several displays in log order, no personal data, and
//! the service day rolling over on the engine's own tick. Resuming (`?after=SEQ`, or a
//! snapshot when that is too far back) is in feed_resume.rs.

use crate::support;

use std::collections::BTreeSet;

use serde_json::{json, Value};
use support::{Api, Daemon, Display, Process};

pub(crate) fn seq(v: &Value) -> u64 {
    v["seq"].as_u64().unwrap_or_else(|| panic!("no seq in {v}"))
}

pub(crate) fn assert_window_shape(w: &Value) {
    for key in ["id", "name", "state"] {
        assert!(w[key].is_string(), "window without {key}: {w}");
    }
    assert!(w["queues"].is_array(), "window without queues: {w}");
    assert!(w.get("ticket").is_some(), "window without ticket: {w}");
    assert!(w["clerk"].is_null(), "a display must never see a clerk's name: {w}");
    let state = w["state"].as_str().unwrap_or_default();
    assert!(["closed", "open", "calling", "serving", "paused"].contains(&state), "{w}");
}

pub(crate) fn assert_snapshot_shape(s: &Value, day: &str) {
    assert_eq!(s["type"], "snapshot", "{s}");
    seq(s);
    assert_eq!(s["day"], day, "{s}");
    assert_eq!(s["hall"]["id"], "qingchuan", "{s}");
    assert!(s["hall"]["name"].as_str().is_some_and(|n| !n.is_empty()), "{s}");
    let queues = s["queues"].as_array().expect("queues");
    let ids: Vec<&str> = queues.iter().map(|q| q["id"].as_str().expect("queue id")).collect();
    assert_eq!(ids, ["A", "B", "V", "Y", "Z"], "{s}");
    for q in queues {
        assert!(q["name"].is_string() && q["waiting"].is_u64(), "{q}");
    }
    let windows = s["windows"].as_array().expect("windows");
    assert_eq!(windows.len(), 60, "{s}");
    windows.iter().for_each(assert_window_shape);
    assert!(s["recent_calls"].is_array(), "{s}");
}

pub(crate) fn waiting(snapshot: &Value, queue: &str) -> u64 {
    let q = snapshot["queues"].as_array().unwrap().iter().find(|q| q["id"] == queue).unwrap();
    q["waiting"].as_u64().unwrap()
}

/// The messages a change is expected to produce, checked one by one.
pub(crate) async fn expect_queue(d: &mut Display, id: &str, n: u64) -> Value {
    let m = d.expect("queue").await;
    assert_eq!((m["id"].as_str(), m["waiting"].as_u64()), (Some(id), Some(n)), "{m}");
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_message_is_a_snapshot() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    api.issue(&code).await;
    api.issue(&code).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    api.call_next(&clerk, "1").await;

    let hall = api.get("/api/v1/hall", None).await.body;
    let mut display = api.display(None).await;
    let s = display.next_json().await;
    assert_snapshot_shape(&s, "2026-03-10");
    assert_eq!(waiting(&s, "A"), 1, "{s}");
    let w1 = s["windows"].as_array().unwrap().iter().find(|w| w["id"] == "1").unwrap().clone();
    assert_eq!((w1["state"].as_str(), w1["ticket"].as_str()), (Some("calling"), Some("A001")), "{w1}");
    assert_eq!(w1["queues"], json!(["Y", "A"]));
    let calls = s["recent_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{s}");
    assert_eq!((calls[0]["number"].as_str(), calls[0]["window"].as_str()), (Some("A001"), Some("1")));
    // The hall endpoint serves the same snapshot (nothing changed in between).
    assert_eq!(hall, s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_is_announced_with_its_window_and_queue() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let mut display = api.display(None).await;
    let first = display.expect("snapshot").await;

    let t = api.issue(&api.item_in("A").await).await;
    let issued = expect_queue(&mut display, "A", 1).await;
    assert!(seq(&issued) > seq(&first));

    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let opened = display.expect("window").await;
    assert_eq!((opened["window"]["id"].as_str(), opened["window"]["state"].as_str()), (Some("1"), Some("open")));
    assert_window_shape(&opened["window"]);

    api.call_next(&clerk, "1").await;
    let call = display.expect("call").await;
    assert_eq!(call["number"], "A001");
    assert_eq!(call["window"], "1");
    assert_eq!(call["window_name"], "1号综合窗口（含预约）");
    assert_eq!(call["recall"], false);
    assert_eq!(call["announce"]["text"], "请A001号到1号窗口办理");
    assert_eq!(call["announce"]["repeat"], 2);
    let at = call["at"].as_str().expect("at");
    assert!(at.ends_with("+08:00") && chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{call}");
    assert!(seq(&call) > seq(&opened));
    let win = display.expect("window").await;
    assert_eq!(win["window"]["state"], "calling", "{win}");
    assert_eq!(win["window"]["ticket"], "A001", "{win}");
    assert_window_shape(&win["window"]);
    let queue = expect_queue(&mut display, "A", 0).await;
    assert!(seq(&win) >= seq(&call) && seq(&queue) >= seq(&win));

    api.window_ok(&clerk, "1", "recall", None).await;
    let again = display.expect("call").await;
    assert_eq!((again["number"].as_str(), again["recall"].as_bool()), (Some("A001"), Some(true)), "{again}");
    assert_eq!(again["announce"]["text"], "请A001号到1号窗口办理");
    assert!(seq(&again) > seq(&queue));
    assert_eq!(display.expect("window").await["window"]["state"], "calling");

    api.window_ok(&clerk, "1", "serve", None).await;
    assert_eq!(display.expect("window").await["window"]["state"], "serving");
    api.window_ok(&clerk, "1", "done", None).await;
    let freed = display.expect("window").await;
    assert_eq!(freed["window"]["state"], "open");
    assert!(freed["window"]["ticket"].is_null(), "{freed}");
    assert_eq!(api.ticket(t["id"].as_str().unwrap()).await.body["status"], "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clerks_serve_and_done_reach_displays_as_one_window_message() {
    // A window's changes other than a call wait for the next call or half a second
    // (`feed::WINDOW_MSG_EVERY`) and go out as the window is then: `serve` and `done` in
    // quick succession are one message, the window open again, not "serving" first.
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    api.issue(&code).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    api.call_next(&clerk, "1").await;
    let mut display = api.display(None).await;
    display.expect("snapshot").await;
    let held_from = std::time::Instant::now();
    api.window_ok(&clerk, "1", "serve", None).await;
    api.window_ok(&clerk, "1", "done", None).await;
    let win = display.expect("window").await;
    assert_eq!((win["window"]["id"].as_str(), win["window"]["state"].as_str()), (Some("1"), Some("open")), "{win}");
    assert!(win["window"]["ticket"].is_null(), "{win}");
    // It waited for its pace, since no call came.
    assert!(held_from.elapsed() >= std::time::Duration::from_millis(450), "sent after {:?}", held_from.elapsed());
    // A call does not wait, and takes what is held with it, after itself: the window
    // opened again on window 2 goes out with window 1's call.
    api.issue(&code).await;
    let clerk2 = api.login("clerk2").await;
    let opened = std::time::Instant::now();
    api.window_ok(&clerk2, "2", "open", None).await;
    api.call_next(&clerk, "1").await;
    // On a loaded machine the call may come more than the pace after the open, and then
    // window 2's change rightly goes out alone first; never sooner than its pace (timed
    // from before the open was asked, so this bounds the time between the two).
    let called_within = opened.elapsed();
    let (call, before) = display.until("call", |_| true).await;
    assert_eq!(call["window"], "1", "{call}");
    let id = |m: &Value| m["window"]["id"].as_str().unwrap_or_default().to_string();
    let mut windows: Vec<String> = before.iter().filter(|m| m["type"] == "window" && id(m) == "2").map(id).collect();
    assert!(
        windows.is_empty() || called_within >= std::time::Duration::from_millis(450),
        "window 2 went out before the call, which came {called_within:?} after it opened"
    );
    let more = tokio::time::timeout(support::HANG_GUARD, async {
        while windows.len() < 2 {
            let m = display.next_json().await;
            if m["type"] == "window" {
                assert!(seq(&m) >= seq(&call), "{m} went out before {call}");
                windows.push(id(&m));
            }
        }
    })
    .await;
    assert!(more.is_ok(), "hang guard: the window messages after the call: {windows:?}");
    windows.sort();
    assert_eq!(windows, ["1", "2"], "window 2's change rides with the call, or went out at its pace before it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_displays_thread_yields_the_cpu_to_requests() {
    // Displays are written from a thread of their own at nice 10 (`http::ws`), so that
    // kiosks' and clerks' requests go first when the CPU is short.
    let data = tempfile::tempdir().expect("a temp dir");
    let daemon = Process::spawn(data.path()).await;
    let mut display = daemon.api.display(None).await;
    display.expect("snapshot").await;
    let tasks = std::path::PathBuf::from(format!("/proc/{}/task", daemon.pid));
    let mut found = Vec::new();
    for task in std::fs::read_dir(&tasks).expect("the daemon's threads") {
        let dir = task.expect("a thread").path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        // The fields after the command's closing parenthesis; nice is the 19th field.
        let after = stat.rsplit_once(") ").map(|(_, rest)| rest).unwrap_or_default();
        let nice: i64 = after.split(' ').nth(16).and_then(|n| n.parse().ok()).unwrap_or(i64::MIN);
        found.push((comm.trim().to_string(), nice));
    }
    let displays: Vec<_> = found.iter().filter(|(c, _)| c == "hallq-displays").collect();
    assert_eq!(displays.len(), 1, "one displays' thread: {found:?}");
    assert_eq!(displays[0].1, 10, "{found:?}");
    assert!(found.iter().any(|(c, n)| c != "hallq-displays" && *n == 0), "the rest keeps its priority: {found:?}");
}

/// Opens windows 1..=n with their clerks and returns the tokens.
async fn open_windows(api: &Api, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for w in 1..=n {
        let token = api.login(&format!("clerk{w}")).await;
        api.window_ok(&token, &w.to_string(), "open", None).await;
        out.push((w.to_string(), token));
    }
    out
}

/// Every window calls, serves and finishes `rounds` tickets, all windows at once; returns
/// the numbers called over HTTP.
async fn burst(api: &Api, windows: &[(String, String)], rounds: usize) -> BTreeSet<String> {
    let mut tasks = Vec::new();
    for (w, token) in windows {
        let (api, w, token) = (api.clone(), w.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut called = Vec::new();
            for _ in 0..rounds {
                let t = api.call_next(&token, &w).await;
                called.push(t["number"].as_str().unwrap().to_string());
                api.window_ok(&token, &w, "serve", None).await;
                api.window_ok(&token, &w, "done", None).await;
            }
            called
        }));
    }
    let mut all = BTreeSet::new();
    for t in tasks {
        all.extend(support::guard("a window's burst", t).await.expect("burst task"));
    }
    all
}

/// Reads a display until it has seen `n` call messages; returns every message read.
async fn read_calls(d: &mut Display, n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut calls = 0;
    while calls < n {
        let m = d.next_json().await;
        assert_ne!(m["type"], "snapshot", "a display was resynced during the burst: {m}");
        calls += usize::from(m["type"] == "call");
        out.push(m);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn two_displays_see_every_call_in_log_order() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let (windows, rounds) = (9, 3);
    for _ in 0..windows * rounds {
        api.issue(&code).await;
    }
    let open = open_windows(api, windows).await;
    let mut one = api.display(None).await;
    let mut two = api.display(None).await;
    one.expect("snapshot").await;
    two.expect("snapshot").await;

    let called = burst(api, &open, rounds).await;
    assert_eq!(called.len(), windows * rounds, "each ticket is called once: {called:?}");

    let calls_of = |msgs: &[Value]| -> Vec<(u64, String, String)> {
        msgs.iter()
            .filter(|m| m["type"] == "call")
            .map(|m| (seq(m), m["number"].as_str().unwrap().into(), m["window"].as_str().unwrap().into()))
            .collect()
    };
    let seen_one = calls_of(&read_calls(&mut one, windows * rounds).await);
    let seen_two = calls_of(&read_calls(&mut two, windows * rounds).await);
    assert_eq!(seen_one, seen_two, "two displays saw different call-outs");
    assert!(seen_one.windows(2).all(|p| p[0].0 < p[1].0), "calls out of log order: {seen_one:?}");
    let numbers: BTreeSet<String> = seen_one.iter().map(|c| c.1.clone()).collect();
    assert_eq!(numbers, called, "the feed's call-outs differ from the calls made");
    // One pooled line: in log order, the calls take the tickets in issue order.
    let in_order: Vec<String> = (1..=windows * rounds).map(|n| format!("A{n:03}")).collect();
    let by_log: Vec<String> = seen_one.iter().map(|c| c.1.clone()).collect();
    assert_eq!(by_log, in_order, "dispatch did not call the earliest ticket first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn feed_seq_never_goes_back() {
    // A client resumes from the last seq it saw, so the seqs it receives must never
    // decrease, also when one engine batch holds several windows' changes.
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let (windows, rounds) = (11, 4);
    for _ in 0..windows * rounds {
        api.issue(&code).await;
    }
    let open = open_windows(api, windows).await;
    let mut display = api.display(None).await;
    display.expect("snapshot").await;
    burst(api, &open, rounds).await;
    let msgs = read_calls(&mut display, windows * rounds).await;
    let seqs: Vec<u64> = msgs.iter().map(seq).collect();
    let back: Vec<String> = msgs
        .windows(2)
        .filter(|p| seq(&p[1]) < seq(&p[0]))
        .map(|p| format!("{} seq {} then {} seq {}", p[0]["type"], seq(&p[0]), p[1]["type"], seq(&p[1])))
        .collect();
    assert!(back.is_empty(), "feed seq went back {} times: {back:?}\nall seqs: {seqs:?}", back.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_tickets_ends_with_the_last_count() {
    // Queue counts that change within QUEUE_MSG_EVERY of the last round wait and go out
    // together; however a burst is cut, its last count reaches the display, counts only
    // grow while only tickets are issued, and no count repeats.
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let mut display = api.display(None).await;
    display.expect("snapshot").await;
    let n = 30;
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (api, code) = (api.clone(), code.clone());
        tasks.push(tokio::spawn(async move { api.issue(&code).await }));
    }
    for t in tasks {
        support::guard("an issue", t).await.expect("issue task");
    }
    let (last, before) = display.until("queue", |m| m["id"] == "A" && m["waiting"] == n).await;
    let counts: Vec<u64> = before.iter().chain([&last]).map(|m| m["waiting"].as_u64().expect("a count")).collect();
    assert!(before.iter().all(|m| m["type"] == "queue" && m["id"] == "A"), "{before:?}");
    assert!(counts.windows(2).all(|p| p[0] < p[1]), "counts went back or repeated: {counts:?}");
    // Nothing is left waiting to go out: the next message is the next change.
    api.issue(&code).await;
    let next = display.expect("queue").await;
    assert_eq!(next["waiting"], n + 1, "{next}");
}

/// True if `text` holds a run of at least `n` digits (a phone or ID number).
fn has_digit_run(text: &str, n: usize) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= n {
            return true;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_personal_data_reaches_a_display() {
    const PHONE: &str = "13812345678";
    const ID_NUMBER: &str = "110101199003071234";
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let z = api.item_in("Z").await;
    let mut display = api.display(None).await;
    display.expect("snapshot").await;

    // The kiosk API takes no phone number at all.
    let r = api.issue_with(json!({ "service": code, "phone": PHONE })).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let t = api.issue(&code).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    api.call_next(&clerk, "1").await;
    api.window_ok(&clerk, "1", "recall", None).await;
    api.window_ok(&clerk, "1", "serve", None).await;
    api.window_ok(&clerk, "1", "done", None).await;
    // A visitor may write anything in a rating comment.
    let comment = format!("请回电 {PHONE}，身份证 {ID_NUMBER}，clerk1 很好");
    let rated =
        api.post(&support::visitor_path(&t, "rating"), None, Some(json!({ "score": 5, "comment": comment }))).await;
    assert_eq!(rated.status, 200, "{}", rated.text);
    api.window_ok(&clerk, "1", "pause", None).await;
    // A last change marks the end of what this test caused.
    api.issue(&z).await;
    display.until("queue", |m| m["id"] == "Z").await;

    let mut late = api.display(None).await;
    late.expect("snapshot").await;
    let hall = api.get("/api/v1/hall", None).await.text;
    let texts: Vec<&String> = display.seen.iter().chain(late.seen.iter()).chain(std::iter::once(&hall)).collect();
    assert!(texts.len() >= 8, "{texts:#?}");
    for text in texts {
        assert!(!text.contains("clerk1"), "a display saw a clerk's user name: {text}");
        assert!(!text.contains(PHONE) && !text.contains(ID_NUMBER), "a display saw personal data: {text}");
        assert!(!has_digit_run(text, 11), "a display saw a long number (phone or ID?): {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_day_rolls_over_on_the_engines_tick() {
    let before_midnight = support::shanghai_ms(2026, 3, 10, 23, 58, 0);
    let d = Daemon::start_with_clock(before_midnight).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let mut display = api.display(None).await;
    assert_eq!(display.expect("snapshot").await["day"], "2026-03-10");

    let a1 = api.issue(&code).await;
    let a2 = api.issue(&code).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(api.call_next(&clerk, "1").await["id"], a1["id"]);

    d.set_clock(support::shanghai_ms(2026, 3, 11, 0, 0, 5));
    let (s, _) = display.until("snapshot", |_| true).await;
    assert_snapshot_shape(&s, "2026-03-11");
    assert!(s["queues"].as_array().unwrap().iter().all(|q| q["waiting"] == 0), "a new day starts empty: {s}");
    assert!(s["windows"].as_array().unwrap().iter().all(|w| w["state"] == "closed" && w["ticket"].is_null()), "{s}");
    assert_eq!(s["recent_calls"], json!([]), "{s}");

    // Yesterday's tickets are dropped from live state: their ids are unknown now.
    for t in [&a1, &a2] {
        api.ticket(t["id"].as_str().unwrap()).await.assert_error(404, "unknown_ticket");
    }
    // Windows closed with the day: the clerk opens again.
    api.window(&clerk, "1", "next", None).await.assert_error(409, "window_closed");
    // Numbers restart.
    let fresh = api.issue(&code).await;
    assert_eq!(fresh["number"], "A001");
    assert!(fresh["issued_at"].as_str().unwrap().starts_with("2026-03-11T00:00"), "{fresh}");

    let sup = api.login("supervisor").await;
    let old = api.get("/api/v1/stats?day=2026-03-10", Some(&sup)).await;
    assert_eq!(old.status, 200, "{}", old.text);
    assert_eq!(old.body["total"]["issued"], 2, "{}", old.text);
    assert_eq!(old.body["total"]["called"], 1, "{}", old.text);
    assert_eq!(old.body["total"]["expired"], 2, "a waiting and a called ticket expire: {}", old.text);
    let today = api.get("/api/v1/stats", Some(&sup)).await;
    assert_eq!(today.body["day"], "2026-03-11");
    assert_eq!(today.body["total"]["issued"], 1, "{}", today.text);
    assert_eq!(today.body["total"]["expired"], 0, "{}", today.text);

    // After a restart the same holds: the log replays into the new day.
    let d = d.restart().await;
    d.api.ticket(a2["id"].as_str().unwrap()).await.assert_error(404, "unknown_ticket");
    assert_eq!(d.api.issue(&code).await["number"], "A002");
    let sup = d.api.login("supervisor").await;
    let old = d.api.get("/api/v1/stats?day=2026-03-10", Some(&sup)).await;
    assert_eq!(old.body["total"]["expired"], 2, "{}", old.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_made_once_screens_see_their_connection_open_comes_to_each_as_a_call() {
    // A screen's place in the feed is taken before its connection opens: a call made right
    // after comes to it as a call (the lobby says calls, never those of a snapshot), not
    // folded into the snapshot it is sent first.
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    api.issue(&code).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let url = format!("{}/ws/feed", api.base.replacen("http://", "ws://", 1));
    let opened = futures_util::future::join_all((0..120).map(|_| tokio_tungstenite::connect_async(url.clone()))).await;
    let mut screens: Vec<_> = opened.into_iter().map(|c| c.expect("a screen connects").0).collect();
    let called = api.call_next(&clerk, "1").await;
    for (i, ws) in screens.iter_mut().enumerate() {
        let call = support::guard("the call on every screen", async {
            while let Some(Ok(frame)) = ws.next().await {
                let Message::Text(text) = frame else { continue };
                let v: Value = serde_json::from_str(text.as_str()).expect("JSON");
                if v["type"] == "call" {
                    return Some(v);
                }
            }
            None
        })
        .await;
        let call = call.unwrap_or_else(|| panic!("screen {i} closed without the call"));
        assert_eq!(call["number"], called["number"], "screen {i}: {call}");
    }
}
