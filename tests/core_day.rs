//! Time in the core: opening hours for kiosks, the day's ticket limit, and the service
//! day's rollover at local midnight (expiring what was left, restarting numbers, closing
//! windows, keeping the old day's figures).

use crate::core_support;

use core_support::*;
use hallq::core::command::{RejectionKind::*, Reply, TICKETS_PER_DAY_MAX};
use hallq::core::event::Event;
use hallq::core::model::{Outcome::Completed, WindowState};

#[test]
fn a_closed_hall_refuses_tickets_outside_its_hours() {
    let mut hall = Hall::with(setup_with_hours());
    hall.now = t(8, 59);
    hall.check(&[issue(1, "SC-A1", None)], Expect::Rejected("hall_closed", Unavailable));
    hall.now = t(9, 0);
    hall.check(&[issue(1, "SC-A1", None)], Expect::Ok(ticket(1), &["ticket_issued"]));
    hall.now = t(12, 0);
    hall.check(&[issue(2, "SC-A1", None)], Expect::Rejected("hall_closed", Unavailable));
    hall.now = t(13, 30);
    hall.check(&[issue(2, "SC-A1", None)], Expect::Ok(ticket(2), &["ticket_issued"]));
    hall.now = t(17, 0);
    hall.check(&[issue(3, "SC-A1", None)], Expect::Rejected("hall_closed", Unavailable));
    // Clerks still work after hours: only kiosks are refused.
    hall.check(&[open("1", "c1"), next("1", "c1")], Expect::Ok(called(1), &["ticket_called"]));
    // Bad input is reported as such even when the hall is closed.
    hall.check(&[issue(3, "SC-X9", None)], Expect::Rejected("unknown_service", BadInput));
}

#[test]
fn kiosks_follow_the_hall_calendar_and_say_when_they_next_issue() {
    use hallq::core::model::Ts;
    let mut setup = setup_with_hours();
    // DAY is a Monday; make it a holiday, and the Saturday before a make-up working day.
    let saturday = day() - chrono::Days::new(2);
    setup.rating.calendar.holidays.insert(day());
    setup.rating.calendar.workdays.insert(saturday);
    let on = |date: chrono::NaiveDate, h, m| {
        use chrono::TimeZone;
        Ts(chrono_tz::Asia::Shanghai
            .from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap())
            .unwrap()
            .timestamp_millis())
    };
    assert!(setup.is_open(on(saturday, 9, 0)), "a make-up Saturday issues");
    assert!(!setup.is_open(t(10, 0)), "a holiday does not, within the hours");
    assert!(!setup.is_open(on(day() - chrono::Days::new(1), 10, 0)), "nor a Sunday");
    // Closed on the holiday: next on Tuesday at 09:00; in Tuesday's lunch break: 13:30.
    assert_eq!(setup.opens_at(t(10, 0)), Some(t_on(1, 9, 0, 0)));
    assert_eq!(setup.opens_at(t_on(1, 12, 10, 0)), Some(t_on(1, 13, 30, 0)));
    assert_eq!(setup.closes_at(t_on(1, 9, 30, 0)), Some(t_on(1, 12, 0, 0)));
    assert_eq!(setup.closes_at(t(10, 0)), None, "closed has no close");
    let mut hall = Hall::with(setup);
    hall.now = t(10, 0);
    hall.check(&[issue(1, "SC-A1", None)], Expect::Rejected("hall_closed", Unavailable));
    hall.now = t_on(1, 9, 0, 0);
    hall.check(&[issue(1, "SC-A1", None)], Expect::Ok(ticket(1), &["ticket_issued"]));
}

#[test]
fn a_full_day_refuses_more_tickets() {
    let mut hall = Hall::new();
    let max = u32::try_from(TICKETS_PER_DAY_MAX).unwrap();
    for n in 1..=max {
        let service = if n % 2 == 0 { "SC-A1" } else { "SC-B1" };
        let step = hall.step_at(t(9, 0), &issue(n, service, None));
        assert!(step.result.is_ok(), "ticket {n} refused: {:?}", step.result);
    }
    hall.now = t(9, 1);
    hall.check(&[issue(max + 1, "SC-A1", None)], Expect::Rejected("day_full", Unavailable));
    // A new day makes room again.
    hall.now = t_on(1, 9, 0, 0);
    hall.check(&[issue(max + 1, "SC-A1", None)], Expect::Ok(ticket(max + 1), &["ticket_issued"]));
}

