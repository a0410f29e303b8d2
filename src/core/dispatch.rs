//! The dispatch policy (v1) and the index that makes it cheap.
//!
//! When a window asks for its next ticket, among the queues it serves:
//! 1. tickets transferred to this very window, earliest issued first;
//! 2. then priority classes, in their configured rank;
//! 3. then the earliest issue time across all those queues: one pooled line, which is
//!    what no-difference full-service means;
//!
//! with ties broken by log order. Issue order and log order are the same thing here: a
//! ticket's place is the log position of its issue (`issue_seq`), kept across transfers.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{CallRule, QueueId, Ticket, TicketId, WindowId};
use super::setup::Setup;

/// A waiting ticket's place in a queue's line: priority rank first, then issue order.
pub type Place = (u8, u64);

/// The waiting tickets, ordered the way dispatch reads them. Kept in the state and
/// updated by `apply`, so choosing is a few map look-ups, never a scan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchIndex {
    by_queue: BTreeMap<QueueId, BTreeSet<Place>>,
    by_window: BTreeMap<WindowId, BTreeSet<u64>>,
    by_seq: BTreeMap<u64, TicketId>,
    /// Waiting tickets per queue, those sent to one window included.
    waiting: BTreeMap<QueueId, usize>,
}

impl DispatchIndex {
    /// Adds a ticket that has just started (or resumed) waiting.
    pub fn insert(&mut self, setup: &Setup, t: &Ticket) {
        match &t.target_window {
            Some(w) => {
                self.by_window.entry(w.clone()).or_default().insert(t.issue_seq);
            }
            None => {
                let place = (setup.priority_rank(t.priority.as_ref()), t.issue_seq);
                self.by_queue.entry(t.queue.clone()).or_default().insert(place);
            }
        }
        self.by_seq.insert(t.issue_seq, t.id.clone());
        *self.waiting.entry(t.queue.clone()).or_default() += 1;
    }

    /// Removes a ticket that stopped waiting.
    pub fn remove(&mut self, setup: &Setup, t: &Ticket) {
        match &t.target_window {
            Some(w) => {
                if let Some(set) = self.by_window.get_mut(w) {
                    set.remove(&t.issue_seq);
                }
            }
            None => {
                let place = (setup.priority_rank(t.priority.as_ref()), t.issue_seq);
                if let Some(set) = self.by_queue.get_mut(&t.queue) {
                    set.remove(&place);
                }
            }
        }
        if self.by_seq.remove(&t.issue_seq).is_some() {
            if let Some(n) = self.waiting.get_mut(&t.queue) {
                *n -= 1;
            }
        }
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// How many tickets wait in the index in all.
    pub fn len(&self) -> usize {
        self.by_seq.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_seq.is_empty()
    }

    /// Waiting tickets in `queue`, those sent to one window included.
    pub fn waiting(&self, queue: &QueueId) -> usize {
        self.waiting.get(queue).copied().unwrap_or(0)
    }

    /// Waiting tickets in `queue`'s shared line (not counting those sent to one window).
    pub fn queue_len(&self, queue: &QueueId) -> usize {
        self.by_queue.get(queue).map_or(0, BTreeSet::len)
    }

    /// Tickets waiting for window `w` by name.
    pub fn window_len(&self, w: &WindowId) -> usize {
        self.by_window.get(w).map_or(0, BTreeSet::len)
    }

    /// The tickets that `queue` dispatch would take before `place`.
    pub fn ahead_in_queue(&self, queue: &QueueId, place: Place) -> usize {
        self.by_queue.get(queue).map_or(0, |set| set.range(..place).count())
    }

    /// The tickets sent to window `w` that were issued before `seq`.
    pub fn ahead_at_window(&self, w: &WindowId, seq: u64) -> usize {
        self.by_window.get(w).map_or(0, |set| set.range(..seq).count())
    }

    /// The ticket the policy gives to a window serving `queues`, and the rule that chose it.
    pub fn choose(&self, setup: &Setup, window: &WindowId, queues: &[QueueId]) -> Option<(TicketId, CallRule)> {
        if let Some(seq) = self.by_window.get(window).and_then(|s| s.first()) {
            return self.by_seq.get(seq).map(|id| (id.clone(), CallRule::TransferredHere));
        }
        let best = queues.iter().filter_map(|q| self.by_queue.get(q).and_then(|s| s.first())).min()?;
        let id = self.by_seq.get(&best.1)?.clone();
        let rule = match setup.priorities.get(usize::from(best.0)) {
            Some(class) => CallRule::Priority(class.id.clone()),
            None => CallRule::EarliestIssued,
        };
        Some((id, rule))
    }
}
