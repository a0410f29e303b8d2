//! What a logged record meant, read once: the facts `HallState::apply` yields.
//!
//! A record says what was decided ("window 3 called ticket X"); a fact says what that
//! amounts to, with what only the state knows at that moment: the ticket's number and
//! the queue it is in, who is signed in at the window, how long the ticket waited in its
//! line, how long it was served. `apply` works each of these out once, while it changes
//! the state, and hands them on. Everything that counts or reports folds facts instead of
//! reading events against a state of its own: the day's figures (`stats`), the pace of
//! service (`service_times`), the daemon's metrics, the day reports, the audit trail and
//! the simulator's collector. A new event changes `apply` and the folds that care.
//!
//! A record yields its facts in the order they happen: a day's opening yields the
//! expiries of the old day's tickets first, then the ends of its alerts still active,
//! then `DayOpened`.
//!
//! Supervision alerts are facts too: raised, cleared by their condition, or ended by a
//! new day's opening, each with the alert as that change left it. The alert webhook folds
//! them, live and in its catch-up after a restart; the counting folds pass them by.

use chrono::NaiveDate;

use super::alerts::Alert;
use super::model::{
    CallRule, Outcome, PriorityClass, Promise, QueueId, ServiceCode, TicketId, TicketNo, TransferTarget, Ts, UserName,
    WindowId,
};

/// One fact, where in the log and when it happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    /// The log position of the record it comes from.
    pub seq: u64,
    pub at: Ts,
    pub what: What,
}

/// The ticket a fact is about, as it stands once the record applied: its number, and the
/// queue it now waits or is served in (a transfer or a bundle's next step moves it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub id: TicketId,
    pub number: TicketNo,
    pub queue: QueueId,
}

/// The window that acted and who was signed in there when it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desk {
    pub window: WindowId,
    pub clerk: Option<UserName>,
}

/// A waiting line: a queue's shared line, or the line of tickets sent to one window by
/// name (a transfer or booking to a window).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Line {
    Queue(QueueId),
    Window(WindowId),
}

