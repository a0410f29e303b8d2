//! Online services for any hall (issue 18): a visitor books a slot and takes a number at
//! the district's address; the hall decides over NATS request/reply
//! (`hallq.hall.<id>.cmd`). Real parts: a `nats-server -js`, the example district's two
//! townships, the district in this process. The oracle is always the hall's own API
//! (`/api/v1/appointments/{code}`, its slots, `/api/v1/tickets/{id}`, `/api/v1/hall`),
//! never the district's echo of it.

use std::time::Duration;

use hallq::district::cmd::{cmd_subject, STATUS_HEADER};
use hallq::district::{DistrictError, DistrictOptions};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::district_view::{district_dir, start_hall};
use crate::support::nats::Nats;
use crate::support::*;

/// The district in this process, on port 0.
pub(crate) struct District {
    pub api: Api,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), DistrictError>>>,
}

impl District {
    pub async fn start(dir: &TempDir, data: &TempDir) -> Self {
        Self::start_on(dir, data, None).await
    }

    /// The district reading `clock` (its rate limits refill by it).
    pub async fn start_on(dir: &TempDir, data: &TempDir, clock: Option<hallq::time::Clock>) -> Self {
        let config = hallq::config::load_district_dir(dir.path()).expect("the district loads");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let api = Api::new(listener.local_addr().expect("an address"));
        let (tx, rx) = oneshot::channel::<()>();
        let options = DistrictOptions { data_dir: data.path().to_path_buf(), clock };
        let task = tokio::spawn(hallq::district::run(listener, config, options, async move {
            let _ = rx.await;
        }));
        assert_eq!(api.get("/healthz", None).await.status, 200);
        Self { api, stop: Some(tx), task: Some(task) }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let task = self.task.take().expect("a running district");
        guard("the district's stop", task).await.expect("no panic").expect("the district stopped without error");
    }
}

