//! The display feed: a small display model projected from the hall after each flushed
//! batch, serialised once and shared by every connection. Its messages are its own
//! (`wire`); the snapshot is serialised only when a display asks for one (`snapshot`).
//!
//! Messages carry the log position (`seq`) of the record that caused them. The feed keeps
//! the most recent ones in a ring so that a display reconnecting with `?after=SEQ` gets
//! exactly what it missed; a display too far behind, or one that lags on the live
//! broadcast, gets a fresh snapshot instead.
//!
//! Calls go out at once. Window and queue messages may wait (are paced): each goes out with
//! the next call, or when it has waited its pace (`WINDOW_MSG_EVERY`, `QUEUE_MSG_EVERY`),
//! with the latest state, since every round of messages is a write to every display, and a
//! clerk's `serve` and `done` and kiosks at full speed change windows and counts with
//! nearly every flush. Paced messages carry the `seq` of the last batch, whose state they
//! show, so `seq` never goes back within a stream.

mod snapshot;
mod wire;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast;

use crate::core::event::Record;
use crate::core::facts::{Fact, What};
use crate::core::model::{QueueId, WindowId};
use crate::core::HallState;
use crate::time::rfc3339;
use crate::voice::Voice;
use snapshot::{queue_counts, Picture};
use wire::{call_message, encode, CallOf, RecentCall, WindowMsg, Wire};

/// Messages kept for resume. A busy hall makes about 20,000 a day; this covers minutes of
/// a peak, which is what a reconnecting display needs.
pub const RING_MAX: usize = 4096;
/// Batches a connection may fall behind on the live broadcast before it is resynced.
pub const OUTBOX_MAX: usize = 256;
/// Calls shown in a snapshot's `recent_calls`: a lobby shows every call of the last
/// minutes, so that a screen opened (or reloaded) during a burst of a hall's windows, or
/// of several zones, still lists each of them. The lobby's own list holds as many.
pub const RECENT_CALLS_MAX: usize = 30;
/// The oldest call a display that was away is still told after its snapshot (`missed`):
/// a lobby back within minutes of a daemon's restart says the calls it did not hear, and
/// one away longer shows them in its list without saying them, as a screen just turned on
/// does.
pub const MISSED_CALL_AGE: Duration = Duration::from_secs(180);
/// The shortest time between two rounds of queue-count messages. A lobby screen's "12
/// waiting" need not change more often than once a second; sent with every flushed batch
/// instead, 64 kiosks at full speed made a few hundred messages a second for every display
/// (`hallq bench`, BENCHMARKS.md). Each round is one write to every display, which at
/// 10,000 displays is most of what the fan-out costs; so it was 250 ms and is now 1 s.
pub const QUEUE_MSG_EVERY: Duration = Duration::from_secs(1);
/// The longest a window's change (opened, serving, done, paused) waits for a call to go out
/// with. A clerk's call is three batches (`next`, `serve`, `done`), each a window message,
/// and so three writes to every display, of which only the call's is urgent; held, the
/// other two ride with the next call or go out together. Half a second is not seen on a
/// lobby screen; the call itself is never held.
pub const WINDOW_MSG_EVERY: Duration = Duration::from_millis(500);

/// One serialised feed message.
#[derive(Debug)]
pub struct FeedMsg {
    pub seq: u64,
    pub text: Utf8Bytes,
    /// When it was made (right after its batch's flush), for the fan-out latency.
    pub made: Instant,
}

struct Inner {
    ring: VecDeque<Arc<FeedMsg>>,
    /// Messages with a seq at or below this may have left the ring (or were never in it,
    /// for a daemon that restarted): resuming from there needs a snapshot.
    floor: u64,
    /// The snapshot's inputs, and its text once asked for.
    picture: Picture,
    /// This run's calls of the day, oldest first, at most `RECENT_CALLS_MAX`, each marked
    /// `missed`: what a display resuming from before them is told after its snapshot.
    missed: VecDeque<Arc<FeedMsg>>,
    /// The last `seq` published.
    seq: u64,
    /// The counts displays were last sent.
    waiting: BTreeMap<QueueId, usize>,
    /// The counts as of the last batch, when they differ from `waiting`.
    waiting_now: BTreeMap<QueueId, usize>,
    /// When queue counts last went out; the next round may go out `QUEUE_MSG_EVERY` after.
    queues_sent_at: Option<Instant>,
    /// Windows changed since window messages last went out: each as it is now (`None` for
    /// a window the hall no longer has), with the `seq` of the last record that touched it
    /// (for their order).
    windows_held: BTreeMap<WindowId, (u64, Option<WindowMsg>)>,
    /// When the oldest held window change was made.
    windows_held_since: Option<Instant>,
}

