//! The hall's end of the district's online services (issue 18): the district passes a
//! visitor's booking, online take-a-number or ticket-status request to the hall over NATS
//! request/reply on `hallq.hall.<id>.cmd`, and the hall answers it as it answers its own
//! pages.
//!
//! One implementation: a request names an operation ([`Op`]) and its one argument, and
//! this module turns it into the HTTP request the hall's own public route takes, which it
//! sends through the hall's own router in-process. So the district can reach nothing but
//! the public routes [`Op`] lists, built here (a clerk's or an admin's route is no
//! operation, and an argument holding a `/` or a `?` is refused), and each decision is the
//! route's: its checks, its idempotency, its log, its answer.
//!
//! Bounded: a request's bytes ([`CMD_BYTES_MAX`], and the body's shape as the routes check
//! it), requests handled at once ([`HANDLERS_MAX`], then `503 hall_busy` at once), messages
//! waiting in the subscription ([`PENDING_MAX`]), an answer's bytes ([`REPLY_BYTES_MAX`]).
//! Rate limits are the hall's, for the visitor's own address as the district saw it (the
//! district is trusted with that: it alone may publish on the subject); the district adds
//! its own per-address and per-hall rates (`online.rs`).
//!
//! Only a hall whose uplink found its stream to be its own answers: a second daemon under
//! the same `hall_id` never subscribes (its uplink stays down, `uplink::same_history`), so
//! it cannot take half of the hall's visitors into another log.
//!
//! Referrals between halls (issue 18, 跨中心转办) travel beside them, on a subject of
//! their own per sender: [`Op::Refer`] and [`Op::WithdrawReferral`], sent by the referring
//! hall's daemon on its clerk's behalf (`refer.rs`), come on
//! `hallq.hall.<to>.peer.<from>` ([`peer_subject`]) and reach the target's
//! `POST /api/v1/referrals` (and `…/withdraw`), routes its public listener refuses (404):
//! only a request built here carries the [`crate::http::referrals::ViaCmd`] mark, naming
//! the sender the subject names. Who asked is known by the subject alone, because NATS
//! fills in no sender and a peer can forge any header or reply subject, but not a subject
//! its permissions withhold (`natsconf.rs`): the district alone may publish on
//! `hallq.hall.<id>.cmd`, and hall `<from>` only on its peers' `….peer.<from>`. So a
//! peer's identity gets the referral operations only ([`Op::for_peers`]), the district's
//! the visitors' operations only, and a referral's `from_hall` must be the subject's.
//! Without per-hall identities anyone on the server may publish anywhere, and the split
//! holds only among honest parties.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::config::DistrictLink;
use crate::http::error::ApiError;
use crate::http::listen::ClientAddr;
use crate::http::AppState;

/// The version of the request envelope.
pub const CMD_VERSION: u32 = 1;
/// The largest request read, in bytes: a route's body (at most 16 KiB, as the hall's own
/// routes take) and the envelope's few short fields.
pub const CMD_BYTES_MAX: usize = crate::http::BODY_BYTES_MAX + 1024;
/// Requests handled at once: each holds an engine command or read; past this the hall is
/// busy, and says so at once rather than letting the district's wait run out.
pub const HANDLERS_MAX: usize = 16;
/// Messages the subscription holds before the client drops new ones (a slow consumer):
/// a flood waits in a bounded queue (at most 64 of NATS's 1 MiB payloads), never in the
/// hall's memory without end.
pub const PENDING_MAX: usize = 64;
/// The largest answer sent, in bytes: under NATS's default 1 MiB payload with the
/// headers, and four times the example hall's catalogue (629 items, 226 KB).
pub const REPLY_BYTES_MAX: usize = 1000 * 1024;
/// The header of an answer that carries the route's HTTP status.
pub const STATUS_HEADER: &str = "Hallq-Status";
/// The queue group of a hall's subscription: one instance handles each request.
pub const QUEUE_GROUP: &str = "hallq-hall";
/// Longest an argument (a day, a booking code, a ticket id) or a ticket key may be.
const ARG_BYTES_MAX: usize = 64;
/// How often the task looks whether the uplink is up (and the stream the hall's own).
const LINK_POLL: Duration = Duration::from_millis(250);
/// Longest the requests in hand may take to finish at the stop.
const DRAIN_WAIT: Duration = Duration::from_secs(5);

