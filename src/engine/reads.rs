//! Reads of the hall's state, run on the engine against the live state: the views callers
//! see (a ticket with its place in line, a window with its tickets, a booking with its
//! status) and the questions the HTTP edge asks. A read is a closure the engine calls
//! between batches (`EngineHandle::read`), so the compiler checks what it returns; every
//! one here is cheap and does no I/O, since reads take their turn on the single writer.

use chrono::{NaiveDate, NaiveTime};

use crate::core::alerts::Alert;
use crate::core::appointments::{self, Appointment, AppointmentState};
use crate::core::eta::{eta, Eta};
use crate::core::model::{Ticket, TicketId, TicketNo, Ts, UserName, Window, WindowId, WindowState};
use crate::core::overview::{overview, Overview};
use crate::core::rating::{Case, CaseStatus};
use crate::core::stats::DayStats;
use crate::core::{HallState, Rejection};

/// Most cases one listing returns (newest first): a page, not an export.
pub const CASES_LISTED_MAX: usize = 500;

/// Bad-rating cases as of `today` (which decides which are overdue).
#[derive(Clone, Debug)]
pub struct CasesView {
    pub today: NaiveDate,
    pub cases: Vec<Case>,
}

/// A booking as a caller sees it: its status now, and the ticket it became.
#[derive(Clone, Debug)]
pub struct AppointmentView {
    pub appointment: Appointment,
    pub status: &'static str,
    pub ticket: Option<TicketView>,
}

/// A ticket as a caller sees it: the ticket and, while it waits, its place in line.
#[derive(Clone, Debug)]
pub struct TicketView {
    pub ticket: Ticket,
    pub eta: Option<Eta>,
    /// The 办不成事 case the ticket opened today, if its clerk could not finish it.
    pub escalation: Option<crate::core::escalation::Escalation>,
    /// 助企服务: an enterprise's ticket, with the line it was sent to at issue.
    pub enterprise: Option<crate::core::enterprise::Tagged>,
    /// 跨中心转办 (issue 18): where a referred ticket went, or where a ticket taken in came
    /// from.
    pub referral: Option<Referral>,
}

/// A ticket's referral between halls.
#[derive(Clone, Debug)]
pub enum Referral {
    Sent(crate::core::referral::Sent),
    Taken(crate::core::referral::Origin),
}

/// A window as a caller sees it, with the number of the ticket it holds.
#[derive(Clone, Debug)]
pub struct WindowView {
    pub window: Window,
    pub number: Option<TicketNo>,
    /// The ticket the window holds, in full.
    pub ticket: Option<TicketView>,
    /// The tickets parked at the window, in the order they were parked.
    pub parked: Vec<TicketView>,
}

/// The live state as a read sees it, with the engine's clock read once for the read.
pub struct Reads<'a> {
    state: &'a HallState,
    /// The engine's clock when the read ran.
    clock: Ts,
}

impl<'a> Reads<'a> {
    pub(super) fn new(state: &'a HallState, clock: Ts) -> Self {
        Self { state, clock }
    }

    /// The whole state, for a read this module does not offer. Keep it cheap.
    pub fn state(&self) -> &HallState {
        self.state
    }

    /// Now, never before the last record's time.
    pub fn now(&self) -> Ts {
        self.state.last_at.max(self.clock)
    }

    /// The service day of the engine's clock (never before the last record's).
    pub fn today(&self) -> NaiveDate {
        self.state.setup.day_of(self.now())
    }

    /// `day`, or the state's service day (the clock's, before the hall's first day).
    fn day_or_current(&self, day: Option<NaiveDate>) -> NaiveDate {
        day.or(self.state.day).unwrap_or_else(|| self.state.setup.day_of(self.clock))
    }

    pub fn ticket(&self, id: &TicketId) -> Option<TicketView> {
        let ticket = self.state.ticket(id)?;
        let escalation = self.state.escalations.of_ticket(id).cloned();
        let enterprise = self.state.enterprises.tickets.get(id).cloned();
        let referrals = &self.state.referrals;
        let referral = match (referrals.sent.get(id), referrals.received.get(id)) {
            (Some(s), _) => Some(Referral::Sent(s.clone())),
            (None, Some(o)) => Some(Referral::Taken(o.clone())),
            (None, None) => None,
        };
        let eta = eta(self.state, ticket);
        Some(TicketView { ticket: ticket.clone(), eta, escalation, enterprise, referral })
    }

    /// A ticket, or the refusal that it is unknown (404).
    pub fn known_ticket(&self, id: &TicketId) -> Result<TicketView, Rejection> {
        self.ticket(id).ok_or(Rejection::UnknownTicket)
    }

