//! The district's HTTP API: `POST /api/v1/district/login` (a supervisor of district.toml),
//! `GET /api/v1/district` (every hall as its projection has it, and the district's
//! totals, from the snapshot shared with the feed: `snapshot`), `GET /api/v1/district/stats` (a day's figures per hall and in all), `GET /healthz`. Errors in the contract's `{"error": {"code", "message"}}`
//! shape; bodies bounded as the hall's; no personal data (alerts name queues and windows,
//! never a user).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use super::consumer::HallLink;
use super::sessions::Sessions;
use super::view::{HallNow, Input};
use crate::config::{verify_password, Config, DistrictConfig, Rate};
use crate::core::model::UserName;
use crate::core::stats::Figures;
use crate::http::alerts::AlertDto;
use crate::http::dto::FiguresDto;
use crate::http::error::{self, ApiError};
use crate::http::rate::{Client, Limiter, PasswordChecks, KEYS_MAX};
use crate::http::{JsonBody, BODY_BYTES_MAX};
use crate::time::Clock;

/// Failed sign-ins one name may have from one address: five, then one a minute.
pub const LOGIN_FAILURES: Rate = Rate { burst: 5, refill_ms: 60_000 };
/// Longest user name or password read.
const CREDENTIAL_BYTES_MAX: usize = 256;
/// How long a read waits for a hall's view (busy applying a record).
const READ_WAIT: Duration = Duration::from_secs(2);

/// One hall as the API reaches it.
pub struct HallEntry {
    pub link: Arc<HallLink>,
    pub view: mpsc::Sender<Input>,
    pub config: Arc<Config>,
}

/// What the district's handlers share.
pub struct DistrictApp {
    pub config: Arc<DistrictConfig>,
    pub halls: Vec<HallEntry>,
    pub sessions: Sessions,
    pub login_failures: Limiter<(String, IpAddr)>,
    pub password_checks: PasswordChecks,
    pub clock: Clock,
    /// The district's connection to NATS, for the halls' online services (`online.rs`).
    pub nats: async_nats::Client,
    pub online: super::online::Online,
    /// Each hall's records in the replica, in the order of `halls` (the day comparison's
    /// service level replays them).
    pub logs: Vec<super::replica::HallLog>,
    /// Service-level replays running at once (`compare`).
    pub replays: tokio::sync::Semaphore,
    /// The wall screens' feed (`feed`).
    pub screens: super::feed::Screens,
    /// The district's newest reading, shared by the API and the feed (`snapshot`).
    pub snapshot: super::snapshot::Snapshot,
}

type App = Arc<DistrictApp>;

pub fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({ "ok": true })) }))
        .route("/api/v1/district/login", post(login))
        .route("/api/v1/district", get(district))
        .route("/api/v1/district/stats", get(stats))
        .merge(super::online::router())
        .merge(super::page::routes())
        .fallback(|| async { ApiError::not_found("not_found", "no such path in the district's API") })
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(app)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    user: String,
    password: String,
}

/// A hash to check a password against when the name is nobody's, so that the answer takes
/// as long either way.
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| crate::config::hash_password("no user has this password").unwrap_or_default()).clone()
}

/// `POST /api/v1/district/login`: failures are limited per name and address, and the
/// argon2 check waits for one of the per-core slots.
async fn login(
    State(app): State<App>,
    client: Client,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    if body.user.len() > CREDENTIAL_BYTES_MAX || body.password.len() > CREDENTIAL_BYTES_MAX {
        return Err(ApiError::bad_request(
            "too_long",
            format!("user and password may have at most {CREDENTIAL_BYTES_MAX} bytes"),
        ));
    }
    let pair = (body.user.clone(), client.0);
    let limited = |ms| ApiError::too_many("after failed logins for this user name", ms);
    app.login_failures.peek(&pair, (app.clock)().0).map_err(limited)?;
    let Some(slot) = app.password_checks.slot(Some(client.0)).await else {
        return Err(ApiError::too_many("of logins at once", 1_000));
    };
    let now = (app.clock)().0;
    app.login_failures.peek(&pair, now).map_err(limited)?;
    let found = app.config.users.iter().find(|u| u.name.as_str() == body.user);
    let hash = found.map_or_else(dummy_hash, |u| u.password_hash.clone());
    let password = body.password;
    let ok = slot
        .run(move || verify_password(&hash, &password))
        .await
        .ok_or_else(|| ApiError::internal("password check failed", &"the check threads are gone"))?;
    let Some(user) = found.filter(|_| ok) else {
        let _ = app.login_failures.take(&pair, now);
        tracing::info!("a district login failed");
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "the user name or password is wrong",
        ));
    };
    let token = app.sessions.create(&user.name, now);
    tracing::info!("a district supervisor logged in");
    Ok(Json(json!({ "token": token, "user": user.name.as_str(), "expires_in_s": app.config.session_ttl_s })))
}

