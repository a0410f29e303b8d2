//! The HTTP and WebSocket edge: parse, authenticate, send a command to the engine, map
//! the answer to a status code. No hall state lives here.

mod admin;
pub(crate) mod alerts;
mod appointments;
mod audit;
pub mod auth;
mod backup;
pub mod conns;
pub mod dto;
pub mod enterprise_dto;
mod enterprises;
pub mod error;
pub mod escalation_dto;
mod escalations;
mod figures_dto;
pub mod guide_dto;
mod guides;
pub mod listen;
pub mod moves;
pub mod pages;
mod password_checks;
mod printers;
mod public;
pub mod rate;
mod rating;
pub mod referral_dto;
pub mod referrals;
mod reports;
mod scorecards;
// Issue 17 §2: the week's stuck items.
mod stuck;
pub(crate) mod tickets;
mod users;
mod voice;
mod windows;
// issue 17 §5: the hall at its real size
pub mod ticket_line;

pub use pages::DemoAnswer;
pub(crate) mod ws;

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::config::Config;
use crate::core::command::IDEMPOTENCY_KEY_BYTES_MAX;
use crate::core::model::Ts;
use crate::engine::EngineHandle;
use crate::feed::Feed;
use crate::metrics::Metrics;
use crate::time::Clock;
use auth::Sessions;
use error::ApiError;

/// The largest request body accepted, in bytes; every contract body is far smaller.
pub const BODY_BYTES_MAX: usize = 16 * 1024;
/// Deepest nesting of objects and arrays in a body: every contract body is one flat
/// object, so anything deeper is wrong before it is parsed.
pub const BODY_DEPTH_MAX: usize = 4;
/// Longest a request's body may take to arrive once its head has: a 16 KiB body crosses
/// the hall's network in milliseconds, and one sent a byte at a time holds a connection.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Longest string in a body, in bytes as sent (escapes included): a rating's 500-character
/// comment written as `\uXXXX` escapes takes 3,000.
pub const BODY_STRING_BYTES_MAX: usize = 4 * 1024;

/// What every handler shares, by whom it belongs to: the hall's services, which a handler
/// asks of the hall, and the edge's own state. Hall state is not here: it belongs to the
/// engine.
pub struct Shared {
    pub hall: Hall,
    pub edge: Edge,
}

/// The hall's services, as the edge reaches them.
pub struct Hall {
    pub config: Arc<Config>,
    pub engine: EngineHandle,
    pub feed: Arc<Feed>,
    pub metrics: Arc<Metrics>,
    /// Day reports, built off the engine from the stored log.
    pub reports: Arc<crate::reports::Reports>,
    /// The kiosks' ticket printers and what they last said of themselves.
    pub printers: crate::printer::Printers,
    /// How call-outs are spoken, and their rendered audio.
    pub voice: Arc<crate::voice::Voice>,
}

/// The edge's own: who is signed in and who a user is, the limits, the displays'
/// connections, and answers made once.
pub struct Edge {
    pub sessions: Sessions,
    /// Who each user is, asked by the sessions, the routes and the audit.
    pub identity: crate::identity::Identity,
    /// The rate limits of `[hall.limits]`.
    pub limits: rate::Limits,
    /// The daemon's clock (the engine's), for session expiry and the rate limits.
    pub clock: Clock,
    /// The key of the phone-number hash of bookings (kept in the data directory).
    pub phone_key: [u8; 32],
    /// The catalogue answer, serialised once at start.
    pub catalog: Bytes,
    /// Displays connected now.
    pub displays: AtomicUsize,
    /// The displays' own thread (`daemon::DisplayThread`), where their connections are
    /// served; `None` serves them beside HTTP.
    pub display_runtime: Option<tokio::runtime::Handle>,
    /// Flips to true when the daemon begins to shut down; WebSocket loops watch it.
    pub shutdown: watch::Receiver<bool>,
    /// Whether every hall.toml user still has the demo password: set once, beside serving,
    /// after the argon2 checks at start (unset meanwhile). The start page's demo accounts.
    pub demo_users: std::sync::OnceLock<bool>,
    /// Whether no admin has set a hall.toml user's password since the start, asked of the
    /// engine once (`GET /api/v1/demo` is anyone's to flood).
    pub demo: DemoAnswer,
    /// Whether a backup is being written: one at a time (each reads the whole log).
    pub backup_running: Arc<std::sync::atomic::AtomicBool>,
    /// Today's per-person refusals at the kiosk since the start (issue 17 follow-up point 4).
    pub person_refusals: moves::PersonRefusals,
    /// 跨中心转办 (issue 18): the connection referrals to other halls are asked over.
    pub referrals: crate::district::refer::Outbound,
}

