//! `GET /ws/district`: the district for wall screens over WebSocket. A screen signs in
//! with its first message, `{"token": "<a district supervisor's session>"}` (a browser
//! cannot set headers on a WebSocket, and a token in the address would end up in logs);
//! then it gets the district as `GET /api/v1/district` gives it at once and again whenever
//! it changes, at most one message a second.
//!
//! One task ([`watch`]) takes the district's shared snapshot (`snapshot`, as
//! `GET /api/v1/district` does) once a second while a signed-in screen listens and keeps
//! the latest text in a `watch` channel: every screen shares those bytes, and a
//! screen holds at most the one newest message, however slowly it reads; a write that
//! takes longer than `WRITE_TIMEOUT` drops the screen. Screens are bounded in all and per
//! address (an upgraded connection leaves the listener's per-address count); one that
//! does not sign in within `AUTH_WAIT`, or stays silent past `SILENCE_MAX`, or whose
//! session ends, is closed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::Instant;

use super::api::DistrictApp;
use crate::http::error::ApiError;
use crate::http::rate::Client;

/// Screens connected at once. A district has a handful of wall screens; each may hold one
/// message of the whole district (about 300 bytes a hall) in its write buffer.
pub const SCREENS_MAX: usize = 64;
/// Screens of one address at once: a control room's screens, not a flood from one
/// machine crowding out the others.
pub const SCREENS_PER_ADDRESS_MAX: usize = 8;
/// How long a new screen has to send its token.
pub const AUTH_WAIT: Duration = Duration::from_secs(5);
/// The feed reads the district this often, and sends at most one message per screen in
/// each: changes in between are coalesced into the next.
const EVERY: Duration = super::snapshot::EVERY;
const PING_EVERY: Duration = Duration::from_secs(15);
const SILENCE_MAX: Duration = Duration::from_secs(60);
/// Longest one write to a screen may take before the screen is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest frame a screen may send: its token message, pongs, a close.
const FRAME_BYTES_MAX: usize = 1024;
/// Frames a screen may send per `PING_EVERY` (a pong per ping and a few keep-alives).
const FRAMES_IN_MAX: u32 = 16;
/// The most a screen's write buffer may hold: one district message of the largest
/// district (4,096 halls) with room to spare.
const WRITE_BUFFER_BYTES_MAX: usize = 4 * 1024 * 1024;
/// The close code of a refused screen (4000-4999 are the application's): unauthorized.
const CLOSE_UNAUTHORIZED: u16 = 4401;

/// The screens connected, and the newest district message they share.
pub struct Screens {
    latest: watch::Sender<Option<Utf8Bytes>>,
    counts: Arc<Mutex<Counts>>,
    watching: AtomicBool,
}

#[derive(Default)]
struct Counts {
    all: usize,
    by_address: HashMap<IpAddr, usize>,
}

impl Default for Screens {
    fn default() -> Self {
        Self { latest: watch::Sender::new(None), counts: Arc::default(), watching: AtomicBool::new(false) }
    }
}

/// A screen's place in the counts, given back when it ends.
struct Seat {
    counts: Arc<Mutex<Counts>>,
    address: IpAddr,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        c.all = c.all.saturating_sub(1);
        if let Some(n) = c.by_address.get_mut(&self.address) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.by_address.remove(&self.address);
            }
        }
    }
}

impl Screens {
    /// A seat for a screen from `address`, or why there is none.
    fn seat(&self, address: IpAddr) -> Result<Seat, ApiError> {
        let mut c = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if c.all >= SCREENS_MAX {
            return Err(ApiError::unavailable(
                "too_many_screens",
                format!("at most {SCREENS_MAX} screens may connect"),
            ));
        }
        let mine = c.by_address.entry(address).or_default();
        if *mine >= SCREENS_PER_ADDRESS_MAX {
            return Err(ApiError::unavailable(
                "too_many_screens",
                format!("at most {SCREENS_PER_ADDRESS_MAX} screens may connect from one address"),
            ));
        }
        *mine += 1;
        c.all += 1;
        Ok(Seat { counts: self.counts.clone(), address })
    }

    /// Screens connected now.
    pub fn connected(&self) -> usize {
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).all
    }
}

pub fn routes() -> Router<Arc<DistrictApp>> {
    Router::new().route("/ws/district", get(screen))
}

