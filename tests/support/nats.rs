//! A real `nats-server -js` (Debian's package) on a loopback port, for the district's
//! tests: started, killed and started again on the same port and store; with a
//! configuration file when a test gives one (the halls' NATS identities).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

/// A running `nats-server` with JetStream, its store in a temp dir of its own.
pub struct Nats {
    child: Option<Child>,
    pub port: u16,
    store: TempDir,
    /// The configuration file the server reads, when the test gave one.
    conf: Option<PathBuf>,
}

impl Nats {
    /// Starts a server on a port the kernel picks and waits until it listens; `None` when
    /// nats-server is not installed here. Then the test is left out, loudly; with `CI`
    /// set it fails instead, as a missing browser does.
    pub fn start_or_skip(test: &str) -> Option<Self> {
        Self::start_with_or_skip(test, None)
    }

    /// As `start_or_skip`, the server reading `conf` (a configuration's text, e.g. an
    /// `authorization` block) besides its flags.
    pub fn start_with_or_skip(test: &str, conf: Option<&str>) -> Option<Self> {
        let here = Command::new("nats-server").arg("--version").output().is_ok_and(|o| o.status.success());
        if !here {
            if std::env::var_os("CI").is_some() {
                panic!("CI must run the district tests, but nats-server is missing: .ci/run installs it");
            }
            // Straight to the terminal: libtest captures eprint! but not the stderr handle.
            let line =
                format!("\n*** DISTRICT TEST LEFT OUT: {test} — nats-server not found (apt install nats-server) ***\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            return None;
        }
        let store = tempfile::tempdir().expect("a temp dir for JetStream");
        let conf = conf.map(|text| {
            let path = store.path().join("server.conf");
            std::fs::write(&path, text).expect("write the server's configuration");
            path
        });
        let (child, port) = spawn(store.path(), None, conf.as_deref());
        Some(Self { child: Some(child), port, store, conf })
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: the server stops at once, its store as the kill left it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill9();
        let (child, _) = spawn(self.store.path(), Some(self.port), self.conf.as_deref());
        self.child = Some(child);
    }

    pub fn store_dir(&self) -> PathBuf {
        self.store.path().to_path_buf()
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `nats-server -js -a 127.0.0.1 -p PORT -sd STORE [-c CONF]`; the port from its
/// listening line.
fn spawn(store: &Path, port: Option<u16>, conf: Option<&Path>) -> (Child, u16) {
    let port_arg = port.map_or("-1".to_string(), |p| p.to_string());
    // A port just given up may linger a moment in the kernel: try a few times.
    for _ in 0..50 {
        let mut command = Command::new("nats-server");
        command.args(["-js", "-a", "127.0.0.1", "-p", &port_arg, "-sd"]).arg(store);
        if let Some(conf) = conf {
            command.arg("-c").arg(conf);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nats-server starts (Debian's nats-server package; .ci/run installs it)");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut port = None;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("Listening for client connections on ").nth(1) {
                    port = rest.rsplit(':').next().and_then(|p| p.trim().parse::<u16>().ok());
                }
                if line.contains("Server is ready") {
                    let _ = tx.send(port);
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Some(port)) => return (child, port),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    panic!("nats-server did not start on port {port_arg}");
}
