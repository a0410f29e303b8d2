//! `[hall.thresholds] service_level_min` and `service_level_queue_min`: the wait within
//! which a ticket counts as called in time, for the reports' service-level share.
//!
//! A report-only setting: nothing in the core reads it, so changing it re-reads every
//! past day's share under the new target.

use std::collections::BTreeMap;

use super::tree::{Loc, Tab};
use super::{Errs, MAX_WAIT_MIN};
use crate::core::model::QueueId;
use crate::core::setup::QueueDef;

/// The usual target of Chinese service halls: called within 15 minutes.
pub const DEFAULT_SERVICE_LEVEL_MIN: u32 = 15;

/// The service-level target, in minutes, for the hall and for queues that differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceLevel {
    pub min: u32,
    pub by_queue: BTreeMap<QueueId, u32>,
}

impl Default for ServiceLevel {
    fn default() -> Self {
        Self { min: DEFAULT_SERVICE_LEVEL_MIN, by_queue: BTreeMap::new() }
    }
}

impl ServiceLevel {
    /// The target of `queue` in minutes.
    pub fn minutes(&self, queue: &QueueId) -> u32 {
        self.by_queue.get(queue).copied().unwrap_or(self.min)
    }
}

/// What hall.toml said, before the queues are known.
#[derive(Default)]
pub(super) struct Raw {
    min: Option<u32>,
    by_queue: Vec<(String, u32, Loc)>,
}

fn minutes(t: &mut Tab<'_>, key: &str, errs: &mut Errs) -> Option<(u32, Loc)> {
    let f = t.int(key, errs)?;
    match u32::try_from(f.value) {
        Ok(m) if (1..=MAX_WAIT_MIN).contains(&f.value) => Some((m, f.loc)),
        _ => {
            errs.push(f.loc.err(format!("{key} is {}; use minutes from 1 to {MAX_WAIT_MIN}", f.value)));
            None
        }
    }
}

/// Reads the two keys from `[hall.thresholds]`.
pub(super) fn read(th: &mut Tab<'_>, errs: &mut Errs) -> Raw {
    let mut raw = Raw { min: minutes(th, "service_level_min", errs).map(|(m, _)| m), by_queue: Vec::new() };
    if let Some(mut t) = th.table("service_level_queue_min", errs) {
        for key in t.keys() {
            if let Some((m, loc)) = minutes(&mut t, &key, errs) {
                raw.by_queue.push((key, m, loc));
            }
        }
        t.finish(errs);
    }
    raw
}

/// The setting, with each queue checked against the hall's queues.
pub(super) fn resolve(raw: Raw, queues: &[QueueDef], errs: &mut Errs) -> ServiceLevel {
    let mut level = ServiceLevel { min: raw.min.unwrap_or(DEFAULT_SERVICE_LEVEL_MIN), by_queue: BTreeMap::new() };
    for (key, m, loc) in raw.by_queue {
        match queues.iter().find(|q| q.id.as_str() == key) {
            Some(q) => {
                level.by_queue.insert(q.id, m);
            }
            None => errs.push(loc.err(format!("no queue {key:?}; name a queue id of a [[queue]] table"))),
        }
    }
    level
}
