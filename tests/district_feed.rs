//! The district's day in a file and its wall screens' feed, against two hall daemons and
//! the district over a real `nats-server -js`: `stats.csv` holds each hall's own
//! `/api/v1/stats` (and its day report's service level); `/ws/district` brings a ticket
//! issued at a hall and a stopped hall going offline; strangers, a flood of screens from
//! one address and a flood of sign-ins stay within their bounds while a legitimate screen
//! goes on being served.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use futures_util::{SinkExt, StreamExt};
use hallq::district::{DistrictError, DistrictOptions};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::net::TcpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::district_view::{agrees, district_dir, district_login, issue, start_hall};
use crate::support::nats::Nats;
use crate::support::*;

/// The district in this process, on port 0.
pub(crate) struct District {
    pub(crate) api: Api,
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), DistrictError>>>,
}

impl District {
    pub(crate) async fn start(dir: &TempDir, data: &TempDir) -> Self {
        let config = hallq::config::load_district_dir(dir.path()).expect("the district loads");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("an address");
        let (tx, rx) = oneshot::channel::<()>();
        let options = DistrictOptions { data_dir: data.path().to_path_buf(), clock: None };
        let task = tokio::spawn(hallq::district::run(listener, config, options, async move {
            let _ = rx.await;
        }));
        let api = Api::new(addr);
        assert_eq!(api.get("/healthz", None).await.status, 200);
        Self { api, addr, stop: Some(tx), task: Some(task) }
    }

    pub(crate) async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let task = self.task.take().expect("a running district");
        guard("the district's stop", task).await.expect("no panic").expect("a clean stop");
    }
}

impl Drop for District {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

pub(crate) type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket to `/ws/district` from `127.0.0.{from}`: the socket, or the HTTP status
/// of the refused upgrade.
pub(crate) async fn screen(addr: SocketAddr, from: u8) -> Result<Ws, u16> {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, from)), 0)).expect("bind a loopback address");
    let stream = guard("a TCP connection", socket.connect(addr)).await.expect("connect");
    let url = format!("ws://{addr}/ws/district");
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    match guard("a WebSocket upgrade", tokio_tungstenite::client_async(url, stream)).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("the upgrade failed otherwise: {e}"),
    }
}

/// A signed-in screen's next district message (pings skipped); `None` once it closed.
async fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        match guard("the next district message", ws.next()).await {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(t.as_str()).expect("JSON")),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(frame))) => {
                return Some(json!({ "closed": frame.map(|f| u16::from(f.code)) }));
            }
            _ => return None,
        }
    }
}

