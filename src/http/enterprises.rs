//! 助企服务 endpoints: a kiosk's enterprise ticket by credit code, the registry and the
//! follow-up logs for staff, an admin's changes to the registry, the figures' CSV.
//!
//! Who may do what: only a hall kiosk (not the online channel) turns a credit code into a
//! ticket, at most `[hall.limits] enterprise_code_burst` codes at once and one per
//! `enterprise_code_refill_ms` after, whether they are registered or not, and its answer
//! names no enterprise; an enterprise's log is read and written by its specialist and by
//! supervisors; admins add enterprises and name specialists; the CSV is for supervisors
//! and admins. A credit code is hashed the moment it is read (`credit_code`) and goes no
//! further: not to the engine, the log, an answer or a log line.

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;

use super::enterprise_dto::{EnterpriseDto, EnterpriseIssuedDto, EnterpriseLogDto, EnterpriseStatsDto, LineDto};
use super::error::ApiError;
use super::tickets::{for_visitor, new_ticket_id, ticket_command_view};
use super::{auth, idempotency_key, AppState, JsonBody};
use crate::config::Role;
use crate::core::enterprise::{EnterpriseDef, EnterpriseId, FollowUpKind};
use crate::core::model::UserName;
use crate::core::{Command, Envelope};
use crate::credit_code::CreditCode;
use crate::engine::EnterpriseView;

/// The longest follow-up list or registry answered, in entries.
pub const LISTED_MAX: usize = 1_000;

/// The per-kiosk limiter of credit-code look-ups (`[hall.limits] enterprise_code_*`); off
/// where `[hall.limits]` turns the kiosks' own limit off (a load test).
pub(super) fn code_limiter(limits: &crate::config::RateLimits) -> super::rate::Limiter<String> {
    let rate = if limits.kiosk.is_off() { limits.kiosk } else { limits.enterprise_codes };
    super::rate::Limiter::new(rate, super::rate::KEYS_MAX)
}