fn supervisor(app: &DistrictApp, headers: &HeaderMap) -> Result<UserName, ApiError> {
    let token = crate::http::auth::bearer(headers).ok_or_else(ApiError::unauthorized)?;
    app.sessions.user(token, (app.clock)().0).ok_or_else(ApiError::unauthorized)
}

#[derive(Serialize)]
struct HallDto {
    id: String,
    name: String,
    online: bool,
    lag_seconds: f64,
    lag_records: u64,
    /// False when the hall's view did not answer (busy, or stopped on a bad record): the
    /// figures below are then 0.
    view: bool,
    waiting: u64,
    open_windows: u64,
    tickets_today: u64,
    longest_wait_minutes: u32,
    alerts: Vec<AlertDto>,
    /// Messages of the hall's stream the district never read and the server no longer
    /// holds (`null`: none): the figures above are then as they were before the hole, and
    /// stay so until the district's replica of the hall is rebuilt.
    gap: Option<GapDto>,
    /// The hall's smallest `[hall.thresholds]` wait in minutes (null: none set): the
    /// dashboard marks a longest wait above it.
    wait_alert_min: Option<u32>,
}

/// A hole in a hall's stream, in the stream's message numbers.
#[derive(Serialize)]
struct GapDto {
    missing_from: u64,
    missing_to: u64,
}

impl From<super::consumer::Gap> for GapDto {
    fn from(g: super::consumer::Gap) -> Self {
        Self { missing_from: g.want, missing_to: g.first.saturating_sub(1) }
    }
}

#[derive(Serialize, Default)]
struct TotalsDto {
    halls: usize,
    online: usize,
    waiting: u64,
    open_windows: u64,
    tickets_today: u64,
    longest_wait_minutes: u32,
    alerts: usize,
}

/// Asks a hall's view for its figures at now.
async fn read(hall: &HallEntry, now: crate::core::model::Ts) -> Option<HallNow> {
    let (reply, answer) = oneshot::channel();
    let ask = async {
        hall.view.send(Input::Read { now, reply }).await.ok()?;
        answer.await.ok()
    };
    tokio::time::timeout(READ_WAIT, ask).await.ok().flatten()
}

/// `GET /api/v1/district`: the shared snapshot (`snapshot`), at most a couple of
/// seconds old.
async fn district(State(app): State<App>, headers: HeaderMap) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    supervisor(&app, &headers)?;
    let text = super::snapshot::read(&app).await;
    let json = [(axum::http::header::CONTENT_TYPE, "application/json")];
    Ok((json, axum::body::Bytes::from(text)).into_response())
}

