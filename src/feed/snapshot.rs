//! The snapshot a display starts from, kept as its inputs and serialised only when a
//! display asks for one (a first connection, or a resume the ring cannot serve). Each
//! flushed batch brings the inputs up to date, cheaply: the queues' counts and waits, the
//! windows whose state, ticket or queues changed, the recent calls. The serialised text is
//! kept until the next batch, so a crowd of displays connecting at once serialises it once.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::NaiveDate;

use super::wire::{encode, HallRef, QueueCount, RecentCall, WindowMsg, Wire};
use super::{FeedMsg, RECENT_CALLS_MAX};
use crate::core::eta::Eta;
use crate::core::model::{QueueId, TicketId, WindowId, WindowState};
use crate::core::HallState;
use crate::time::rfc3339;

/// What a window's row was made from: when it is unchanged, so is the row.
#[derive(PartialEq, Eq)]
struct Stamp {
    state: WindowState,
    ticket: Option<TicketId>,
    queues: Vec<QueueId>,
}

impl Stamp {
    fn of(state: &HallState, id: &WindowId) -> Option<Self> {
        let w = state.window(id)?;
        Some(Self { state: w.state, ticket: w.ticket, queues: w.queues.clone() })
    }

    fn is_of(&self, state: &HallState, id: &WindowId) -> bool {
        state.window(id).is_some_and(|w| w.state == self.state && w.ticket == self.ticket && w.queues == self.queues)
    }
}

/// The snapshot's inputs, and its text once a display asked for it.
pub(super) struct Picture {
    day: NaiveDate,
    hall: HallRef,
    /// Each queue of the hall, in its order.
    queues: Vec<QueueCount>,
    /// Each window of the hall, in its order, with what its row was made from; none for a
    /// window the state does not have.
    windows: Vec<(WindowId, Option<(Stamp, WindowMsg)>)>,
    /// The last calls, oldest first, at most `RECENT_CALLS_MAX`.
    recent_calls: VecDeque<RecentCall>,
    /// The snapshot serialised, until an input changes.
    text: Option<Arc<FeedMsg>>,
}

/// Each queue's count and expected wait in `state`, in the hall's order: what the
/// snapshot's queues show. The forecast behind the waits is the state's own, made once per
/// log position.
pub(super) fn queue_counts(state: &HallState) -> Vec<(usize, Eta)> {
    let queues = &state.setup.queues;
    queues.iter().map(|q| (state.waiting(&q.id), crate::core::eta::for_queue(state, &q.id))).collect()
}

impl Picture {
    pub fn new(state: &HallState) -> Self {
        let setup = &state.setup;
        let mut calls: Vec<_> = state.tickets.values().filter_map(|t| Some((t.called_at?, t))).collect();
        calls.sort_by_key(|(at, t)| (*at, t.issue_seq));
        let recent_calls = calls
            .iter()
            .rev()
            .take(RECENT_CALLS_MAX)
            .rev()
            .filter_map(|(at, t)| {
                let window = t.window.as_ref()?.to_string();
                Some(RecentCall { number: t.number.to_string(), window, at: rfc3339(setup, *at) })
            })
            .collect();
        let queues = setup
            .queues
            .iter()
            .map(|q| QueueCount {
                id: q.id.to_string(),
                name: q.name.clone(),
                waiting: 0,
                ahead: 0,
                eta_minutes: None,
                eta_reason: None,
            })
            .collect();
        let mut picture = Self {
            day: day_of(state),
            hall: HallRef { id: setup.hall_id.clone(), name: setup.hall_name.clone() },
            queues,
            windows: setup.windows.iter().map(|w| (w.id, None)).collect(),
            recent_calls,
            text: None,
        };
        picture.update(state, queue_counts(state));
        picture
    }

    /// Brings the inputs up to `state`, whose queues' counts and waits are `counts`.
    pub fn update(&mut self, state: &HallState, counts: Vec<(usize, Eta)>) {
        self.text = None;
        self.day = day_of(state);
        for (row, (waiting, eta)) in self.queues.iter_mut().zip(counts) {
            row.waiting = waiting;
            row.ahead = eta.ahead;
            row.eta_minutes = eta.minutes;
            row.eta_reason = eta.reason();
        }
        for (id, row) in &mut self.windows {
            if !row.as_ref().is_some_and(|(stamp, _)| stamp.is_of(state, id)) {
                *row = Stamp::of(state, id).zip(WindowMsg::of(state, id));
            }
        }
    }

    /// Adds a call to the recent ones, dropping the oldest beyond `RECENT_CALLS_MAX`.
    pub fn push_call(&mut self, call: RecentCall) {
        self.text = None;
        self.recent_calls.push_back(call);
        if self.recent_calls.len() > RECENT_CALLS_MAX {
            self.recent_calls.pop_front();
        }
    }

    /// A new day: no call of the day before is recent.
    pub fn clear_calls(&mut self) {
        self.text = None;
        self.recent_calls.clear();
    }

    /// The snapshot at log position `seq`, serialised now if no display asked since the
    /// last change. The caller passes the same `seq` until it calls `update` again.
    pub fn message(&mut self, seq: u64) -> Arc<FeedMsg> {
        if let Some(text) = self.text.as_ref().filter(|t| t.seq == seq) {
            return text.clone();
        }
        let wire = Wire::Snapshot {
            seq,
            day: self.day.to_string(),
            hall: &self.hall,
            queues: &self.queues,
            windows: self.windows.iter().filter_map(|(_, row)| row.as_ref().map(|(_, w)| w)).collect(),
            recent_calls: &self.recent_calls,
        };
        let msg = encode(seq, &wire);
        self.text = Some(msg.clone());
        msg
    }
}

/// The service day `state` shows: the open one, else the day of its last record.
fn day_of(state: &HallState) -> NaiveDate {
    state.day.unwrap_or_else(|| state.setup.day_of(state.last_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hall() -> HallState {
        let setup = crate::config::embedded_default().expect("the embedded hall loads").setup;
        HallState::new(Arc::new(setup))
    }

    #[test]
    fn the_snapshot_is_serialised_once_per_change() {
        let state = hall();
        let mut picture = Picture::new(&state);
        let first = picture.message(0);
        assert!(Arc::ptr_eq(&first, &picture.message(0)), "asked again, the same text");
        picture.update(&state, queue_counts(&state));
        let again = picture.message(0);
        assert!(!Arc::ptr_eq(&first, &again), "a batch makes it anew");
        assert_eq!(first.text, again.text, "from the same state, the same text");
        assert_eq!(picture.message(1).seq, 1, "a new position is a new snapshot");
    }

    #[test]
    fn a_snapshot_shows_every_window_with_a_null_clerk() {
        let state = hall();
        let msg = Picture::new(&state).message(3);
        let doc: serde_json::Value = serde_json::from_str(msg.text.as_str()).expect("JSON");
        assert_eq!((doc["type"].as_str(), doc["seq"].as_u64()), (Some("snapshot"), Some(3)));
        let windows = doc["windows"].as_array().expect("windows");
        assert_eq!(windows.len(), state.setup.windows.len());
        assert!(windows.iter().all(|w| w.as_object().is_some_and(|o| o.contains_key("clerk") && o["clerk"].is_null())));
    }
}
