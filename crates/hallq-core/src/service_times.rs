//! What the expected wait needs beyond the dispatch index: each of today's tickets'
//! expected counter minutes (from its items; for a bundle, its current step's summed), the sums of those
//! minutes over the tickets waiting in each line, and the service times measured so far
//! today, per queue, as a moving average against what the tickets' items expected.
//!
//! Kept in the state and changed only through `observe`, which `apply` calls with every
//! record before applying it; so it is a projection of the log like the rest of the
//! state, and reading it is a few map look-ups, never a scan of the tickets. A new service
//! day starts it afresh: yesterday's clerks and visitors say little about today's.

use std::collections::BTreeMap;

use super::event::Event;
use super::model::{CallRule, QueueId, Ticket, TicketId, TransferTarget, Ts, WindowId};
use super::setup::Setup;

/// Weight of the newest service in the moving average, once a queue has measured more
/// than its inverse (until then every service weighs the same: a plain mean). One in
/// fifty: service times vary about as much as their mean, so averaging fewer would swing
/// a long line's estimate by a quarter from one service to the next (the simulator's
/// expected-wait error grew with one in ten); fifty services of a busy pooled queue are
/// about half an hour, so a slow spell still shows within the hour.
pub const MOVING_AVERAGE_WEIGHT: f64 = 0.02;
/// How many measured services the configured minutes weigh as, in the blend of the two.
/// The first few services of a day are as likely to be the odd long case as the rule, so
/// one of them should not swing every visitor's estimate; after twenty the measurement
/// carries four fifths of the weight.
pub const CONFIGURED_WEIGHT_SERVICES: f64 = 5.0;
/// Bounds of the measured-to-expected ratio: a clock jump or a window left serving over
/// lunch must not tell visitors a wait of days.
pub const RATIO_MIN: f64 = 0.25;
pub const RATIO_MAX: f64 = 4.0;
/// Minutes assumed for a ticket whose items the configuration no longer knows.
pub use super::setup::UNKNOWN_ITEM_MINUTES as UNKNOWN_TICKET_MINUTES;
use super::setup::UNKNOWN_ITEM_MINUTES;

/// Waiting tickets of one line and the sum of their expected minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Line {
    pub count: u64,
    pub minutes: u64,
}

impl Line {
    fn add(&mut self, minutes: u32) {
        self.count += 1;
        self.minutes += u64::from(minutes);
    }

    fn remove(&mut self, minutes: u32) {
        self.count = self.count.saturating_sub(1);
        self.minutes = self.minutes.saturating_sub(u64::from(minutes));
    }
}

/// Moving averages of one queue's service times and of what their items expected.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Measured {
    services: u64,
    actual_ms: f64,
    expected_ms: f64,
}

/// Today's expected and measured counter minutes (see the module doc).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceTimes {
    /// Waiting tickets in each queue's shared line.
    lines: BTreeMap<QueueId, Line>,
    /// Waiting tickets sent to one window by name.
    sent: BTreeMap<WindowId, Line>,
    measured: BTreeMap<QueueId, Measured>,
}

impl ServiceTimes {
    /// Takes note of one record's event, before `apply` changes `tickets` for it.
    pub fn observe(&mut self, setup: &Setup, tickets: &BTreeMap<TicketId, Ticket>, at: Ts, event: &Event) {
        match event {
            Event::DayOpened { .. } => *self = Self::default(),
            Event::TicketIssued { queue, services, steps, .. } => {
                // A bundle ticket waits for one step at a time: its first step's items.
                let minutes = setup.expected_minutes(steps.first().map_or(services, |s| &s.services));
                self.lines.entry(*queue).or_default().add(minutes);
            }
            // A parked ticket called back was in no line.
            Event::TicketCalled { rule: CallRule::Unparked, .. } => {}
            Event::TicketCalled { id, .. } | Event::TicketCancelled { id } => {
                if let Some(t) = tickets.get(id) {
                    let minutes = t.minutes;
                    let line = match &t.target_window {
                        Some(w) => self.sent.get_mut(w),
                        None => self.lines.get_mut(&t.queue),
                    };
                    if let Some(line) = line {
                        line.remove(minutes);
                    }
                }
            }
            Event::TicketTransferred { id, to, .. } => {
                let minutes = tickets.get(id).map_or(UNKNOWN_ITEM_MINUTES, |t| t.minutes);
                match to {
                    TransferTarget::Queue(q) => self.lines.entry(*q).or_default().add(minutes),
                    TransferTarget::Window(w) => self.sent.entry(*w).or_default().add(minutes),
                }
            }
            Event::TicketReturned { id, window, queue } => {
                if let Some(t) = tickets.get(id) {
                    self.returned(t, window.is_some(), queue);
                }
            }
            Event::TicketDone { id, .. } => self.measure_service(tickets, at, id),
            Event::TicketStepDone { id, .. } => {
                self.measure_service(tickets, at, id);
                let next = tickets.get(id).and_then(|t| t.steps.get(t.step + 1));
                if let Some(step) = next {
                    let minutes = setup.expected_minutes(&step.services);
                    self.lines.entry(step.queue).or_default().add(minutes);
                }
            }
            Event::TicketRejoined { id } => {
                if let Some(t) = tickets.get(id) {
                    self.lines.entry(t.queue).or_default().add(t.minutes);
                }
            }
            Event::TicketRated { .. }
            | Event::WindowOpened { .. }
            | Event::TicketRecalled { .. }
            | Event::TicketServing { .. }
            | Event::TicketNoShow { .. }
            | Event::TicketParked { .. }
            | Event::TicketCheckedIn { .. }
            | Event::AppointmentBooked { .. }
            | Event::AppointmentCancelled { .. }
            | Event::AppointmentCheckedIn { .. }
            | Event::WindowPaused { .. }
            | Event::WindowResumed { .. }
            | Event::WindowClosed { .. }
            | Event::NoChange
            | Event::NumbersRaised { .. }
            | Event::CaseCallback { .. }
            | Event::CaseRectified { .. } => {}
            Event::UserLoggedIn { .. }
            | Event::UserLoggedOut { .. }
            | Event::UserDisabled { .. }
            | Event::UserEnabled { .. }
            | Event::UserAdded { .. }
            | Event::PasswordReset { .. }
            | Event::WindowQueuesSet { .. }
            | Event::WindowForceClosed { .. } => {}
            Event::AlertRaised { .. } | Event::AlertCleared { .. } | Event::AlertAcknowledged { .. } => {}
        }
    }

