//! `[hall.pause]`: `[[hall.pause.reason]]`, the reasons a clerk may give for pausing a
//! window (午间休息, 会议培训, …), counted in the clerks' scorecards. Without the table,
//! the reasons most halls list.

use super::hall::Seen;
use super::rating::{reason_code, reason_name, MAX_REASONS};
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
    if tabs.len() > MAX_REASONS {
        errs.push(at.err(format!("{} pause reasons; a hall offers at most {MAX_REASONS}", tabs.len())));
        return PauseReason::defaults();
    }
    let mut codes = Seen::new("pause reason code");
    let mut out = Vec::new();
    for mut r in tabs {
        let code = reason_code(&mut r, &mut codes, errs);
        let name = reason_name(&mut r, errs);
        r.finish(errs);
        if let (Some(code), Some(name)) = (code, name) {
            out.push(PauseReason { code: code.value, name: name.value });
        }
    }
    out
}
