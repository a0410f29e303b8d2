//! The district's online services for every hall (issue 18): a visitor books a slot,
//! takes a number online and follows the ticket at the district's address, and the hall
//! decides. `/api/v1/halls/<id>/…` mirrors the hall's public routes (the booking page's,
//! the online channel's issue, the status page's); each request goes to the hall's daemon
//! over NATS request/reply on `hallq.hall.<id>.cmd` (`cmd.rs`, the hall's end) and the
//! hall's answer comes back as it is: its status, its body.
//!
//! A hall that does not answer within [`ONLINE_WAIT`] (stopped, cut off, or no such
//! subscriber) gets `503 hall_unreachable`, "该中心暂时无法连接". The hall decided either
//! all of a request or none of it; a POST always carries an idempotency key (the client's,
//! or one made here), so the client's retry with its own key after a 503 gets the first
//! answer, never a second booking.
//!
//! The pages are the hall's own (`display/book.html`, `status.html`), served here as they
//! are: with `?hall=<id>` in their address they call these routes instead of the hall's.
//!
//! Bounded: bodies as the hall's (16 KiB, shape), requests per visitor's address
//! ([`PER_ADDRESS`]), requests per hall through the district ([`PER_HALL`], so that a flood
//! through the district, which the hall would see as many addresses, stays within what
//! a hall answers) and per hall at once ([`IN_FLIGHT_PER_HALL`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rand::RngCore;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::api::DistrictApp;
use super::cmd::{cmd_subject, CmdRequest, Op, CMD_VERSION};
use crate::config::Rate;
use crate::core::command::IDEMPOTENCY_KEY_BYTES_MAX;
use crate::http::error::ApiError;
use crate::http::pages;
use crate::http::rate::{Client, Limiter, KEYS_MAX};
use crate::http::JsonBody;

/// How long the district waits for a hall's answer: a hall answers in milliseconds; a
/// visitor waits no longer than this to hear that it cannot.
pub const ONLINE_WAIT: Duration = Duration::from_secs(3);
/// Requests one visitor's address may make: as a hall's own public routes (60, then one
/// a second).
pub const PER_ADDRESS: Rate = Rate { burst: 60, refill_ms: 1_000 };
/// Requests through the district to one hall: 200, then 50 a second, whoever sends them.
pub const PER_HALL: Rate = Rate { burst: 200, refill_ms: 20 };
/// Requests to one hall awaiting its answer: as many as the hall handles at once
/// (`cmd::HANDLERS_MAX`).
pub const IN_FLIGHT_PER_HALL: usize = super::cmd::HANDLERS_MAX;
/// What the visitor reads when the hall does not answer.
pub const UNREACHABLE: &str = "该中心暂时无法连接";

/// The district's own state of the online services.
pub struct Online {
    per_address: Limiter<IpAddr>,
    per_hall: Limiter<String>,
    in_flight: HashMap<String, Arc<Semaphore>>,
}

impl Online {
    pub fn new(hall_ids: impl IntoIterator<Item = String>) -> Self {
        let in_flight = hall_ids.into_iter().map(|h| (h, Arc::new(Semaphore::new(IN_FLIGHT_PER_HALL)))).collect();
        Self { per_address: Limiter::new(PER_ADDRESS, KEYS_MAX), per_hall: Limiter::new(PER_HALL, KEYS_MAX), in_flight }
    }
}

type App = Arc<DistrictApp>;

/// The online routes and the pages, merged into `api::router`.
pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/halls/{hall}/services", get(services))
        .route("/api/v1/halls/{hall}/hall", get(hall_now))
        .route("/api/v1/halls/{hall}/appointments", post(book))
        .route("/api/v1/halls/{hall}/appointments/slots", get(slots))
        .route("/api/v1/halls/{hall}/appointments/{code}", get(booking))
        .route("/api/v1/halls/{hall}/appointments/{code}/cancel", post(cancel_booking))
        .route("/api/v1/halls/{hall}/tickets", post(take))
        .route("/api/v1/halls/{hall}/tickets/{id}", get(ticket))
        .route("/api/v1/halls/{hall}/tickets/{id}/qr.svg", get(qr))
        .route("/api/v1/halls/{hall}/tickets/{id}/{action}", post(visitor))
        .route("/display/book", get(|| async { pages::file("book.html") }))
        .route("/display/take", get(|| async { pages::file("take.html") }))
        .route("/t/{id}", get(pages::ticket_status))
    // The pages' static files are the dashboard's route (`page::routes`).
}

/// One request for a hall, as the route read it.
struct Call {
    op: Op,
    arg: Option<String>,
    k: Option<String>,
    body: Option<Value>,
}

