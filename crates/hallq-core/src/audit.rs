//! The audit trail: who did what, when, at which window and to which ticket number,
//! derived from the log's records of one service day.
//!
//! Window events name no user, and need not: `decide` lets only the clerk signed in at a
//! window act there, so the clerk of that window's latest `WindowOpened` is exactly who
//! acted. The trail reads the day with a `DayReader`, whose facts name that clerk (and the
//! ticket's number) as `apply` knows them, so a window that changes hands mid-day (one
//! clerk closes it, another opens it) has each action attributed to the right person. A
//! day's records begin with its `DayOpened`, which signs everyone out, so reading a day
//! from its first record is enough. Admin actions name their admin in the event (`by`).
//!
//! Visitors' and kiosks' doings (issue, cancel, rating, rejoin, check-in, bookings) are
//! not staff actions and stay out of the trail; the trail carries ticket numbers, never
//! ticket ids.

use std::sync::Arc;

use super::day_reader::DayReader;
use super::enterprise::EnterpriseId;
use super::event::{Event, Record};
use super::model::{CallRule, Outcome, QueueId, TicketNo, TransferTarget, Ts, UserName, WindowId};
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
    // 全程领办 (issue 17 §1).
    /// A guide issued a ticket for a visitor (assisted issuance).
    Assist,
    /// A guide took a ticket under escort.
    Escort,
    /// A guide let go of a ticket they escorted.
    ReleaseEscort,
    // Issue 17 §4, the clerk's moves.
    /// The clerk armed store-next at their window.
    StoreNextOn,
    /// The clerk disarmed it.
    StoreNextOff,
    /// The clerk issued a ticket to their own window for a walk-up (its call follows).
    WalkDirect,
    // 助企服务 (issue 17 §3).
    /// An admin added an enterprise to the registry.
    AddEnterprise,
    /// An admin named an enterprise's specialist.
    SetSpecialist,
    /// The specialist or a supervisor added a referral or milestone to an enterprise's log.
    FollowUp,
    // 跨中心转办 (issue 18).
    /// The clerk referred the window's ticket to another hall of the district.
    Refer,
}

