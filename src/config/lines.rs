//! `[[queue]]`, `[[priority]]` and `[[window]]` of hall.toml: the lines, the priority
//! classes and the counters with the queues each serves, and the check that every queue
//! has a window.

use super::alerts;
use super::hall::{id_field, name, within, HallParts, Seen};
use super::prefer::{self, ItemPref};
use super::tree::{Loc, Tab};
use super::Errs;
use super::{MAX_PRIORITIES, MAX_QUEUES, MAX_WINDOWS};
use crate::core::model::{PriorityClass, QueueId, WindowId};
use crate::core::setup::{PriorityDef, QueueDef, WindowDef};

pub(super) fn read_queues(
    tabs: Vec<Tab<'_>>,
    at: &Loc,
    alert_keys: &mut Vec<(QueueId, alerts::QueueKeys)>,
    errs: &mut Errs,
) -> (Vec<QueueDef>, Vec<Loc>) {
    if !within(tabs.len(), MAX_QUEUES, "queue", at, errs) {
        return (Vec::new(), Vec::new());
    }
    if tabs.is_empty() {
        errs.push(at.err("no queues; add at least one [[queue]] table with id, name and prefix"));
    }
    let mut ids = Seen::new("queue id");
    let mut prefixes = Seen::new("queue prefix");
    let mut out = Vec::new();
    let mut locs = Vec::new();
    for mut t in tabs {
        let id = id_field(&mut t, "id", QueueId::parse, errs);
        let name = name(&mut t, "name", errs);
        let prefix = t.req_str("prefix", errs);
        if let Some(p) = &prefix {
            let ok = (1..=2).contains(&p.value.len()) && p.value.chars().all(|c| c.is_ascii_uppercase());
            if !ok {
                errs.push(p.loc.err(format!("bad prefix {:?}; use 1 or 2 uppercase letters A-Z", p.value)));
            } else {
                prefixes.check(&p.value, &p.loc, errs);
            }
        }
        let keys = alerts::read_queue(&mut t, errs);
        t.finish(errs);
        if let (Some((id, loc)), Some(name), Some(prefix)) = (id, name, prefix) {
            if ids.check(id.as_str(), &loc, errs) {
                alert_keys.push((id, keys));
                out.push(QueueDef { id, name, prefix: prefix.value });
                locs.push(loc);
            }
        }
    }
    (out, locs)
}

pub(super) fn read_priorities(tabs: Vec<Tab<'_>>, at: &Loc, errs: &mut Errs) -> Vec<PriorityDef> {
    if !within(tabs.len(), MAX_PRIORITIES, "priority", at, errs) {
        return Vec::new();
    }
    let mut ids = Seen::new("priority class");
    let mut out = Vec::new();
    for mut t in tabs {
        let id = id_field(&mut t, "id", PriorityClass::parse, errs);
        let name = name(&mut t, "name", errs);
        t.finish(errs);
        if let (Some((id, loc)), Some(name)) = (id, name) {
            if ids.check(id.as_str(), &loc, errs) {
                out.push(PriorityDef { id, name });
            }
        }
    }
    out
}

/// Also collects in `served_anywhere` every queue some window lists, even a window that is
/// otherwise wrong, so that one bad window does not make its queues look unserved.
pub(super) fn read_windows(
    tabs: Vec<Tab<'_>>,
    queues: &[QueueDef],
    served_anywhere: &mut Vec<QueueId>,
    at: &Loc,
    errs: &mut Errs,
) -> (Vec<WindowDef>, Vec<ItemPref>) {
    if !within(tabs.len(), MAX_WINDOWS, "window", at, errs) {
        return (Vec::new(), Vec::new());
    }
    if tabs.is_empty() {
        errs.push(at.err("no windows; add at least one [[window]] table with id, name and queues"));
    }
    let mut ids = Seen::new("window id");
    let mut out = Vec::new();
    let mut item_prefs = Vec::new();
    for mut t in tabs {
        let id = id_field(&mut t, "id", WindowId::parse, errs);
        let name = name(&mut t, "name", errs);
        let served = queue_list(&mut t, queues, served_anywhere, errs).unwrap_or_default();
        let (prefer, items) = prefer::read(&mut t, out.len(), &served, errs);
        t.finish(errs);
        if let (Some((id, loc)), Some(name)) = (id, name) {
            if ids.check(id.as_str(), &loc, errs) {
                out.push(WindowDef { id, name, queues: served, prefer });
                item_prefs.extend(items);
            }
        }
    }
    (out, item_prefs)
}

/// A window's `queues`, checked: known, each once, at least one. `None` when the key is
/// missing or not a list (already reported).
pub(super) fn queue_list(
    t: &mut Tab<'_>,
    queues: &[QueueDef],
    served_anywhere: &mut Vec<QueueId>,
    errs: &mut Errs,
) -> Option<Vec<QueueId>> {
    let list = t.req_str_list("queues", errs)?;
    let mut served = Vec::new();
    if list.value.is_empty() {
        errs.push(list.loc.err("a window must serve at least one queue; list queue ids, e.g. [\"A\"]"));
    }
    for q in list.value {
        match queues.iter().find(|d| d.id.as_str() == q.value) {
            Some(d) if served.contains(&d.id) => {
                errs.push(q.loc.err(format!("queue {:?} listed twice; list it once", q.value)))
            }
            Some(d) => {
                served_anywhere.push(d.id);
                served.push(d.id);
            }
            None => errs.push(q.loc.err(format!("unknown queue {:?}; declare it in a [[queue]] table", q.value))),
        }
    }
    Some(served)
}

/// A queue no window serves would take tickets that nobody ever calls.
pub(super) fn check_every_queue_served(parts: &HallParts, served: &[QueueId], errs: &mut Errs) {
    for (q, loc) in parts.queues.iter().zip(&parts.queue_locs) {
        if !served.contains(&q.id) {
            errs.push(loc.err(format!(
                "no window serves queue {:?}; add it to some window's queues or remove the queue",
                q.id.as_str()
            )));
        }
    }
}
