//! 考勤考核: each clerk's day at the windows, folded from the day's facts — how long they
//! had a window open, how long it was paused and why, what they served, how it was rated,
//! what they could not finish (escalated). The reasons a clerk may give for a pause are
//! the hall's (`[hall.pause]`).
//!
//! Time at a window runs from its opening to its closing by anyone (the clerk, an admin's
//! force-close, a disable, the next day's opening) and counts for the clerk signed in
//! there; a pause ends at its resumption or the window's closing. What is still open when
//! the fold ends (today's windows, or a day whose windows were never closed) counts up to
//! the fold's end.
//!
//! Signed-in time runs from a sign-in (`UserLoggedIn`) to the sign-out (`UserLoggedOut`),
//! not from a window's opening: a clerk signed in at 08:50 who opens a window at 09:00 was
//! at work from 08:50. Further sign-ins while signed in (a second device) change nothing
//! but the end; a sign-out ends it unless the user was still signed in on another device
//! then (`UserLoggedOut::elsewhere`, told by the shell, which alone knows the sessions):
//! the time runs from the first live session to the end of the last. A session that ends
//! without a sign-out ends at its expiry (the sign-in's `session_ms`: a tablet left signed
//! in, a session pushed out by newer ones), at a disable, or at a password reset by an
//! admin (both end every session); and at the day's end at the latest. Records from
//! before expiries were kept run to the sign-out or the day's end, as they did then.
//!
//! A day's time stops at the day's end (`Scorecards::until`): what a window open over
//! midnight (a visitor served past it: the new day waits for them) ran on after it counts
//! on the next day, from that day's opening at midnight (`carry`, merged by `ClerkDay::
//! take_carry`).

use std::collections::BTreeMap;

use super::event::Event;
use super::facts::{Desk, Fact, What};
use super::model::{Outcome, Ts, UserName, WindowId};

/// One reason a clerk may give for pausing a window (`[[hall.pause.reason]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PauseReason {
    pub code: String,
    pub name: String,
}

impl PauseReason {
    /// The reasons most halls list.
    pub fn defaults() -> Vec<PauseReason> {
        [
            ("lunch", "午间休息"),
            ("meeting", "会议培训"),
            ("consult", "业务咨询"),
            ("away", "临时离开"),
            ("other", "其他"),
        ]
        .into_iter()
        .map(|(code, name)| PauseReason { code: code.into(), name: name.into() })
        .collect()
    }
}

/// The key a pause without a reason is counted under.
pub const NO_REASON: &str = "";

/// One clerk's day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClerkDay {
    /// The windows they opened, in order of first opening.
    pub windows: Vec<WindowId>,
    /// First opening and last closing of any window (the last still open: the fold's end).
    pub first_open: Option<Ts>,
    pub last_close: Option<Ts>,
    /// Time with a window open, pauses included.
    pub open_ms: u64,
    /// Time paused, per reason code ([`NO_REASON`] for none given).
    pub paused_ms: BTreeMap<String, u64>,
    pub pauses: u32,
    /// Tickets finished: completed, incomplete.
    pub completed: u32,
    pub incomplete: u32,
    pub no_shows: u32,
    /// Measured services (from `serve` to the end), their count and sum.
    pub services: u32,
    pub service_ms: u64,
    /// Ratings by score: `ratings[0]` counts score 1 … `ratings[4]` score 5.
    pub ratings: [u32; 5],
    pub escalations: u32,
    /// Time signed in: from each sign-in to its sign-out or the day's end.
    pub signed_in_ms: u64,
}

impl ClerkDay {
    /// Takes in what the day before ran on past its end (`Scorecards::finish`'s carry):
    /// time open and paused counted from this day's opening.
    pub fn take_carry(&mut self, carry: &ClerkDay, opening: Ts) {
        for w in &carry.windows {
            if !self.windows.contains(w) {
                self.windows.insert(0, *w);
            }
        }
        self.first_open = Some(self.first_open.map_or(opening, |t| t.min(opening)));
        self.last_close = self.last_close.max(carry.last_close);
        self.open_ms += carry.open_ms;
        for (reason, ms) in &carry.paused_ms {
            *self.paused_ms.entry(reason.clone()).or_default() += ms;
        }
    }