impl Shared {
    pub fn now(&self) -> Ts {
        (self.edge.clock)()
    }
}

pub type AppState = Arc<Shared>;

/// The router of contract v1; `daemon::serve` and the tests both use this one.
pub fn router(state: AppState) -> Router {
    // What anyone may call with a ticket id or a booking code: limited per client address.
    let public = Router::new()
        .route("/api/v1/tickets/{id}", get(tickets::get))
        .route("/api/v1/tickets/{id}/cancel", post(tickets::cancel))
        .route("/api/v1/tickets/{id}/rating", post(tickets::rate))
        .route("/api/v1/tickets/{id}/rejoin", post(tickets::rejoin))
        .route("/api/v1/tickets/{id}/qr.svg", get(tickets::qr))
        .route("/api/v1/appointments", post(appointments::book))
        .route("/api/v1/appointments/slots", get(appointments::slots))
        .route("/api/v1/appointments/{code}", get(appointments::get))
        .route("/api/v1/appointments/{code}/cancel", post(appointments::cancel))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), rate::public));
    Router::new()
        .route("/healthz", get(public::healthz))
        .route("/metrics", get(public::metrics))
        .route("/api/v1/services", get(public::services))
        .route("/api/v1/hall", get(public::hall))
        .route("/api/v1/hours", get(public::hours))
        .route("/api/v1/stats", get(public::stats))
        .route("/api/v1/login", post(auth::login))
        .route("/api/v1/logout", post(auth::logout))
        .route("/api/v1/users", post(users::add))
        .route("/api/v1/users/{name}/password", post(users::reset_password))
        .route("/api/v1/users/{name}/disable", post(users::disable))
        .route("/api/v1/users/{name}/enable", post(users::enable))
        .route("/api/v1/tickets", post(tickets::issue))
        .route("/api/v1/tickets/{id}/check-in", post(appointments::check_in_ticket))
        .route("/api/v1/appointments/{code}/check-in", post(appointments::check_in))
        .route("/api/v1/windows/{w}/{action}", post(windows::act))
        .route("/api/v1/windows/{w}", get(windows::get))
        .route("/ws/feed", get(ws::feed))
        .route("/api/v1/tickets/{id}/print", post(printers::reprint))
        .route("/api/v1/kiosk/printer", get(printers::kiosk_printer))
        .route("/api/v1/printers", get(printers::list))
        .route("/", get(pages::index))
        .route("/favicon.ico", get(pages::favicon))
        .route("/api/v1/demo", get(pages::demo))
        .route("/t/{id}", get(pages::ticket_status))
        .route("/display/static/{*name}", get(pages::asset))
        .route("/display/{name}", get(pages::page))
        .route("/api/v1/voice", get(voice::info))
        .route("/api/v1/voice/{file}", get(voice::audio))
        .route("/api/v1/windows/{w}/rateable", get(rating::rateable))
        .merge(supervision())
        .merge(public)
        .fallback(public::not_found)
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(state)
}

/// The supervisors' and the hall's practices' routes: cases, escalations, audit,
/// administration, reports, alerts, guides and enterprises (each checks its roles).
fn supervision() -> Router<AppState> {
    Router::new()
        .route("/api/v1/escalations", get(escalations::list))
        .route("/api/v1/escalations/{id}/callback", post(escalations::callback))
        .route("/api/v1/escalations/{id}/resolve", post(escalations::resolve))
        .route("/api/v1/reports/escalations.csv", get(escalations::csv))
        .route("/api/v1/cases", get(rating::cases))
        .route("/api/v1/cases/{id}/callback", post(rating::callback))
        .route("/api/v1/cases/{id}/rectify", post(rating::rectify))
        .route("/api/v1/audit", get(audit::json))
        .route("/api/v1/audit.csv", get(audit::csv))
        .route("/api/v1/admin", get(admin::overview))
        .route("/api/v1/admin/backup", get(backup::backup))
        .route("/api/v1/admin/windows/{w}/queues", post(admin::set_queues))
        .route("/api/v1/admin/windows/{w}/close", post(admin::close))
        .route("/api/v1/reports/scorecards", get(scorecards::month))
        .route("/api/v1/reports/scorecards.csv", get(scorecards::csv))
        .route("/api/v1/reports/day", get(reports::day))
        .route("/api/v1/reports/day/charts/{file}", get(reports::chart))
        .route("/api/v1/reports/day/tickets.csv", get(reports::tickets_csv))
        .route("/api/v1/reports/day/figures.csv", get(reports::figures_csv))
        .route("/api/v1/alerts", get(alerts::list))
        .route("/api/v1/alerts/{id}/ack", post(alerts::ack))
        .route("/api/v1/supervision", get(alerts::overview))
        // 全程领办 (issue 17 §1): guides.
        .route("/api/v1/guide", get(guides::page))
        .route("/api/v1/guide/tickets", post(guides::assist))
        .route("/api/v1/guide/escorts", post(guides::escort))
        .route("/api/v1/guide/escorts/{number}/release", post(guides::release))
        .route("/api/v1/reports/guides.csv", get(guides::csv))
        // 助企服务 (issue 17 §3).
        .route("/api/v1/enterprise-tickets", post(enterprises::issue))
        .route("/api/v1/enterprises", get(enterprises::list))
        .route("/api/v1/enterprises/{id}", get(enterprises::get))
        .route("/api/v1/enterprises/{id}/follow-ups", post(enterprises::follow_up))
        .route("/api/v1/admin/enterprises", post(enterprises::add))
        .route("/api/v1/admin/enterprises/{id}/specialist", post(enterprises::set_specialist))
        .route("/api/v1/reports/enterprises.csv", get(enterprises::csv))
        // Issue 17 §2: the week's stuck items.
        .route("/api/v1/reports/stuck", get(stuck::json))
        .route("/api/v1/reports/stuck.csv", get(stuck::csv))
        // 跨中心转办 (issue 18).
        .merge(referrals::routes())
}

