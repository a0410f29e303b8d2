//! What the expected wait needs beyond the dispatch index: each of today's tickets'
//! expected counter minutes (from its items; for a bundle, its current step's summed), the sums of those
//! minutes over the tickets waiting in each line, and the service times measured so far
//! today, per queue, as a moving average against what the tickets' items expected.
//!
//! Kept in the state and changed only through `fold`, which `apply` calls with every
//! fact it yields; so it is a projection of the log like the rest of the
//! state, and reading it is a few map look-ups, never a scan of the tickets. A new service
//! day starts it afresh: yesterday's clerks and visitors say little about today's.

use std::collections::BTreeMap;

use super::facts::{Line as Waiting, What};
use super::model::{QueueId, WindowId};

/// Weight of the newest service in the moving average, once a queue has measured more
/// than its inverse (until then every service weighs the same: a plain mean). One in
/// fifty: service times vary about as much as their mean, so averaging fewer would swing
/// a long line's estimate by a quarter from one service to the next (the simulator's
/// expected-wait error grew with one in ten); fifty services of a busy pooled queue are
/// about half an hour, so a slow spell still shows within the hour.
pub const MOVING_AVERAGE_WEIGHT: f64 = 0.02;
/// How many measured services the configured minutes weigh as, in the blend of the two.
/// The first few services of a day are as likely to be the odd long case as the rule, so
/// one of them should not swing every visitor's estimate; after twenty the measurement
/// carries four fifths of the weight.
pub const CONFIGURED_WEIGHT_SERVICES: f64 = 5.0;
/// Bounds of the measured-to-expected ratio: a clock jump or a window left serving over
/// lunch must not tell visitors a wait of days.
pub const RATIO_MIN: f64 = 0.25;
pub const RATIO_MAX: f64 = 4.0;
/// Minutes assumed for a ticket whose items the configuration no longer knows.
pub use super::setup::UNKNOWN_ITEM_MINUTES as UNKNOWN_TICKET_MINUTES;

/// Waiting tickets of one line and the sum of their expected minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Line {
    pub count: u64,
    pub minutes: u64,
}

impl Line {
    fn add(&mut self, minutes: u32) {
        self.count += 1;
        self.minutes += u64::from(minutes);
    }

    fn remove(&mut self, minutes: u32) {
        self.count = self.count.saturating_sub(1);
        self.minutes = self.minutes.saturating_sub(u64::from(minutes));
    }
}

/// Moving averages of one queue's service times and of what their items expected.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Measured {
    services: u64,
    actual_ms: f64,
    expected_ms: f64,
}

/// Today's expected and measured counter minutes (see the module doc).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceTimes {
    /// Waiting tickets in each queue's shared line.
    lines: BTreeMap<QueueId, Line>,
    /// Waiting tickets sent to one window by name.
    sent: BTreeMap<WindowId, Line>,
    measured: BTreeMap<QueueId, Measured>,
}

impl ServiceTimes {
    /// Takes note of one fact (`facts.rs`): a ticket joining or leaving a line, a service
    /// measured, a new day.
    pub fn fold(&mut self, what: &What) {
        match what {
            What::DayOpened { .. } => *self = Self::default(),
            What::Joined { line, minutes, .. } => self.line_mut(line).add(*minutes),
            What::Left { line, minutes, .. } => self.line_mut(line).remove(*minutes),
            What::Finished { served_ms: Some(ms), minutes, queue, .. } => {
                self.measure(queue, *ms as f64, f64::from(*minutes) * 60_000.0)
            }
            _ => {}
        }
    }

    fn line_mut(&mut self, line: &Waiting) -> &mut Line {
        match line {
            Waiting::Queue(q) => self.lines.entry(*q).or_default(),
            Waiting::Window(w) => self.sent.entry(*w).or_default(),
        }
    }

    /// The tickets waiting in `queue`'s shared line (not those sent to one window).
    pub fn line(&self, queue: &QueueId) -> Line {
        self.lines.get(queue).copied().unwrap_or_default()
    }

    /// The tickets waiting for window `w` by name.
    pub fn sent_to(&self, w: &WindowId) -> Line {
        self.sent.get(w).copied().unwrap_or_default()
    }

    /// How much longer than expected `queue`'s services take today: the moving averages'
    /// ratio, blended with 1 (the configured minutes) while few services are measured.
    /// A ratio of the averages rather than an average of ratios, so that a one-minute item
    /// that took ten does not outweigh a long one that ran a little over.
    pub fn factor(&self, queue: &QueueId) -> f64 {
        let Some(m) = self.measured.get(queue).filter(|m| m.services > 0 && m.expected_ms > 0.0) else {
            return 1.0;
        };
        let ratio = (m.actual_ms / m.expected_ms).clamp(RATIO_MIN, RATIO_MAX);
        let n = m.services as f64;
        (n * ratio + CONFIGURED_WEIGHT_SERVICES) / (n + CONFIGURED_WEIGHT_SERVICES)
    }

    /// Services measured today in `queue`.
    pub fn measured_services(&self, queue: &QueueId) -> u64 {
        self.measured.get(queue).map_or(0, |m| m.services)
    }

    fn measure(&mut self, queue: &QueueId, actual_ms: f64, expected_ms: f64) {
        let m = self.measured.entry(*queue).or_default();
        m.services += 1;
        let weight = (1.0 / m.services as f64).max(MOVING_AVERAGE_WEIGHT);
        m.actual_ms += weight * (actual_ms - m.actual_ms);
        m.expected_ms += weight * (expected_ms - m.expected_ms);
    }
}