    pub fn paused_total_ms(&self) -> u64 {
        self.paused_ms.values().sum()
    }

    /// Mean measured service, in ms.
    pub fn service_mean_ms(&self) -> Option<u64> {
        (self.services > 0).then(|| self.service_ms / u64::from(self.services))
    }
}

/// A user's signed-in time still running: since their first live session, up to the
/// last one's expiry (`None`: not known, a record from before expiries were kept).
#[derive(Clone, Copy, Debug)]
struct Signed {
    since: Ts,
    expires: Option<Ts>,
}

/// The fold: every clerk's day, and the windows open and paused as of the last fact.
#[derive(Clone, Debug, Default)]
pub struct Scorecards {
    pub clerks: BTreeMap<UserName, ClerkDay>,
    /// Windows open now: since when, and who is signed in.
    open: BTreeMap<WindowId, (UserName, Ts)>,
    /// Windows paused now: since when, and why.
    paused: BTreeMap<WindowId, (Ts, String)>,
    /// Users signed in now.
    signed: BTreeMap<UserName, Signed>,
    /// The day's end (`until`); `None`: no end.
    day_end: Option<Ts>,
    /// What ran on past the day's end, for the next day.
    carry: BTreeMap<UserName, ClerkDay>,
}

impl Scorecards {
    /// The fold of a day that ends at `day_end` (the next day's midnight).
    pub fn until(day_end: Ts) -> Self {
        Self { day_end: Some(day_end), ..Self::default() }
    }

    /// Folds a record's sign-in or sign-out (they make no facts: nothing in the state
    /// changes).
    pub fn observe_sign(&mut self, at: Ts, event: &Event) {
        match event {
            Event::UserLoggedIn { name, session_ms } => self.signed_in(name, at, *session_ms),
            Event::UserLoggedOut { name, elsewhere: false } | Event::UserDisabled { name, .. } => {
                self.signed_out(name, at)
            }
            // An admin resetting their own password stays signed in; anyone else's
            // sessions end.
            Event::PasswordReset { name, by, .. } if name != by => self.signed_out(name, at),
            _ => {}
        }
    }

    /// Folds one fact of the day. One arm per fact a scorecard counts, each a call.
    pub fn observe(&mut self, fact: &Fact) {
        let at = fact.at;
        match &fact.what {
            What::WindowOpened { desk } => self.opened(desk, at),
            What::WindowPaused { desk, reason } => self.pause(desk, reason.as_deref(), at),
            What::WindowResumed { desk } => self.resume(desk.window, at),
            What::WindowClosed { desk, .. } => self.closed(desk.window, at),
            What::Finished { desk, outcome: Some(outcome), served_ms, .. } => self.finished(desk, *outcome, *served_ms),
            What::NoShow { desk, .. } => self.count(desk, |c| c.no_shows += 1),
            What::Rated { desk: Some(desk), score, .. } => {
                let i = usize::from(score.clamp(&1, &5) - 1);
                self.count(desk, |c| c.ratings[i] += 1)
            }
            What::Escalated { desk, .. } => self.count(desk, |c| c.escalations += 1),
            _ => {}
        }
    }

    /// Ends what is still open at `end` (the fold's end) and returns every clerk's day,
    /// and what ran on past the day's end for the next day.
    pub fn finish(mut self, end: Ts) -> (BTreeMap<UserName, ClerkDay>, BTreeMap<UserName, ClerkDay>) {
        let windows: Vec<WindowId> = self.open.keys().copied().collect();
        for w in windows {
            self.closed(w, end);
        }
        let signed: Vec<UserName> = self.signed.keys().cloned().collect();
        for name in signed {
            self.signed_out(&name, end);
        }
        (self.clerks, self.carry)
    }

