//! The dispatch policy and the index that makes it cheap.
//!
//! When a window asks for its next ticket, among the queues it serves:
//! 1. tickets transferred to this very window (or booked for it), earliest issued first;
//! 2. then appointment tickets whose slot has begun, earliest slot first — at a window of
//!    the appointment queue, or at any window serving the booked service's own queue;
//! 3. then aged tickets, which have waited more than the hall's `max_wait_min`: they
//!    outrank every priority class, earliest issued first, so nobody starves behind a
//!    stream of priority visitors;
//! 4. then priority classes, in their configured rank, unless this window's last priority
//!    call (made while ordinary tickets waited) is not yet followed by `priority_ratio`
//!    ordinary calls and ordinary tickets still wait;
//! 5. then the earliest issue time among the ordinary tickets of all those queues: one
//!    pooled line, which is what no-difference full-service means; a window that prefers
//!    a queue or an item (`prefer`, `prefer_items`) counts such tickets as issued that many
//!    minutes earlier, so it leans towards its clerk's strengths without refusing anyone;
//!
//! with ties broken by log order. Issue order and log order are the same thing here: a
//! ticket's place is the log position of its issue (`issue_seq`), kept across transfers
//! and bundle steps, and its issue time never goes back as the position grows. A missed
//! number that rejoins takes the log position and time of its rejoin: the back of the line.
//! A rejoined ticket is not called at another window within `call_cooldown_min` of its
//! last call (its visitor may be on the way to that window); those few are skipped over.
//! The window's debt of ordinary calls lives on the window and is changed only by `apply`.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{CallRule, QueueId, ServiceCode, Ticket, TicketId, Ts, Window, WindowId};
use super::setup::Setup;

/// A waiting ticket's place in a queue's line: priority rank first, then issue order.
pub type Place = (u8, u64);

/// The rank of a ticket with no priority class (or one the config no longer has): after
/// every class.
pub const ORDINARY_RANK: u8 = u8::MAX;

/// What the index keeps of a waiting ticket, by its issue position.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    id: TicketId,
    /// When it began waiting for its place; aging counts from here.
    queued_at: Ts,
    /// The window that called it last and when, for a ticket that rejoined.
    recent_call: Option<(WindowId, Ts)>,
}

/// The waiting tickets, ordered the way dispatch reads them. Kept in the state and
/// updated by `apply`, so choosing is a few map look-ups, never a scan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchIndex {
    by_queue: BTreeMap<QueueId, BTreeSet<Place>>,
    /// The same tickets as `by_queue` in issue order alone: the first is the oldest, which
    /// is the only one aging needs to look at.
    by_queue_seq: BTreeMap<QueueId, BTreeSet<u64>>,
    by_window: BTreeMap<WindowId, BTreeSet<u64>>,
    by_seq: BTreeMap<u64, Entry>,
    /// Waiting tickets per queue, those sent to one window included.
    waiting: BTreeMap<QueueId, usize>,
    /// How many entries carry a `recent_call`: while none do, choosing skips the check.
    cooling: usize,
    /// Ordinary tickets in each queue's shared line that have an item some window prefers,
    /// by (queue, item), in issue order.
    by_item: BTreeMap<(QueueId, ServiceCode), BTreeSet<u64>>,
    /// The items some window prefers, taken from the setup at the first insert of a day.
    preferred_items: Option<BTreeSet<ServiceCode>>,
    /// Appointment tickets by the start of their slot, per queue: under the appointment
    /// queue they wait in and under their service's own queue, so that once due any window
    /// serving that business may call them, not only the appointment windows.
    by_due: BTreeMap<QueueId, BTreeSet<(Ts, u64)>>,
}

/// The queues an appointment ticket is due in: the one it waits in and its service's own
/// (its current step's), when that differs. From its slot's start a window serving any of
/// them may call it. The index files due tickets by this one rule, and the
/// `queue_unstaffed` alert asks it too (`alerts::uncallable`), so that the two agree.
pub fn due_queues(setup: &Setup, t: &Ticket) -> Vec<QueueId> {
    let home = match t.steps.get(t.step) {
        Some(step) => Some(step.queue),
        None => t.services.first().and_then(|c| setup.item(c.as_str())).map(|i| i.queue),
    };
    let mut out = vec![t.queue];
    out.extend(home.filter(|h| *h != t.queue));
    out
}