fn no_registry() -> ApiError {
    ApiError::not_found("no_enterprises", "this hall keeps no enterprise registry ([enterprises] in hall.toml)")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    /// The credit code, typed or as a licence scanner typed it (a URL holding it).
    code: String,
    service: String,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// `POST /api/v1/enterprise-tickets` with `{"code", "service"}` (a hall kiosk): the
/// enterprise's ticket, to its specialist's window when open, else the enterprise queue.
/// An unregistered code is a 404 after which the kiosk offers an ordinary ticket.
pub async fn issue(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<IssueBody>,
) -> Result<(StatusCode, Json<EnterpriseIssuedDto>), ApiError> {
    let kiosk = auth::kiosk(&app, &headers)?;
    if kiosk.remote {
        return Err(ApiError::forbidden("enterprise tickets are taken at the hall's kiosks"));
    }
    app.hall.config.setup.enterprises.as_ref().ok_or_else(no_registry)?;
    let now = app.now().0;
    let limits = &app.edge.limits;
    limits.for_kiosk(&kiosk.id).take(&kiosk.id, now).map_err(|ms| ApiError::too_many("from this kiosk", ms))?;
    limits
        .enterprise_codes
        .take(&kiosk.id, now)
        .map_err(|ms| ApiError::too_many("of credit codes from this kiosk", ms))?;
    let code = CreditCode::find(&body.code).map_err(|e| ApiError::bad_request("bad_credit_code", e.to_string()))?;
    let hash = code.hash(&app.edge.phone_key);
    let found = app.hall.engine.read(move |r| r.enterprise_by_hash(&hash)).await?;
    let Some(found) = found else {
        return Err(ApiError::not_found(
            "unknown_enterprise",
            "本中心未登记此统一社会信用代码，可取普通企业服务号 (this code is not registered here; take an ordinary enterprise ticket)",
        ));
    };
    let key = idempotency_key(&headers, body.idempotency_key.as_deref(), &format!("kiosk:{}", kiosk.id))?;
    let (id, kiosk_id) = (new_ticket_id(), kiosk.id.clone());
    let enterprise = found.enterprise.id;
    let command = Command::IssueEnterpriseTicket { id, service: body.service, kiosk: kiosk_id, enterprise };
    let (view, repeated) = ticket_command_view(&app, Envelope { command, idempotency_key: key }).await?;
    let status = if repeated { StatusCode::OK } else { StatusCode::CREATED };
    let line = LineDto::new(&app.hall.config, view.ticket.target_window);
    let ticket = for_visitor(&app, super::dto::TicketDto::new(&app.hall.config, &view));
    let print = super::printers::after_issue(&app, &kiosk.id, &headers, &view, repeated);
    // A count, never the code or the enterprise: the log line tells only that one came.
    tracing::debug!(line = line.line, "an enterprise ticket was issued");
    let issued = super::printers::IssuedDto { ticket, print };
    Ok((status, Json(EnterpriseIssuedDto { issued, enterprise: line })))
}

/// 助企服务 booking: the window of the specialist of the enterprise whose credit code is
/// `text` — the first of the specialist's hall.toml windows. Look-ups count against the
/// client address like a kiosk's against the kiosk; an unregistered code is a 404 (the
/// visitor may book without one), and the answer names no enterprise.
pub(super) async fn booking_window(
    app: &AppState,
    client: std::net::IpAddr,
    text: &str,
) -> Result<crate::core::model::WindowId, ApiError> {
    app.hall.config.setup.enterprises.as_ref().ok_or_else(no_registry)?;
    let limited = app.edge.limits.enterprise_codes.take(&format!("addr:{client}"), app.now().0);
    limited.map_err(|ms| ApiError::too_many("of credit codes from this address", ms))?;
    let code = CreditCode::find(text).map_err(|e| ApiError::bad_request("bad_credit_code", e.to_string()))?;
    let hash = code.hash(&app.edge.phone_key);
    let found = app.hall.engine.read(move |r| r.enterprise_by_hash(&hash)).await?;
    let e = found.ok_or_else(|| {
        ApiError::not_found("unknown_enterprise", "this credit code is not registered here; book without it")
    })?;
    let user = app.hall.config.users.iter().find(|u| u.name == e.enterprise.specialist);
    user.and_then(|u| u.windows.first().copied()).ok_or_else(|| {
        ApiError::not_found(
            "no_specialist_window",
            "the enterprise's specialist has no window of their own; book without the code",
        )
    })
}

/// The signed-in staff member who may see `e`'s log: its specialist or a supervisor.
fn may_follow(session: &auth::Session, e: &EnterpriseDef) -> Result<(), ApiError> {
    if session.role == Role::Supervisor || e.specialist == session.user {
        return Ok(());
    }
    Err(ApiError::forbidden("an enterprise's log is for its specialist and supervisors"))
}

fn enterprise_id(id: &str) -> Result<EnterpriseId, ApiError> {
    EnterpriseId::parse(id).map_err(|_| ApiError::not_found("unknown_enterprise", "no such enterprise"))
}

async fn one(app: &AppState, id: EnterpriseId) -> Result<EnterpriseView, ApiError> {
    let found = app.hall.engine.read(move |r| r.enterprise(&id)).await?;
    found.ok_or_else(|| ApiError::not_found("unknown_enterprise", "no such enterprise"))
}

/// `GET /api/v1/enterprises`: the registry as staff see it — a clerk the enterprises they
/// are specialist of, supervisors and admins all of them (names, specialists, counts;
/// never a credit code).
pub async fn list(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<serde_json::Value>, ApiError> {
    let session = auth::user(&app, &headers, &[Role::Clerk, Role::Supervisor, Role::Admin])?;
    app.hall.config.setup.enterprises.as_ref().ok_or_else(no_registry)?;
    let all = app.hall.engine.read(|r| r.enterprises()).await?;
    let mine = |v: &&EnterpriseView| session.role != Role::Clerk || v.enterprise.specialist == session.user;
    let list: Vec<EnterpriseDto> =
        all.iter().filter(mine).take(LISTED_MAX).map(|v| EnterpriseDto::new(&app.hall.config, v)).collect();
    let kinds: Vec<serde_json::Value> = FollowUpKind::ALL
        .iter()
        .map(|k| serde_json::json!({ "code": k.as_str(), "name": super::enterprise_dto::kind_text(*k) }))
        .collect();
    let role = session.role.as_str();
    Ok(Json(serde_json::json!({ "role": role, "enterprises": list, "follow_up_kinds": kinds })))
}

/// `GET /api/v1/enterprises/{id}`: one enterprise with its follow-up log, newest first.
pub async fn get(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<EnterpriseLogDto>, ApiError> {
    let session = auth::user(&app, &headers, &[Role::Clerk, Role::Supervisor])?;
    let view = one(&app, enterprise_id(&id)?).await?;
    may_follow(&session, &view.enterprise)?;
    Ok(Json(EnterpriseLogDto::new(&app.hall.config, &view)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpBody {
    kind: String,
    date: String,
    note: String,
}

/// `POST /api/v1/enterprises/{id}/follow-ups` with `{"kind", "date", "note"}`: its
/// specialist or a supervisor adds a referral or milestone; 201 with the log.
pub async fn follow_up(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<FollowUpBody>,
) -> Result<(StatusCode, Json<EnterpriseLogDto>), ApiError> {
    let session = auth::user(&app, &headers, &[Role::Clerk, Role::Supervisor])?;
    let id = enterprise_id(&id)?;
    may_follow(&session, &one(&app, id.clone()).await?.enterprise)?;
    let kind = FollowUpKind::parse(&body.kind).ok_or_else(|| {
        ApiError::bad_request("bad_kind", "kind is one of referral, project, approval, construction, production")
    })?;
    let date = NaiveDate::parse_from_str(&body.date, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request("bad_day", "date must be a date in the form YYYY-MM-DD"))?;
    let key = idempotency_key(&headers, None, &format!("user:{}", session.user))?;
    let by = session.user.clone();
    let command = Command::AddFollowUp { enterprise: id.clone(), kind, date, note: body.note, by };
    app.hall.engine.command(Envelope { command, idempotency_key: key }).await?;
    let view = one(&app, id).await?;
    Ok((StatusCode::CREATED, Json(EnterpriseLogDto::new(&app.hall.config, &view))))
}

/// `specialist` if it names a clerk (of hall.toml or added by an admin).
async fn clerk(app: &AppState, specialist: &str) -> Result<UserName, ApiError> {
    let user = app.edge.identity.user(specialist).await?;
    match user {
        Some(u) if u.role == Role::Clerk => Ok(u.name),
        _ => Err(ApiError::bad_request("bad_specialist", "the specialist must be a user with the clerk role")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBody {
    id: String,
    name: String,
    credit_code: String,
    specialist: String,
}

/// `POST /api/v1/admin/enterprises` with `{"id", "name", "credit_code", "specialist"}`:
/// admins only; the code is checked and hashed here and kept nowhere.
pub async fn add(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AddBody>,
) -> Result<(StatusCode, Json<EnterpriseDto>), ApiError> {
    let admin = auth::user(&app, &headers, &[Role::Admin])?;
    app.hall.config.setup.enterprises.as_ref().ok_or_else(no_registry)?;
    let id =
        EnterpriseId::parse(body.id.trim()).map_err(|e| ApiError::bad_request("bad_enterprise_id", e.to_string()))?;
    let code =
        CreditCode::parse(&body.credit_code).map_err(|e| ApiError::bad_request("bad_credit_code", e.to_string()))?;
    let specialist = clerk(&app, &body.specialist).await?;
    let enterprise =
        EnterpriseDef { id: id.clone(), name: body.name, code_hash: code.hash(&app.edge.phone_key), specialist };
    let key = idempotency_key(&headers, None, &format!("user:{}", admin.user))?;
    let command = Command::AddEnterprise { enterprise, by: admin.user };
    app.hall.engine.command(Envelope { command, idempotency_key: key }).await?;
    tracing::info!("an admin added an enterprise");
    Ok((StatusCode::CREATED, Json(EnterpriseDto::new(&app.hall.config, &one(&app, id).await?))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialistBody {
    specialist: String,
}

/// `POST /api/v1/admin/enterprises/{id}/specialist` with `{"specialist"}`: admins only.
pub async fn set_specialist(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SpecialistBody>,
) -> Result<Json<EnterpriseDto>, ApiError> {
    let admin = auth::user(&app, &headers, &[Role::Admin])?;
    let id = enterprise_id(&id)?;
    let specialist = clerk(&app, &body.specialist).await?;
    let key = idempotency_key(&headers, None, &format!("user:{}", admin.user))?;
    let command = Command::SetSpecialist { enterprise: id.clone(), specialist, by: admin.user };
    app.hall.engine.command(Envelope { command, idempotency_key: key }).await?;
    Ok(Json(EnterpriseDto::new(&app.hall.config, &one(&app, id).await?)))
}

/// `stats.enterprises` of `day`, when the hall keeps a registry.
pub async fn stats_part(app: &AppState, day: NaiveDate) -> Result<Option<EnterpriseStatsDto>, ApiError> {
    if app.hall.config.setup.enterprises.is_none() {
        return Ok(None);
    }
    let days = app.hall.engine.read(move |r| r.enterprise_days(day, day)).await?;
    let figures = days.into_iter().next().map(|(_, f)| f).unwrap_or_default();
    Ok(Some(EnterpriseStatsDto::new(&figures)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CsvParams {
    since: Option<String>,
    until: Option<String>,
}

/// `GET /api/v1/reports/enterprises.csv?since=&until=` (supervisors and admins; the last
/// 31 days by default): per day and specialist, the enterprise visits, then per day the
/// tickets and the personal line's share.
pub async fn csv(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Result<UrlQuery<CsvParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    auth::user(&app, &headers, &[Role::Supervisor, Role::Admin])?;
    let UrlQuery(p) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let date = |s: Option<&str>| -> Result<Option<NaiveDate>, ApiError> {
        s.filter(|s| !s.is_empty())
            .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d"))
            .transpose()
            .map_err(|_| ApiError::bad_request("bad_day", "days are dates in the form YYYY-MM-DD"))
    };
    let today = app.hall.config.setup.day_of(app.now());
    let until = date(p.until.as_deref())?.unwrap_or(today);
    let since = date(p.since.as_deref())?.unwrap_or(until - chrono::Days::new(30));
    let days = app.hall.engine.read(move |r| r.enterprise_days(since, until)).await?;
    let config = &app.hall.config;
    let mut out = String::from("\u{feff}日期,专属服务专员,姓名,企业到访,企业取号,专员窗口取号,专员窗口占比\n");
    for (day, f) in &days {
        let s = EnterpriseStatsDto::new(f);
        let share = s.personal_share.map_or(String::new(), |x| format!("{:.3}", x));
        for (user, n) in &f.visits {
            let name = crate::identity::display_name(config, user.as_str()).replace([',', '"', '\n'], " ");
            out.push_str(&format!("{day},{user},{name},{n},,,\n"));
        }
        out.push_str(&format!("{day},合计,,{},{},{},{share}\n", s.visits.values().sum::<u32>(), s.tickets, s.personal));
    }
    Ok(super::reports::csv_response(out.into_bytes(), format!("hallq-enterprises-{since}-{until}.csv")))
}
