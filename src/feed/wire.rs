//! The feed's messages as displays receive them: a snapshot, a call, a window's change, a
//! queue's count and a rating. The feed builds them from the core's values here and
//! nowhere else. No type here has a field that could carry a clerk's name or anything of a
//! visitor's: a lobby screen and a window's screen are public.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;

use super::FeedMsg;
use crate::core::model::{TicketNo, Ts, WindowId};
use crate::core::HallState;
use crate::time::rfc3339;
use crate::voice::{CallVoice, Voice};

/// A call as a snapshot lists it.
#[derive(Serialize, Clone)]
pub(super) struct RecentCall {
    pub number: String,
    pub window: String,
    pub at: String,
}

/// The hall a snapshot is of.
#[derive(Serialize)]
pub(super) struct HallRef {
    pub id: String,
    pub name: String,
}

/// A queue as a snapshot shows it.
#[derive(Serialize, Clone, PartialEq, Eq)]
pub(super) struct QueueCount {
    pub id: String,
    pub name: String,
    pub waiting: usize,
    /// The calls before a ticket taken now in this queue (the forecast's, like a ticket's
    /// `ahead`).
    pub ahead: usize,
    /// The expected wait of a ticket taken now in this queue; null when no open window
    /// serves it (`eta_reason`).
    pub eta_minutes: Option<u32>,
    /// Why there is no expected wait: `no_open_window`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta_reason: Option<&'static str>,
}

/// A window as a display shows it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub(super) struct WindowMsg {
    pub id: String,
    pub name: String,
    pub queues: Vec<String>,
    pub state: &'static str,
    /// The number of the ticket the window holds.
    pub ticket: Option<String>,
    /// Always null: the pages read the key, but a display never learns who works a window,
    /// and this field cannot say.
    pub clerk: (),
}

impl WindowMsg {
    /// Window `id` as it is in `state`; none when the hall has no such window.
    pub fn of(state: &HallState, id: &WindowId) -> Option<Self> {
        let w = state.window(id)?;
        let ticket = w.ticket.as_ref().and_then(|t| state.ticket(t)).map(|t| t.number.to_string());
        Some(Self {
            id: w.id.to_string(),
            name: w.name.clone(),
            queues: w.queues.iter().map(ToString::to_string).collect(),
            state: w.state.as_str(),
            ticket,
            clerk: (),
        })
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Wire<'a> {
    Snapshot {
        seq: u64,
        day: String,
        hall: &'a HallRef,
        queues: &'a [QueueCount],
        windows: Vec<&'a WindowMsg>,
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
        /// Told after a snapshot to a display that was away when it was made (the daemon
        /// restarted meanwhile): the display has not had it, whatever its `seq`.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        missed: bool,
    },
    Window {
        seq: u64,
        window: &'a WindowMsg,
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
pub(super) struct Announce<'a> {
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

/// One message serialised, stamped with the time it was made.
pub(super) fn encode(seq: u64, wire: &Wire<'_>) -> Arc<FeedMsg> {
    let text = serde_json::to_string(wire).unwrap_or_else(|e| panic!("a feed message always serialises: {e}"));
    Arc::new(FeedMsg { seq, text: Utf8Bytes::from(text), made: Instant::now() })
}

/// The call message of a ticket called (or recalled) at a window, and its number.
/// One call or recall a display is told of.
pub(super) struct CallOf<'a> {
    pub seq: u64,
    pub at: Ts,
    pub window: &'a WindowId,
    pub number: &'a TicketNo,
    pub recall: bool,
}

pub(super) fn call_message(state: &HallState, voice: Option<&Voice>, call: &CallOf) -> Option<CallMsgs> {
    let CallOf { seq, at, window, number, recall } = *call;
    let setup = &state.setup;
    let number = number.to_string();
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
    let mut wire = Wire::Call {
        seq,
        number: number.clone(),
        window: window.as_str(),
        window_name: &w.name,
        at: rfc3339(setup, at),
        recall,
        announce,
        missed: false,
    };
    let live = encode(seq, &wire);
    if let Wire::Call { missed, .. } = &mut wire {
        *missed = true;
    }
    Some(CallMsgs { number, live, missed: encode(seq, &wire) })
}

/// A call as `call_message` makes it: the ticket's number, the message every display
/// connected is sent, and the same marked `missed` for one that reconnects later.
pub(super) struct CallMsgs {
    pub number: String,
    pub live: Arc<FeedMsg>,
    pub missed: Arc<FeedMsg>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_message_has_a_clerk_key_that_is_always_null() {
        let w = WindowMsg {
            id: "1".into(),
            name: "1号窗口".into(),
            queues: vec!["A".into()],
            state: "serving",
            ticket: Some("A001".into()),
            clerk: (),
        };
        let text = serde_json::to_string(&Wire::Window { seq: 7, window: &w }).expect("serialises");
        assert_eq!(
            text,
            r#"{"type":"window","seq":7,"window":{"id":"1","name":"1号窗口","queues":["A"],"state":"serving","ticket":"A001","clerk":null}}"#
        );
    }
}
