//! The audit trail: who did what, when, at which window and to which ticket number,
//! derived from the log's records of one service day.
//!
//! Window events name no user, and need not: `decide` lets only the clerk signed in at a
//! window act there, so the clerk of that window's latest `WindowOpened` is exactly who
//! acted. The trail follows sign-ins as it reads, so a window that changes hands mid-day
//! (one clerk closes it, another opens it) has each action attributed to the right
//! person. A day's records begin with its `DayOpened`, which signs everyone out, so
//! reading a day from its first record is enough. Admin actions name their admin in the
//! event (`by`).
//!
//! Visitors' and kiosks' doings (issue, cancel, rating, rejoin, check-in, bookings) are
//! not staff actions and stay out of the trail; the trail carries ticket numbers, never
//! ticket ids.

use std::collections::{BTreeMap, HashMap};

use super::event::{Event, Record};
use super::model::{CallRule, Outcome, Prefix, QueueId, TicketId, TicketNo, TransferTarget, Ts, UserName, WindowId};
use super::setup::Setup;

/// What a staff member (or the hall itself) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// The service day opened: unfinished tickets expired, everyone signed out.
    DayOpened,
    Login,
    Logout,
    Open,
    /// `next`: dispatch chose the ticket.
    Call,
    /// A ticket called by its number, out of order, with a reason.
    CallNumber,
    Unpark,
    Recall,
    Serve,
    Done,
    /// One step of a bundle done; the ticket went on to its next step's queue.
    StepDone,
    NoShow,
    Transfer,
    Park,
    Pause,
    Resume,
    Close,
    DisableUser,
    EnableUser,
    /// An admin added a user.
    AddUser,
    /// An admin gave a user a new password.
    ResetPassword,
    /// An admin set the queues a window serves.
    SetQueues,
    /// An admin closed a window its clerk left open.
    ForceClose,
    /// A supervisor recorded a call-back of a bad-rating case (回访).
    CaseCallback,
    /// A supervisor recorded a case's rectification (整改), closing it.
    CaseRectified,
    /// A supervisor acknowledged a supervision alert.
    AlertAck,
}

impl AuditAction {
    pub const ALL: [AuditAction; 26] = [
        AuditAction::DayOpened,
        AuditAction::Login,
        AuditAction::Logout,
        AuditAction::Open,
        AuditAction::Call,
        AuditAction::CallNumber,
        AuditAction::Unpark,
        AuditAction::Recall,
        AuditAction::Serve,
        AuditAction::Done,
        AuditAction::StepDone,
        AuditAction::NoShow,
        AuditAction::Transfer,
        AuditAction::Park,
        AuditAction::Pause,
        AuditAction::Resume,
        AuditAction::Close,
        AuditAction::DisableUser,
        AuditAction::EnableUser,
        AuditAction::AddUser,
        AuditAction::ResetPassword,
        AuditAction::SetQueues,
        AuditAction::ForceClose,
        AuditAction::CaseCallback,
        AuditAction::CaseRectified,
        AuditAction::AlertAck,
    ];

    /// The stable snake_case code (the API's `action`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::DayOpened => "day_opened",
            AuditAction::Login => "login",
            AuditAction::Logout => "logout",
            AuditAction::Open => "open",
            AuditAction::Call => "call",
            AuditAction::CallNumber => "call_number",
            AuditAction::Unpark => "unpark",
            AuditAction::Recall => "recall",
            AuditAction::Serve => "serve",
            AuditAction::Done => "done",
            AuditAction::StepDone => "step_done",
            AuditAction::NoShow => "no_show",
            AuditAction::Transfer => "transfer",
            AuditAction::Park => "park",
            AuditAction::Pause => "pause",
            AuditAction::Resume => "resume",
            AuditAction::Close => "close",
            AuditAction::DisableUser => "disable_user",
            AuditAction::EnableUser => "enable_user",
            AuditAction::AddUser => "add_user",
            AuditAction::ResetPassword => "reset_password",
            AuditAction::SetQueues => "set_queues",
            AuditAction::ForceClose => "force_close",
            AuditAction::CaseCallback => "case_callback",
            AuditAction::CaseRectified => "case_rectified",
            AuditAction::AlertAck => "alert_ack",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// What more there is to say about an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditDetail {
    None,
    /// How many unfinished tickets a new day expired.
    Expired(usize),
    Rule(CallRule),
    Outcome(Outcome),
    Transfer(TransferTarget),
    /// The user an admin disabled or enabled.
    User(UserName),
    /// The queues an admin set a window to serve.
    Queues(Vec<QueueId>),
    /// A bad-rating case, and whether the call-back reached the visitor (`None` for a
    /// rectification). The notes stay with the case.
    Case(String, Option<bool>),
    /// A supervision alert, by its id.
    Alert(u64),
}