impl Drop for District {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// A raw request on hall `hall`'s cmd subject: the status the hall answered with and its
/// body; `None` when nobody answered.
async fn raw(nats: &async_nats::Client, hall: &str, payload: Vec<u8>) -> Option<(u16, Value)> {
    let asked = async_nats::client::Request::new().payload(payload.into()).timeout(Some(Duration::from_secs(3)));
    let m = nats.send_request(cmd_subject(hall), asked).await.ok()?;
    let status = m.headers.as_ref().and_then(|h| h.get(STATUS_HEADER)).map(|v| v.as_str().parse().expect("a status"));
    Some((status.expect("a status header"), serde_json::from_slice(&m.payload).unwrap_or(Value::Null)))
}

/// Waits (bounded) until hall `hall` answers on its cmd subject.
pub(crate) async fn answering(nats: &async_nats::Client, hall: &str) {
    let services = serde_json::to_vec(&json!({ "v": 1, "op": "services", "client": "127.0.0.1" })).expect("json");
    for _ in 0..300 {
        if let Some((200, _)) = raw(nats, hall, services.clone()).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{hall} never answered on its cmd subject");
}

/// A POST through `api` with an Idempotency-Key.
async fn post_keyed(api: &Api, path: &str, key: &str, body: Value) -> Reply {
    api.send(api.http.post(api.url(path)).header("Idempotency-Key", key).json(&body), None).await
}

/// The free places of `slot` on `day`, as the hall itself counts them.
async fn free(hall: &Daemon, day: &str, slot: &str) -> u64 {
    let r = hall.api.get(&format!("/api/v1/appointments/slots?day={day}"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let slots = r.body["slots"].as_array().expect("slots");
    slots.iter().find(|s| s["slot"] == slot).and_then(|s| s["free"].as_u64()).expect("the slot")
}

/// Tickets the hall issued today, by its own figures.
async fn issued(hall: &Daemon, supervisor: &str) -> u64 {
    let r = hall.api.get("/api/v1/stats", Some(supervisor)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["total"]["issued"].as_u64().expect("issued")
}

/// The day after the hall's service day.
async fn tomorrow(hall: &Daemon) -> String {
    let day = hall.api.get("/api/v1/hall", None).await.body["day"].as_str().expect("the hall's day").to_string();
    let day = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").expect("a date");
    day.succ_opt().expect("a next day").to_string()
}

fn booking(day: &str, slot: &str, phone: &str) -> Value {
    json!({ "service": "ZX-0001", "day": day, "slot": slot, "phone": phone })
}

const A: &str = "/api/v1/halls/town-a";

/// Online take-a-number through the district: the hall's figures count it; its status
/// read at the district is the hall's, and the visitor's link points at the district.
async fn takes_a_number(d: &Api, a: &Daemon) {
    let supervisor = a.api.login("super").await;
    let issued_before = issued(a, &supervisor).await;
    let took = post_keyed(d, &format!("{A}/tickets"), "take-1", json!({ "service": "ZX-0001" })).await;
    assert_eq!(took.status, 201, "{}", took.text);
    let ticket = &took.body;
    let id = ticket["id"].as_str().expect("an id").to_string();
    let key = ticket["key"].as_str().expect("the visitor's key").to_string();
    assert_eq!(ticket["status_url"], format!("/t/{id}?hall=town-a&k={key}"));
    assert_eq!(issued(a, &supervisor).await, issued_before + 1, "the hall's figures do not count it");
    let own = a.api.ticket(&id).await;
    let seen = d.get(&format!("{A}/tickets/{id}"), None).await;
    assert_eq!((own.status, seen.status), (200, 200), "{}", seen.text);
    let mut own_ticket = own.body.clone();
    own_ticket["status_url"] = json!(format!("/t/{id}?hall=town-a"));
    assert_eq!(seen.body, own_ticket, "the district's read is not the hall's");
    assert_eq!(own.body["number"], ticket["number"]);
    // The same key from this address: the same ticket; from another address: its own.
    let repeat = post_keyed(d, &format!("{A}/tickets"), "take-1", json!({ "service": "ZX-0001" })).await;
    assert_eq!((repeat.status, repeat.body["id"].as_str()), (200, Some(id.as_str())), "{}", repeat.text);
    let other = Api { http: client_from(5), ..d.clone() };
    let theirs = post_keyed(&other, &format!("{A}/tickets"), "take-1", json!({ "service": "ZX-0001" })).await;
    assert_eq!(theirs.status, 201, "another visitor's key answered with this one's ticket: {}", theirs.text);
    assert_ne!(theirs.body["id"], json!(id));
    assert_eq!(issued(a, &supervisor).await, issued_before + 2);
    // A visitor online claims no priority; the visitor's key cancels at the district.
    let vip = json!({ "service": "ZX-0001", "priority": "elderly" });
    d.post(&format!("{A}/tickets"), None, Some(vip)).await.assert_error(400, "bad_json");
    let cancelled = d.post(&format!("{A}/tickets/{id}/cancel?k={key}"), None, None).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(a.api.ticket(&id).await.body["status"], "cancelled");
    d.post(&format!("{A}/tickets/{id}/cancel?k=00ff"), None, None).await.assert_error(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_books_and_takes_a_number_at_the_district_and_the_hall_decides() {
    let Some(nats) = Nats::start_or_skip("a_visitor_books_and_takes_a_number_at_the_district_and_the_hall_decides")
    else {
        return;
    };
    let dir = district_dir(&nats, 30);
    let a = start_hall(&dir, "town-a", None).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let district = District::start(&dir, &data).await;
    let raw_client = async_nats::connect(nats.url()).await.expect("connect to NATS");
    answering(&raw_client, "town-a").await;
    let d = &district.api;

    // Booking: the district's slots are the hall's; the booking is in the hall's log.
    let day = tomorrow(&a).await;
    let seen = d.get(&format!("{A}/appointments/slots?day={day}"), None).await;
    let own = a.api.get(&format!("/api/v1/appointments/slots?day={day}"), None).await;
    assert_eq!((seen.status, &seen.body), (200, &own.body), "{}", seen.text);
    let booked = post_keyed(d, &format!("{A}/appointments"), "k-one", booking(&day, "10:00", "13800138000")).await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    let code = booked.body["code"].as_str().expect("a code").to_string();
    let at_hall = a.api.get(&format!("/api/v1/appointments/{code}"), None).await;
    assert_eq!((at_hall.status, at_hall.body["status"].as_str()), (200, Some("booked")), "{}", at_hall.text);
    assert_eq!(free(&a, &day, "10:00").await, 3);
    // The same key again: the first answer, and no second booking.
    let again = post_keyed(d, &format!("{A}/appointments"), "k-one", booking(&day, "10:00", "13800138000")).await;
    assert_eq!((again.status, again.body["code"].as_str()), (200, Some(code.as_str())), "{}", again.text);
    assert_eq!(free(&a, &day, "10:00").await, 3, "the repeat booked again");

    takes_a_number(d, &a).await;

    // A hall the district does not have.
    d.get("/api/v1/halls/nowhere/services", None).await.assert_error(404, "unknown_hall");

    // The hall stops: "该中心暂时无法连接", and nothing is booked; after its restart the
    // visitor's retry with the same key books once.
    let (a_data, _) = a.stop().await;
    let lost = post_keyed(d, &format!("{A}/appointments"), "k-two", booking(&day, "10:30", "13900139000")).await;
    lost.assert_error(503, "hall_unreachable");
    assert!(lost.body["error"]["message"].as_str().is_some_and(|m| m.contains("该中心暂时无法连接")), "{}", lost.text);
    let a = start_hall(&dir, "town-a", Some(a_data)).await;
    answering(&raw_client, "town-a").await;
    assert_eq!((free(&a, &day, "10:30").await, free(&a, &day, "10:00").await), (4, 3), "a half-done booking");
    let retried = post_keyed(d, &format!("{A}/appointments"), "k-two", booking(&day, "10:30", "13900139000")).await;
    assert_eq!(retried.status, 201, "{}", retried.text);
    let twice = post_keyed(d, &format!("{A}/appointments"), "k-two", booking(&day, "10:30", "13900139000")).await;
    assert_eq!((twice.status, &twice.body["code"]), (200, &retried.body["code"]), "{}", twice.text);
    assert_eq!(free(&a, &day, "10:30").await, 3, "the retry booked twice");
    district.stop().await;
    a.stop().await;
}

/// A second daemon under town-a's id: its uplink finds the stream another hall's, and it
/// never takes a request from the queue group (its lobby is empty, town-a's not).
async fn an_impostor_answers_nothing(dir: &TempDir, a: &Daemon, client: &async_nats::Client) {
    let hall_op = serde_json::to_vec(&json!({ "v": 1, "op": "hall", "client": "127.0.0.1" })).expect("json");
    a.api.issue("ZX-0001").await;
    let impostor = start_hall(dir, "town-a", None).await;
    let foreign = "hallq_district_failures_total{reason=\"foreign\"}";
    let mut refused = false;
    for _ in 0..300 {
        refused = impostor.api.get("/metrics", Some(METRICS_TOKEN)).await.text.contains(foreign);
        if refused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "the impostor's uplink never refused the stream");
    let (own, theirs) = (a.api.waiting_in("A").await, impostor.api.waiting_in("A").await);
    assert_eq!((own, theirs), (1, 0));
    for _ in 0..8 {
        let (status, hall) = raw(client, "town-a", hall_op.clone()).await.expect("an answer");
        let waiting = hall["queues"].as_array().and_then(|q| q.iter().find(|q| q["id"] == "A")).map(|q| &q["waiting"]);
        assert_eq!((status, waiting), (200, Some(&json!(own))), "the impostor answered: {hall}");
    }
    impostor.stop().await;
}

/// The district, its clock stopped so that no limit refills: one address is limited
/// whichever hall it asks for, one hall whoever asks, and a body as at the hall.
async fn the_district_limits_addresses_and_halls(dir: &TempDir) {
    let data = tempfile::tempdir().expect("a temp dir");
    let now = hallq::core::model::Ts(chrono::Utc::now().timestamp_millis());
    let district = District::start_on(dir, &data, Some(std::sync::Arc::new(move || now))).await;
    let flood = Api { http: client_from(9), ..district.api.clone() };
    let mut codes = Vec::new();
    for _ in 0..62 {
        codes.push(flood.get("/api/v1/halls/nowhere/services", None).await.status);
    }
    assert_eq!((codes[59], codes[60], codes[61]), (404, 429, 429), "{codes:?}");
    for n in 20..24 {
        let visitor = Api { http: client_from(n), ..district.api.clone() };
        for _ in 0..50 {
            let r = visitor.get(&format!("{A}/services"), None).await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    }
    let one_more = Api { http: client_from(24), ..district.api.clone() };
    let refused = one_more.get(&format!("{A}/services"), None).await;
    refused.assert_error(429, "rate_limited");
    assert!(refused.text.contains("to this hall"), "{}", refused.text);
    let big = format!("{{\"service\":\"{}\"}}", "x".repeat(20 * 1024));
    district.api.post_raw(&format!("{A}/tickets"), None, big.into_bytes()).await.assert_error(413, "too_large");
    district.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cmd_subject_reaches_no_staff_route_and_survives_garbage() {
    let Some(nats) = Nats::start_or_skip("the_cmd_subject_reaches_no_staff_route_and_survives_garbage") else {
        return;
    };
    let dir = district_dir(&nats, 30);
    let a = start_hall(&dir, "town-a", None).await;
    let client = async_nats::connect(nats.url()).await.expect("connect to NATS");
    answering(&client, "town-a").await;
    let ask = |v: Value| serde_json::to_vec(&v).expect("json");
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        // A clerk's route is no operation, and no argument smuggles a path in.
        (ask(json!({ "v": 1, "op": "window_open", "arg": "1", "client": "127.0.0.1" })), 400, "bad_cmd"),
        (
            ask(json!({ "v": 1, "op": "booking", "arg": "X/../../windows/1/open", "client": "127.0.0.1" })),
            400,
            "bad_arg",
        ),
        (
            ask(json!({ "v": 1, "op": "ticket", "arg": "..%2Fwindows%2F1%2Fopen", "client": "127.0.0.1" })),
            400,
            "bad_arg",
        ),
        (ask(json!({ "v": 1, "op": "slots", "arg": "2026-01-01&x=1", "client": "127.0.0.1" })), 400, "bad_arg"),
        (ask(json!({ "v": 1, "op": "services", "path": "/api/v1/admin", "client": "127.0.0.1" })), 400, "bad_cmd"),
        (ask(json!({ "v": 2, "op": "services", "client": "127.0.0.1" })), 400, "bad_cmd"),
        (ask(json!({ "v": 1, "op": "cancel_ticket", "arg": "abc", "k": "zz", "client": "127.0.0.1" })), 400, "bad_key"),
        (vec![b'x'; 40 * 1024], 413, "too_large"),
        (b"\xff\xfe{{{ not json".to_vec(), 400, "bad_cmd"),
        (b"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]".to_vec(), 400, "too_deep"),
    ];
    for (payload, status, code) in cases {
        let shown = String::from_utf8_lossy(&payload[..payload.len().min(80)]).to_string();
        let (got, body) = raw(&client, "town-a", payload).await.unwrap_or_else(|| panic!("no answer to {shown}"));
        assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)), "{shown}: {body}");
    }
    // Garbage with nowhere to answer is dropped.
    client.publish(cmd_subject("town-a"), "nonsense".into()).await.expect("publish");
    client.flush().await.expect("flush");
    // No window was opened by any of it, and the hall keeps serving, its own routes and
    // the cmd subject alike.
    let windows = a.api.get("/api/v1/hall", None).await.body["windows"].clone();
    assert!(windows.as_array().expect("windows").iter().all(|w| w["state"] == "closed"), "{windows}");
    let (status, catalogue) = raw(&client, "town-a", ask(json!({ "v": 1, "op": "services", "client": "127.0.0.1" })))
        .await
        .expect("an answer");
    assert_eq!((status, &catalogue), (200, &a.api.catalog().await));

    an_impostor_answers_nothing(&dir, &a, &client).await;

    the_district_limits_addresses_and_halls(&dir).await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_books_and_takes_a_number_for_town_a_on_the_districts_pages() {
    let test = "a_phone_books_and_takes_a_number_for_town_a_on_the_districts_pages";
    let Some(nats) = Nats::start_or_skip(test) else { return };
    let dir = district_dir(&nats, 30);
    let a = start_hall(&dir, "town-a", None).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let district = District::start(&dir, &data).await;
    answering(&async_nats::connect(nats.url()).await.expect("connect to NATS"), "town-a").await;
    let Some(b) = crate::browser_support::launch_exact(test, 375, 812, true).await else { return };
    let day = tomorrow(&a).await;

    // The hall's own booking page, served by the district, books at town-a.
    b.goto(&district.api.url("/display/book?hall=town-a")).await;
    b.until("the hall's services", "return !!document.querySelector('#services [data-code=\"ZX-0001\"]');").await;
    assert_eq!(b.text("#hall-name").await, "青川区东河镇便民服务中心");
    b.click("#services [data-code=\"ZX-0001\"]").await;
    let day_js = format!("var d = document.querySelector('#days [data-day=\"{day}\"]'); return !!d && !d.disabled;");
    b.until("tomorrow open", &day_js).await;
    b.click(&format!("#days [data-day=\"{day}\"]")).await;
    b.until(
        "the 10:00 slot",
        "var e = document.querySelector('#slots [data-slot=\"10:00\"]'); return !!e && !e.disabled;",
    )
    .await;
    b.click("#slots [data-slot=\"10:00\"]").await;
    b.type_into("#phone", "13800138000").await;
    b.click("#submit").await;
    b.until("the booking code", "return document.querySelector('#code').getAttribute('data-code').length === 8;").await;
    let code = b.eval("return document.querySelector('#code').getAttribute('data-code');").await;
    let code = code.as_str().expect("a code").to_string();
    let own = a.api.get(&format!("/api/v1/appointments/{code}"), None).await;
    assert_eq!((own.status, own.body["status"].as_str()), (200, Some("booked")), "{}", own.text);
    assert_eq!(own.body["slot"], "10:00");
    assert_eq!(b.eval("return location.search;").await, json!(format!("?code={code}&hall=town-a")));
    let shot = b.screenshot("district-book-town-a").await;
    assert!(shot.exists());

    // Online take-a-number: the page opens the ticket's status page at the district.
    b.goto(&district.api.url("/display/take?hall=town-a")).await;
    b.until("the hall's services", "return !!document.querySelector('#services [data-code=\"ZX-0002\"]');").await;
    b.click("#services [data-code=\"ZX-0002\"]").await;
    b.screenshot("district-take-town-a").await;
    b.click("#take").await;
    let shown = "var n = document.querySelector('#number'); return location.pathname.indexOf('/t/') === 0 \
                 && !document.querySelector('#ticket').hidden && n.textContent.trim().length > 0;";
    b.until("the ticket's status page", shown).await;
    let id = b.eval("return decodeURIComponent(location.pathname.slice(3));").await;
    let own = a.api.ticket(id.as_str().expect("an id")).await;
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(b.text("#number").await, own.body["number"].as_str().expect("a number"));
    assert!(b.eval("return location.search;").await.as_str().is_some_and(|s| s.starts_with("?hall=town-a&k=")));
    // Not checked in yet: the page says to check in at a kiosk and shows the code its
    // scanner reads, drawn by the district for its own address.
    assert_eq!(own.body["check_in"], json!(true), "{}", own.text);
    let qr = "var q = document.querySelector('#checkin-qr'); return !document.querySelector('#checkin').hidden               && q.complete && q.naturalWidth > 0 && q.getAttribute('src');";
    let src = b.until("the check-in card with its code", qr).await;
    let src = src.as_str().expect("the code's address").to_string();
    assert!(
        src.starts_with(&format!("/api/v1/halls/town-a/tickets/{}/qr.svg?k=", id.as_str().unwrap_or_default())),
        "{src}"
    );
    let svg = district.api.get(&src, None).await;
    assert!(svg.status == 200 && svg.text.starts_with("<?xml") && svg.text.contains("<svg"), "{}", svg.text);
    assert!(b.text("#checkin-text").await.contains("签到"));
    b.screenshot("district-take-status-town-a").await;
    // The visitor checks in at the hall's kiosk (its scanner reads the ticket's id from the
    // code): the phone, still at the district, stops asking for it.
    let path = format!("/api/v1/tickets/{}/check-in", id.as_str().unwrap_or_default());
    let checked = a.api.post(&path, Some(crate::support::KIOSK), None).await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    b.until("the check-in card gone", "return document.querySelector('#checkin').hidden;").await;
    assert_eq!(a.api.ticket(id.as_str().unwrap_or_default()).await.body["check_in"], json!(false));
    b.close().await;
    district.stop().await;
    a.stop().await;
}
