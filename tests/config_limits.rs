//! `[hall.limits]` and `[hall] tls_cert`/`tls_key` as hallq reads them: defaults when
//! absent, values when given, and errors naming file, line and key when wrong.

use crate::support;

use hallq::config::{load_dir, Rate, RateLimits};

fn load(edit: impl Fn(String) -> String) -> Result<hallq::config::Config, String> {
    let dir = support::config_dir(edit);
    load_dir(dir.path()).map_err(|e| e.to_string())
}

#[test]
fn the_example_hall_has_the_default_limits_and_no_tls() {
    let c = load(|h| h).expect("the example hall");
    assert_eq!(c.limits, RateLimits::default());
    assert_eq!(c.limits.kiosk, Rate { burst: 5, refill_ms: 2_000 });
    assert_eq!(c.limits.login, Rate { burst: 5, refill_ms: 60_000 });
    assert_eq!(c.tls, None);
}

#[test]
fn limits_are_read_and_zero_turns_one_off() {
    let c = load(|h| {
        h.replace("kiosk_burst = 5", "kiosk_burst = 0").replace("login_refill_s = 60", "login_refill_s = 300")
    })
    .expect("a valid hall");
    assert!(c.limits.kiosk.is_off());
    assert_eq!(c.limits.login.refill_ms, 300_000);
    // Without the table, the defaults.
    let start_marker = "[hall.limits]";
    let without = |h: String| {
        let start = h.find(start_marker).expect("the table");
        let end = start + h[start..].find("\n[").expect("a next table");
        format!("{}{}", &h[..start], &h[end + 1..])
    };
    assert_eq!(load(without).expect("a valid hall").limits, RateLimits::default());
}

#[test]
fn bad_limits_name_file_line_and_key() {
    let err = load(|h| h.replace("kiosk_refill_ms = 2000", "kiosk_refill_ms = 0")).unwrap_err();
    assert!(err.contains("hall.toml:") && err.contains("kiosk_refill_ms is 0; use a value from 1 to"), "{err}");
    let err = load(|h| h.replace("public_burst = 60", "public_burst = -1")).unwrap_err();
    assert!(err.contains("public_burst is -1"), "{err}");
    let err = load(|h| h.replace("login_failures = 5", "login_failures = 5\nlogin_tries = 3")).unwrap_err();
    assert!(err.contains("unknown key \"login_tries\""), "{err}");
}

/// The credit-code look-ups per kiosk (助企服务) are `[hall.limits]` keys with bounds; 0
/// would let a kiosk try codes without end, so it is an error, not "off".
#[test]
fn the_enterprise_code_look_ups_are_a_bounded_key() {
    let c = load(|h| h.replace("enterprise_code_refill_ms = 12000", "enterprise_code_refill_ms = 30000"))
        .expect("a valid hall");
    assert_eq!(c.limits.enterprise_codes, Rate { burst: 5, refill_ms: 30_000 });
    let err = load(|h| h.replace("enterprise_code_burst = 5", "enterprise_code_burst = 0")).unwrap_err();
    assert!(
        err.contains("hall.toml:") && err.contains("enterprise_code_burst is 0; use a value from 1 to 10000"),
        "{err}"
    );
    let err =
        load(|h| h.replace("enterprise_code_refill_ms = 12000", "enterprise_code_refill_ms = 3600001")).unwrap_err();
    assert!(err.contains("enterprise_code_refill_ms is 3600001"), "{err}");
}

/// A guide's reads of their visitors (全程领办): on by default, read when given, 0 off.
#[test]
fn the_guides_reads_are_a_key_of_their_own() {
    assert_eq!(RateLimits::default().guide_reads, Rate { burst: 10, refill_ms: 250 });
    let set = |burst: &'static str, refill: &'static str| {
        move |h: String| {
            h.replace("guide_reads_burst = 10\n", &format!("guide_reads_burst = {burst}\n"))
                .replace("guide_reads_refill_ms = 250\n", &format!("guide_reads_refill_ms = {refill}\n"))
        }
    };
    let c = load(set("3", "1000")).expect("a valid hall");
    assert_eq!(c.limits.guide_reads, Rate { burst: 3, refill_ms: 1_000 });
    let c = load(set("0", "250")).expect("valid");
    assert!(c.limits.guide_reads.is_off());
    let err = load(set("10", "0")).unwrap_err();
    assert!(err.contains("guide_reads_refill_ms is 0"), "{err}");
}

#[test]
fn tls_needs_both_files() {
    let c = load(|h| h.replace("# tls_cert = ", "tls_cert = ").replace("# tls_key = ", "tls_key = ")).expect("valid");
    let tls = c.tls.expect("tls files");
    assert_eq!(tls.cert.to_str(), Some("/etc/hallq/cert.pem"));
    assert_eq!(tls.key.to_str(), Some("/etc/hallq/key.pem"));
    let err = load(|h| h.replace("# tls_cert = ", "tls_cert = ")).unwrap_err();
    assert!(err.contains("hall.tls_cert") && err.contains("set both tls_cert and tls_key"), "{err}");
}