impl DispatchIndex {
    /// Adds a ticket that has just started (or resumed) waiting. A remote ticket not yet
    /// checked in is not added: it keeps its place but is not called.
    pub fn insert(&mut self, setup: &Setup, t: &Ticket) {
        if !t.checked_in {
            return;
        }
        if let (Some(due), None) = (t.due, &t.target_window) {
            for q in due_queues(setup, t) {
                self.by_due.entry(q).or_default().insert((due, t.issue_seq));
            }
        }
        match &t.target_window {
            Some(w) => {
                self.by_window.entry(*w).or_default().insert(t.issue_seq);
            }
            None => {
                let place = (setup.priority_rank(t.priority.as_ref()), t.issue_seq);
                self.by_queue.entry(t.queue).or_default().insert(place);
                self.by_queue_seq.entry(t.queue).or_default().insert(t.issue_seq);
                if place.0 == ORDINARY_RANK {
                    for item in self.preferred_of(setup, t) {
                        self.by_item.entry((t.queue, item)).or_default().insert(t.issue_seq);
                    }
                }
            }
        }
        let entry = Entry { id: t.id, queued_at: t.queued_at, recent_call: t.recent_call };
        self.cooling += usize::from(entry.recent_call.is_some());
        self.by_seq.insert(t.issue_seq, entry);
        *self.waiting.entry(t.queue).or_default() += 1;
    }