#[test]
fn a_new_day_expires_the_unfinished_tickets_and_restarts_numbers() {
    let mut hall = Hall::new();
    for (n, service) in (1..).zip(["SC-A1", "SC-A1", "SC-B1", "SC-A2"]) {
        hall.must(&issue(n, service, None));
    }
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    hall.must(&serve("1", "c1"));
    hall.must(&done("1", "c1", Completed));
    hall.must(&next("1", "c1"));
    hall.must(&open("2", "c2"));
    hall.must(&pause("2", "c2"));
    // Tickets 2 (called at window 1), 3 (waiting in B) and 4 (waiting in A) are unfinished.
    let late = hall.step_at(t_on(0, 23, 59, 59), &tick());
    assert!(late.records.is_empty(), "no new day before midnight");

    let from = hall.log.len();
    hall.now = t_on(1, 0, 0, 1);
    hall.check(&[issue(5, "SC-A1", None)], Expect::Ok(ticket(5), &["ticket_issued"]));
    assert_eq!(hall.types_since(from), ["day_opened", "ticket_issued"]);
    let Event::DayOpened { day: opened, expired } = &hall.log[from].1.event else { panic!("not a day_opened") };
    let mut expired = expired.clone();
    expired.sort();
    let tomorrow = day().succ_opt().unwrap();
    assert_eq!((*opened, expired), (tomorrow, vec![tid(2), tid(3), tid(4)]));

    assert_eq!(hall.state.day, Some(tomorrow));
    assert_eq!(hall.number(5), "A001");
    assert_eq!(hall.state.tickets.len(), 1, "yesterday's tickets are dropped from the state");
    for window in hall.state.windows.values() {
        assert_eq!((window.state, &window.ticket, &window.clerk), (WindowState::Closed, &None, &None), "{}", window.id);
    }
    assert_eq!(hall.state.waiting(&q("A")), 1);
    assert_eq!(hall.state.waiting(&q("B")), 0);

    let yesterday = &hall.state.stats[&day()];
    assert_eq!((yesterday.total.issued, yesterday.total.expired, yesterday.total.completed), (4, 3, 1));
    assert_eq!((yesterday.by_queue[&q("A")].expired, yesterday.by_queue[&q("B")].expired), (2, 1));
    assert_eq!(yesterday.by_window[&w("1")].expired, 1, "the called ticket counts at its window");
    let today = &hall.state.stats[&tomorrow];
    assert_eq!((today.total.issued, today.total.expired), (1, 0));

    // Yesterday's ids are unknown now, and clerks must sign in again.
    hall.check(&[cancel(4)], Expect::Rejected("unknown_ticket", NotFound));
    hall.check(&[next("1", "c1")], Expect::Rejected("window_closed", Conflict));
}

#[test]
fn a_tick_after_midnight_opens_the_day_by_itself() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    let step = hall.step_at(t_on(2, 0, 0, 0), &tick());
    assert_eq!(step.result.unwrap().reply, Reply::Nothing);
    let types: Vec<String> = step.records.iter().map(|(_, r)| event_type(&r.event)).collect();
    assert_eq!(types, ["day_opened"]);
    assert_eq!(hall.state.day, Some(day() + chrono::Days::new(2)));
    assert_eq!(hall.state.stats[&day()].total.expired, 1);
    // A second tick on the same day does nothing.
    assert!(hall.step_at(t_on(2, 0, 0, 1), &tick()).records.is_empty());
    assert_eq!(replay(hall.state.setup.clone(), &hall.log), hall.state);
}

#[test]
fn a_refused_command_on_a_new_day_still_opens_the_day() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    hall.now = t_on(1, 8, 0, 0);
    let from = hall.log.len();
    hall.check(&[cancel(1)], Expect::Rejected("unknown_ticket", NotFound));
    assert_eq!(hall.types_since(from), ["day_opened"]);
}

#[test]
fn a_ticket_served_at_midnight_is_finished_before_the_new_day_opens() {
    let mut hall = Hall::with(setup_with_hours());
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&issue(2, "SC-A1", None));
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    hall.must(&serve("1", "c1"));
    // Past midnight the window still serves ticket 1: the old day stays open.
    assert!(hall.step_at(t_on(1, 0, 0, 1), &tick()).records.is_empty(), "no new day while a clerk serves");
    hall.now = t_on(1, 0, 5, 0);
    hall.check(&[done("1", "c1", Completed)], Expect::Ok(Reply::Ticket(tid(1)), &["ticket_done"]));
    // Once it is done, the next tick opens the day and expires only what was left.
    let step = hall.step_at(t_on(1, 0, 5, 1), &tick());
    let Some((_, record)) = step.records.first() else { panic!("no day opened") };
    let Event::DayOpened { expired, .. } = &record.event else { panic!("not a day_opened") };
    assert_eq!(expired, &vec![tid(2)]);
    let yesterday = &hall.state.stats[&day()].total;
    assert_eq!((yesterday.issued, yesterday.completed, yesterday.expired), (2, 1, 1));
    assert_eq!(replay(hall.state.setup.clone(), &hall.log), hall.state);
}

#[test]
fn a_window_left_serving_overnight_holds_the_day_until_three_at_most() {
    let mut hall = Hall::with(setup_with_hours());
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    hall.must(&serve("1", "c1"));
    assert!(hall.step_at(t_on(1, 2, 59, 59), &tick()).records.is_empty());
    let step = hall.step_at(t_on(1, 3, 0, 0), &tick());
    assert_eq!(step.records.len(), 1, "the day opens at 03:00");
    assert_eq!(hall.state.stats[&day()].total.expired, 1);
    assert_eq!(replay(hall.state.setup.clone(), &hall.log), hall.state);
}
