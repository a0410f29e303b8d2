//! What callers ask of the hall (`Command`), and why the hall may refuse (`Rejection`).

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use super::alerts::PrinterFault;
use super::enterprise::{EnterpriseDef, EnterpriseId, FollowUpKind};
use super::model::{KioskId, Outcome, QueueId, TicketId, TransferTarget, UserName, WindowId};
use super::staff::{PasswordHash, StaffRole};

pub use super::rejection::{Rejection, RejectionKind};

/// The longest rating comment kept, in characters.
pub const COMMENT_CHARS_MAX: usize = 500;
/// The most tickets one hall issues in one service day; far above any real hall (a busy
/// district centre issues about 3,000) but bounds state and numbers.
pub const TICKETS_PER_DAY_MAX: usize = 100_000;
/// The longest reason for calling a ticket out of order, in characters.
pub const CALL_REASON_CHARS_MAX: usize = 200;
/// The longest idempotency key accepted, in bytes.
pub const IDEMPOTENCY_KEY_BYTES_MAX: usize = 128;

/// One request to change the hall, with the caller's idempotency key (already scoped to
/// the caller by the shell, so two kiosks' keys never collide). A key names one command:
/// repeated with the same command it gets the first answer, with another it is refused
/// (`core::fingerprint`).
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    pub command: Command,
    pub idempotency_key: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// A kiosk asks for a ticket. `id` is fresh and unguessable, drawn by the shell.
    IssueTicket {
        id: TicketId,
        service: String,
        priority: Option<String>,
        kiosk: String,
        /// Taken remotely (线上取号): the ticket waits for its place but is not called until
        /// the visitor checks in at a kiosk or the door.
        remote: bool,
    },
    /// A remote ticket's visitor has arrived.
    CheckInTicket {
        id: TicketId,
    },
    /// Books a slot. `code` is fresh, drawn by the shell; `phone_hash` is the shell's keyed
    /// hash of the phone number (the core never sees the number).
    BookAppointment {
        code: String,
        service: String,
        day: NaiveDate,
        slot: NaiveTime,
        phone_hash: String,
        /// The shell's keyed hash of the client address, for the per-address limits;
        /// `None` where there is no client address (the simulator).
        addr_hash: Option<String>,
        window: Option<WindowId>,
    },
    CancelAppointment {
        code: String,
    },
    /// The holder of a booking checks in at a kiosk: `id` is the fresh id of the ticket it
    /// becomes.
    CheckInAppointment {
        code: String,
        id: TicketId,
        kiosk: String,
    },
    CancelTicket {
        id: TicketId,
    },
    RateTicket {
        id: TicketId,
        score: u8,
        comment: Option<String>,
        /// A bad rating's reason code, from the hall's list.
        reason: Option<String>,
    },
    /// A visitor who missed their call puts the ticket back in line (at the back of its
    /// queue), keeping the number, within the hall's `rejoin_min` of the no-show.
    RejoinTicket {
        id: TicketId,
    },
    OpenWindow {
        window: WindowId,
        clerk: UserName,
    },
    CallNext {
        window: WindowId,
        clerk: UserName,
    },
    /// Calls one waiting ticket by its number, out of dispatch order, with the clerk's reason.
    CallNumber {
        window: WindowId,
        clerk: UserName,
        number: String,
        reason: String,
    },
    Recall {
        window: WindowId,
        clerk: UserName,
    },
    Serve {
        window: WindowId,
        clerk: UserName,
    },
    Done {
        window: WindowId,
        clerk: UserName,
        outcome: Outcome,
    },
    NoShow {
        window: WindowId,
        clerk: UserName,
    },
    /// The clerk could not finish the ticket (`not_done`): it goes to the escalation queue
    /// with `reason` (a code of `[[hall.escalation.reason]]`) and an optional note.
    Escalate {
        window: WindowId,
        clerk: UserName,
        reason: String,
        note: Option<String>,
    },
    /// The handler or a supervisor records a call-back of an escalation case's visitor.
    EscalationCallback {
        case: String,
        by: UserName,
        reached: bool,
        note: String,
    },
    /// The handler or a supervisor ends an escalation case: answered, or referred on to a
    /// department (`refer_to`).
    ResolveEscalation {
        case: String,
        by: UserName,
        note: String,
        refer_to: Option<String>,
    },
    Transfer {
        window: WindowId,
        clerk: UserName,
        to: TransferTarget,
    },
    /// Sets the window's ticket aside (the visitor fetches a missing document) so the
    /// window can take the next.
    Park {
        window: WindowId,
        clerk: UserName,
    },
    /// Calls back a ticket parked at this window.
    Unpark {
        window: WindowId,
        clerk: UserName,
        id: TicketId,
    },
    /// The clerk pauses the idle window, with a reason code from `[hall.pause]` or none.
    Pause {
        window: WindowId,
        clerk: UserName,
        reason: Option<String>,
    },
    Resume {
        window: WindowId,
        clerk: UserName,
    },
    Close {
        window: WindowId,
        clerk: UserName,
    },
    /// The engine's own heartbeat: rolls the service day over when the date has changed,
    /// and raises and clears supervision alerts.
    Tick,
    /// A supervisor records a call-back of a bad-rating case's visitor.
    CaseCallback {
        case: String,
        by: UserName,
        reached: bool,
        note: String,
    },
    /// A supervisor records what was put right, closing the case.
    RectifyCase {
        case: String,
        by: UserName,
        note: String,
    },
    /// A user whose password the shell has checked logs in: refused while disabled.
    LogIn {
        user: UserName,
        /// How long the session lasts unless ended before (`session_ttl_s`, in ms): a
        /// session that expires or is pushed out logs no sign-out.
        session_ms: u64,
    },
    /// A user ends one session; `elsewhere`: the shell has another live session of theirs.
    LogOut {
        user: UserName,
        elsewhere: bool,
    },
    /// An admin (`by`) disables a user; the shell has checked that the user exists.
    DisableUser {
        name: UserName,
        by: UserName,
    },
    EnableUser {
        name: UserName,
        by: UserName,
    },
    /// An admin (`by`) adds a user; the shell has checked the name and the password and
    /// that hall.toml does not name the user, and hashed the password.
    AddUser {
        name: UserName,
        role: StaffRole,
        password_hash: PasswordHash,
        by: UserName,
    },
    /// An admin (`by`) sets a user's password; the shell has checked that the user exists.
    ResetPassword {
        name: UserName,
        password_hash: PasswordHash,
        by: UserName,
    },
    /// An admin sets the queues window `window` serves (overriding hall.toml).
    SetWindowQueues {
        window: WindowId,
        queues: Vec<QueueId>,
        by: UserName,
    },
    /// An admin closes a window whoever is signed in there left open.
    ForceCloseWindow {
        window: WindowId,
        by: UserName,
    },
    /// The daemon's own, once at start on a log of today: returns to a queue that serves
    /// them the tickets tied to a window, or waiting in a queue, that hall.toml no longer
    /// has; refused (`ConfigRemoved`) where no queue can serve them.
    Reconcile,
    /// A supervisor acknowledges alert `id`.
    AckAlert {
        id: u64,
        by: UserName,
    },
    /// The shell's printer task says what `kiosk`'s printer last reported: a fault, or
    /// none (ready, or paper low, which still prints). Raises, changes or clears the
    /// kiosk's printer alert; a report that changes nothing writes nothing.
    PrinterReport {
        kiosk: KioskId,
        fault: Option<PrinterFault>,
    },
    // 全程领办 (issue 17 §1): guides and escorts.
    /// A guide takes a ticket for a visitor who cannot use the kiosk (assisted issuance);
    /// with `escort`, under the guide's escort at once. `id` is fresh, drawn by the shell.
    IssueAssisted {
        id: TicketId,
        service: String,
        priority: Option<String>,
        guide: UserName,
        escort: bool,
    },
    /// A guide takes today's ticket `number` under escort.
    Escort {
        number: String,
        guide: UserName,
    },
    /// A guide lets go of today's ticket `number`, which they escort.
    ReleaseEscort {
        number: String,
        guide: UserName,
    },
    // Issue 17 §4, the clerk's moves: store-next, walk-direct, per-person limits.
    /// The clerk arms (or disarms) store-next at their window: while armed, the step that
    /// lets the window's ticket go (done, no-show, transfer, park, not_done) calls the next
    /// ticket too (`core::clerk_moves`).
    ArmStoreNext {
        window: WindowId,
        clerk: UserName,
        armed: bool,
    },
    /// `done` and `next` as one command: the next ticket is called in the same step,
    /// armed or not.
    DoneAndNext {
        window: WindowId,
        clerk: UserName,
        outcome: Outcome,
    },
    /// The clerk issues a ticket of `service` to their own idle window for a visitor who
    /// walked up, and calls it there; `id` is fresh, drawn by the shell.
    WalkDirect {
        window: WindowId,
        clerk: UserName,
        id: TicketId,
        service: String,
    },
    /// A kiosk ticket under the hall's per-person limits (`[hall.limits]`): `person` is the
    /// shell's keyed hash of the ID card number read at the kiosk (the core never sees the
    /// number).
    IssueForPerson {
        id: TicketId,
        service: String,
        priority: Option<String>,
        kiosk: String,
        person: String,
        /// Taken remotely, as `IssueTicket`'s.
        remote: bool,
    },
    // 助企服务 (issue 17 §3, `core::enterprise`).
    /// A kiosk asks for enterprise `enterprise`'s ticket (the shell found it by the keyed
    /// hash of the credit code the visitor gave): to its specialist's window when open,
    /// else to the enterprise queue.
    IssueEnterpriseTicket {
        id: TicketId,
        service: String,
        kiosk: String,
        enterprise: EnterpriseId,
    },
    /// An admin adds an enterprise; the shell has hashed its credit code and checked the
    /// specialist is a clerk.
    AddEnterprise {
        enterprise: EnterpriseDef,
        by: UserName,
    },
    /// An admin names an enterprise's specialist; the shell has checked they are a clerk.
    SetSpecialist {
        enterprise: EnterpriseId,
        specialist: UserName,
        by: UserName,
    },
    /// The specialist or a supervisor records a referral or milestone.
    AddFollowUp {
        enterprise: EnterpriseId,
        kind: FollowUpKind,
        date: NaiveDate,
        note: String,
        by: UserName,
    },
    // 跨中心转办 (issue 18, `core::referral`).
    /// The clerk at `window` refers its called or serving ticket to another hall, which
    /// has already issued a ticket for it (`to`, its answer through the district).
    Refer {
        window: WindowId,
        clerk: UserName,
        /// Boxed: the command stays as small as the others in the engine's inbox.
        to: Box<super::referral::Sent>,
    },
    /// Another hall of the district refers a visitor here: a remote ticket `id` (fresh,
    /// drawn by the shell) of `service`, waiting for its check-in, tagged with `origin`.
    AcceptReferral {
        id: TicketId,
        service: String,
        priority: Option<String>,
        origin: Box<super::referral::Origin>,
    },
    /// The origin hall `from_hall` withdraws the ticket `ticket` this hall issued for its
    /// referral `reference` (or, when the origin never heard the answer, whichever ticket
    /// it was), which the origin could not record (its ticket had left the window while
    /// this hall decided): cancelled, unless its visitor has checked in.
    WithdrawReferral {
        from_hall: String,
        reference: String,
        ticket: Option<TicketId>,
    },
}

/// What a successful command answers with; stored with its idempotency key so that a
/// repeat gets the same answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    Ticket(TicketId),
    /// `next`: the ticket called, or none when nothing is waiting.
    MaybeTicket(Option<TicketId>),
    Window(WindowId),
    /// A booking, by its code.
    Appointment(String),
    Nothing,
    /// A bad-rating case, by its id.
    Case(String),
    /// A supervision alert, by its id.
    Alert(u64),
    /// An escalation case, by its id.
    Escalation(String),
}
