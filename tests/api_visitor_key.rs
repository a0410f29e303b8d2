//! Only the visitor rates, cancels and rejoins (issue 14, medium 8 and 10), through a real
//! daemon: a clerk who knows a ticket's id from the window's answers and the feed cannot
//! forge its 好差评 nor cancel it, the visitor with the key from the kiosk's answer (the
//! QR code's) can, and so can the evaluator of the window that finished the ticket, not
//! another window's. And a phone number written in any common way does not survive into
//! a case's comment or notes, nor into the data directory.

use crate::support;

use serde_json::{json, Value};
use support::{shanghai_ms, Api, Daemon, Display};

/// A ticket as its visitor holds it.
struct Visitor {
    id: String,
    key: String,
}

impl Visitor {
    fn path(&self, action: &str) -> String {
        format!("/api/v1/tickets/{}/{action}?k={}", self.id, self.key)
    }
}

async fn issue(api: &Api) -> Visitor {
    let t = api.issue("SC-0001").await;
    let id = t["id"].as_str().expect("an id").to_string();
    let key = t["key"].as_str().expect("the kiosk's answer carries the visitor's key").to_string();
    assert_eq!(t["status_url"], format!("/t/{id}?k={key}").as_str(), "{t}");
    Visitor { id, key }
}

/// Calls, serves and finishes the next ticket at window `w`; returns every answer the
/// clerk got on the way.
async fn serve_next(api: &Api, clerk: &str, w: &str) -> Vec<Value> {
    let called = api.window_ok(clerk, w, "next", None).await;
    let served = api.window_ok(clerk, w, "serve", None).await;
    let done = api.window_ok(clerk, w, "done", Some(json!({ "outcome": "completed" }))).await;
    let window = api.get(&format!("/api/v1/windows/{w}"), Some(clerk)).await;
    assert_eq!(window.status, 200, "{}", window.text);
    vec![called, served, done, window.body]
}

