//! 办不成事请找我 endpoints: the clerk's `not_done` (through the window's `done` action),
//! the cases (list with where matters get stuck, call-back, answer or referral) and the
//! reports' CSV of them.
//!
//! Who may do what: a clerk finishes `not_done` only at the window they are signed in at
//! (the core refuses the rest); supervisors and admins read and work on every case; a
//! clerk only on the cases that name them as handler (the hall's `[hall.escalation]
//! handler` when the case opened), and no other clerk on any.

use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::escalation_dto::{item, EscalationDto, EscalationStatsDto, SummaryDto};
use super::rating::case_id;
use super::{auth, AppState, JsonBody};
use crate::config::Role;
use crate::core::escalation::{Counts, EscalationStatus};
use crate::core::model::{UserName, WindowId};
use crate::core::stats::Figures;

use crate::core::{answer, Command};
use crate::engine::{EscalationFilter, EscalationsView, Reads};

/// The command of `done` with `{"outcome": "not_done", "reason": CODE, "note": STR?}`.
pub fn not_done(
    window: WindowId,
    clerk: UserName,
    reason: Option<String>,
    note: Option<String>,
) -> Result<Command, ApiError> {
    let reason = reason.ok_or_else(|| {
        ApiError::bad_request(
            "reason_required",
            "not_done needs a reason: {\"outcome\": \"not_done\", \"reason\": CODE}",
        )
    })?;
    Ok(Command::Escalate { window, clerk, reason, note })
}

/// Who is asking for the cases, and which they may see: a supervisor or an admin every
/// case (`only` is `None`); a clerk only the cases that name them as handler, and only if
/// they are the hall's handler now or were named by a case before.
struct Access {
    user: UserName,
    only: Option<UserName>,
}

async fn access(app: &AppState, headers: &HeaderMap) -> Result<Access, ApiError> {
    let session = auth::user(app, headers, &[Role::Clerk, Role::Supervisor, Role::Admin])?;
    if matches!(session.role, Role::Supervisor | Role::Admin) {
        return Ok(Access { user: session.user, only: None });
    }
    let user = session.user;
    let named = app.hall.config.setup.escalation.as_ref().is_some_and(|p| p.handler == user);
    let asked = user.clone();
    if named || app.hall.engine.read(move |r| r.handles_escalations(&asked)).await? {
        return Ok(Access { user: user.clone(), only: Some(user) });
    }
    Err(ApiError::forbidden("only the hall's escalation handler, a supervisor or an admin may see escalation cases"))
}

/// The user who may work on case `id`: a clerk only on a case that names them as its
/// handler. An unknown case goes on to the core, which answers `unknown_case`.
async fn worker(app: &AppState, headers: &HeaderMap, id: &str) -> Result<UserName, ApiError> {
    let Access { user, only } = access(app, headers).await?;
    let Some(clerk) = only else { return Ok(user) };
    let id = id.to_string();
    let handler = app.hall.engine.read(move |r| r.escalation(&id).cases.first().map(|c| c.handler.clone())).await?;
    if handler.is_some_and(|h| h != clerk) {
        return Err(ApiError::forbidden("a clerk works only on the escalation cases they handle"));
    }
    Ok(clerk)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    status: Option<String>,
    /// One day, or a span `since`..=`until` (a week of stuck items, say).
    day: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

type Params = Result<UrlQuery<ListParams>, axum::extract::rejection::QueryRejection>;

fn date(s: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match s {
        None | Some("") => Ok(None),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::bad_request("bad_day", "days are dates in the form YYYY-MM-DD")),
    }
}

fn filter(params: Params) -> Result<EscalationFilter, ApiError> {
    let UrlQuery(p) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let status = match p.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some(s) => Some(EscalationStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request("bad_status", "status must be open, overdue, closed, referred or all")
        })?),
    };
    let day = date(p.day.as_deref())?;
    let since = day.or(date(p.since.as_deref())?);
    let until = day.or(date(p.until.as_deref())?);
    Ok(EscalationFilter { status, since, until, handler: None })
}

fn listing(app: &AppState, view: &EscalationsView) -> Value {
    let config = &app.hall.config;
    let cases: Vec<EscalationDto> = view.cases.iter().map(|c| EscalationDto::new(config, view.today, c)).collect();
    json!({ "today": view.today.to_string(), "cases": cases, "summary": SummaryDto::new(config, &view.summary) })
}

/// `GET /api/v1/escalations?status=&day=|since=&until=`: cases newest first (at most
/// 500), and where matters get stuck over the asked days, by item, department, reason and
/// clerk, with open and overdue counts.
pub async fn list(State(app): State<AppState>, headers: HeaderMap, params: Params) -> Result<Json<Value>, ApiError> {
    let only = access(&app, &headers).await?.only;
    let filter = EscalationFilter { handler: only, ..filter(params)? };
    let view = app.hall.engine.read(move |r| r.escalations(filter)).await?;
    Ok(Json(listing(&app, &view)))
}

