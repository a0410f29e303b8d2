//! Referrals between halls (issue 18, 跨中心转办): a clerk at town-a refers the visitor at
//! their window to town-b; town-b issues a remote ticket for them over NATS
//! (`hallq.hall.town-b.peer.town-a`, op `refer`). Real parts: a `nats-server -js`, the example
//! district's two townships. The oracle of what town-b did is town-b's own API, never
//! town-a's echo of it.

use std::time::Duration;

use hallq::district::cmd::{cmd_subject, peer_subject, STATUS_HEADER};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::district_online::answering;
use crate::district_view::{district_dir, start_hall};
use crate::support::nats::Nats;
use crate::support::*;

/// A raw request to hall `hall` as its daemon's peer: on its peer subject for the
/// request's `from_hall` (a visitor's operation, none: on its cmd subject, the
/// district's); its status and body, `None` unanswered.
async fn raw(nats: &async_nats::Client, hall: &str, request: Value) -> Option<(u16, Value)> {
    let subject = match request["body"]["from_hall"].as_str() {
        Some(from) => peer_subject(hall, from),
        None => cmd_subject(hall),
    };
    let payload = serde_json::to_vec(&request).expect("json");
    let asked = async_nats::client::Request::new().payload(payload.into()).timeout(Some(Duration::from_secs(3)));
    let m = nats.send_request(subject, asked).await.ok()?;
    let status = m.headers.as_ref().and_then(|h| h.get(STATUS_HEADER)).map(|v| v.as_str().parse().expect("a status"));
    Some((status.expect("a status header"), serde_json::from_slice(&m.payload).unwrap_or(Value::Null)))
}

/// A referral as a hall's daemon sends it, from `from` for its ticket `reference`.
fn refer_request(from: &str, reference: &str, service: &str) -> Value {
    let body = json!({
        "from_hall": from, "from_name": "某中心", "reference": reference, "number": "A001",
        "reason": "需属地办理", "service": service,
    });
    json!({ "v": 1, "op": "refer", "body": body, "idempotency_key": format!("{from}:{reference}"), "client": "127.0.0.1" })
}

/// The day's referral figures of a hall, by its own `/api/v1/stats`.
async fn referrals(hall: &Daemon) -> Value {
    let supervisor = hall.api.login("super").await;
    let r = hall.api.get("/api/v1/stats", Some(&supervisor)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["referrals"].clone()
}

async fn issued(hall: &Daemon) -> u64 {
    let supervisor = hall.api.login("super").await;
    hall.api.get("/api/v1/stats", Some(&supervisor)).await.body["total"]["issued"].as_u64().expect("issued")
}

/// Restarts hall `folder` of `dir` over its own data.
async fn restart(dir: &TempDir, folder: &str, hall: Daemon) -> Daemon {
    let (data, _) = hall.stop().await;
    start_hall(dir, folder, Some(data)).await
}

/// What town-a's clerk may not send, and what town-b takes from nobody but a peer over
/// its cmd subject: each refused, nothing changed.
async fn refusals(a: &Daemon, b: &Daemon, nats: &async_nats::Client, clerk: &str) {
    let refer = |body: Value| async move { a.api.post("/api/v1/windows/1/refer", Some(clerk), Some(body)).await };
    refer(json!({ "to_hall": "town-x", "reason": "其他" })).await.assert_error(400, "unknown_peer");
    refer(json!({ "to_hall": "town-b", "reason": "想去" })).await.assert_error(400, "bad_reason");
    let long = "长".repeat(201);
    refer(json!({ "to_hall": "town-b", "reason": "其他", "note": long })).await.assert_error(400, "bad_note");
    refer(json!({ "to_hall": "town-b", "reason": "其他", "hall": "x" })).await.assert_error(400, "bad_json");
    let anon =
        a.api.post("/api/v1/windows/1/refer", None, Some(json!({ "to_hall": "town-b", "reason": "其他" }))).await;
    assert_eq!(anon.status, 401, "{}", anon.text);
    // town-b's end of a referral is not on its public listener.
    let direct = b
        .api
        .post("/api/v1/referrals", Some(KIOSK), Some(refer_request("town-a", "abc", "ZX-0001")["body"].clone()))
        .await;
    direct.assert_error(404, "not_found");
    // Over NATS: only a peer's referral is taken, and only for a service town-b offers.
    let (status, body) = raw(nats, "town-b", refer_request("town-x", "abc", "ZX-0001")).await.expect("an answer");
    assert_eq!(status, 403, "{body}");
    let (status, body) = raw(nats, "town-b", refer_request("town-a", "abc", "NO-SUCH")).await.expect("an answer");
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("unknown_service")), "{body}");
    let mut bad = refer_request("town-a", "abc", "ZX-0001");
    bad["body"]["reference"] = json!("a/b");
    let (status, body) = raw(nats, "town-b", bad).await.expect("an answer");
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_referral")), "{body}");
}

