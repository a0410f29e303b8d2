//! Ticket printers against a real daemon and a fake printer on loopback (a real TCP peer
//! that decodes the ESC/POS stream back into lines, a QR payload and a cut): what a
//! ticket prints, that a printer that is down or out of paper never costs the visitor
//! their ticket and is reported to the kiosk and the supervisor, that it comes back, that
//! a kiosk reprints only its own waiting tickets, and how the configuration is checked.

use crate::printer_support;
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use printer_support::{FakePrinter, COVER_OPEN, PAPER_LOW, PAPER_OUT, READY, SILENT};
use serde_json::{json, Value};
use support::{guard, Api, Daemon, KIOSK};

/// The example hall with kiosk1's printer at `addr`, the rate limits off.
fn config_with_printer(addr: std::net::SocketAddr, probe_s: u64) -> hallq::config::Config {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    printer_support::printer_at_kiosk1(&mut config, addr, probe_s);
    config
}

async fn start(addr: std::net::SocketAddr, probe_s: u64) -> Daemon {
    let data = Arc::new(tempfile::tempdir().expect("a temp dir"));
    Daemon::start_config(data, None, config_with_printer(addr, probe_s)).await
}

/// The kiosk's view of its printer.
async fn kiosk_printer(api: &Api) -> Value {
    let r = api.get("/api/v1/kiosk/printer", Some(KIOSK)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["printer"].clone()
}

/// Waits until the kiosk's printer reports `status` (and, with `failed`, that many
/// failed jobs); returns the report.
async fn until_status(api: &Api, status: &str, failed: Option<u64>) -> Value {
    until_report(api, status, |p| failed.is_none_or(|n| p["failed"] == n)).await
}

/// Waits until the kiosk's printer reports `status` with `printed` jobs done: the fake
/// printer has the job a moment before the daemon has counted it.
async fn until_printed(api: &Api, status: &str, printed: u64) -> Value {
    until_report(api, status, |p| p["printed"] == printed).await
}

async fn until_report(api: &Api, status: &str, also: impl Fn(&Value) -> bool) -> Value {
    guard(&format!("the printer to report {status}"), async {
        loop {
            let p = kiosk_printer(api).await;
            if p["status"] == status && also(&p) {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
}

/// The supervisor's row for kiosk1.
async fn supervisor_row(api: &Api) -> Value {
    let token = api.login("supervisor").await;
    let r = api.get("/api/v1/printers", Some(&token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rows = r.body["printers"].as_array().expect("a list").clone();
    assert_eq!(rows.len(), 1, "only kiosk1 has a printer: {}", r.text);
    rows[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_issued_ticket_prints_with_its_number_wait_materials_and_qr_code() {
    let mut printer = FakePrinter::start(READY).await;
    let d = start(printer.addr, 0).await;
    let code = d.api.item_in("A").await;
    d.api.issue(&code).await;
    let first = printer.next_job().await;
    assert!(first.is_print());

    let r = d.api.issue_with(json!({ "service": code })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["print"], json!({ "status": "queued", "printer": "ok" }), "{}", r.text);
    let t = &r.body;
    let job = printer.next_job().await;

    // The status checks, then init and Chinese mode before any text.
    use printer_support::Cmd;
    assert_eq!(&job.cmds[..4], &[Cmd::Status(1), Cmd::Status(4), Cmd::Init, Cmd::ChineseOn]);
    assert!(!job.cmds.iter().any(|c| matches!(c, Cmd::Unknown(_))), "{:?}", job.cmds);
    assert!(!job.bad_text && job.leftover.is_empty(), "{job:?}");
    assert_eq!(job.statuses, vec![1, 4, 4], "status before (printer, paper) and paper after");
    // The hall's name round-trips through GB18030, centred and large.
    let hall = job.line("青川区政务服务中心");
    assert_eq!(hall.text, "青川区政务服务中心");
    assert_eq!((hall.align, hall.size), (1, 0x11));
    assert!(job.cmds.contains(&Cmd::ChineseSize(0x0C)), "Chinese text is sized by FS ! too");
    let number = t["number"].as_str().expect("a number");
    let big = job.line(number);
    assert_eq!((big.text.as_str(), big.size, big.align, big.bold), (number, 0x33, 1, true), "the number is quad size");
    let catalog = d.api.catalog().await;
    let item = catalog["items"].as_array().expect("items").iter().find(|i| i["code"] == code.as_str()).expect("item");
    assert_eq!(job.line("综合受理").text, "综合受理");
    assert_eq!(job.line("前面等候").text, "前面等候：1 人");
    // No window is open: the paper says so rather than a figure or a dash.
    assert_eq!(t["eta_reason"], "no_open_window", "{t}");
    assert_eq!(job.line("预计等候").text, "预计等候：暂无窗口办理");
    let issued = t["issued_at"].as_str().expect("issued_at");
    let local = format!("{} {}", &issued[..10], &issued[11..16]);
    assert_eq!(job.line("取号时间").text, format!("取号时间：{local}"));
    assert!(job.text().contains(item["name"].as_str().expect("a name")), "{}", job.text());
    let material: String = item["materials"][0].as_str().expect("the item lists materials").chars().take(6).collect();
    assert!(job.line(&material).text.starts_with(&format!("1. {material}")), "{}", job.text());
    let heading = job.lines.iter().position(|l| l.text == "请准备以下材料：").expect("a materials heading");
    assert!(job.lines[heading + 1].text.starts_with("1. "), "{}", job.text());
    // The hall's real missed-number rule: the example hall's rejoin_min of 30 minutes.
    let joined = job.text().replace('\n', "");
    assert!(joined.contains("过号后 30 分钟内可扫码重新排队"), "{}", job.text());
    assert!(!joined.contains("过号需重新取号"), "{}", job.text());
    // The QR code is the printer's own, of the ticket's status page, and it is printed.
    let url = format!("http://{}{}", d.addr, t["status_url"].as_str().expect("status_url"));
    assert_eq!(job.qr.as_deref(), Some(url.as_bytes()), "QR payload");
    assert!(job.qr_printed && job.qr_model == Some(b'2') && job.qr_ec == Some(b'1'));
    assert!(job.cut, "the paper is cut");

    let p = until_printed(&d.api, "ok", 2).await;
    assert_eq!(p["fault"].as_bool(), Some(false));
    assert_eq!(p["last_job"]["ticket"], t["id"]);
    assert_eq!(p["last_job"]["printed"], true);
    let row = supervisor_row(&d.api).await;
    assert_eq!((row["kiosk"].as_str(), row["status"].as_str()), (Some("kiosk1"), Some("ok")));
    assert_eq!(row["address"], printer.addr.to_string());
    // kiosk2 has no printer: its answer has no print field, and its printer is null.
    let other = d.api.post("/api/v1/tickets", Some("demo-kiosk-2"), Some(json!({ "service": code }))).await;
    assert_eq!(other.status, 201, "{}", other.text);
    assert!(other.body.get("print").is_none(), "{}", other.text);
    let none = d.api.get("/api/v1/kiosk/printer", Some("demo-kiosk-2")).await;
    assert_eq!(none.body["printer"], Value::Null, "{}", none.text);
    assert!(printer.try_job().is_none(), "kiosk2's ticket did not go to kiosk1's printer");
}

/// Issue 15: a ticket no open window may call printed "预计等候：—"; it says 暂无窗口办理,
/// and once a window serving its queue is open, the wait in the pages' words.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ticket_no_open_window_may_call_prints_that_and_a_figure_once_one_opens() {
    let mut printer = FakePrinter::start(READY).await;
    let d = start(printer.addr, 0).await;
    let code = d.api.item_in("A").await;
    d.api.issue(&code).await;
    let job = printer.next_job().await;
    assert_eq!(job.line("预计等候").text, "预计等候：暂无窗口办理", "{}", job.text());
    assert!(!job.text().contains('—'), "no dash for the wait: {}", job.text());

    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    for _ in 0..4 {
        d.api.issue(&code).await;
        printer.next_job().await;
    }
    let t = d.api.issue(&code).await;
    let job = printer.next_job().await;
    let m = t["eta_minutes"].as_u64().expect("a wait once window 1 is open");
    assert!(m > 0, "five ahead at one window take time: {t}");
    let want = hallq::printer::ticket::wait_words(u32::try_from(m).ok(), false);
    assert!(want.starts_with('约'), "{want}");
    assert_eq!(job.line("预计等候").text, format!("预计等候：{want}"), "{}", job.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_priority_bundle_ticket_prints_its_class_and_its_steps_in_order() {
    let mut printer = FakePrinter::start(READY).await;
    let d = start(printer.addr, 0).await;
    // YJS-23 spans two queues: B (enterprise) first, then A (comprehensive).
    let r = d.api.issue_with(json!({ "service": "YJS-23", "priority": "elderly" })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let job = printer.next_job().await;
    assert!(job.is_print());
    let class = job.line("优先");
    assert_eq!((class.text.as_str(), class.bold), ("【优先 · 老年人】", true), "{}", job.text());
    let heading = job.lines.iter().position(|l| l.text.starts_with("办理步骤")).expect("a steps heading");
    assert!(job.lines[heading + 1].text.starts_with("1. B 企业服务："), "{}", job.text());
    let second = job.lines.iter().skip(heading + 1).find(|l| l.text.starts_with("2. ")).expect("a second step");
    assert!(second.text.starts_with("2. A 综合受理："), "{}", job.text());
    // An ordinary one-item ticket says neither.
    let code = d.api.item_in("A").await;
    d.api.issue(&code).await;
    let plain = printer.next_job().await;
    assert!(!plain.text().contains("优先") && !plain.text().contains("办理步骤"), "{}", plain.text());
}

/// A kiosk reaches the daemon on loopback, yet the printed QR code opens the hall's public
/// address: `[hall] public_url`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_printed_qr_code_opens_the_public_url_not_the_kiosks_address() {
    let mut printer = FakePrinter::start(READY).await;
    let mut config = config_with_printer(printer.addr, 0);
    let public = "https://hall.example.gov.cn";
    config.public_url = Some(hallq::config::PublicUrl::parse(public).expect("a good address"));
    let d = Daemon::start_config(Arc::new(tempfile::tempdir().expect("a temp dir")), None, config).await;
    let t = d.api.issue(&d.api.item_in("A").await).await;
    let job = printer.next_job().await;
    let id = t["id"].as_str().expect("an id");
    let url = format!("{public}/t/{id}?k={}", t["key"].as_str().expect("the visitor's key"));
    assert_eq!(job.qr.as_deref(), Some(url.as_bytes()), "QR payload");
    assert!(job.qr_printed, "{job:?}");
    assert_eq!(t["status_url"], url.as_str(), "the answer's link is the same address");
    // A reprint too.
    let r = d.api.post(&format!("/api/v1/tickets/{id}/print"), Some(KIOSK), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let again = printer.next_job().await;
    assert_eq!(again.qr, job.qr, "the reprint's QR code is the same");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_printer_that_is_down_costs_no_ticket_is_reported_and_comes_back() {
    // A port that refuses connections: bound, then closed.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port");
    let d = start(addr, 0).await;
    let code = d.api.item_in("A").await;
    let r = d.api.issue_with(json!({ "service": code })).await;
    assert_eq!(r.status, 201, "the ticket is issued whatever the printer does: {}", r.text);
    assert_eq!(r.body["print"]["status"], "queued");
    let id = r.body["id"].as_str().expect("an id").to_string();
    assert_eq!(d.api.ticket(&id).await.body["status"], "waiting");

    let p = until_status(&d.api, "offline", Some(1)).await;
    assert_eq!(p["fault"], true);
    assert!(p["last_error"].as_str().is_some_and(|e| e.contains("cannot connect")), "{p}");
    assert_eq!(p["last_job"], json!({ "ticket": id, "printed": false, "at": p["last_job"]["at"] }));
    let row = supervisor_row(&d.api).await;
    assert_eq!((row["status"].as_str(), row["failed"].as_u64()), (Some("offline"), Some(1)));
    assert!(row["since"].is_string());
    // The next issue already says the printer is down.
    let r = d.api.issue_with(json!({ "service": code })).await;
    assert_eq!((r.status, r.body["print"]["printer"].as_str()), (201, Some("offline")), "{}", r.text);
    until_status(&d.api, "offline", Some(2)).await;

    // The printer comes back where it was: the next ticket prints and the status is ok.
    let mut printer = FakePrinter::start_at(addr, READY).await;
    let r = d.api.issue_with(json!({ "service": code })).await;
    let job = printer.next_job().await;
    assert_eq!(job.line(r.body["number"].as_str().expect("a number")).size, 0x33);
    let p = until_printed(&d.api, "ok", 1).await;
    assert_eq!(p["failed"].as_u64(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paper_out_is_reported_and_nothing_prints_until_paper_is_back() {
    let mut printer = FakePrinter::start(PAPER_OUT).await;
    let d = start(printer.addr, 0).await;
    let code = d.api.item_in("A").await;
    let r = d.api.issue_with(json!({ "service": code })).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let p = until_status(&d.api, "paper_out", Some(1)).await;
    assert_eq!(p["fault"], true);
    assert!(p["last_error"].as_str().is_some_and(|e| e.contains("out of paper")), "{p}");
    assert_eq!(supervisor_row(&d.api).await["status"], "paper_out");
    assert!(printer.try_job().is_none(), "no job is sent to a printer without paper");

    printer.set(COVER_OPEN);
    d.api.issue_with(json!({ "service": code })).await;
    until_status(&d.api, "cover_open", Some(2)).await;
    assert!(printer.try_job().is_none());

    // Nearly empty still prints, and says so.
    printer.set(PAPER_LOW);
    let r = d.api.issue_with(json!({ "service": code })).await;
    let job = printer.next_job().await;
    job.line(r.body["number"].as_str().expect("a number"));
    let p = until_printed(&d.api, "paper_low", 1).await;
    assert_eq!(p["fault"].as_bool(), Some(false));

    printer.set(READY);
    d.api.issue_with(json!({ "service": code })).await;
    printer.next_job().await;
    until_status(&d.api, "ok", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_printer_that_answers_no_status_still_prints() {
    let mut printer = FakePrinter::start(SILENT).await;
    let d = start(printer.addr, 0).await;
    let r = d.api.issue_with(json!({ "service": d.api.item_in("B").await })).await;
    let job = printer.next_job().await;
    assert_eq!(job.statuses, vec![1], "one unanswered request, then the job");
    assert!(job.cut);
    job.line(r.body["number"].as_str().expect("a number"));
    until_status(&d.api, "ok", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idle_printer_is_checked_so_an_empty_roll_shows_before_the_next_visitor() {
    let printer = FakePrinter::start(PAPER_OUT).await;
    let d = start(printer.addr, 1).await;
    let p = until_status(&d.api, "paper_out", Some(0)).await;
    assert_eq!(p["last_job"], Value::Null);
    printer.set(READY);
    until_status(&d.api, "ok", Some(0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_repeated_issue_prints_once_and_a_kiosk_reprints_only_its_own_waiting_tickets() {
    let mut printer = FakePrinter::start(READY).await;
    let d = start(printer.addr, 0).await;
    let api = &d.api;
    let code = api.item_in("A").await;
    let body = json!({ "service": code, "idempotency_key": "tap-1" });
    let first = api.issue_with(body.clone()).await;
    assert_eq!(first.status, 201);
    printer.next_job().await;
    let again = api.issue_with(body).await;
    assert_eq!((again.status, again.body["id"].clone()), (200, first.body["id"].clone()));
    assert_eq!(again.body["print"]["status"], "repeat", "{}", again.text);

    let id = first.body["id"].as_str().expect("an id");
    let path = format!("/api/v1/tickets/{id}/print");
    let req = || api.http.post(api.url(&path)).header("idempotency-key", "reprint-1");
    let r = api.send(req(), Some(KIOSK)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["print"]["status"], "queued");
    let job = printer.next_job().await;
    assert!(job.text().contains("补打"), "a reprint says so: {}", job.text());
    job.line(first.body["number"].as_str().expect("a number"));
    let r = api.send(req(), Some(KIOSK)).await;
    assert_eq!(r.body["print"]["status"], "repeat", "the same key prints once: {}", r.text);

    // Not another kiosk's ticket, not for a kiosk without a printer, not for a clerk.
    let theirs = api.post("/api/v1/tickets", Some("demo-kiosk-2"), Some(json!({ "service": code }))).await;
    let theirs = theirs.body["id"].as_str().expect("an id").to_string();
    api.post(&format!("/api/v1/tickets/{theirs}/print"), Some(KIOSK), None).await.assert_error(404, "unknown_ticket");
    api.post(&path, Some("demo-kiosk-2"), None).await.assert_error(409, "no_printer");
    let clerk = api.login("clerk1").await;
    api.post(&path, Some(&clerk), None).await.assert_error(403, "forbidden");
    api.post(&path, None, None).await.assert_error(401, "unauthorized");
    api.post("/api/v1/tickets/nope/print", Some(KIOSK), None).await.assert_error(404, "unknown_ticket");
    // Once called, the paper is of no more use.
    api.window_ok(&clerk, "1", "open", None).await;
    api.call_next(&clerk, "1").await;
    api.post(&path, Some(KIOSK), None).await.assert_error(409, "not_waiting");
    assert!(printer.try_job().is_none(), "no refused reprint printed anything");
    // Supervisors see every printer; kiosks and clerks do not.
    api.get("/api/v1/printers", Some(KIOSK)).await.assert_error(403, "forbidden");
    api.get("/api/v1/printers", Some(&clerk)).await.assert_error(403, "forbidden");
    api.get("/api/v1/kiosk/printer", Some(&clerk)).await.assert_error(403, "forbidden");
}

/// The example hall.toml with `kiosk_lines` added to kiosk1's table.
fn hall_with(kiosk_lines: &str) -> impl Fn(String) -> String + '_ {
    move |hall: String| {
        let at = "token = \"demo-kiosk-1\"\n";
        assert!(hall.contains(at), "the example hall's kiosk1 moved");
        hall.replacen(at, &format!("{at}{kiosk_lines}\n"), 1)
    }
}

fn load_errors(kiosk_lines: &str) -> Vec<String> {
    let dir = support::config_dir(hall_with(kiosk_lines));
    match hallq::config::load_dir(dir.path()) {
        Ok(_) => Vec::new(),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn printer_settings_are_checked_with_file_line_and_key() {
    let dir = support::config_dir(hall_with("printer = \"192.168.1.50\"\nprinter_width = 32"));
    let cfg = hallq::config::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let p = cfg.kiosks[0].printer.clone().expect("kiosk1's printer");
    assert_eq!((p.host.as_str(), p.port, p.width_chars, p.timeout_ms, p.probe_s), ("192.168.1.50", 9100, 32, 3000, 30));

    for (lines, key, says) in [
        ("printer = \"printer 1\"", "kiosk[0].printer", "bad printer address"),
        ("printer = \"10.0.0.9:0\"", "kiosk[0].printer", "bad printer address"),
        ("printer = 9100", "kiosk[0].printer", "expected a string"),
        ("printer = \"10.0.0.9\"\nprinter_width = 80", "kiosk[0].printer_width", "from 24 to 64"),
        ("printer = \"10.0.0.9\"\nprinter_timeout_ms = 5", "kiosk[0].printer_timeout_ms", "from 100 to 60000"),
        ("printer_width = 42", "kiosk[0].printer_width", "without a printer"),
        ("printer = \"10.0.0.9\"\nprinter_speed = 3", "kiosk[0].printer_speed", "unknown"),
    ] {
        let errs = load_errors(lines);
        assert!(
            errs.iter().any(|e| e.contains("hall.toml:") && e.contains(key) && e.contains(says)),
            "{lines:?}: no error at {key} saying {says:?}; got {errs:#?}"
        );
    }
    // A remote channel has no paper.
    let dir = support::config_dir(|hall| {
        hall.replacen("kind = \"remote\"\n", "kind = \"remote\"\nprinter = \"10.0.0.9:9100\"\n", 1)
    });
    let errs = hallq::config::load_dir(dir.path()).expect_err("a remote kiosk's printer is refused");
    assert!(errs.0.iter().any(|e| e.key == "kiosk[2].printer" && e.message.contains("remote")), "{errs}");
}

#[test]
fn hallq_check_names_a_bad_printer_and_lists_good_ones() {
    let bad = support::config_dir(hall_with("printer = \"10.0.0.9:99999\""));
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_hallq")).arg("check").arg(bad.path()).output().expect("run");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("kiosk[0].printer") && text.contains("bad printer address"), "{text}");
    let good = support::config_dir(hall_with("printer = \"10.0.0.9:9100\""));
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_hallq")).arg("check").arg(good.path()).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("kiosk1") && text.contains("10.0.0.9:9100"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_printer_fault_is_a_warning_in_the_log_without_the_ticket() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a port");
    let printer = format!("printer = \"{addr}\"\nprinter_probe_s = 0\nprinter_timeout_ms = 500");
    let config = support::config_dir(|hall| hall_with(&printer)(support::without_rate_limits(hall)));
    let data = tempfile::tempdir().expect("a temp dir");
    let mut p = support::Process::spawn_with(data.path(), config, "127.0.0.1:0", "info,sled=warn", &[]).await;
    let code = p.api.item_in("A").await;
    let t = p.api.issue(&code).await;
    let line = guard("the fault in the log", async {
        loop {
            if let Some(l) = p.log_text().lines().find(|l| l.contains("ticket printer fault")) {
                return l.to_string();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(line.contains("WARN") && line.contains("kiosk1") && line.contains(&addr.to_string()), "{line}");
    let log = p.log_text();
    for secret in [t["id"].as_str().expect("an id"), t["number"].as_str().expect("a number")] {
        assert!(!log.contains(secret), "the log names the ticket {secret}:\n{log}");
    }
    assert!(p.terminate().await.success());
}
