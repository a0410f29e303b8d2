//! `[hall.pause]`: `[[hall.pause.reason]]`, the reasons a clerk may give for pausing a
//! window (午间休息, 会议培训, …), counted in the clerks' scorecards. Without the table,
//! the reasons most halls list.

use super::rating::code_name_list;
use super::tree::Tab;
use super::Errs;
use crate::core::scorecard::PauseReason;

/// Reads the table: its reasons, or the defaults when it lists none.
pub(super) fn read(mut t: Tab<'_>, errs: &mut Errs) -> Vec<PauseReason> {
    let tabs = t.tables("reason", errs);
    let at = t.loc();
    t.finish(errs);
    if tabs.is_empty() {
        return PauseReason::defaults();
    }
    match code_name_list(tabs, &at, ("pause", "pause reason code"), errs) {
        Some(list) => list.into_iter().map(|(code, name)| PauseReason { code, name }).collect(),
        None => PauseReason::defaults(),
    }
}
