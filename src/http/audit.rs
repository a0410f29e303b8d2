//! `GET /api/v1/audit` and `/api/v1/audit.csv`: the audit trail of one service day for
//! supervisors and admins — who did what, when, at which window, to which ticket number —
//! as JSON pages or a CSV file for Excel. Ticket ids, tokens and passwords never appear.

use axum::extract::{Query as UrlQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::dto::CallRuleDto;
use super::error::ApiError;
use super::{auth, AppState};
use crate::audit::{AuditPage, AuditQuery, EXPORT_ROWS_MAX, PAGE_ENTRIES_MAX};
use crate::config::Role;
use crate::core::audit::{AuditAction, AuditDetail, AuditEntry};
use crate::core::model::{CallRule, Outcome, TransferTarget, UserName, WindowId};
use crate::core::setup::Setup;
use crate::core::staff::Staff;
use crate::identity::Directory;
use crate::time::rfc3339;

/// Entries in a JSON page when the caller names no `limit`.
const PAGE_ENTRIES_DEFAULT: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    date: Option<String>,
    window: Option<String>,
    user: Option<String>,
    action: Option<String>,
    after: Option<u64>,
    limit: Option<usize>,
}

/// One entry on the wire.
#[derive(Serialize)]
pub struct AuditEntryDto {
    pub seq: u64,
    /// Local time with the hall's offset.
    pub at: String,
    pub user: Option<String>,
    /// The user's `display_name` (else the login name), for this staff page only.
    pub display_name: Option<String>,
    /// The user's role as configured now; null for the hall itself or a user no longer
    /// configured.
    pub role: Option<&'static str>,
    pub action: &'static str,
    /// The action in words, for people.
    pub action_text: &'static str,
    pub window: Option<String>,
    /// The ticket's public number (`A012`), never its id.
    pub ticket: Option<String>,
    pub detail: String,
}

#[derive(Serialize)]
struct AuditPageDto {
    date: String,
    entries: Vec<AuditEntryDto>,
    /// Pass as `after` for the next page; null on the last.
    next_after: Option<u64>,
}

/// The action in Chinese, as the audit page and the export show it.
pub fn action_text(action: AuditAction) -> &'static str {
    match action {
        AuditAction::DayOpened => "开始服务日",
        AuditAction::Login => "登录",
        AuditAction::Logout => "退出登录",
        AuditAction::Open => "开启窗口",
        AuditAction::Call => "叫号",
        AuditAction::CallNumber => "按号呼叫",
        AuditAction::Unpark => "恢复暂存",
        AuditAction::Recall => "重呼",
        AuditAction::Serve => "开始办理",
        AuditAction::Done => "办结",
        AuditAction::StepDone => "完成一步",
        AuditAction::NoShow => "过号",
        AuditAction::Transfer => "转移",
        AuditAction::Park => "暂存",
        AuditAction::Pause => "暂停窗口",
        AuditAction::Resume => "恢复窗口",
        AuditAction::Close => "关闭窗口",
        AuditAction::DisableUser => "停用用户",
        AuditAction::EnableUser => "启用用户",
        AuditAction::AddUser => "添加用户",
        AuditAction::ResetPassword => "重置密码",
        AuditAction::SetQueues => "设置窗口队列",
        AuditAction::ForceClose => "强制关闭窗口",
        AuditAction::CaseCallback => "差评回访",
        AuditAction::CaseRectified => "差评整改",
        AuditAction::AlertAck => "确认预警",
        AuditAction::Assist => "导办代取号",
        AuditAction::Escort => "全程领办",
        AuditAction::ReleaseEscort => "结束领办",
        AuditAction::StoreNextOn => "开启办结即叫",
        AuditAction::StoreNextOff => "关闭办结即叫",
        AuditAction::WalkDirect => "窗口直接取号",
        AuditAction::AddEnterprise => "添加服务企业",
        AuditAction::SetSpecialist => "指定专属服务专员",
        AuditAction::FollowUp => "企业跟踪记录",
        AuditAction::Refer => "转他中心办理",
    }
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::Clerk => "窗口人员",
        Role::Supervisor => "值班主任",
        Role::Admin => "管理员",
        Role::Guide => "导办",
    }
}

fn detail_text(setup: &Setup, detail: &AuditDetail) -> String {
    match detail {
        AuditDetail::None => String::new(),
        AuditDetail::Expired(0) => "新的服务日开始，窗口全部关闭".into(),
        AuditDetail::Expired(n) => format!("新的服务日开始，前一日{n}个未办结号码作废，窗口全部关闭"),
        // The clerk's reason for a call by number is for supervisors: it shows here only.
        AuditDetail::Rule(CallRule::ByNumber { reason, .. }) => format!("理由：{reason}"),
        AuditDetail::Rule(rule) => CallRuleDto::new(setup, rule).text,
        AuditDetail::Outcome(Outcome::Completed) => "结果：已办结".into(),
        AuditDetail::Outcome(Outcome::Incomplete) => "结果：未办结".into(),
        AuditDetail::Transfer(TransferTarget::Queue(q)) => {
            let name = setup.queue(q).map_or("", |d| d.name.as_str());
            format!("转至{q}队列 {name}").trim_end().to_string()
        }
        AuditDetail::Transfer(TransferTarget::Window(w)) => format!("转至{w}号窗口"),
        AuditDetail::User(name) => format!("用户 {name}"),
        AuditDetail::Queues(queues) => {
            let names: Vec<String> = queues
                .iter()
                .map(|q| setup.queue(q).map_or_else(|| q.to_string(), |d| format!("{q} {}", d.name)))
                .collect();
            format!("服务队列：{}", names.join("、"))
        }
        AuditDetail::Case(case, Some(true)) => format!("工单 {case}，已联系到群众"),
        AuditDetail::Case(case, Some(false)) => format!("工单 {case}，未联系到群众"),
        AuditDetail::Case(case, None) => format!("工单 {case}，整改完成，工单关闭"),
        AuditDetail::Alert(id) => format!("预警 #{id}"),
        AuditDetail::Enterprise(id, Some(specialist)) => format!("企业 {id}，专员 {specialist}"),
        AuditDetail::Enterprise(id, None) => format!("企业 {id}"),
        AuditDetail::Referral { name, reason, .. } => format!("转至 {name}：{reason}"),
    }
}

