//! The processes the benchmark measures: the daemon (`hallq serve`), the raw baseline
//! (`hallq bench-baseline`) and the district (`hallq district`), each a child on a fresh temporary data directory, so that
//! their memory and CPU come from /proc and nothing of this process is counted.
//!
//! A child reports its address on its output; the benchmark keeps reading that output (a
//! full pipe would stall the child) and keeps its last lines to explain a failure.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::oneshot;

use super::BenchError;

/// How long a child may take to start listening (replaying a large log takes a while).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Lines of a child's output kept to explain a failure.
const TAIL_LINES: usize = 20;
/// What the daemon logs once it listens, followed by its URL.
const HALLQ_READY: &str = "hallq listening on ";
/// What the baseline prints once it listens, followed by its HTTP and WebSocket URLs.
pub const BASELINE_READY: &str = "baseline listening on ";
/// What the district logs once it listens, followed by its URL.
const DISTRICT_READY: &str = "hallq district listening on ";

enum Kind {
    Hallq,
    Baseline,
    /// `hallq district` with this configuration directory.
    District(PathBuf),
}

pub struct Child {
    kind: Kind,
    exe: PathBuf,
    dir: tempfile::TempDir,
    process: tokio::process::Child,
    /// The words after the ready marker: the URL(s) the child listens on.
    ready: Vec<String>,
    tail: Arc<Mutex<VecDeque<String>>>,
}

impl Child {
    /// Starts `hallq serve` on a fresh data directory and a port the system chooses.
    pub async fn start_hallq(exe: &Path) -> Result<Self, BenchError> {
        Self::spawn(Kind::Hallq, exe, temp_dir()?, "127.0.0.1:0").await
    }

    pub async fn start_baseline(exe: &Path) -> Result<Self, BenchError> {
        Self::spawn(Kind::Baseline, exe, temp_dir()?, "127.0.0.1:0").await
    }

    /// Starts `hallq district` on the configuration directory `config`, a fresh replica
    /// directory and a port the system chooses.
    pub async fn start_district(exe: &Path, config: &Path) -> Result<Self, BenchError> {
        Self::spawn(Kind::District(config.to_path_buf()), exe, temp_dir()?, "127.0.0.1:0").await
    }

    async fn spawn(kind: Kind, exe: &Path, dir: tempfile::TempDir, listen: &str) -> Result<Self, BenchError> {
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let process = launch(&kind, exe, dir.path(), listen, &tail)?;
        let mut child = Self { kind, exe: exe.to_path_buf(), dir, process: process.0, ready: Vec::new(), tail };
        child.ready = child.await_ready(process.1).await?;
        Ok(child)
    }

