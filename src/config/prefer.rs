//! Window preferences (`prefer` and `prefer_items` in a `[[window]]` table): the queues and
//! items a window leans towards, each with a head start in minutes.
//!
//! Queues are checked while the window is read; items only once the catalogue is loaded,
//! since hall.toml is read first.

use super::tree::{Loc, Tab};
use super::Errs;
use crate::core::model::{Preferences, QueueId};
use crate::core::setup::{ItemDef, WindowDef};

/// Longest head start a preference may give, in minutes (half a working day).
pub const MAX_PREFER_MIN: i64 = 240;
/// Most preferences one window may list (queues and items each).
pub const MAX_PREFERENCES: usize = 32;

/// An item preference waiting for the catalogue: the window it belongs to (an index into
/// the windows read), the code as written, the head start, and where it was written.
pub(super) struct ItemPref {
    pub window: usize,
    pub code: String,
    pub minutes: u32,
    pub loc: Loc,
}

/// Reads `prefer = { B = 30 }` and `prefer_items = { "SC-0029" = 20 }` of window number
/// `window` (which serves `served`).
pub(super) fn read(
    t: &mut Tab<'_>,
    window: usize,
    served: &[QueueId],
    errs: &mut Errs,
) -> (Preferences, Vec<ItemPref>) {
    let mut prefer = Preferences::default();
    let mut items = Vec::new();
    if let Some(mut p) = t.table("prefer", errs) {
        for (key, minutes, loc) in head_starts(&mut p, errs) {
            match served.iter().find(|q| q.as_str() == key) {
                Some(q) => prefer.queues.push((*q, minutes)),
                None => errs.push(loc.err(format!(
                    "this window does not serve queue {key:?}; a preference only reorders the queues it serves"
                ))),
            }
        }
        p.finish(errs);
    }
    if let Some(mut p) = t.table("prefer_items", errs) {
        for (code, minutes, loc) in head_starts(&mut p, errs) {
            items.push(ItemPref { window, code, minutes, loc });
        }
        p.finish(errs);
    }
    (prefer, items)
}

/// Every key of a preference table with its minutes, checked.
fn head_starts(p: &mut Tab<'_>, errs: &mut Errs) -> Vec<(String, u32, Loc)> {
    let keys = p.keys();
    if keys.len() > MAX_PREFERENCES {
        errs.push(p.loc().err(format!("more than {MAX_PREFERENCES} preferences; keep the few that matter")));
        return Vec::new();
    }
    let mut out = Vec::new();
    for key in keys {
        let Some(f) = p.int(&key, errs) else { continue };
        if (1..=MAX_PREFER_MIN).contains(&f.value) {
            out.push((key, u32::try_from(f.value).unwrap_or(0), f.loc));
        } else {
            errs.push(f.loc.err(format!(
                "a head start of {} minutes; use 1 to {MAX_PREFER_MIN} (minutes a ticket counts as issued earlier)",
                f.value
            )));
        }
    }
    out
}

/// Resolves the item preferences against the catalogue: each item must exist and be in a
/// queue its window serves.
pub(super) fn resolve_items(windows: &mut [WindowDef], prefs: Vec<ItemPref>, items: &[ItemDef], errs: &mut Errs) {
    for pref in prefs {
        let Some(window) = windows.get_mut(pref.window) else { continue };
        match items.iter().find(|i| i.code.as_str() == pref.code) {
            Some(item) if window.queues.contains(&item.queue) => {
                window.prefer.items.push((item.code.clone(), pref.minutes));
            }
            Some(item) => errs.push(pref.loc.err(format!(
                "item {:?} is in queue {}, which this window does not serve; prefer items of its own queues",
                pref.code, item.queue
            ))),
            None => errs.push(pref.loc.err(format!("unknown item {:?}; use a code from the catalogue", pref.code))),
        }
    }
}
