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

/// The table of rejections: each row is the message (`#[error]`), the variant, its stable
/// code and its kind. `code` and `kind` are generated from it, so a new rejection is one
/// row and cannot be left without either.
macro_rules! rejections {
    ($( $(#[$meta:meta])* $name:ident $( ( $($tuple:ty),* ) )? $( { $($field:ident : $fty:ty),* } )?
        => $code:literal, $kind:ident; )*) => {
        /// Why the hall refused a command. Refusing changes nothing.
        #[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
        pub enum Rejection {
            $( $(#[$meta])* $name $( ( $($tuple),* ) )? $( { $($field : $fty),* } )?, )*
        }

        impl Rejection {
            /// The stable snake_case code clients switch on.
            pub fn code(&self) -> &'static str {
                match self {
                    $( Rejection::$name { .. } => $code, )*
                }
            }

            /// The family of failure, which the shell maps to a status.
            pub fn kind(&self) -> RejectionKind {
                match self {
                    $( Rejection::$name { .. } => RejectionKind::$kind, )*
                }
            }
        }
    };
}

rejections! {
    #[error("unknown service {0:?}; pick an item code or bundle id from /api/v1/services")]
    UnknownService(String) => "unknown_service", BadInput;
    #[error("unknown priority class {0:?}; use one listed in /api/v1/services")]
    UnknownPriority(String) => "unknown_priority", BadInput;
    #[error("no such ticket")]
    UnknownTicket => "unknown_ticket", NotFound;
    #[error("no such window {0}")]
    UnknownWindow(String) => "unknown_window", NotFound;
    #[error("no such queue {0}")]
    UnknownQueue(String) => "unknown_queue", NotFound;
    #[error("the hall is closed for new tickets now; come back during opening hours")]
    HallClosed => "hall_closed", Unavailable;
    #[error("the hall has issued its maximum of tickets for today")]
    DayFull => "day_full", Unavailable;
    #[error("only a waiting ticket can be cancelled; this one is {0}")]
    NotWaiting(&'static str) => "not_waiting", Conflict;
    #[error("only a finished service can be rated; this ticket is {0}")]
    NotRateable(&'static str) => "not_rateable", Conflict;
    #[error("this ticket has already been rated")]
    AlreadyRated => "already_rated", Conflict;
    #[error("a score must be 1 to 5")]
    BadScore => "bad_score", BadInput;
    #[error("a comment may have at most {COMMENT_CHARS_MAX} characters")]
    CommentTooLong => "comment_too_long", BadInput;
    #[error("window {0} is open under another clerk; ask them to close it first")]
    WindowTaken(String) => "window_taken", Conflict;
    #[error("you are signed in at window {0}; close it before opening another")]
    ClerkElsewhere(String) => "clerk_elsewhere", Conflict;
    #[error("you are not signed in at window {0}")]
    NotYourWindow(String) => "not_your_window", Forbidden;
    #[error("window {0} is closed; open it first")]
    WindowClosed(String) => "window_closed", Conflict;
    #[error("window {0} is paused; resume it first")]
    WindowPaused(String) => "window_paused", Conflict;
    #[error("window {0} still holds a ticket; finish, mark no-show or transfer it first")]
    WindowBusy(String) => "window_busy", Conflict;
    #[error("window {0} holds no ticket")]
    NoTicket(String) => "no_ticket", Conflict;
    #[error("the ticket at this window is {0}; that action is not possible now")]
    WrongTicketState(&'static str) => "wrong_ticket_state", Conflict;
    #[error("window {0} is not paused")]
    NotPaused(String) => "not_paused", Conflict;
    #[error("a ticket cannot be transferred to the window that holds it")]
    TransferToSelf => "transfer_to_self", BadInput;
    #[error("that ticket id is already in use; draw a new one")]
    DuplicateTicketId => "duplicate_ticket_id", Conflict;
    #[error("a rating of 1 or 2 needs a reason; say what went wrong")]
    ReasonRequired => "reason_required", BadInput;
    #[error("no ticket numbered {0} today")]
    UnknownNumber(String) => "unknown_number", NotFound;
    #[error("calling a ticket out of order needs a reason of 1 to {CALL_REASON_CHARS_MAX} characters")]
    CallReasonRequired => "call_reason_required", BadInput;
    #[error("that ticket waits for window {0}; it can be called only there")]
    WaitsElsewhere(String) => "waits_elsewhere", Conflict;
    #[error("this number has been recalled {0} times already; mark it a no-show")]
    RecallLimit(u32) => "recall_limit", Conflict;
    #[error("a missed number may rejoin only within {0} minutes of being missed; take a new ticket")]
    RejoinExpired(u32) => "rejoin_expired", Conflict;
    #[error("only a missed number can rejoin; this ticket is {0}")]
    NotMissed(&'static str) => "not_missed", Conflict;
    #[error("window {0} already holds {1} parked tickets; resume one first")]
    ParkFull(String, u32) => "park_full", Conflict;
    #[error("that ticket is not parked at window {0}")]
    NotParkedHere(String) => "not_parked_here", Conflict;
    #[error("window {0} still has parked tickets; resume and finish them first")]
    ParkedTickets(String) => "parked_tickets", Conflict;
    #[error("this hall takes no appointments")]
    NoAppointments => "no_appointments", NotFound;
    #[error("that booking code is already in use; draw a new one")]
    DuplicateCode => "duplicate_code", Conflict;
    #[error("a booking needs a phone number")]
    PhoneRequired => "phone_required", BadInput;
    #[error("book a day from today to {0} days ahead")]
    BadDay(u32) => "bad_day", BadInput;
    #[error("no such slot; pick one listed by /api/v1/appointments/slots")]
    BadSlot => "bad_slot", BadInput;
    #[error("that slot has begun; pick a later one")]
    SlotPast => "slot_past", Conflict;
    #[error("that slot is fully booked; pick another")]
    SlotFull => "slot_full", Conflict;
    #[error("this phone number already holds a booking that day")]
    AlreadyBooked => "already_booked", Conflict;
    #[error("the hall is closed on {0} (a rest day or public holiday); pick a working day")]
    DayClosed(String) => "day_closed", Conflict;
    #[error("this phone number already holds {0} bookings; cancel one or book after one has passed")]
    PhoneLimit(u32) => "phone_limit", Conflict;
    #[error("your network address already holds {0} bookings {1}; cancel one or book from another network")]
    AddressLimit(u32, &'static str) => "address_limit", Conflict;
    #[error("no such booking")]
    UnknownAppointment => "unknown_appointment", NotFound;
    #[error("this booking is {0}")]
    AppointmentClosed(&'static str) => "appointment_closed", Conflict;
    #[error("this booking is for {0}, not today")]
    NotToday(String) => "not_today", Conflict;
    #[error("this ticket has already checked in")]
    AlreadyCheckedIn => "already_checked_in", Conflict;
    #[error("the appointment queue takes booked visitors only: check in the booking at a kiosk (POST /api/v1/appointments/CODE/check-in) or take a ticket of the service itself")]
    CheckInRequired => "check_in_required", BadInput;
    #[error("unknown reason {0:?}; pick a reason code listed in /api/v1/services under rating")]
    UnknownReason(String) => "unknown_reason", BadInput;
    #[error("the reason \"{0}\" needs a few words in the comment")]
    ReasonTextRequired(String) => "reason_text_required", BadInput;
    #[error("a reason is asked only for a rating of 1 or 2; leave it out")]
    ReasonNotAsked => "reason_not_asked", BadInput;
    #[error("no such case")]
    UnknownCase => "unknown_case", NotFound;
    #[error("this case is closed already")]
    CaseClosed => "case_closed", Conflict;
    #[error("a note needs 1 to {} characters", super::rating::NOTE_CHARS_MAX)]
    NoteRequired => "note_required", BadInput;
    #[error("this case has {0} call-backs already; record the rectification")]
    CallbacksFull(usize) => "callbacks_full", Conflict;
    #[error("record a call-back of the visitor before the rectification")]
    CallbackFirst => "callback_first", Conflict;
    #[error("this user is disabled; ask an admin to enable it")]
    UserDisabled => "user_disabled", Forbidden;
    #[error("an admin may not disable their own user; ask another admin")]
    CannotDisableSelf => "cannot_disable_self", Conflict;
    #[error("a window must serve 1 to {0} queues of the hall, each once")]
    BadWindowQueues(usize) => "bad_queues", BadInput;
    #[error("no such alert today; list them at /api/v1/alerts")]
    UnknownAlert => "unknown_alert", NotFound;
    #[error("a user of that name exists already; choose another name")]
    UserExists => "user_exists", Conflict;
    #[error("the hall has {0} added users already; disable or remove some in hall.toml")]
    TooManyUsers(usize) => "too_many_users", Conflict;
    #[error("window {0} does not serve this service; book without a window, or name one that serves it")]
    WindowNotServing(String) => "window_not_serving", BadInput;
    #[error("{0}")]
    ConfigRemoved(String) => "config_removed", Conflict;
    #[error("this idempotency key was used today for another command; send a fresh key with a new command")]
    IdempotencyConflict => "idempotency_conflict", Conflict;
    #[error("this hall has no escalation queue ([hall.escalation] in hall.toml); finish the ticket or transfer it")]
    NoEscalation => "no_escalation", NotFound;
    #[error("unknown reason {0:?}; pick a reason code listed in /api/v1/services under escalation")]
    UnknownEscalationReason(String) => "unknown_escalation_reason", BadInput;
    #[error("this matter is with the escalation window already; its case is answered or referred there")]
    AlreadyEscalated => "already_escalated", Conflict;
    #[error("the hall has opened {0} escalation cases today; ask a supervisor")]
    EscalationsFull(usize) => "escalations_full", Unavailable;
    #[error("a referral names the department in 1 to {0} characters")]
    DepartmentRequired(usize) => "department_required", BadInput;
    // 全程领办 (issue 17 §1): guides and escorts.
    #[error("you escort {0} visitors still in the hall, as many as the hall allows; release one first")]
    EscortsFull(usize) => "escorts_full", Conflict;
    #[error("this visitor is under another guide's escort; ask that guide to release them first")]
    EscortedByOther => "escorted_by_other", Conflict;
    #[error("you are not escorting this ticket")]
    NotEscorted => "not_escorted", Conflict;
    #[error("this ticket is {0}; only a ticket still in the hall can be taken under escort")]
    NotEscortable(&'static str) => "not_escortable", Conflict;
    // Issue 17 §4, the clerk's moves.
    #[error("ticket {number} has waited {waited_min} minutes, past the hall's max_wait of {max_min}; call it first (next), then issue the walk-up")]
    WalkDirectBehindAged { number: String, waited_min: u32, max_min: u32 } => "walk_direct_behind_aged", Conflict;
    #[error("window {0} has issued its {1} walk-direct tickets for today; send the visitor to the kiosk")]
    WalkDirectLimit(String, u32) => "walk_direct_limit", Conflict;
    #[error("window {0} does not serve queue {1}; send the visitor to the kiosk")]
    WalkDirectNotServed(String, String) => "walk_direct_not_served", BadInput;
    #[error("this ID card has taken its {0} tickets for today; ask at the information desk")]
    PersonDailyLimit(u32) => "person_daily_limit", Conflict;
    #[error("this ID card has missed its call {no_shows} time(s) today; a new ticket can be taken from {until}")]
    PersonMustWait { no_shows: u32, until: String } => "person_must_wait", Conflict;
    // 助企服务 (issue 17 §3).
    #[error("this hall keeps no enterprise registry ([enterprises] in hall.toml)")]
    NoEnterprises => "no_enterprises", NotFound;
    #[error("no such enterprise")]
    UnknownEnterprise => "unknown_enterprise", NotFound;
    #[error("an enterprise with this id or credit code is registered already")]
    EnterpriseExists => "enterprise_exists", Conflict;
    #[error("the registry holds its maximum of {0} enterprises")]
    EnterprisesFull(usize) => "enterprises_full", Conflict;
    #[error("an enterprise's name is 1 to {0} characters")]
    BadEnterpriseName(usize) => "bad_enterprise_name", BadInput;
    #[error("a follow-up's date lies between 2000-01-01 and {0} days from today")]
    BadFollowUpDate(u64) => "bad_follow_up_date", BadInput;
    #[error("this enterprise's log holds its maximum of {0} follow-ups")]
    FollowUpsFull(usize) => "follow_ups_full", Conflict;
    // 跨中心转办 (issue 18).
    #[error("{0}")]
    BadReferral(&'static str) => "bad_referral", BadInput;
}
