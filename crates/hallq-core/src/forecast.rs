//! The place in line and the expected call time of every waiting ticket, by running the
//! hall's own dispatch forward over the current state.
//!
//! "Ahead" means what a visitor takes it to mean: how many calls the windows make before
//! this ticket's, if nobody else arrives. Counting a queue cannot say that: a pooled
//! window takes tickets of several queues, priority classes, aged and due appointment
//! tickets jump the line, a window leans towards what it prefers. So the forecast clones
//! the dispatch index and lets the windows open now (open, calling or serving; a paused
//! window has no announced end) call everything out, with the very `DispatchIndex::choose`
//! that `decide` uses, the window's ordinary-call debt kept by the same `owed_after` as
//! `apply`, and a bundle's next step entering its queue when its step is done.
//!
//! The schedule of the run is the model: each window asks for its next ticket when it is
//! free (what it holds now, then each ticket's expected counter minutes at today's pace,
//! `ServiceTimes::factor`), the window free first asking first, ties in window order. A
//! window that finds nothing asks again when a bundle step another window holds may
//! enter a line, when a rejoined ticket's cool-down ends, or when a booked ticket's slot
//! starts (from then the windows of its service's queue may call it too); else it has
//! done.
//!
//! A ticket no open window may call (its queue has none, or it waits for a closed window
//! by name) gets no call time: no number for its wait. Its place is then the place it
//! would have if every window serving it were open (a second run, only when such tickets
//! wait), so that a visitor before the morning's opening still learns their place.
//!
//! One run costs a copy of the index and a few look-ups per call: `HallState::forecast`
//! keeps it per log position, so a hall's every answer after one change costs one run
//! (`benches/core.rs`, `forecast`).

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

use super::dispatch::DispatchIndex;
use super::hall::{owed_after, HallState};
use super::model::{QueueId, Ticket, TicketId, Ts, Window, WindowState};

/// The longest line run forward, in waiting tickets: a run is linear in the line (about
/// 1.7 µs a ticket, BENCHMARKS.md), and the answers after each batch of commands read one.
/// A real hall's peak is a few hundred; past this, `estimate.rs` answers instead, in a
/// time that does not grow with the line.
pub const FORECAST_WAITING_MAX: usize = 2_000;

/// The least share of its expected minutes that a ticket being served is assumed still
/// to need, however long it has been at the counter.
pub const RESIDUAL_MIN_SHARE: f64 = 0.25;

/// One ticket's (or a queue's next ticket's) place in the forward run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spot {
    /// Calls made before this one by the windows that may serve it (those serving its
    /// queue; for a ticket sent to one window, that window).
    pub ahead: usize,
    /// When a window calls it; `None` when no open window may.
    pub call_at: Option<Ts>,
}

/// Every waiting ticket's spot, and each queue's for a ticket taken now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forecast {
    /// The time the run starts from: the last record's.
    pub now: Ts,
    pub tickets: HashMap<TicketId, Spot>,
    /// For a ticket of no priority class taken now in each queue: called at the first
    /// moment a window serving the queue finds nothing else to call.
    pub queues: BTreeMap<QueueId, Spot>,
}

impl Forecast {
    /// The spot of waiting ticket `id`, if the run saw it.
    pub fn ticket(&self, id: &TicketId) -> Option<Spot> {
        self.tickets.get(id).copied()
    }

    pub fn queue(&self, q: &QueueId) -> Spot {
        self.queues.get(q).copied().unwrap_or(Spot { ahead: 0, call_at: None })
    }
}

/// The last forecast and the log position and time it was run at. Not state: a clone
/// starts empty and any two compare equal, so that `replay(log) == state` still holds.
#[derive(Default)]
pub struct ForecastCache {
    kept: Mutex<Option<(u64, Ts, Arc<Forecast>)>>,
    /// The run an issue's `decide` made with its ticket in line, by the log position it was
    /// decided at: the forecast of the state that issue makes (`promote`).
    next: Mutex<Option<(u64, TicketId, Arc<Forecast>)>>,
}

/// A lock whose holder panicked still holds a whole value: at worst an old entry, which
/// the keys reject.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ForecastCache {
    /// The forecast run at (`seq`, `at`), running `run` if the one kept is older.
    pub fn get(&self, seq: u64, at: Ts, run: impl FnOnce() -> Forecast) -> Arc<Forecast> {
        let mut kept = lock(&self.kept);
        if let Some((s, a, f)) = kept.as_ref() {
            if *s == seq && *a == at {
                return f.clone();
            }
        }
        let f = Arc::new(run());
        *kept = Some((seq, at, f.clone()));
        f
    }

    /// Keeps `f`, run at log position `seq` with ticket `id` about to be issued, for the
    /// state after that issue.
    pub(crate) fn offer_next(&self, seq: u64, id: TicketId, f: Arc<Forecast>) {
        *lock(&self.next) = Some((seq, id, f));
    }

    /// Ticket `id` was issued at `seq`, after `before`, leaving the state's time at `at`:
    /// the run offered for exactly that issue becomes the forecast kept. Anything else
    /// offered is dropped (an issue decided and then not applied, or applied after other
    /// records).
    pub(crate) fn promote(&self, before: u64, seq: u64, id: &TicketId, at: Ts) {
        let Some((s, offered, f)) = lock(&self.next).take() else {
            return;
        };
        if s == before && offered == *id && f.now == at {
            *lock(&self.kept) = Some((seq, at, f));
        }
    }
}

