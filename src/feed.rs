//! The display feed: a small display model projected from the hall after each flushed
//! batch, serialised once and shared by every connection.
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

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::core::event::{Event, Record};
use crate::core::model::{QueueId, Ts, WindowId};
use crate::core::HallState;
use crate::http::dto::{rfc3339, WindowDto};
use crate::voice::{CallVoice, Voice};

/// Messages kept for resume. A busy hall makes about 20,000 a day; this covers minutes of
/// a peak, which is what a reconnecting display needs.
pub const RING_MAX: usize = 4096;
/// Batches a connection may fall behind on the live broadcast before it is resynced.
pub const OUTBOX_MAX: usize = 256;
/// Calls shown in a snapshot's `recent_calls`: a lobby shows every call of the last
/// minutes, so that a screen opened (or reloaded) during a burst of a hall's windows, or
/// of several zones, still lists each of them. The lobby's own list holds as many.
pub const RECENT_CALLS_MAX: usize = 30;
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

#[derive(Serialize, Clone)]
struct RecentCall {
    number: String,
    window: String,
    at: String,
}

#[derive(Serialize)]
struct HallRef<'a> {
    id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct QueueCount<'a> {
    id: &'a str,
    name: &'a str,
    waiting: usize,
    /// The calls before a ticket taken now in this queue (the forecast's, like a ticket's
    /// `ahead`).
    ahead: usize,
    /// The expected wait of a ticket taken now in this queue; null when no open window
    /// serves it (`eta_reason`).
    eta_minutes: Option<u32>,
    /// Why there is no expected wait: `no_open_window`.
    #[serde(skip_serializing_if = "Option::is_none")]
    eta_reason: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire<'a> {
    Snapshot {
        seq: u64,
        day: String,
        hall: HallRef<'a>,
        queues: Vec<QueueCount<'a>>,
        windows: Vec<WindowDto>,
        recent_calls: &'a VecDeque<RecentCall>,
    },
    Call {
        seq: u64,
        number: String,
        window: &'a str,
        window_name: &'a str,
        at: String,
        recall: bool,
        announce: Announce<'a>,
    },
    Window {
        seq: u64,
        window: WindowDto,
    },
    Queue {
        seq: u64,
        id: &'a str,
        waiting: usize,
    },
    /// A ticket finished at `window` was rated (on the visitor's phone or the window's
    /// evaluator tablet): the tablet stops asking about it. The number only, never the id.
    Rated {
        seq: u64,
        window: &'a str,
        number: String,
    },
}

#[derive(Serialize)]
struct Announce<'a> {
    text: String,
    repeat: u8,
    /// The call-out as a voice says it (numbers in words), for the browser's voice.
    speech: String,
    /// Who speaks: `espeak-ng` (play `audio`), `browser` or `off` (chime and flash).
    synth: &'static str,
    /// The daemon's audio of the call-out, when it renders one.
    #[serde(skip_serializing_if = "Option::is_none")]
    audio: Option<String>,
    /// The short form ("A零三六，二号窗口"), which a lobby says, faster and once, when
    /// calls queue up; and its audio.
    brief_speech: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    brief_audio: Option<String>,
    /// The speaker zones that say this call; absent when the hall is one zone.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    zones: &'a [String],
}