    /// Adds the time from `since` to `until` with `add`: up to the day's end to the day,
    /// the rest to the next day's carry.
    fn span(&mut self, name: &UserName, (since, until): (Ts, Ts), add: impl Fn(&mut ClerkDay, u64)) {
        let cut = self.day_end.map_or(until, |end| until.min(end)).max(since);
        add(self.clerk(name), cut.since_ms(since));
        if until > cut {
            add(self.carry.entry(name.clone()).or_default(), until.since_ms(cut));
        }
    }

    /// A sign-in at `at` for `session_ms`: a new span, or a later end of the running one.
    /// A span whose sessions had all expired before `at` ended then, unseen.
    fn signed_in(&mut self, name: &UserName, at: Ts, session_ms: Option<u64>) {
        let expires = session_ms.map(|ms| Ts(at.0.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX))));
        if let Some(running) = self.signed.get(name).copied() {
            if running.expires.is_none_or(|e| e > at) {
                let expires = running.expires.zip(expires).map(|(a, b)| a.max(b));
                self.signed.insert(name.clone(), Signed { expires, ..running });
                return;
            }
            self.signed_out(name, at);
        }
        self.signed.insert(name.clone(), Signed { since: at, expires });
    }

    /// A sign-out at `at`; signed-in time never runs past the last session's expiry or
    /// the day's end.
    fn signed_out(&mut self, name: &UserName, at: Ts) {
        let Some(Signed { since, expires }) = self.signed.remove(name) else { return };
        let at = expires.map_or(at, |e| at.min(e));
        let until = self.day_end.map_or(at, |end| at.min(end)).max(since);
        self.clerk(name).signed_in_ms += until.since_ms(since);
    }

    fn clerk(&mut self, name: &UserName) -> &mut ClerkDay {
        self.clerks.entry(name.clone()).or_default()
    }

    fn count(&mut self, desk: &Desk, f: impl FnOnce(&mut ClerkDay)) {
        if let Some(c) = &desk.clerk {
            f(self.clerk(c));
        }
    }

    fn opened(&mut self, desk: &Desk, at: Ts) {
        let Some(name) = desk.clerk.clone() else { return };
        let day = self.clerk(&name);
        if !day.windows.contains(&desk.window) {
            day.windows.push(desk.window);
        }
        day.first_open.get_or_insert(at);
        self.open.insert(desk.window, (name, at));
    }

    fn pause(&mut self, desk: &Desk, reason: Option<&str>, at: Ts) {
        if let Some(c) = &desk.clerk {
            self.clerk(c).pauses += 1;
        }
        self.paused.insert(desk.window, (at, reason.unwrap_or(NO_REASON).to_string()));
    }

    fn resume(&mut self, window: WindowId, at: Ts) {
        let Some((since, reason)) = self.paused.remove(&window) else { return };
        let Some((name, _)) = self.open.get(&window).cloned() else { return };
        self.span(&name, (since, at), |c, ms| *c.paused_ms.entry(reason.clone()).or_default() += ms);
    }

    fn closed(&mut self, window: WindowId, at: Ts) {
        self.resume(window, at);
        let Some((name, since)) = self.open.remove(&window) else { return };
        self.span(&name, (since, at), |c, ms| c.open_ms += ms);
        let late = self.day_end.filter(|end| at > *end).and(self.carry.get_mut(&name));
        let day = match late {
            Some(carry) => {
                if !carry.windows.contains(&window) {
                    carry.windows.push(window);
                }
                carry
            }
            None => self.clerk(&name),
        };
        day.last_close = Some(day.last_close.map_or(at, |t| t.max(at)));
    }

    fn finished(&mut self, desk: &Desk, outcome: Outcome, served_ms: Option<u64>) {
        self.count(desk, |c| {
            match outcome {
                Outcome::Completed => c.completed += 1,
                Outcome::Incomplete => c.incomplete += 1,
            }
            if let Some(ms) = served_ms {
                c.services += 1;
                c.service_ms += ms;
            }
        });
    }
}
