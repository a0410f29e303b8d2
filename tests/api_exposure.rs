//! Serving beyond loopback: HTTPS with a certificate made in the test (rcgen), a clear
//! error for a certificate that cannot be read, and the built binary's loud warnings when
//! it listens on every address without TLS or with the demo credentials.

use crate::support;

use hallq::config::{RateLimits, TlsFiles};
use hallq::daemon::{serve, DaemonError, Options};
use serde_json::json;
use support::{Process, KIOSK};
use tokio::sync::oneshot;

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM files.
struct Cert {
    dir: tempfile::TempDir,
    pem: String,
}

impl Cert {
    fn make() -> Self {
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let made = rcgen::generate_simple_self_signed(names).expect("a self-signed certificate");
        let dir = tempfile::tempdir().expect("a temp dir");
        let pem = made.cert.pem();
        std::fs::write(dir.path().join("cert.pem"), &pem).expect("write cert.pem");
        std::fs::write(dir.path().join("key.pem"), made.key_pair.serialize_pem()).expect("write key.pem");
        Self { dir, pem }
    }

    fn files(&self) -> TlsFiles {
        TlsFiles { cert: self.dir.path().join("cert.pem"), key: self.dir.path().join("key.pem") }
    }

    /// An HTTPS client that trusts this certificate and no other.
    fn client(&self) -> reqwest::Client {
        let trusted = reqwest::Certificate::from_pem(self.pem.as_bytes()).expect("the test certificate");
        reqwest::Client::builder()
            .add_root_certificate(trusted)
            .tls_built_in_root_certs(false)
            .https_only(true)
            .timeout(support::HANG_GUARD)
            .build()
            .expect("an HTTPS client")
    }

