//! The NATS server a district run publishes through: without `--nats`, a `nats-server -js`
//! child (Debian's package, on PATH) on a loopback port it picks, its JetStream store in a
//! temporary directory, stopped at the end of the run; its memory and CPU come from /proc
//! like the district's.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::super::BenchError;

/// How long the server may take to say it is ready.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// What nats-server logs once it listens, before the address.
const LISTENING: &str = "Listening for client connections on ";
/// What it logs once JetStream and all are up.
const READY: &str = "Server is ready";

pub struct NatsServer {
    process: tokio::process::Child,
    pub url: String,
    _store: tempfile::TempDir,
}

impl NatsServer {
    /// Starts the server and waits until it is ready.
    pub async fn start() -> Result<Self, BenchError> {
        let store = tempfile::Builder::new()
            .prefix("hallq-bench-nats-")
            .tempdir()
            .map_err(|e| BenchError::new(format!("cannot make a temporary JetStream store: {e}")))?;
        let mut process = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(store.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                BenchError::new(format!(
                    "cannot start nats-server ({e}): install it (apt install nats-server) or pass --nats URL"
                ))
            })?;
        let stderr = process.stderr.take().ok_or_else(|| BenchError::new("nats-server's output is not piped"))?;
        let mut lines = BufReader::new(stderr).lines();
        let port = tokio::time::timeout(START_TIMEOUT, async {
            let mut port = None;
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split(LISTENING).nth(1) {
                    port = rest.rsplit(':').next().and_then(|p| p.trim().parse::<u16>().ok());
                }
                if line.contains(READY) {
                    return port;
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| BenchError::new("nats-server did not report a port and readiness in time"))?;
        // The server goes on logging (slow consumers, limits); a full pipe would stall it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { process, url: format!("nats://127.0.0.1:{port}"), _store: store })
    }

    pub fn pid(&self) -> u32 {
        self.process.id().unwrap_or(0)
    }

    /// Stops the server (SIGKILL: its store is thrown away with the temporary directory).
    pub async fn stop(mut self) {
        let _ = self.process.kill().await;
    }
}
