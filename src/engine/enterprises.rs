//! Reads of the 助企服务 registry, run on the engine like every read (`reads.rs`): the
//! enterprise a credit code's keyed hash names, the registry, one enterprise's log, the
//! figures of some days, and where a specialist works now.

use chrono::NaiveDate;

use super::reads::Reads;
use crate::core::enterprise::{specialist_window, EnterpriseDay, EnterpriseDef, EnterpriseId, Log};
use crate::core::model::WindowId;

/// Most days one figures read returns: a year and more, as many as are kept.
pub const ENTERPRISE_DAYS_READ_MAX: usize = crate::core::enterprise::FIGURE_DAYS_KEPT;

/// One enterprise with its log and where its specialist takes tickets now.
#[derive(Clone, Debug)]
pub struct EnterpriseView {
    pub enterprise: EnterpriseDef,
    pub log: Log,
    /// The specialist's window, while open and not paused.
    pub window: Option<WindowId>,
}

impl Reads<'_> {
    /// The enterprise whose credit code has keyed hash `hash`, with its specialist's
    /// window now.
    pub fn enterprise_by_hash(&self, hash: &str) -> Option<EnterpriseView> {
        let state = self.state();
        let e = state.enterprises.by_hash(&state.setup, hash)?;
        Some(self.view_of(e))
    }

    /// Every enterprise, hall.toml's first.
    pub fn enterprises(&self) -> Vec<EnterpriseView> {
        let state = self.state();
        state.enterprises.all(&state.setup).into_iter().map(|e| self.view_of(e)).collect()
    }

    pub fn enterprise(&self, id: &EnterpriseId) -> Option<EnterpriseView> {
        let state = self.state();
        state.enterprises.find(&state.setup, id).map(|e| self.view_of(e))
    }

    /// The enterprise figures of `since..=until` that have any.
    pub fn enterprise_days(&self, since: NaiveDate, until: NaiveDate) -> Vec<(NaiveDate, EnterpriseDay)> {
        let days = self.state().enterprises.days.range(since..=until);
        days.take(ENTERPRISE_DAYS_READ_MAX).map(|(d, f)| (*d, f.clone())).collect()
    }

    fn view_of(&self, enterprise: EnterpriseDef) -> EnterpriseView {
        let state = self.state();
        let log = state.enterprises.log(&enterprise.id).cloned().unwrap_or_default();
        let window = specialist_window(state, &enterprise.specialist);
        EnterpriseView { enterprise, log, window }
    }
}
