//! 好差评 in the core: the five levels and the reason a bad rating needs, the case a bad
//! rating opens with its deadline in working days, call-backs and rectification, the
//! rates' counts, the evaluator's "last finished ticket" — and that all of it replays and
//! survives a day-opening snapshot.

use crate::core_support;

use chrono::NaiveDate;
use core_support::*;
use hallq::core::calendar::Calendar;
use hallq::core::event::Event;
use hallq::core::hall::HallState;
use hallq::core::model::{Outcome, Ts};
use hallq::core::rating::{CaseStatus, RatingPolicy, CALLBACKS_MAX};
use hallq::core::setup::Setup;
use hallq::core::RejectionKind::{BadInput, Conflict, NotFound};

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// Ticket `n` issued, called, served and finished at window 1 (clerk c1 signs in first
/// when `open` is set).
fn served(n: u32, open_window: bool) -> Vec<hallq::core::Envelope> {
    let mut s = Vec::new();
    if open_window {
        s.push(open("1", "c1"));
    }
    s.extend([issue(n, "SC-A1", None), next("1", "c1"), serve("1", "c1"), done("1", "c1", Outcome::Completed)]);
    s
}

/// The test hall with a calendar: Wednesday 2025-03-19 a holiday, Saturday 2025-03-22 a
/// make-up working day.
fn hall_with_calendar() -> Setup {
    let calendar = Calendar {
        holidays: [date("2025-03-19")].into_iter().collect(),
        workdays: [date("2025-03-22")].into_iter().collect(),
        ..Calendar::default()
    };
    Setup { rating: RatingPolicy { calendar, ..RatingPolicy::default() }, ..setup() }
}

fn rated_event(h: &Hall) -> Event {
    h.log.iter().rev().map(|(_, r)| r.event.clone()).find(|e| matches!(e, Event::TicketRated { .. })).expect("rated")
}

#[test]
fn a_bad_rating_needs_a_reason_from_the_list_and_opens_a_case_due_in_five_working_days() {
    let mut h = Hall::with(hall_with_calendar());
    // Friday 2025-03-14: Mon 17, Tue 18, (Wed 19 a holiday), Thu 20, Fri 21, Sat 22 (make-up).
    h.now = t_on(4, 9, 0, 0);
    h.check(&served(1, true), Expect::Ok(ticket(1), &["ticket_done"]));
    h.check(&[rate_because(1, 2, "slow", Some("等了很久"))], Expect::Ok(ticket(1), &["ticket_rated"]));
    let case = h.state.ratings.cases.get("C20250314-001").expect("the case is open");
    assert_eq!(case.due, date("2025-03-22"));
    assert_eq!((case.score, case.reason.as_str(), case.number.as_str()), (2, "slow", h.number(1).as_str()));
    assert_eq!(case.status(date("2025-03-22")), CaseStatus::Open);
    assert_eq!(case.status(date("2025-03-23")), CaseStatus::Overdue);
    // A second case the same day gets the next number.
    h.check(
        &[issue(2, "SC-A1", None), next("1", "c1"), serve("1", "c1"), done("1", "c1", Outcome::Completed)],
        Expect::Ok(ticket(2), &["ticket_done"]),
    );
    h.check(&[rate_because(2, 1, "other", Some("窗口没人"))], Expect::Ok(ticket(2), &["ticket_rated"]));
    assert!(h.state.ratings.cases.contains_key("C20250314-002"), "{:?}", h.state.ratings.cases.keys());
}

#[test]
fn good_ratings_open_no_case_and_the_figures_count_each_level() {
    let mut h = Hall::new();
    h.check(&served(1, true), Expect::Ok(ticket(1), &["ticket_done"]));
    h.check(&[rate(1, 3, None)], Expect::Ok(ticket(1), &["ticket_rated"]));
    h.check(&served(2, false), Expect::Ok(ticket(2), &["ticket_done"]));
    h.check(&[rate_because(2, 1, "attitude", None)], Expect::Ok(ticket(2), &["ticket_rated"]));
    h.check(&served(3, false), Expect::Ok(ticket(3), &["ticket_done"]));
    h.check(&[rate(3, 5, Some("很好"))], Expect::Ok(ticket(3), &["ticket_rated"]));
    assert_eq!(h.state.ratings.cases.len(), 1);
    let f = &h.state.stats[&day()].total;
    assert_eq!(f.scores, [1, 0, 1, 0, 1]);
    assert_eq!((f.good(), f.bad(), f.rated, f.served()), (2, 1, 3, 3));
    assert_eq!(f.bad_reasons.get("attitude"), Some(&1));
    let w1 = &h.state.stats[&day()].by_window[&w("1")];
    assert_eq!((w1.good(), w1.bad()), (2, 1));
}

