//! The report's figures: a day's groups summed up into counts, mean / p95 / max of wait
//! and service time, the service-level share and the ratings — from a replay of the log,
//! or, for a day whose records are past the retention, from the figures the state keeps
//! (counts, means and maxima only).
//!
//! p95 is the nearest rank: the smallest time that at least 95 % of the samples do not
//! exceed (of 20 waits, the 19th shortest).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::replay::{Day, Group};
use crate::config::service_level::ServiceLevel;
use crate::core::setup::Setup;
use crate::core::stats::{DayStats, Durations, Figures};

/// What a report built from the retained figures alone cannot tell.
pub const UNAVAILABLE_FROM_FIGURES: [&str; 7] =
    ["p95", "service_level", "ratings_levels", "clerks", "items", "tickets", "charts"];

#[derive(Clone, Debug, Serialize)]
pub struct Times {
    pub count: u64,
    pub mean_ms: Option<u64>,
    /// `null` for a day known only from its retained figures.
    pub p95_ms: Option<u64>,
    pub max_ms: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Level {
    /// The target in minutes (a queue's own, or the hall's for mixed groups).
    pub target_min: u32,
    /// Tickets called within the target, of those that count: every first call, and every
    /// ticket cancelled or expired uncalled after waiting past its target.
    pub within: u64,
    pub of: u64,
    /// `within / of`, from 0 to 1; `null` with nothing to count.
    pub share: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Ratings {
    pub count: u64,
    /// Mean score (5 非常满意 … 1 非常不满意), to two decimals.
    pub mean: Option<f64>,
    /// Ratings per score, "1" to "5"; `null` for a day known only from its figures.
    pub levels: Option<BTreeMap<String, u64>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupFigures {
    pub issued: u64,
    pub called: u64,
    pub completed: u64,
    pub incomplete: u64,
    pub no_show: u64,
    pub cancelled: u64,
    pub expired: u64,
    pub transferred: u64,
    pub wait: Times,
    pub service: Times,
    pub service_level: Option<Level>,
    pub ratings: Ratings,
}

#[derive(Clone, Debug, Serialize)]
pub struct Named {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub figures: GroupFigures,
}

#[derive(Clone, Debug, Serialize)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub queue: String,
    pub tickets: u64,
}

/// The answer of `GET /api/v1/reports/day`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub day: NaiveDate,
    /// `log`: replayed from the day's records; `figures`: the records are past the hall's
    /// retention and only the kept figures remain.
    pub source: &'static str,
    /// False while the day is still running (today): later records will change it.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The parts this report cannot give (see `UNAVAILABLE_FROM_FIGURES`).
    pub unavailable: Vec<&'static str>,
    pub service_level_min: u32,
    pub total: GroupFigures,
    pub queues: Vec<Named>,
    pub windows: Vec<Named>,
    /// Per clerk: the user signed in at the window when each thing happened.
    pub clerks: Vec<Named>,
    pub items: Vec<Item>,
}

/// The nearest-rank 95th percentile of `v` (sorted in place).
pub fn p95(v: &mut [u64]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let rank = (v.len() * 95).div_ceil(100);
    v.get(rank.saturating_sub(1)).copied()
}

fn times(samples: &[u64]) -> Times {
    let mut v = samples.to_vec();
    let count = v.len() as u64;
    let sum: u64 = v.iter().fold(0u64, |a, b| a.saturating_add(*b));
    Times { count, mean_ms: sum.checked_div(count), p95_ms: p95(&mut v), max_ms: v.iter().max().copied() }
}

fn ratings(levels: &[u64; 5]) -> Ratings {
    let count: u64 = levels.iter().sum();
    let sum: u64 = levels.iter().zip(1u64..).map(|(n, s)| n * s).sum();
    Ratings {
        count,
        mean: mean2(sum, count),
        levels: Some(levels.iter().zip(1..).map(|(n, s): (&u64, u8)| (s.to_string(), *n)).collect()),
    }
}

/// `sum / count` to two decimals.
fn mean2(sum: u64, count: u64) -> Option<f64> {
    (count > 0).then(|| (sum as f64 * 100.0 / count as f64).round() / 100.0)
}

fn group(g: &Group, target_min: u32) -> GroupFigures {
    GroupFigures {
        issued: g.issued,
        called: g.called,
        completed: g.completed,
        incomplete: g.incomplete,
        no_show: g.no_show,
        cancelled: g.cancelled,
        expired: g.expired,
        transferred: g.transferred,
        wait: times(&g.wait_ms),
        service: times(&g.service_ms),
        service_level: Some(Level {
            target_min,
            within: g.sl_within,
            of: g.sl_of,
            share: (g.sl_of > 0).then(|| g.sl_within as f64 / g.sl_of as f64),
        }),
        ratings: ratings(&g.ratings),
    }
}

fn window_name(setup: &Setup, id: &str) -> String {
    setup.windows.iter().find(|w| w.id.as_str() == id).map_or_else(|| id.to_string(), |w| w.name.clone())
}

fn queue_name(setup: &Setup, id: &crate::core::model::QueueId) -> String {
    setup.queue(id).map_or_else(|| id.to_string(), |q| q.name.clone())
}

/// The report of a replayed day.
pub fn from_day(day: NaiveDate, d: &Day, setup: &Setup, level: &ServiceLevel, is_final: bool) -> Report {
    let g = &d.groups;
    let queues = g
        .queues
        .iter()
        .map(|(id, q)| Named { id: id.to_string(), name: queue_name(setup, id), figures: group(q, level.minutes(id)) })
        .collect();
    let windows = g
        .windows
        .iter()
        .map(|(id, w)| Named {
            id: id.to_string(),
            name: window_name(setup, id.as_str()),
            figures: group(w, level.min),
        })
        .collect();
    let clerks = g
        .clerks
        .iter()
        .map(|(id, c)| Named { id: id.to_string(), name: id.to_string(), figures: group(c, level.min) })
        .collect();
    let mut items: Vec<Item> = d
        .items
        .iter()
        .map(|(code, n)| {
            let def = setup.item(code.as_str());
            Item {
                code: code.to_string(),
                name: def.map_or_else(String::new, |i| i.name.clone()),
                queue: def.map_or_else(String::new, |i| i.queue.to_string()),
                tickets: *n,
            }
        })
        .collect();
    items.sort_by(|a, b| b.tickets.cmp(&a.tickets).then_with(|| a.code.cmp(&b.code)));
    Report {
        day,
        source: "log",
        is_final,
        unavailable: Vec::new(),
        service_level_min: level.min,
        total: group(&g.total, level.min),
        queues,
        windows,
        clerks,
        items,
    }
}

fn kept_times(d: &Durations) -> Times {
    Times { count: d.count, mean_ms: d.mean_ms(), p95_ms: None, max_ms: (d.count > 0).then_some(d.max_ms) }
}

fn kept(f: &Figures) -> GroupFigures {
    GroupFigures {
        issued: f.issued,
        called: f.called,
        completed: f.completed,
        incomplete: f.incomplete,
        no_show: f.no_show,
        cancelled: f.cancelled,
        expired: f.expired,
        transferred: f.transferred,
        wait: kept_times(&f.wait),
        service: kept_times(&f.service),
        service_level: None,
        ratings: Ratings { count: f.rated, mean: mean2(f.score_sum, f.rated), levels: None },
    }
}

/// The report of a day whose records are gone: the figures the state keeps.
pub fn from_figures(day: NaiveDate, s: &DayStats, setup: &Setup, level: &ServiceLevel) -> Report {
    Report {
        day,
        source: "figures",
        is_final: true,
        unavailable: UNAVAILABLE_FROM_FIGURES.to_vec(),
        service_level_min: level.min,
        total: kept(&s.total),
        queues: s
            .by_queue
            .iter()
            .map(|(id, f)| Named { id: id.to_string(), name: queue_name(setup, id), figures: kept(f) })
            .collect(),
        windows: s
            .by_window
            .iter()
            .map(|(id, f)| Named { id: id.to_string(), name: window_name(setup, id.as_str()), figures: kept(f) })
            .collect(),
        clerks: Vec::new(),
        items: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::p95;

    #[test]
    fn p95_is_the_nearest_rank() {
        assert_eq!(p95(&mut []), None);
        assert_eq!(p95(&mut [7]), Some(7));
        let mut twenty: Vec<u64> = (1..=20).rev().collect();
        assert_eq!(p95(&mut twenty), Some(19));
        let mut ten: Vec<u64> = (1..=10).collect();
        assert_eq!(p95(&mut ten), Some(10));
    }
}
