//! The `hallq` binary as a child process, for the tests that must signal or kill it.

use super::*;

/// The `hallq` binary, running as a child process.
pub struct Process {
    child: Option<Child>,
    pub pid: u32,
    pub addr: SocketAddr,
    pub api: Api,
    /// Every line the daemon wrote to stdout and stderr so far.
    pub log: Arc<Mutex<Vec<String>>>,
    /// The configuration directory it runs, when the test made one.
    _config: Option<TempDir>,
}

impl Process {
    /// Starts `hallq serve --data DIR --listen 127.0.0.1:0 --always-open` on the example
    /// hall without rate limits and waits for its listening line.
    pub async fn spawn(data: &Path) -> Self {
        Self::spawn_with(data, config_dir(without_rate_limits), "127.0.0.1:0", "info,sled=warn", &[]).await
    }

    /// Starts `hallq serve --config CONFIG --data DATA --listen LISTEN --always-open
    /// EXTRA...` with `RUST_LOG=rust_log` and waits for its listening line (http or https).
    pub async fn spawn_with(data: &Path, config: TempDir, listen: &str, rust_log: &str, extra: &[String]) -> Self {
        let data: PathBuf = data.to_path_buf();
        let mut child = Command::new(env!("CARGO_BIN_EXE_hallq"))
            .arg("serve")
            .arg("--config")
            .arg(config.path())
            .arg("--data")
            .arg(&data)
            .arg("--listen")
            .arg(listen)
            .arg("--always-open")
            .args(extra)
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the hallq binary starts");
        let pid = child.id();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = oneshot::channel::<SocketAddr>();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        // Readers run until the pipe closes, so the daemon never blocks on a full pipe.
        let out_log = log.clone();
        std::thread::spawn(move || {
            let mut addr_tx = Some(addr_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let listening = line.split("hallq listening on ").nth(1).map(|rest| {
                    let rest = rest.trim_start_matches("http://").trim_start_matches("https://");
                    rest.split_whitespace().next().unwrap_or_default().to_string()
                });
                // The line is in the log before anyone hears the daemon is up.
                out_log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line);
                if let Some(Ok(mut addr)) = listening.map(|a| a.parse::<SocketAddr>()) {
                    // Listening on every address: talk to it on loopback only.
                    if addr.ip().is_unspecified() {
                        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                    }
                    if let Some(tx) = addr_tx.take() {
                        let _ = tx.send(addr);
                    }
                }
            }
        });
        let err_log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                err_log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line);
            }
        });
        let addr = match tokio::time::timeout(Duration::from_secs(30), addr_rx).await {
            Ok(Ok(addr)) => addr,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let text = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).join("\n");
                panic!("hallq did not print its listening line; its output:\n{text}");
            }
        };
        Self { child: Some(child), pid, addr, api: Api::new(addr), log, _config: Some(config) }
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).join("\n")
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps the process.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the daemon");
            let status = child.wait().expect("reap the daemon");
            assert!(!status.success(), "a SIGKILLed daemon cannot exit cleanly: {status:?}");
        }
    }

    /// Sends SIGTERM and returns at once; `wait_exit` collects the exit status.
    pub fn sigterm(&self) {
        self.signal(libc::SIGTERM);
    }

    /// SIGSTOP: the daemon stands still (its sockets stay open, nothing is read) until
    /// `resume`.
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// SIGCONT after `pause`.
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, signal: libc::c_int) {
        assert!(self.child.is_some(), "signal {signal} to a daemon already reaped");
        let pid = libc::pid_t::try_from(self.pid).expect("a pid fits pid_t");
        // SAFETY: kill(2) only sends a signal to our own child, which is not reaped yet
        // (the Child is held until `wait_exit`), so the pid cannot name another process.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill -{signal} {pid} failed");
    }

    /// Waits (bounded by 30 s, then SIGKILL) for the daemon to exit.
    pub async fn wait_exit(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("a running daemon");
        let waiter = tokio::task::spawn_blocking(move || child.wait());
        match tokio::time::timeout(Duration::from_secs(30), waiter).await {
            Ok(Ok(Ok(status))) => status,
            Ok(other) => panic!("waiting for hallq failed: {other:?}"),
            Err(_) => {
                let _ = Command::new("kill").arg("-KILL").arg(self.pid.to_string()).status();
                panic!("hallq did not exit within 30 s; its output:\n{}", self.log_text());
            }
        }
    }

    /// SIGTERM, then waits (bounded) for the exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        self.sigterm();
        self.wait_exit().await
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
