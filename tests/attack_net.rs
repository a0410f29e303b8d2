//! Attacks from the hall's network on the released binary (issue 14, High 1 and 3): four
//! WebSocket clients that send pings as fast as they can and never read, and one device
//! that opens thousands of connections with half-sent request heads; and, in process,
//! the header and body timeouts. Every attack is bounded in time, and stops early once
//! what it tests is broken (so that a daemon without the bounds is not run out of
//! memory here).

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Daemon, Process, KIOSK};

/// One attack at a time: each measures the daemon (its memory, the time a kiosk waits),
/// and two at once would load the same two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long the ping flood lasts, and from how many connections.
const FLOOD: Duration = Duration::from_secs(10);
const FLOODERS: usize = 4;
/// The daemon's memory must stay under this through the flood.
const RSS_MAX_BYTES: u64 = 128 * 1024 * 1024;
/// Connections the device opens with half a request head each.
const HALF_OPEN: usize = 5_000;
/// The daemon's open-file limit during that attack: below the attack's size, as the
/// hall's daemon was (20,000 connections against its limit).
const DAEMON_FILES: u64 = 4_096;
/// How soon a kiosk must have its ticket, and `/healthz` its answer, under the attack.
const ANSWER_MAX: Duration = Duration::from_secs(1);

/// The daemon's resident memory, from /proc.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next());
    kb.and_then(|k| k.parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// The sockets the daemon holds open, from /proc.
fn sockets_open(pid: u32) -> usize {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return 0 };
    dir.filter_map(Result::ok)
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().starts_with("socket:")))
        .count()
}

/// Raises this process's open-file limit to its hard limit and returns it.
fn raise_own_files() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write one rlimit struct, which we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0, "getrlimit");
        lim.rlim_cur = lim.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0, "setrlimit");
    }
    lim.rlim_cur
}

/// Sets the open-file limit of the running daemon (soft and hard).
fn limit_files(pid: u32, files: u64) {
    let lim = libc::rlimit { rlim_cur: files, rlim_max: files };
    let pid = libc::pid_t::try_from(pid).expect("a pid fits pid_t");
    // SAFETY: prlimit reads one rlimit struct, which we own, and changes our own child.
    let done = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &lim, std::ptr::null_mut()) };
    assert_eq!(done, 0, "prlimit on the daemon: {}", std::io::Error::last_os_error());
}

