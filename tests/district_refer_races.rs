//! Referrals between halls when the answer is slow (issue 18, 跨中心转办): the origin's
//! ticket leaves the window while the target decides, and a fifth referral while four
//! wait for a hall that does not answer. Real parts: a `nats-server -js`, town-a's daemon,
//! and town-b as the `hallq` binary, which the test stops (SIGSTOP) and resumes to hold
//! its answer; a plain subscriber on the target's cmd subject tells the test when the
//! request is on its way, and one on the replies' `_INBOX.>` reads town-b's answer. The
//! oracle of what town-b did is town-b's own API.

use std::time::Duration;

use futures_util::StreamExt;
use hallq::district::cmd::{cmd_subject, peer_subject};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::district_online::answering;
use crate::district_view::{district_dir, start_hall};
use crate::support::nats::Nats;
use crate::support::*;

/// Hall `folder` of the district in `dir` as the `hallq` binary, on port 0.
async fn spawn_hall(dir: &TempDir, folder: &str) -> (Process, TempDir) {
    let data = tempfile::tempdir().expect("a temp dir");
    (spawn_hall_on(dir, folder, data.path()).await, data)
}

/// As `spawn_hall`, on the data directory `data`.
async fn spawn_hall_on(dir: &TempDir, folder: &str, data: &std::path::Path) -> Process {
    let config = tempfile::tempdir().expect("a temp dir");
    let text = std::fs::read_to_string(dir.path().join("halls").join(folder).join("hall.toml")).expect("hall.toml");
    let catalogue = dir.path().join("services.toml");
    let text = text.replace("\"../../services.toml\"", &format!("{:?}", catalogue.display().to_string()));
    std::fs::write(config.path().join("hall.toml"), text).expect("write hall.toml");
    Process::spawn_with(data, config, "127.0.0.1:0", "info,sled=warn", &[]).await
}

