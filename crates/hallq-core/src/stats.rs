//! The day's figures, kept up to date by `apply` so that reading them costs nothing.
//!
//! Wait is from issue to first call; service time is from the visitor's arrival at the
//! window (`serve`) to `done`. Figures are kept per day, in all, per queue (the queue the
//! ticket is in when the event happens, so a transfer moves its later figures to the new
//! queue) and per window (the window that called, finished or missed it).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::facts::{GuideAct, What};
use super::model::{CallRule, Outcome, QueueId, UserName, WindowId};

/// A running count, sum and maximum of durations in milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    pub count: u64,
    pub sum_ms: u64,
    pub max_ms: u64,
}

impl Durations {
    pub fn add(&mut self, ms: u64) {
        self.count += 1;
        self.sum_ms = self.sum_ms.saturating_add(ms);
        self.max_ms = self.max_ms.max(ms);
    }

    pub fn mean_ms(&self) -> Option<u64> {
        self.sum_ms.checked_div(self.count)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub issued: u64,
    pub called: u64,
    pub completed: u64,
    pub incomplete: u64,
    pub no_show: u64,
    pub cancelled: u64,
    pub expired: u64,
    pub transferred: u64,
    /// Bundle steps finished before the ticket's last step (each also adds a service time).
    pub steps_done: u64,
    pub parked: u64,
    /// Missed numbers that went back in line (each was counted a no-show first).
    pub rejoined: u64,
    pub rated: u64,
    pub score_sum: u64,
    /// Ratings by score: `scores[0]` counts 1 (非常不满意) … `scores[4]` counts 5 (非常满意).
    #[serde(default)]
    pub scores: [u64; 5],
    /// Bad ratings by reason code.
    #[serde(default)]
    pub bad_reasons: BTreeMap<String, u64>,
    /// Bad ratings of this day whose case has been rectified (on whatever day).
    #[serde(default)]
    pub bad_rectified: u64,
    /// Matters the clerk could not finish (`not_done`), sent to the escalation queue.
    #[serde(default)]
    pub escalated: u64,
    /// Escalations by reason code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub escalation_reasons: BTreeMap<String, u64>,
    /// Escalations of this day whose case has ended (on whatever day), and of those the
    /// ones referred on to a department.
    #[serde(default)]
    pub escalations_resolved: u64,
    #[serde(default)]
    pub escalations_referred: u64,
    /// Calls store-next made in the step that let the window's ticket go (issue 17 §4).
    #[serde(default)]
    pub store_next_calls: u64,
    /// Tickets a clerk issued to their own window for a walk-up (issue 17 §4).
    #[serde(default)]
    pub walk_direct: u64,
    /// Tickets issued under the per-person limits, an ID card read at the kiosk.
    #[serde(default)]
    pub id_checked: u64,
    pub wait: Durations,
    pub service: Durations,
    /// How far the wait told at issue was from the wait a ticket got (at its first call).
    #[serde(default)]
    pub eta: EtaError,
}

/// The expected wait held against what happened: for every ticket called with a promise
/// kept (`Ticket::promise`), the absolute error in half minutes, counted by value, and
/// whether the wait fell inside the range told.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtaError {
    pub count: u64,
    pub within: u64,
    /// Count of tickets by absolute error in half minutes, the last bucket holding
    /// everything from `ETA_ERROR_HALF_MIN_MAX` up.
    pub abs_half_min: BTreeMap<u32, u64>,
}

/// The largest error kept exactly, in half minutes (4 hours): a map of at most this many
/// entries per figure, and an error that large is only "very wrong".
pub const ETA_ERROR_HALF_MIN_MAX: u32 = 480;

impl EtaError {
    /// A ticket told `minutes` (within `low..=high`) that waited `wait_ms`.
    pub fn add(&mut self, minutes: u32, low: u32, high: u32, wait_ms: u64) {
        let wait_min = wait_ms as f64 / 60_000.0;
        let half = ((wait_min - f64::from(minutes)).abs() * 2.0).round();
        // Saturating float-to-int conversion, capped just below.
        let half = (half as u32).min(ETA_ERROR_HALF_MIN_MAX);
        self.count += 1;
        *self.abs_half_min.entry(half).or_default() += 1;
        let waited = wait_min.round();
        if f64::from(low) <= waited && waited <= f64::from(high) {
            self.within += 1;
        }
    }