    async fn await_ready(&self, ready_rx: oneshot::Receiver<Vec<String>>) -> Result<Vec<String>, BenchError> {
        match tokio::time::timeout(START_TIMEOUT, ready_rx).await {
            Ok(Ok(words)) if !words.is_empty() => Ok(words),
            Ok(Ok(_)) => Err(self.explain(BenchError::new("the child process reported no address"))),
            Ok(Err(_)) => Err(self.explain(BenchError::new("the child process ended before listening"))),
            Err(_) => Err(self.explain(BenchError::new("the child process did not start listening in time"))),
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.id().unwrap_or(0)
    }

    /// The HTTP URL the child listens on.
    pub fn url(&self) -> String {
        self.ready.first().cloned().unwrap_or_default()
    }

    /// The baseline's WebSocket URL (its broadcast has a listener of its own).
    pub fn ws_url(&self) -> String {
        self.ready.get(1).cloned().unwrap_or_default()
    }

    /// Stops the daemon gracefully (SIGTERM: it drains and flushes) and starts it again on
    /// the same data directory and address, as after an update of the binary.
    pub async fn restart(&mut self) -> Result<(), BenchError> {
        let listen = self.url().trim_start_matches("http://").to_string();
        self.stop(Duration::from_secs(30)).await?;
        let (process, ready_rx) = launch(&self.kind, &self.exe, self.dir.path(), &listen, &self.tail)?;
        self.process = process;
        self.ready = self.await_ready(ready_rx).await?;
        Ok(())
    }

    /// SIGTERM, then SIGKILL if the child has not ended within `grace`.
    pub async fn stop(&mut self, grace: Duration) -> Result<(), BenchError> {
        if let Some(pid) = self.process.id().and_then(|p| libc::pid_t::try_from(p).ok()) {
            // SAFETY: kill sends a signal to our own child, whose id we hold.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        match tokio::time::timeout(grace, self.process.wait()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(BenchError::new(format!("waiting for the child process failed: {e}"))),
            Err(_) => {
                let _ = self.process.kill().await;
                Err(self.explain(BenchError::new(format!("the child process did not stop within {grace:?}"))))
            }
        }
    }

    /// `err`, with the child's last lines of output to say why.
    pub fn explain(&self, err: BenchError) -> BenchError {
        let tail = self.tail.lock().map(|t| t.iter().cloned().collect::<Vec<_>>().join("\n")).unwrap_or_default();
        if tail.is_empty() {
            err
        } else {
            BenchError::new(format!("{err}\nthe child process's last output:\n{tail}"))
        }
    }
}

/// Starts the child; its output is drained into `tail`, and its address comes on the
/// returned channel.
fn launch(
    kind: &Kind,
    exe: &Path,
    dir: &Path,
    listen: &str,
    tail: &Arc<Mutex<VecDeque<String>>>,
) -> Result<(tokio::process::Child, oneshot::Receiver<Vec<String>>), BenchError> {
    let mut cmd = Command::new(exe);
    let marker = match kind {
        Kind::Hallq => {
            // The bench's kiosks share one token: the hall's per-kiosk limit would refuse
            // them, and the benchmark measures throughput, not the limits.
            cmd.args(["serve", "--always-open", "--no-rate-limits", "--listen", listen, "--data"]);
            HALLQ_READY
        }
        Kind::Baseline => {
            cmd.args(["bench-baseline", "--data"]);
            BASELINE_READY
        }
        Kind::District(config) => {
            cmd.args(["district", "--config"]).arg(config).args(["--listen", listen, "--data"]);
            DISTRICT_READY
        }
    };
    cmd.arg(dir)
        // The daemon's address is on an info line; the rest of its log stays quiet.
        .env("RUST_LOG", "warn,hallq::daemon=info,hallq::district=info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut process = cmd.spawn().map_err(|e| BenchError::new(format!("cannot start {}: {e}", exe.display())))?;
    let (ready_tx, ready_rx) = oneshot::channel();
    if let Some(out) = process.stdout.take() {
        tokio::spawn(drain(out, tail.clone(), Some((marker, ready_tx))));
    }
    if let Some(err) = process.stderr.take() {
        tokio::spawn(drain(err, tail.clone(), None));
    }
    Ok((process, ready_rx))
}

fn temp_dir() -> Result<tempfile::TempDir, BenchError> {
    tempfile::Builder::new()
        .prefix("hallq-bench-")
        .tempdir()
        .map_err(|e| BenchError::new(format!("cannot make a temporary data directory: {e}")))
}

type Ready = (&'static str, oneshot::Sender<Vec<String>>);

/// Reads a child's output to its end, keeping the last lines and reporting the ready line.
async fn drain(out: impl AsyncRead + Unpin, tail: Arc<Mutex<VecDeque<String>>>, mut ready: Option<Ready>) {
    let mut lines = BufReader::new(out).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some((marker, _)) = &ready {
            if let Some(at) = line.find(marker) {
                let words = line[at + marker.len()..].split_whitespace().map(str::to_string).collect();
                if let Some((_, tx)) = ready.take() {
                    let _ = tx.send(words);
                }
            }
        }
        if let Ok(mut t) = tail.lock() {
            t.push_back(line);
            if t.len() > TAIL_LINES {
                t.pop_front();
            }
        }
    }
}