    fn arg_list(&self) -> Vec<String> {
        let f = self.files();
        vec!["--tls-cert".into(), f.cert.display().to_string(), "--tls-key".into(), f.key.display().to_string()]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_a_certificate_the_daemon_speaks_https_only() {
    let cert = Cert::make();
    let mut config = hallq::config::embedded_default().expect("the example hall");
    config.limits = RateLimits::OFF;
    config.tls = Some(cert.files());
    let data = tempfile::tempdir().expect("a temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("an address").port();
    let options = Options { data_dir: data.path().to_path_buf(), always_open: true, clock: None };
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, config, options, async move {
        let _ = stop_rx.await;
    }));

    let https = cert.client();
    let base = format!("https://localhost:{port}");
    let health = https.get(format!("{base}/healthz")).send().await.expect("an HTTPS answer");
    assert_eq!(health.status(), 200);
    let issued = https
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(KIOSK)
        .json(&json!({ "service": "SC-0001" }))
        .send()
        .await
        .expect("an HTTPS answer");
    assert_eq!(issued.status(), 201);
    let login =
        https.post(format!("{base}/api/v1/login")).json(&json!({ "user": "clerk1", "password": "demo" })).send().await;
    assert_eq!(login.expect("an HTTPS answer").status(), 200);

    // A client that does not trust the certificate is turned away by its own TLS ...
    let untrusting = reqwest::Client::builder().timeout(support::HANG_GUARD).build().expect("a client");
    assert!(untrusting.get(format!("{base}/healthz")).send().await.is_err(), "an unknown certificate was accepted");
    // ... and plain HTTP gets no answer from the TLS port.
    let plain = untrusting.get(format!("http://127.0.0.1:{port}/healthz")).send().await;
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status() != 200), "plain HTTP was served on the TLS port");

    let _ = stop_tx.send(());
    let ended = support::guard("daemon shutdown", task).await.expect("the daemon task");
    assert!(ended.is_ok(), "{ended:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_certificate_that_cannot_be_read_stops_the_start_with_a_clear_error() {
    let mut config = hallq::config::embedded_default().expect("the example hall");
    let dir = tempfile::tempdir().expect("a temp dir");
    config.tls = Some(TlsFiles { cert: dir.path().join("missing.pem"), key: dir.path().join("key.pem") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let options = Options { data_dir: dir.path().join("data"), always_open: true, clock: None };
    let ended = serve(listener, config, options, std::future::pending()).await;
    let Err(DaemonError::Tls(message)) = ended else { panic!("expected a TLS error, got {ended:?}") };
    assert!(message.contains("missing.pem") && message.contains("cannot read the certificate"), "{message}");

    // A file that is not a certificate says so too.
    std::fs::write(dir.path().join("not.pem"), "hello").expect("write");
    let mut config = hallq::config::embedded_default().expect("the example hall");
    config.tls = Some(TlsFiles { cert: dir.path().join("not.pem"), key: dir.path().join("not.pem") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let options = Options { data_dir: dir.path().join("data"), always_open: true, clock: None };
    let ended = serve(listener, config, options, std::future::pending()).await;
    let Err(DaemonError::Tls(message)) = ended else { panic!("expected a TLS error, got {ended:?}") };
    assert!(message.contains("not.pem"), "{message}");
}

/// The log lines at level WARN.
fn warnings(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("WARN")).collect()
}

/// The daemon's log once a WARN line satisfies `pred` (the demo-password check runs
/// beside serving, an argon2 hash per user, so its warnings come a moment after start);
/// the log as it is after 10 s otherwise.
async fn log_once_warned(daemon: &Process, pred: impl Fn(&str) -> bool) -> String {
    for _ in 0..200 {
        let log = daemon.log_text();
        if warnings(&log).iter().any(|l| pred(l)) {
            return log;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    daemon.log_text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_binary_warns_when_it_listens_beyond_loopback() {
    let data = tempfile::tempdir().expect("a temp dir");
    let config = support::config_dir(support::without_rate_limits);
    let mut daemon = Process::spawn_with(data.path(), config, "0.0.0.0:0", "info,sled=warn", &[]).await;
    assert_eq!(daemon.api.get("/healthz", None).await.status, 200);
    let log = log_once_warned(&daemon, |l| l.contains("beyond this machine") && l.contains("demo credential")).await;
    let warned = warnings(&log);
    assert!(warned.iter().any(|l| l.contains("without TLS")), "no warning of plain HTTP beyond loopback:\n{log}");
    assert!(
        warned.iter().any(|l| l.contains("beyond this machine") && l.contains("demo credential")),
        "no warning of demo credentials beyond loopback:\n{log}"
    );
    assert!(daemon.terminate().await.success());

    // With TLS (the serve flags) only the demo credentials are left to warn of.
    let cert = Cert::make();
    let config = support::config_dir(support::without_rate_limits);
    let mut daemon = Process::spawn_with(data.path(), config, "0.0.0.0:0", "info,sled=warn", &cert.arg_list()).await;
    let log = log_once_warned(&daemon, |l| l.contains("demo credential")).await;
    assert!(log.contains("hallq listening on https://"), "{log}");
    assert!(!log.contains("without TLS"), "{log}");
    assert!(warnings(&log).iter().any(|l| l.contains("demo credential")), "{log}");
    // An answer proves the daemon serves (and so has its signal handler) before SIGTERM.
    let https = cert.client();
    let health = https.get(format!("https://localhost:{}/healthz", daemon.addr.port())).send().await;
    assert_eq!(health.expect("an HTTPS answer").status(), 200);
    assert!(daemon.terminate().await.success());

    // On loopback the plain-HTTP warning stays away.
    let config = support::config_dir(support::without_rate_limits);
    let mut daemon = Process::spawn_with(data.path(), config, "127.0.0.1:0", "info,sled=warn", &[]).await;
    assert_eq!(daemon.api.get("/healthz", None).await.status, 200);
    assert!(!daemon.log_text().contains("without TLS"), "{}", daemon.log_text());
    assert!(daemon.terminate().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serve_refuses_half_a_tls_setting() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallq"))
        .args(["serve", "--tls-cert", "cert.pem"])
        .output()
        .expect("run hallq");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--tls-key"), "{err}");
}
