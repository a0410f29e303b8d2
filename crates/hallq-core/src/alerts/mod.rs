//! Supervision alerts: a queue too long, a wait too old, a window paused or idle too long,
//! tickets waiting in a queue that no open window serves.
//!
//! The rules live here and are pure: `evaluate` looks at the state and `now` (the engine's
//! own `Tick`, once a second) and returns `AlertRaised` / `AlertCleared` events; `apply`
//! files them. An alert is one condition on one queue or window, raised when its value
//! passes the threshold and cleared with hysteresis, so that a queue hovering at its limit
//! does not raise and clear every second: a count or a wait clears only once it is back at
//! or below [`CLEAR_PERCENT`] % of its threshold; a paused or idle window's alert clears
//! when the window leaves that state. A queue whose tickets wait while no window that
//! serves it is open (open, calling or serving: closed and paused ones do not count, as
//! for the expected wait) raises `queue_unstaffed` on the next tick, with no delay (by
//! default from one ticket), and clears once such a window opens or the line is empty. It
//! counts only the tickets no open window may call: a booked ticket waiting in the
//! appointment queue is called, from its slot's start, by the windows of its service's own
//! queue too, so an open one of those staffs it. A supervisor acknowledges an alert
//! (`AlertAcknowledged`), which records who and silences the page's sound, but the alert
//! stays active until its condition ends.
//!
//! A kiosk's printer in trouble (offline, out of paper, cover open) is an alert too, of
//! kind `printer`: the shell's printer task reports what the printer says
//! (`Command::PrinterReport`) and [`printer_report`] raises, changes or clears the kiosk's
//! alert. The core keeps no printer state beyond the active alert: a new day ends it like
//! the others, and the printer task's next check raises it again if the fault lasts.
//!
//! Alerts hold queue, window and kiosk ids and counts, never a visitor's data. Each day's alerts
//! are kept (bounded) for `GET /api/v1/alerts?day=`; opening a new day ends the old day's
//! active alerts, so a snapshot taken at a day's opening holds only that history.

use std::collections::BTreeMap;

mod rules;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::event::Event;
use super::model::{KioskId, QueueId, Ts, UserName, Window, WindowId, WindowState};

/// Hysteresis: a count or wait alert clears once its value is at or below this share of
/// its threshold, in percent (a queue alerting above 30 clears at 24 or fewer).
pub const CLEAR_PERCENT: u32 = 80;
/// Most alerts raised in one service day; past it no new alert is raised (clears still
/// happen). A hall with thresholds this wrong has heard enough by then.
pub const ALERTS_PER_DAY_MAX: usize = 1_000;
/// Days of alert history kept in the state (and in day snapshots): a year and some.
pub const ALERT_DAYS_MAX: usize = 400;

/// A queue's thresholds; 0 turns that alert off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueThresholds {
    /// Alert when more tickets than this wait in the queue.
    pub waiting: u32,
    /// Alert when the queue's oldest waiting ticket has waited more minutes than this.
    pub wait_min: u32,
}

/// The hall's alert thresholds (`[hall.thresholds]` with `[[queue]]` overrides). The
/// default is all off; the configuration fills it in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertPolicy {
    /// Per queue, the hall's defaults with the queue's own overrides applied.
    pub queues: BTreeMap<QueueId, QueueThresholds>,
    /// Alert when a window has been paused more minutes than this.
    pub paused_min: u32,
    /// Alert when an open window has called nobody for more minutes than this while
    /// tickets it could call wait.
    pub idle_min: u32,
    /// Alert when at least this many tickets wait in a queue's line while no open window
    /// serves the queue (`queue_unstaffed`); 0 is off. Unlike the others, at, not above.
    pub unstaffed: u32,
}