    /// The absolute error below which a share `q` (0..=1) of the tickets fall, in minutes
    /// (nearest rank).
    pub fn quantile_min(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        // Saturating float-to-int conversion of a rank within 1..=count.
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (half, n) in &self.abs_half_min {
            seen += n;
            if seen >= rank {
                return Some(f64::from(*half) / 2.0);
            }
        }
        None
    }

    /// The share of tickets whose wait fell inside the range told.
    pub fn within_rate(&self) -> Option<f64> {
        (self.count > 0).then(|| self.within as f64 / self.count as f64)
    }
}

impl Durations {
    /// Adds `other`'s durations to these.
    pub fn absorb(&mut self, other: &Durations) {
        self.count += other.count;
        self.sum_ms += other.sum_ms;
        self.max_ms = self.max_ms.max(other.max_ms);
    }
}

/// Adds each count of `from` to `to`'s.
fn absorb_counts<K: Ord + Clone>(to: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (k, n) in from {
        *to.entry(k.clone()).or_default() += n;
    }
}

impl Figures {
    /// Adds `other`'s figures to these: several halls' days as one (the district's total).
    /// Every field is named, so a new figure does not go missing from the sum.
    pub fn absorb(&mut self, other: &Figures) {
        let Figures {
            issued,
            called,
            completed,
            incomplete,
            no_show,
            cancelled,
            expired,
            transferred,
            steps_done,
            parked,
            rejoined,
            rated,
            score_sum,
            scores,
            bad_reasons,
            bad_rectified,
            escalated,
            escalation_reasons,
            escalations_resolved,
            escalations_referred,
            store_next_calls,
            walk_direct,
            id_checked,
            wait,
            service,
            eta,
        } = other;
        for (to, from) in [
            (&mut self.issued, issued),
            (&mut self.called, called),
            (&mut self.completed, completed),
            (&mut self.incomplete, incomplete),
            (&mut self.no_show, no_show),
            (&mut self.cancelled, cancelled),
            (&mut self.expired, expired),
            (&mut self.transferred, transferred),
            (&mut self.steps_done, steps_done),
            (&mut self.parked, parked),
            (&mut self.rejoined, rejoined),
            (&mut self.rated, rated),
            (&mut self.score_sum, score_sum),
            (&mut self.bad_rectified, bad_rectified),
            (&mut self.escalated, escalated),
            (&mut self.escalations_resolved, escalations_resolved),
            (&mut self.escalations_referred, escalations_referred),
            (&mut self.store_next_calls, store_next_calls),
            (&mut self.walk_direct, walk_direct),
            (&mut self.id_checked, id_checked),
        ] {
            *to += from;
        }
        self.scores.iter_mut().zip(scores).for_each(|(to, from)| *to += from);
        absorb_counts(&mut self.bad_reasons, bad_reasons);
        absorb_counts(&mut self.escalation_reasons, escalation_reasons);
        self.wait.absorb(wait);
        self.service.absorb(service);
        self.eta.count += eta.count;
        self.eta.within += eta.within;
        absorb_counts(&mut self.eta.abs_half_min, &eta.abs_half_min);
    }

    /// Tickets whose service was finished, whatever the outcome.
    pub fn served(&self) -> u64 {
        self.completed + self.incomplete
    }

    /// 好评: 非常满意, 满意 and 基本满意.
    pub fn good(&self) -> u64 {
        self.scores[2] + self.scores[3] + self.scores[4]
    }

    /// 差评: 不满意 and 非常不满意.
    pub fn bad(&self) -> u64 {
        self.scores[0] + self.scores[1]
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayStats {
    pub total: Figures,
    pub by_queue: BTreeMap<QueueId, Figures>,
    pub by_window: BTreeMap<WindowId, Figures>,
    /// 全程领办: each guide's assisted and escorted visitors, their waits and ratings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub guides: BTreeMap<UserName, GuideFigures>,
    /// 跨中心转办 (issue 18): referrals sent, by target hall and reason; taken in, by
    /// origin hall.
    #[serde(default, skip_serializing_if = "ReferralFigures::is_empty")]
    pub referrals: ReferralFigures,
}

/// The day's referrals between halls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralFigures {
    /// Sent away: target hall id → reason → count.
    pub sent: BTreeMap<String, BTreeMap<String, u64>>,
    /// Taken in: origin hall id → count.
    pub taken: BTreeMap<String, u64>,
}

impl ReferralFigures {
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty() && self.taken.is_empty()
    }

