//! Reads of the 办不成事 cases, run on the engine like every read (`reads.rs`): a listing
//! with where matters get stuck (by item, department, reason and clerk), one case, and the
//! case a command's reply names.

use chrono::NaiveDate;

use super::reads::{Reads, CASES_LISTED_MAX};
use crate::core::escalation::{Escalation, EscalationStatus, Summary};
use crate::core::model::UserName;

/// Which cases a listing asks for: a status (any when `None`), opened from `since` to
/// `until` (inclusive; open-ended when `None`), and, for a clerk who handles cases, only
/// the cases that name them (`handler`).
#[derive(Clone, Debug, Default)]
pub struct EscalationFilter {
    pub status: Option<EscalationStatus>,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub handler: Option<UserName>,
}

/// Escalation cases as of `today` (which decides which are overdue): the newest of those
/// asked for, and the counts of every case in the asked days, whatever its status.
#[derive(Clone, Debug)]
pub struct EscalationsView {
    pub today: NaiveDate,
    pub cases: Vec<Escalation>,
    pub summary: Summary,
}

impl Reads<'_> {
    pub fn escalations(&self, filter: EscalationFilter) -> EscalationsView {
        let today = self.today();
        let state = self.state();
        let in_days = |c: &&Escalation| {
            filter.since.is_none_or(|d| c.day >= d)
                && filter.until.is_none_or(|d| c.day <= d)
                && filter.handler.as_ref().is_none_or(|h| c.handler == *h)
        };
        let all = state.escalations.cases.values().filter(in_days);
        let summary = Summary::of(&state.setup, today, all.clone());
        let cases = all
            .rev()
            .filter(|c| filter.status.is_none_or(|s| c.status(today) == s))
            .take(CASES_LISTED_MAX)
            .cloned()
            .collect();
        EscalationsView { today, cases, summary }
    }

    /// Whether any case, open or ended, names `user` as its handler: a clerk who was the
    /// hall's handler keeps the cases opened in their time after the hall names another.
    pub fn handles_escalations(&self, user: &UserName) -> bool {
        self.state().escalations.cases.values().any(|c| c.handler == *user)
    }

    /// One case, as a listing of it alone.
    pub fn escalation(&self, id: &str) -> EscalationsView {
        let state = self.state();
        let case = state.escalations.cases.get(id);
        let today = self.today();
        EscalationsView {
            today,
            cases: case.cloned().into_iter().collect(),
            summary: Summary::of(&state.setup, today, case),
        }
    }
}
