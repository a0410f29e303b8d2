//! Display clients: one task per WebSocket connection, noting when each call message
//! arrives (by number and window) so that the run can match it with the clerk's request.
//!
//! The daemon's feed and the baseline's broadcast both send JSON text frames that begin
//! with `{"type":"KIND","seq":N`; a display reads only what it needs of them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a display may take to connect and receive its first message.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A display's read buffer: feed messages are a few hundred bytes, snapshots a few KiB, so
/// the library's default of 128 KiB per connection would only cost this process memory.
const READ_BUFFER_BYTES: usize = 8 * 1024;
/// Calls a display records; a run makes at most `CALLS_PER_SEC_MAX * DURATION_S_MAX`.
const CALLS_SEEN_MAX: usize = 200_000;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A call message as a display saw it.
pub struct Seen {
    pub number: Box<str>,
    pub window: Box<str>,
    pub at: Instant,
}

/// What one display saw over the run.
#[derive(Default)]
pub struct DisplayLog {
    pub calls: Vec<Seen>,
    /// Snapshots after the first (the daemon resynced this display).
    pub resyncs: u32,
    /// The type of the first message, and when it came.
    pub first: Option<(String, Instant)>,
    /// The highest `seq` seen.
    pub last_seq: u64,
    /// Why the connection ended before the run did, if it did.
    pub ended: Option<String>,
}

/// Counters every display of a run shares.
#[derive(Default)]
pub struct Counters {
    /// Displays connected that have received their first message.
    pub ready: AtomicUsize,
    /// Call messages received, by all displays together.
    pub calls: AtomicU64,
}

#[derive(Deserialize)]
struct CallMsg {
    number: String,
    window: String,
    #[serde(default)]
    recall: bool,
}

/// The `type` and `seq` at the head of a feed message, without parsing the rest.
fn head(text: &str) -> Option<(&str, u64)> {
    let rest = text.strip_prefix("{\"type\":\"")?;
    let (kind, rest) = rest.split_once('"')?;
    let seq = rest.strip_prefix(",\"seq\":").map_or(0, |r| {
        let digits = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        r[..digits].parse().unwrap_or(0)
    });
    Some((kind, seq))
}

async fn connect(url: &str) -> Result<Ws, String> {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES).write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), false)
        .await
        .map_err(|e| format!("a display could not connect to {url}: {e}"))?;
    Ok(ws)
}

/// Connects to `url` and reads until `stop` flips; the log says what it saw.
pub async fn run(url: String, counters: Arc<Counters>, mut stop: watch::Receiver<bool>) -> DisplayLog {
    let mut log = DisplayLog::default();
    let mut ws = match tokio::time::timeout(CONNECT_TIMEOUT, connect(&url)).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => return DisplayLog { ended: Some(e), ..log },
        Err(_) => return DisplayLog { ended: Some(format!("connecting to {url} timed out")), ..log },
    };
    loop {
        let frame = tokio::select! {
            frame = ws.next() => frame,
            _ = stop.changed() => break,
        };
        let text = match frame {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(_))) | None => {
                log.ended = Some("the server closed the connection".into());
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                log.ended = Some(format!("the connection failed: {e}"));
                break;
            }
        };
        note(&mut log, text.as_str(), &counters);
        if *stop.borrow() {
            break;
        }
    }
    log
}

fn note(log: &mut DisplayLog, text: &str, counters: &Counters) {
    let at = Instant::now();
    let Some((kind, seq)) = head(text) else { return };
    log.last_seq = log.last_seq.max(seq);
    if log.first.is_none() {
        log.first = Some((kind.to_string(), at));
        counters.ready.fetch_add(1, Ordering::Relaxed);
        return;
    }
    match kind {
        "snapshot" => log.resyncs += 1,
        "call" => {
            if let Ok(call) = serde_json::from_str::<CallMsg>(text) {
                if !call.recall && log.calls.len() < CALLS_SEEN_MAX {
                    log.calls.push(Seen { number: call.number.into(), window: call.window.into(), at });
                    counters.calls.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::head;

    #[test]
    fn the_head_of_a_feed_message() {
        assert_eq!(head(r#"{"type":"call","seq":42,"number":"A001"}"#), Some(("call", 42)));
        assert_eq!(head(r#"{"type":"snapshot","seq":7}"#), Some(("snapshot", 7)));
        assert_eq!(head(r#"{"type":"hello"}"#), Some(("hello", 0)));
        assert_eq!(head("not json"), None);
    }
}