    /// Referrals sent away, to any hall for any reason.
    pub fn sent_total(&self) -> u64 {
        self.sent.values().flat_map(BTreeMap::values).sum()
    }

    /// Referrals taken in, from any hall.
    pub fn taken_total(&self) -> u64 {
        self.taken.values().sum()
    }
}

/// One guide's day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideFigures {
    /// Tickets the guide issued for visitors.
    pub assisted: u64,
    /// Escorts the guide took (a ticket taken again after a release counts again).
    pub escorted: u64,
    pub released: u64,
    /// Their escorted visitors' waits, one per first call in a line.
    pub wait: Durations,
    pub rated: u64,
    pub score_sum: u64,
    /// Ratings by score, as `Figures::scores`.
    pub scores: [u64; 5],
}

impl DayStats {
    /// Counts one fact of the day (`facts.rs`): each in the queue the ticket is in and the
    /// window that acted. A parked ticket resumed is not a new call.
    pub fn fold(&mut self, what: &What) {
        match what {
            What::Issued { ticket, .. } => self.record(&ticket.queue, None, |f| f.issued += 1),
            What::Called { rule: CallRule::Unparked, .. } => {}
            What::Called { ticket, desk, waited_ms, promised, .. } => {
                self.record(&ticket.queue, Some(&desk.window), |f| {
                    f.called += 1;
                    if let Some(ms) = *waited_ms {
                        f.wait.add(ms);
                    }
                    if let (Some(p), Some(ms)) = (promised, *waited_ms) {
                        f.eta.add(p.minutes, p.low, p.high, ms);
                    }
                })
            }
            What::Finished { desk, outcome, served_ms, queue, .. } => {
                let served = served_ms.unwrap_or(0);
                self.record(queue, Some(&desk.window), |f| {
                    match outcome {
                        Some(Outcome::Completed) => f.completed += 1,
                        Some(Outcome::Incomplete) => f.incomplete += 1,
                        None => f.steps_done += 1,
                    }
                    f.service.add(served);
                })
            }
            What::NoShow { ticket, desk } => self.record(&ticket.queue, Some(&desk.window), |f| f.no_show += 1),
            What::Parked { ticket, desk } => self.record(&ticket.queue, Some(&desk.window), |f| f.parked += 1),
            What::Transferred { ticket, desk, .. } => {
                self.record(&ticket.queue, Some(&desk.window), |f| f.transferred += 1)
            }
            What::Rejoined { ticket } => self.record(&ticket.queue, None, |f| f.rejoined += 1),
            What::Cancelled { ticket, .. } => self.record(&ticket.queue, None, |f| f.cancelled += 1),
            What::Expired { ticket, desk, .. } => {
                self.record(&ticket.queue, desk.as_ref().map(|d| &d.window), |f| f.expired += 1)
            }
            What::Rated { ticket, desk, score, reason } => {
                self.record(&ticket.queue, desk.as_ref().map(|d| &d.window), |f| rated(f, *score, reason))
            }
            What::CaseRectified { queue, window, .. } => self.record(queue, window.as_ref(), |f| f.bad_rectified += 1),
            What::Escalated { desk, from, reason, .. } => self.record(from, Some(&desk.window), |f| {
                f.escalated += 1;
                *f.escalation_reasons.entry(reason.clone()).or_default() += 1;
            }),
            What::EscalationResolved { queue, window, referred, .. } => self.record(queue, Some(window), |f| {
                f.escalations_resolved += 1;
                f.escalations_referred += u64::from(*referred);
            }),
            What::StoreNextFired { desk } => self.record_window(&desk.window, |f| f.store_next_calls += 1),
            What::WalkDirect { ticket, desk } => self.record(&ticket.queue, Some(&desk.window), |f| f.walk_direct += 1),
            What::PersonTicket { ticket } => self.record(&ticket.queue, None, |f| f.id_checked += 1),
            What::StoreNextSet { .. }
            | What::DayOpened { .. }
            | What::Joined { .. }
            | What::Left { .. }
            | What::Recalled { .. }
            | What::Serving { .. }
            | What::Returned { .. }
            | What::CheckedIn { .. }
            | What::WindowOpened { .. }
            | What::WindowPaused { .. }
            | What::WindowResumed { .. }
            | What::WindowClosed { .. }
            | What::AlertRaised { .. }
            | What::AlertCleared { .. }
            | What::AlertEnded { .. } => {}
            What::Guided { guide, act, .. } => self.guides.entry(guide.clone()).or_default().fold(*act),
            // 跨中心转办 (issue 18): the ticket's finish is its own fact, counted above.
            What::Referred { to_hall, reason, .. } => {
                *self.referrals.sent.entry(to_hall.clone()).or_default().entry(reason.clone()).or_default() += 1
            }
            What::ReferralTaken { from_hall, .. } => *self.referrals.taken.entry(from_hall.clone()).or_default() += 1,
            What::ReferralWithdrawn { from_hall, .. } => {
                // A withdrawal follows its own taking in, so the count is at least one.
                if let Some(n) = self.referrals.taken.get_mut(from_hall) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.referrals.taken.remove(from_hall);
                    }
                }
            }
        }
    }

    /// Applies `f` to the totals and the window's figures (a fact of no queue).
    fn record_window(&mut self, window: &WindowId, f: impl Fn(&mut Figures)) {
        f(&mut self.total);
        f(self.by_window.entry(*window).or_default());
    }

    /// Applies `f` to the totals, the queue's figures and, if given, the window's.
    pub fn record(&mut self, queue: &QueueId, window: Option<&WindowId>, f: impl Fn(&mut Figures)) {
        f(&mut self.total);
        // Look up before cloning the key: the entry exists for all but the first event.
        match self.by_queue.get_mut(queue) {
            Some(figures) => f(figures),
            None => f(self.by_queue.entry(*queue).or_default()),
        }
        if let Some(w) = window {
            match self.by_window.get_mut(w) {
                Some(figures) => f(figures),
                None => f(self.by_window.entry(*w).or_default()),
            }
        }
    }
}