impl Clone for ForecastCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PartialEq for ForecastCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ForecastCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForecastCache")
    }
}

/// Runs the dispatch forward from `state` (see the module doc).
pub fn forecast(state: &HallState) -> Forecast {
    forecast_with(state, None, state.last_at)
}

/// The forecast of `state` at `now` (not before the last record) with ticket `extra`
/// waiting too: `decide` runs it with the ticket it is about to issue, at the issue's
/// time, to keep what the kiosk tells (`Promise`).
pub fn forecast_with(state: &HallState, extra: Option<&Ticket>, now: Ts) -> Forecast {
    let now = now.max(state.last_at);
    let index = || {
        let mut index = state.index.clone();
        if let Some(t) = extra {
            index.insert(&state.setup, t);
        }
        index
    };
    let open: Vec<Window> = state.windows.values().filter(|w| serves_now(w)).cloned().collect();
    let mut run = Run::new(state, index(), open, now, true, extra);
    run.go();
    let unreached = !run.index.is_empty();
    let mut out = Forecast { now, tickets: run.spots, queues: run.queues };
    if unreached {
        // Tickets no open window may call: their place as if every window were open.
        let all: Vec<Window> = state.windows.values().map(idle_copy).collect();
        let mut run = Run::new(state, index(), all, now, false, extra);
        run.go();
        for (id, spot) in run.spots {
            out.tickets.entry(id).or_insert(Spot { ahead: spot.ahead, call_at: None });
        }
        for (q, spot) in run.queues {
            out.queues.entry(q).or_insert(Spot { ahead: spot.ahead, call_at: None });
        }
    }
    out
}

/// Whether a window takes tickets now: signed in and not paused.
pub fn serves_now(w: &Window) -> bool {
    match w.state {
        WindowState::Open | WindowState::Calling | WindowState::Serving => true,
        WindowState::Closed | WindowState::Paused => false,
    }
}

/// When window `w`, open now, has done with what it holds: the model's schedule, from
/// the last record's time.
pub fn free_at(state: &HallState, w: &Window) -> Ts {
    free_from(state, w, state.last_at)
}

/// When window `w` has done with what it holds, seen at `now`.
fn free_from(state: &HallState, w: &Window, now: Ts) -> Ts {
    let Some(held) = &w.at_counter else { return now };
    let expected = f64::from(held.minutes) * state.service_times.factor(&held.queue);
    let left_min = match held.serving_since {
        Some(since) => {
            let elapsed = now.since_ms(since) as f64 / 60_000.0;
            (expected - elapsed).max(expected * RESIDUAL_MIN_SHARE)
        }
        None => expected,
    };
    Ts(now.0.saturating_add(min_to_ms(left_min)))
}

/// How long the model gives ticket `t` at the counter: its step's expected minutes at
/// its queue's pace today.
pub fn service_ms(state: &HallState, t: &Ticket) -> i64 {
    min_to_ms(f64::from(t.minutes) * state.service_times.factor(&t.queue))
}

fn min_to_ms(minutes: f64) -> i64 {
    // Saturating float-to-int conversion; estimates are far below i64::MAX ms.
    (minutes * 60_000.0).round().max(0.0) as i64
}

/// A closed or paused window as if its clerk sat there idle now (the second run).
fn idle_copy(w: &Window) -> Window {
    let mut w = w.clone();
    if !serves_now(&w) {
        w.state = WindowState::Open;
        w.ticket = None;
        w.at_counter = None;
    }
    w
}

struct Run<'a> {
    state: &'a HallState,
    index: DispatchIndex,
    windows: Vec<Window>,
    /// (when, order of scheduling, window): the next window to ask is the least.
    agenda: BinaryHeap<Reverse<(i64, u64, usize)>>,
    order: u64,
    /// Per window, the bundle ticket whose next step enters a line when the window frees.
    holding: Vec<Option<Ticket>>,
    /// When each holding window frees, for a window that found nothing to wait for.
    holding_at: Vec<Option<i64>>,
    /// Tickets the run changed (a bundle's later step), by id.
    moved: HashMap<TicketId, Ticket>,
    /// Calls made so far by each window.
    calls_by: Vec<usize>,
    spots: HashMap<TicketId, Spot>,
    queues: BTreeMap<QueueId, Spot>,
}

