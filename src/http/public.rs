//! Read-only endpoints: health, metrics, the catalogue, the hall snapshot and the day's
//! figures.

use axum::extract::{Query as UrlQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::dto::StatsDto;
use super::error::ApiError;
use super::{auth, AppState};
use crate::config::Role;
use crate::core::setup::Setup;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such endpoint; see README.md for the API")
}

/// `GET /metrics`: for `[hall] metrics_token`'s bearer (a Prometheus scraper), or a
/// supervisor's or admin's session.
pub async fn metrics(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    auth::metrics_reader(&app, &headers)?;
    let text = app.hall.metrics.render().map_err(|e| ApiError::internal("metrics could not be rendered", &e))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

fn json_bytes(bytes: axum::body::Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

pub async fn services(State(app): State<AppState>) -> Response {
    json_bytes(app.edge.catalog.clone())
}

pub async fn hall(State(app): State<AppState>) -> Response {
    let snapshot = app.hall.feed.snapshot();
    // The feed's serialised snapshot, shared (a reference count), not copied per request.
    json_bytes(axum::body::Bytes::from(snapshot.text.clone()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    day: Option<String>,
}

pub async fn stats(
    State(app): State<AppState>,
    headers: HeaderMap,
    params: Result<UrlQuery<StatsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<super::moves::StatsWithPersons>, ApiError> {
    auth::user(&app, &headers, &[Role::Supervisor, Role::Admin])?;
    let UrlQuery(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let day = super::reports::day_param(params.day.as_deref())?;
    let (day, figures) = app.hall.engine.read(move |r| r.stats(day)).await?;
    let mut dto = StatsDto::new(day, &figures);
    dto.escalations = super::escalations::stats_part(&app, &figures.total).await?;
    dto.guides = super::guides::stats_part(&app, &figures);
    dto.enterprises = super::enterprises::stats_part(&app, day).await?;
    dto.referrals = super::referral_dto::ReferralStatsDto::new(&app.hall.config, &figures.referrals);
    let today = app.hall.config.setup.day_of(app.now());
    let limits_on = app.hall.config.setup.person_limits.on();
    let persons = (limits_on && day == today).then(|| app.edge.person_refusals.of(day));
    Ok(Json(super::moves::StatsWithPersons { stats: dto, persons }))
}

#[derive(Serialize)]
struct CatalogItem<'a> {
    code: &'a str,
    name: &'a str,
    category: &'a str,
    department: &'a str,
    queue: &'a str,
    minutes: u32,
    materials: &'a [String],
    /// 承诺办结时限 in working days (0: 即办); absent when the catalogue states none.
    #[serde(skip_serializing_if = "Option::is_none")]
    limit_days: Option<u32>,
    /// Pinyin initials of the name, for the kiosk's search.
    initials: String,
    /// The name's full pinyin without tones (issue 17 §5: "gongshang" finds 工商 too).
    pinyin: String,
}

/// The lowercase toneless pinyin of `name`, syllables run together ("导游证核发" →
/// "daoyouzhenghefa"), letters and digits kept, other signs dropped; the most common
/// reading of each character.
pub fn pinyin_full(name: &str) -> String {
    use pinyin::ToPinyin;
    let mut out = String::new();
    for c in name.chars() {
        match c.to_pinyin() {
            Some(p) => out.push_str(p.plain()),
            None if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            None => {}
        }
    }
    out
}

/// The lowercase pinyin initials of `name` ("个体工商户设立登记" → "gtgshsldj"); letters
/// and digits are kept as they are, other signs dropped. A character with several readings
/// takes its most common one.
pub fn pinyin_initials(name: &str) -> String {
    use pinyin::ToPinyin;
    name.chars()
        .filter_map(|c| match c.to_pinyin() {
            Some(p) => p.first_letter().chars().next(),
            None if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

/// The catalogue answer of `/api/v1/services`, serialised once at start. Beside the
/// catalogue, what the kiosk and the status page tell visitors of the hall's rules: the
/// opening hours, the minutes a missed number may rejoin (`rejoin_min`, 0: never), the
/// status page's reminder (`remind_ahead`), the queue of bookings (whose walk-ins go to
/// check-in) and each bundle's steps.
pub fn catalog_json(setup: &Setup, remind_ahead: u32) -> Result<Vec<u8>, serde_json::Error> {
    let queues: Vec<_> =
        setup.queues.iter().map(|q| json!({ "id": q.id, "name": q.name, "prefix": q.prefix })).collect();
    let priorities: Vec<_> = setup.priorities.iter().map(|p| json!({ "id": p.id, "name": p.name })).collect();
    let items: Vec<_> = setup
        .items
        .iter()
        .map(|i| CatalogItem {
            code: i.code.as_str(),
            name: &i.name,
            category: &i.category,
            department: &i.department,
            queue: i.queue.as_str(),
            minutes: i.minutes,
            materials: &i.materials,
            limit_days: i.limit_days,
            initials: pinyin_initials(&i.name),
            pinyin: pinyin_full(&i.name),
        })
        .collect();
    let bundles: Vec<_> = setup
        .bundles
        .iter()
        .map(|b| {
            let steps: Vec<_> =
                setup.bundle_steps(b).iter().map(|s| json!({ "queue": s.queue, "services": s.services })).collect();
            json!({ "id": b.id, "name": b.name, "items": b.items, "initials": pinyin_initials(&b.name), "pinyin": pinyin_full(&b.name), "steps": steps })
        })
        .collect();
    let hours: Vec<String> =
        setup.hours.iter().map(|(a, b)| format!("{}-{}", a.format("%H:%M"), b.format("%H:%M"))).collect();
    serde_json::to_vec(&json!({
        "hall": {
            "id": setup.hall_id,
            "name": setup.hall_name,
            "hours": hours,
            "rejoin_min": setup.dispatch.rejoin_min,
            "remind_ahead": remind_ahead,
        },
        "appointments": setup.appointments.as_ref().map(|a| json!({ "queue": a.queue })),
        "queues": queues,
        "priorities": priorities,
        "categories": setup.categories,
        "items": items,
        "bundles": bundles,
        "rating": super::rating::catalog_rating(setup),
        "escalation": super::escalation_dto::catalog_escalation(setup),
        "pause_reasons": setup.pause_reasons.iter().map(|r| json!({ "code": r.code, "name": r.name })).collect::<Vec<_>>(),
        "limits": super::moves::catalog_limits(setup),
        // 助企服务: the queue of enterprise tickets, for the kiosk's credit-code button.
        "enterprises": setup.enterprises.as_ref().map(|e| json!({ "queue": e.queue })),
    }))
}

/// `GET /api/v1/hours`: whether kiosks issue now and, when they do not, why and when
/// they next do; for the kiosk's home screen, which must not look open while it is not.
/// Times are the hall's, with its offset. `why`: `open`, `always` (no opening hours),
/// `before` (a working day, before its first opening), `break` (between two spans: the
/// lunch break), `after` (after the day's last close) or `rest_day` (a rest day or
/// holiday of `[hall.calendar]`).
pub async fn hours(State(app): State<AppState>) -> Json<Value> {
    let setup = &app.hall.config.setup;
    let now = app.now();
    let open = setup.is_open(now);
    let why = if setup.hours.is_empty() {
        "always"
    } else if open {
        "open"
    } else {
        closed_why(setup, now)
    };
    let time = |t: Option<crate::core::model::Ts>| t.map(|t| crate::time::rfc3339(setup, t));
    let hours: Vec<String> =
        setup.hours.iter().map(|(a, b)| format!("{}-{}", a.format("%H:%M"), b.format("%H:%M"))).collect();
    Json(json!({
        "open": open,
        "why": why,
        "now": crate::time::rfc3339(setup, now),
        "opens_at": if open { None } else { time(setup.opens_at(now)) },
        "closes_at": time(setup.closes_at(now)),
        "hours": hours,
    }))
}

/// Why a hall with hours is closed at `now`.
fn closed_why(setup: &Setup, now: crate::core::model::Ts) -> &'static str {
    let day = setup.day_of(now);
    if !setup.rating.calendar.is_working_day(day) {
        return "rest_day";
    }
    let Some(local) = crate::time::local(setup, now) else {
        return "after";
    };
    let t = local.time();
    match (setup.hours.first(), setup.hours.last()) {
        (Some(first), _) if t < first.0 => "before",
        (_, Some(last)) if t >= last.1 => "after",
        _ => "break",
    }
}

#[cfg(test)]
mod tests {
    use super::{pinyin_full, pinyin_initials};

    #[test]
    fn initials_of_item_names() {
        assert_eq!(pinyin_initials("个体工商户设立登记"), "gtgshsldj");
        assert_eq!(pinyin_initials("社保卡补换（挂失）"), "sbkbhgs");
        assert_eq!(pinyin_initials("ICP备案"), "icpba");
    }

    #[test]
    fn full_pinyin_of_item_names() {
        assert_eq!(pinyin_full("导游证核发"), "daoyouzhenghefa");
        assert_eq!(pinyin_full("社保卡补换（挂失）"), "shebaokabuhuanguashi");
        assert_eq!(pinyin_full("ICP备案"), "icpbeian");
    }
}
