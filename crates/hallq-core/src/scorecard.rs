//! 考勤考核: each clerk's day at the windows, folded from the day's facts — how long they
//! had a window open, how long it was paused and why, what they served, how it was rated,
//! what they could not finish (escalated). The reasons a clerk may give for a pause are
//! the hall's (`[hall.pause]`).
//!
//! Time at a window runs from its opening to its closing by anyone (the clerk, an admin's
//! force-close, a disable) and counts for the clerk signed in there; a pause ends at its
//! resumption or the window's closing. What is still open when the fold ends (today's
//! windows, or a day whose windows were never closed) counts up to the fold's end.

use std::collections::BTreeMap;

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
}

impl ClerkDay {
    pub fn paused_total_ms(&self) -> u64 {
        self.paused_ms.values().sum()
    }

    /// Mean measured service, in ms.
    pub fn service_mean_ms(&self) -> Option<u64> {
        (self.services > 0).then(|| self.service_ms / u64::from(self.services))
    }
}

/// The fold: every clerk's day, and the windows open and paused as of the last fact.
#[derive(Clone, Debug, Default)]
pub struct Scorecards {
    pub clerks: BTreeMap<UserName, ClerkDay>,
    /// Windows open now: since when, and who is signed in.
    open: BTreeMap<WindowId, (UserName, Ts)>,
    /// Windows paused now: since when, and why.
    paused: BTreeMap<WindowId, (Ts, String)>,
}

impl Scorecards {
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

    /// Ends what is still open at `end` (the fold's end) and returns every clerk's day.
    pub fn finish(mut self, end: Ts) -> BTreeMap<UserName, ClerkDay> {
        let windows: Vec<WindowId> = self.open.keys().copied().collect();
        for w in windows {
            self.closed(w, end);
        }
        self.clerks
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
        *self.clerk(&name).paused_ms.entry(reason).or_default() += at.since_ms(since);
    }

    fn closed(&mut self, window: WindowId, at: Ts) {
        self.resume(window, at);
        let Some((name, since)) = self.open.remove(&window) else { return };
        let day = self.clerk(&name);
        day.open_ms += at.since_ms(since);
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