impl Call {
    fn new(op: Op) -> Self {
        Self { op, arg: None, k: None, body: None }
    }
    fn arg(mut self, arg: String) -> Self {
        self.arg = Some(arg);
        self
    }
}

/// The query parameters these routes read; others are ignored, as the hall ignores them.
#[derive(Deserialize, Default)]
struct Params {
    day: Option<String>,
    k: Option<String>,
}

type ParamsQuery = Result<Query<Params>, axum::extract::rejection::QueryRejection>;
type Body = Result<JsonBody<Value>, ApiError>;

fn params(q: ParamsQuery) -> Params {
    q.map(|Query(p)| p).unwrap_or_default()
}

async fn services(State(app): State<App>, client: Client, Path(hall): Path<String>, h: HeaderMap) -> Response {
    forward(&app, client, &hall, &h, Call::new(Op::Services)).await
}

async fn hall_now(State(app): State<App>, client: Client, Path(hall): Path<String>, h: HeaderMap) -> Response {
    forward(&app, client, &hall, &h, Call::new(Op::Hall)).await
}

async fn slots(State(app): State<App>, c: Client, Path(hall): Path<String>, q: ParamsQuery, h: HeaderMap) -> Response {
    let day = params(q).day.unwrap_or_default();
    forward(&app, c, &hall, &h, Call::new(Op::Slots).arg(day)).await
}

async fn book(State(app): State<App>, client: Client, Path(hall): Path<String>, h: HeaderMap, body: Body) -> Response {
    match body {
        Ok(JsonBody(b)) => forward(&app, client, &hall, &h, Call { body: Some(b), ..Call::new(Op::Book) }).await,
        Err(e) => e.into_response(),
    }
}

