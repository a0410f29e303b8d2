//! Talking to one network printer over raw TCP: connect, ask its real-time status
//! (`DLE EOT 1/2/4`), send a job, ask again. Every step has the printer's timeout; a
//! printer that refuses, says nothing or breaks off is offline. A printer that never
//! answers status requests (some network cards do not pass them back) is taken at its
//! word: the job is sent and, once written, counts as printed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::escpos::{self, Paper};
use super::Health;
use crate::config::PrinterDef;

/// Longest wait for the first status answer, in milliseconds: a printer that answers at
/// all does so at once, and one that does not must not hold every ticket up by a full
/// timeout.
const FIRST_STATUS_WAIT_MS: u64 = 800;

/// What one visit to the printer found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit {
    pub health: Health,
    /// Whether the job was sent whole.
    pub printed: bool,
    /// What went wrong, in words for a supervisor (never ticket contents).
    pub error: Option<String>,
}

impl Visit {
    fn fault(health: Health, error: impl Into<String>) -> Self {
        Self { health, printed: false, error: Some(error.into()) }
    }
}

/// Sends `job` (or, with `None`, only checks the status) to the printer of `def`.
pub async fn visit(def: &PrinterDef, job: Option<&[u8]>) -> Visit {
    let wait = Duration::from_millis(def.timeout_ms);
    let addr = def.address();
    let mut stream = match timeout(wait, TcpStream::connect(addr.as_str())).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Visit::fault(Health::Offline, format!("cannot connect to {addr}: {e}")),
        Err(_) => return Visit::fault(Health::Offline, format!("no answer from {addr} within {} ms", def.timeout_ms)),
    };
    let _ = stream.set_nodelay(true);
    let first_wait = wait.min(Duration::from_millis(FIRST_STATUS_WAIT_MS));
    let before = match status(&mut stream, first_wait, wait).await {
        Ok(s) => s,
        Err(e) => return Visit::fault(Health::Offline, e),
    };
    if let Some(h) = before.filter(|h| h.blocks_printing()) {
        let _ = stream.shutdown().await;
        return Visit::fault(h, h.words());
    }
    let Some(job) = job else {
        let _ = stream.shutdown().await;
        return Visit { health: before.unwrap_or(Health::Ok), printed: false, error: None };
    };
    match timeout(wait, async {
        stream.write_all(job).await?;
        stream.flush().await
    })
    .await
    {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Visit::fault(Health::Offline, format!("the job could not be sent: {e}")),
        Err(_) => return Visit::fault(Health::Offline, format!("the job was not taken within {} ms", def.timeout_ms)),
    }
    // After the job: did it use up the roll? Only asked of a printer that answered before.
    let after = if before.is_some() { paper(&mut stream, wait).await.ok().flatten() } else { None };
    let _ = stream.shutdown().await;
    let health = match after {
        Some(Paper::Out) => Health::PaperOut,
        Some(Paper::Low) => Health::PaperLow,
        Some(Paper::Ok) | None => before.unwrap_or(Health::Ok),
    };
    let error = (health == Health::PaperOut).then(|| "the paper ran out while printing".to_string());
    Visit { health, printed: true, error }
}

/// One status byte for `DLE EOT n`: `Ok(None)` when the printer does not answer in time or
/// answers something else; `Err` when the connection breaks.
async fn ask(stream: &mut TcpStream, n: u8, wait: Duration) -> Result<Option<u8>, String> {
    stream.write_all(&escpos::status_request(n)).await.map_err(|e| format!("the connection broke: {e}"))?;
    let mut b = [0u8; 1];
    match timeout(wait, stream.read(&mut b)).await {
        Ok(Ok(0)) => Err("the printer closed the connection".to_string()),
        Ok(Ok(_)) => Ok(Some(b[0]).filter(|&b| escpos::is_status(b))),
        Ok(Err(e)) => Err(format!("the connection broke: {e}")),
        Err(_) => Ok(None),
    }
}

async fn paper(stream: &mut TcpStream, wait: Duration) -> Result<Option<Paper>, String> {
    Ok(ask(stream, 4, wait).await?.map(escpos::paper))
}

/// The printer's state before a job, or `None` when it does not answer status requests.
async fn status(stream: &mut TcpStream, first_wait: Duration, wait: Duration) -> Result<Option<Health>, String> {
    let Some(printer) = ask(stream, 1, first_wait).await? else { return Ok(None) };
    if escpos::is_offline(printer) {
        let cause = ask(stream, 2, wait).await?.map(escpos::offline_cause);
        return Ok(Some(match cause {
            Some(c) if c.paper_end => Health::PaperOut,
            Some(c) if c.cover_open => Health::CoverOpen,
            _ => Health::Offline,
        }));
    }
    Ok(Some(match paper(stream, wait).await? {
        Some(Paper::Out) => Health::PaperOut,
        Some(Paper::Low) => Health::PaperLow,
        Some(Paper::Ok) | None => Health::Ok,
    }))
}