/// `GET /ws/district`.
async fn screen(
    State(app): State<Arc<DistrictApp>>,
    client: Client,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let seat = app.screens.seat(client.0)?;
    if !app.screens.watching.swap(true, Ordering::SeqCst) {
        tokio::spawn(watch(Arc::downgrade(&app)));
    }
    // The screen holds the app weakly: at the stop the app, its views and the feed's
    // sender go, and every screen ends with them.
    let weak = Arc::downgrade(&app);
    let ws = ws
        .read_buffer_size(4 * FRAME_BYTES_MAX)
        .max_message_size(FRAME_BYTES_MAX)
        .max_frame_size(FRAME_BYTES_MAX)
        .max_write_buffer_size(WRITE_BUFFER_BYTES_MAX);
    Ok(ws.on_upgrade(move |socket| async move {
        let _seat = seat;
        serve(weak, socket).await;
    }))
}

/// Reads the district once each `EVERY` while a screen listens, and shares it when it
/// changed; ends with the app.
async fn watch(app: Weak<DistrictApp>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = String::new();
    loop {
        tick.tick().await;
        let Some(app) = app.upgrade() else { return };
        if app.screens.latest.receiver_count() == 0 {
            // Nobody listens: nothing is read, and the next screen waits for a fresh one.
            if !last.is_empty() {
                last.clear();
                app.screens.latest.send_replace(None);
            }
            continue;
        }
        let text = super::snapshot::read(&app).await;
        if text.as_str() != last {
            last = text.as_str().to_string();
            app.screens.latest.send_replace(Some(text));
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hello {
    token: String,
}

/// Whether `token` is a live supervisor's session (false once the district is gone).
fn signed_in(app: &Weak<DistrictApp>, token: &str) -> bool {
    app.upgrade().is_some_and(|app| app.sessions.user(token, (app.clock)().0).is_some())
}

/// The screen's first message: its token, if it is a live session's.
async fn hello(app: &Weak<DistrictApp>, socket: &mut WebSocket) -> Option<String> {
    let first = tokio::time::timeout(AUTH_WAIT, socket.recv()).await.ok()??.ok()?;
    let Message::Text(text) = first else { return None };
    let hello: Hello = serde_json::from_str(text.as_str()).ok()?;
    signed_in(app, &hello.token).then_some(hello.token)
}

async fn refuse(mut socket: WebSocket) {
    let body = r#"{"error":{"code":"unauthorized","message":"send {\"token\": \"…\"} of a district supervisor's session first"}}"#;
    let close = CloseFrame { code: CLOSE_UNAUTHORIZED, reason: Utf8Bytes::from_static("unauthorized") };
    let goodbye = async {
        socket.send(Message::Text(Utf8Bytes::from_static(body))).await?;
        socket.send(Message::Close(Some(close))).await
    };
    let _ = tokio::time::timeout(WRITE_TIMEOUT, goodbye).await;
}

async fn send(socket: &mut WebSocket, msg: Message) -> bool {
    matches!(tokio::time::timeout(WRITE_TIMEOUT, socket.send(msg)).await, Ok(Ok(())))
}

async fn serve(app: Weak<DistrictApp>, mut socket: WebSocket) {
    let Some(token) = hello(&app, &mut socket).await else {
        return refuse(socket).await;
    };
    // Only a signed-in screen listens, and so keeps the feed reading the district.
    let Some(mut rx) = app.upgrade().map(|a| a.screens.latest.subscribe()) else { return };
    // The newest message at once, if there is one yet.
    rx.mark_changed();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let (mut heard, mut frames) = (Instant::now(), (Instant::now(), 0u32));
    loop {
        tokio::select! {
            changed = rx.changed() => {
                if changed.is_err() {
                    return;
                }
                if !signed_in(&app, &token) {
                    return refuse(socket).await;
                }
                let latest = rx.borrow_and_update().clone();
                if let Some(text) = latest {
                    if !send(&mut socket, Message::Text(text)).await {
                        return;
                    }
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {
                    heard = Instant::now();
                    if heard.duration_since(frames.0) >= PING_EVERY {
                        frames = (heard, 0);
                    }
                    frames.1 += 1;
                    if frames.1 > FRAMES_IN_MAX {
                        return;
                    }
                }
            },
            _ = ping.tick() => {
                if heard.elapsed() > SILENCE_MAX {
                    return;
                }
                if !signed_in(&app, &token) {
                    return refuse(socket).await;
                }
                if !send(&mut socket, Message::Ping(Default::default())).await {
                    return;
                }
            }
        }
    }
}