async fn booking(
    State(app): State<App>,
    c: Client,
    Path((hall, code)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    forward(&app, c, &hall, &h, Call::new(Op::Booking).arg(code)).await
}

async fn cancel_booking(
    State(app): State<App>,
    client: Client,
    Path((hall, code)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    forward(&app, client, &hall, &h, Call::new(Op::CancelBooking).arg(code)).await
}

async fn take(State(app): State<App>, client: Client, Path(hall): Path<String>, h: HeaderMap, body: Body) -> Response {
    match body {
        Ok(JsonBody(b)) => forward(&app, client, &hall, &h, Call { body: Some(b), ..Call::new(Op::Take) }).await,
        Err(e) => e.into_response(),
    }
}

async fn ticket(
    State(app): State<App>,
    c: Client,
    Path((hall, id)): Path<(String, String)>,
    q: ParamsQuery,
    h: HeaderMap,
) -> Response {
    // The visitor's key, when the page has it: a referred ticket shows its new hall's link.
    let k = params(q).k;
    forward(&app, c, &hall, &h, Call { k, ..Call::new(Op::Ticket).arg(id) }).await
}

/// `GET …/tickets/{id}/qr.svg?k=`: the code an online visitor shows a kiosk's scanner to
/// check in (the status page shows it until they do): the ticket's status page at the
/// district, with its key. The hall checks the key first, by its own `qr.svg` route
/// (under the online limits): a wrong key gets the hall's 403, the same answer as a ticket
/// it does not know, so the route tells nothing to a guesser and draws nothing for any
/// text.
async fn qr(
    State(app): State<App>,
    c: Client,
    Path((hall, id)): Path<(String, String)>,
    q: ParamsQuery,
    h: HeaderMap,
) -> Response {
    let hex = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_hexdigit());
    let Some(k) = params(q).k.filter(|k| hex(k, 64)) else {
        return ApiError::bad_request("bad_key", "a ticket's key k is 1 to 64 hex digits").into_response();
    };
    if !hex(&id, 32) {
        return ApiError::bad_request("bad_id", "a ticket id is 32 hex digits").into_response();
    }
    let known = forward(&app, c, &hall, &h, Call { k: Some(k.clone()), ..Call::new(Op::Qr).arg(id.clone()) }).await;
    if !known.status().is_success() {
        return known;
    }
    let Some(base) = crate::http::tickets::public_base(&h) else {
        return crate::http::tickets::bad_host().into_response();
    };
    crate::http::tickets::qr_svg(&format!("{base}/t/{id}?hall={hall}&k={k}"))
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST …/tickets/{id}/cancel?k=`, `…/rejoin?k=`, `…/rating?k=` (with its body).
async fn visitor(
    State(app): State<App>,
    client: Client,
    Path((hall, id, action)): Path<(String, String, String)>,
    q: ParamsQuery,
    h: HeaderMap,
    body: Body,
) -> Response {
    let op = match action.as_str() {
        "cancel" => Op::CancelTicket,
        "rejoin" => Op::Rejoin,
        "rating" => Op::Rate,
        _ => return ApiError::not_found("not_found", "no such path in the district's API").into_response(),
    };
    let body = match (op, body) {
        (Op::Rate, Ok(JsonBody(b))) => Some(b),
        (Op::Rate, Err(e)) => return e.into_response(),
        _ => None,
    };
    forward(&app, client, &hall, &h, Call { op, arg: Some(id), k: params(q).k, body }).await
}

/// The client's `Idempotency-Key`, or for a POST one made here.
fn idempotency_key(op: Op, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let bad = || {
        let msg = format!("an Idempotency-Key is 1 to {IDEMPOTENCY_KEY_BYTES_MAX} bytes of printable ASCII");
        ApiError::bad_request("bad_idempotency_key", msg)
    };
    if let Some(v) = headers.get("idempotency-key") {
        let k = v.to_str().map_err(|_| bad())?;
        return (!k.is_empty() && k.len() <= IDEMPOTENCY_KEY_BYTES_MAX).then(|| Some(k.to_string())).ok_or_else(bad);
    }
    let reads = matches!(op, Op::Services | Op::Hall | Op::Slots | Op::Booking | Op::Ticket | Op::Qr);
    if reads {
        return Ok(None);
    }
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Ok(Some(bytes.iter().map(|b| format!("{b:02x}")).collect()))
}

/// Sends `call` to hall `hall_id` and answers with the hall's answer; the limits first.
async fn forward(app: &DistrictApp, client: Client, hall_id: &str, headers: &HeaderMap, call: Call) -> Response {
    match ask(app, client, hall_id, headers, call).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn ask(
    app: &DistrictApp,
    client: Client,
    hall_id: &str,
    headers: &HeaderMap,
    call: Call,
) -> Result<Response, ApiError> {
    let online = &app.online;
    let now = (app.clock)().0;
    online.per_address.take(&client.0, now).map_err(|ms| ApiError::too_many("from your address", ms))?;
    let in_flight = online.in_flight.get(hall_id).ok_or_else(|| {
        ApiError::not_found("unknown_hall", "the district has no hall by this id (GET /api/v1/district lists them)")
    })?;
    online
        .per_hall
        .take(&hall_id.to_string(), now)
        .map_err(|ms| ApiError::too_many("to this hall through the district", ms))?;
    let _permit = in_flight
        .clone()
        .try_acquire_owned()
        .map_err(|_| unreachable_now("the hall has as many online requests in hand as it answers at once"))?;
    let op = call.op;
    let request = CmdRequest {
        v: CMD_VERSION,
        op,
        arg: call.arg,
        k: call.k,
        body: call.body,
        idempotency_key: idempotency_key(op, headers)?,
        client: client.0,
    };
    let payload = serde_json::to_vec(&request).map_err(|e| ApiError::internal("an online request", &e))?;
    let asked = async_nats::client::Request::new().payload(Bytes::from(payload)).timeout(Some(ONLINE_WAIT));
    let answer = app.nats.send_request(cmd_subject(hall_id), asked).await.map_err(|e| {
        tracing::info!(hall = hall_id, error = %e, "a hall did not answer an online request");
        unreachable_now("the hall did not answer in time; nothing was done there unless it says so on a retry with the same Idempotency-Key")
    })?;
    answer_of(hall_id, op, answer)
}

fn unreachable_now(why: &str) -> ApiError {
    let mut e = ApiError::unavailable("hall_unreachable", format!("{UNREACHABLE}: {why}"));
    e.retry_after_s = Some(5);
    e
}

/// The hall's answer as the visitor gets it: its status and body, and for a ticket the
/// status page's address at the district.
fn answer_of(hall_id: &str, op: Op, answer: async_nats::Message) -> Result<Response, ApiError> {
    let status = super::cmd::answer_status(&answer).map_err(unreachable_now)?;
    let mut body = answer.payload.clone();
    if status.is_success() && matches!(op, Op::Take | Op::Ticket) {
        body = at_district(hall_id, &body).unwrap_or(body);
    }
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    let retry = answer.headers.as_ref().and_then(|h| h.get("Retry-After")).and_then(|v| v.as_str().parse::<u64>().ok());
    if let Some(secs) = retry {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    Ok(response)
}

/// A ticket answer with its `status_url` at the district: `/t/<id>?hall=<hall>` and the
/// visitor's key where the hall gave it.
fn at_district(hall_id: &str, body: &[u8]) -> Option<Bytes> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let ticket = &mut value;
    let id = ticket.get("id")?.as_str()?.to_string();
    let url = match ticket.get("key").and_then(Value::as_str) {
        Some(k) => format!("/t/{id}?hall={hall_id}&k={k}"),
        None => format!("/t/{id}?hall={hall_id}"),
    };
    *ticket.get_mut("status_url")? = Value::String(url);
    serde_json::to_vec(&value).ok().map(Bytes::from)
}
