//! The state at the opening of a service day, so that start-up replays only the log's
//! tail.
//!
//! Opening a day (`DayOpened`) empties almost everything: tickets, numbers, idempotency
//! keys, the dispatch index, the day's measured pace; every window is closed. What carries
//! over is small — the figures of every day so far, the bookings not yet past, and where
//! the log and the clock are — and that is all a snapshot holds. Everything else of the
//! state is derived from the configuration, exactly as `HallState::new` derives it, so
//! restoring a snapshot and replaying the records after it gives the state that replaying
//! the whole log gives (`tests/snapshots.rs` holds this).
//!
//! The snapshot holds no personal data beyond what the state must keep for bookings ahead
//! (their code and keyed phone hash) and the login names an admin disabled: figures are
//! counts and durations per queue and window. It also carries the queues an admin set
//! for windows (`window_queues`), which outlive the day.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::alerts::Alerts;
use super::appointments::Appointments;
use super::hall::HallState;
use super::model::{QueueId, Ts, WindowId};
use super::rating::Case;
use super::setup::Setup;
use super::staff::Staff;
use super::stats::Stats;

/// The form of snapshots this build writes and reads; a snapshot of another version is
/// ignored (the log is replayed instead).
pub const SNAPSHOT_VERSION: u16 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DaySnapshot {
    pub v: u16,
    /// The log position of the `DayOpened` record it was taken after.
    pub seq: u64,
    /// The time of that record (the core's clock never goes back past it).
    pub at: Ts,
    pub day: NaiveDate,
    pub stats: Stats,
    pub appointments: Appointments,
    /// Bad-rating cases, open and recently closed (they outlive the day's tickets).
    #[serde(default)]
    pub cases: BTreeMap<String, Case>,
    /// Users an admin disabled (absent in snapshots written before it existed).
    #[serde(default)]
    pub staff: Staff,
    /// Windows whose queues an admin set to differ from hall.toml.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub window_queues: BTreeMap<WindowId, Vec<QueueId>>,
    /// Supervision alerts of the days so far (none active at a day's opening).
    #[serde(default)]
    pub alerts: Alerts,
    /// 办不成事 cases, open and recently ended.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub escalations: BTreeMap<String, super::escalation::Escalation>,
    /// 助企服务: enterprises added and specialists set since hall.toml, the follow-up logs
    /// and the day figures (absent in snapshots written before it existed).
    #[serde(default)]
    pub enterprises: super::enterprise::Enterprises,
}

impl HallState {
    /// The snapshot of a state that has just applied a `DayOpened` record; `None` once the
    /// day has begun (a ticket, a window opened, a key): a snapshot cannot describe that.
    /// Bookings made since are fine: they are in the snapshot.
    pub fn day_snapshot(&self) -> Option<DaySnapshot> {
        let day = self.day?;
        let fresh = self.tickets.is_empty()
            && self.numbers.is_empty()
            && self.idem.is_empty()
            && self.windows.values().all(|w| w.clerk.is_none())
            && self.alerts.active.is_empty();
        fresh.then(|| DaySnapshot {
            v: SNAPSHOT_VERSION,
            seq: self.last_seq,
            at: self.last_at,
            day,
            stats: self.stats.clone(),
            appointments: self.appointments.clone(),
            cases: self.ratings.cases.clone(),
            staff: self.staff.clone(),
            window_queues: self.window_queue_overrides(),
            alerts: self.alerts.clone(),
            escalations: self.escalations.cases.clone(),
            enterprises: self.enterprises.clone(),
        })
    }

    /// The state a snapshot describes, for `setup`; replay the records after `snap.seq`
    /// onto it.
    pub fn from_snapshot(setup: Arc<Setup>, snap: DaySnapshot) -> Self {
        let mut state = HallState::new(setup);
        state.last_seq = snap.seq;
        state.last_at = snap.at;
        state.day = Some(snap.day);
        state.stats = snap.stats;
        state.appointments = snap.appointments;
        state.ratings.cases = snap.cases;
        state.staff = snap.staff;
        for (window, queues) in &snap.window_queues {
            // A window hall.toml no longer has keeps no override.
            if state.windows.contains_key(window) {
                state.set_window_queues(window, queues);
            }
        }
        state.alerts = snap.alerts;
        state.escalations.cases = snap.escalations;
        state.enterprises = snap.enterprises;
        state
    }
}