impl GuideFigures {
    fn fold(&mut self, act: GuideAct) {
        match act {
            GuideAct::Assisted => self.assisted += 1,
            GuideAct::Escorted => self.escorted += 1,
            GuideAct::Released => self.released += 1,
            GuideAct::Waited { ms } => self.wait.add(ms),
            GuideAct::Rated { score } => {
                self.rated += 1;
                self.score_sum += u64::from(score);
                if let Some(n) = (score as usize).checked_sub(1).and_then(|i| self.scores.get_mut(i)) {
                    *n += 1;
                }
            }
        }
    }

    /// 差评: 不满意 and 非常不满意.
    pub fn bad(&self) -> u64 {
        self.scores[0] + self.scores[1]
    }
}

/// Figures of every day seen so far, by day.
pub type Stats = BTreeMap<NaiveDate, DayStats>;

/// A rating's share of the figures: its score, and a bad one's reason.
fn rated(f: &mut Figures, score: u8, reason: &Option<String>) {
    f.rated += 1;
    f.score_sum += u64::from(score);
    if let Some(n) = (score as usize).checked_sub(1).and_then(|i| f.scores.get_mut(i)) {
        *n += 1;
    }
    if let Some(r) = reason {
        *f.bad_reasons.entry(r.clone()).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_absorbed_add_up() {
        let mut one = Figures { issued: 3, no_show: 1, scores: [0, 0, 0, 1, 2], ..Default::default() };
        one.wait.add(60_000);
        one.bad_reasons.insert("slow".into(), 1);
        one.eta.add(5, 3, 8, 240_000);
        let mut sum = Figures::default();
        sum.absorb(&one);
        assert_eq!(sum, one, "absorbed into nothing, the same figures");
        sum.absorb(&one);
        assert_eq!((sum.issued, sum.no_show, sum.scores[4], sum.bad_reasons["slow"]), (6, 2, 4, 2));
        assert_eq!((sum.wait.count, sum.wait.sum_ms, sum.wait.max_ms), (2, 120_000, 60_000));
        assert_eq!((sum.eta.count, sum.eta.abs_half_min.values().sum::<u64>()), (2, 2));
    }
}