struct Inner {
    ring: VecDeque<Arc<FeedMsg>>,
    /// Messages with a seq at or below this may have left the ring (or were never in it,
    /// for a daemon that restarted): resuming from there needs a snapshot.
    floor: u64,
    snapshot: Arc<FeedMsg>,
    /// The last `seq` published.
    seq: u64,
    recent_calls: VecDeque<RecentCall>,
    /// The counts displays were last sent.
    waiting: BTreeMap<QueueId, usize>,
    /// The counts as of the last batch, when they differ from `waiting`.
    waiting_now: BTreeMap<QueueId, usize>,
    /// When queue counts last went out; the next round may go out `QUEUE_MSG_EVERY` after.
    queues_sent_at: Option<Instant>,
    /// Windows changed since window messages last went out: each as it is now (`None` for
    /// a window the hall no longer has), with the `seq` of the last record that touched it
    /// (for their order).
    windows_held: BTreeMap<WindowId, (u64, Option<WindowDto>)>,
    /// When the oldest held window change was made.
    windows_held_since: Option<Instant>,
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

fn encode(seq: u64, wire: &Wire<'_>) -> Arc<FeedMsg> {
    let text = serde_json::to_string(wire).unwrap_or_else(|e| panic!("a feed message always serialises: {e}"));
    Arc::new(FeedMsg { seq, text: Utf8Bytes::from(text), made: Instant::now() })
}

fn window_dto(state: &HallState, id: &WindowId) -> Option<WindowDto> {
    let w = state.window(id)?;
    let number = w.ticket.as_ref().and_then(|t| state.ticket(t)).map(|t| t.number.to_string());
    Some(WindowDto::new(w, number, false))
}

impl Feed {
    pub fn new(state: &HallState) -> Self {
        let mut calls: Vec<_> = state.tickets.values().filter_map(|t| Some((t.called_at?, t))).collect();
        calls.sort_by_key(|(at, t)| (*at, t.issue_seq));
        let recent_calls = calls
            .iter()
            .rev()
            .take(RECENT_CALLS_MAX)
            .rev()
            .filter_map(|(at, t)| {
                let window = t.window.as_ref()?.to_string();
                Some(RecentCall { number: t.number.to_string(), window, at: rfc3339(&state.setup, *at) })
            })
            .collect();
        let waiting: BTreeMap<QueueId, usize> =
            state.setup.queues.iter().map(|q| (q.id, state.waiting(&q.id))).collect();
        let mut inner = Inner {
            ring: VecDeque::new(),
            floor: state.last_seq,
            snapshot: Arc::new(FeedMsg { seq: 0, text: Utf8Bytes::from_static(""), made: Instant::now() }),
            seq: state.last_seq,
            recent_calls,
            waiting_now: waiting.clone(),
            waiting,
            queues_sent_at: None,
            windows_held: BTreeMap::new(),
            windows_held_since: None,
        };
        inner.snapshot = snapshot(state, &inner);
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
        self.lock().snapshot.clone()
    }

    /// Starts a connection: the messages after `after` when the ring still holds them all,
    /// else a snapshot; then the live broadcast, with nothing lost or repeated between.
    pub fn subscribe(&self, after: Option<u64>) -> Subscription {
        let inner = self.lock();
        let rx = self.tx.subscribe();
        let first = match after {
            Some(after) if after >= inner.floor && after <= inner.seq => {
                inner.ring.iter().filter(|m| m.seq > after).cloned().collect()
            }
            Some(_) | None => vec![inner.snapshot.clone()],
        };
        Subscription { first, rx }
    }

