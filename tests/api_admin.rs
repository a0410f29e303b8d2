//! An admin's changes without editing hall.toml, black-box: the queues a window serves
//! (dispatch follows them, and they hold across restarts and into the next day's
//! snapshot), closing a window its clerk left open (refused while it holds a ticket), the
//! admin overview, bad input, and the audit trail of each change.

mod support;

use serde_json::{json, Value};
use support::{shanghai_ms, Daemon};

async fn admin_view(d: &Daemon, token: &str) -> Value {
    let r = d.api.get("/api/v1/admin", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn window<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["windows"].as_array().and_then(|ws| ws.iter().find(|w| w["id"] == id)).expect("the window is listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_windows_queues_set_by_an_admin_steer_dispatch_and_hold_across_restart_and_days() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let item = d.api.item_in("A").await;
    d.api.issue(&item).await;
    let clerk = d.api.login("clerk12").await;
    d.api.window_ok(&clerk, "12", "open", None).await;
    // Window 12 serves Z only: the A ticket is not its to call.
    assert!(d.api.window_ok(&clerk, "12", "next", None).await["ticket"].is_null());

    let admin = d.api.login("admin").await;
    let path = "/api/v1/admin/windows/12/queues";
    let r = d.api.post(path, Some(&admin), Some(json!({ "queues": ["Z", "A"] }))).await;
    assert_eq!((r.status, r.body["queues"].clone()), (200, json!(["Z", "A"])), "{}", r.text);
    assert_eq!(d.api.call_next(&clerk, "12").await["number"], "A001");
    let hall = d.api.get("/api/v1/hall", None).await.body;
    let shown = hall["windows"].as_array().and_then(|ws| ws.iter().find(|w| w["id"] == "12")).expect("window 12");
    assert_eq!(shown["queues"], json!(["Z", "A"]), "displays see the new queues: {hall}");

    for (body, status, code) in [
        (json!({ "queues": [] }), 400, "bad_queues"),
        (json!({ "queues": ["A", "A"] }), 400, "bad_queues"),
        (json!({ "queues": ["a b"] }), 400, "bad_queues"),
        (json!({ "queues": ["Q9"] }), 404, "unknown_queue"),
        (json!({ "queue": "A" }), 400, "bad_json"),
    ] {
        d.api.post(path, Some(&admin), Some(body)).await.assert_error(status, code);
    }
    let r = d.api.post("/api/v1/admin/windows/99/queues", Some(&admin), Some(json!({ "queues": ["A"] }))).await;
    r.assert_error(404, "unknown_window");
    d.api.post(path, Some(&clerk), Some(json!({ "queues": ["A"] }))).await.assert_error(403, "forbidden");

    let d = d.restart().await;
    let admin = d.api.login("admin").await;
    assert_eq!(window(&admin_view(&d, &admin).await, "12")["queues"], json!(["Z", "A"]));
    // The next day opens (a snapshot is written); after another restart, from it.
    d.set_clock(shanghai_ms(2026, 3, 11, 8, 30, 0));
    let admin = d.api.login("admin").await;
    let d = d.restart().await;
    let admin2 = d.api.login("admin").await;
    assert_eq!(window(&admin_view(&d, &admin2).await, "12")["queues"], json!(["Z", "A"]));
    drop(admin);

    // Back to hall.toml's queues.
    let r = d.api.post("/api/v1/admin/windows/12/queues", Some(&admin2), Some(json!({ "queues": ["Z"] }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = d.restart().await;
    let admin = d.api.login("admin").await;
    assert_eq!(window(&admin_view(&d, &admin).await, "12")["queues"], json!(["Z"]));
    let page = d.api.get("/api/v1/audit?date=2026-03-10&action=set_queues", Some(&admin)).await.body;
    let entries = page["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{page}");
    assert_eq!((&entries[0]["user"], &entries[0]["window"]), (&json!("admin"), &json!("12")));
    assert!(entries[0]["detail"].as_str().is_some_and(|t| t.contains("Z") && t.contains("A")), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_closes_a_window_its_clerk_left_open_but_not_one_serving() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let item = d.api.item_in("A").await;
    d.api.issue(&item).await;
    let clerk = d.api.login("clerk5").await;
    d.api.window_ok(&clerk, "5", "open", None).await;
    let admin = d.api.login("admin").await;
    let view = admin_view(&d, &admin).await;
    assert_eq!((&window(&view, "5")["state"], &window(&view, "5")["clerk"]), (&json!("open"), &json!("clerk5")));
    let clerk5 = view["users"].as_array().and_then(|u| u.iter().find(|u| u["name"] == "clerk5")).expect("clerk5");
    assert_eq!((&clerk5["role"], &clerk5["disabled"]), (&json!("clerk"), &json!(false)));

    d.api.call_next(&clerk, "5").await;
    let close = "/api/v1/admin/windows/5/close";
    d.api.post(close, Some(&admin), None).await.assert_error(409, "window_busy");
    d.api.window_ok(&clerk, "5", "no-show", None).await;
    let r = d.api.post(close, Some(&admin), None).await;
    assert_eq!(
        (r.status, r.body["state"].clone(), r.body["clerk"].clone()),
        (200, json!("closed"), Value::Null),
        "{}",
        r.text
    );
    // Closed already: nothing more happens.
    assert_eq!(d.api.post(close, Some(&admin), None).await.status, 200);
    d.api.window(&clerk, "5", "next", None).await.assert_error(409, "window_closed");
    d.api.window_ok(&clerk, "5", "open", None).await;
    let sup = d.api.login("supervisor").await;
    d.api.post(close, Some(&sup), None).await.assert_error(403, "forbidden");

    let page = d.api.get("/api/v1/audit?date=2026-03-10&window=5", Some(&admin)).await.body;
    let acts: Vec<(Value, Value)> =
        page["entries"].as_array().expect("entries").iter().map(|e| (e["user"].clone(), e["action"].clone())).collect();
    let expected: Vec<(Value, Value)> =
        [("clerk5", "open"), ("clerk5", "call"), ("clerk5", "no_show"), ("admin", "force_close"), ("clerk5", "open")]
            .iter()
            .map(|(u, a)| (json!(u), json!(a)))
            .collect();
    assert_eq!(acts, expected, "{page}");
}
