//! Every variant of `Rejection`, for `core_rejections.rs`: the table the compiler holds to
//! the enum.

/// Every variant of `Rejection` by its code. The match has no `_` arm, so a new variant
/// does not compile until it is listed here, and then the test below fails until a row
/// refuses a command with it.
pub fn code_of_every_rejection() -> Vec<&'static str> {
    use hallq::core::command::Rejection as R;
    let all = [
        R::UnknownService(String::new()),
        R::UnknownPriority(String::new()),
        R::UnknownTicket,
        R::UnknownWindow(String::new()),
        R::UnknownQueue(String::new()),
        R::HallClosed,
        R::DayFull,
        R::NotWaiting(""),
        R::NotRateable(""),
        R::AlreadyRated,
        R::BadScore,
        R::CommentTooLong,
        R::WindowTaken(String::new()),
        R::ClerkElsewhere(String::new()),
        R::NotYourWindow(String::new()),
        R::WindowClosed(String::new()),
        R::WindowPaused(String::new()),
        R::WindowBusy(String::new()),
        R::NoTicket(String::new()),
        R::WrongTicketState(""),
        R::NotPaused(String::new()),
        R::TransferToSelf,
        R::DuplicateTicketId,
        R::ReasonRequired,
        R::UnknownNumber(String::new()),
        R::CallReasonRequired,
        R::WaitsElsewhere(String::new()),
        R::RecallLimit(0),
        R::RejoinExpired(0),
        R::NotMissed(""),
        R::ParkFull(String::new(), 0),
        R::NotParkedHere(String::new()),
        R::ParkedTickets(String::new()),
        R::NoAppointments,
        R::DuplicateCode,
        R::PhoneRequired,
        R::BadDay(0),
        R::BadSlot,
        R::SlotPast,
        R::SlotFull,
        R::AlreadyBooked,
        R::DayClosed(String::new()),
        R::PhoneLimit(0),
        R::AddressLimit(0, ""),
        R::UnknownAppointment,
        R::AppointmentClosed(""),
        R::NotToday(String::new()),
        R::AlreadyCheckedIn,
        R::CheckInRequired,
        R::UnknownReason(String::new()),
        R::ReasonTextRequired(String::new()),
        R::ReasonNotAsked,
        R::UnknownCase,
        R::CaseClosed,
        R::NoteRequired,
        R::CallbacksFull(0),
        R::CallbackFirst,
        R::UserDisabled,
        R::CannotDisableSelf,
        R::BadWindowQueues(0),
        R::UnknownAlert,
        R::UserExists,
        R::TooManyUsers(0),
        R::WindowNotServing(String::new()),
        R::ConfigRemoved(String::new()),
        R::IdempotencyConflict,
        R::NoEscalation,
        R::UnknownEscalationReason(String::new()),
        R::AlreadyEscalated,
        R::EscalationsFull(0),
        R::DepartmentRequired(0),
        R::EscortsFull(0),
        R::EscortedByOther,
        R::NotEscorted,
        R::NotEscortable(""),
        R::WalkDirectBehindAged { number: String::new(), waited_min: 0, max_min: 0 },
        R::WalkDirectLimit(String::new(), 0),
        R::WalkDirectNotServed(String::new(), String::new()),
        R::PersonDailyLimit(0),
        R::PersonMustWait { no_shows: 0, until: String::new() },
        R::NoEnterprises,
        R::UnknownEnterprise,
        R::EnterpriseExists,
        R::EnterprisesFull(0),
        R::BadEnterpriseName(0),
        R::BadFollowUpDate(0),
        R::FollowUpsFull(0),
        R::BadReferral(""),
    ];
    for r in &all {
        match r {
            R::UnknownService(_)
            | R::UnknownPriority(_)
            | R::UnknownTicket
            | R::UnknownWindow(_)
            | R::UnknownQueue(_)
            | R::HallClosed
            | R::DayFull
            | R::NotWaiting(_)
            | R::NotRateable(_)
            | R::AlreadyRated
            | R::BadScore
            | R::CommentTooLong
            | R::WindowTaken(_)
            | R::ClerkElsewhere(_)
            | R::NotYourWindow(_)
            | R::WindowClosed(_)
            | R::WindowPaused(_)
            | R::WindowBusy(_)
            | R::NoTicket(_)
            | R::WrongTicketState(_)
            | R::NotPaused(_)
            | R::TransferToSelf
            | R::DuplicateTicketId
            | R::ReasonRequired
            | R::UnknownNumber(_)
            | R::CallReasonRequired
            | R::WaitsElsewhere(_)
            | R::RecallLimit(_)
            | R::RejoinExpired(_)
            | R::NotMissed(_)
            | R::ParkFull(..)
            | R::NotParkedHere(_)
            | R::ParkedTickets(_)
            | R::NoAppointments
            | R::DuplicateCode
            | R::PhoneRequired
            | R::BadDay(_)
            | R::BadSlot
            | R::SlotPast
            | R::SlotFull
            | R::AlreadyBooked
            | R::DayClosed(_)
            | R::PhoneLimit(_)
            | R::AddressLimit(..)
            | R::UnknownAppointment
            | R::AppointmentClosed(_)
            | R::NotToday(_)
            | R::AlreadyCheckedIn
            | R::CheckInRequired
            | R::UnknownReason(_)
            | R::ReasonTextRequired(_)
            | R::ReasonNotAsked
            | R::UnknownCase
            | R::CaseClosed
            | R::NoteRequired
            | R::CallbacksFull(_)
            | R::CallbackFirst => {}
            R::UserDisabled | R::CannotDisableSelf | R::BadWindowQueues(_) => {}
            R::UnknownAlert => {}
            R::UserExists | R::TooManyUsers(_) => {}
            R::WindowNotServing(_) | R::ConfigRemoved(_) => {}
            R::IdempotencyConflict => {}
            R::NoEscalation
            | R::UnknownEscalationReason(_)
            | R::AlreadyEscalated
            | R::EscalationsFull(_)
            | R::DepartmentRequired(_) => {}
            R::EscortsFull(_) | R::EscortedByOther | R::NotEscorted | R::NotEscortable(_) => {}
            R::WalkDirectBehindAged { .. }
            | R::WalkDirectLimit(..)
            | R::WalkDirectNotServed(..)
            | R::PersonDailyLimit(_)
            | R::PersonMustWait { .. } => {}
            R::NoEnterprises
            | R::UnknownEnterprise
            | R::EnterpriseExists
            | R::EnterprisesFull(_)
            | R::BadEnterpriseName(_)
            | R::BadFollowUpDate(_)
            | R::FollowUpsFull(_) => {}
            R::BadReferral(_) => {}
        }
    }
    all.iter().map(|r| r.code()).collect()
}