impl AlertPolicy {
    pub fn queue(&self, q: &QueueId) -> QueueThresholds {
        self.queues.get(q).copied().unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Tickets waiting in a queue.
    QueueWaiting,
    /// Minutes the oldest ticket of a queue has waited.
    QueueWait,
    /// Minutes a window has been paused.
    WindowPaused,
    /// Minutes an open window has called nobody while tickets wait for it.
    WindowIdle,
    /// A kiosk's ticket printer cannot print (the alert's `fault` says why).
    Printer,
    /// Tickets wait in a queue's line while no open window serves the queue: nobody will
    /// call them. Its value is the tickets waiting in the line.
    QueueUnstaffed,
}

/// Why a kiosk's printer cannot print: what a printer alert carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterFault {
    /// Refuses connections, does not answer, or reports itself offline.
    Offline,
    PaperOut,
    CoverOpen,
}

impl PrinterFault {
    pub fn as_str(self) -> &'static str {
        match self {
            PrinterFault::Offline => "offline",
            PrinterFault::PaperOut => "paper_out",
            PrinterFault::CoverOpen => "cover_open",
        }
    }
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::QueueWaiting => "queue_waiting",
            AlertKind::QueueWait => "queue_wait",
            AlertKind::WindowPaused => "window_paused",
            AlertKind::WindowIdle => "window_idle",
            AlertKind::Printer => "printer",
            AlertKind::QueueUnstaffed => "queue_unstaffed",
        }
    }

    /// The unit of the alert's value and threshold.
    pub fn unit(self) -> &'static str {
        match self {
            AlertKind::QueueWaiting | AlertKind::QueueUnstaffed => "tickets",
            AlertKind::QueueWait | AlertKind::WindowPaused | AlertKind::WindowIdle => "minutes",
            // A fault has no size: value and threshold are 0.
            AlertKind::Printer => "none",
        }
    }
}

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    Queue(QueueId),
    Window(WindowId),
    Kiosk(KioskId),
}

impl Subject {
    pub fn queue(self) -> Option<QueueId> {
        match self {
            Subject::Queue(q) => Some(q),
            Subject::Window(_) | Subject::Kiosk(_) => None,
        }
    }

    pub fn window(self) -> Option<WindowId> {
        match self {
            Subject::Window(w) => Some(w),
            Subject::Queue(_) | Subject::Kiosk(_) => None,
        }
    }
}

/// One alert of the day, from its raising to its clearing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique across days: ids only grow.
    pub id: u64,
    pub kind: AlertKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowId>,
    /// The value when raised (tickets or minutes, as `kind` says).
    pub value: u32,
    pub threshold: u32,
    pub raised_at: Ts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_at: Option<Ts>,
    /// The value when cleared; none when the day's end cleared it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_value: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_by: Option<UserName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_at: Option<Ts>,
    /// A printer alert's kiosk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kiosk: Option<KioskId>,
    /// A printer alert's fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<PrinterFault>,
}

impl Alert {
    pub fn subject(&self) -> Option<Subject> {
        match (self.queue, self.window, self.kiosk) {
            (Some(q), _, _) => Some(Subject::Queue(q)),
            (None, Some(w), _) => Some(Subject::Window(w)),
            (None, None, Some(k)) => Some(Subject::Kiosk(k)),
            (None, None, None) => None,
        }
    }

    /// Whether the alert ended with its service day rather than with its condition.
    pub fn ended_by_day(&self) -> bool {
        self.cleared_at.is_some() && self.cleared_value.is_none()
    }

    pub fn is_active(&self) -> bool {
        self.cleared_at.is_none()
    }
}

/// The alerts part of the hall's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alerts {
    /// The last id given (0 before the first alert).
    pub last_id: u64,
    /// Each day's alerts in id order; at most [`ALERT_DAYS_MAX`] days.
    pub days: BTreeMap<NaiveDate, Vec<Alert>>,
    /// The active alert of each condition. Derived from `days` (the active ones are all
    /// of the current day) and empty at a day's opening, so snapshots need not hold it.
    #[serde(skip)]
    pub active: BTreeMap<(AlertKind, Subject), u64>,
    /// Since when each window not closed has been in its current state.
    #[serde(skip)]
    pub since: BTreeMap<WindowId, (WindowState, Ts)>,
}

impl Alerts {
    /// The alerts of `day`, in id order.
    pub fn of_day(&self, day: Option<NaiveDate>) -> &[Alert] {
        day.and_then(|d| self.days.get(&d)).map_or(&[], Vec::as_slice)
    }

