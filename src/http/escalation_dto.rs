//! The wire types of 办不成事 (`escalations.rs`): what a ticket says of its escalation,
//! a case, where matters get stuck, the figures `/api/v1/stats` carries, and the
//! catalogue's `escalation` part.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::config::Config;
use crate::core::escalation::{Counts, Escalation, EscalationStatus, Summary};
use crate::core::model::{QueueId, WindowId};
use crate::core::setup::Setup;
use crate::core::stats::Figures;
use crate::time::rfc3339;

/// A `done`'s outcome on the wire: the core's two, and `not_done`, which is no outcome of
/// the ticket but its escalation (`Command::Escalate`).
#[derive(serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeDto {
    Completed,
    Incomplete,
    NotDone,
}

/// The `escalation` part of `/api/v1/services`: the reasons a clerk may give for
/// `not_done`, and where the matter then goes; `null` for a hall without escalation.
pub fn catalog_escalation(setup: &Setup) -> Value {
    let Some(policy) = &setup.escalation else { return Value::Null };
    let reasons: Vec<Value> = policy.reasons.iter().map(|r| json!({ "code": r.code, "name": r.name })).collect();
    json!({
        "queue": policy.queue.to_string(),
        "queue_name": queue_name(setup, &policy.queue),
        "windows": serving(setup, &policy.queue),
        "case_days": policy.case_days,
        "reasons": reasons,
        "note_chars_max": crate::core::rating::NOTE_CHARS_MAX,
    })
}

#[derive(Serialize)]
pub struct WindowNameDto {
    pub id: String,
    pub name: String,
}

fn queue_name(setup: &Setup, q: &QueueId) -> String {
    setup.queue(q).map_or_else(|| q.to_string(), |d| d.name.clone())
}

fn window_name(setup: &Setup, w: &WindowId) -> String {
    setup.windows.iter().find(|d| d.id == *w).map_or_else(|| w.to_string(), |d| d.name.clone())
}

/// The windows whose queues (as hall.toml has them) include `q`.
fn serving(setup: &Setup, q: &QueueId) -> Vec<WindowNameDto> {
    let windows = setup.windows.iter().filter(|w| w.queues.contains(q));
    windows.map(|w| WindowNameDto { id: w.id.to_string(), name: w.name.clone() }).collect()
}

/// What a ticket's answer says of its escalation: for the escalation window's clerk, why
/// the first clerk could not finish it; for the visitor, where it goes now. No names and
/// no note: the visitor reads this too.
#[derive(Serialize)]
pub struct TicketEscalationDto {
    pub reason: String,
    pub reason_name: String,
    pub from_window: String,
    pub from_window_name: String,
    pub queue: String,
    pub queue_name: String,
    /// The windows that serve the escalation queue.
    pub windows: Vec<WindowNameDto>,
    /// The last working day for an answer.
    pub due: String,
}

impl TicketEscalationDto {
    pub fn new(setup: &Setup, c: &Escalation) -> Self {
        let to = setup.escalation.as_ref().map_or(c.queue, |p| p.queue);
        Self {
            reason: c.reason.clone(),
            reason_name: reason_name(setup, &c.reason),
            from_window: c.window.to_string(),
            from_window_name: window_name(setup, &c.window),
            queue: to.to_string(),
            queue_name: queue_name(setup, &to),
            windows: serving(setup, &to),
            due: c.due.to_string(),
        }
    }
}

fn reason_name(setup: &Setup, code: &str) -> String {
    let policy = setup.escalation.as_ref();
    policy.and_then(|p| p.reason(code)).map_or_else(|| code.to_string(), |r| r.name.clone())
}

#[derive(Serialize)]
pub struct NoteDto {
    pub at: String,
    pub by: String,
    pub reached: bool,
    pub note: String,
}

#[derive(Serialize)]
pub struct ResolutionDto {
    pub at: String,
    pub by: String,
    pub note: String,
    pub referred_to: Option<String>,
}

#[derive(Serialize)]
pub struct ItemDto {
    pub code: String,
    pub name: String,
    pub department: String,
}

/// A case on the wire, for its handler, supervisors and admins (it names who acted).
#[derive(Serialize)]
pub struct EscalationDto {
    pub id: String,
    /// `open`, `overdue`, `closed` or `referred`.
    pub status: &'static str,
    pub day: String,
    pub opened_at: String,
    pub due: String,
    pub number: String,
    /// The queue and window where the matter got stuck.
    pub queue: String,
    pub window: String,
    pub window_name: String,
    pub clerk: Option<String>,
    pub clerk_name: Option<String>,
    pub items: Vec<ItemDto>,
    pub reason: String,
    pub reason_name: String,
    pub note: Option<String>,
    pub handler: String,
    pub handler_name: String,
    pub callbacks: Vec<NoteDto>,
    pub resolution: Option<ResolutionDto>,
    /// Ended after its deadline (or, while open, already past it).
    pub late: bool,
}

