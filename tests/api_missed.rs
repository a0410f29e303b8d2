//! Missed numbers, parked tickets and bundle steps over real HTTP and the real feed: the
//! status codes, the ticket's new fields, and what the displays see.

use crate::support;

use serde_json::{json, Value};
use support::Daemon;

fn id(t: &Value) -> &str {
    t["id"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missed_number_rejoins_from_its_status_page_link() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let a1 = api.issue(&code).await;
    let a2 = api.issue(&code).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(api.call_next(&clerk, "1").await["id"], a1["id"]);
    // Two recalls are allowed, the third is refused with the way out.
    for n in 1..=2 {
        let recalled = api.window_ok(&clerk, "1", "recall", None).await;
        assert_eq!((recalled["recalls"].as_u64(), recalled["recall_max"].as_u64()), (Some(n), Some(2)));
    }
    let third = api.window(&clerk, "1", "recall", None).await;
    third.assert_error(409, "recall_limit");
    assert!(third.text.contains("no-show"), "{}", third.text);
    let missed = api.window_ok(&clerk, "1", "no-show", None).await;
    assert!(missed["rejoin_until"].is_string(), "{missed}");

    let path = support::visitor_path(&a1, "rejoin");
    let back = api.post(&path, None, None).await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!((back.body["status"].as_str(), back.body["number"].as_str()), (Some("waiting"), Some("A001")));
    assert_eq!(back.body["ahead"], 1, "A002 was in line before the rejoin: {}", back.text);
    assert!(back.body["rejoin_until"].is_null());
    api.post(&path, None, None).await.assert_error(409, "not_missed");
    api.post("/api/v1/tickets/0123/rejoin", None, None).await.assert_error(404, "unknown_ticket");

    assert_eq!(api.call_next(&clerk, "1").await["id"], a2["id"]);
    api.window_ok(&clerk, "1", "serve", None).await;
    api.window_ok(&clerk, "1", "done", None).await;
    let again = api.call_next(&clerk, "1").await;
    assert_eq!((again["id"].as_str(), again["recalls"].as_u64()), (Some(id(&a1)), Some(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missed_number_cannot_rejoin_after_the_limit() {
    let start = support::default_start_ms();
    let d = Daemon::start_with_clock(start).await;
    let api = &d.api;
    let a1 = api.issue(&api.item_in("A").await).await;
    let clerk = api.login("clerk1").await;
    api.window_ok(&clerk, "1", "open", None).await;
    api.call_next(&clerk, "1").await;
    api.window_ok(&clerk, "1", "no-show", None).await;
    d.set_clock(start + 31 * 60_000);
    let late = api.post(&support::visitor_path(&a1, "rejoin"), None, None).await;
    late.assert_error(409, "rejoin_expired");
    assert_eq!(api.ticket(id(&a1)).await.body["status"], "no_show");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_parked_ticket_comes_back_to_its_window_with_a_call_out() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let a1 = api.issue(&code).await;
    let a2 = api.issue(&code).await;
    let clerk = api.login("clerk3").await;
    api.window_ok(&clerk, "3", "open", None).await;
    api.call_next(&clerk, "3").await;
    api.window_ok(&clerk, "3", "serve", None).await;
    let mut display = api.display(None).await;
    display.expect("snapshot").await;

    let parked = api.window_ok(&clerk, "3", "park", None).await;
    assert_eq!(parked["status"], "parked");
    assert_eq!(parked["window"], "3");
    let (window_msg, _) = display.until("window", |m| m["window"]["state"] == "open").await;
    assert!(window_msg["window"]["ticket"].is_null(), "{window_msg}");

    let detail = api.get("/api/v1/windows/3", Some(&clerk)).await;
    assert_eq!(detail.body["parked"][0]["id"], a1["id"], "{}", detail.text);
    assert!(detail.body["ticket"].is_null());
    // The window goes on with the next visitor.
    assert_eq!(api.call_next(&clerk, "3").await["id"], a2["id"]);
    let body = json!({ "ticket": id(&a1) });
    api.window(&clerk, "3", "unpark", Some(body.clone())).await.assert_error(409, "window_busy");
    api.window_ok(&clerk, "3", "serve", None).await;
    api.window_ok(&clerk, "3", "done", None).await;
    api.window(&clerk, "3", "unpark", Some(json!({}))).await.assert_error(400, "bad_unpark");

    let back = api.window_ok(&clerk, "3", "unpark", Some(body)).await;
    assert_eq!((back["status"].as_str(), back["call_rule"]["code"].as_str()), (Some("called"), Some("unparked")));
    // Displays call the number out again.
    let (call, _) = display.until("call", |m| m["number"] == "A001").await;
    assert_eq!(call["window"], "3");
    let detail = api.get("/api/v1/windows/3", Some(&clerk)).await;
    assert_eq!(detail.body["parked"], json!([]));
    // A window with a parked ticket cannot close.
    api.window_ok(&clerk, "3", "park", None).await;
    api.window(&clerk, "3", "close", None).await.assert_error(409, "parked_tickets");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bundle_ticket_shows_its_steps_and_keeps_its_number() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    // Find a bundle whose items need two queues in the example hall.
    let catalog = api.catalog().await;
    let queue_of = |code: &str| -> Option<String> {
        let items = catalog["items"].as_array()?;
        let item = items.iter().find(|i| i["code"] == code)?;
        item["queue"].as_str().map(str::to_string)
    };
    let bundles = catalog["bundles"].as_array().cloned().unwrap_or_default();
    let two_step = bundles.iter().find(|b| {
        let items = b["items"].as_array().cloned().unwrap_or_default();
        let mut queues: Vec<String> = items.iter().filter_map(|i| i.as_str().and_then(queue_of)).collect();
        queues.dedup();
        queues.len() >= 2
    });
    let bundle = two_step.unwrap_or_else(|| panic!("no two-queue bundle in {bundles:?}"));
    let ticket = api.issue_with(json!({ "service": bundle["id"] })).await;
    assert_eq!(ticket.status, 201, "{}", ticket.text);
    let t = ticket.body;
    let steps = t["steps"].as_array().cloned().unwrap_or_default();
    assert!(steps.len() >= 2, "{t}");
    assert_eq!((steps[0]["state"].as_str(), steps[1]["state"].as_str()), (Some("current"), Some("pending")));
    let first_queue = steps[0]["queue"].as_str().unwrap_or_default().to_string();
    let second_queue = steps[1]["queue"].as_str().unwrap_or_default().to_string();
    assert_eq!(t["queue"].as_str(), Some(first_queue.as_str()));

    // Window 10 serves B and A in the example hall; it does both steps here.
    let clerk = api.login("clerk10").await;
    api.window_ok(&clerk, "10", "open", None).await;
    assert_eq!(api.call_next(&clerk, "10").await["id"], t["id"]);
    api.window_ok(&clerk, "10", "serve", None).await;
    let after = api.window_ok(&clerk, "10", "done", None).await;
    assert_eq!((after["status"].as_str(), after["step"].as_u64()), (Some("waiting"), Some(1)), "{after}");
    assert_eq!(after["queue"].as_str(), Some(second_queue.as_str()));
    assert_eq!(after["number"], t["number"]);
    assert_eq!(after["steps"][0]["state"], "done");
    assert_eq!(after["steps"][0]["window"], "10");
    assert_eq!(api.call_next(&clerk, "10").await["id"], t["id"]);
    api.window_ok(&clerk, "10", "serve", None).await;
    let done = api.window_ok(&clerk, "10", "done", None).await;
    assert_eq!(done["status"], "done");
    assert!(done["steps"].as_array().is_some_and(|s| s.iter().all(|s| s["state"] == "done")), "{done}");
}