#[derive(Clone, Debug, PartialEq)]
pub enum What {
    /// A new service day; the old day's unfinished tickets expired just before.
    DayOpened {
        day: NaiveDate,
    },
    Issued {
        ticket: Subject,
        services: Vec<ServiceCode>,
        priority: Option<PriorityClass>,
        /// Taken from a phone, not yet checked in at the hall.
        remote: bool,
    },
    /// A ticket began waiting in a line, expected to take `minutes` at the counter: at its
    /// issue, rejoin, transfer, return or a bundle's next step.
    Joined {
        ticket: Subject,
        line: Line,
        minutes: u32,
    },
    /// A ticket stopped waiting in a line: called, cancelled, expired, or moved by a return.
    Left {
        ticket: Subject,
        line: Line,
        minutes: u32,
    },
    Called {
        ticket: Subject,
        desk: Desk,
        rule: CallRule,
        /// The bundle step it is called for (0 for a plain ticket).
        step: usize,
        /// How long it waited in this line (since its issue, or its step's start), when this
        /// is its first call in the line; `None` for a later call or a parked ticket resumed.
        waited_ms: Option<u64>,
        /// The wait it was told at issue, on the first call of its first step.
        promised: Option<Promise>,
    },
    Recalled {
        ticket: Subject,
        desk: Desk,
    },
    Serving {
        ticket: Subject,
        desk: Desk,
    },
    /// The service at the window ended: the ticket is done (`outcome`), or, with no
    /// outcome, a bundle step is and the ticket goes on to the next (then also `Joined`).
    Finished {
        ticket: Subject,
        desk: Desk,
        outcome: Option<Outcome>,
        /// From `serve` to now; `None` when the visitor was never marked as served.
        served_ms: Option<u64>,
        /// The counter minutes expected of it.
        minutes: u32,
        /// The queue it was served in (before a next step moves it on).
        queue: QueueId,
    },
    NoShow {
        ticket: Subject,
        desk: Desk,
    },
    Parked {
        ticket: Subject,
        desk: Desk,
    },
    Transferred {
        ticket: Subject,
        desk: Desk,
        to: TransferTarget,
    },
    /// Untied from a window that closed (or its queue changed): it waits again.
    Returned {
        ticket: Subject,
        from: Option<WindowId>,
    },
    Rejoined {
        ticket: Subject,
    },
    CheckedIn {
        ticket: Subject,
    },
    /// Cancelled while waiting; `called` says whether it had been called before.
    Cancelled {
        ticket: Subject,
        waited_ms: u64,
        called: bool,
    },
    /// Unfinished when the day closed; `desk` is the window that held it, if any.
    Expired {
        ticket: Subject,
        desk: Option<Desk>,
        waited_ms: u64,
        called: bool,
    },
    /// The visitor rated the service of `desk` (the window that finished it and the clerk
    /// who called it there).
    Rated {
        ticket: Subject,
        desk: Option<Desk>,
        score: u8,
        reason: Option<String>,
    },
    /// A bad rating's case was rectified; it counts on the day of the rating.
    CaseRectified {
        day: NaiveDate,
        queue: QueueId,
        window: Option<WindowId>,
    },
    /// The clerk at `desk` could not finish the ticket (`not_done`): it waits in the
    /// escalation queue now (`ticket.queue`); `from` is the queue it was served in.
    Escalated {
        ticket: Subject,
        desk: Desk,
        from: QueueId,
        services: Vec<ServiceCode>,
        reason: String,
        case: String,
    },
    /// An escalation case ended (answered, or `referred` on); it counts on the day it
    /// opened.
    EscalationResolved {
        day: NaiveDate,
        queue: QueueId,
        window: WindowId,
        referred: bool,
    },
    WindowOpened {
        desk: Desk,
    },
    WindowPaused {
        desk: Desk,
        /// The reason code the clerk gave, if any.
        reason: Option<String>,
    },
    WindowResumed {
        desk: Desk,
    },
    /// Closed by its clerk, or by an admin (`forced`); `desk` names who was signed in.
    WindowClosed {
        desk: Desk,
        forced: bool,
    },
    /// A supervision alert raised: `alert` as raised (neither cleared nor acknowledged).
    AlertRaised {
        alert: Alert,
    },
    /// An alert's condition ended: `alert` with its clearing time and value (and its
    /// acknowledgement, if a supervisor gave one first).
    AlertCleared {
        alert: Alert,
    },
    /// An alert still active when its service day closed, ended by the new day's opening
    /// (just before `DayOpened`): `alert` cleared at the opening, with no clearing value.
    AlertEnded {
        alert: Alert,
    },
    // 全程领办 (issue 17 §1).
    /// A guide's doing, or a moment of a visitor the guide escorts, naming the guide as
    /// the state knew them then.
    Guided {
        ticket: Subject,
        guide: UserName,
        act: GuideAct,
    },
    // Issue 17 §4, the clerk's moves.
    /// The clerk at `desk` armed or disarmed store-next.
    StoreNextSet {
        desk: Desk,
        armed: bool,
    },
    /// The call that follows was made by store-next at `desk`.
    StoreNextFired {
        desk: Desk,
    },
    /// The clerk at `desk` issued `ticket` to their own window for a walk-up.
    WalkDirect {
        ticket: Subject,
        desk: Desk,
    },
    /// `ticket` was issued under the per-person limits (an ID card read at the kiosk).
    PersonTicket {
        ticket: Subject,
    },
    // 跨中心转办 (issue 18).
    /// The clerk at `desk` referred `ticket` to hall `to_hall` (its `Finished` comes first).
    Referred {
        ticket: Subject,
        desk: Desk,
        to_hall: String,
        reason: String,
    },
    /// `ticket` was issued for a visitor referred here from hall `from_hall`.
    ReferralTaken {
        ticket: Subject,
        from_hall: String,
        reason: String,
    },
    /// The origin hall `from_hall` withdrew `ticket`, a referral it could not record: it
    /// no longer counts as taken in (its `Cancelled` comes first).
    ReferralWithdrawn {
        ticket: Subject,
        from_hall: String,
    },
}