#[test]
fn a_kiosk_may_have_its_own_issuing_limit() {
    let c = load(|h| h).expect("the example hall");
    let online = c.kiosks.iter().find(|k| k.id == "online").expect("the online channel");
    assert_eq!(online.rate, Some(Rate { burst: 100, refill_ms: 50 }));
    assert!(c.kiosks.iter().filter(|k| k.id != "online").all(|k| k.rate.is_none()));
    // One of the two given: the other is the hall's default.
    let c = load(|h| h.replace("burst = 100\nrefill_ms = 50\n", "burst = 0\n")).expect("a valid hall");
    let online = c.kiosks.iter().find(|k| k.id == "online").expect("the online channel");
    assert_eq!(online.rate, Some(Rate { burst: 0, refill_ms: 2_000 }));
    let bad = load(|h| h.replace("refill_ms = 50\n", "refill_ms = 0\n")).expect_err("0 ms is refused");
    assert!(bad.contains("hall.toml") && bad.contains("refill_ms"), "{bad}");
}

/// Runs `hallq check DIR` and gives its exit status and output, killing it after 20 s and
/// limiting it to 4 GiB of address space (a check that hangs or grows without end fails
/// the test instead of the machine).
fn check_bounded(dir: &std::path::Path) -> (bool, String) {
    use std::io::Read as _;
    use std::os::unix::process::CommandExt as _;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hallq"));
    // SAFETY: setrlimit is async-signal-safe and touches only the child being started.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 4 << 30, rlim_max: 4 << 30 };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .arg("check")
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run hallq check");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hallq check still running after 20 s on {}", dir.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut text = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut text).expect("read stdout");
    child.stderr.take().expect("stderr").read_to_string(&mut text).expect("read stderr");
    (status.success(), text)
}

#[test]
fn a_catalogue_that_is_a_device_or_a_fifo_is_refused_at_once() {
    // `/dev/zero` says it has 0 bytes and never ends: the check grew to 8 GB in 4 s.
    let dir = support::config_dir(|h| h.replace("services = \"services.toml\"", "services = \"/dev/zero\""));
    let (ok, text) = check_bounded(dir.path());
    assert!(!ok, "{text}");
    assert!(text.contains("/dev/zero is not a regular file"), "{text}");

    // A FIFO with no writer made the check wait forever.
    let dir = support::config_dir(|h| h.replace("services = \"services.toml\"", "services = \"pipe.toml\""));
    let fifo = dir.path().join("pipe.toml");
    let path = std::ffi::CString::new(fifo.to_str().expect("utf-8 path")).expect("no NUL");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the file.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
    let (ok, text) = check_bounded(dir.path());
    assert!(!ok, "{text}");
    assert!(text.contains("pipe.toml is not a regular file"), "{text}");

    // hall.toml itself as a FIFO.
    let dir = support::config_dir(|h| h);
    let hall = dir.path().join("hall.toml");
    std::fs::remove_file(&hall).expect("remove hall.toml");
    let path = std::ffi::CString::new(hall.to_str().expect("utf-8 path")).expect("no NUL");
    // SAFETY: as above.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0, "mkfifo");
    let (ok, text) = check_bounded(dir.path());
    assert!(!ok, "{text}");
    assert!(text.contains("is not a regular file"), "{text}");
}

/// Issue 17 §4: the per-person limits at the kiosk are off unless `[hall.limits]` names
/// them; the no-show wait needs both of its keys; values out of range name their key.
#[test]
fn per_person_limits_are_off_by_default_and_checked_when_given() {
    use hallq::core::clerk_moves::PersonLimits;
    assert_eq!(load(|h| h).expect("the example hall").setup.person_limits, PersonLimits::default());
    let on = "[hall.limits]\ntickets_per_person_per_day = 3\nno_shows_before_wait = 2\nno_show_wait_minutes = 30";
    let c = load(|h| h.replacen("[hall.limits]", on, 1)).expect("a valid hall");
    let want = PersonLimits { tickets_per_day: Some(3), no_shows_before_wait: Some(2), no_show_wait_min: 30 };
    assert_eq!(c.setup.person_limits, want);
    assert!(c.setup.person_limits.on());
    let err = load(|h| h.replacen("[hall.limits]", "[hall.limits]\nno_shows_before_wait = 2", 1)).unwrap_err();
    assert!(err.contains("hall.limits.no_show_wait_minutes") && err.contains("go together"), "{err}");
    let err = load(|h| h.replacen("[hall.limits]", "[hall.limits]\ntickets_per_person_per_day = 0", 1)).unwrap_err();
    assert!(err.contains("tickets_per_person_per_day is 0; use a value from 1 to 100"), "{err}");
    let err = load(|h| {
        h.replacen("[hall.limits]", "[hall.limits]\nno_show_wait_minutes = 5000\nno_shows_before_wait = 1", 1)
    })
    .unwrap_err();
    assert!(err.contains("no_show_wait_minutes is 5000"), "{err}");
}