    /// Projects a flushed batch of records into messages and sends them to every display:
    /// its calls at once, with whatever window and queue messages were held; its window and
    /// queue changes are held until the next call or their pace.
    pub fn publish(&self, state: &HallState, records: &[(u64, Record)]) {
        let setup = &state.setup;
        let mut inner = self.lock();
        let mut out = Vec::new();
        let mut new_day = false;
        let mut touched: BTreeMap<WindowId, u64> = BTreeMap::new();
        for (seq, record) in records {
            match &record.event {
                Event::TicketCalled { window, id, .. } | Event::TicketRecalled { window, id } => {
                    let recall = matches!(record.event, Event::TicketRecalled { .. });
                    if let Some((number, msg)) =
                        call_message(state, self.voice.as_deref(), *seq, record.at, window, id, recall)
                    {
                        let at = rfc3339(setup, record.at);
                        inner.recent_calls.push_back(RecentCall { number, window: window.to_string(), at });
                        if inner.recent_calls.len() > RECENT_CALLS_MAX {
                            inner.recent_calls.pop_front();
                        }
                        out.push(msg);
                    }
                }
                Event::TicketRated { id, .. } => {
                    if let Some(t) = state.ticket(id) {
                        if let Some(window) = t.window.as_ref().map(WindowId::to_string) {
                            let number = t.number.to_string();
                            out.push(encode(*seq, &Wire::Rated { seq: *seq, window: &window, number }));
                        }
                    }
                }
                Event::DayOpened { .. } => {
                    new_day = true;
                    inner.recent_calls.clear();
                }
                // Everything else reaches displays as window and queue messages.
                _ => {}
            }
            if let Some(w) = record.event.window() {
                touched.insert(*w, *seq);
            }
        }
        // Each window this batch touched goes out as it is after the batch (only events
        // naming a window change what a display shows of it).
        for (id, seq) in touched {
            inner.windows_held.insert(id, (seq, window_dto(state, &id)));
        }
        if !inner.windows_held.is_empty() && inner.windows_held_since.is_none() {
            inner.windows_held_since = Some(Instant::now());
        }
        inner.seq = records.last().map_or(inner.seq, |(seq, _)| *seq);
        for q in &setup.queues {
            inner.waiting_now.insert(q.id, state.waiting(&q.id));
        }
        inner.snapshot = snapshot(state, &inner);
        if !out.is_empty() || new_day || inner.due().is_some_and(|due| due <= Instant::now()) {
            out.extend(inner.paced_messages());
        }
        if new_day {
            // A new day changes everything on screen: send the whole picture.
            out.push(inner.snapshot.clone());
        }
        self.send(&mut inner, out);
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
        let mut windows: Vec<(u64, WindowDto)> = std::mem::take(&mut self.windows_held)
            .into_values()
            .filter_map(|(touched, dto)| Some((touched, dto?)))
            .collect();
        self.windows_held_since = None;
        windows.sort_by_key(|(touched, _)| *touched);
        let mut out: Vec<Arc<FeedMsg>> =
            windows.into_iter().map(|(_, window)| encode(seq, &Wire::Window { seq, window })).collect();
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

/// The call message of a ticket called (or recalled) at a window, and its number.
fn call_message(
    state: &HallState,
    voice: Option<&Voice>,
    seq: u64,
    at: Ts,
    window: &WindowId,
    id: &crate::core::model::TicketId,
    recall: bool,
) -> Option<(String, Arc<FeedMsg>)> {
    let setup = &state.setup;
    let number = state.ticket(id)?.number.to_string();
    let w = state.window(window)?;
    let said = match voice {
        Some(v) => v.call(&setup.call_template, &number, window),
        None => CallVoice {
            speech: crate::voice::text::speech(&setup.call_template, &number, window.as_str()),
            synth: crate::config::Synth::Browser,
            audio: None,
            brief_speech: crate::voice::text::speech(crate::voice::text::BRIEF_TEMPLATE, &number, window.as_str()),
            brief_audio: None,
            zones: &[],
        },
    };
    let announce = Announce {
        text: setup.call_text(&number, window),
        repeat: setup.call_repeat,
        speech: said.speech,
        synth: said.synth.as_str(),
        audio: said.audio,
        brief_speech: said.brief_speech,
        brief_audio: said.brief_audio,
        zones: said.zones,
    };
    let wire = Wire::Call {
        seq,
        number: number.clone(),
        window: window.as_str(),
        window_name: &w.name,
        at: rfc3339(setup, at),
        recall,
        announce,
    };
    Some((number, encode(seq, &wire)))
}

fn snapshot(state: &HallState, inner: &Inner) -> Arc<FeedMsg> {
    let setup = &state.setup;
    let queues = setup
        .queues
        .iter()
        .map(|q| (q, crate::core::eta::for_queue(state, &q.id)))
        .map(|(q, eta)| QueueCount {
            id: q.id.as_str(),
            name: &q.name,
            waiting: state.waiting(&q.id),
            ahead: eta.ahead,
            eta_minutes: eta.minutes,
            eta_reason: eta.reason(),
        })
        .collect();
    let windows = setup.windows.iter().filter_map(|w| window_dto(state, &w.id)).collect();
    let day = state.day.unwrap_or_else(|| setup.day_of(state.last_at)).to_string();
    let wire = Wire::Snapshot {
        seq: inner.seq,
        day,
        hall: HallRef { id: &setup.hall_id, name: &setup.hall_name },
        queues,
        windows,
        recent_calls: &inner.recent_calls,
    };
    encode(inner.seq, &wire)
}
