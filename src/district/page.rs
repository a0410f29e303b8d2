//! The district's dashboard and its day's comparison: `/display/district` (the page,
//! `display/district.html`) with the pages' static files, `GET
//! /api/v1/district/compare?day=` (the charts' rows as JSON) and `GET
//! /api/v1/district/stats.csv?day=` (the same rows as a CSV for Excel, shaped as the
//! hall's `reports/day/figures.csv`: UTF-8 with a byte-order mark, Chinese headers, waits
//! in minutes). The wall screens' feed is `feed`'s; both are merged into `api::router`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::DistrictApp;
use super::compare::{rows, Row};
use crate::core::stats::Durations;
use crate::http::dto::RatesDto;
use crate::http::error::ApiError;

/// Service-level replays at once: each reads a hall's records from the replica on a
/// blocking thread.
pub const REPLAYS_MAX: usize = 1;

type App = Arc<DistrictApp>;

/// The dashboard's routes, the comparison's and the feed's.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/display/district", get(|| async { crate::http::pages::file("district.html") }))
        .route("/display/static/{*name}", get(crate::http::pages::asset))
        .route("/favicon.ico", get(crate::http::pages::favicon))
        .route("/api/v1/district/compare", get(compare))
        .route("/api/v1/district/stats.csv", get(csv))
        .merge(super::feed::routes())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DayParams {
    day: Option<String>,
}

type DayQuery = Result<Query<DayParams>, axum::extract::rejection::QueryRejection>;

/// A supervisor's session and the day asked (`None`: each hall's today).
fn checked(app: &DistrictApp, headers: &HeaderMap, params: DayQuery) -> Result<Option<chrono::NaiveDate>, ApiError> {
    let token = crate::http::auth::bearer(headers).ok_or_else(ApiError::unauthorized)?;
    app.sessions.user(token, (app.clock)().0).ok_or_else(ApiError::unauthorized)?;
    let Query(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    params
        .day
        .map(|d| {
            chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|_| ApiError::bad_request("bad_day", "day must be a date in the form YYYY-MM-DD"))
        })
        .transpose()
}

fn share(n: Option<f64>) -> Option<f64> {
    n.map(|s| (s * 1000.0).round() / 1000.0)
}

/// `GET /api/v1/district/compare?day=YYYY-MM-DD`: per hall and in `total`, the figures
/// the dashboard compares.
async fn compare(State(app): State<App>, headers: HeaderMap, params: DayQuery) -> Result<Json<Value>, ApiError> {
    let day = checked(&app, &headers, params)?;
    let mut all = rows(&app, day).await;
    let total = all.pop().map(|r| row_json(&r));
    let halls: Vec<Value> = all.iter().map(row_json).collect();
    Ok(Json(json!({ "day": day.map(|d| d.to_string()), "halls": halls, "total": total })))
}

fn row_json(r: &Row) -> Value {
    let f = &r.figures;
    let rates = RatesDto::from(f);
    json!({
        "id": r.id,
        "name": r.name,
        "day": r.day,
        "view": r.view,
        "issued": f.issued,
        "served": f.served(),
        "no_show": f.no_show,
        "mean_wait_s": f.wait.mean_ms().map(|ms| ms.div_ceil(1000)),
        "service_level": r.level.as_ref().and_then(|l| share(l.share)),
        "good_rate": share(rates.good_rate),
        "referrals": r.referrals.json(),
    })
}

/// The CSV's header: the hall's `/api/v1/stats` figures, named as the hall's CSVs name them.
pub const CSV_HEADER: [&str; 32] = [
    "中心编号",
    "中心名称",
    "日期",
    "取号",
    "叫号",
    "办理",
    "办结",
    "未办结",
    "过号",
    "取消",
    "过期",
    "转移",
    "办不成事",
    "平均等候分钟",
    "最长等候分钟",
    "平均办理分钟",
    "最长办理分钟",
    "服务水平目标分钟",
    "服务水平达标率%",
    "评价数",
    "平均评分",
    "好评",
    "差评",
    "好评率%",
    "差评率%",
    "未评价率%",
    "差评整改率%",
    "预计等候误差中位分钟",
    "预计等候误差P90分钟",
    "预计等候区间命中率%",
    "转出他中心",
    "他中心转入",
];

fn minutes(ms: Option<u64>) -> String {
    ms.map(|ms| format!("{:.1}", ms as f64 / 60_000.0)).unwrap_or_default()
}

fn percent(share: Option<f64>) -> String {
    share.map(|s| format!("{:.1}", s * 100.0)).unwrap_or_default()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn csv_row(r: &Row) -> Vec<String> {
    let f = &r.figures;
    let rates = RatesDto::from(f);
    let max = |d: &Durations| (d.count > 0).then_some(d.max_ms);
    let level = r.level.as_ref();
    let id = if r.id.is_empty() { "全部".to_string() } else { r.id.clone() };
    let counts = [f.issued, f.called, f.served(), f.completed, f.incomplete, f.no_show, f.cancelled, f.expired];
    let mut row = vec![id, r.name.clone(), r.day.clone()];
    row.extend(counts.iter().map(u64::to_string));
    row.extend([
        f.transferred.to_string(),
        f.escalated.to_string(),
        minutes(f.wait.mean_ms()),
        minutes(max(&f.wait)),
        minutes(f.service.mean_ms()),
        minutes(max(&f.service)),
        opt(level.map(|l| l.target_min).filter(|m| *m > 0)),
        percent(level.and_then(|l| l.share)),
        f.rated.to_string(),
        opt((f.rated > 0).then(|| format!("{:.2}", f.score_sum as f64 / f.rated as f64))),
        rates.good.to_string(),
        rates.bad.to_string(),
        percent(rates.good_rate),
        percent(rates.bad_rate),
        percent(rates.unrated_rate),
        percent(rates.rectified_rate),
        opt(f.eta.quantile_min(0.5)),
        opt(f.eta.quantile_min(0.9)),
        percent(f.eta.within_rate()),
        r.referrals.sent.to_string(),
        r.referrals.received.to_string(),
    ]);
    row
}

/// `GET /api/v1/district/stats.csv?day=YYYY-MM-DD`: a row per hall, then the district's.
async fn csv(State(app): State<App>, headers: HeaderMap, params: DayQuery) -> Result<Response, ApiError> {
    let day = checked(&app, &headers, params)?;
    let all = rows(&app, day).await;
    let failed = |e: &dyn std::fmt::Display| ApiError::internal("district stats.csv failed", e);
    let mut w = crate::reports::export::writer_for_office();
    w.write_record(CSV_HEADER).map_err(|e| failed(&e))?;
    for r in &all {
        w.write_record(csv_row(r)).map_err(|e| failed(&e))?;
    }
    let bytes = crate::reports::export::finish_office(w).map_err(|e| failed(&e))?;
    let day = day.map_or_else(|| "today".to_string(), |d| d.to_string());
    let name = format!("hallq-district-{}-{day}.csv", app.config.id);
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
        (header::CONTENT_DISPOSITION, disposition),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    Ok((headers, bytes).into_response())
}
