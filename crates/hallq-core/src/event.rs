//! The event log's schema: every change of the hall is one `Event`, stored inside a
//! versioned `Record`.
//!
//! Records are the durable truth; the state is a projection of them. Adding a field or a
//! variant is fine; changing the meaning of a stored one needs a new `RECORD_VERSION`
//! and a reader for the old one.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::alerts::{AlertKind, PrinterFault};
use super::command::Reply;
use super::enterprise::{EnterpriseDef, EnterpriseId, FollowUpKind};
use super::escalation::EscalationOpening;
use super::model::{
    BundleId, BundleStep, CallRule, KioskId, Outcome, PriorityClass, Promise, QueueId, ServiceCode, TicketId,
    TransferTarget, Ts, UserName, WindowId,
};
use super::rating::CaseOpening;
use super::staff::{PasswordHash, StaffRole};

/// The version written into every record.
pub const RECORD_VERSION: u16 = 1;

/// One entry of the log: an event, when it happened, and (on the last event of a command
/// that carried one) the idempotency key with the answer it got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub v: u16,
    pub at: Ts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idem: Option<IdemEntry>,
    pub event: Event,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdemEntry {
    pub key: String,
    pub reply: Reply,
    /// The command's fingerprint (`core::fingerprint`), so that the key answers only a
    /// repeat of the same command. Empty in records written before it existed: such a key
    /// answers no later command (it is refused as a conflict), since what it named is
    /// unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub command: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A new service day begins: numbers restart; tickets of the old day that were not
    /// finished expire; windows close and clerks are signed out.
    DayOpened {
        day: NaiveDate,
        expired: Vec<TicketId>,
    },
    TicketIssued {
        id: TicketId,
        queue: QueueId,
        n: u32,
        services: Vec<ServiceCode>,
        bundle: Option<BundleId>,
        priority: Option<PriorityClass>,
        kiosk: String,
        /// A bundle ticket's steps; absent for a ticket of one item.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        steps: Vec<BundleStep>,
        /// An appointment ticket: when its slot begins (dispatch calls it first from then).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<Ts>,
        /// An appointment that names a window waits for that window.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_window: Option<WindowId>,
        /// Taken remotely: not called until checked in.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        remote: bool,
        /// The wait the kiosk told (absent in older logs, and where no open window served).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        promise: Option<Promise>,
    },
    /// A remote ticket's visitor arrived: from now on it can be called.
    TicketCheckedIn {
        id: TicketId,
    },
    AppointmentBooked {
        code: String,
        service: String,
        day: NaiveDate,
        slot: chrono::NaiveTime,
        phone_hash: String,
        /// The keyed hash of the client address it came from (absent in older records).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        addr_hash: Option<String>,
        window: Option<WindowId>,
    },
    AppointmentCancelled {
        code: String,
    },
    /// The booking became `ticket` (issued by the next event); `late` when it came after
    /// the grace window and so got an ordinary ticket.
    AppointmentCheckedIn {
        code: String,
        ticket: TicketId,
        late: bool,
    },
    TicketCancelled {
        id: TicketId,
    },
    TicketRated {
        id: TicketId,
        score: u8,
        comment: Option<String>,
        /// A bad rating's reason code (`[[hall.rating.reason]]`); absent in older records.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The case a bad rating opens, with its id and deadline as decided then.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case: Option<CaseOpening>,
    },
    /// A missed number went back in line, at the back of its queue.
    TicketRejoined {
        id: TicketId,
    },
    WindowOpened {
        window: WindowId,
        clerk: UserName,
    },
    TicketCalled {
        window: WindowId,
        id: TicketId,
        rule: CallRule,
    },
    TicketRecalled {
        window: WindowId,
        id: TicketId,
    },
    TicketServing {
        window: WindowId,
        id: TicketId,
    },
    TicketDone {
        window: WindowId,
        id: TicketId,
        outcome: Outcome,
    },
    TicketNoShow {
        window: WindowId,
        id: TicketId,
    },
    /// A bundle step is done: the ticket waits in its next step's queue, keeping its place
    /// by issue time and its number.
    TicketStepDone {
        window: WindowId,
        id: TicketId,
    },
    TicketParked {
        window: WindowId,
        id: TicketId,
    },
    TicketTransferred {
        window: WindowId,
        id: TicketId,
        to: TransferTarget,
    },
    WindowPaused {
        window: WindowId,
        /// The reason code the clerk gave (`[hall.pause]`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    WindowResumed {
        window: WindowId,
    },
    WindowClosed {
        window: WindowId,
    },
    /// A command that changed nothing (say, `next` with nobody waiting) but carried an
    /// idempotency key: logged so that a repeat gets the same answer, as the contract
    /// promises, instead of being decided afresh.
    NoChange,
    /// A supervisor called the visitor of a bad-rating case back (回访).
    CaseCallback {
        case: String,
        by: UserName,
        reached: bool,
        note: String,
    },
    /// A supervisor recorded what was put right (整改): the case is closed.
    CaseRectified {
        case: String,
        by: UserName,
        note: String,
    },
    /// A user logged in (the audit's sign-in record; the session itself is not state).
    UserLoggedIn {
        name: UserName,
        /// How long the session lasts unless ended before; absent in records written
        /// before it was kept (their time runs to the sign-out or the day's end).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_ms: Option<u64>,
    },
    /// A user logged out of one session; `elsewhere` when another of their sessions was
    /// still live (a second device), so their signed-in time runs on. Absent in records
    /// written before it was kept: those ended the time, as they did then.
    UserLoggedOut {
        name: UserName,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        elsewhere: bool,
    },
    /// An admin (`by`) disabled a user: no login until enabled again, also after a restart.
    UserDisabled {
        name: UserName,
        by: UserName,
    },
    UserEnabled {
        name: UserName,
        by: UserName,
    },
    /// An admin (`by`) added a user, who may log in at once with the password hashed here.
    UserAdded {
        name: UserName,
        role: StaffRole,
        password_hash: PasswordHash,
        by: UserName,
    },
    /// An admin (`by`) gave a user a new password (hashed here).
    PasswordReset {
        name: UserName,
        password_hash: PasswordHash,
        by: UserName,
    },
    /// An admin set the queues a window serves, overriding hall.toml until set again.
    WindowQueuesSet {
        window: WindowId,
        queues: Vec<QueueId>,
        by: UserName,
    },
    /// An admin closed a window its clerk left open (holding no ticket), signing the clerk
    /// out of it.
    WindowForceClosed {
        window: WindowId,
        by: UserName,
    },
    /// A ticket tied to `window` — held there, parked there, or sent there by name — is
    /// untied from it and waits again in `queue` at its old place (its issue position is
    /// kept): the window closed (its clerk, an admin, or the clerk's disable), or hall.toml
    /// no longer has it. Without a window, only the queue changes: hall.toml no longer has
    /// the ticket's queue, and `queue` serves its items. Decided, so replay holds.
    TicketReturned {
        id: TicketId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<WindowId>,
        queue: QueueId,
    },
    /// A supervision alert: `kind`'s value on the queue or window passed its threshold, or
    /// (kind `printer`) a kiosk's printer reported `fault` (`core::alerts`).
    AlertRaised {
        id: u64,
        kind: AlertKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<QueueId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<WindowId>,
        value: u32,
        threshold: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kiosk: Option<KioskId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fault: Option<PrinterFault>,
    },
    /// The alert's condition has eased (below the hysteresis mark, or the window left the
    /// state); `value` is the value then.
    AlertCleared {
        id: u64,
        value: u32,
    },
    /// A supervisor has seen the alert.
    AlertAcknowledged {
        id: u64,
        by: UserName,
    },
    /// The clerk at `window` could not finish the ticket (`not_done`, with a reason code of
    /// `[[hall.escalation.reason]]`): it waits in the escalation queue at its old place and
    /// `case` opens (`core::escalation`).
    TicketEscalated {
        window: WindowId,
        id: TicketId,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        case: EscalationOpening,
    },
    /// The handler or a supervisor called an escalation case's visitor back.
    EscalationCallback {
        case: String,
        by: UserName,
        reached: bool,
        note: String,
    },
    /// An escalation case ended: answered, or referred on to a department.
    EscalationResolved {
        case: String,
        by: UserName,
        note: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        referred_to: Option<String>,
    },
    /// `hallq recover` salvaged a damaged log: the numbers of `day` continue above these,
    /// the highest it saw anywhere (records it had to drop included), so that no number
    /// printed that day is issued again. Applies only while `day` is the service day.
    NumbersRaised {
        day: NaiveDate,
        floors: std::collections::BTreeMap<QueueId, u32>,
    },
    // 全程领办 (issue 17 §1): guides and escorts.
    /// Guide `guide` issued ticket `id` (the record before) for its visitor.
    TicketAssisted {
        id: TicketId,
        guide: UserName,
    },
    /// Guide `guide` took ticket `id` under escort; `priority` is the hall's escort class
    /// it gets (it had none).
    TicketEscorted {
        id: TicketId,
        guide: UserName,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<PriorityClass>,
    },
    /// Guide `guide` let go of ticket `id`.
    EscortReleased {
        id: TicketId,
        guide: UserName,
    },
    // Issue 17 §4, the clerk's moves.
    /// The clerk at `window` armed or disarmed store-next.
    StoreNextSet {
        window: WindowId,
        armed: bool,
    },
    /// The next record is a call store-next made in the step that let `window`'s ticket go
    /// (armed, or `done` and `next` as one command). Changes nothing; counted.
    StoreNextFired {
        window: WindowId,
    },
    /// The ticket just issued (`id`) is a walk-direct of the clerk at `window`; its call
    /// follows.
    WalkDirect {
        window: WindowId,
        id: TicketId,
    },
    /// The ticket just issued (`id`) was taken under the per-person limits by the person
    /// whose ID number has the keyed hash `person`.
    PersonTicket {
        id: TicketId,
        person: String,
    },
    // 助企服务 (issue 17 §3, `core::enterprise`).
    /// The ticket just issued (the event before) is enterprise `enterprise`'s: sent to its
    /// specialist's `window`, or (none) waiting in the enterprise queue.
    EnterpriseTicketIssued {
        id: TicketId,
        enterprise: EnterpriseId,
        specialist: UserName,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<WindowId>,
    },
    /// An admin added an enterprise (its credit code only as the shell's keyed hash).
    EnterpriseAdded {
        enterprise: EnterpriseDef,
        by: UserName,
    },
    /// An admin named an enterprise's specialist.
    SpecialistSet {
        enterprise: EnterpriseId,
        specialist: UserName,
        by: UserName,
    },
    /// A referral or milestone in an enterprise's follow-up log.
    FollowUpAdded {
        enterprise: EnterpriseId,
        kind: FollowUpKind,
        date: NaiveDate,
        note: String,
        by: UserName,
    },
    // 跨中心转办 (issue 18, `core::referral`).
    /// The clerk at `window` referred ticket `id` to another hall, which issued `to`'s
    /// ticket for it: `id` is finished `incomplete` here.
    TicketReferred {
        window: WindowId,
        id: TicketId,
        to: super::referral::Sent,
    },
    /// The ticket just issued (the event before) is a visitor referred from `origin`.
    ReferralAccepted {
        id: TicketId,
        origin: super::referral::Origin,
    },
    /// The ticket just cancelled (the event before) was a referral its origin withdrew:
    /// it no longer counts as taken in.
    ReferralWithdrawn {
        id: TicketId,
    },
}
