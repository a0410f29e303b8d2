//! Why the hall may refuse a command (`Rejection`), in words for people and as a stable
//! code for programs, and the family of each (`RejectionKind`) that the shell maps to a
//! status. Re-exported by `command`.

use crate::command::{CALL_REASON_CHARS_MAX, COMMENT_CHARS_MAX};

/// Which family of failure a rejection is; the shell maps it to a status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectionKind {
    BadInput,
    Forbidden,
    NotFound,
    Conflict,
    Unavailable,
}

/// Why the hall refused a command. Refusing changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("unknown service {0:?}; pick an item code or bundle id from /api/v1/services")]
    UnknownService(String),
    #[error("unknown priority class {0:?}; use one listed in /api/v1/services")]
    UnknownPriority(String),
    #[error("no such ticket")]
    UnknownTicket,
    #[error("no such window {0}")]
    UnknownWindow(String),
    #[error("no such queue {0}")]
    UnknownQueue(String),
    #[error("the hall is closed for new tickets now; come back during opening hours")]
    HallClosed,
    #[error("the hall has issued its maximum of tickets for today")]
    DayFull,
    #[error("only a waiting ticket can be cancelled; this one is {0}")]
    NotWaiting(&'static str),
    #[error("only a finished service can be rated; this ticket is {0}")]
    NotRateable(&'static str),
    #[error("this ticket has already been rated")]
    AlreadyRated,
    #[error("a score must be 1 to 5")]
    BadScore,
    #[error("a comment may have at most {COMMENT_CHARS_MAX} characters")]
    CommentTooLong,
    #[error("window {0} is open under another clerk; ask them to close it first")]
    WindowTaken(String),
    #[error("you are signed in at window {0}; close it before opening another")]
    ClerkElsewhere(String),
    #[error("you are not signed in at window {0}")]
    NotYourWindow(String),
    #[error("window {0} is closed; open it first")]
    WindowClosed(String),
    #[error("window {0} is paused; resume it first")]
    WindowPaused(String),
    #[error("window {0} still holds a ticket; finish, mark no-show or transfer it first")]
    WindowBusy(String),
    #[error("window {0} holds no ticket")]
    NoTicket(String),
    #[error("the ticket at this window is {0}; that action is not possible now")]
    WrongTicketState(&'static str),
    #[error("window {0} is not paused")]
    NotPaused(String),
    #[error("a ticket cannot be transferred to the window that holds it")]
    TransferToSelf,
    #[error("that ticket id is already in use; draw a new one")]
    DuplicateTicketId,
    #[error("a rating of 1 or 2 needs a reason; say what went wrong")]
    ReasonRequired,
    #[error("no ticket numbered {0} today")]
    UnknownNumber(String),
    #[error("calling a ticket out of order needs a reason of 1 to {CALL_REASON_CHARS_MAX} characters")]
    CallReasonRequired,
    #[error("that ticket waits for window {0}; it can be called only there")]
    WaitsElsewhere(String),
    #[error("this number has been recalled {0} times already; mark it a no-show")]
    RecallLimit(u32),
    #[error("a missed number may rejoin only within {0} minutes of being missed; take a new ticket")]
    RejoinExpired(u32),
    #[error("only a missed number can rejoin; this ticket is {0}")]
    NotMissed(&'static str),
    #[error("window {0} already holds {1} parked tickets; resume one first")]
    ParkFull(String, u32),
    #[error("that ticket is not parked at window {0}")]
    NotParkedHere(String),
    #[error("window {0} still has parked tickets; resume and finish them first")]
    ParkedTickets(String),
    #[error("this hall takes no appointments")]
    NoAppointments,
    #[error("that booking code is already in use; draw a new one")]
    DuplicateCode,
    #[error("a booking needs a phone number")]
    PhoneRequired,
    #[error("book a day from today to {0} days ahead")]
    BadDay(u32),
    #[error("no such slot; pick one listed by /api/v1/appointments/slots")]
    BadSlot,
    #[error("that slot has begun; pick a later one")]
    SlotPast,
    #[error("that slot is fully booked; pick another")]
    SlotFull,
    #[error("this phone number already holds a booking that day")]
    AlreadyBooked,
    #[error("the hall is closed on {0} (a rest day or public holiday); pick a working day")]
    DayClosed(String),
    #[error("this phone number already holds {0} bookings; cancel one or book after one has passed")]
    PhoneLimit(u32),
    #[error("your network address already holds {0} bookings {1}; cancel one or book from another network")]
    AddressLimit(u32, &'static str),
    #[error("no such booking")]
    UnknownAppointment,
    #[error("this booking is {0}")]
    AppointmentClosed(&'static str),
    #[error("this booking is for {0}, not today")]
    NotToday(String),
    #[error("this ticket has already checked in")]
    AlreadyCheckedIn,
    #[error("the appointment queue takes booked visitors only: check in the booking at a kiosk (POST /api/v1/appointments/CODE/check-in) or take a ticket of the service itself")]
    CheckInRequired,
    #[error("unknown reason {0:?}; pick a reason code listed in /api/v1/services under rating")]
    UnknownReason(String),
    #[error("the reason \"{0}\" needs a few words in the comment")]
    ReasonTextRequired(String),
    #[error("a reason is asked only for a rating of 1 or 2; leave it out")]
    ReasonNotAsked,
    #[error("no such case")]
    UnknownCase,
    #[error("this case is closed already")]
    CaseClosed,
    #[error("a note needs 1 to {} characters", super::rating::NOTE_CHARS_MAX)]
    NoteRequired,
    #[error("this case has {0} call-backs already; record the rectification")]
    CallbacksFull(usize),
    #[error("record a call-back of the visitor before the rectification")]
    CallbackFirst,
    #[error("this user is disabled; ask an admin to enable it")]
    UserDisabled,
    #[error("an admin may not disable their own user; ask another admin")]
    CannotDisableSelf,
    #[error("a window must serve 1 to {0} queues of the hall, each once")]
    BadWindowQueues(usize),
    #[error("no such alert today; list them at /api/v1/alerts")]
    UnknownAlert,
    #[error("a user of that name exists already; choose another name")]
    UserExists,
    #[error("the hall has {0} added users already; disable or remove some in hall.toml")]
    TooManyUsers(usize),
    #[error("window {0} does not serve this service; book without a window, or name one that serves it")]
    WindowNotServing(String),
    #[error("{0}")]
    ConfigRemoved(String),
    #[error("this idempotency key was used today for another command; send a fresh key with a new command")]
    IdempotencyConflict,
    #[error("this hall has no escalation queue ([hall.escalation] in hall.toml); finish the ticket or transfer it")]
    NoEscalation,
    #[error("unknown reason {0:?}; pick a reason code listed in /api/v1/services under escalation")]
    UnknownEscalationReason(String),
    #[error("this matter is with the escalation window already; its case is answered or referred there")]
    AlreadyEscalated,
    #[error("the hall has opened {0} escalation cases today; ask a supervisor")]
    EscalationsFull(usize),
    #[error("a referral names the department in 1 to {0} characters")]
    DepartmentRequired(usize),
    // 全程领办 (issue 17 §1): guides and escorts.
    #[error("you escort {0} visitors still in the hall, as many as the hall allows; release one first")]
    EscortsFull(usize),
    #[error("this visitor is under another guide's escort; ask that guide to release them first")]
    EscortedByOther,
    #[error("you are not escorting this ticket")]
    NotEscorted,
    #[error("this ticket is {0}; only a ticket still in the hall can be taken under escort")]
    NotEscortable(&'static str),
    // Issue 17 §4, the clerk's moves.
    #[error("ticket {number} has waited {waited_min} minutes, past the hall's max_wait of {max_min}; call it first (next), then issue the walk-up")]
    WalkDirectBehindAged { number: String, waited_min: u32, max_min: u32 },
    #[error("window {0} has issued its {1} walk-direct tickets for today; send the visitor to the kiosk")]
    WalkDirectLimit(String, u32),
    #[error("window {0} does not serve queue {1}; send the visitor to the kiosk")]
    WalkDirectNotServed(String, String),
    #[error("this ID card has taken its {0} tickets for today; ask at the information desk")]
    PersonDailyLimit(u32),
    #[error("this ID card has missed its call {no_shows} time(s) today; a new ticket can be taken from {until}")]
    PersonMustWait { no_shows: u32, until: String },
    // 助企服务 (issue 17 §3).
    #[error("this hall keeps no enterprise registry ([enterprises] in hall.toml)")]
    NoEnterprises,
    #[error("no such enterprise")]
    UnknownEnterprise,
    #[error("an enterprise with this id or credit code is registered already")]
    EnterpriseExists,
    #[error("the registry holds its maximum of {0} enterprises")]
    EnterprisesFull(usize),
    #[error("an enterprise's name is 1 to {0} characters")]
    BadEnterpriseName(usize),
    #[error("a follow-up's date lies between 2000-01-01 and {0} days from today")]
    BadFollowUpDate(u64),
    #[error("this enterprise's log holds its maximum of {0} follow-ups")]
    FollowUpsFull(usize),
}

impl Rejection {
    /// The stable snake_case code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::UnknownService(_) => "unknown_service",
            Rejection::UnknownPriority(_) => "unknown_priority",
            Rejection::UnknownTicket => "unknown_ticket",
            Rejection::UnknownWindow(_) => "unknown_window",
            Rejection::UnknownQueue(_) => "unknown_queue",
            Rejection::HallClosed => "hall_closed",
            Rejection::DayFull => "day_full",
            Rejection::NotWaiting(_) => "not_waiting",
            Rejection::NotRateable(_) => "not_rateable",
            Rejection::AlreadyRated => "already_rated",
            Rejection::BadScore => "bad_score",
            Rejection::CommentTooLong => "comment_too_long",
            Rejection::WindowTaken(_) => "window_taken",
            Rejection::ClerkElsewhere(_) => "clerk_elsewhere",
            Rejection::NotYourWindow(_) => "not_your_window",
            Rejection::WindowClosed(_) => "window_closed",
            Rejection::WindowPaused(_) => "window_paused",
            Rejection::WindowBusy(_) => "window_busy",
            Rejection::NoTicket(_) => "no_ticket",
            Rejection::WrongTicketState(_) => "wrong_ticket_state",
            Rejection::NotPaused(_) => "not_paused",
            Rejection::TransferToSelf => "transfer_to_self",
            Rejection::DuplicateTicketId => "duplicate_ticket_id",
            Rejection::ReasonRequired => "reason_required",
            Rejection::UnknownNumber(_) => "unknown_number",
            Rejection::CallReasonRequired => "call_reason_required",
            Rejection::WaitsElsewhere(_) => "waits_elsewhere",
            Rejection::RecallLimit(_) => "recall_limit",
            Rejection::RejoinExpired(_) => "rejoin_expired",
            Rejection::NotMissed(_) => "not_missed",
            Rejection::ParkFull(..) => "park_full",
            Rejection::NotParkedHere(_) => "not_parked_here",
            Rejection::ParkedTickets(_) => "parked_tickets",
            Rejection::NoAppointments => "no_appointments",
            Rejection::DuplicateCode => "duplicate_code",
            Rejection::PhoneRequired => "phone_required",
            Rejection::BadDay(_) => "bad_day",
            Rejection::BadSlot => "bad_slot",
            Rejection::SlotPast => "slot_past",
            Rejection::SlotFull => "slot_full",
            Rejection::AlreadyBooked => "already_booked",
            Rejection::DayClosed(_) => "day_closed",
            Rejection::PhoneLimit(_) => "phone_limit",
            Rejection::AddressLimit(..) => "address_limit",
            Rejection::UnknownAppointment => "unknown_appointment",
            Rejection::AppointmentClosed(_) => "appointment_closed",
            Rejection::NotToday(_) => "not_today",
            Rejection::AlreadyCheckedIn => "already_checked_in",
            Rejection::CheckInRequired => "check_in_required",
            Rejection::UnknownReason(_) => "unknown_reason",
            Rejection::ReasonTextRequired(_) => "reason_text_required",
            Rejection::ReasonNotAsked => "reason_not_asked",
            Rejection::UnknownCase => "unknown_case",
            Rejection::CaseClosed => "case_closed",
            Rejection::NoteRequired => "note_required",
            Rejection::CallbacksFull(_) => "callbacks_full",
            Rejection::CallbackFirst => "callback_first",
            Rejection::UserDisabled => "user_disabled",
            Rejection::CannotDisableSelf => "cannot_disable_self",
            Rejection::BadWindowQueues(_) => "bad_queues",
            Rejection::UnknownAlert => "unknown_alert",
            Rejection::UserExists => "user_exists",
            Rejection::TooManyUsers(_) => "too_many_users",
            Rejection::WindowNotServing(_) => "window_not_serving",
            Rejection::ConfigRemoved(_) => "config_removed",
            Rejection::IdempotencyConflict => "idempotency_conflict",
            Rejection::NoEscalation => "no_escalation",
            Rejection::UnknownEscalationReason(_) => "unknown_escalation_reason",
            Rejection::AlreadyEscalated => "already_escalated",
            Rejection::EscalationsFull(_) => "escalations_full",
            Rejection::WalkDirectBehindAged { .. } => "walk_direct_behind_aged",
            Rejection::WalkDirectLimit(..) => "walk_direct_limit",
            Rejection::WalkDirectNotServed(..) => "walk_direct_not_served",
            Rejection::PersonDailyLimit(_) => "person_daily_limit",
            Rejection::PersonMustWait { .. } => "person_must_wait",
            Rejection::DepartmentRequired(_) => "department_required",
            Rejection::EscortsFull(_) => "escorts_full",
            Rejection::EscortedByOther => "escorted_by_other",
            Rejection::NotEscorted => "not_escorted",
            Rejection::NotEscortable(_) => "not_escortable",
            Rejection::NoEnterprises => "no_enterprises",
            Rejection::UnknownEnterprise => "unknown_enterprise",
            Rejection::EnterpriseExists => "enterprise_exists",
            Rejection::EnterprisesFull(_) => "enterprises_full",
            Rejection::BadEnterpriseName(_) => "bad_enterprise_name",
            Rejection::BadFollowUpDate(_) => "bad_follow_up_date",
            Rejection::FollowUpsFull(_) => "follow_ups_full",
        }
    }

    pub fn kind(&self) -> RejectionKind {
        match self {
            Rejection::UnknownService(_)
            | Rejection::UnknownPriority(_)
            | Rejection::BadScore
            | Rejection::ReasonRequired
            | Rejection::CallReasonRequired
            | Rejection::CommentTooLong
            | Rejection::TransferToSelf
            | Rejection::PhoneRequired
            | Rejection::BadDay(_)
            | Rejection::BadSlot
            | Rejection::UnknownReason(_)
            | Rejection::ReasonTextRequired(_)
            | Rejection::ReasonNotAsked
            | Rejection::NoteRequired
            | Rejection::WindowNotServing(_)
            | Rejection::BadWindowQueues(_)
            | Rejection::CheckInRequired
            | Rejection::UnknownEscalationReason(_)
            | Rejection::DepartmentRequired(_)
            | Rejection::WalkDirectNotServed(..)
            | Rejection::BadEnterpriseName(_)
            | Rejection::BadFollowUpDate(_) => RejectionKind::BadInput,
            Rejection::UnknownTicket
            | Rejection::UnknownWindow(_)
            | Rejection::UnknownQueue(_)
            | Rejection::UnknownNumber(_)
            | Rejection::UnknownAppointment
            | Rejection::NoAppointments
            | Rejection::UnknownCase
            | Rejection::UnknownAlert
            | Rejection::NoEscalation
            | Rejection::NoEnterprises
            | Rejection::UnknownEnterprise => RejectionKind::NotFound,
            Rejection::NotYourWindow(_) | Rejection::UserDisabled => RejectionKind::Forbidden,
            Rejection::HallClosed | Rejection::DayFull | Rejection::EscalationsFull(_) => RejectionKind::Unavailable,
            Rejection::NotWaiting(_)
            | Rejection::NotRateable(_)
            | Rejection::AlreadyRated
            | Rejection::WindowTaken(_)
            | Rejection::ClerkElsewhere(_)
            | Rejection::WindowClosed(_)
            | Rejection::WindowPaused(_)
            | Rejection::WindowBusy(_)
            | Rejection::NoTicket(_)
            | Rejection::WrongTicketState(_)
            | Rejection::NotPaused(_)
            | Rejection::DuplicateTicketId
            | Rejection::WaitsElsewhere(_)
            | Rejection::RecallLimit(_)
            | Rejection::RejoinExpired(_)
            | Rejection::NotMissed(_)
            | Rejection::ParkFull(..)
            | Rejection::NotParkedHere(_)
            | Rejection::ParkedTickets(_)
            | Rejection::DuplicateCode
            | Rejection::SlotPast
            | Rejection::SlotFull
            | Rejection::AlreadyBooked
            | Rejection::DayClosed(_)
            | Rejection::PhoneLimit(_)
            | Rejection::AddressLimit(..)
            | Rejection::AppointmentClosed(_)
            | Rejection::NotToday(_)
            | Rejection::AlreadyCheckedIn
            | Rejection::CaseClosed
            | Rejection::CallbacksFull(_)
            | Rejection::CallbackFirst
            | Rejection::CannotDisableSelf
            | Rejection::UserExists
            | Rejection::ConfigRemoved(_)
            | Rejection::TooManyUsers(_)
            | Rejection::AlreadyEscalated
            | Rejection::IdempotencyConflict
            | Rejection::EscortsFull(_)
            | Rejection::EscortedByOther
            | Rejection::NotEscorted
            | Rejection::NotEscortable(_)
            | Rejection::WalkDirectBehindAged { .. }
            | Rejection::WalkDirectLimit(..)
            | Rejection::PersonDailyLimit(_)
            | Rejection::PersonMustWait { .. }
            | Rejection::EnterpriseExists
            | Rejection::EnterprisesFull(_)
            | Rejection::FollowUpsFull(_) => RejectionKind::Conflict,
        }
    }
}
