//! The display feed over WebSocket: snapshot or resume first, then live messages; a ping
//! every 15 s and a drop after 60 s of silence; a lagging display is resynced. Every
//! write has a deadline and the write buffer a cap, and a display that sends more frames
//! than a display would is dropped: one that pings and never reads costs a bounded
//! buffer for a moment, not memory without end.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query as UrlQuery, State};
use axum::response::Response;
use futures_util::SinkExt;
use serde::Deserialize;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;

use super::error::ApiError;
use super::AppState;
use crate::feed::{FeedMsg, Subscription};

/// Displays connected at once; each holds a small outbox, so this bounds memory.
pub const DISPLAYS_MAX: usize = 20_000;
/// The largest frame a display may send; displays need to send nothing.
const FRAME_BYTES_MAX: usize = 1024;
/// Each connection's read buffer. The WebSocket library's default is 128 KiB, and it
/// zero-fills all of it before every read attempt: a display cost 150 KiB of resident
/// memory, and every feed message woke 128 KiB of memset per display (13 % of the
/// daemon's CPU under `hallq bench`). Displays send only pongs and closes.
const READ_BUFFER_BYTES: usize = 4 * FRAME_BYTES_MAX;
/// Messages gathered for a display before one flush (a round of the feed is always
/// written whole, so a flush may hold more).
const WRITE_BATCH_MAX: usize = 64;
const PING_EVERY: Duration = Duration::from_secs(15);
const SILENCE_MAX: Duration = Duration::from_secs(60);
/// Bytes gathered before the WebSocket library writes them out. A round of the feed (a
/// call with its window and queue messages) is far smaller, so it still goes out as one
/// write at the flush; a resume's many rounds go out in pieces of this size.
const WRITE_BUFFER_BYTES: usize = 16 * 1024;
/// The most a display's write buffer may hold, in bytes: a piece of `WRITE_BUFFER_BYTES`
/// plus the largest message (a big hall's snapshot). The library's default is unbounded,
/// and every ping of a client that never reads queued a pong in it (RSS 58 MB → 811 MB in
/// 3 s from one connection).
const WRITE_BUFFER_BYTES_MAX: usize = 1024 * 1024;
/// Longest one write to a display may take (a round, a ping, the close) before the
/// display is dropped: a display that reads nothing must not hold its task, its buffer
/// and its socket past the silence rule.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames a display may send within `FRAMES_IN_EVERY`; more close the connection. A
/// display sends one pong per ping of ours (one each `PING_EVERY`) and a close; browsers
/// send nothing else, and a client's own keep-alive pings fit many times over. Each ping
/// asks for a pong, so this is also the most pongs a client can ask for.
const FRAMES_IN_MAX: u32 = 16;
const FRAMES_IN_EVERY: Duration = PING_EVERY;

#[derive(Deserialize)]
pub struct FeedParams {
    after: Option<u64>,
}

pub async fn feed(
    State(app): State<AppState>,
    params: Result<UrlQuery<FeedParams>, axum::extract::rejection::QueryRejection>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let UrlQuery(params) =
        params.map_err(|_| ApiError::bad_request("bad_query", "after must be a log position (a whole number)"))?;
    if app.edge.displays.fetch_add(1, Ordering::SeqCst) >= DISPLAYS_MAX {
        app.edge.displays.fetch_sub(1, Ordering::SeqCst);
        return Err(ApiError::unavailable("too_many_displays", format!("at most {DISPLAYS_MAX} displays may connect")));
    }
    app.hall.metrics.displays.inc();
    // The display's place in the feed is taken now, before the upgrade's answer goes out:
    // a call made once the screen sees its connection open comes to it as a call (and is
    // said), never folded into the snapshot it is sent first, as it was when the place
    // was taken after the upgrade, on the displays' runtime.
    let sub = app.hall.feed.subscribe(params.after);
    let ws = ws
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(FRAME_BYTES_MAX)
        .max_frame_size(FRAME_BYTES_MAX)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(WRITE_BUFFER_BYTES_MAX);
    Ok(ws.on_upgrade(move |socket| async move {
        let displays = app.edge.display_runtime.clone();
        let serve = async move {
            serve_display(&app, socket, sub).await;
            app.edge.displays.fetch_sub(1, Ordering::SeqCst);
            app.hall.metrics.displays.dec();
        };
        match displays {
            Some(displays) => drop(displays.spawn(serve)),
            None => serve.await,
        }
    }))
}