    pub fn window(&self, id: &WindowId) -> Option<WindowView> {
        let window = self.state.window(id)?.clone();
        let ticket = window.ticket.as_ref().and_then(|t| self.ticket(t));
        let number = ticket.as_ref().map(|t| t.ticket.number.clone());
        let parked = window.parked.iter().filter_map(|t| self.ticket(t)).collect();
        Some(WindowView { window, number, ticket, parked })
    }

    /// A window, or the refusal that it is unknown (404).
    pub fn known_window(&self, id: &WindowId) -> Result<WindowView, Rejection> {
        self.window(id).ok_or_else(|| Rejection::UnknownWindow(id.to_string()))
    }

    /// Every window, in hall.toml's order (1, 2, … 10), not the ids' string order.
    pub fn windows(&self) -> Vec<WindowView> {
        self.state.setup.windows.iter().filter_map(|d| self.window(&d.id)).collect()
    }

    /// The window `user` is signed in at and left open, if any (the first in hall.toml's
    /// order).
    pub fn open_window_of(&self, user: &UserName) -> Option<WindowId> {
        let state = self.state;
        let mut windows = state.setup.windows.iter().filter_map(|d| state.window(&d.id));
        windows.find(|w| w.clerk.as_ref() == Some(user) && w.state != WindowState::Closed).map(|w| w.id)
    }

    pub fn appointment(&self, code: &str) -> Option<AppointmentView> {
        let a = self.state.appointments.by_code.get(code)?;
        let policy = self.state.setup.appointments.as_ref()?;
        let status = a.status(&self.state.setup, policy, self.now());
        let ticket = match &a.state {
            AppointmentState::CheckedIn { ticket, .. } => self.ticket(ticket),
            AppointmentState::Booked | AppointmentState::Cancelled => None,
        };
        Some(AppointmentView { appointment: a.clone(), status, ticket })
    }

    /// A booking, or the refusal that it is unknown (404).
    pub fn known_appointment(&self, code: &str) -> Result<AppointmentView, Rejection> {
        self.appointment(code).ok_or(Rejection::UnknownAppointment)
    }

    /// (slot start, places left) for each slot of `day`; none left in a slot begun.
    pub fn slots(&self, day: NaiveDate) -> Result<Vec<(NaiveTime, u32)>, Rejection> {
        let setup = &self.state.setup;
        let policy = setup.appointments.as_ref().ok_or(Rejection::NoAppointments)?;
        let now = self.now();
        let book = &self.state.appointments;
        let free = appointments::slots(setup, policy)
            .into_iter()
            .map(|slot| {
                let past = appointments::local_ts(setup, day, slot) <= now;
                let left = policy.quota.saturating_sub(book.taken(setup, policy, day, slot, now));
                (slot, if past { 0 } else { left })
            })
            .collect();
        Ok(free)
    }

    /// The figures of `day` (`None`: today) and the day they are of.
    pub fn stats(&self, day: Option<NaiveDate>) -> (NaiveDate, DayStats) {
        let day = self.day_or_current(day);
        (day, self.state.stats.get(&day).cloned().unwrap_or_default())
    }

    /// A day's supervision alerts (`None`: today), only the active ones when `active`.
    pub fn alerts(&self, day: Option<NaiveDate>, active: bool) -> (NaiveDate, Vec<Alert>) {
        let day = self.day_or_current(day);
        let list = self.state.alerts.of_day(Some(day)).iter().filter(|a| !active || a.is_active());
        (day, list.cloned().collect())
    }

    pub fn alert(&self, id: u64) -> Option<Alert> {
        self.state.alerts.get(id).cloned()
    }

    /// The supervisor's overview: queues, windows, active alerts.
    pub fn overview(&self) -> Overview {
        overview(self.state, self.now())
    }

    /// The staff state: users an admin disabled or added, passwords an admin set.
    pub fn staff(&self) -> crate::core::staff::Staff {
        self.state.staff.clone()
    }

    /// The ticket a window's evaluator should ask about now, if any.
    pub fn rateable(&self, window: &WindowId) -> Result<Option<TicketView>, Rejection> {
        self.state.window(window).ok_or_else(|| Rejection::UnknownWindow(window.to_string()))?;
        let id = self.state.ratings.rateable(self.state, window, self.now());
        Ok(id.and_then(|id| self.ticket(&id)))
    }

    /// Bad-rating cases: with a status (any when `None`), rated on a day (any when `None`).
    pub fn cases(&self, status: Option<CaseStatus>, day: Option<NaiveDate>) -> CasesView {
        let today = self.today();
        CasesView { today, cases: self.state.ratings.list(today, status, day, CASES_LISTED_MAX) }
    }

    /// One case, as a listing of it alone.
    pub fn case(&self, id: &str) -> CasesView {
        CasesView { today: self.today(), cases: self.state.ratings.cases.get(id).cloned().into_iter().collect() }
    }
}