#[test]
fn every_rating_and_case_refusal_has_its_code() {
    let done = || served(1, true);
    let with = |more: Vec<hallq::core::Envelope>| {
        let mut s = done();
        s.extend(more);
        s
    };
    let case = "C20250310-001";
    let bad = || rate_because(1, 2, "slow", None);
    let long = "长".repeat(501);
    let rows: Vec<(&str, Vec<hallq::core::Envelope>, Expect)> = vec![
        ("no reason", with(vec![rate(1, 1, Some("太慢"))]), Expect::Rejected("reason_required", BadInput)),
        ("unknown reason", with(vec![rate_because(1, 2, "rude", None)]), Expect::Rejected("unknown_reason", BadInput)),
        (
            "other without text",
            with(vec![rate_because(1, 2, "other", Some("  "))]),
            Expect::Rejected("reason_text_required", BadInput),
        ),
        (
            "reason for a good rating",
            with(vec![rate_because(1, 4, "slow", None)]),
            Expect::Rejected("reason_not_asked", BadInput),
        ),
        (
            "unknown case",
            with(vec![case_callback("C20250310-009", true, "好")]),
            Expect::Rejected("unknown_case", NotFound),
        ),
        ("empty note", with(vec![bad(), case_callback(case, true, " ")]), Expect::Rejected("note_required", BadInput)),
        ("long note", with(vec![bad(), case_callback(case, true, &long)]), Expect::Rejected("note_required", BadInput)),
        ("rectify first", with(vec![bad(), rectify(case, "已改")]), Expect::Rejected("callback_first", Conflict)),
        (
            "closed",
            with(vec![
                bad(),
                case_callback(case, true, "已联系"),
                rectify(case, "已改"),
                case_callback(case, true, "再联系"),
            ]),
            Expect::Rejected("case_closed", Conflict),
        ),
        (
            "rectified twice",
            with(vec![bad(), case_callback(case, false, "未接"), rectify(case, "已改"), rectify(case, "又改")]),
            Expect::Rejected("case_closed", Conflict),
        ),
        (
            "too many call-backs",
            with(
                std::iter::once(bad()).chain((0..=CALLBACKS_MAX).map(|_| case_callback(case, false, "未接"))).collect(),
            ),
            Expect::Rejected("callbacks_full", Conflict),
        ),
    ];
    for (name, script, expected) in rows {
        println!("row: {name}");
        check(&script, expected);
    }
}

#[test]
fn call_back_then_rectify_closes_the_case_and_counts_on_the_day_of_the_rating() {
    let mut h = Hall::new();
    h.check(&served(1, true), Expect::Ok(ticket(1), &["ticket_done"]));
    h.check(
        &[rate_because(1, 2, "unclear_materials", Some("请打13800138000"))],
        Expect::Ok(ticket(1), &["ticket_rated"]),
    );
    // The phone number typed into the comment never reaches the log.
    match rated_event(&h) {
        Event::TicketRated { comment, .. } => assert_eq!(comment.as_deref(), Some("请打***********")),
        other => panic!("{other:?}"),
    }
    let case = "C20250310-001";
    // The next service day: the ticket is gone from the state, the case is not.
    h.now = t_on(1, 9, 0, 0);
    h.check(
        &[case_callback(case, true, "已电话回访，群众认可")],
        Expect::Ok(hallq::core::Reply::Case(case.into()), &["case_callback"]),
    );
    assert!(h.state.tickets.is_empty());
    h.check(&[rectify(case, "已更新材料清单")], Expect::Ok(hallq::core::Reply::Case(case.into()), &["case_rectified"]));
    let c = &h.state.ratings.cases[case];
    assert_eq!(c.status(date("2025-03-30")), CaseStatus::Closed);
    assert_eq!(c.callbacks.len(), 1);
    assert_eq!(c.rectified.as_ref().map(|r| r.by.as_str()), Some("s1"));
    assert_eq!(h.state.stats[&day()].total.bad_rectified, 1, "counted on the rating's day");
    assert_eq!(h.state.stats[&(day() + chrono::Days::new(1))].total.bad_rectified, 0);
}

#[test]
fn cases_survive_a_day_opening_snapshot_and_replay() {
    let mut h = Hall::new();
    h.check(&served(1, true), Expect::Ok(ticket(1), &["ticket_done"]));
    h.check(&[rate_because(1, 1, "attitude", None)], Expect::Ok(ticket(1), &["ticket_rated"]));
    h.check(
        &[case_callback("C20250310-001", false, "无人接听")],
        Expect::Ok(hallq::core::Reply::Case("C20250310-001".into()), &["case_callback"]),
    );
    h.now = t_on(1, 8, 0, 0);
    h.check(&[tick()], Expect::Ok(hallq::core::Reply::Nothing, &[]));
    let snap = h.state.day_snapshot().expect("a snapshot right after the day opened");
    assert_eq!(snap.cases.len(), 1);
    // The snapshot goes through its stored form.
    let bytes = serde_json::to_vec(&snap).expect("serialises");
    let snap = serde_json::from_slice(&bytes).expect("reads back");
    let mut restored = HallState::from_snapshot(h.state.setup.clone(), snap);
    assert_eq!(restored, h.state, "snapshot == live state");
    let seq = h.state.last_seq;
    h.check(
        &[rectify("C20250310-001", "已约谈窗口人员")],
        Expect::Ok(hallq::core::Reply::Case("C20250310-001".into()), &["case_rectified"]),
    );
    for (s, r) in h.log.iter().filter(|(s, _)| *s > seq) {
        restored.apply(*s, r);
    }
    assert_eq!(restored, h.state, "snapshot + tail == live state");
}