/// A flushed batch as the feed projects it, before the lock is taken.
struct Batch {
    /// Its call and rating messages, in order.
    out: Vec<Arc<FeedMsg>>,
    /// What it does to the recent calls, in order.
    calls: Vec<CallChange>,
    /// It opened a new day.
    new_day: bool,
    /// Each window it touched, as it is after the batch, with the `seq` of the last record
    /// that touched it.
    windows: BTreeMap<WindowId, (u64, Option<WindowMsg>)>,
}

enum CallChange {
    /// A new day: the day before's calls go.
    Clear,
    /// A call, as the snapshot lists it and as a display that missed it is told.
    Push(RecentCall, Arc<FeedMsg>),
}

pub struct Feed {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<FeedBatch>,
    /// How call-outs are spoken; without it the browsers speak every call.
    voice: Option<Arc<Voice>>,
}

/// The messages of one round, sent to the live broadcast as one item: a display is woken
/// once for them and writes them at once. Sent one by one, the displays' thread woke its
/// tasks at the first message of a round while the engine was still sending the rest, and
/// many displays took a round in two or three writes.
pub type FeedBatch = Arc<[Arc<FeedMsg>]>;

/// What a new connection starts with.
pub struct Subscription {
    pub first: Vec<Arc<FeedMsg>>,
    pub rx: broadcast::Receiver<FeedBatch>,
}

impl Feed {
    pub fn new(state: &HallState) -> Self {
        let waiting: BTreeMap<QueueId, usize> =
            state.setup.queues.iter().map(|q| (q.id, state.waiting(&q.id))).collect();
        let inner = Inner {
            ring: VecDeque::new(),
            floor: state.last_seq,
            picture: Picture::new(state),
            missed: VecDeque::new(),
            seq: state.last_seq,
            waiting_now: waiting.clone(),
            waiting,
            queues_sent_at: None,
            windows_held: BTreeMap::new(),
            windows_held_since: None,
        };
        let (tx, _) = broadcast::channel(OUTBOX_MAX);
        Self { inner: Mutex::new(inner), tx, voice: None }
    }