/// A cmd answer's HTTP status, as the hall's route gave it (`STATUS_HEADER`); why not when
/// the answer has none or is larger than any the hall sends (`REPLY_BYTES_MAX`). The
/// district's online services and a referring hall read answers so.
pub fn answer_status(answer: &async_nats::Message) -> Result<StatusCode, &'static str> {
    let status = answer
        .headers
        .as_ref()
        .and_then(|h| h.get(STATUS_HEADER))
        .and_then(|v| v.as_str().parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or("the hall's answer has no status")?;
    if answer.payload.len() > REPLY_BYTES_MAX {
        return Err("the hall's answer is too large");
    }
    Ok(status)
}

/// The subject of a hall's online requests: the district's only.
pub fn cmd_subject(hall_id: &str) -> String {
    format!("hallq.hall.{hall_id}.cmd")
}

/// The subject on which hall `from` asks hall `to` about referrals (`from` may be `*`,
/// for the hall's subscription).
pub fn peer_subject(to: &str, from: &str) -> String {
    format!("hallq.hall.{to}.peer.{from}")
}

/// Who sent a request, by the subject it came on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sender {
    /// On `hallq.hall.<id>.cmd`: the district, for a visitor.
    District,
    /// On `hallq.hall.<id>.peer.<from>`: hall `<from>`'s daemon.
    Peer(String),
}

impl Sender {
    /// The sender of a message on `subject` to hall `hall_id`; `None` for any other subject.
    pub fn of(hall_id: &str, subject: &str) -> Option<Self> {
        if subject == cmd_subject(hall_id) {
            return Some(Sender::District);
        }
        let from = subject.strip_prefix(&peer_subject(hall_id, ""))?;
        (!from.is_empty() && crate::config::is_subject_token(from)).then(|| Sender::Peer(from.to_string()))
    }
}

/// What a visitor asks of a hall through the district: the hall's public routes, each
/// named. Nothing else is reachable.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `GET /api/v1/services`: the catalogue.
    Services,
    /// `GET /api/v1/hall`: the display snapshot (the booking page reads the hall's day).
    Hall,
    /// `GET /api/v1/appointments/slots?day=ARG`.
    Slots,
    /// `POST /api/v1/appointments` with the body.
    Book,
    /// `GET /api/v1/appointments/ARG`.
    Booking,
    /// `POST /api/v1/appointments/ARG/cancel`.
    CancelBooking,
    /// `POST /api/v1/tickets` from the hall's online channel (its first `kind = "remote"`
    /// kiosk), with `{"service"}` only.
    Take,
    /// `GET /api/v1/tickets/ARG`: the status page's read.
    Ticket,
    /// `GET /api/v1/tickets/ARG/qr.svg?k=K`: the hall's check of the visitor's key (403
    /// for a wrong one, as for a ticket it does not know) before the district draws its
    /// own code; the hall's drawing is not used.
    Qr,
    /// `POST /api/v1/tickets/ARG/cancel?k=K`.
    CancelTicket,
    /// `POST /api/v1/tickets/ARG/rejoin?k=K`.
    Rejoin,
    /// `POST /api/v1/tickets/ARG/rating?k=K` with the body.
    Rate,
    /// `POST /api/v1/referrals` with the body (`refer::ReferBody`): another hall's daemon
    /// refers a visitor here (issue 18).
    Refer,
    /// `POST /api/v1/referrals/withdraw` with the body (`refer::WithdrawBody`): the
    /// referring hall withdraws the ticket it could not record.
    WithdrawReferral,
}

impl Op {
    /// Whether a peer hall may ask it (on its peer subject), rather than the district
    /// for a visitor: the referral operations and nothing else.
    pub fn for_peers(self) -> bool {
        match self {
            Op::Refer | Op::WithdrawReferral => true,
            Op::Services
            | Op::Hall
            | Op::Slots
            | Op::Book
            | Op::Booking
            | Op::CancelBooking
            | Op::Take
            | Op::Ticket
            | Op::Qr
            | Op::CancelTicket
            | Op::Rejoin
            | Op::Rate => false,
        }
    }
}