/// Reads `ws` until `pred` holds for `hall`'s entry; bounded by `HANG_GUARD` in all.
pub(crate) async fn until_hall(ws: &mut Ws, hall: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let found = tokio::time::timeout(HANG_GUARD, async {
        loop {
            let msg = next(ws).await.expect("the feed went on");
            let halls = msg["halls"].as_array().unwrap_or_else(|| panic!("not a district message: {msg}"));
            let mine = halls.iter().find(|h| h["id"] == hall).expect("the hall in the message").clone();
            if pred(&mine) {
                return mine;
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("the feed never showed {hall} as wanted within {HANG_GUARD:?}"))
}

pub(crate) async fn sign_in(ws: &mut Ws, token: &str) {
    ws.send(Message::text(json!({ "token": token }).to_string())).await.expect("send the token");
}

/// The CSV's rows as maps from header to cell; checks the byte-order mark.
fn csv_rows(bytes: &[u8]) -> Vec<std::collections::HashMap<String, String>> {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a CSV for Excel starts with the UTF-8 byte-order mark");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let head: Vec<String> = r.headers().expect("a header").iter().map(str::to_string).collect();
    r.records().map(|rec| head.iter().cloned().zip(rec.expect("a row").iter().map(str::to_string)).collect()).collect()
}

fn pct(share: &Value) -> String {
    share.as_f64().map(|s| format!("{:.1}", s * 100.0)).unwrap_or_default()
}

/// Each hall's row holds the hall's own `/api/v1/stats` of the day and its day report's
/// service level; the total row their sums.
async fn csv_agrees(district: &District, token: &str, halls: &[(&str, &Daemon, &str)]) {
    let own = halls[0].1.api.get("/api/v1/stats", Some(halls[0].2)).await;
    let day = own.body["day"].as_str().expect("the hall's day").to_string();
    let reply = district.api.http.get(district.api.url(&format!("/api/v1/district/stats.csv?day={day}")));
    let reply = reply.bearer_auth(token).send().await.expect("the CSV");
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["content-type"], "text/csv; charset=utf-8");
    let rows = csv_rows(&reply.bytes().await.expect("the CSV's bytes"));
    assert_eq!(rows.len(), halls.len() + 1, "a row per hall and the total: {rows:?}");
    let mut issued = 0;
    for &(id, hall, hall_token) in halls {
        let stats = hall.api.get(&format!("/api/v1/stats?day={day}"), Some(hall_token)).await.body["total"].clone();
        let report = hall.api.get(&format!("/api/v1/reports/day?date={day}"), Some(hall_token)).await;
        let row = rows.iter().find(|r| r["中心编号"] == id).unwrap_or_else(|| panic!("no row of {id}: {rows:?}"));
        assert_eq!(row["日期"], day);
        for (col, key) in
            [("取号", "issued"), ("叫号", "called"), ("办理", "served"), ("过号", "no_show"), ("评价数", "rated")]
        {
            assert_eq!(row[col], stats[key].to_string(), "{id}'s {col}: {row:?} against {stats}");
        }
        assert_eq!(row["好评率%"], pct(&stats["ratings"]["good_rate"]), "{id}");
        assert_eq!(
            row["服务水平达标率%"],
            pct(&report.body["total"]["service_level"]["share"]),
            "{id}: {}",
            report.text
        );
        // Minutes to one decimal against whole seconds rounded up: within 3.5 s.
        let wait_min: f64 = row["平均等候分钟"].parse().expect("a mean wait, a ticket having been called");
        let wait_s = stats["mean_wait_s"].as_f64().expect("a mean wait");
        assert!((wait_min * 60.0 - wait_s).abs() <= 3.5, "{id}: {wait_min} min against {wait_s} s");
        issued += stats["issued"].as_u64().expect("issued");
    }
    let total = rows.last().expect("the total row");
    assert_eq!((total["中心编号"].as_str(), total["取号"].clone()), ("全部", issued.to_string()));
    assert_eq!(total["日期"], day);
    district.api.get("/api/v1/district/stats.csv", None).await.assert_error(401, "unauthorized");
    district.api.get("/api/v1/district/stats.csv?day=today", Some(token)).await.assert_error(400, "bad_day");
}

/// A wrong token is answered with an error and closed as unauthorized; `silent`, opened
/// before and never signed in, is closed once `AUTH_WAIT` is past.
async fn strangers_are_closed(district: &District, silent: &mut Ws) {
    let mut stranger = screen(district.addr, 5).await.expect("the upgrade");
    sign_in(&mut stranger, "not-a-session").await;
    let said = next(&mut stranger).await.expect("an answer");
    assert_eq!(said["error"]["code"], "unauthorized", "{said}");
    assert_eq!(next(&mut stranger).await.expect("a close")["closed"], u16::from(CloseCode::Library(4401)));
    let mut silent_end = Vec::new();
    while let Some(m) = next(silent).await {
        let closed = m.get("closed").is_some();
        silent_end.push(m);
        if closed {
            break;
        }
    }
    assert_eq!(silent_end.last().map(|m| m["closed"].clone()), Some(json!(4401)), "a silent screen: {silent_end:?}");
}

/// A flood of successful sign-ins of one supervisor from a few addresses: the oldest
/// sessions end, the newest work, at most `SESSIONS_PER_USER_MAX` held.
async fn sign_ins_past_the_bound(district: &District, token: String) {
    let per_user = hallq::district::sessions::SESSIONS_PER_USER_MAX;
    let mut tokens = vec![token];
    for n in 0..per_user + 3 {
        let from = Api { http: client_from(10 + (n % 4) as u8), ..district.api.clone() };
        tokens.push(district_login(&from).await);
    }
    let live: Vec<u16> = {
        let mut v = Vec::new();
        for t in &tokens {
            v.push(district.api.get("/api/v1/district", Some(t)).await.status);
        }
        v
    };
    let ended = tokens.len() - per_user;
    assert!(live[..ended].iter().all(|s| *s == 401), "the oldest sessions ended: {live:?}");
    assert!(live[ended..].iter().all(|s| *s == 200), "the newest work: {live:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_and_the_wall_feed_follow_the_halls_and_strangers_and_floods_are_bounded() {
    let test = "the_csv_and_the_wall_feed_follow_the_halls_and_strangers_and_floods_are_bounded";
    let Some(nats) = Nats::start_or_skip(test) else { return };
    let dir = district_dir(&nats, 6);
    let (a, b) = (start_hall(&dir, "town-a", None).await, start_hall(&dir, "town-b", None).await);
    let (sa, sb) = (a.api.login("super").await, b.api.login("super").await);
    issue(&a, "ZX-0001", 3).await;
    issue(&b, "ZX-0002", 2).await;
    let clerk = a.api.login("clerk1").await;
    a.api.window_ok(&clerk, "1", "open", None).await;
    a.api.call_next(&clerk, "1").await;
    let clerk_b = b.api.login("clerk1").await;
    b.api.window_ok(&clerk_b, "1", "open", None).await;
    b.api.call_next(&clerk_b, "1").await;
    let data = tempfile::tempdir().expect("a temp dir");
    let district = District::start(&dir, &data).await;
    // A screen that never signs in, opened first: it is closed once AUTH_WAIT is past.
    let mut silent = screen(district.addr, 4).await.expect("the upgrade");
    let token = district_login(&district.api).await;
    agrees(&district.api, &token, &[("town-a", &a, &sa), ("town-b", &b, &sb)]).await;
    csv_agrees(&district, &token, &[("town-a", &a, &sa), ("town-b", &b, &sb)]).await;

    // A signed-in screen gets the district (as read within the second), then a ticket
    // issued at town-a.
    let mut wall = screen(district.addr, 2).await.expect("the upgrade");
    sign_in(&mut wall, &token).await;
    until_hall(&mut wall, "town-a", |h| h["online"] == true && h["tickets_today"] == 3).await;
    a.api.issue("ZX-0001").await;
    until_hall(&mut wall, "town-a", |h| h["tickets_today"] == 4).await;

    strangers_are_closed(&district, &mut silent).await;

    // A flood of screens from one address: SCREENS_PER_ADDRESS_MAX, then refused; the
    // wall screen from another address is still served.
    let per_address = hallq::district::feed::SCREENS_PER_ADDRESS_MAX;
    let mut flood = Vec::new();
    for _ in 0..per_address {
        flood.push(screen(district.addr, 3).await.expect("within the bound"));
    }
    for _ in 0..3 {
        assert_eq!(screen(district.addr, 3).await.err(), Some(503), "beyond the bound");
    }
    b.api.issue("ZX-0002").await;
    until_hall(&mut wall, "town-b", |h| h["tickets_today"] == 3).await;
    drop(flood);

    // A stopped hall turns offline in the feed (online_seconds = 6).
    b.stop().await;
    until_hall(&mut wall, "town-b", |h| h["online"] == false).await;

    sign_ins_past_the_bound(&district, token).await;
    district.stop().await;
    a.stop().await;
}

/// The session store's bound in all, with more users than it holds: the oldest end, the
/// newest work, and it never holds more than `SESSIONS_MAX`.
#[test]
fn a_flood_of_sign_ins_by_many_users_keeps_the_sessions_bounded() {
    use hallq::district::sessions::{Sessions, SESSIONS_MAX};
    let sessions = Sessions::new(3600);
    let users: Vec<_> = (0..SESSIONS_MAX + 50)
        .map(|n| hallq::core::model::UserName::parse(&format!("u{n}")).expect("a name"))
        .collect();
    let tokens: Vec<String> = users.iter().map(|u| sessions.create(u, 1)).collect();
    assert_eq!(sessions.len(), SESSIONS_MAX);
    assert_eq!(sessions.user(&tokens[0], 2), None, "the oldest ended");
    assert_eq!(sessions.user(&tokens[49], 2), None);
    assert_eq!(sessions.user(&tokens[50], 2).as_ref(), Some(&users[50]));
    assert_eq!(sessions.user(tokens.last().expect("a token"), 2).as_ref(), users.last());
}