impl<'a> Run<'a> {
    fn new(
        state: &'a HallState,
        index: DispatchIndex,
        windows: Vec<Window>,
        now: Ts,
        held: bool,
        extra: Option<&Ticket>,
    ) -> Self {
        let n = windows.len();
        let mut run = Self {
            state,
            index,
            windows,
            agenda: BinaryHeap::with_capacity(n),
            order: 0,
            holding: (0..n).map(|_| None).collect(),
            holding_at: vec![None; n],
            moved: extra.map(|t| (t.id, t.clone())).into_iter().collect(),
            calls_by: vec![0; n],
            spots: HashMap::with_capacity(state.index.len()),
            queues: BTreeMap::new(),
        };
        for i in 0..n {
            let w = &run.windows[i];
            let at = if held { free_from(state, w, now) } else { now };
            let ticket = if held { w.ticket.and_then(|id| state.tickets.get(&id)) } else { None };
            if let Some(next) = ticket.and_then(|t| next_step(state, t)) {
                run.holding[i] = Some(next);
                run.holding_at[i] = Some(at.0);
            }
            run.schedule(at.0, i);
        }
        run
    }

    fn schedule(&mut self, at: i64, window: usize) {
        self.agenda.push(Reverse((at, self.order, window)));
        self.order += 1;
    }

    fn go(&mut self) {
        let setup = self.state.setup.clone();
        while let Some(Reverse((at, _, i))) = self.agenda.pop() {
            if let Some(next) = self.holding[i].take() {
                self.holding_at[i] = None;
                self.index.insert(&setup, &next);
                self.moved.insert(next.id, next);
            }
            let now = Ts(at);
            match self.index.choose(&setup, &self.windows[i], now) {
                Some((id, rule)) => {
                    // A ticket the run has not changed is read in place, not copied.
                    let state = self.state;
                    let ticket = match self.moved.remove(&id) {
                        Some(t) => Cow::Owned(t),
                        None => match state.tickets.get(&id) {
                            Some(t) => Cow::Borrowed(t),
                            // The index names only tickets the state holds.
                            None => return,
                        },
                    };
                    if !self.spots.contains_key(&id) {
                        let ahead = self.calls_before(&ticket);
                        self.spots.insert(id, Spot { ahead, call_at: Some(now) });
                    }
                    self.calls_by[i] += 1;
                    self.index.remove(&setup, &ticket);
                    let w = &mut self.windows[i];
                    w.ordinary_owed = owed_after(w.ordinary_owed, &rule, ticket.priority.is_none());
                    let done_at = at.saturating_add(service_ms(self.state, &ticket));
                    if let Some(next) = next_step(self.state, &ticket) {
                        self.holding[i] = Some(next);
                        self.holding_at[i] = Some(done_at);
                    }
                    self.schedule(done_at, i);
                }
                None => {
                    for q in self.windows[i].queues.clone() {
                        if !self.queues.contains_key(&q) {
                            let ahead = self.calls_by_serving(|w| w.queues.contains(&q));
                            self.queues.insert(q, Spot { ahead, call_at: Some(now) });
                        }
                    }
                    let entering = self.holding_at.iter().flatten().copied().min();
                    let cooled = self.index.next_cooled(&setup, now).map(|t| t.0);
                    let due = self.index.next_due(now).map(|t| t.0);
                    if let Some(again) = [entering, cooled, due].into_iter().flatten().min() {
                        self.schedule(again.max(at), i);
                    }
                }
            }
        }
    }
}

impl Run<'_> {
    /// The calls made so far by the windows that may serve `t`.
    fn calls_before(&self, t: &Ticket) -> usize {
        match &t.target_window {
            Some(target) => self.calls_by_serving(|w| w.id == *target),
            None => self.calls_by_serving(|w| w.queues.contains(&t.queue)),
        }
    }

    fn calls_by_serving(&self, serves: impl Fn(&Window) -> bool) -> usize {
        self.windows.iter().zip(&self.calls_by).filter(|(w, _)| serves(w)).map(|(_, n)| n).sum()
    }
}

/// Ticket `t` as it waits for its bundle's next step, if it has one: what `apply` makes of
/// it at `TicketStepDone` (its place kept, its slot's privilege gone).
fn next_step(state: &HallState, t: &Ticket) -> Option<Ticket> {
    let step = t.steps.get(t.step + 1)?;
    let mut next = t.clone();
    next.step += 1;
    next.due = None;
    next.queue = step.queue;
    next.minutes = state.setup.expected_minutes(&step.services);
    next.window = None;
    next.target_window = None;
    next.recent_call = None;
    next.checked_in = true;
    Some(next)
}