    /// Removes a ticket that stopped waiting.
    pub fn remove(&mut self, setup: &Setup, t: &Ticket) {
        if let (Some(due), None) = (t.due, &t.target_window) {
            for q in due_queues(setup, t) {
                if let Some(set) = self.by_due.get_mut(&q) {
                    set.remove(&(due, t.issue_seq));
                }
            }
        }
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
                if let Some(set) = self.by_queue_seq.get_mut(&t.queue) {
                    set.remove(&t.issue_seq);
                }
                if place.0 == ORDINARY_RANK {
                    for item in self.preferred_of(setup, t) {
                        if let Some(set) = self.by_item.get_mut(&(t.queue, item)) {
                            set.remove(&t.issue_seq);
                        }
                    }
                }
            }
        }
        if let Some(entry) = self.by_seq.remove(&t.issue_seq) {
            self.cooling -= usize::from(entry.recent_call.is_some());
            if let Some(n) = self.waiting.get_mut(&t.queue) {
                *n -= 1;
            }
        }
    }

    /// The items of `t`'s current step that some window prefers.
    fn preferred_of(&mut self, setup: &Setup, t: &Ticket) -> Vec<ServiceCode> {
        let preferred = self.preferred_items.get_or_insert_with(|| {
            setup.windows.iter().flat_map(|w| w.prefer.items.iter().map(|(code, _)| code.clone())).collect()
        });
        if preferred.is_empty() {
            return Vec::new();
        }
        let services = t.steps.get(t.step).map_or(&t.services, |s| &s.services);
        services.iter().filter(|c| preferred.contains(*c)).cloned().collect()
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

    /// When the oldest ticket of `queue`'s shared line began waiting: issue order is the
    /// order of `queued_at`, since both are the same record's.
    pub fn oldest_queued_at(&self, queue: &QueueId) -> Option<Ts> {
        let seq = self.by_queue_seq.get(queue)?.first()?;
        self.by_seq.get(seq).map(|e| e.queued_at)
    }

    /// The appointment tickets filed as due under `queue` (waiting in it, or booked for
    /// a service of it), earliest slot first.
    pub fn due_under(&self, queue: &QueueId) -> impl Iterator<Item = TicketId> + '_ {
        let seqs = self.by_due.get(queue).into_iter().flatten().map(|(_, seq)| seq);
        seqs.filter_map(|seq| self.by_seq.get(seq).map(|e| e.id))
    }

    /// Tickets waiting for window `w` by name.
    pub fn window_len(&self, w: &WindowId) -> usize {
        self.by_window.get(w).map_or(0, BTreeSet::len)
    }

    /// The tickets waiting for window `w` by name, in issue order.
    pub fn sent_to(&self, w: &WindowId) -> Vec<TicketId> {
        let seqs = self.by_window.get(w).into_iter().flatten();
        seqs.filter_map(|seq| self.by_seq.get(seq).map(|e| e.id)).collect()
    }

    /// The tickets that `queue` dispatch would take before `place`.
    pub fn ahead_in_queue(&self, queue: &QueueId, place: Place) -> usize {
        self.by_queue.get(queue).map_or(0, |set| count_before(set, &place))
    }

    /// The tickets sent to window `w` that were issued before `seq`.
    pub fn ahead_at_window(&self, w: &WindowId, seq: u64) -> usize {
        self.by_window.get(w).map_or(0, |set| count_before(set, &seq))
    }

    /// The earliest moment after `now` at which a rejoined ticket's cool-down ends, if one
    /// still cools: a window that found nothing may find it then. A scan, but only of a
    /// hall where some ticket cools, and only by the forecast.
    pub fn next_cooled(&self, setup: &Setup, now: Ts) -> Option<Ts> {
        if self.cooling == 0 {
            return None;
        }
        let cooldown_ms = i64::from(setup.dispatch.call_cooldown_min) * 60_000;
        let ends =
            self.by_seq.values().filter_map(|e| e.recent_call.map(|(_, at)| Ts(at.0.saturating_add(cooldown_ms))));
        ends.filter(|end| *end > now).min()
    }

    /// The first moment after `now` that a booked ticket's slot starts: from then the
    /// windows of its service's own queue may call it too (`due_queues`).
    pub fn next_due(&self, now: Ts) -> Option<Ts> {
        let after =
            |set: &BTreeSet<(Ts, u64)>| set.range((Ts(now.0.saturating_add(1)), 0)..).next().map(|(due, _)| *due);
        self.by_due.values().filter_map(after).min()
    }

    /// The ticket the policy gives to window `w` at `now`, and the rule that chose it.
    /// A few look-ups per queue the window serves; never a scan of the tickets.
    pub fn choose(&self, setup: &Setup, w: &Window, now: Ts) -> Option<(TicketId, CallRule)> {
        if let Some(seq) = self.by_window.get(&w.id).and_then(|s| s.first()) {
            return self.pick(*seq, CallRule::TransferredHere);
        }
        let due = |set: &BTreeSet<(Ts, u64)>| set.iter().find(|(_, seq)| self.callable(setup, *seq, w, now)).copied();
        let first_due = w.queues.iter().filter_map(|q| self.by_due.get(q).and_then(due)).min();
        if let Some((due, seq)) = first_due.filter(|(due, _)| *due <= now) {
            return self.pick(seq, CallRule::AppointmentDue { due });
        }
        if let Some(aged) = self.aged(setup, w, now) {
            return Some(aged);
        }
        let first = |from: Place| {
            let head = |set: &BTreeSet<Place>| set.range(from..).find(|p| self.callable(setup, p.1, w, now)).copied();
            w.queues.iter().filter_map(|q| self.by_queue.get(q).and_then(head)).min()
        };
        let ordinary = first((ORDINARY_RANK, 0));
        let best = first((0, 0))?;
        let Some(class) = setup.priorities.get(usize::from(best.0)).filter(|_| best.0 != ORDINARY_RANK) else {
            return self.preferred_or_earliest(setup, w, now, best.1);
        };
        let ratio = setup.dispatch.priority_ratio;
        match ordinary {
            // The ratio binds only while both kinds wait and the hall has one.
            None => self.pick(best.1, CallRule::Priority { class: class.id.clone(), per_ordinary: 0 }),
            Some(_) if ratio == 0 || w.ordinary_owed == 0 => {
                self.pick(best.1, CallRule::Priority { class: class.id.clone(), per_ordinary: ratio })
            }
            Some(o) => {
                // A ratio lowered since the priority call may leave more owed than it asks.
                let of = ratio.max(w.ordinary_owed);
                self.pick(o.1, CallRule::OrdinaryTurn { turn: of - w.ordinary_owed + 1, of })
            }
        }
    }

    /// Among ordinary tickets: the earliest issued (`earliest`), unless a ticket of a queue
    /// or item `w` prefers, counted as issued its head start earlier, comes before it.
    fn preferred_or_earliest(&self, setup: &Setup, w: &Window, now: Ts, earliest: u64) -> Option<(TicketId, CallRule)> {
        if w.prefer.is_empty() {
            return self.pick(earliest, CallRule::EarliestIssued);
        }
        let key = |seq: u64, bonus_min: u32| {
            let at = self.by_seq.get(&seq).map_or(i64::MAX, |e| e.queued_at.0);
            (at.saturating_sub(i64::from(bonus_min) * 60_000), seq)
        };
        let mut best = (key(earliest, 0), None::<(QueueId, Option<ServiceCode>, u32)>);
        for q in &w.queues {
            let bonus = w.prefer.queue_bonus(q);
            let head = self
                .by_queue
                .get(q)
                .and_then(|s| s.range((ORDINARY_RANK, 0)..).find(|p| self.callable(setup, p.1, w, now)).map(|p| p.1));
            if let Some(seq) = head.filter(|_| bonus > 0) {
                let k = key(seq, bonus);
                if k < best.0 {
                    best = (k, Some((*q, None, bonus)));
                }
            }
            for (item, bonus) in &w.prefer.items {
                let set = self.by_item.get(&(*q, item.clone()));
                let head = set.and_then(|s| s.iter().find(|seq| self.callable(setup, **seq, w, now)).copied());
                if let Some(seq) = head {
                    let k = key(seq, (*bonus).max(w.prefer.queue_bonus(q)));
                    if k < best.0 {
                        best = (k, Some((*q, Some(item.clone()), *bonus)));
                    }
                }
            }
        }
        match best {
            ((_, seq), Some((queue, item, bonus_min))) if seq != earliest => {
                self.pick(seq, CallRule::Preferred { queue, item, bonus_min })
            }
            _ => self.pick(earliest, CallRule::EarliestIssued),
        }
    }

    /// Whether window `w` may call the ticket at `seq` now: not while it cools down after a
    /// call at another window.
    fn callable(&self, setup: &Setup, seq: u64, w: &Window, now: Ts) -> bool {
        if self.cooling == 0 {
            return true;
        }
        let cooldown_ms = u64::from(setup.dispatch.call_cooldown_min) * 60_000;
        match self.by_seq.get(&seq).and_then(|e| e.recent_call.as_ref()) {
            Some((window, at)) => *window == w.id || now.since_ms(*at) >= cooldown_ms,
            None => true,
        }
    }

    /// The oldest callable ticket in the shared lines of the queues `w` serves, if it has
    /// waited more than the hall's `max_wait_min` at `now`.
    pub(crate) fn aged(&self, setup: &Setup, w: &Window, now: Ts) -> Option<(TicketId, CallRule)> {
        let head = |set: &BTreeSet<u64>| set.iter().find(|seq| self.callable(setup, **seq, w, now)).copied();
        let seq = w.queues.iter().filter_map(|q| self.by_queue_seq.get(q).and_then(head)).min()?;
        let entry = self.by_seq.get(&seq)?;
        let waited_ms = now.since_ms(entry.queued_at);
        if waited_ms <= setup.max_wait_ms() {
            return None;
        }
        let waited_min = u32::try_from(waited_ms.div_ceil(60_000)).unwrap_or(u32::MAX);
        Some((entry.id, CallRule::Aged { waited_min, max_min: setup.max_wait_min }))
    }

    fn pick(&self, seq: u64, rule: CallRule) -> Option<(TicketId, CallRule)> {
        self.by_seq.get(&seq).map(|e| (e.id, rule))
    }
}

/// How many members of `set` are below `at`, walking from both ends at once and stopping
/// at the nearer: a ticket just issued (at the back of its line) or near the head costs a
/// few steps, not the whole line. A ticket in the middle of a long line still costs half
/// of it; an order-statistics index would make that logarithmic too.
fn count_before<T: Ord>(set: &BTreeSet<T>, at: &T) -> usize {
    let (mut front, mut back) = (set.range(..at), set.range(at..));
    let (mut below, mut above) = (0, 0);
    loop {
        if front.next().is_none() {
            return below;
        }
        below += 1;
        if back.next().is_none() {
            return set.len() - above;
        }
        above += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::count_before;

    proptest! {
        #[test]
        fn counting_from_both_ends_agrees_with_counting_from_the_front(
            set in proptest::collection::btree_set(0u32..500, 0..120),
            at in 0u32..520,
        ) {
            let set: BTreeSet<u32> = set;
            prop_assert_eq!(count_before(&set, &at), set.range(..at).count());
        }
    }
}
