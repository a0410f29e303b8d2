//! The JSON wire types of contract v1 (DESIGN.md §4). Built from the core's values at the
//! edge; never stored, never used as state.

use chrono::TimeZone;
use serde::Serialize;

use crate::core::model::{Ticket, Ts, Window};
use crate::core::setup::Setup;
use crate::core::stats::{DayStats, Durations, Figures};
use crate::engine::{TicketView, WindowView};

/// RFC 3339 with the hall's offset, e.g. `2026-11-27T09:30:00+08:00`.
pub fn rfc3339(setup: &Setup, at: Ts) -> String {
    setup
        .timezone
        .timestamp_millis_opt(at.0)
        .single()
        .map_or_else(String::new, |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
}

#[derive(Serialize)]
pub struct TicketDto {
    pub id: String,
    pub number: String,
    pub queue: String,
    pub services: Vec<String>,
    pub bundle: Option<String>,
    pub priority: Option<String>,
    pub status: &'static str,
    pub ahead: Option<usize>,
    pub eta_minutes: Option<u32>,
    pub window: Option<String>,
    pub issued_at: String,
    /// The first call; `called_at` moves with every recall.
    pub first_called_at: Option<String>,
    pub called_at: Option<String>,
    pub serving_at: Option<String>,
    pub finished_at: Option<String>,
    pub outcome: Option<crate::core::model::Outcome>,
    pub rated: bool,
    pub status_url: String,
}

impl TicketDto {
    pub fn new(setup: &Setup, view: &TicketView) -> Self {
        let t: &Ticket = &view.ticket;
        Self {
            id: t.id.to_string(),
            number: t.number.to_string(),
            queue: t.queue.to_string(),
            services: t.services.iter().map(ToString::to_string).collect(),
            bundle: t.bundle.as_ref().map(ToString::to_string),
            priority: t.priority.as_ref().map(ToString::to_string),
            status: t.status.as_str(),
            ahead: view.eta.map(|e| e.ahead),
            eta_minutes: view.eta.map(|e| e.minutes),
            window: t.window.as_ref().map(ToString::to_string),
            issued_at: rfc3339(setup, t.issued_at),
            first_called_at: t.first_called_at.map(|at| rfc3339(setup, at)),
            called_at: t.called_at.map(|at| rfc3339(setup, at)),
            serving_at: t.serving_at.map(|at| rfc3339(setup, at)),
            finished_at: t.finished_at.map(|at| rfc3339(setup, at)),
            outcome: t.outcome,
            rated: t.rating.is_some(),
            status_url: format!("/t/{}", t.id),
        }
    }
}

#[derive(Serialize, Clone)]
pub struct WindowDto {
    pub id: String,
    pub name: String,
    pub queues: Vec<String>,
    pub state: &'static str,
    /// The number of the ticket the window holds.
    pub ticket: Option<String>,
    /// The signed-in clerk's user name; always null on displays (no personal data there).
    pub clerk: Option<String>,
}

impl WindowDto {
    pub fn new(w: &Window, number: Option<String>, show_clerk: bool) -> Self {
        Self {
            id: w.id.to_string(),
            name: w.name.clone(),
            queues: w.queues.iter().map(ToString::to_string).collect(),
            state: w.state.as_str(),
            ticket: number,
            clerk: if show_clerk { w.clerk.as_ref().map(ToString::to_string) } else { None },
        }
    }

    pub fn from_view(v: &WindowView) -> Self {
        Self::new(&v.window, v.number.as_ref().map(ToString::to_string), true)
    }
}

#[derive(Serialize)]
pub struct FiguresDto {
    pub issued: u64,
    pub called: u64,
    pub served: u64,
    pub completed: u64,
    pub incomplete: u64,
    pub no_show: u64,
    pub cancelled: u64,
    pub expired: u64,
    pub transferred: u64,
    pub rated: u64,
    pub mean_score: Option<f64>,
    pub mean_wait_s: Option<u64>,
    pub max_wait_s: Option<u64>,
    pub mean_service_s: Option<u64>,
    pub max_service_s: Option<u64>,
}

fn secs(d: &Durations, f: impl Fn(&Durations) -> Option<u64>) -> Option<u64> {
    f(d).map(|ms| ms.div_ceil(1000))
}

impl From<&Figures> for FiguresDto {
    fn from(f: &Figures) -> Self {
        Self {
            issued: f.issued,
            called: f.called,
            served: f.served(),
            completed: f.completed,
            incomplete: f.incomplete,
            no_show: f.no_show,
            cancelled: f.cancelled,
            expired: f.expired,
            transferred: f.transferred,
            rated: f.rated,
            mean_score: (f.rated > 0).then(|| f.score_sum as f64 / f.rated as f64),
            mean_wait_s: secs(&f.wait, Durations::mean_ms),
            max_wait_s: secs(&f.wait, |d| (d.count > 0).then_some(d.max_ms)),
            mean_service_s: secs(&f.service, Durations::mean_ms),
            max_service_s: secs(&f.service, |d| (d.count > 0).then_some(d.max_ms)),
        }
    }
}

#[derive(Serialize)]
pub struct StatsDto {
    pub day: String,
    pub total: FiguresDto,
    pub queues: std::collections::BTreeMap<String, FiguresDto>,
    pub windows: std::collections::BTreeMap<String, FiguresDto>,
}

impl StatsDto {
    pub fn new(day: chrono::NaiveDate, s: &DayStats) -> Self {
        Self {
            day: day.to_string(),
            total: (&s.total).into(),
            queues: s.by_queue.iter().map(|(q, f)| (q.to_string(), f.into())).collect(),
            windows: s.by_window.iter().map(|(w, f)| (w.to_string(), f.into())).collect(),
        }
    }
}