/// One line of the trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// The log position of the record.
    pub seq: u64,
    pub at: Ts,
    /// Who acted; `None` for the hall itself, or a window action whose sign-in is not in
    /// the records read (pruned past the retention).
    pub user: Option<UserName>,
    pub action: AuditAction,
    pub window: Option<WindowId>,
    /// The ticket's public number (never its id); `None` when not known.
    pub ticket: Option<TicketNo>,
    pub detail: AuditDetail,
}

/// Reads records in log order and says which are staff actions, by whom.
#[derive(Debug, Default)]
pub struct AuditTrail {
    /// Who is signed in at each open window.
    at_window: BTreeMap<WindowId, UserName>,
    /// Today's ticket numbers, by id.
    numbers: HashMap<TicketId, TicketNo>,
}

impl AuditTrail {
    /// The audit entry of `record`, if it is a staff action. Call it for every record of
    /// the day, in order, from the day's first.
    pub fn observe(&mut self, setup: &Setup, seq: u64, record: &Record) -> Option<AuditEntry> {
        let entry = |user: Option<UserName>, action, window: Option<WindowId>, ticket: Option<TicketNo>, detail| {
            Some(AuditEntry { seq, at: record.at, user, action, window, ticket, detail })
        };
        match &record.event {
            Event::DayOpened { expired, .. } => {
                self.at_window.clear();
                self.numbers.clear();
                entry(None, AuditAction::DayOpened, None, None, AuditDetail::Expired(expired.len()))
            }
            Event::TicketIssued { id, queue, n, .. } => {
                // The same prefix rule as `HallState::issue`.
                let prefix = setup.queue(queue).and_then(|q| Prefix::parse(&q.prefix).ok());
                let prefix = prefix.unwrap_or_else(|| Prefix::from(*queue));
                self.numbers.insert(*id, TicketNo { prefix, n: *n });
                None
            }
            Event::UserLoggedIn { name } => {
                entry(Some(name.clone()), AuditAction::Login, None, None, AuditDetail::None)
            }
            Event::UserLoggedOut { name } => {
                entry(Some(name.clone()), AuditAction::Logout, None, None, AuditDetail::None)
            }
            Event::UserDisabled { name, by } => {
                entry(Some(by.clone()), AuditAction::DisableUser, None, None, AuditDetail::User(name.clone()))
            }
            Event::UserEnabled { name, by } => {
                entry(Some(by.clone()), AuditAction::EnableUser, None, None, AuditDetail::User(name.clone()))
            }
            Event::UserAdded { name, by, .. } => {
                entry(Some(by.clone()), AuditAction::AddUser, None, None, AuditDetail::User(name.clone()))
            }
            Event::PasswordReset { name, by, .. } => {
                entry(Some(by.clone()), AuditAction::ResetPassword, None, None, AuditDetail::User(name.clone()))
            }
            Event::WindowOpened { window, clerk } => {
                self.at_window.insert(*window, clerk.clone());
                entry(Some(clerk.clone()), AuditAction::Open, Some(*window), None, AuditDetail::None)
            }
            Event::WindowClosed { window } => {
                let clerk = self.at_window.remove(window);
                entry(clerk, AuditAction::Close, Some(*window), None, AuditDetail::None)
            }
            Event::TicketCalled { window, id, rule } => {
                let action = match rule {
                    CallRule::ByNumber { .. } => AuditAction::CallNumber,
                    CallRule::Unparked => AuditAction::Unpark,
                    CallRule::TransferredHere
                    | CallRule::Aged { .. }
                    | CallRule::Priority { .. }
                    | CallRule::OrdinaryTurn { .. }
                    | CallRule::EarliestIssued
                    | CallRule::AppointmentDue { .. }
                    | CallRule::Preferred { .. } => AuditAction::Call,
                };
                self.at(window, id, action, AuditDetail::Rule(rule.clone()), seq, record.at)
            }
            Event::TicketRecalled { window, id } => {
                self.at(window, id, AuditAction::Recall, AuditDetail::None, seq, record.at)
            }
            Event::TicketServing { window, id } => {
                self.at(window, id, AuditAction::Serve, AuditDetail::None, seq, record.at)
            }
            Event::TicketDone { window, id, outcome } => {
                self.at(window, id, AuditAction::Done, AuditDetail::Outcome(*outcome), seq, record.at)
            }
            Event::TicketStepDone { window, id } => {
                self.at(window, id, AuditAction::StepDone, AuditDetail::None, seq, record.at)
            }
            Event::TicketNoShow { window, id } => {
                self.at(window, id, AuditAction::NoShow, AuditDetail::None, seq, record.at)
            }
            Event::TicketParked { window, id } => {
                self.at(window, id, AuditAction::Park, AuditDetail::None, seq, record.at)
            }
            Event::TicketTransferred { window, id, to } => {
                self.at(window, id, AuditAction::Transfer, AuditDetail::Transfer(to.clone()), seq, record.at)
            }
            Event::WindowPaused { window } => {
                entry(self.at_window.get(window).cloned(), AuditAction::Pause, Some(*window), None, AuditDetail::None)
            }
            Event::WindowResumed { window } => {
                entry(self.at_window.get(window).cloned(), AuditAction::Resume, Some(*window), None, AuditDetail::None)
            }
            Event::WindowQueuesSet { window, queues, by } => entry(
                Some(by.clone()),
                AuditAction::SetQueues,
                Some(*window),
                None,
                AuditDetail::Queues(queues.clone()),
            ),
            Event::WindowForceClosed { window, by } => {
                let clerk = self.at_window.remove(window);
                entry(
                    Some(by.clone()),
                    AuditAction::ForceClose,
                    Some(*window),
                    None,
                    clerk.map_or(AuditDetail::None, AuditDetail::User),
                )
            }
            Event::CaseCallback { case, by, reached, .. } => entry(
                Some(by.clone()),
                AuditAction::CaseCallback,
                None,
                None,
                AuditDetail::Case(case.clone(), Some(*reached)),
            ),
            Event::CaseRectified { case, by, .. } => {
                entry(Some(by.clone()), AuditAction::CaseRectified, None, None, AuditDetail::Case(case.clone(), None))
            }
            Event::AlertAcknowledged { id, by } => {
                entry(Some(by.clone()), AuditAction::AlertAck, None, None, AuditDetail::Alert(*id))
            }
            // The hall's own doing, not a person's: the alert list keeps them.
            Event::AlertRaised { .. } | Event::AlertCleared { .. } => None,
            Event::TicketCheckedIn { .. }
            | Event::AppointmentBooked { .. }
            | Event::AppointmentCancelled { .. }
            | Event::AppointmentCheckedIn { .. }
            | Event::TicketCancelled { .. }
            | Event::TicketRated { .. }
            | Event::TicketRejoined { .. }
            // Part of a close, a force-close or a disable, whose own entry names who did it.
            | Event::TicketReturned { .. }
            | Event::NoChange
            | Event::NumbersRaised { .. } => None,
        }
    }

    /// An action on ticket `id` at `window`, by the clerk signed in there.
    fn at(
        &self,
        window: &WindowId,
        id: &TicketId,
        action: AuditAction,
        detail: AuditDetail,
        seq: u64,
        at: Ts,
    ) -> Option<AuditEntry> {
        Some(AuditEntry {
            seq,
            at,
            user: self.at_window.get(window).cloned(),
            action,
            window: Some(*window),
            ticket: self.numbers.get(id).cloned(),
            detail,
        })
    }
}