    /// The alert `id`, if some kept day has it.
    pub fn get(&self, id: u64) -> Option<&Alert> {
        let list = self.days.values().rev().find(|l| l.first().is_some_and(|a| a.id <= id))?;
        list.binary_search_by_key(&id, |a| a.id).ok().map(|i| &list[i])
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut Alert> {
        let list = self.days.values_mut().rev().find(|l| l.first().is_some_and(|a| a.id <= id))?;
        let i = list.binary_search_by_key(&id, |a| a.id).ok()?;
        list.get_mut(i)
    }

    /// Files one event: alerts raised, cleared and acknowledged, windows changing state,
    /// a new day. `day` is the state's service day after the event; `windows` the windows
    /// after it.
    pub fn apply(&mut self, day: Option<NaiveDate>, at: Ts, event: &Event, windows: &BTreeMap<WindowId, Window>) {
        match event {
            Event::DayOpened { .. } => self.open_day(at),
            Event::AlertRaised { id, kind, queue, window, value, threshold, kiosk, fault } => {
                assert!(*id > self.last_id, "alert id {id} after {}", self.last_id);
                self.last_id = *id;
                let alert = Alert {
                    id: *id,
                    kind: *kind,
                    queue: *queue,
                    window: *window,
                    value: *value,
                    threshold: *threshold,
                    raised_at: at,
                    cleared_at: None,
                    cleared_value: None,
                    acked_by: None,
                    acked_at: None,
                    kiosk: *kiosk,
                    fault: *fault,
                };
                let subject = alert.subject().expect("an alert names a queue, a window or a kiosk");
                let before = self.active.insert((*kind, subject), *id);
                assert!(before.is_none(), "a second active {kind:?} alert for {subject:?}");
                self.days.entry(day.unwrap_or_default()).or_default().push(alert);
            }
            Event::AlertCleared { id, value } => {
                let a = self.get_mut(*id).expect("cleared alert exists");
                assert!(a.cleared_at.is_none(), "alert {id} cleared twice");
                a.cleared_at = Some(at);
                a.cleared_value = Some(*value);
                let key = (a.kind, a.subject().expect("an alert names a queue, a window or a kiosk"));
                self.active.remove(&key);
            }
            Event::AlertAcknowledged { id, by } => {
                let a = self.get_mut(*id).expect("acknowledged alert exists");
                assert!(a.acked_by.is_none(), "alert {id} acknowledged twice");
                a.acked_by = Some(by.clone());
                a.acked_at = Some(at);
            }
            other => {
                if let Some(w) = other.window() {
                    self.track(at, w, windows);
                }
            }
        }
    }

    /// Notes when window `w` entered its state, if the event changed it.
    fn track(&mut self, at: Ts, w: &WindowId, windows: &BTreeMap<WindowId, Window>) {
        let state = windows.get(w).map_or(WindowState::Closed, |w| w.state);
        if state == WindowState::Closed {
            self.since.remove(w);
        } else if self.since.get(w).is_none_or(|(s, _)| *s != state) {
            self.since.insert(*w, (state, at));
        }
    }

    /// Ends every active alert at `at`, a new day's opening (cleared, with no clearing
    /// value: `ended_by_day`), and returns them as they are now, in id order. The hall's
    /// `apply` calls it before the opening's own fact, for the alerts' facts; `apply` here
    /// calls it again, which then finds none.
    pub fn end_day(&mut self, at: Ts) -> Vec<Alert> {
        let mut ids: Vec<u64> = std::mem::take(&mut self.active).into_values().collect();
        ids.sort_unstable();
        let mut ended = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(a) = self.get_mut(id) {
                a.cleared_at = Some(at);
                ended.push(a.clone());
            }
        }
        ended
    }

    /// A new day: the old day's active alerts end with it, windows are all closed.
    fn open_day(&mut self, at: Ts) {
        self.end_day(at);
        self.since.clear();
        while self.days.len() > ALERT_DAYS_MAX {
            self.days.pop_first();
        }
    }
}

pub use rules::{evaluate, oldest_wait_min, printer_report, staffed, waiting_for};