/// A hall's figures of the day, by its own `/api/v1/stats`.
async fn stats(api: &Api) -> Value {
    let supervisor = api.login("super").await;
    let r = api.get("/api/v1/stats", Some(&supervisor)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// The ticket town-b answered a referral with, read off the answer on its way back to
/// town-a (every reply travels through NATS to an `_INBOX.` subject).
async fn answered(replies: &mut async_nats::Subscriber) -> String {
    guard("town-b's answer to the referral", async {
        loop {
            let m = replies.next().await.expect("a reply");
            let body: Value = serde_json::from_slice(&m.payload).unwrap_or(Value::Null);
            if body["referral"]["direction"] == "in" {
                return body["id"].as_str().expect("the ticket's id").to_string();
            }
        }
    })
    .await
}

/// The next `n` requests on `sub` (bounded).
async fn seen(sub: &mut async_nats::Subscriber, n: usize) {
    guard("the referrals on their way", async {
        for _ in 0..n {
            sub.next().await.expect("a request on the cmd subject");
        }
    })
    .await;
}

/// The clerk at town-a's window 1 refers its visitor to `to`.
async fn refer(api: &Api, clerk: &str, to: &str) -> Reply {
    let ask = json!({ "to_hall": to, "reason": "需属地办理" });
    api.post("/api/v1/windows/1/refer", Some(clerk), Some(ask)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_the_origin_cannot_record_leaves_no_ticket_at_the_target() {
    let test = "a_referral_the_origin_cannot_record_leaves_no_ticket_at_the_target";
    let Some(nats) = Nats::start_or_skip(test) else { return };
    let dir = district_dir(&nats, 30);
    let a = start_hall(&dir, "town-a", None).await;
    let (b, _b_data) = spawn_hall(&dir, "town-b").await;
    let client = async_nats::connect(nats.url()).await.expect("connect to NATS");
    answering(&client, "town-b").await;

    let taken = a.api.issue("ZX-0001").await;
    let t = taken["id"].as_str().expect("an id").to_string();
    let clerk = a.api.login("clerk1").await;
    a.api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(a.api.call_next(&clerk, "1").await["id"], t.as_str());
    a.api.window_ok(&clerk, "1", "serve", None).await;
    a_fifth_is_refused(&a.api, &clerk, &client, &t).await;
    let mut replies = client.subscribe("_INBOX.>").await.expect("subscribe");
    finished_meanwhile(&a.api, &b, &clerk, &client, &t, &mut replies).await;
    // The withdrawal's own words, at town-b: nobody but the referral's origin.
    withdrawals(&client).await;
    answered_too_late(&a.api, &b, &clerk, &mut replies).await;
    drop(b);
    a.stop().await;
}

/// Town-a SIGKILLed after town-b issued its ticket and before town-a recorded the
/// referral (its answer came after town-a's wait): restarted, town-a still owes that
/// referral an end, and once its visitor is gone from the window it withdraws town-b's
/// ticket, so neither hall keeps a ghost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_killed_between_the_answer_and_its_record_settles_after_restart() {
    let test = "an_origin_killed_between_the_answer_and_its_record_settles_after_restart";
    let Some(nats) = Nats::start_or_skip(test) else { return };
    let dir = district_dir(&nats, 30);
    let a_data = tempfile::tempdir().expect("a temp dir");
    let mut a = spawn_hall_on(&dir, "town-a", a_data.path()).await;
    let (b, _b_data) = spawn_hall(&dir, "town-b").await;
    let client = async_nats::connect(nats.url()).await.expect("connect to NATS");
    answering(&client, "town-b").await;
    let mut replies = client.subscribe("_INBOX.>").await.expect("subscribe");
    client.flush().await.expect("flush");

    let t = a.api.issue("ZX-0001").await["id"].as_str().expect("an id").to_string();
    let clerk = a.api.login("clerk1").await;
    a.api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(a.api.call_next(&clerk, "1").await["id"], t.as_str());
    b.pause();
    refer(&a.api, &clerk, "town-b").await.assert_error(503, "hall_unreachable");
    b.resume();
    let ghost = answered(&mut replies).await;
    a.kill9();
    assert_eq!(b.api.ticket(&ghost).await.body["status"], "waiting");

    let a = spawn_hall_on(&dir, "town-a", a_data.path()).await;
    let clerk = a.api.login("clerk1").await;
    let there = a.api.ticket(&t).await.body;
    assert_eq!((there["status"].as_str(), there["referral"].is_null()), (Some("called"), true), "{there}");
    a.api.window_ok(&clerk, "1", "no-show", None).await;
    guard("the restarted town-a withdraws the ticket it never recorded", async {
        while b.api.ticket(&ghost).await.body["status"] != "cancelled" {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_eq!(stats(&b.api).await["referrals"]["in"], json!([]), "no referral taken in at town-b");
    assert_eq!(stats(&a.api).await["referrals"]["out"], json!([]), "none recorded at town-a");
    drop((a, b));
}

/// Four referrals wait on a hall that takes the request and never answers: a fifth is
/// refused at once, in words, and nothing is referred.
async fn a_fifth_is_refused(a: &Api, clerk: &str, client: &async_nats::Client, t: &str) {
    let mut silent = client.subscribe(peer_subject("qingchuan-district", "town-a")).await.expect("subscribe");
    client.flush().await.expect("flush");
    let four = futures_util::future::join_all((0..4).map(|_| refer(a, clerk, "qingchuan-district")));
    let fifth = async {
        seen(&mut silent, 4).await;
        refer(a, clerk, "town-b").await
    };
    let (four, fifth) = guard("four referrals and a fifth", async { tokio::join!(four, fifth) }).await;
    fifth.assert_error(503, "referrals_busy");
    assert!(fifth.body["error"]["message"].as_str().is_some_and(|m| m.contains("稍后再试")), "{}", fifth.text);
    for r in four {
        r.assert_error(503, "hall_unreachable");
    }
    let still = a.ticket(t).await.body;
    assert_eq!((still["status"].as_str(), still["window"].as_str()), (Some("serving"), Some("1")), "{still}");
}

/// town-b holds its answer while another tab finishes the ticket at town-a: town-b's
/// ticket is withdrawn, so its line keeps no ghost.
async fn finished_meanwhile(
    a: &Api,
    b: &Process,
    clerk: &str,
    client: &async_nats::Client,
    t: &str,
    replies: &mut async_nats::Subscriber,
) {
    let b_issued = stats(&b.api).await["total"]["issued"].as_u64();
    let mut watch = client.subscribe(peer_subject("town-b", "town-a")).await.expect("subscribe");
    client.flush().await.expect("flush");
    b.pause();
    let other_tab = async {
        seen(&mut watch, 1).await;
        a.window_ok(clerk, "1", "done", Some(json!({ "outcome": "completed" }))).await;
        b.resume();
    };
    let (late, ()) =
        guard("a referral answered late", async { tokio::join!(refer(a, clerk, "town-b"), other_tab) }).await;
    late.assert_error(409, "no_ticket");
    assert_eq!(late.body["error"]["target_withdrawn"], json!(true), "{}", late.text);
    let ghost = answered(replies).await;
    let there = b.api.ticket(&ghost).await;
    assert_eq!((there.status, there.body["status"].as_str()), (200, Some("cancelled")), "{}", there.text);
    let checked = b.api.post(&format!("/api/v1/tickets/{ghost}/check-in"), Some(KIOSK), None).await;
    assert_eq!(checked.status, 409, "no check-in of a withdrawn referral: {}", checked.text);
    let b_stats = stats(&b.api).await;
    assert_eq!(b_stats["total"]["issued"].as_u64(), b_issued.map(|n| n + 1), "town-b decided it once");
    assert_eq!(b_stats["referrals"]["in"], json!([]), "a withdrawn referral is not taken in: {b_stats}");
    let done = a.ticket(t).await.body;
    assert_eq!((done["outcome"].as_str(), done["referral"].is_null()), (Some("completed"), true), "{done}");
    assert_eq!(stats(a).await["referrals"], json!({ "out": [], "in": [] }));
}

/// town-b answers too late for town-a's wait: the clerk hears 503, the ticket stays at
/// the window (a retry would get the same ticket there); once the visitor is gone from
/// the window, town-a withdraws town-b's ticket of its own accord. Back after the missed
/// call, the visitor is referred again: a new ticket at town-b.
async fn answered_too_late(a: &Api, b: &Process, clerk: &str, replies: &mut async_nats::Subscriber) {
    let taken = a.issue("ZX-0001").await;
    let (t2, t2_key) = (taken["id"].as_str().expect("an id").to_string(), taken["key"].as_str().expect("a key"));
    assert_eq!(a.call_next(clerk, "1").await["id"], t2.as_str());
    b.pause();
    refer(a, clerk, "town-b").await.assert_error(503, "hall_unreachable");
    b.resume();
    let ghost = answered(replies).await;
    assert_eq!(b.api.ticket(&ghost).await.body["status"], "waiting", "kept while the clerk may retry");
    a.window_ok(clerk, "1", "no-show", None).await;
    guard("town-a withdraws the ticket it never heard of", async {
        while b.api.ticket(&ghost).await.body["status"] != "cancelled" {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert_eq!(stats(&b.api).await["referrals"]["in"], json!([]));
    assert_eq!(a.post(&format!("/api/v1/tickets/{t2}/rejoin?k={t2_key}"), None, None).await.status, 200);
    assert_eq!(a.call_next(clerk, "1").await["id"], t2.as_str());
    let again = refer(a, clerk, "town-b").await;
    assert_eq!(again.status, 200, "{}", again.text);
    let new = again.body["referral"]["ticket"].as_str().expect("town-b's ticket").to_string();
    assert_ne!(new, ghost, "not the withdrawn ticket");
    assert_eq!(b.api.ticket(&new).await.body["status"], "waiting");
    assert_eq!(stats(&b.api).await["referrals"]["in"][0]["count"], 1);
}

/// Raw withdrawals at town-b: a stranger's refused, one speaking for another hall than
/// its subject's refused, one on the district's cmd subject refused, an unknown one 404.
async fn withdrawals(client: &async_nats::Client) {
    let ask = |from: &str, ticket: &str| {
        let body = json!({ "from_hall": from, "reference": "abc", "ticket": ticket });
        json!({ "v": 1, "op": "withdraw_referral", "body": body, "client": "127.0.0.1" })
    };
    let raw = |subject: String, request: Value| async move {
        let payload = serde_json::to_vec(&request).expect("json");
        let asked = async_nats::client::Request::new().payload(payload.into()).timeout(Some(Duration::from_secs(3)));
        let m = client.send_request(subject, asked).await.expect("an answer");
        let status = m.headers.as_ref().and_then(|h| h.get(hallq::district::cmd::STATUS_HEADER)).map(|v| v.to_string());
        (status, serde_json::from_slice::<Value>(&m.payload).unwrap_or(Value::Null))
    };
    let some = "0123456789abcdef0123456789abcdef";
    let (status, body) = raw(peer_subject("town-b", "town-x"), ask("town-x", some)).await;
    assert_eq!(status.as_deref(), Some("403"), "{body}");
    let (status, body) = raw(peer_subject("town-b", "town-x"), ask("town-a", some)).await;
    assert_eq!(status.as_deref(), Some("403"), "town-x speaks for town-a: {body}");
    let (status, body) = raw(cmd_subject("town-b"), ask("town-a", some)).await;
    assert_eq!(status.as_deref(), Some("403"), "a withdrawal on the district's subject: {body}");
    let (status, body) = raw(peer_subject("town-b", "town-a"), ask("town-a", some)).await;
    assert_eq!((status.as_deref(), body["error"]["code"].as_str()), (Some("404"), Some("unknown_ticket")), "{body}");
}