/// A request on the cmd subject.
#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct CmdRequest {
    pub v: u32,
    pub op: Op,
    /// The route's one name: a day, a booking code or a ticket id.
    #[serde(default)]
    pub arg: Option<String>,
    /// The visitor's ticket key.
    #[serde(default)]
    pub k: Option<String>,
    /// The body the hall's route takes.
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The visitor's address as the district saw it, for the hall's per-address limits.
    pub client: IpAddr,
}

/// The body of `Take`: the service only (a visitor online claims no priority and gives
/// no ID card number).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TakeBody {
    service: String,
}

/// Serves the hall's cmd subject until `stop` turns true, subscribed while the uplink is
/// up; the requests in hand are finished at the stop.
pub async fn serve(link: DistrictLink, app: AppState, mut stop: watch::Receiver<bool>) {
    let router = crate::http::router(app.clone());
    let handlers = Arc::new(Semaphore::new(HANDLERS_MAX));
    let mut running = JoinSet::new();
    'outer: while !*stop.borrow() {
        if app.hall.metrics.district.connected.get() != 1 {
            tokio::select! {
                _ = tokio::time::sleep(LINK_POLL) => continue,
                _ = stop.changed() => break,
            }
        }
        let Some((client, mut sub, mut peers)) = subscribe(&link).await else {
            tokio::select! {
                _ = tokio::time::sleep(LINK_POLL * 8) => continue,
                _ = stop.changed() => break,
            }
        };
        tracing::info!(subject = %cmd_subject(&link.hall_id), "answering the district's online requests");
        let mut poll = tokio::time::interval(LINK_POLL);
        loop {
            tokio::select! {
                m = futures_util::future::select(sub.next(), peers.next()) => {
                    let Some(message) = m.factor_first().0 else { break };
                    while running.try_join_next().is_some() {}
                    let hall_id = link.hall_id.clone();
                    let job = Job { client: client.clone(), router: router.clone(), app: app.clone(), hall_id };
                    match handlers.clone().try_acquire_owned() {
                        Ok(permit) => drop(running.spawn(async move { job.answer(message).await; drop(permit) })),
                        // Answered here: a publish into the client's buffer, no task per refusal.
                        Err(_) => job.busy(message).await,
                    }
                }
                _ = poll.tick() => if app.hall.metrics.district.connected.get() != 1 { break },
                _ = stop.changed() => break 'outer,
            }
        }
        drop(sub.unsubscribe().await);
        drop(peers.unsubscribe().await);
        tracing::info!("not answering the district's online requests while the district link is down");
    }
    let drained = tokio::time::timeout(DRAIN_WAIT, async { while running.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!("online requests from the district still in hand at the stop; their answers are lost");
    }
}

/// A connection of its own (the uplink's comes and goes with its sessions), with bounded
/// subscription queues: the district's subject and the peers'.
async fn subscribe(
    link: &DistrictLink,
) -> Option<(async_nats::Client, async_nats::Subscriber, async_nats::Subscriber)> {
    let options = async_nats::ConnectOptions::new()
        .name(format!("hallq-{}-cmd", link.hall_id))
        .connection_timeout(Duration::from_secs(5))
        .subscription_capacity(PENDING_MAX);
    let options = match super::auth::hall_options(options, link).await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "the district's online requests: cannot connect to NATS");
            return None;
        }
    };
    let client = match options.connect(link.nats_url.as_str()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "the district's online requests: cannot connect to NATS");
            return None;
        }
    };
    let sub = client.queue_subscribe(cmd_subject(&link.hall_id), QUEUE_GROUP.to_string()).await.ok()?;
    let peers = client.queue_subscribe(peer_subject(&link.hall_id, "*"), QUEUE_GROUP.to_string()).await.ok()?;
    Some((client, sub, peers))
}

/// What answering one request needs.
struct Job {
    client: async_nats::Client,
    router: Router,
    app: AppState,
    hall_id: String,
}

