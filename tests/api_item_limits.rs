//! 一次性告知 and 承诺办结时限 through a real daemon (issue 17 §5): the catalogue answer
//! carries each item's materials and its example limit (services.toml's own items state
//! none), and a ticket says an enterprise ticket's line, its specialist's window while that
//! window calls it, else the enterprise queue, also after a restart; an ordinary ticket
//! has no line.

use crate::support;

use serde_json::json;
use support::{Api, Daemon, KIOSK};

/// E001's credit code (specialist zhuanyuan1 at window 10).
const E001: &str = "91510100MA6CAY4CLW";

async fn enterprise_ticket(api: &Api, service: &str) -> serde_json::Value {
    let r =
        api.post("/api/v1/enterprise-tickets", Some(KIOSK), Some(json!({ "code": E001, "service": service }))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn items_carry_their_limit_and_a_ticket_says_its_enterprise_line_across_a_restart() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let catalog = api.catalog().await;
    let items = catalog["items"].as_array().expect("items");
    let item = |code: &str| items.iter().find(|i| i["code"] == code).unwrap_or_else(|| panic!("{code}")).clone();
    let first = item("SC-0001");
    assert_eq!(first["limit_days"], 1, "企业开办: one working day, {first}");
    assert_eq!(first["materials"].as_array().map(Vec::len), Some(5), "{first}");
    assert!(items.iter().any(|i| i["limit_days"] == 0), "some items are 即办");
    let own = items.iter().find(|i| i["code"].as_str().is_some_and(|c| !c.starts_with("SC-"))).expect("an own item");
    assert!(own.get("limit_days").is_none(), "services.toml's own items state no limit: {own}");

    // An ordinary ticket has no line.
    let plain = api.issue("SC-0001").await;
    let plain = api.ticket(plain["id"].as_str().expect("id")).await;
    assert_eq!(plain.body["enterprise_line"], json!(null), "{}", plain.text);

    // The specialist is away: the enterprise queue.
    let b_item = api.item_in("B").await;
    let queued = enterprise_ticket(api, &b_item).await;
    let queued_id = queued["id"].as_str().expect("id").to_string();
    let got = api.ticket(&queued_id).await;
    assert_eq!(got.body["enterprise_line"], json!({ "kind": "queue", "window": null }), "{}", got.text);
    // Signed in at window 10: the next one is the personal line, until the window closes.
    let z1 = api.login("zhuanyuan1").await;
    api.window_ok(&z1, "10", "open", None).await;
    let personal = enterprise_ticket(api, &b_item).await;
    let personal_id = personal["id"].as_str().expect("id").to_string();
    let got = api.ticket(&personal_id).await;
    assert_eq!(got.body["enterprise_line"], json!({ "kind": "personal", "window": "10" }), "{}", got.text);
    for leak in ["E001", E001, "zhuanyuan1", "陈静", "青川智造"] {
        assert!(!got.text.contains(leak), "a ticket's line names {leak}: {}", got.text);
    }

    let d = d.restart().await;
    let got = d.api.ticket(&personal_id).await;
    assert_eq!(got.body["enterprise_line"]["kind"], "personal", "the line survives a restart: {}", got.text);
    let got = d.api.ticket(&queued_id).await;
    assert_eq!(got.body["enterprise_line"]["kind"], "queue", "{}", got.text);
    // The window closes: the ticket waits in the enterprise queue again, and says so.
    let z1 = d.api.login("zhuanyuan1").await;
    d.api.window_ok(&z1, "10", "open", None).await;
    d.api.window_ok(&z1, "10", "close", None).await;
    let got = d.api.ticket(&personal_id).await;
    assert_eq!(got.body["enterprise_line"], json!({ "kind": "queue", "window": null }), "{}", got.text);
}