    /// Ticket `t` (as it was) waits in `queue` again: out of the line it waited in, if
    /// any, and into `queue`'s shared line, or still its window's when only its queue
    /// changed (`untied` false).
    fn returned(&mut self, t: &Ticket, untied: bool, queue: &QueueId) {
        let sent = t.target_window.filter(|_| t.status == super::model::TicketStatus::Waiting);
        if t.status == super::model::TicketStatus::Waiting {
            let line = match &sent {
                Some(w) => self.sent.get_mut(w),
                None => self.lines.get_mut(&t.queue),
            };
            if let Some(line) = line {
                line.remove(t.minutes);
            }
        }
        match sent.filter(|_| !untied) {
            Some(w) => self.sent.entry(w).or_default().add(t.minutes),
            None => self.lines.entry(*queue).or_default().add(t.minutes),
        }
    }

    /// Measures the service of the ticket finishing now (at its current step).
    fn measure_service(&mut self, tickets: &BTreeMap<TicketId, Ticket>, at: Ts, id: &TicketId) {
        if let Some((t, since)) = tickets.get(id).and_then(|t| t.serving_at.map(|s| (t, s))) {
            let expected_ms = f64::from(t.minutes) * 60_000.0;
            self.measure(&t.queue, at.since_ms(since) as f64, expected_ms);
        }
    }

    /// The tickets waiting in `queue`'s shared line (not those sent to one window).
    pub fn line(&self, queue: &QueueId) -> Line {
        self.lines.get(queue).copied().unwrap_or_default()
    }

    /// The tickets waiting for window `w` by name.
    pub fn sent_to(&self, w: &WindowId) -> Line {
        self.sent.get(w).copied().unwrap_or_default()
    }

    /// How much longer than expected `queue`'s services take today: the moving averages'
    /// ratio, blended with 1 (the configured minutes) while few services are measured.
    /// A ratio of the averages rather than an average of ratios, so that a one-minute item
    /// that took ten does not outweigh a long one that ran a little over.
    pub fn factor(&self, queue: &QueueId) -> f64 {
        let Some(m) = self.measured.get(queue).filter(|m| m.services > 0 && m.expected_ms > 0.0) else {
            return 1.0;
        };
        let ratio = (m.actual_ms / m.expected_ms).clamp(RATIO_MIN, RATIO_MAX);
        let n = m.services as f64;
        (n * ratio + CONFIGURED_WEIGHT_SERVICES) / (n + CONFIGURED_WEIGHT_SERVICES)
    }

    /// Services measured today in `queue`.
    pub fn measured_services(&self, queue: &QueueId) -> u64 {
        self.measured.get(queue).map_or(0, |m| m.services)
    }

    fn measure(&mut self, queue: &QueueId, actual_ms: f64, expected_ms: f64) {
        let m = self.measured.entry(*queue).or_default();
        m.services += 1;
        let weight = (1.0 / m.services as f64).max(MOVING_AVERAGE_WEIGHT);
        m.actual_ms += weight * (actual_ms - m.actual_ms);
        m.expected_ms += weight * (expected_ms - m.expected_ms);
    }
}