impl Job {
    async fn answer(self, message: async_nats::Message) {
        let sender = Sender::of(&self.hall_id, message.subject.as_str());
        let request = match sender {
            Some(sender) => request_of(&self.app, &message.payload, &sender),
            None => Err(bad("bad_cmd", "not a subject of this hall's")),
        };
        let response = match request {
            Ok(req) => match self.router.clone().oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            },
            Err(e) => e.into_response(),
        };
        self.reply(message.reply, response).await;
    }

    async fn busy(self, message: async_nats::Message) {
        let busy = ApiError::unavailable("hall_busy", "the hall is answering as many online requests as it can");
        self.reply(message.reply, busy.into_response()).await;
    }

    /// Sends `response` (its status, `Retry-After` and body) to the requester, if it
    /// asked for an answer.
    async fn reply(&self, to: Option<async_nats::Subject>, response: Response) {
        let Some(to) = to else { return };
        let (parts, body) = response.into_parts();
        let (status, body) = match axum::body::to_bytes(body, REPLY_BYTES_MAX).await {
            Ok(b) => (parts.status, b),
            Err(e) => {
                let (s, b) =
                    ApiError::internal("an online answer too large for the district", &e).into_response().into_parts();
                (s.status, axum::body::to_bytes(b, REPLY_BYTES_MAX).await.unwrap_or_default())
            }
        };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(STATUS_HEADER, status.as_u16().to_string().as_str());
        if let Some(v) = parts.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()) {
            headers.insert("Retry-After", v);
        }
        if let Err(e) = self.client.publish_with_headers(to, headers, body).await {
            tracing::warn!(error = %e, "an answer to the district could not be sent");
        }
    }
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