/// A user's role: hall.toml's, else the one an admin gave when adding the user.
fn role_of(app: &AppState, staff: &Staff, user: Option<&UserName>) -> Option<Role> {
    Directory::new(&app.hall.config, staff).role(user?)
}

fn entry_dto(app: &AppState, staff: &Staff, e: &AuditEntry) -> AuditEntryDto {
    let setup = &app.hall.config.setup;
    AuditEntryDto {
        seq: e.seq,
        at: rfc3339(setup, e.at),
        user: e.user.as_ref().map(ToString::to_string),
        display_name: e.user.as_ref().map(|u| app.edge.identity.display_name(u.as_str())),
        role: role_of(app, staff, e.user.as_ref()).map(Role::as_str),
        action: e.action.as_str(),
        action_text: action_text(e.action),
        window: e.window.as_ref().map(ToString::to_string),
        ticket: e.ticket.as_ref().map(ToString::to_string),
        detail: detail_text(setup, &e.detail),
    }
}

/// Checks the query and reads the page; `limit_max` differs for JSON and CSV.
async fn read(
    app: &AppState,
    headers: &HeaderMap,
    params: Result<UrlQuery<AuditParams>, axum::extract::rejection::QueryRejection>,
    limit_default: usize,
    limit_max: usize,
) -> Result<(chrono::NaiveDate, AuditPage), ApiError> {
    auth::user(app, headers, &[Role::Supervisor, Role::Admin])?;
    let UrlQuery(p) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let setup = &app.hall.config.setup;
    let day = match &p.date {
        None => setup.day_of(app.now()),
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::bad_request("bad_date", "date must be a day in the form YYYY-MM-DD"))?,
    };
    let window = match p.window.as_deref().filter(|w| !w.is_empty()) {
        None => None,
        Some(w) => Some(WindowId::parse(w).map_err(|e| ApiError::bad_request("bad_window", e.to_string()))?),
    };
    let user = match p.user.as_deref().filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => Some(UserName::parse(u).map_err(|e| ApiError::bad_request("bad_user", e.to_string()))?),
    };
    let action = match p.action.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(AuditAction::parse(a).ok_or_else(|| {
            let known: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
            ApiError::bad_request("bad_action", format!("action must be one of {}", known.join(", ")))
        })?),
    };
    let limit = p.limit.unwrap_or(limit_default);
    if limit == 0 || limit > limit_max {
        return Err(ApiError::bad_request("bad_limit", format!("limit must be 1 to {limit_max}")));
    }
    let upto = app.hall.feed.seq();
    let q = AuditQuery { day, window, user, action, after: p.after.unwrap_or(0), limit, upto };
    let page = app.hall.engine.audit(app.hall.config.setup.clone().into(), q).await?;
    Ok((day, page))
}

/// `GET /api/v1/audit?date=&window=&user=&action=&after=&limit=`: supervisors and admins.
pub async fn json(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Result<UrlQuery<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (day, page) = read(&app, &headers, params, PAGE_ENTRIES_DEFAULT, PAGE_ENTRIES_MAX).await?;
    let staff = app.edge.identity.staff().await?;
    let entries = page.entries.iter().map(|e| entry_dto(&app, &staff, e)).collect();
    Ok(Json(AuditPageDto { date: day.to_string(), entries, next_after: page.next_after }).into_response())
}

/// A cell as Excel should show it: text that Excel would take for a formula (a clerk's
/// reason starting with `=`) gets a leading apostrophe.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// `GET /api/v1/audit.csv?…`: the same filters, as a UTF-8 CSV file with a byte-order
/// mark (so Excel reads the Chinese right), at most `EXPORT_ROWS_MAX` rows.
pub async fn csv(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Result<UrlQuery<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (day, page) = read(&app, &headers, params, EXPORT_ROWS_MAX, EXPORT_ROWS_MAX).await?;
    let mut out = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    let header = ["时间", "用户", "姓名", "角色", "操作", "操作代码", "窗口", "票号", "说明"];
    let failed = |e: csv::Error| ApiError::internal("the audit export could not be written", &e);
    out.write_record(header).map_err(failed)?;
    let staff = app.edge.identity.staff().await?;
    for e in &page.entries {
        let dto = entry_dto(&app, &staff, e);
        let role = role_of(&app, &staff, e.user.as_ref()).map_or("", role_text);
        out.write_record([
            dto.at.as_str(),
            &cell(dto.user.as_deref().unwrap_or("")),
            &cell(dto.display_name.as_deref().unwrap_or("")),
            role,
            dto.action_text,
            dto.action,
            &cell(dto.window.as_deref().unwrap_or("")),
            dto.ticket.as_deref().unwrap_or(""),
            &cell(&dto.detail),
        ])
        .map_err(failed)?;
    }
    let bytes = out.into_inner().map_err(|e| ApiError::internal("the audit export could not be finished", &e))?;
    let disposition = format!("attachment; filename=\"audit-{day}.csv\"");
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(next) = page.next_after {
        headers.insert("x-next-after", HeaderValue::from(next));
    }
    Ok(response)
}
