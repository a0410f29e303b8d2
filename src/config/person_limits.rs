//! `[hall.limits]`'s per-person limits at the kiosk (issue 17 §4, anti-scalping):
//! `tickets_per_person_per_day`, and `no_shows_before_wait` with `no_show_wait_minutes`.
//! Absent keys leave a limit off; with either on, the kiosk reads an ID card before it
//! issues (`src/http/person.rs`).

use super::guard::int_within;
use super::tree::Tab;
use super::Errs;
use crate::core::clerk_moves::PersonLimits;

/// Most tickets one person may be allowed in a day: past this the limit limits nothing
/// a person does in a hall.
pub const TICKETS_PER_PERSON_MAX: i64 = 100;
/// Most no-shows a hall may let a person have before the wait.
pub const NO_SHOWS_BEFORE_WAIT_MAX: i64 = 20;
/// Longest wait after the no-shows, in minutes (the hall's longest day).
pub const NO_SHOW_WAIT_MINUTES_MAX: i64 = 24 * 60;

/// Reads the per-person keys of `[hall.limits]`, `t`, leaving the rest to the caller.
pub(super) fn read(t: &mut Tab<'_>, errs: &mut Errs) -> PersonLimits {
    let mut out = PersonLimits::default();
    let narrow = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    out.tickets_per_day = int_within(t, "tickets_per_person_per_day", 1, TICKETS_PER_PERSON_MAX, errs).map(narrow);
    let before = int_within(t, "no_shows_before_wait", 1, NO_SHOWS_BEFORE_WAIT_MAX, errs).map(narrow);
    let mut wait_loc = t.loc();
    wait_loc.key = format!("{}.no_show_wait_minutes", wait_loc.key);
    let wait = int_within(t, "no_show_wait_minutes", 1, NO_SHOW_WAIT_MINUTES_MAX, errs).map(narrow);
    match (before, wait) {
        (Some(n), Some(w)) => (out.no_shows_before_wait, out.no_show_wait_min) = (Some(n), w),
        (None, None) => {}
        // One without the other is a hall that meant a cool-down and would get none.
        (Some(_), None) | (None, Some(_)) => errs.push(wait_loc.err(
            "no_shows_before_wait and no_show_wait_minutes go together; give both, or neither to turn the no-show wait off",
        )),
    }
    out
}
