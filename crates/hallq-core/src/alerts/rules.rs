//! The rules of supervision: what the state calls for at a tick (`evaluate`), a kiosk
//! printer's report (`printer_report`), and the readings they compare with each
//! threshold. Pure, like the rest of the core.

use super::{AlertKind, PrinterFault, Subject, ALERTS_PER_DAY_MAX, CLEAR_PERCENT};
use crate::dispatch::due_queues;
use crate::event::Event;
use crate::model::{KioskId, QueueId, Ts, Window, WindowState};

/// A condition's current value, as `evaluate` sees it.
struct Reading {
    kind: AlertKind,
    subject: Subject,
    value: u32,
    threshold: u32,
}

/// The alert events the hall's state calls for at `now`: each condition past its threshold
/// with no active alert raises one; each active alert whose condition has eased clears.
pub fn evaluate(state: &crate::HallState, now: Ts) -> Vec<Event> {
    let alerts = &state.alerts;
    let mut room = ALERTS_PER_DAY_MAX.saturating_sub(alerts.of_day(state.day).len());
    let mut next_id = alerts.last_id;
    let mut out = Vec::new();
    for r in readings(state, now) {
        match alerts.active.get(&(r.kind, r.subject)) {
            Some(id) => {
                if eased(&r) {
                    out.push(Event::AlertCleared { id: *id, value: r.value });
                }
            }
            None => {
                if past(&r) && room > 0 {
                    room -= 1;
                    next_id += 1;
                    let (queue, window) = (r.subject.queue(), r.subject.window());
                    let (value, threshold) = (r.value, r.threshold);
                    let (kiosk, fault) = (None, None);
                    out.push(Event::AlertRaised {
                        id: next_id,
                        kind: r.kind,
                        queue,
                        window,
                        value,
                        threshold,
                        kiosk,
                        fault,
                    });
                }
            }
        }
    }
    out
}

/// The events a printer's report calls for: a fault with no active alert for the kiosk
/// raises one (room allowing); a different fault clears the old alert and raises one for
/// the new fault, so the list and the webhook say what is wrong now; no fault clears it;
/// the same fault again changes nothing.
pub fn printer_report(state: &crate::HallState, kiosk: KioskId, fault: Option<PrinterFault>) -> Vec<Event> {
    let alerts = &state.alerts;
    let active = alerts.active.get(&(AlertKind::Printer, Subject::Kiosk(kiosk))).and_then(|id| alerts.get(*id));
    let mut out = Vec::new();
    if let Some(a) = active {
        if a.fault == fault {
            return out;
        }
        out.push(Event::AlertCleared { id: a.id, value: 0 });
    }
    let room = alerts.of_day(state.day).len() < ALERTS_PER_DAY_MAX;
    if let (Some(fault), true) = (fault, room) {
        out.push(Event::AlertRaised {
            id: alerts.last_id + 1,
            kind: AlertKind::Printer,
            queue: None,
            window: None,
            value: 0,
            threshold: 0,
            kiosk: Some(kiosk),
            fault: Some(fault),
        });
    }
    out
}

/// Whether a condition with no active alert calls for one.
fn past(r: &Reading) -> bool {
    match r.kind {
        // At, not above: with the default 1, any ticket nobody will call.
        AlertKind::QueueUnstaffed => r.threshold > 0 && r.value >= r.threshold,
        AlertKind::QueueWaiting | AlertKind::QueueWait | AlertKind::WindowPaused | AlertKind::WindowIdle => {
            r.threshold > 0 && r.value > r.threshold
        }
        // Raised only by its printer's report.
        AlertKind::Printer => false,
    }
}

/// Whether an active alert's condition has eased enough to clear it.
fn eased(r: &Reading) -> bool {
    if r.kind == AlertKind::QueueUnstaffed {
        // Only a window opening (or the line emptying) ends it: no hysteresis on a count
        // that nobody is bringing down.
        return r.value == 0 || r.threshold == 0;
    }
    if r.threshold == 0 {
        return true;
    }
    match r.kind {
        AlertKind::QueueWaiting | AlertKind::QueueWait => {
            u64::from(r.value) * 100 <= u64::from(r.threshold) * u64::from(CLEAR_PERCENT)
        }
        // A window's state is yes or no: it clears when the window leaves that state.
        // (A printer alert has no reading: only its printer's report clears it.)
        AlertKind::WindowPaused | AlertKind::WindowIdle | AlertKind::Printer | AlertKind::QueueUnstaffed => {
            r.value == 0
        }
    }
}