async fn act(app: &AppState, headers: &HeaderMap, by: &UserName, command: Command) -> Result<Json<Value>, ApiError> {
    let render = |v: &EscalationsView| v.cases.first().map(|c| EscalationDto::new(&app.hall.config, v.today, c));
    let read = |r: &Reads<'_>, id: String| r.escalation(&id);
    super::rating::case_act::<answer::Escalation, _, _>(app, headers, by, command, read, render).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    reached: bool,
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    note: String,
    /// The department the matter is referred on to; none: answered here, closed.
    #[serde(default)]
    refer_to: Option<String>,
}

/// `POST /api/v1/escalations/{id}/callback` `{"reached": bool, "note": STR}`.
pub async fn callback(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CallbackBody>,
) -> Result<Json<Value>, ApiError> {
    let by = worker(&app, &headers, &id).await?;
    let command =
        Command::EscalationCallback { case: case_id(&id)?, by: by.clone(), reached: body.reached, note: body.note };
    act(&app, &headers, &by, command).await
}

/// `POST /api/v1/escalations/{id}/resolve` `{"note": STR, "refer_to": DEPARTMENT?}`: the
/// answer given (closed), or the department it was referred on to.
pub async fn resolve(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ResolveBody>,
) -> Result<Json<Value>, ApiError> {
    let by = worker(&app, &headers, &id).await?;
    let command =
        Command::ResolveEscalation { case: case_id(&id)?, by: by.clone(), note: body.note, refer_to: body.refer_to };
    act(&app, &headers, &by, command).await
}

/// `/api/v1/stats`'s `escalations`: the day's figures, with the cases open and overdue
/// now.
pub async fn stats_part(app: &AppState, figures: &Figures) -> Result<EscalationStatsDto, ApiError> {
    let now: Counts = app.hall.engine.read(|r| r.escalations(EscalationFilter::default()).summary.all).await?;
    Ok(EscalationStatsDto::new(figures, &now))
}

/// A CSV cell that a spreadsheet would not run as a formula.
pub(super) fn cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// `GET /api/v1/reports/escalations.csv?status=&day=|since=&until=` (supervisors and
/// admins): one row per case (at most 500, newest first), then where matters get stuck.
pub async fn csv(State(app): State<AppState>, headers: HeaderMap, params: Params) -> Result<Response, ApiError> {
    auth::user(&app, &headers, &[Role::Supervisor, Role::Admin])?;
    let filter = filter(params)?;
    let view = app.hall.engine.read(move |r| r.escalations(filter)).await?;
    let bytes = csv_bytes(&app, &view).map_err(|e| ApiError::internal("escalations.csv failed", &e))?;
    Ok(super::reports::csv_response(bytes, format!("hallq-escalations-{}.csv", view.today)))
}

/// The CSV's header; the breakdown below the cases has its own.
pub const CSV_HEADER: [&str; 16] = [
    "编号",
    "状态",
    "开立日期",
    "期限",
    "号码",
    "窗口",
    "工作人员",
    "事项编码",
    "事项名称",
    "部门",
    "原因",
    "说明",
    "负责人",
    "回访次数",
    "办结说明",
    "转办部门",
];

fn csv_bytes(app: &AppState, view: &EscalationsView) -> Result<Vec<u8>, csv::Error> {
    let config = &app.hall.config;
    // Flexible: the breakdown's rows are shorter than the cases'.
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(CSV_HEADER)?;
    for c in &view.cases {
        let d = EscalationDto::new(config, view.today, c);
        let items: Vec<_> = c.services.iter().map(|s| item(&config.setup, s.as_str())).collect();
        let join =
            |f: &dyn Fn(&super::escalation_dto::ItemDto) -> String| items.iter().map(f).collect::<Vec<_>>().join("、");
        let resolution = d.resolution.as_ref();
        w.write_record([
            d.id.clone(),
            d.status.to_string(),
            d.day.clone(),
            d.due.clone(),
            d.number.clone(),
            d.window_name.clone(),
            d.clerk_name.clone().unwrap_or_default(),
            join(&|i| i.code.clone()),
            cell(&join(&|i| i.name.clone())),
            cell(&join(&|i| i.department.clone())),
            cell(&d.reason_name),
            cell(d.note.as_deref().unwrap_or_default()),
            d.handler_name.clone(),
            d.callbacks.len().to_string(),
            cell(resolution.map_or("", |r| r.note.as_str())),
            cell(resolution.and_then(|r| r.referred_to.as_deref()).unwrap_or_default()),
        ])?;
    }
    w.write_record(["分组", "键", "名称", "总数", "未结", "逾期", "已办结", "已转办"])?;
    let summary = SummaryDto::new(config, &view.summary);
    let groups = [
        ("事项", &summary.by_item),
        ("部门", &summary.by_department),
        ("原因", &summary.by_reason),
        ("工作人员", &summary.by_clerk),
    ];
    for (group, rows) in groups {
        for r in rows {
            let n = [r.total, r.open, r.overdue, r.closed, r.referred].map(|n| n.to_string());
            w.write_record([
                group.to_string(),
                cell(&r.key),
                cell(&r.name),
                n[0].clone(),
                n[1].clone(),
                n[2].clone(),
                n[3].clone(),
                n[4].clone(),
            ])?;
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}
