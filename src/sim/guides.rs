//! 全程领办 in the simulator (`--guided SHARE`, `--guides N`): a share of walk-in visitors
//! come with a guide, who takes the number for them (an assisted issue) and escorts them,
//! while the guide has room under the hall's `[hall.guides] escorts_max`; a guide with no
//! room takes the number without escort. The N guides take the guided visitors in turn.
//! The report's figures are the core's own per guide (`DayStats::guides`, a fold of the
//! `Guided` facts), summed over the simulated days.

use serde::Serialize;

use crate::core::guide::live;
use crate::core::model::UserName;
use crate::core::stats::Stats;
use crate::core::HallState;

/// The most guides the simulator plays: a hall has a handful on duty.
pub const GUIDES_MAX: u32 = 50;

/// What the guides did over the simulated days.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GuidesReport {
    /// Numbers the guides took for visitors.
    pub assisted: u64,
    /// Visitors taken under escort.
    pub escorted: u64,
    /// Escorted visitors' waits (one per first call in a line) and their mean.
    pub escorted_waits: u64,
    pub escorted_wait_mean_min: f64,
}

impl GuidesReport {
    pub fn is_empty(&self) -> bool {
        self.assisted == 0 && self.escorted == 0
    }

    /// The sum of every day's figures per guide.
    pub fn of(stats: &Stats) -> Self {
        let mut r = GuidesReport::default();
        let mut wait_ms = 0u64;
        for g in stats.values().flat_map(|d| d.guides.values()) {
            r.assisted += g.assisted;
            r.escorted += g.escorted;
            r.escorted_waits += g.wait.count;
            wait_ms = wait_ms.saturating_add(g.wait.sum_ms);
        }
        if r.escorted_waits > 0 {
            r.escorted_wait_mean_min = wait_ms as f64 / r.escorted_waits as f64 / 60_000.0;
        }
        r
    }
}

/// The guide whose turn `turn` is, of `guides`, and whether they have room to escort.
pub(super) fn guide_for(state: &HallState, turn: u64, guides: u32) -> Option<(UserName, bool)> {
    let n = turn % u64::from(guides.max(1)) + 1;
    let guide = UserName::parse(&format!("sim-guide{n}")).ok()?;
    let live_now =
        state.guides.escorted_by(&guide).filter(|(id, _)| state.ticket(id).is_some_and(|t| live(t.status))).count();
    let room = live_now < state.setup.guides.escorts_max;
    Some((guide, room))
}