/// town-b's own answer for the ticket town-a's referral (`sent`) names: remote, waiting,
/// with its origin; its id and body.
async fn taken_in_at_b(b: &Daemon, sent: &Value) -> (String, Value) {
    let referral = &sent["referral"];
    assert_eq!(
        (referral["direction"].as_str(), referral["hall"].as_str()),
        (Some("out"), Some("town-b")),
        "{referral}"
    );
    let target = referral["ticket"].as_str().expect("the target's id").to_string();
    let own = b.api.ticket(&target).await;
    assert_eq!(own.status, 200, "{}", own.text);
    let there = &own.body["referral"];
    assert_eq!(
        (own.body["check_in"].as_bool(), own.body["status"].as_str()),
        (Some(true), Some("waiting")),
        "{}",
        own.text
    );
    assert_eq!((there["direction"].as_str(), there["hall"].as_str()), (Some("in"), Some("town-a")), "{there}");
    assert_eq!(
        (there["reason"].as_str(), there["note"].as_str()),
        (Some("需属地办理"), Some("户籍在西岭乡")),
        "{there}"
    );
    assert_eq!(there["number"], sent["number"], "the origin's number");
    assert_eq!(referral["number"], own.body["number"], "town-a tells the visitor town-b's number");
    (target, own.body)
}

/// town-a: the ticket finished as referred; the visitor's read names the new number and,
/// with their own key, the link with the new ticket's key.
async fn told_at_a(a: &Daemon, (t, t_key): (&str, &str), (target, target_key): (&str, &str), own: &Value) {
    let done = a.api.ticket(t).await.body;
    assert_eq!((done["status"].as_str(), done["outcome"].as_str()), (Some("done"), Some("incomplete")), "{done}");
    assert!(
        done["referral"]["text"].as_str().is_some_and(
            |s| s.contains("青川区西岭乡便民服务中心") && s.contains(own["number"].as_str().unwrap_or("?"))
        ),
        "{done}"
    );
    let link = format!("http://127.0.0.1:8090/t/{target}?hall=town-b");
    assert_eq!(done["referral"]["status_url"], link, "{done}");
    let mine = a.api.get(&format!("/api/v1/tickets/{t}?k={t_key}"), None).await.body;
    assert_eq!(mine["referral"]["status_url"], format!("{link}&k={target_key}"), "{mine}");
}