/// A raw WebSocket on `/ws/feed`, after its 101; nothing of the feed is read.
fn raw_websocket(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect_timeout(&addr, support::HANG_GUARD).expect("connect to the daemon");
    s.set_read_timeout(Some(support::HANG_GUARD)).expect("a read timeout");
    let upgrade = format!(
        "GET /ws/feed HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(upgrade.as_bytes()).expect("send the upgrade");
    // Byte by byte up to the end of the head, so that no frame of the feed is read.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).expect("the upgrade's answer");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "the feed did not upgrade: {head}");
    s
}

/// Ping frames as a client sends them (masked, with a zero mask), each with the largest
/// payload a control frame may carry: the largest pong each one asks for.
fn ping_frames(n: usize) -> Vec<u8> {
    let mut frame = vec![0x89, 0x80 | 125, 0, 0, 0, 0];
    frame.extend(std::iter::repeat_n(b'p', 125));
    frame.repeat(n)
}

/// Sends pings on `s` until the daemon cuts the connection off (returns how soon), or
/// `until`, or `stop`. Never reads.
fn flood(mut s: TcpStream, until: Instant, stop: &AtomicBool) -> Option<Duration> {
    let started = Instant::now();
    s.set_write_timeout(Some(Duration::from_millis(100))).expect("a write timeout");
    let burst = ping_frames(500);
    let mut at = 0;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        match s.write(&burst[at..]) {
            // Whole frames only: a partial write goes on where it stopped.
            Ok(n) if n > 0 => at = (at + n) % burst.len(),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Ok(_) | Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_flood_that_never_reads_is_cut_off_and_memory_stays_bounded() {
    let _one = ONE_AT_A_TIME.lock().await;
    let data = tempfile::tempdir().expect("a temp dir");
    let daemon = Process::spawn(data.path()).await;
    let (addr, pid) = (daemon.addr, daemon.pid);
    let before = rss_bytes(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let until = Instant::now() + FLOOD;
    let flooders: Vec<_> = (0..FLOODERS)
        .map(|_| {
            let (s, stop) = (raw_websocket(addr), stop.clone());
            std::thread::spawn(move || flood(s, until, &stop))
        })
        .collect();
    let mut peak = before;
    while flooders.iter().any(|f| !f.is_finished()) {
        peak = peak.max(rss_bytes(pid));
        if peak >= RSS_MAX_BYTES {
            // Broken already: stop before the daemon takes the machine's memory.
            stop.store(true, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cut: Vec<Option<Duration>> = flooders.into_iter().map(|f| f.join().expect("a flooder")).collect();
    peak = peak.max(rss_bytes(pid));
    let mib = |b: u64| b / (1024 * 1024);
    assert!(
        peak < RSS_MAX_BYTES,
        "the daemon's RSS reached {} MiB under the ping flood (from {} MiB; limit {} MiB)",
        mib(peak),
        mib(before),
        mib(RSS_MAX_BYTES)
    );
    for (i, c) in cut.iter().enumerate() {
        assert!(c.is_some(), "flooder {i} was still connected after {FLOOD:?} of pings: {cut:?}");
    }
    eprintln!("ping flood: RSS {} → {} MiB at most; cut off after {cut:?}", mib(before), mib(peak));
    // The daemon carries on: health, and a display's snapshot.
    let health = daemon.api.get("/healthz", None).await;
    assert_eq!(health.status, 200, "{}", health.text);
    let mut display = daemon.api.display(None).await;
    display.expect("snapshot").await;
}

/// Opens `n` connections to `addr`, each with half a kiosk's request head, and holds them.
/// Stops early at `until` (a daemon out of files leaves connections in the kernel's queue).
fn open_half(addr: SocketAddr, n: usize, until: Instant) -> Vec<TcpStream> {
    let half = format!("POST /api/v1/tickets HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer demo-ki");
    let mut held = Vec::with_capacity(n);
    while held.len() < n && Instant::now() < until {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else { continue };
        // A connection the daemon already closed may refuse the bytes; it still counts.
        let _ = s.write_all(half.as_bytes());
        held.push(s);
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_half_open_connections_from_one_address_leave_the_kiosk_served() {
    let _one = ONE_AT_A_TIME.lock().await;
    let own = raise_own_files();
    let wanted = HALF_OPEN as u64 + 512;
    assert!(
        own >= wanted,
        "this test opens {HALF_OPEN} connections: raise the hard open-file limit to {wanted} (ulimit -Hn)"
    );
    // The example hall as shipped, its per-address limits on.
    let data = tempfile::tempdir().expect("a temp dir");
    let config = support::config_dir(|hall| hall);
    let daemon = Process::spawn_with(data.path(), config, "127.0.0.1:0", "info,sled=warn", &[]).await;
    let (addr, pid) = (daemon.addr, daemon.pid);
    let service = daemon.api.item_in("A").await;
    limit_files(pid, DAEMON_FILES);
    let base = sockets_open(pid);

    let opened = Instant::now();
    let held =
        tokio::task::spawn_blocking(move || open_half(addr, HALF_OPEN, Instant::now() + Duration::from_secs(30)))
            .await
            .expect("the attack");
    // The daemon accepts and then closes what is over an address's cap: on a busy machine
    // the last of those may still be closing when the attack ends.
    let cap = hallq::http::conns::CONNECTIONS_PER_ADDRESS_MAX;
    let closed_by = Instant::now() + Duration::from_secs(5);
    let mut sockets = sockets_open(pid);
    while sockets > base + cap && Instant::now() < closed_by {
        tokio::time::sleep(Duration::from_millis(100)).await;
        sockets = sockets_open(pid);
    }
    eprintln!("{} half-open connections in {:?}; the daemon holds {sockets} sockets", held.len(), opened.elapsed());

    // A kiosk and a health check, each on a connection of its own, from the same address.
    let kiosk = reqwest::Client::builder()
        .timeout(support::HANG_GUARD)
        .pool_max_idle_per_host(0)
        .build()
        .expect("an HTTP client");
    for round in 0..3 {
        let started = Instant::now();
        let health = tokio::time::timeout(ANSWER_MAX, kiosk.get(daemon.api.url("/healthz")).send()).await;
        let health = health.unwrap_or_else(|_| panic!("/healthz did not answer within {ANSWER_MAX:?} (round {round})"));
        assert_eq!(health.expect("/healthz answers").status(), 200);
        let issue =
            kiosk.post(daemon.api.url("/api/v1/tickets")).bearer_auth(KIOSK).json(&json!({ "service": service }));
        let issued = tokio::time::timeout(ANSWER_MAX, issue.send()).await;
        let issued = issued.unwrap_or_else(|_| panic!("the kiosk had no ticket within {ANSWER_MAX:?} (round {round})"));
        assert_eq!(issued.expect("the kiosk's request").status(), 201);
        eprintln!("round {round}: /healthz and a ticket in {:?}", started.elapsed());
    }
    // One address holds no more than its cap, and the half-open ones go at the header
    // timeout: soon the daemon holds only its own sockets.
    assert!(
        sockets <= base + cap,
        "the daemon held {sockets} sockets ({base} before) for one address's half-open connections"
    );
    let quiet_by = opened.elapsed() + hallq::http::listen::HEADER_READ_TIMEOUT + Duration::from_secs(5);
    let mut left = sockets_open(pid);
    // A few sockets of the test's own clients may still be closing.
    let settled = base + 4;
    while left > settled && opened.elapsed() < quiet_by {
        tokio::time::sleep(Duration::from_millis(200)).await;
        left = sockets_open(pid);
    }
    assert!(
        left <= settled,
        "the daemon still holds {left} sockets (before the attack: {base}) {:?} after the attack began",
        opened.elapsed()
    );
    drop(held);
}

/// Reads `s` until the daemon answers or closes; what it sent, and how soon.
fn read_until_closed(mut s: TcpStream, within: Duration) -> (String, Duration) {
    let started = Instant::now();
    s.set_read_timeout(Some(within)).expect("a read timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_head_and_a_half_sent_body_are_cut_off_in_time() {
    let d = Daemon::start().await;
    let addr = d.addr;
    let within = hallq::http::listen::HEADER_READ_TIMEOUT.max(hallq::http::BODY_READ_TIMEOUT) + Duration::from_secs(5);
    let head = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: hallq\r\nUser-Ag").expect("half a head");
        read_until_closed(s, within)
    });
    let body = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        let head = format!(
            "POST /api/v1/tickets HTTP/1.1\r\nHost: hallq\r\nAuthorization: Bearer {KIOSK}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"service\":"
        );
        s.write_all(head.as_bytes()).expect("a head and the start of a body");
        read_until_closed(s, within)
    });
    let (head_answer, head_took) = head.await.expect("the slow head");
    let (body_answer, body_took) = body.await.expect("the slow body");
    assert!(head_took < within, "a half-sent head held its connection for {head_took:?}");
    assert!(head_answer.is_empty() || head_answer.starts_with("HTTP/1.1 408"), "{head_answer}");
    assert!(body_took < within, "a half-sent body held its connection for {body_took:?}");
    assert!(body_answer.starts_with("HTTP/1.1 408"), "a half-sent body got {body_answer:?}");
    assert!(body_answer.contains("\"body_timeout\""), "{body_answer}");
    // Nothing was issued by the half request.
    let hall = d.api.get("/api/v1/hall", None).await;
    assert!(hall.body["queues"].as_array().expect("queues").iter().all(|q| q["waiting"] == 0), "{}", hall.text);
}