/// The HTTP request of the hall's own public route that `payload` from `sender` asks
/// for, with the visitor's address as its connection's; or why none.
pub(crate) fn request_of(app: &AppState, payload: &[u8], sender: &Sender) -> Result<Request<Body>, ApiError> {
    if payload.len() > CMD_BYTES_MAX {
        let msg = format!("an online request may have at most {CMD_BYTES_MAX} bytes");
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", msg));
    }
    crate::http::check_shape(payload)?;
    let cmd: CmdRequest = serde_json::from_slice(payload)
        .map_err(|e| bad("bad_cmd", format!("not an online request of this hall: {e}")))?;
    if cmd.v != CMD_VERSION {
        return Err(bad("bad_cmd", format!("online requests of version {CMD_VERSION} only")));
    }
    match sender {
        Sender::Peer(from) if !cmd.op.for_peers() => {
            tracing::warn!(peer = %from, op = ?cmd.op, "a peer hall asked for a visitor's operation; refused");
            return Err(ApiError::forbidden("a peer hall may ask this hall about referrals only"));
        }
        Sender::District if cmd.op.for_peers() => {
            return Err(ApiError::forbidden("referrals come from a peer hall on its own subject, not the district's"));
        }
        Sender::Peer(_) | Sender::District => {}
    }
    let (method, path) = route_of(&cmd)?;
    let mut body = cmd.body.clone();
    let mut builder = Request::builder().method(method).uri(path);
    let mut key = cmd.idempotency_key.clone();
    if matches!(cmd.op, Op::Services | Op::Hall | Op::Take) {
        // Not behind the public routes' own per-address limit: charged here, as for a
        // visitor's phone.
        let limits = &app.edge.limits.public;
        limits
            .take(&crate::http::rate::key_of(cmd.client), app.now().0)
            .map_err(|ms| ApiError::too_many("from your address", ms))?;
    }
    if cmd.op == Op::Take {
        let kiosk = app.hall.config.kiosks.iter().find(|k| k.remote).ok_or_else(|| {
            ApiError::not_found(
                "no_online_channel",
                "this hall takes no numbers online (it has no kind = \"remote\" kiosk)",
            )
        })?;
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {}", kiosk.token));
        let take: TakeBody = serde_json::from_value(body.take().unwrap_or_default())
            .map_err(|e| bad("bad_json", format!("an online ticket takes {{\"service\"}} only: {e}")))?;
        body = Some(serde_json::json!({ "service": take.service }));
        // Every visitor's online tickets share the channel's key scope: a key is made the
        // visitor's own, so that one visitor's key never answers with another's ticket.
        key = key.map(|k| scoped_key(app, cmd.client, &k));
    }
    if let Some(k) = &key {
        builder = builder.header("idempotency-key", k.as_str());
    }
    if cmd.op == Op::Qr {
        // The hall's route draws its code for the address asked by; the district draws its
        // own for its address and reads only the status.
        builder = builder.header(header::HOST, "district.invalid");
    }
    let bytes = match &body {
        Some(b) => Bytes::from(serde_json::to_vec(b).map_err(|e| ApiError::internal("an online body", &e))?),
        None => Bytes::new(),
    };
    if body.is_some() {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    let mut req = builder.body(Body::from(bytes)).map_err(|e| bad("bad_cmd", format!("not a request: {e}")))?;
    req.extensions_mut().insert(ConnectInfo(ClientAddr(SocketAddr::new(cmd.client, 0))));
    if let Sender::Peer(from) = sender {
        req.extensions_mut().insert(crate::http::referrals::ViaCmd { from_hall: from.clone() });
    }
    Ok(req)
}

/// The method and path (with its query) of `cmd`'s route, its argument and key checked.
fn route_of(cmd: &CmdRequest) -> Result<(Method, String), ApiError> {
    let arg = || -> Result<&str, ApiError> {
        let a = cmd.arg.as_deref().ok_or_else(|| bad("bad_cmd", format!("{:?} needs its arg", cmd.op)))?;
        let ok = !a.is_empty() && a.len() <= ARG_BYTES_MAX && a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        ok.then_some(a).ok_or_else(|| bad("bad_arg", "an arg is 1 to 64 letters, digits and '-'"))
    };
    let key = || -> Result<&str, ApiError> {
        let k = cmd.k.as_deref().unwrap_or_default();
        let ok = !k.is_empty() && k.len() <= ARG_BYTES_MAX && k.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then_some(k).ok_or_else(|| bad("bad_key", "a ticket's key k is 1 to 64 hex digits"))
    };
    Ok(match cmd.op {
        Op::Services => (Method::GET, "/api/v1/services".into()),
        Op::Hall => (Method::GET, "/api/v1/hall".into()),
        Op::Slots => (Method::GET, format!("/api/v1/appointments/slots?day={}", arg()?)),
        Op::Book => (Method::POST, "/api/v1/appointments".into()),
        Op::Booking => (Method::GET, format!("/api/v1/appointments/{}", arg()?)),
        Op::CancelBooking => (Method::POST, format!("/api/v1/appointments/{}/cancel", arg()?)),
        Op::Take => (Method::POST, "/api/v1/tickets".into()),
        // With the visitor's key, when given: a referred ticket's link to its new hall.
        Op::Ticket if cmd.k.is_some() => (Method::GET, format!("/api/v1/tickets/{}?k={}", arg()?, key()?)),
        Op::Ticket => (Method::GET, format!("/api/v1/tickets/{}", arg()?)),
        Op::Qr => (Method::GET, format!("/api/v1/tickets/{}/qr.svg?k={}", arg()?, key()?)),
        Op::CancelTicket => (Method::POST, format!("/api/v1/tickets/{}/cancel?k={}", arg()?, key()?)),
        Op::Rejoin => (Method::POST, format!("/api/v1/tickets/{}/rejoin?k={}", arg()?, key()?)),
        Op::Rate => (Method::POST, format!("/api/v1/tickets/{}/rating?k={}", arg()?, key()?)),
        Op::Refer => (Method::POST, "/api/v1/referrals".into()),
        Op::WithdrawReferral => (Method::POST, "/api/v1/referrals/withdraw".into()),
    })
}

/// A visitor's idempotency key made theirs: a keyed hash of their address and the key
/// (the address never reaches the log), 32 hex digits.
fn scoped_key(app: &AppState, client: IpAddr, key: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&app.edge.phone_key) else { return key.to_string() };
    mac.update(b"hallq online take key v1:");
    mac.update(crate::http::rate::key_of(client).to_string().as_bytes());
    mac.update(b":");
    mac.update(key.as_bytes());
    mac.finalize().into_bytes().iter().take(16).map(|b| format!("{b:02x}")).collect()
}