async fn serve_display(app: &AppState, mut socket: WebSocket, mut sub: Subscription) {
    let mut shutdown = app.edge.shutdown.clone();
    let mut pending = std::mem::take(&mut sub.first);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut heard = Instant::now();
    let mut frames_in = FramesIn { since: heard, count: 0 };
    // Whether `pending` came off the live broadcast (a resume or a snapshot is old by
    // design and says nothing of the fan-out's latency).
    let mut from_live = false;
    loop {
        if !pending.is_empty() && !write_round(app, &mut socket, &mut pending, from_live).await {
            return;
        }
        tokio::select! {
            live = sub.rx.recv() => match live {
                Ok(batch) => from_live = take_live(app, &mut sub, &mut pending, &batch),
                Err(RecvError::Lagged(_)) => {
                    resync(app, &mut sub, &mut pending);
                    from_live = false;
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                // Any frame proves the display is alive; its content is ignored.
                Some(Ok(_)) => {
                    heard = Instant::now();
                    if !frames_in.allow(heard) {
                        tracing::debug!("a display sent more frames than a display does; dropped");
                        return;
                    }
                }
            },
            _ = ping.tick() => {
                if heard.elapsed() > SILENCE_MAX {
                    return;
                }
                let sent = tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Ping(Default::default()))).await;
                if !matches!(sent, Ok(Ok(()))) {
                    return;
                }
            }
            _ = shutdown.changed() => {
                let _ = tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Close(None))).await;
                return;
            }
        }
    }
}

/// Writes everything waiting in one round: a batch's call, window and queue messages cost
/// each display one system call, not three, under one deadline. False if the display is
/// gone or too slow. A round off the live broadcast is timed for the fan-out figure (a
/// resume or a snapshot is old by design and says nothing of it).
async fn write_round(app: &AppState, socket: &mut WebSocket, pending: &mut Vec<Arc<FeedMsg>>, from_live: bool) -> bool {
    let oldest = pending.first().filter(|_| from_live).map(|m| m.made);
    let round = async {
        for msg in pending.drain(..) {
            socket.feed(Message::Text(msg.text.clone())).await?;
        }
        socket.flush().await
    };
    if !matches!(tokio::time::timeout(WRITE_TIMEOUT, round).await, Ok(Ok(()))) {
        return false;
    }
    if let Some(made) = oldest {
        app.hall.metrics.fanout_seconds.observe(made.elapsed().as_secs_f64());
    }
    true
}

/// Takes a live batch and whatever else is waiting, up to `WRITE_BATCH_MAX` messages;
/// resyncs from a snapshot if the display fell behind the broadcast. True if what is
/// pending came off the live broadcast.
fn take_live(app: &AppState, sub: &mut Subscription, pending: &mut Vec<Arc<FeedMsg>>, batch: &[Arc<FeedMsg>]) -> bool {
    pending.extend(batch.iter().cloned());
    while pending.len() < WRITE_BATCH_MAX {
        match sub.rx.try_recv() {
            Ok(batch) => pending.extend(batch.iter().cloned()),
            Err(TryRecvError::Lagged(_)) => {
                resync(app, sub, pending);
                return false;
            }
            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
        }
    }
    true
}

/// The frames a display sent in the current span of `FRAMES_IN_EVERY`.
struct FramesIn {
    since: Instant,
    count: u32,
}

impl FramesIn {
    /// Counts a frame heard at `now`; false once the span holds more than `FRAMES_IN_MAX`.
    fn allow(&mut self, now: Instant) -> bool {
        if now.duration_since(self.since) >= FRAMES_IN_EVERY {
            *self = FramesIn { since: now, count: 0 };
        }
        self.count += 1;
        self.count <= FRAMES_IN_MAX
    }
}

/// A display that fell `OUTBOX_MAX` rounds behind starts over from a fresh snapshot;
/// what it had not been sent yet is older than that snapshot.
fn resync(app: &AppState, sub: &mut Subscription, pending: &mut Vec<Arc<FeedMsg>>) {
    app.hall.metrics.display_resyncs.inc();
    *sub = app.hall.feed.subscribe(None);
    *pending = std::mem::take(&mut sub.first);
}