impl EscalationDto {
    pub fn new(config: &Config, today: chrono::NaiveDate, c: &Escalation) -> Self {
        let setup = &config.setup;
        let status = c.status(today);
        let ended_day = c.resolution.as_ref().map(|r| setup.day_of(r.at));
        let name = |u: &str| crate::identity::display_name(config, u);
        Self {
            id: c.id.clone(),
            status: status.as_str(),
            day: c.day.to_string(),
            opened_at: rfc3339(setup, c.opened_at),
            due: c.due.to_string(),
            number: c.number.clone(),
            queue: c.queue.to_string(),
            window: c.window.to_string(),
            window_name: window_name(setup, &c.window),
            clerk: c.clerk.as_ref().map(ToString::to_string),
            clerk_name: c.clerk.as_ref().map(|u| name(u.as_str())),
            items: c.services.iter().map(|s| item(setup, s.as_str())).collect(),
            reason: c.reason.clone(),
            reason_name: reason_name(setup, &c.reason),
            note: c.note.clone(),
            handler: c.handler.to_string(),
            handler_name: name(c.handler.as_str()),
            callbacks: c
                .callbacks
                .iter()
                .map(|b| NoteDto {
                    at: rfc3339(setup, b.at),
                    by: b.by.to_string(),
                    reached: b.reached,
                    note: b.note.clone(),
                })
                .collect(),
            resolution: c.resolution.as_ref().map(|r| ResolutionDto {
                at: rfc3339(setup, r.at),
                by: r.by.to_string(),
                note: r.note.clone(),
                referred_to: r.referred_to.clone(),
            }),
            late: match ended_day {
                Some(d) => d > c.due,
                None => status == EscalationStatus::Overdue,
            },
        }
    }
}

pub fn item(setup: &Setup, code: &str) -> ItemDto {
    let def = setup.item(code);
    ItemDto {
        code: code.to_string(),
        name: def.map_or_else(String::new, |d| d.name.clone()),
        department: def.map_or_else(String::new, |d| d.department.clone()),
    }
}

/// One row of a breakdown: its key, what people call it, and its counts.
#[derive(Serialize)]
pub struct RowDto {
    pub key: String,
    pub name: String,
    pub total: u64,
    pub open: u64,
    pub overdue: u64,
    pub closed: u64,
    pub referred: u64,
}

fn row(key: &str, name: String, c: &Counts) -> RowDto {
    RowDto {
        key: key.to_string(),
        name,
        total: c.total,
        open: c.open,
        overdue: c.overdue,
        closed: c.closed,
        referred: c.referred,
    }
}

/// Where matters get stuck, each breakdown most cases first.
#[derive(Serialize)]
pub struct SummaryDto {
    pub all: RowDto,
    pub by_item: Vec<RowDto>,
    pub by_department: Vec<RowDto>,
    pub by_reason: Vec<RowDto>,
    pub by_clerk: Vec<RowDto>,
}

fn rows(map: &BTreeMap<String, Counts>, name: impl Fn(&str) -> String) -> Vec<RowDto> {
    let mut out: Vec<RowDto> = map.iter().map(|(k, c)| row(k, name(k), c)).collect();
    out.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
    out
}

impl SummaryDto {
    pub fn new(config: &Config, s: &Summary) -> Self {
        let setup = &config.setup;
        Self {
            all: row("", String::new(), &s.all),
            by_item: rows(&s.by_item, |k| item(setup, k).name),
            by_department: rows(&s.by_department, str::to_string),
            by_reason: rows(&s.by_reason, |k| reason_name(setup, k)),
            by_clerk: rows(&s.by_clerk, |k| {
                if k.is_empty() {
                    String::new()
                } else {
                    crate::identity::display_name(config, k)
                }
            }),
        }
    }
}

/// `/api/v1/stats`'s `escalations`: the day's matters not done (by reason) and how many of
/// them have ended; and, whatever the day asked, the cases open and overdue now.
#[derive(Serialize, Default)]
pub struct EscalationStatsDto {
    pub escalated: u64,
    pub reasons: BTreeMap<String, u64>,
    pub resolved: u64,
    pub referred: u64,
    pub open: u64,
    pub overdue: u64,
}

impl EscalationStatsDto {
    pub fn new(f: &Figures, now: &Counts) -> Self {
        Self {
            escalated: f.escalated,
            reasons: f.escalation_reasons.clone(),
            resolved: f.escalations_resolved,
            referred: f.escalations_referred,
            open: now.open,
            overdue: now.overdue,
        }
    }
}
