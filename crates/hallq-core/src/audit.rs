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
    /// the day, in order, from the day's first. One arm per event, each a call.
    pub fn observe(&mut self, setup: &Setup, seq: u64, record: &Record) -> Option<AuditEntry> {
        let at = Stamp { seq, at: record.at };
        match &record.event {
            Event::DayOpened { expired, .. } => self.day_opened(at, expired.len()),
            Event::TicketIssued { id, queue, n, .. } => self.issued(setup, id, queue, *n),
            Event::UserLoggedIn { name } => at.by(name, AuditAction::Login, AuditDetail::None),
            Event::UserLoggedOut { name } => at.by(name, AuditAction::Logout, AuditDetail::None),
            Event::UserDisabled { name, by } => at.by(by, AuditAction::DisableUser, AuditDetail::User(name.clone())),
            Event::UserEnabled { name, by } => at.by(by, AuditAction::EnableUser, AuditDetail::User(name.clone())),
            Event::UserAdded { name, by, .. } => at.by(by, AuditAction::AddUser, AuditDetail::User(name.clone())),
            Event::PasswordReset { name, by, .. } => {
                at.by(by, AuditAction::ResetPassword, AuditDetail::User(name.clone()))
            }
            Event::WindowOpened { window, clerk } => self.window_opened(at, window, clerk),
            Event::WindowClosed { window } => {
                let clerk = self.at_window.remove(window);
                at.entry(clerk, AuditAction::Close, Some(*window), AuditDetail::None)
            }
            Event::TicketCalled { window, id, rule } => self.at(window, id, call_action(rule), AuditDetail::Rule(rule.clone()), at),
            Event::TicketRecalled { window, id } => self.at(window, id, AuditAction::Recall, AuditDetail::None, at),
            Event::TicketServing { window, id } => self.at(window, id, AuditAction::Serve, AuditDetail::None, at),
            Event::TicketDone { window, id, outcome } => {
                self.at(window, id, AuditAction::Done, AuditDetail::Outcome(*outcome), at)
            }
            Event::TicketStepDone { window, id } => self.at(window, id, AuditAction::StepDone, AuditDetail::None, at),
            Event::TicketNoShow { window, id } => self.at(window, id, AuditAction::NoShow, AuditDetail::None, at),
            Event::TicketParked { window, id } => self.at(window, id, AuditAction::Park, AuditDetail::None, at),
            Event::TicketTransferred { window, id, to } => {
                self.at(window, id, AuditAction::Transfer, AuditDetail::Transfer(to.clone()), at)
            }
            Event::WindowPaused { window } => self.at_window_of(at, window, AuditAction::Pause),
            Event::WindowResumed { window } => self.at_window_of(at, window, AuditAction::Resume),
            Event::WindowQueuesSet { window, queues, by } => {
                at.entry(Some(by.clone()), AuditAction::SetQueues, Some(*window), AuditDetail::Queues(queues.clone()))
            }
            Event::WindowForceClosed { window, by } => self.force_closed(at, window, by),
            Event::CaseCallback { case, by, reached, .. } => {
                at.by(by, AuditAction::CaseCallback, AuditDetail::Case(case.clone(), Some(*reached)))
            }
            Event::CaseRectified { case, by, .. } => {
                at.by(by, AuditAction::CaseRectified, AuditDetail::Case(case.clone(), None))
            }
            Event::AlertAcknowledged { id, by } => at.by(by, AuditAction::AlertAck, AuditDetail::Alert(*id)),
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

    /// A new day: nobody is signed in anywhere, and numbers start again.
    fn day_opened(&mut self, at: Stamp, expired: usize) -> Option<AuditEntry> {
        self.at_window.clear();
        self.numbers.clear();
        at.entry(None, AuditAction::DayOpened, None, AuditDetail::Expired(expired))
    }

    /// Not an entry: the ticket's number, for the entries that name it.
    fn issued(&mut self, setup: &Setup, id: &TicketId, queue: &QueueId, n: u32) -> Option<AuditEntry> {
        // The same prefix rule as `HallState::issue`.
        let prefix = setup.queue(queue).and_then(|q| Prefix::parse(&q.prefix).ok());
        let prefix = prefix.unwrap_or_else(|| Prefix::from(*queue));
        self.numbers.insert(*id, TicketNo { prefix, n });
        None
    }

    fn window_opened(&mut self, at: Stamp, window: &WindowId, clerk: &UserName) -> Option<AuditEntry> {
        self.at_window.insert(*window, clerk.clone());
        at.entry(Some(clerk.clone()), AuditAction::Open, Some(*window), AuditDetail::None)
    }

    /// A window's own action (pause, resume), by the clerk signed in there.
    fn at_window_of(&self, at: Stamp, window: &WindowId, action: AuditAction) -> Option<AuditEntry> {
        at.entry(self.at_window.get(window).cloned(), action, Some(*window), AuditDetail::None)
    }

    /// An admin closed the window, naming the clerk who was signed in there.
    fn force_closed(&mut self, at: Stamp, window: &WindowId, by: &UserName) -> Option<AuditEntry> {
        let clerk = self.at_window.remove(window);
        let detail = clerk.map_or(AuditDetail::None, AuditDetail::User);
        at.entry(Some(by.clone()), AuditAction::ForceClose, Some(*window), detail)
    }

    /// An action on ticket `id` at `window`, by the clerk signed in there.
    fn at(
        &self,
        window: &WindowId,
        id: &TicketId,
        action: AuditAction,
        detail: AuditDetail,
        Stamp { seq, at }: Stamp,
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

/// Where in the log and when a record is: what every entry of it carries.
#[derive(Clone, Copy)]
struct Stamp {
    seq: u64,
    at: Ts,
}

impl Stamp {
    /// An entry of no ticket.
    fn entry(
        self,
        user: Option<UserName>,
        action: AuditAction,
        window: Option<WindowId>,
        detail: AuditDetail,
    ) -> Option<AuditEntry> {
        Some(AuditEntry { seq: self.seq, at: self.at, user, action, window, ticket: None, detail })
    }

    /// An entry of no ticket or window, by `user`.
    fn by(self, user: &UserName, action: AuditAction, detail: AuditDetail) -> Option<AuditEntry> {
        self.entry(Some(user.clone()), action, None, detail)
    }
}

/// A call's action: by number, a parked ticket resumed, or any of the dispatch's rules.
fn call_action(rule: &CallRule) -> AuditAction {
    match rule {
        CallRule::ByNumber { .. } => AuditAction::CallNumber,
        CallRule::Unparked => AuditAction::Unpark,
        CallRule::TransferredHere
        | CallRule::Aged { .. }
        | CallRule::Priority { .. }
        | CallRule::OrdinaryTurn { .. }
        | CallRule::EarliestIssued
        | CallRule::AppointmentDue { .. }
        | CallRule::Preferred { .. } => AuditAction::Call,
    }
}
