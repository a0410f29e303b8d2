//! Every refusal of the core, by its code and kind, each with proof that it changed
//! nothing; and a check that the tables refuse with every variant of `Rejection`. The
//! scripts (`at_window_1`, …) are core_transitions.rs's.

use crate::core_rejections_codes::code_of_every_rejection;
use crate::core_support;
use crate::core_transitions::{at_window_1, done_at_1, rejoin_after, run, serving_at_1, then, Row};

use core_support::*;
use hallq::core::command::RejectionKind;
use hallq::core::model::Outcome;

use Outcome::Completed;
use RejectionKind::{BadInput, Conflict, Forbidden, NotFound};

#[test]
fn every_rejection_has_its_code_and_kind_and_changes_nothing() {
    run(rejection_rows());
}

fn rejection_rows() -> Vec<Row> {
    let comment_501 = "好".repeat(501);
    let rejected = Expect::Rejected;
    vec![
        ("unknown service", vec![issue(1, "SC-X9", None)], rejected("unknown_service", BadInput)),
        (
            "unknown service, after the day opened",
            vec![tick(), issue(1, "SC-X9", None)],
            rejected("unknown_service", BadInput),
        ),
        ("unknown priority", vec![issue(1, "SC-A1", Some("vip"))], rejected("unknown_priority", BadInput)),
        ("unknown ticket, cancel", vec![issue(1, "SC-A1", None), cancel(2)], rejected("unknown_ticket", NotFound)),
        ("unknown ticket, rate", vec![issue(1, "SC-A1", None), rate(2, 5, None)], rejected("unknown_ticket", NotFound)),
        ("unknown window, open", vec![tick(), open("9", "c1")], rejected("unknown_window", NotFound)),
        ("unknown window, next", vec![tick(), next("9", "c1")], rejected("unknown_window", NotFound)),
        (
            "unknown window, transfer",
            then(at_window_1(), vec![to_window("1", "c1", "9")]),
            rejected("unknown_window", NotFound),
        ),
        (
            "unknown queue, transfer",
            then(at_window_1(), vec![to_queue("1", "c1", "Z")]),
            rejected("unknown_queue", NotFound),
        ),
        ("not waiting, called", then(at_window_1(), vec![cancel(1)]), rejected("not_waiting", Conflict)),
        (
            "not waiting, cancelled",
            vec![issue(1, "SC-A1", None), cancel(1), cancel(1)],
            rejected("not_waiting", Conflict),
        ),
        ("not rateable, waiting", vec![issue(1, "SC-A1", None), rate(1, 5, None)], rejected("not_rateable", Conflict)),
        ("not rateable, serving", then(serving_at_1(), vec![rate(1, 5, None)]), rejected("not_rateable", Conflict)),
        (
            "not rateable, no-show",
            then(at_window_1(), vec![no_show("1", "c1"), rate(1, 5, None)]),
            rejected("not_rateable", Conflict),
        ),
        (
            "already rated",
            then(done_at_1(), vec![rate(1, 5, None), rate(1, 4, None)]),
            rejected("already_rated", Conflict),
        ),
        ("bad score 0", then(done_at_1(), vec![rate(1, 0, None)]), rejected("bad_score", BadInput)),
        ("bad score 6", then(done_at_1(), vec![rate(1, 6, None)]), rejected("bad_score", BadInput)),
        (
            "a low score without a reason",
            then(done_at_1(), vec![rate(1, 2, None)]),
            rejected("reason_required", BadInput),
        ),
        (
            "a low score with a blank reason",
            then(done_at_1(), vec![rate(1, 1, Some("  "))]),
            rejected("reason_required", BadInput),
        ),
        (
            "comment too long",
            then(done_at_1(), vec![rate(1, 5, Some(&comment_501))]),
            rejected("comment_too_long", BadInput),
        ),
        ("window taken", vec![open("1", "c1"), open("1", "c2")], rejected("window_taken", Conflict)),
        ("clerk elsewhere", vec![open("1", "c1"), open("2", "c1")], rejected("clerk_elsewhere", Conflict)),
        ("not your window, next", vec![open("1", "c1"), next("1", "c2")], rejected("not_your_window", Forbidden)),
        ("not your window, close", vec![open("1", "c1"), close("1", "c2")], rejected("not_your_window", Forbidden)),
        ("not your window, serve", then(at_window_1(), vec![serve("1", "c2")]), rejected("not_your_window", Forbidden)),
        ("window closed, never opened", vec![tick(), next("1", "c1")], rejected("window_closed", Conflict)),
        (
            "window closed, after close",
            vec![open("1", "c1"), close("1", "c1"), pause("1", "c1")],
            rejected("window_closed", Conflict),
        ),
        (
            "window paused",
            vec![issue(1, "SC-A1", None), open("1", "c1"), pause("1", "c1"), next("1", "c1")],
            rejected("window_paused", Conflict),
        ),
        (
            "window busy, next",
            then(at_window_1(), vec![issue(2, "SC-A1", None), next("1", "c1")]),
            rejected("window_busy", Conflict),
        ),
        ("window busy, close", then(serving_at_1(), vec![close("1", "c1")]), rejected("window_busy", Conflict)),
        ("window busy, pause", then(at_window_1(), vec![pause("1", "c1")]), rejected("window_busy", Conflict)),
        ("no ticket, recall", vec![open("1", "c1"), recall("1", "c1")], rejected("no_ticket", Conflict)),
        ("no ticket, serve", vec![open("1", "c1"), serve("1", "c1")], rejected("no_ticket", Conflict)),
        ("no ticket, done", vec![open("1", "c1"), done("1", "c1", Completed)], rejected("no_ticket", Conflict)),
        (
            "no ticket, no-show",
            then(at_window_1(), vec![no_show("1", "c1"), no_show("1", "c1")]),
            rejected("no_ticket", Conflict),
        ),
        ("no ticket, transfer", vec![open("1", "c1"), to_queue("1", "c1", "B")], rejected("no_ticket", Conflict)),
        (
            "wrong state, serve twice",
            then(serving_at_1(), vec![serve("1", "c1")]),
            rejected("wrong_ticket_state", Conflict),
        ),
        (
            "wrong state, done while called",
            then(at_window_1(), vec![done("1", "c1", Completed)]),
            rejected("wrong_ticket_state", Conflict),
        ),
        (
            "wrong state, no-show while serving",
            then(serving_at_1(), vec![no_show("1", "c1")]),
            rejected("wrong_ticket_state", Conflict),
        ),
        (
            "wrong state, recall while serving",
            then(serving_at_1(), vec![recall("1", "c1")]),
            rejected("wrong_ticket_state", Conflict),
        ),
        ("not paused", vec![open("1", "c1"), resume("1", "c1")], rejected("not_paused", Conflict)),
        (
            "call by number, nothing called",
            vec![open("1", "c1"), call_number("1", "c1", "A099", "sent back")],
            rejected("unknown_number", NotFound),
        ),
        (
            "call by number, already called",
            then(at_window_1(), vec![open("2", "c2"), call_number("2", "c2", "A001", "sent back")]),
            rejected("not_waiting", Conflict),
        ),
        (
            "call by number without a reason",
            vec![issue(1, "SC-A1", None), open("1", "c1"), call_number("1", "c1", "a001", "  ")],
            rejected("call_reason_required", BadInput),
        ),
        (
            "call by number, sent to another window",
            then(
                at_window_1(),
                vec![
                    open("2", "c2"),
                    to_window("1", "c1", "2"),
                    open("3", "c3"),
                    call_number("3", "c3", "A001", "sent back"),
                ],
            ),
            rejected("waits_elsewhere", Conflict),
        ),
        (
            "transfer to self",
            then(at_window_1(), vec![to_window("1", "c1", "1")]),
            rejected("transfer_to_self", BadInput),
        ),
        (
            "transfer to a closed window",
            then(at_window_1(), vec![to_window("1", "c1", "2")]),
            rejected("window_closed", Conflict),
        ),
        (
            "recall limit",
            then(at_window_1(), vec![recall("1", "c1"), recall("1", "c1"), recall("1", "c1")]),
            rejected("recall_limit", Conflict),
        ),
        ("rejoin while waiting", vec![issue(1, "SC-A1", None), rejoin(1)], rejected("not_missed", Conflict)),
        ("rejoin a done ticket", then(done_at_1(), vec![rejoin(1)]), rejected("not_missed", Conflict)),
        ("rejoin too late", rejoin_after(31), rejected("rejoin_expired", Conflict)),
        (
            "park a fourth ticket",
            vec![
                issue(1, "SC-A1", None),
                issue(2, "SC-A1", None),
                issue(3, "SC-A1", None),
                issue(4, "SC-A1", None),
                open("1", "c1"),
                next("1", "c1"),
                park("1", "c1"),
                next("1", "c1"),
                park("1", "c1"),
                next("1", "c1"),
                park("1", "c1"),
                next("1", "c1"),
                park("1", "c1"),
            ],
            rejected("park_full", Conflict),
        ),
        ("park with no ticket", vec![open("1", "c1"), park("1", "c1")], rejected("no_ticket", Conflict)),
        (
            "resume a ticket parked elsewhere",
            then(at_window_1(), vec![park("1", "c1"), open("2", "c2"), unpark("2", "c2", 1)]),
            rejected("not_parked_here", Conflict),
        ),
        (
            "resume a parked ticket while busy",
            vec![
                issue(1, "SC-A1", None),
                issue(2, "SC-A1", None),
                open("1", "c1"),
                next("1", "c1"),
                park("1", "c1"),
                next("1", "c1"),
                unpark("1", "c1", 1),
            ],
            rejected("window_busy", Conflict),
        ),
        (
            "close with a parked ticket",
            then(at_window_1(), vec![park("1", "c1"), close("1", "c1")]),
            rejected("parked_tickets", Conflict),
        ),
        (
            "duplicate ticket id",
            vec![issue(1, "SC-A1", None), issue(1, "SC-B1", None)],
            rejected("duplicate_ticket_id", Conflict),
        ),
        (
            "duplicate id of a cancelled ticket",
            vec![issue(1, "SC-A1", None), cancel(1), issue(1, "SC-A1", None)],
            rejected("duplicate_ticket_id", Conflict),
        ),
        (
            "a key reused for another service",
            vec![keyed(issue(1, "SC-A1", None), "kiosk-1/k1"), keyed(issue(2, "SC-B1", None), "kiosk-1/k1")],
            rejected("idempotency_conflict", Conflict),
        ),
        (
            "a key reused at another window",
            vec![open("1", "c1"), keyed(pause("1", "c1"), "c1/k"), open("2", "c2"), keyed(pause("2", "c2"), "c1/k")],
            rejected("idempotency_conflict", Conflict),
        ),
    ]
}