/// Every hall and the district's totals, read from each hall's view now; what
/// `GET /api/v1/district` and the wall screens' feed (`feed`) give, through `snapshot`.
pub async fn overview(app: &DistrictApp) -> Value {
    let now = (app.clock)();
    let mut halls = Vec::with_capacity(app.halls.len());
    let mut totals = TotalsDto { halls: app.halls.len(), ..Default::default() };
    for hall in &app.halls {
        let figures = read(hall, now).await;
        let (lag_records, lag_seconds) = hall.link.lag(now.0);
        let f = figures.clone().unwrap_or_default();
        let dto = HallDto {
            id: hall.link.hall_id.clone(),
            name: hall.config.setup.hall_name.clone(),
            online: hall.link.online(now.0, app.config.online_s),
            lag_seconds,
            lag_records,
            view: figures.is_some(),
            waiting: f.waiting,
            open_windows: f.open_windows,
            tickets_today: f.tickets_today,
            longest_wait_minutes: f.longest_wait_min,
            alerts: f.alerts.iter().map(|a| AlertDto::new(&hall.config, a)).collect(),
            gap: hall.link.gap().map(GapDto::from),
            wait_alert_min: hall.config.setup.alerts.queues.values().map(|t| t.wait_min).filter(|m| *m > 0).min(),
        };
        totals.online += usize::from(dto.online);
        totals.waiting += dto.waiting;
        totals.open_windows += dto.open_windows;
        totals.tickets_today += dto.tickets_today;
        totals.longest_wait_minutes = totals.longest_wait_minutes.max(dto.longest_wait_minutes);
        totals.alerts += dto.alerts.len();
        halls.push(dto);
    }
    let district = json!({ "id": app.config.id, "name": app.config.name });
    json!({ "district": district, "halls": halls, "totals": totals })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsParams {
    day: Option<String>,
}

/// One hall's day: the same figures as the hall's own `/api/v1/stats` (`total`, per
/// queue and per window).
#[derive(Serialize)]
struct HallStatsDto {
    id: String,
    name: String,
    /// The hall's service day the figures are of.
    day: String,
    /// False when the hall's view did not answer: the figures are then empty.
    view: bool,
    total: FiguresDto,
    queues: BTreeMap<String, FiguresDto>,
    windows: BTreeMap<String, FiguresDto>,
    /// As in `/api/v1/district`: a hole in the hall's stream leaves these figures short.
    gap: Option<GapDto>,
    /// 跨中心转办: the day's referrals as the hall's own `/api/v1/stats` gives them (`out`
    /// by target hall and reason, `in` by origin hall), and their counts.
    referrals: Value,
}

/// `GET /api/v1/district/stats?day=YYYY-MM-DD` (each hall's own service day by default:
/// the day its records last opened): per hall and for the district, folded by the core
/// from each hall's replayed records, each counted on the hall's day, not the district's.
async fn stats(
    State(app): State<App>,
    headers: HeaderMap,
    params: Result<Query<StatsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    supervisor(&app, &headers)?;
    let Query(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let day = match params.day {
        None => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|_| ApiError::bad_request("bad_day", "day must be a date in the form YYYY-MM-DD"))?,
        ),
    };
    let now = (app.clock)();
    let (mut halls, mut total) = (Vec::with_capacity(app.halls.len()), Figures::default());
    let mut referred = (0, 0);
    for hall in &app.halls {
        let hall_day = match day {
            Some(day) => day,
            None => read(hall, now).await.and_then(|f| f.day).unwrap_or_else(|| hall.config.setup.day_of(now)),
        };
        let (reply, answer) = oneshot::channel();
        let ask = async {
            hall.view.send(Input::Stats { day: hall_day, reply }).await.ok()?;
            answer.await.ok()
        };
        let figures = tokio::time::timeout(READ_WAIT, ask).await.ok().flatten();
        let s = figures.clone().unwrap_or_default();
        total.absorb(&s.total);
        let referrals = super::compare::Referred::of(&s.referrals);
        referred = (referred.0 + referrals.sent, referred.1 + referrals.received);
        halls.push(HallStatsDto {
            id: hall.link.hall_id.clone(),
            name: hall.config.setup.hall_name.clone(),
            day: hall_day.to_string(),
            view: figures.is_some(),
            total: (&s.total).into(),
            queues: s.by_queue.iter().map(|(q, f)| (q.to_string(), f.into())).collect(),
            windows: s.by_window.iter().map(|(w, f)| (w.to_string(), f.into())).collect(),
            gap: hall.link.gap().map(GapDto::from),
            referrals: super::compare::Referred::with_halls(referrals, &hall.config, &s.referrals),
        });
    }
    let day = day.map(|d| d.to_string());
    let referrals = super::compare::Referred { sent: referred.0, received: referred.1 }.json();
    Ok(Json(json!({ "day": day, "halls": halls, "total": FiguresDto::from(&total), "referrals": referrals })))
}

/// A new login limiter of [`LOGIN_FAILURES`].
pub fn login_limiter() -> Limiter<(String, IpAddr)> {
    Limiter::new(LOGIN_FAILURES, KEYS_MAX)
}