/// Whole minutes from `since` to `now`.
fn minutes(now: Ts, since: Ts) -> u32 {
    u32::try_from(now.since_ms(since) / 60_000).unwrap_or(u32::MAX)
}

/// Minutes the oldest ticket in `queue`'s line has waited at `now`; 0 when none waits.
pub fn oldest_wait_min(state: &crate::HallState, queue: &QueueId, now: Ts) -> u32 {
    state.index.oldest_queued_at(queue).map_or(0, |t| minutes(now, t))
}

/// Tickets waiting that window `w` could call: in its queues' lines or sent to it.
pub fn waiting_for(state: &crate::HallState, w: &Window) -> usize {
    w.queues.iter().map(|q| state.index.queue_len(q)).sum::<usize>() + state.index.window_len(&w.id)
}

/// Whether some window that serves `queue` (its queues as an admin last set them) is open
/// now: open, calling or serving. A paused window calls nobody until its clerk resumes.
pub fn staffed(state: &crate::HallState, queue: &QueueId) -> bool {
    let Some(mask) = state.serving.get(queue) else { return false };
    state.windows.values().zip(mask).any(|(w, serves)| *serves && crate::forecast::serves_now(w))
}

/// Tickets of `queue`'s shared line, a queue no open window serves, that no open window
/// may call either: all of them but the booked ones whose service's own queue has an open
/// window, which calls them from their slot's start (`dispatch::due_queues`, the rule the
/// dispatch itself files them by). A scan of the queue's booked tickets, only while the
/// queue has no open window.
fn uncallable(state: &crate::HallState, queue: &QueueId) -> usize {
    let elsewhere = state
        .index
        .due_under(queue)
        .filter_map(|id| state.tickets.get(&id))
        .filter(|t| t.queue == *queue && t.target_window.is_none())
        .filter(|t| due_queues(&state.setup, t).iter().any(|q| staffed(state, q)))
        .count();
    state.index.queue_len(queue).saturating_sub(elsewhere)
}

/// Every condition's value now, queues first, then windows, each in id order.
fn readings(state: &crate::HallState, now: Ts) -> Vec<Reading> {
    let policy = &state.setup.alerts;
    let mut out = Vec::new();
    for q in &state.setup.queues {
        let th = policy.queue(&q.id);
        let subject = Subject::Queue(q.id);
        let waiting = u32::try_from(state.waiting(&q.id)).unwrap_or(u32::MAX);
        out.push(Reading { kind: AlertKind::QueueWaiting, subject, value: waiting, threshold: th.waiting });
        let wait = oldest_wait_min(state, &q.id, now);
        out.push(Reading { kind: AlertKind::QueueWait, subject, value: wait, threshold: th.wait_min });
        let unstaffed = if staffed(state, &q.id) { 0 } else { uncallable(state, &q.id) };
        let value = u32::try_from(unstaffed).unwrap_or(u32::MAX);
        out.push(Reading { kind: AlertKind::QueueUnstaffed, subject, value, threshold: policy.unstaffed });
    }
    for w in state.windows.values() {
        let subject = Subject::Window(w.id);
        let since = state.alerts.since.get(&w.id).filter(|(s, _)| *s == w.state).map(|(_, t)| *t);
        let paused = match (w.state, since) {
            (WindowState::Paused, Some(t)) => minutes(now, t),
            _ => 0,
        };
        out.push(Reading { kind: AlertKind::WindowPaused, subject, value: paused, threshold: policy.paused_min });
        let idle = match (w.state, since) {
            (WindowState::Open, Some(t)) if waiting_for(state, w) > 0 => minutes(now, t),
            _ => 0,
        };
        out.push(Reading { kind: AlertKind::WindowIdle, subject, value: idle, threshold: policy.idle_min });
    }
    out
}