#[test]
fn the_tables_refuse_with_every_rejection() {
    let mut covered: Vec<&str> = rejection_rows()
        .iter()
        .filter_map(|(_, _, e)| match e {
            Expect::Rejected(code, _) => Some(*code),
            Expect::Ok(..) | Expect::Repeated(_) => None,
        })
        .collect();
    // Refused in tests of their own in core_day.rs: they need other hours or a full day.
    covered.extend(["hall_closed", "day_full"]);
    // Refused in core_appointments.rs (every_booking_refusal_has_its_code and the booking
    // tests): they need bookings and an appointment queue.
    covered.extend([
        "no_appointments",
        "duplicate_code",
        "phone_required",
        "bad_day",
        "bad_slot",
        "slot_past",
        "slot_full",
        "already_booked",
        "day_closed",
        "phone_limit",
        "address_limit",
        "unknown_appointment",
        "appointment_closed",
        "not_today",
        "already_checked_in",
        "check_in_required",
    ]);
    // Refused in core_rating.rs (every_rating_and_case_refusal_has_its_code): they need
    // the hall's reasons and its bad-rating cases.
    covered.extend([
        "unknown_reason",
        "reason_text_required",
        "reason_not_asked",
        "unknown_case",
        "case_closed",
        "note_required",
        "callbacks_full",
        "callback_first",
    ]);
    // Refused in core_audit.rs: logins of a disabled user, an admin disabling themselves,
    // a window set to serve no queue, a user added twice, one user too many.
    covered.extend(["user_disabled", "cannot_disable_self", "bad_queues", "user_exists", "too_many_users"]);
    // Refused in core_alerts.rs (a_supervisor_acknowledges_an_alert_once_...): it needs alerts.
    covered.push("unknown_alert");
    // Refused in core_stranded.rs: a booking naming a window that cannot call it (needs
    // the appointment queue), and a start-up under a hall.toml that lost a queue.
    covered.extend(["window_not_serving", "config_removed"]);
    // Refused in core_escalation.rs: they need the escalation queue and its cases.
    covered.extend([
        "no_escalation",
        "unknown_escalation_reason",
        "already_escalated",
        "escalations_full",
        "department_required",
    ]);
    // Refused in core_guides.rs: they need guides and their escorts.
    covered.extend(["escorts_full", "escorted_by_other", "not_escorted", "not_escortable"]);
    // Refused in core_moves.rs: walk-direct and the per-person limits need their hall.
    covered.extend([
        "walk_direct_behind_aged",
        "walk_direct_limit",
        "walk_direct_not_served",
        "person_daily_limit",
        "person_must_wait",
    ]);
    // Refused in core_enterprise.rs: they need the enterprise registry.
    covered.extend([
        "no_enterprises",
        "unknown_enterprise",
        "enterprise_exists",
        "enterprises_full",
        "bad_enterprise_name",
        "bad_follow_up_date",
        "follow_ups_full",
    ]);
    // Refused in core_referrals.rs: a referral's fields out of bounds.
    covered.push("bad_referral");
    let mut all = code_of_every_rejection();
    all.sort_unstable();
    covered.sort_unstable();
    covered.dedup();
    assert_eq!(covered, all);
}