#[test]
fn the_evaluator_sees_its_windows_last_finished_ticket_until_rated_or_too_late() {
    let mut h = Hall::new();
    h.check(&served(1, true), Expect::Ok(ticket(1), &["ticket_done"]));
    let done_at = h.state.last_at;
    let ask_ms = i64::from(RatingPolicy::DEFAULT_ASK_S) * 1000;
    let rateable = |h: &Hall, at: i64| h.state.ratings.rateable(&h.state, &w("1"), Ts(at));
    assert_eq!(rateable(&h, done_at.0 + ask_ms), Some(tid(1)));
    assert_eq!(rateable(&h, done_at.0 + ask_ms + 1), None, "asked too long ago");
    assert_eq!(h.state.ratings.rateable(&h.state, &w("2"), done_at), None, "another window's");
    h.check(&[rate(1, 5, None)], Expect::Ok(ticket(1), &["ticket_rated"]));
    assert_eq!(rateable(&h, h.state.last_at.0), None, "already rated");
    // A no-show is not a service: nothing to rate.
    h.check(
        &[issue(2, "SC-A1", None), next("1", "c1"), no_show("1", "c1")],
        Expect::Ok(ticket(2), &["ticket_no_show"]),
    );
    assert_eq!(rateable(&h, h.state.last_at.0), None);
}

#[test]
fn a_closed_case_goes_after_the_retention_and_an_open_one_stays() {
    let setup = Setup { rating: RatingPolicy { closed_kept_days: 2, ..RatingPolicy::default() }, ..setup() };
    let mut h = Hall::with(setup);
    h.check(&served(1, true), Expect::Ok(ticket(1), &["ticket_done"]));
    h.check(&[rate_because(1, 1, "attitude", None)], Expect::Ok(ticket(1), &["ticket_rated"]));
    h.check(&served(2, false), Expect::Ok(ticket(2), &["ticket_done"]));
    h.check(&[rate_because(2, 2, "slow", None)], Expect::Ok(ticket(2), &["ticket_rated"]));
    let (closed, open) = ("C20250310-001", "C20250310-002");
    h.check(
        &[case_callback(closed, true, "已回访"), rectify(closed, "已整改")],
        Expect::Ok(hallq::core::Reply::Case(closed.into()), &["case_rectified"]),
    );
    // Two days on, both are kept; three days on, the closed one goes.
    h.now = t_on(2, 8, 0, 0);
    h.check(&[tick()], Expect::Ok(hallq::core::Reply::Nothing, &[]));
    assert_eq!(h.state.ratings.cases.len(), 2);
    h.now = t_on(3, 8, 0, 0);
    h.check(&[tick()], Expect::Ok(hallq::core::Reply::Nothing, &[]));
    assert_eq!(h.state.ratings.cases.keys().collect::<Vec<_>>(), vec![open]);
    // Its figures stay.
    assert_eq!(h.state.stats[&day()].total.bad_rectified, 1);
}

#[test]
fn a_case_names_the_clerk_who_served_the_ticket_not_the_one_at_the_window_when_rated() {
    let mut h = Hall::with(hall_with_calendar());
    h.now = t_on(4, 9, 0, 0);
    h.check(&served(1, true), Expect::Ok(ticket(1), &["ticket_done"]));
    // c1 leaves and c2 takes window 1 before the visitor rates.
    h.check(&[close("1", "c1"), open("1", "c2")], Expect::Ok(window("1"), &["window_opened"]));
    h.check(&[rate_because(1, 1, "slow", None)], Expect::Ok(ticket(1), &["ticket_rated"]));
    let case = h.state.ratings.cases.get("C20250314-001").expect("the case is open");
    assert_eq!((case.window, case.clerk.clone()), (Some(w("1")), Some(user("c1"))));
    match rated_event(&h) {
        Event::TicketRated { case: Some(opening), .. } => assert_eq!(opening.clerk, Some(user("c1"))),
        other => panic!("a rating with its case: {other:?}"),
    }
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state, "the clerk replays");
    // The next ticket at window 1 is c2's.
    h.check(
        &[issue(2, "SC-A1", None), next("1", "c2"), serve("1", "c2"), done("1", "c2", Outcome::Completed)],
        Expect::Ok(ticket(2), &["ticket_done"]),
    );
    h.check(&[rate_because(2, 2, "slow", None)], Expect::Ok(ticket(2), &["ticket_rated"]));
    assert_eq!(h.state.ratings.cases["C20250314-002"].clerk, Some(user("c2")));
}