    /// The same feed, naming each call's speech, audio and zones from `voice`.
    pub fn with_voice(mut self, voice: Arc<Voice>) -> Self {
        self.voice = Some(voice);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock can only come from a bug in this file; the data
        // is still a valid display model, so keep serving it.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current snapshot message.
    pub fn snapshot(&self) -> Arc<FeedMsg> {
        let mut inner = self.lock();
        let seq = inner.seq;
        inner.picture.message(seq)
    }

    /// The log position of the last batch published.
    pub fn seq(&self) -> u64 {
        self.lock().seq
    }

    /// Starts a connection: the messages after `after` when the ring still holds them all,
    /// else a snapshot, and for a display resuming from `after`, the calls made since that
    /// it can still be told (`missed`: this run's, within `MISSED_CALL_AGE`; a daemon that
    /// restarted holds no message from before, and a call made before the screen came back
    /// was otherwise only a line in its list, never said); then the live broadcast, with
    /// nothing lost or repeated between.
    pub fn subscribe(&self, after: Option<u64>) -> Subscription {
        let mut inner = self.lock();
        let rx = self.tx.subscribe();
        let first = match after {
            Some(after) if after >= inner.floor && after <= inner.seq => {
                inner.ring.iter().filter(|m| m.seq > after).cloned().collect()
            }
            _ => {
                let seq = inner.seq;
                let mut first = vec![inner.picture.message(seq)];
                if let Some(after) = after {
                    let now = Instant::now();
                    let missed =
                        inner.missed.iter().filter(|m| m.seq > after && now.duration_since(m.made) <= MISSED_CALL_AGE);
                    first.extend(missed.cloned());
                }
                first
            }
        };
        Subscription { first, rx }
    }

    /// Projects a flushed batch of records into messages and sends them to every display:
    /// its calls at once, with whatever window and queue messages were held; its window and
    /// queue changes are held until the next call or their pace.
    pub fn publish(&self, state: &HallState, records: &[(u64, Record)], facts: &[Fact]) {
        // Everything that reads the state is made before the lock is taken: displays
        // connecting meanwhile wait only for the bookkeeping below.
        let batch = self.project(state, records, facts);
        let counts = queue_counts(state);
        let mut inner = self.lock();
        for change in batch.calls {
            match change {
                CallChange::Clear => {
                    inner.picture.clear_calls();
                    inner.missed.clear();
                }
                CallChange::Push(call, missed) => {
                    inner.picture.push_call(call);
                    inner.missed.push_back(missed);
                    if inner.missed.len() > RECENT_CALLS_MAX {
                        inner.missed.pop_front();
                    }
                }
            }
        }
        let mut out = batch.out;
        for (id, (seq, window)) in batch.windows {
            inner.windows_held.insert(id, (seq, window));
        }
        if !inner.windows_held.is_empty() && inner.windows_held_since.is_none() {
            inner.windows_held_since = Some(Instant::now());
        }
        inner.seq = records.last().map_or(inner.seq, |(seq, _)| *seq);
        for (q, (waiting, _)) in state.setup.queues.iter().zip(&counts) {
            inner.waiting_now.insert(q.id, *waiting);
        }
        inner.picture.update(state, counts);
        if !out.is_empty() || batch.new_day || inner.due().is_some_and(|due| due <= Instant::now()) {
            out.extend(inner.paced_messages());
        }
        if batch.new_day {
            // A new day changes everything on screen: send the whole picture.
            let seq = inner.seq;
            out.push(inner.picture.message(seq));
        }
        self.send(&mut inner, out);
    }

    /// What a flushed batch shows displays: its call and rating messages (from its facts,
    /// which name the ticket's number even when a new day in the same batch has dropped
    /// the ticket), the calls it adds to the recent ones, and each window it touched as it
    /// is after the batch (only events naming a window change what a display shows of it).
    fn project(&self, state: &HallState, records: &[(u64, Record)], facts: &[Fact]) -> Batch {
        let mut batch = Batch { out: Vec::new(), calls: Vec::new(), new_day: false, windows: BTreeMap::new() };
        for fact in facts {
            let seq = fact.seq;
            match &fact.what {
                What::Called { ticket, desk, .. } | What::Recalled { ticket, desk } => {
                    let recall = matches!(fact.what, What::Recalled { .. });
                    let call = CallOf { seq, at: fact.at, window: &desk.window, number: &ticket.number, recall };
                    if let Some(msgs) = call_message(state, self.voice.as_deref(), &call) {
                        let at = rfc3339(&state.setup, fact.at);
                        let window = desk.window.to_string();
                        let recent = RecentCall { number: msgs.number, window, at };
                        batch.calls.push(CallChange::Push(recent, msgs.missed));
                        batch.out.push(msgs.live);
                    }
                }
                What::Rated { ticket, desk: Some(desk), .. } => {
                    let (window, number) = (desk.window.to_string(), ticket.number.to_string());
                    batch.out.push(encode(seq, &Wire::Rated { seq, window: &window, number }));
                }
                What::DayOpened { .. } => {
                    batch.new_day = true;
                    batch.calls.push(CallChange::Clear);
                }
                // Everything else reaches displays as window and queue messages.
                _ => {}
            }
        }
        let mut touched: BTreeMap<WindowId, u64> = BTreeMap::new();
        for (seq, record) in records {
            if let Some(w) = record.event.window() {
                touched.insert(*w, *seq);
            }
        }
        batch.windows = touched.into_iter().map(|(id, seq)| (id, (seq, WindowMsg::of(state, &id)))).collect();
        batch
    }

    /// When window or queue messages are held, the moment they are due; the engine then
    /// calls `publish_due`.
    pub fn due(&self) -> Option<Instant> {
        self.lock().due()
    }

    /// Sends the window and queue messages held.
    pub fn publish_due(&self) {
        let mut inner = self.lock();
        let out = inner.paced_messages();
        self.send(&mut inner, out);
    }

    fn send(&self, inner: &mut Inner, out: Vec<Arc<FeedMsg>>) {
        if out.is_empty() {
            return;
        }
        for msg in &out {
            inner.ring.push_back(msg.clone());
            if inner.ring.len() > RING_MAX {
                if let Some(old) = inner.ring.pop_front() {
                    inner.floor = inner.floor.max(old.seq);
                }
            }
        }
        // No receiver is fine: no display is connected.
        let _ = self.tx.send(out.into());
    }
}

impl Inner {
    fn due(&self) -> Option<Instant> {
        let windows = self.windows_held_since.map(|at| at + WINDOW_MSG_EVERY);
        let queues = (self.waiting_now != self.waiting)
            .then(|| self.queues_sent_at.map_or_else(Instant::now, |at| at + QUEUE_MSG_EVERY));
        windows.into_iter().chain(queues).min()
    }

    /// The messages held: each window changed, then each queue whose count changed since
    /// counts last went out, all with the `seq` of the last batch, whose state they show.
    fn paced_messages(&mut self) -> Vec<Arc<FeedMsg>> {
        let seq = self.seq;
        let mut windows: Vec<(u64, WindowMsg)> = std::mem::take(&mut self.windows_held)
            .into_values()
            .filter_map(|(touched, dto)| Some((touched, dto?)))
            .collect();
        self.windows_held_since = None;
        windows.sort_by_key(|(touched, _)| *touched);
        let mut out: Vec<Arc<FeedMsg>> =
            windows.iter().map(|(_, window)| encode(seq, &Wire::Window { seq, window })).collect();
        let mut counts = false;
        for (id, n) in &self.waiting_now {
            if self.waiting.get(id) != Some(n) {
                out.push(encode(seq, &Wire::Queue { seq, id: id.as_str(), waiting: *n }));
                counts = true;
            }
        }
        self.waiting.clone_from(&self.waiting_now);
        if counts {
            self.queues_sent_at = Some(Instant::now());
        }
        out
    }
}