/// What a `Guided` fact says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuideAct {
    /// The guide issued the ticket for its visitor.
    Assisted,
    /// The guide took the ticket under escort.
    Escorted,
    /// The guide let go of it.
    Released,
    /// The escorted ticket was first called in a line after waiting `ms` (each bundle step
    /// has a line of its own).
    Waited { ms: u64 },
    /// The escorted visitor (or one released after the escort) rated the service.
    Rated { score: u8 },
}

impl What {
    /// The ticket the fact is about, if any.
    pub fn ticket(&self) -> Option<&Subject> {
        match self {
            What::Issued { ticket, .. }
            | What::Joined { ticket, .. }
            | What::Left { ticket, .. }
            | What::Called { ticket, .. }
            | What::Recalled { ticket, .. }
            | What::Serving { ticket, .. }
            | What::Finished { ticket, .. }
            | What::NoShow { ticket, .. }
            | What::Parked { ticket, .. }
            | What::Transferred { ticket, .. }
            | What::Returned { ticket, .. }
            | What::Rejoined { ticket }
            | What::CheckedIn { ticket }
            | What::Cancelled { ticket, .. }
            | What::Expired { ticket, .. }
            | What::Rated { ticket, .. }
            | What::Escalated { ticket, .. }
            | What::Guided { ticket, .. }
            | What::WalkDirect { ticket, .. }
            | What::PersonTicket { ticket }
            | What::Referred { ticket, .. }
            | What::ReferralTaken { ticket, .. }
            | What::ReferralWithdrawn { ticket, .. } => Some(ticket),
            What::StoreNextSet { .. } | What::StoreNextFired { .. } => None,
            What::DayOpened { .. }
            | What::CaseRectified { .. }
            | What::EscalationResolved { .. }
            | What::WindowOpened { .. }
            | What::WindowPaused { .. }
            | What::WindowResumed { .. }
            | What::WindowClosed { .. }
            | What::AlertRaised { .. }
            | What::AlertCleared { .. }
            | What::AlertEnded { .. } => None,
        }
    }

    /// The window that acted and who was signed in there, if a window acted.
    pub fn desk(&self) -> Option<&Desk> {
        match self {
            What::Called { desk, .. }
            | What::Recalled { desk, .. }
            | What::Serving { desk, .. }
            | What::Finished { desk, .. }
            | What::NoShow { desk, .. }
            | What::Parked { desk, .. }
            | What::Transferred { desk, .. }
            | What::WindowOpened { desk }
            | What::WindowPaused { desk, .. }
            | What::WindowResumed { desk }
            | What::WindowClosed { desk, .. }
            | What::Escalated { desk, .. }
            | What::StoreNextSet { desk, .. }
            | What::StoreNextFired { desk }
            | What::WalkDirect { desk, .. }
            | What::Referred { desk, .. } => Some(desk),
            What::PersonTicket { .. } | What::ReferralTaken { .. } | What::ReferralWithdrawn { .. } => None,
            What::Expired { desk, .. } | What::Rated { desk, .. } => desk.as_ref(),
            What::DayOpened { .. }
            | What::Issued { .. }
            | What::Joined { .. }
            | What::Left { .. }
            | What::Returned { .. }
            | What::Rejoined { .. }
            | What::CheckedIn { .. }
            | What::Cancelled { .. }
            | What::CaseRectified { .. }
            | What::EscalationResolved { .. }
            | What::AlertRaised { .. }
            | What::AlertCleared { .. }
            | What::AlertEnded { .. }
            | What::Guided { .. } => None,
        }
    }
}
