//! `[hall.guides]` (全程领办): how many visitors still in the hall one guide may escort at
//! once (`escorts_max`), and the priority class an escorted ticket gets
//! (`escort_priority`, optional), which must name a declared `[[priority]]`; it is checked
//! once the priorities are read.

use super::tree::{Field, Tab};
use super::Errs;
use crate::core::guide::{GuidePolicy, ESCORTS_PER_GUIDE_DEFAULT, ESCORTS_PER_GUIDE_MAX};
use crate::core::setup::PriorityDef;

/// The table as read, before its priority class is known to exist.
pub(super) struct RawGuides {
    escorts_max: usize,
    escort_priority: Option<Field<String>>,
}

/// Reads the table; `None` (with errors) when a key is out of range.
pub(super) fn read(mut t: Tab<'_>, errs: &mut Errs) -> Option<RawGuides> {
    let max = ESCORTS_PER_GUIDE_MAX;
    let escorts_max = match t.int("escorts_max", errs) {
        None => Some(ESCORTS_PER_GUIDE_DEFAULT),
        Some(f) => match usize::try_from(f.value).ok().filter(|n| (1..=max).contains(n)) {
            Some(n) => Some(n),
            None => {
                errs.push(f.loc.err(format!("escorts_max is {}; use a value from 1 to {max}", f.value)));
                None
            }
        },
    };
    let escort_priority = t.str("escort_priority", errs);
    t.finish(errs);
    Some(RawGuides { escorts_max: escorts_max?, escort_priority })
}

/// The policy, once its escort priority is found among `priorities`.
pub(super) fn resolve(raw: RawGuides, priorities: &[PriorityDef], errs: &mut Errs) -> GuidePolicy {
    let escort_priority = raw.escort_priority.and_then(|p| {
        let found = priorities.iter().find(|d| d.id.as_str() == p.value).map(|d| d.id.clone());
        if found.is_none() {
            let name = &p.value;
            errs.push(p.loc.err(format!("unknown priority class {name:?}; name a declared [[priority]] id")));
        }
        found
    });
    GuidePolicy { escorts_max: raw.escorts_max, escort_priority }
}
