//! `[hall] public_url` against a real daemon: the QR code a kiosk shows (`qr.svg`,
//! decoded back into its modules and compared with the code of the expected address) and
//! a ticket's `status_url` name the hall's public address, whatever Host the kiosk used;
//! without one they use the kiosk's Host as before, and the daemon says so once at start.
//! (The printed QR code is in `tests/printer.rs`.)

use crate::support;

use std::sync::Arc;

use hallq::config::PublicUrl;
use serde_json::Value;
use support::{config_dir, without_rate_limits, Api, Daemon, Process};

const PUBLIC: &str = "https://hall.example.gov.cn/hallq";
const WARNING: &str = "set [hall] public_url";

/// The dark modules of the QR code in `svg` (as the daemon draws it: one path of
/// `M x y h w v h H x V y` rectangles on a quiet zone of 4), read as a code `n` modules
/// wide; `None` when the picture is not `n + 8` whole modules across.
fn modules(svg: &str, n: usize) -> Option<Vec<bool>> {
    let width: usize = svg.split("width=\"").nth(1)?.split('"').next()?.parse().ok()?;
    let side = n + 8;
    if !width.is_multiple_of(side) {
        return None;
    }
    let px = width / side;
    let d = svg.split(" d=\"").nth(1)?.split('"').next()?;
    let mut dark = vec![false; side * side];
    for rect in d.split('M').filter(|r| !r.is_empty()) {
        let nums: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().ok())
            .collect::<Option<_>>()?;
        let [x, y, w, h, ..] = nums[..] else { return None };
        for row in (y / px)..((y + h) / px) {
            for col in (x / px)..((x + w) / px) {
                *dark.get_mut(row * side + col)? = true;
            }
        }
    }
    // Without the quiet zone, which must be light.
    let mut out = Vec::with_capacity(n * n);
    for row in 0..side {
        for col in 0..side {
            let inside = (4..4 + n).contains(&row) && (4..4 + n).contains(&col);
            match (inside, dark[row * side + col]) {
                (true, d) => out.push(d),
                (false, true) => return None,
                (false, false) => {}
            }
        }
    }
    Some(out)
}

/// Whether `svg` is the QR code of `text` (medium error correction, as the daemon makes it).
fn encodes(svg: &str, text: &str) -> bool {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).expect("a QR code");
    let want: Vec<bool> = code.to_colors().iter().map(|c| *c == qrcode::Color::Dark).collect();
    modules(svg, code.width()) == Some(want)
}

/// The QR code of the kiosk's answer `t` (asked with the ticket's key, as the kiosk does).
async fn qr_svg(api: &Api, t: &Value) -> String {
    let r = api.get(&support::visitor_path(t, "qr.svg"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.starts_with("<?xml") && r.text.contains("<svg"), "{}", r.text);
    r.text
}

#[tokio::test(flavor = "multi_thread")]
async fn the_qr_code_and_status_url_name_the_public_address_whatever_host_the_kiosk_used() {
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    config.public_url = Some(PublicUrl::parse(&format!("{PUBLIC}/")).expect("a good address"));
    let d = Daemon::start_config(Arc::new(tempfile::tempdir().expect("a temp dir")), None, config).await;
    let t = d.api.issue(&d.api.item_in("A").await).await;
    let (id, key) = (t["id"].as_str().expect("an id"), t["key"].as_str().expect("the visitor's key"));
    let public = format!("{PUBLIC}/t/{id}?k={key}");
    assert_eq!(t["status_url"], public.as_str(), "the kiosk's answer links to the public page");
    // Read by id, the ticket links to the page without the visitor's key.
    let read = d.api.ticket(id).await;
    assert_eq!(read.body["status_url"], format!("{PUBLIC}/t/{id}").as_str(), "{}", read.text);

    // The kiosk reached the daemon at 127.0.0.1: its Host is not in the code.
    let svg = qr_svg(&d.api, &t).await;
    assert!(encodes(&svg, &public), "the QR code is of {public}: {svg}");
    let by_host = format!("http://{}/t/{id}?k={key}", d.addr);
    assert!(!encodes(&svg, &by_host), "the QR code is not of the kiosk's address");
    // Nor a kiosk in the back room that names its own address.
    let req = d.api.http.get(d.api.url(&support::visitor_path(&t, "qr.svg"))).header("host", "10.0.0.9:8080");
    let r = d.api.send(req, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(encodes(&r.text, &public), "{}", r.text);
    assert!(!encodes(&r.text, &format!("http://10.0.0.9:8080/t/{id}?k={key}")));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_public_url_the_qr_code_uses_the_kiosks_host_and_the_daemon_warns_once() {
    let data = tempfile::tempdir().expect("a temp dir");
    let mut p = Process::spawn(data.path()).await;
    let t = p.api.issue(&p.api.item_in("A").await).await;
    let (id, key) = (t["id"].as_str().expect("an id"), t["key"].as_str().expect("the visitor's key"));
    assert_eq!(t["status_url"], format!("/t/{id}?k={key}").as_str(), "a path, as before");
    let svg = qr_svg(&p.api, &t).await;
    let by_host = format!("http://{}/t/{id}?k={key}", p.addr);
    assert!(encodes(&svg, &by_host), "the QR code is of {by_host}: {svg}");
    let warnings = p.log_text().lines().filter(|l| l.contains(WARNING)).count();
    assert_eq!(warnings, 1, "one warning at start:\n{}", p.log_text());
    let line = p.log_text().lines().find(|l| l.contains(WARNING)).map(str::to_string).unwrap_or_default();
    assert!(line.contains("WARN") && line.contains("QR codes"), "{line}");
    assert!(p.terminate().await.success());

    // With a public address there is nothing to warn about.
    let config = config_dir(|h| {
        let h = without_rate_limits(h);
        assert!(h.contains("data_dir = \"./data\"\n"), "the example hall's data_dir moved");
        h.replacen("data_dir = \"./data\"\n", &format!("data_dir = \"./data\"\npublic_url = \"{PUBLIC}\"\n"), 1)
    });
    let data = tempfile::tempdir().expect("a temp dir");
    let mut p = Process::spawn_with(data.path(), config, "127.0.0.1:0", "info,sled=warn", &[]).await;
    let t = p.api.issue(&p.api.item_in("A").await).await;
    let (id, key) = (t["id"].as_str().expect("an id"), t["key"].as_str().expect("the visitor's key"));
    assert!(encodes(&qr_svg(&p.api, &t).await, &format!("{PUBLIC}/t/{id}?k={key}")));
    assert!(!p.log_text().contains(WARNING), "{}", p.log_text());
    assert!(p.terminate().await.success());
}

#[test]
fn hallq_check_names_the_public_address_or_warns_without_one() {
    let check = |dir: &std::path::Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallq")).arg("check").arg(dir).output().expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let without = config_dir(|h| h);
    let said = check(without.path());
    assert!(said.contains("warning: no [hall] public_url"), "{said}");
    let with = config_dir(|h| {
        h.replacen("data_dir = \"./data\"\n", &format!("data_dir = \"./data\"\npublic_url = \"{PUBLIC}\"\n"), 1)
    });
    let said = check(with.path());
    assert!(said.contains(&format!("public address (QR codes, status links): {PUBLIC}")), "{said}");
    assert!(!said.contains("public_url"), "{said}");
}