/// Every feed message a display has been sent so far (until a short quiet).
async fn drain(display: &mut Display) -> Vec<Value> {
    let mut seen = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(std::time::Duration::from_millis(1_500), display.next_or_end()).await {
        seen.push(m);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clerk_with_what_staff_answers_and_the_feed_give_cannot_rate_cancel_or_rejoin() {
    let d = Daemon::start_with_clock(shanghai_ms(2026, 11, 27, 10, 0, 0)).await;
    let api = &d.api;
    let mut display = api.display(None).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let visitor = issue(api).await;
    let waiting = issue(api).await;
    let answers = serve_next(api, &clerk, "1").await;
    assert_eq!(answers[0]["ticket"]["id"], visitor.id.as_str(), "the clerk learns the id");
    let sup = api.login("supervisor").await;
    let overview = api.get("/api/v1/admin", Some(&api.login("admin").await)).await;
    let staff_seen: Vec<String> = answers
        .iter()
        .map(Value::to_string)
        .chain(drain(&mut display).await.iter().map(Value::to_string))
        .chain([overview.text, api.get("/api/v1/stats", Some(&sup)).await.text])
        .collect();
    for text in &staff_seen {
        assert!(!text.contains(&visitor.key), "a staff answer or the feed carries the key: {text}");
        assert!(!text.contains(&waiting.key), "a staff answer or the feed carries the key: {text}");
    }

    // The clerk tries every way its answers suggest: the id alone, its session, the
    // status_url it was given, the id as the key.
    let forged = json!({ "score": 5 });
    let by_id = format!("/api/v1/tickets/{}/rating", visitor.id);
    api.post(&by_id, None, Some(forged.clone())).await.assert_error(401, "unauthorized");
    api.post(&by_id, Some(&clerk), Some(forged.clone())).await.assert_error(403, "forbidden");
    let status_url = answers[2]["status_url"].as_str().or(answers[0]["ticket"]["status_url"].as_str());
    assert!(status_url.is_some_and(|u| !u.contains("k=")), "{answers:?}");
    let guessed = format!("{by_id}?k={}", visitor.id);
    api.post(&guessed, Some(&clerk), Some(forged.clone())).await.assert_error(403, "forbidden");
    api.post(&format!("{by_id}?k="), Some(&clerk), Some(forged)).await.assert_error(403, "forbidden");
    assert_eq!(api.ticket(&visitor.id).await.body["rated"], false, "nothing was rated");

    // Nor may the clerk cancel the visitor waiting behind, or make it rejoin.
    let cancel = format!("/api/v1/tickets/{}/cancel", waiting.id);
    api.post(&cancel, Some(&clerk), None).await.assert_error(403, "forbidden");
    api.post(&cancel, None, None).await.assert_error(401, "unauthorized");
    let rejoin = format!("/api/v1/tickets/{}/rejoin", waiting.id);
    api.post(&rejoin, Some(&clerk), None).await.assert_error(403, "forbidden");
    // Nor get the QR code, which carries the key.
    let qr = format!("/api/v1/tickets/{}/qr.svg", waiting.id);
    api.get(&qr, Some(&clerk)).await.assert_error(403, "forbidden");
    assert_eq!(api.ticket(&waiting.id).await.body["status"], "waiting");

    // The visitor's 差评 is taken, and opens its case.
    let bad = json!({ "score": 1, "reason": "attitude", "comment": "态度差" });
    let rated = api.post(&visitor.path("rating"), None, Some(bad)).await;
    assert_eq!(rated.status, 200, "{}", rated.text);
    assert_eq!(rated.body["rated"], true);
    assert!(rated.body.get("key").is_none(), "{}", rated.text);
    let cases = api.get("/api/v1/cases", Some(&sup)).await;
    assert_eq!(cases.body["cases"][0]["score"], 1, "{}", cases.text);
    assert!(!cases.text.contains(&visitor.key) && !cases.text.contains(&visitor.id), "{}", cases.text);
    // And the waiting visitor cancels with their key; another ticket's key does not do.
    let wrong = format!("/api/v1/tickets/{}/cancel?k={}", waiting.id, visitor.key);
    api.post(&wrong, None, None).await.assert_error(403, "forbidden");
    let cancelled = api.post(&waiting.path("cancel"), None, None).await;
    assert_eq!((cancelled.status, cancelled.body["status"].as_str()), (200, Some("cancelled")), "{}", cancelled.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_evaluator_of_the_window_that_served_rates_and_no_other_window_s() {
    let d = Daemon::start_with_clock(shanghai_ms(2026, 11, 27, 10, 0, 0)).await;
    let api = &d.api;
    let (clerk4, clerk5) = (api.login("clerk4").await, api.login("clerk5").await);
    api.window_ok(&clerk4, "4", "open", None).await;
    let at4 = issue(api).await;
    serve_next(api, &clerk4, "4").await;
    api.window_ok(&clerk5, "5", "open", None).await;
    let at5 = issue(api).await;
    // Not yet finished: the tablet cannot rate it.
    api.window_ok(&clerk5, "5", "next", None).await;
    let early = format!("/api/v1/tickets/{}/rating", at5.id);
    api.post(&early, Some("demo-rate-5"), Some(json!({ "score": 5 }))).await.assert_error(409, "not_rateable");
    api.window_ok(&clerk5, "5", "serve", None).await;
    api.window_ok(&clerk5, "5", "done", Some(json!({ "outcome": "completed" }))).await;

    let rate = |v: &Visitor, token: &'static str, score: u8| {
        let path = format!("/api/v1/tickets/{}/rating", v.id);
        async move { api.post(&path, Some(token), Some(json!({ "score": score }))).await }
    };
    // Window 4's evaluator may not rate window 5's ticket, nor may a kiosk.
    rate(&at5, "demo-rate-4", 5).await.assert_error(403, "forbidden");
    rate(&at5, support::KIOSK, 5).await.assert_error(403, "forbidden");
    rate(&at5, "not-a-token", 5).await.assert_error(401, "unauthorized");
    assert_eq!(api.ticket(&at5.id).await.body["rated"], false);
    // Window 5's may, and window 4's rates its own.
    let ok = rate(&at5, "demo-rate-5", 3).await;
    assert_eq!((ok.status, ok.body["rated"].as_bool()), (200, Some(true)), "{}", ok.text);
    rate(&at4, "demo-rate-5", 5).await.assert_error(403, "forbidden");
    assert_eq!(rate(&at4, "demo-rate-4", 4).await.status, 200);
    // An evaluator cancels nothing.
    let other = issue(api).await;
    let cancel = format!("/api/v1/tickets/{}/cancel", other.id);
    api.post(&cancel, Some("demo-rate-4"), None).await.assert_error(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_qr_code_is_for_the_key_s_holder_and_carries_it() {
    let d = Daemon::start().await;
    let api = &d.api;
    let v = issue(api).await;
    api.get(&format!("/api/v1/tickets/{}/qr.svg", v.id), None).await.assert_error(401, "unauthorized");
    let svg = api.get(&v.path("qr.svg"), None).await;
    assert_eq!(svg.status, 200, "{}", svg.text);
    assert!(svg.text.contains("<svg"), "{}", svg.text);
    // The same key again: it is the ticket's, not the answer's.
    let t = api.ticket(&v.id).await;
    assert_eq!(t.body["status_url"], format!("/t/{}", v.id).as_str(), "a reader gets the page without the key");
    assert!(t.body.get("key").is_none(), "{}", t.text);
}

/// The digits of `text` as ASCII, whatever way they were written.
fn digits(text: &str) -> String {
    const CHINESE: [&str; 10] = ["零〇", "一幺壹", "二两贰", "三叁", "四肆", "五伍", "六陆", "七柒", "八捌", "九玖"];
    text.chars()
        .filter_map(|c| {
            c.to_digit(10)
                .or_else(|| ('０'..='９').contains(&c).then(|| c as u32 - '０' as u32))
                .or_else(|| CHINESE.iter().position(|s| s.contains(c)).and_then(|p| u32::try_from(p).ok()))
        })
        .filter_map(|d| char::from_digit(d, 10))
        .collect()
}

const FORMS: [&str; 9] = [
    "138 0013 8000",
    "138-0013-8000",
    "138\u{200B}0013\u{200B}8000",
    "1\u{2060}3\u{FEFF}8\u{200C}0013\u{200D}8000",
    "１３８００１３８０００",
    "１３８　００１３　８０００",
    "一三八零零一三八零零零",
    "幺三八 〇〇幺三 八〇〇〇",
    "(138) 0013.8000",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_phone_number_in_any_written_form_is_masked_in_comments_and_notes() {
    let d = Daemon::start_with_clock(shanghai_ms(2026, 11, 27, 10, 0, 0)).await;
    let api = &d.api;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    let sup = api.login("supervisor").await;

    // A required "其他" is not satisfied by invisible characters.
    let v = issue(api).await;
    serve_next(api, &clerk, "1").await;
    let blank = json!({ "score": 1, "reason": "other", "comment": "\u{200B}\u{200C}\u{FEFF} \u{2060}\u{3000}" });
    api.post(&v.path("rating"), None, Some(blank)).await.assert_error(400, "reason_text_required");
    assert_eq!(api.ticket(&v.id).await.body["rated"], false);
    let first = json!({ "score": 1, "reason": "other", "comment": format!("请回电{}", FORMS[0]) });
    assert_eq!(api.post(&v.path("rating"), None, Some(first)).await.status, 200);

    for form in &FORMS[1..] {
        let v = issue(api).await;
        serve_next(api, &clerk, "1").await;
        let body = json!({ "score": 2, "reason": "other", "comment": format!("请回电{form}谢谢") });
        let r = api.post(&v.path("rating"), None, Some(body)).await;
        assert_eq!(r.status, 200, "{form:?}: {}", r.text);
    }
    // The supervisor's notes too, and an invisible note is no note.
    let cases = api.get("/api/v1/cases", Some(&sup)).await;
    let ids: Vec<String> = cases.body["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| c["id"].as_str().map(String::from))
        .collect();
    assert_eq!(ids.len(), FORMS.len(), "{}", cases.text);
    let callback = format!("/api/v1/cases/{}/callback", ids[0]);
    api.post(&callback, Some(&sup), Some(json!({ "reached": false, "note": "\u{200B}\u{FEFF}" })))
        .await
        .assert_error(400, "note_required");
    for (i, (case, form)) in ids.iter().zip(FORMS).enumerate() {
        let note = json!({ "reached": true, "note": format!("已回电 {form}") });
        let r = api.post(&format!("/api/v1/cases/{case}/callback"), Some(&sup), Some(note)).await;
        assert_eq!(r.status, 200, "{form:?}: {}", r.text);
        if i % 2 == 0 {
            let note = json!({ "note": format!("整改完毕，联系电话{form}") });
            let r = api.post(&format!("/api/v1/cases/{case}/rectify"), Some(&sup), Some(note)).await;
            assert_eq!(r.status, 200, "{form:?}: {}", r.text);
        }
    }

    let cases = api.get("/api/v1/cases", Some(&sup)).await;
    for c in cases.body["cases"].as_array().expect("cases") {
        let mut texts = vec![c["comment"].as_str().unwrap_or_default().to_string()];
        texts.extend(c["callbacks"].as_array().into_iter().flatten().map(|b| b["note"].to_string()));
        texts.push(c["rectification"]["note"].to_string());
        for text in texts {
            assert!(!digits(&text).contains("13800138000"), "a phone number survives in {text:?}");
            assert!(!digits(&text).contains("0013"), "part of a phone number survives in {text:?}");
        }
        assert!(c["comment"].as_str().is_some_and(|t| t.contains("*****")), "masked, not dropped: {c}");
    }

    // Nor is any form of it anywhere in the data directory.
    let (data, _) = d.stop().await;
    let mut stack = vec![data.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
            for form in FORMS.iter().chain(&["13800138000"]) {
                assert!(!text.contains(form), "{form:?} is in {}", path.display());
            }
        }
    }
}