/// Both halls' figures, town-a's audit and CSV, and both tickets, after a restart of both.
async fn seen_after_restarts(a: &Daemon, b: &Daemon, t: &str, target: &str, own: &Value) {
    let out =
        json!([{ "hall": "town-b", "hall_name": "青川区西岭乡便民服务中心", "reason": "需属地办理", "count": 1 }]);
    let taken_in = json!([{ "hall": "town-a", "hall_name": "青川区东河镇便民服务中心", "count": 1 }]);
    assert_eq!(referrals(a).await, json!({ "out": out, "in": [] }));
    assert_eq!(referrals(b).await, json!({ "out": [], "in": taken_in }));
    let supervisor = a.api.login("super").await;
    let audit = a.api.get("/api/v1/audit?action=refer", Some(&supervisor)).await;
    let entries = audit.body["entries"].as_array().cloned().unwrap_or_default();
    assert!(entries.iter().any(|e| e["user"] == "clerk1" && e["action"] == "refer"), "{}", audit.text);
    let csv = a.api.get("/api/v1/reports/referrals.csv", Some(&supervisor)).await;
    assert!(csv.text.contains("out,town-b,青川区西岭乡便民服务中心,需属地办理,1"), "{}", csv.text);
    assert_eq!(a.api.ticket(t).await.body["referral"]["number"], own["number"]);
    assert_eq!(b.api.ticket(target).await.body["referral"]["hall"], "town-a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_at_town_a_refers_the_visitor_to_town_b() {
    let Some(nats) = Nats::start_or_skip("a_clerk_at_town_a_refers_the_visitor_to_town_b") else { return };
    let dir = district_dir(&nats, 30);
    let a = start_hall(&dir, "town-a", None).await;
    let b = start_hall(&dir, "town-b", None).await;
    let client = async_nats::connect(nats.url()).await.expect("connect to NATS");
    answering(&client, "town-a").await;
    answering(&client, "town-b").await;

    // A visitor at town-a's window 1, served.
    let taken = a.api.issue("ZX-0001").await;
    let (t, t_key) = (taken["id"].as_str().expect("an id"), taken["key"].as_str().expect("a key"));
    let clerk = a.api.login("clerk1").await;
    a.api.window_ok(&clerk, "1", "open", None).await;
    assert_eq!(a.api.call_next(&clerk, "1").await["id"], t);
    refusals(&a, &b, &client, &clerk).await;
    let b_issued = issued(&b).await;

    // town-b stopped: no answer, and town-a's ticket is still at the window.
    let (b_data, _) = b.stop().await;
    let ask = json!({ "to_hall": "town-b", "reason": "需属地办理", "note": "户籍在西岭乡" });
    let down = a.api.post("/api/v1/windows/1/refer", Some(&clerk), Some(ask.clone())).await;
    down.assert_error(503, "hall_unreachable");
    assert!(down.body["error"]["message"].as_str().is_some_and(|m| m.contains("该中心暂时无法连接")), "{}", down.text);
    let still = a.api.ticket(t).await.body;
    assert_eq!((still["status"].as_str(), still["window"].as_str()), (Some("called"), Some("1")), "{still}");

    // town-b back: the same referral makes one ticket there, remote, with its origin.
    let b = start_hall(&dir, "town-b", Some(b_data)).await;
    answering(&client, "town-b").await;
    let sent = a.api.post("/api/v1/windows/1/refer", Some(&clerk), Some(ask.clone())).await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let (target, own) = taken_in_at_b(&b, &sent.body).await;
    assert_eq!(issued(&b).await, b_issued + 1);
    // A repeat of the same referral (the origin's retry) gets the same ticket, not another.
    let (status, again) = raw(&client, "town-b", {
        let mut r = refer_request("town-a", t, "ZX-0001");
        r["body"]["reason"] = json!("需属地办理");
        r["body"]["note"] = json!("户籍在西岭乡");
        r["body"]["number"] = sent.body["number"].clone();
        r["body"]["from_name"] = json!("青川区东河镇便民服务中心");
        r
    })
    .await
    .expect("an answer");
    assert_eq!((status, again["id"].as_str()), (200, Some(target.as_str())), "{again}");
    assert_eq!(issued(&b).await, b_issued + 1, "a repeat made a second ticket");

    // town-a: the ticket finished as referred; the visitor's read names the new number and,
    // with their own key, the link with the new ticket's key.
    let target_key = again["key"].as_str().expect("the visitor's key at town-b");
    told_at_a(&a, (t, t_key), (&target, target_key), &own).await;
    a.api.post("/api/v1/windows/1/refer", Some(&clerk), Some(ask)).await.assert_error(409, "no_ticket");

    // The visitor checks in at town-b's kiosk; its clerk calls them and sees the origin.
    let checked = b.api.post(&format!("/api/v1/tickets/{target}/check-in"), Some(KIOSK), None).await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    let b_clerk = b.api.login("clerk1").await;
    b.api.window_ok(&b_clerk, "1", "open", None).await;
    let called = b.api.call_next(&b_clerk, "1").await;
    assert_eq!(
        (called["id"].as_str(), called["referral"]["hall_name"].as_str()),
        (Some(target.as_str()), Some("青川区东河镇便民服务中心")),
        "{called}"
    );

    // Both halls' figures and town-a's audit show it, also after a restart of both.
    let (a, b) = (restart(&dir, "town-a", a).await, restart(&dir, "town-b", b).await);
    seen_after_restarts(&a, &b, t, &target, &own).await;
    a.stop().await;
    b.stop().await;
}

/// The halls' `[district] public_url` set to the district this test started.
fn point_halls_at(dir: &TempDir, district: &str) {
    for hall in ["town-a", "town-b"] {
        let path = dir.path().join("halls").join(hall).join("hall.toml");
        let text = std::fs::read_to_string(&path).expect("hall.toml");
        std::fs::write(
            &path,
            text.replace("public_url = \"http://127.0.0.1:8090\"", &format!("public_url = {district:?}")),
        )
        .expect("write hall.toml");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clerk_refers_on_the_console_and_the_visitor_follows_the_new_number() {
    let test = "the_clerk_refers_on_the_console_and_the_visitor_follows_the_new_number";
    let Some(nats) = Nats::start_or_skip(test) else { return };
    let Some(br) = crate::browser_support::launch(test, 1280, 800).await else { return };
    let dir = district_dir(&nats, 30);
    let data = tempfile::tempdir().expect("a temp dir");
    let district = crate::district_view::District::start(&dir, &data).await;
    point_halls_at(&dir, &district.api.base);
    let (a, b) = (start_hall(&dir, "town-a", None).await, start_hall(&dir, "town-b", None).await);
    let client = async_nats::connect(nats.url()).await.expect("connect to NATS");
    answering(&client, "town-b").await;
    let taken = a.api.issue("ZX-0001").await;
    let (id, key, number) = (
        taken["id"].as_str().unwrap_or(""),
        taken["key"].as_str().unwrap_or(""),
        taken["number"].as_str().unwrap_or(""),
    );
    let (base_a, base_b) = (format!("http://{}", a.addr), format!("http://{}", b.addr));

    // town-a's clerk serves the visitor and refers them in the 转他中心 dialog.
    br.open_clerk_window(&base_a, "clerk1", PASSWORD, "1").await;
    br.click("[data-action=\"next\"]").await;
    br.until_clerk_number(number).await;
    br.click("[data-action=\"serve\"]").await;
    br.until("serving", "return document.querySelector('#ticket-panel').dataset.state === 'serving' && !document.querySelector('[data-action=\"refer\"]').disabled;").await;
    br.click("[data-action=\"refer\"]").await;
    br.until("the hall list", "return !!document.querySelector('#refer-peers [data-peer=\"town-b\"]');").await;
    assert_eq!(
        br.eval("return document.querySelector('#refer-confirm').disabled;").await,
        json!(true),
        "nothing picked"
    );
    br.click("#refer-peers [data-peer=\"town-b\"]").await;
    br.click("#refer-reasons [data-reason=\"需属地办理\"]").await;
    br.type_into("#refer-note", "户籍在西岭乡，已带身份证").await;
    br.screenshot("referral-dialog").await;
    br.click("#refer-confirm").await;
    br.until("the new number", "return !document.querySelector('#refer-done').hidden;").await;
    let referral = a.api.ticket(id).await.body["referral"].clone();
    let target = referral["ticket"].as_str().expect("the target's id").to_string();
    let there = b.api.ticket(&target).await.body;
    assert_eq!(
        br.text("#refer-done-number").await,
        there["number"].as_str().expect("town-b's number"),
        "town-b's own number"
    );
    br.screenshot("referral-done").await;
    counted_at_the_district(&district.api, &a, &b).await;
    br.click("#refer-ok").await;
    br.until("the idle window", "return document.querySelector('#ticket-panel').dataset.state === 'open';").await;

    // The visitor's phone at town-a, then the link to the new number at the district.
    let page = format!("{base_a}/t/{id}?k={key}");
    followed_on_the_phone(&br, &page, &district.api.base, &target, there["number"].as_str().unwrap_or("?")).await;
    // The same read at the district (the visitor followed their first number there): the
    // key goes through to town-a, which gives the new ticket's key with the link.
    answering(&client, "town-a").await;
    let at_district = district.api.get(&format!("/api/v1/halls/town-a/tickets/{id}?k={key}"), None).await;
    let link = at_district.body["referral"]["status_url"].as_str().unwrap_or_default().to_string();
    assert!(link.contains(&format!("/t/{target}?hall=town-b&k=")), "{}", at_district.text);
    let bare = district.api.get(&format!("/api/v1/halls/town-a/tickets/{id}"), None).await;
    assert!(!bare.body["referral"]["status_url"].as_str().unwrap_or("&k=").contains("&k="), "{}", bare.text);

    // Checked in at town-b's kiosk, called at its window 1: the console says from where.
    let checked = b.api.post(&format!("/api/v1/tickets/{target}/check-in"), Some(KIOSK), None).await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    br.open_clerk_window(&base_b, "clerk1", PASSWORD, "1").await;
    br.click("[data-action=\"next\"]").await;
    br.until_clerk_number(there["number"].as_str().unwrap_or("?")).await;
    br.until("the origin", "return !document.querySelector('#ticket-referral').hidden;").await;
    let origin = br.text("#ticket-referral").await;
    assert!(
        origin.contains("由 青川区东河镇便民服务中心 转来") && origin.contains("需属地办理") && origin.contains(number),
        "{origin}"
    );
    br.screenshot("referral-taken").await;
    br.close().await;
    district.stop().await;
    a.stop().await;
    b.stop().await;
}

/// The visitor's phone at town-a (`page`, the status page with its key): where to go, the
/// new number, and the link to follow it at the district, which asks them to check in.
async fn followed_on_the_phone(
    br: &crate::browser_support::Browser,
    page: &str,
    district: &str,
    target: &str,
    number: &str,
) {
    br.goto(page).await;
    br.until("the referral card", "return !document.querySelector('#referral').hidden;").await;
    let told = br.text("#referral").await;
    for words in ["青川区西岭乡便民服务中心", number, "签到"] {
        assert!(told.contains(words), "the status page should say {words:?}: {told}");
    }
    let href = br.eval("return document.querySelector('#referral-link').href;").await;
    let href = href.as_str().expect("a link").to_string();
    assert!(href.starts_with(&format!("{}/t/{target}?hall=town-b&k=", district)), "{href}");
    br.screenshot("referral-status").await;
    // The link: the new ticket at the district, asking the visitor to check in.
    br.goto(&href).await;
    br.until("the check-in card", "var q = document.querySelector('#checkin-qr'); return !document.querySelector('#checkin').hidden && q.complete && q.naturalWidth > 0;").await;
    br.screenshot("referral-status-district").await;
}

/// The district's figures of the day count the referral at both ends, as each hall's own
/// `/api/v1/stats` does, and so does its CSV.
async fn counted_at_the_district(district: &Api, a: &Daemon, b: &Daemon) {
    let token = crate::district_view::district_login(district).await;
    let hall_of = |body: &Value, id: &str| {
        body["halls"].as_array().and_then(|h| h.iter().find(|h| h["id"] == id).cloned()).unwrap_or(Value::Null)
    };
    let seen = guard("the district counts the referral", async {
        loop {
            let r = district.get("/api/v1/district/stats", Some(&token)).await;
            assert_eq!(r.status, 200, "{}", r.text);
            if hall_of(&r.body, "town-b")["referrals"]["received"] == 1
                && hall_of(&r.body, "town-a")["referrals"]["sent"] == 1
            {
                return r.body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    for (id, hall) in [("town-a", a), ("town-b", b)] {
        let mut own = referrals(hall).await;
        let (sent, received) = (id == "town-a", id == "town-b");
        own["sent"] = json!(u64::from(sent));
        own["received"] = json!(u64::from(received));
        assert_eq!(hall_of(&seen, id)["referrals"], own, "{id}'s own figures");
    }
    assert_eq!(seen["referrals"], json!({ "sent": 1, "received": 1 }), "{seen}");
    let csv = district.get("/api/v1/district/stats.csv", Some(&token)).await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    let mut r = csv::Reader::from_reader(csv.text.trim_start_matches('\u{feff}').as_bytes());
    let head: Vec<String> = r.headers().expect("a header").iter().map(str::to_string).collect();
    let cols = ["转出他中心", "他中心转入"].map(|c| head.iter().position(|h| h == c).expect("the column"));
    let rows: Vec<Vec<String>> =
        r.records().map(|rec| rec.expect("a row").iter().map(str::to_string).collect()).collect();
    let counts: Vec<(String, String, String)> =
        rows.iter().map(|row| (row[0].clone(), row[cols[0]].clone(), row[cols[1]].clone())).collect();
    let want = |id: &str, s: &str, r: &str| (id.to_string(), s.to_string(), r.to_string());
    assert_eq!(
        counts,
        vec![want("town-a", "1", "0"), want("town-b", "0", "1"), want("全部", "1", "1")],
        "{}",
        csv.text
    );
}