impl AuditAction {
    pub const ALL: [AuditAction; 36] = [
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
        AuditAction::Assist,
        AuditAction::Escort,
        AuditAction::ReleaseEscort,
        AuditAction::StoreNextOn,
        AuditAction::StoreNextOff,
        AuditAction::WalkDirect,
        AuditAction::AddEnterprise,
        AuditAction::SetSpecialist,
        AuditAction::FollowUp,
        AuditAction::Refer,
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
            AuditAction::Assist => "assist",
            AuditAction::Escort => "escort",
            AuditAction::ReleaseEscort => "release_escort",
            AuditAction::StoreNextOn => "store_next_on",
            AuditAction::StoreNextOff => "store_next_off",
            AuditAction::WalkDirect => "walk_direct",
            AuditAction::AddEnterprise => "add_enterprise",
            AuditAction::SetSpecialist => "set_specialist",
            AuditAction::FollowUp => "follow_up",
            AuditAction::Refer => "refer",
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
    /// An enterprise (by id, never its credit code), and for a specialist named the user.
    Enterprise(EnterpriseId, Option<UserName>),
    /// A referral: the target hall's id and name, and the reason.
    Referral {
        hall: String,
        name: String,
        reason: String,
    },
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

/// Reads one day's records in log order and says which are staff actions, by whom.
pub struct AuditTrail {
    /// The day read so far: who sits at which window, which number each ticket has.
    reader: DayReader,
}

impl AuditTrail {
    pub fn new(setup: Arc<Setup>) -> Self {
        Self { reader: DayReader::new(setup) }
    }

    /// The audit entry of `record`, if it is a staff action. Call it for every record of
    /// the day, in order, from the day's first. Who acted at a window and the ticket's
    /// number come from the record's facts (`facts.rs`); admins name themselves (`by`).
    /// One arm per event, each a call.
    pub fn observe(&mut self, seq: u64, record: &Record) -> Option<AuditEntry> {
        let facts = self.reader.read(seq, record);
        let desk = facts.iter().find_map(|f| f.what.desk());
        let on = On {
            stamp: Stamp { seq, at: record.at },
            user: desk.and_then(|d| d.clerk.clone()),
            ticket: facts.iter().find_map(|f| f.what.ticket()).map(|t| t.number.clone()),
        };
        match &record.event {
            // An act named in the record itself: the day's opening, sign-ins, windows opened
            // and set by an admin, users, cases, alerts, enterprises.
            event @ (Event::UserLoggedIn { .. }
            | Event::UserLoggedOut { .. }
            | Event::UserDisabled { .. }
            | Event::UserEnabled { .. }
            | Event::UserAdded { .. }
            | Event::PasswordReset { .. }
            | Event::CaseCallback { .. }
            | Event::CaseRectified { .. }
            | Event::AlertAcknowledged { .. }
            | Event::EscalationCallback { .. }
            | Event::EscalationResolved { .. }
            | Event::EnterpriseAdded { .. }
            | Event::SpecialistSet { .. }
            | Event::FollowUpAdded { .. }
            | Event::DayOpened { .. }
            | Event::WindowOpened { .. }
            | Event::WindowQueuesSet { .. }
            | Event::WindowForceClosed { .. }) => office(on, event),
            Event::WindowClosed { window } => on.at(window, AuditAction::Close, AuditDetail::None),
            Event::TicketCalled { window, rule, .. } => on.at(window, call_action(rule), AuditDetail::Rule(rule.clone())),
            Event::TicketRecalled { window, .. } => on.at(window, AuditAction::Recall, AuditDetail::None),
            Event::TicketServing { window, .. } => on.at(window, AuditAction::Serve, AuditDetail::None),
            Event::TicketDone { window, outcome, .. } => on.at(window, AuditAction::Done, AuditDetail::Outcome(*outcome)),
            Event::TicketStepDone { window, .. } => on.at(window, AuditAction::StepDone, AuditDetail::None),
            Event::TicketNoShow { window, .. } => on.at(window, AuditAction::NoShow, AuditDetail::None),
            Event::TicketParked { window, .. } => on.at(window, AuditAction::Park, AuditDetail::None),
            Event::TicketTransferred { window, to, .. } => {
                on.at(window, AuditAction::Transfer, AuditDetail::Transfer(to.clone()))
            }
            Event::WindowPaused { window, .. } => on.at(window, AuditAction::Pause, AuditDetail::None),
            Event::WindowResumed { window } => on.at(window, AuditAction::Resume, AuditDetail::None),
            // 办不成事: a transfer to the escalation queue; its case's call-backs and end
            // are the case actions of an `E…` case.
            Event::TicketEscalated { window, case, .. } => {
                on.at(window, AuditAction::Transfer, AuditDetail::Transfer(TransferTarget::Queue(case.queue)))
            }
            Event::StoreNextSet { window, armed } => {
                let action = if *armed { AuditAction::StoreNextOn } else { AuditAction::StoreNextOff };
                on.at(window, action, AuditDetail::None)
            }
            Event::WalkDirect { window, .. } => on.at(window, AuditAction::WalkDirect, AuditDetail::None),
            // The call that follows is the entry; a person's ticket is the visitor's doing.
            Event::StoreNextFired { .. } | Event::PersonTicket { .. } => None,
            // The hall's own doing, not a person's: the alert list keeps them.
            Event::AlertRaised { .. } | Event::AlertCleared { .. } => None,
            Event::TicketIssued { .. }
            | Event::TicketCheckedIn { .. }
            | Event::AppointmentBooked { .. }
            | Event::AppointmentCancelled { .. }
            | Event::AppointmentCheckedIn { .. }
            | Event::TicketCancelled { .. }
            | Event::TicketRated { .. }
            | Event::TicketRejoined { .. }
            // Part of a close, a force-close or a disable, whose own entry names who did it.
            | Event::TicketReturned { .. }
            | Event::NoChange
            | Event::NumbersRaised { .. }
            // A visitor's ticket, like any issue.
            | Event::EnterpriseTicketIssued { .. } => None,
            // 全程领办: the guide names themselves; the number is the ticket's.
            Event::TicketAssisted { guide, .. } => on.guide(guide, AuditAction::Assist),
            Event::TicketEscorted { guide, .. } => on.guide(guide, AuditAction::Escort),
            Event::EscortReleased { guide, .. } => on.guide(guide, AuditAction::ReleaseEscort),
            // 跨中心转办 (issue 18): the clerk signed in at the window referred it.
            Event::TicketReferred { window, to, .. } => {
                let detail = AuditDetail::Referral { hall: to.hall.clone(), name: to.name.clone(), reason: to.reason.clone() };
                on.at(window, AuditAction::Refer, detail)
            }
            // A visitor's ticket, like any issue; the referring clerk is in the other hall's trail.
            Event::ReferralAccepted { .. } | Event::ReferralWithdrawn { .. } => None,
        }
    }
}

/// The entry of an act whose record names who did it (a sign-in, a window opened, an
/// admin's change, a case's or an alert's step, the enterprise registry) or that is the
/// hall's own (the day's opening); `None` for any other event, which `observe` reads.
fn office(on: On, event: &Event) -> Option<AuditEntry> {
    let at = on.stamp;
    match event {
        Event::DayOpened { expired, .. } => {
            at.entry(None, AuditAction::DayOpened, None, AuditDetail::Expired(expired.len()))
        }
        Event::WindowOpened { window, clerk } => {
            at.entry(Some(clerk.clone()), AuditAction::Open, Some(*window), AuditDetail::None)
        }
        Event::WindowQueuesSet { window, queues, by } => {
            at.entry(Some(by.clone()), AuditAction::SetQueues, Some(*window), AuditDetail::Queues(queues.clone()))
        }
        // An admin closed the window, naming the clerk who was signed in there.
        Event::WindowForceClosed { window, by } => {
            let detail = on.user.map_or(AuditDetail::None, AuditDetail::User);
            at.entry(Some(by.clone()), AuditAction::ForceClose, Some(*window), detail)
        }
        Event::UserLoggedIn { name, .. } => at.by(name, AuditAction::Login, AuditDetail::None),
        Event::UserLoggedOut { name, .. } => at.by(name, AuditAction::Logout, AuditDetail::None),
        Event::UserDisabled { name, by } => at.by(by, AuditAction::DisableUser, AuditDetail::User(name.clone())),
        Event::UserEnabled { name, by } => at.by(by, AuditAction::EnableUser, AuditDetail::User(name.clone())),
        Event::UserAdded { name, by, .. } => at.by(by, AuditAction::AddUser, AuditDetail::User(name.clone())),
        Event::PasswordReset { name, by, .. } => at.by(by, AuditAction::ResetPassword, AuditDetail::User(name.clone())),
        Event::CaseCallback { case, by, reached, .. } => {
            at.by(by, AuditAction::CaseCallback, AuditDetail::Case(case.clone(), Some(*reached)))
        }
        Event::CaseRectified { case, by, .. } => {
            at.by(by, AuditAction::CaseRectified, AuditDetail::Case(case.clone(), None))
        }
        Event::AlertAcknowledged { id, by } => at.by(by, AuditAction::AlertAck, AuditDetail::Alert(*id)),
        Event::EscalationCallback { case, by, reached, .. } => {
            at.by(by, AuditAction::CaseCallback, AuditDetail::Case(case.clone(), Some(*reached)))
        }
        Event::EscalationResolved { case, by, .. } => {
            at.by(by, AuditAction::CaseRectified, AuditDetail::Case(case.clone(), None))
        }
        Event::EnterpriseAdded { enterprise: e, by } => {
            at.by(by, AuditAction::AddEnterprise, AuditDetail::Enterprise(e.id.clone(), Some(e.specialist.clone())))
        }
        Event::SpecialistSet { enterprise, specialist, by } => {
            let detail = AuditDetail::Enterprise(enterprise.clone(), Some(specialist.clone()));
            at.by(by, AuditAction::SetSpecialist, detail)
        }
        Event::FollowUpAdded { enterprise, by, .. } => {
            at.by(by, AuditAction::FollowUp, AuditDetail::Enterprise(enterprise.clone(), None))
        }
        _ => None,
    }
}

/// A window's action, with who was signed in there and the ticket's number as the
/// record's facts tell (`None` when the record is of a sign-in or ticket the day read
/// does not hold, such as the day before's tail after midnight).
struct On {
    stamp: Stamp,
    user: Option<UserName>,
    ticket: Option<TicketNo>,
}

impl On {
    fn at(self, window: &WindowId, action: AuditAction, detail: AuditDetail) -> Option<AuditEntry> {
        let Stamp { seq, at } = self.stamp;
        Some(AuditEntry { seq, at, user: self.user, action, window: Some(*window), ticket: self.ticket, detail })
    }

    /// A guide's action on a ticket, at no window.
    fn guide(self, guide: &UserName, action: AuditAction) -> Option<AuditEntry> {
        let Stamp { seq, at } = self.stamp;
        let user = Some(guide.clone());
        Some(AuditEntry { seq, at, user, action, window: None, ticket: self.ticket, detail: AuditDetail::None })
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