/// A JSON request body parsed into `T`, with our error format for every failure. An empty
/// body reads as `{}`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let read = tokio::time::timeout(BODY_READ_TIMEOUT, Bytes::from_request(req, state)).await.map_err(|_| {
            let secs = BODY_READ_TIMEOUT.as_secs();
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!("the body did not arrive within {secs} s"),
            )
        })?;
        let bytes = read.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(e.status(), "too_large", format!("the body may have at most {BODY_BYTES_MAX} bytes"))
            } else {
                ApiError::bad_request("bad_body", format!("the body could not be read: {e}"))
            }
        })?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
        check_shape(text)?;
        serde_json::from_slice(text).map(JsonBody).map_err(|e| {
            ApiError::bad_request("bad_json", format!("the body is not the JSON this endpoint takes: {e}"))
        })
    }
}

/// Refuses a body nested deeper than [`BODY_DEPTH_MAX`] or with a string longer than
/// [`BODY_STRING_BYTES_MAX`], in one pass over the bytes before any parsing.
pub(crate) fn check_shape(bytes: &[u8]) -> Result<(), ApiError> {
    let (mut depth, mut in_string, mut escaped, mut string_bytes) = (0usize, false, false, 0usize);
    for &b in bytes {
        if in_string {
            string_bytes += 1;
            if string_bytes > BODY_STRING_BYTES_MAX {
                return Err(ApiError::bad_request(
                    "too_long",
                    format!("a string in the body may have at most {BODY_STRING_BYTES_MAX} bytes"),
                ));
            }
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                (false, _) => {}
            }
            continue;
        }
        match b {
            b'"' => (in_string, string_bytes) = (true, 0),
            b'{' | b'[' => {
                depth += 1;
                if depth > BODY_DEPTH_MAX {
                    return Err(ApiError::bad_request(
                        "too_deep",
                        format!("the body may nest objects and arrays at most {BODY_DEPTH_MAX} deep"),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The `Idempotency-Key` header (or a body's key), scoped to `scope` — the caller: a user,
/// a kiosk, the holder of a ticket id or of a booking — so that two callers' keys never
/// collide. Within a caller's scope a key names one whole command, whatever the route:
/// the core answers its repeat and refuses any other command under it
/// (`core::fingerprint`).
pub fn idempotency_key(headers: &HeaderMap, body_key: Option<&str>, scope: &str) -> Result<Option<String>, ApiError> {
    let header = match headers.get("idempotency-key") {
        Some(v) => Some(v.to_str().map_err(|_| {
            ApiError::bad_request("bad_idempotency_key", "the Idempotency-Key header must be printable ASCII")
        })?),
        None => None,
    };
    let Some(key) = header.or(body_key) else { return Ok(None) };
    if key.is_empty() || key.len() > IDEMPOTENCY_KEY_BYTES_MAX {
        return Err(ApiError::bad_request(
            "bad_idempotency_key",
            format!("an idempotency key must have 1 to {IDEMPOTENCY_KEY_BYTES_MAX} bytes"),
        ));
    }
    Ok(Some(format!("{scope}:{key}")))
}

/// The catalogue answer, serialised once.
pub fn public_catalog(setup: &crate::core::setup::Setup, remind_ahead: u32) -> Result<Bytes, serde_json::Error> {
    public::catalog_json(setup, remind_ahead).map(Bytes::from)
}
