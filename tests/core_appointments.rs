//! Appointments and remote take-a-number (issue 4 rule 2) through the real core: booking
//! rules, check-in on time and late, slots due in dispatch, a named window, remote tickets
//! that keep their place but wait for check-in, and every refusal by its code.

use crate::core_support;

use chrono::NaiveTime;
use core_support::*;
use hallq::core::command::{Command, Envelope, Reply};
use hallq::core::model::{CallRule, Preferences, TicketStatus, Ts};
use hallq::core::setup::{QueueDef, Setup, WindowDef};

/// The test hall plus queue Y for appointments, served first by window "1" (Y, A).
fn hall() -> Hall {
    let mut setup: Setup = setup();
    setup.queues.push(QueueDef { id: q("Y"), name: "预约".into(), prefix: "Y".into() });
    setup.windows[0] =
        WindowDef {
            id: w("1"), name: "1号窗口".into(), queues: vec![q("Y"), q("A")], prefer: Preferences::default()
        };
    Hall::with(setup)
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn book_on(days: u64, code: &str, slot: NaiveTime, phone: &str) -> Envelope {
    cmd(Command::BookAppointment {
        code: code.into(),
        service: "SC-A1".into(),
        day: day() + chrono::Days::new(days),
        slot,
        phone_hash: phone.into(),
        addr_hash: None,
        window: None,
    })
}

/// A booking of `day` + `days` from the client address hashed as `addr`.
fn book_from(days: u64, code: &str, slot: NaiveTime, phone: &str, addr: &str) -> Envelope {
    let mut env = book_on(days, code, slot, phone);
    if let Command::BookAppointment { addr_hash, .. } = &mut env.command {
        *addr_hash = Some(addr.into());
    }
    env
}

fn book(code: &str, slot: NaiveTime, phone: &str) -> Envelope {
    book_on(0, code, slot, phone)
}

fn check_in(code: &str, n: u32) -> Envelope {
    cmd(Command::CheckInAppointment { code: code.into(), id: tid(n), kiosk: "kiosk-1".into() })
}

fn cancel_booking(code: &str) -> Envelope {
    cmd(Command::CancelAppointment { code: code.into() })
}

fn remote_issue(n: u32) -> Envelope {
    cmd(Command::IssueTicket {
        id: tid(n),
        service: "SC-A1".into(),
        priority: None,
        kiosk: "online".into(),
        remote: true,
    })
}

fn check_in_ticket(n: u32) -> Envelope {
    cmd(Command::CheckInTicket { id: tid(n) })
}

/// Runs `script` at 08:00, 08:01, ...; the last command must be refused with `code`, and
/// change nothing.
fn refused(script: Vec<Envelope>, code: &str) {
    let mut h = hall();
    h.now = t(8, 0);
    let (last, first) = script.split_last().unwrap();
    for env in first {
        h.must(env);
    }
    let before = h.state.clone();
    let step = h.step(last);
    assert_eq!(step.result.map_err(|r| r.code()).err(), Some(code), "{last:?}");
    assert!(step.records.iter().all(|(_, r)| matches!(r.event, hallq::core::event::Event::DayOpened { .. })));
    assert_eq!(h.state.appointments, before.appointments);
}

fn called(h: &mut Hall, window: &str, clerk: &str) -> Option<(u32, CallRule)> {
    match h.must(&next(window, clerk)).reply {
        Reply::MaybeTicket(Some(id)) => {
            let n = (1..100).find(|n| tid(*n) == id).expect("a test ticket");
            Some((n, h.ticket(n).call_rule.clone().expect("a rule")))
        }
        _ => None,
    }
}

#[test]
fn booking_holds_a_quota_per_slot_and_one_booking_per_person_per_day() {
    let mut h = hall();
    h.now = t(8, 0);
    h.must(&book("C1", hm(9, 30), "p1"));
    h.must(&book("C2", hm(9, 30), "p2"));
    let full = h.step(&book("C3", hm(9, 30), "p3")).result.unwrap_err();
    assert_eq!(full.code(), "slot_full");
    let twice = h.step(&book("C3", hm(10, 0), "p1")).result.unwrap_err();
    assert_eq!(twice.code(), "already_booked");
    // Another day is another booking; a cancel frees the slot.
    h.must(&book_on(1, "C4", hm(9, 30), "p1"));
    h.must(&cancel_booking("C2"));
    h.must(&book("C5", hm(9, 30), "p3"));
    let replayed = replay(h.state.setup.clone(), &h.log);
    assert_eq!(replayed, h.state);
}

#[test]
fn a_missed_booking_frees_its_holder_to_book_again() {
    let mut h = hall();
    h.now = t(8, 0);
    h.must(&book("C1", hm(9, 0), "p1"));
    // 09:15 is the end of grace: at 09:16 the booking is missed.
    h.now = t(9, 16);
    h.must(&book("C2", hm(10, 0), "p1"));
}

#[test]
fn every_booking_refusal_has_its_code() {
    let at_8 = || vec![cmd(Command::Tick)];
    let with = |mut s: Vec<Envelope>, more: Vec<Envelope>| {
        s.extend(more);
        s
    };
    refused(with(at_8(), vec![book("C1", hm(9, 10), "p1")]), "bad_slot");
    refused(with(at_8(), vec![book("C1", hm(12, 0), "p1").with_service("SC-X9")]), "unknown_service");
    refused(with(at_8(), vec![book_on(8, "C1", hm(9, 0), "p1")]), "bad_day");
    refused(with(at_8(), vec![book("C1", hm(9, 0), "")]), "phone_required");
    refused(with(at_8(), vec![book("C1", hm(9, 0), "p1"), book("C1", hm(9, 30), "p2")]), "duplicate_code");
    refused(with(at_8(), vec![cancel_booking("NOPE")]), "unknown_appointment");
    refused(
        with(at_8(), vec![book("C1", hm(9, 0), "p1"), cancel_booking("C1"), cancel_booking("C1")]),
        "appointment_closed",
    );
    refused(with(at_8(), vec![book_on(1, "C1", hm(9, 0), "p1"), check_in("C1", 1)]), "not_today");
    // DAY is a Monday: +5 is Saturday, a rest day of the default calendar.
    refused(with(at_8(), vec![book_on(5, "C1", hm(9, 0), "p1")]), "day_closed");
    // One phone: three bookings over the window (phone_max), each day its own.
    let three: Vec<Envelope> = (1..=3).map(|d| book_on(d, &format!("P{d}"), hm(9, 0), "p1")).collect();
    refused(with(three, vec![book_on(4, "C9", hm(9, 0), "p1")]), "phone_limit");
    // One address: four a day (address_day_max), twelve over the window (address_max).
    let slot = |n: u32| hm(9 + n / 2, (n % 2) * 30);
    let one_day: Vec<Envelope> =
        (0..4).map(|n| book_from(1, &format!("A{n}"), slot(n), &format!("q{n}"), "ad")).collect();
    refused(with(one_day, vec![book_from(1, "A9", slot(5), "q9", "ad")]), "address_limit");
    let window: Vec<Envelope> = (0..12)
        .map(|n| book_from(1 + u64::from(n / 4), &format!("W{n}"), slot(n % 4), &format!("w{n}"), "ad"))
        .collect();
    refused(with(window, vec![book_from(4, "W99", slot(0), "w99", "ad")]), "address_limit");
    // A holiday is closed; a make-up working day (调休) on a Saturday is open.
    let mut holidays = setup();
    holidays.queues.push(QueueDef { id: q("Y"), name: "预约".into(), prefix: "Y".into() });
    holidays.rating.calendar.holidays.insert(day() + chrono::Days::new(1));
    holidays.rating.calendar.workdays.insert(day() + chrono::Days::new(5));
    let mut h = Hall::with(holidays);
    h.now = t(8, 0);
    assert_eq!(h.step(&book_on(1, "H1", hm(9, 0), "p1")).result.unwrap_err().code(), "day_closed");
    h.must(&book_on(5, "H2", hm(9, 0), "p1"));
    // These scripts run from 08:00: the 07:30 slot has begun.
    refused(vec![book("C1", hm(7, 30), "p1")], "slot_past");
    refused(vec![remote_issue(1), check_in_ticket(1), check_in_ticket(1)], "already_checked_in");
    // Issue 15: the appointment queue's own service is not a walk-in's to take, at a kiosk
    // or online; its booking's check-in still gives it a ticket, late or on time.
    let mut walk_in = setup();
    walk_in.queues.push(QueueDef { id: q("Y"), name: "预约".into(), prefix: "Y".into() });
    let mut sign_in = walk_in.items[0].clone();
    (sign_in.code, sign_in.queue) = (hallq::core::model::ServiceCode::parse("SC-Y1").unwrap(), q("Y"));
    std::sync::Arc::make_mut(&mut walk_in.items).push(sign_in);
    for remote in [false, true] {
        let mut h = Hall::with(walk_in.clone());
        h.now = t(8, 0);
        let take = cmd(Command::IssueTicket {
            id: tid(1),
            service: "SC-Y1".into(),
            priority: None,
            kiosk: "kiosk-1".into(),
            remote,
        });
        assert_eq!(h.step(&take).result.unwrap_err().code(), "check_in_required");
        assert!(h.state.tickets.is_empty());
    }
    let mut h = Hall::with(walk_in.clone());
    h.now = t(8, 0);
    let mut booking = book("Y1", hm(9, 0), "p1");
    if let Command::BookAppointment { service, .. } = &mut booking.command {
        *service = "SC-Y1".into();
    }
    h.must(&booking);
    h.now = t(9, 0);
    h.must(&check_in("Y1", 2));
    let mut no_booking = setup();
    no_booking.appointments = None;
    let mut h = Hall::with(no_booking);
    assert_eq!(h.step(&book("C1", hm(12, 0), "p1")).result.unwrap_err().code(), "no_appointments");
}

#[test]
fn a_booking_checked_in_on_time_is_called_first_from_its_slot() {
    let mut h = hall();
    h.now = t(8, 0);
    h.must(&book("C1", hm(9, 30), "p1"));
    h.step_at(t(9, 0), &issue(1, "SC-A1", None)).result.unwrap();
    h.step_at(t(9, 20), &check_in("C1", 2)).result.unwrap();
    h.step_at(t(9, 25), &issue(3, "SC-A1", None)).result.unwrap();
    let y = h.ticket(2);
    assert_eq!((y.queue, y.number.to_string(), y.due), (q("Y"), "Y001".into(), Some(t(9, 30))));
    h.step_at(t(9, 26), &open("1", "c1")).result.unwrap();
    // Before the slot: the pooled line's order, and A001 came first.
    h.now = t(9, 27);
    assert_eq!(called(&mut h, "1", "c1"), Some((1, CallRule::EarliestIssued)));
    h.must(&serve("1", "c1"));
    h.now = t(9, 31);
    h.must(&done("1", "c1", hallq::core::model::Outcome::Completed));
    // From 09:30 the booking goes before A003, issued earlier than its check-in... later.
    assert_eq!(called(&mut h, "1", "c1"), Some((2, CallRule::AppointmentDue { due: t(9, 30) })));
    let status =
        h.state.appointments.by_code["C1"].status(&h.state.setup, h.state.setup.appointments.as_ref().unwrap(), h.now);
    assert_eq!(status, "checked_in");
    let replayed = replay(h.state.setup.clone(), &h.log);
    assert_eq!(replayed, h.state);
}

#[test]
fn a_late_check_in_gets_an_ordinary_ticket_of_its_service() {
    let mut h = hall();
    h.now = t(8, 0);
    h.must(&book("C1", hm(9, 30), "p1"));
    let step = h.step_at(t(9, 46), &check_in("C1", 1));
    let types: Vec<String> = step.records.iter().map(|(_, r)| event_type(&r.event)).collect();
    assert_eq!(types, ["appointment_checked_in", "ticket_issued"]);
    let t1 = h.ticket(1);
    assert_eq!((t1.queue, t1.due, t1.number.to_string()), (q("A"), None, "A001".into()));
    let status = h.state.appointments.by_code["C1"].status(
        &h.state.setup,
        h.state.setup.appointments.as_ref().unwrap(),
        t(9, 46),
    );
    assert_eq!(status, "late");
}

#[test]
fn a_booking_for_a_named_window_waits_for_that_window() {
    let mut h = hall();
    h.now = t(8, 0);
    let mut env = book("C1", hm(9, 30), "p1");
    if let Command::BookAppointment { window, .. } = &mut env.command {
        // Window 2 serves A, the booked item's queue (a window serving neither it nor Y
        // is refused: core_stranded.rs).
        *window = Some(w("2"));
    }
    h.must(&env);
    h.step_at(t(9, 20), &check_in("C1", 1)).result.unwrap();
    h.now = t(9, 21);
    h.must(&open("1", "c1"));
    h.must(&open("2", "c2"));
    assert_eq!(called(&mut h, "1", "c1"), None);
    assert_eq!(called(&mut h, "2", "c2"), Some((1, CallRule::TransferredHere)));
}

#[test]
fn a_remote_ticket_keeps_its_place_but_is_called_only_after_check_in() {
    let mut h = hall();
    h.must(&remote_issue(1));
    h.must(&issue(2, "SC-A1", None));
    h.must(&open("3", "c3"));
    assert!(!h.ticket(1).checked_in);
    assert_eq!(h.state.waiting(&q("A")), 1, "a remote ticket not checked in is not in line for displays");
    assert_eq!(called(&mut h, "3", "c3"), Some((2, CallRule::EarliestIssued)));
    h.must(&serve("3", "c3"));
    h.must(&done("3", "c3", hallq::core::model::Outcome::Completed));
    h.must(&issue(3, "SC-A1", None));
    h.must(&check_in_ticket(1));
    // Checked in after A003 was issued, A001 still goes first: its place is its issue.
    assert_eq!(called(&mut h, "3", "c3"), Some((1, CallRule::EarliestIssued)));
    assert_eq!(h.ticket(1).status, TicketStatus::Called);
    let replayed = replay(h.state.setup.clone(), &h.log);
    assert_eq!(replayed, h.state);
}

#[test]
fn bookings_outlive_the_day_they_were_made_and_old_ones_go() {
    let mut h = hall();
    h.now = t(8, 0);
    h.must(&book("C1", hm(9, 30), "p1"));
    h.must(&book_on(1, "C2", hm(9, 30), "p1"));
    let step = h.step_at(t_on(1, 8, 0, 0), &cmd(Command::Tick));
    assert!(step.result.is_ok());
    assert!(h.state.appointments.by_code.contains_key("C2"));
    assert!(!h.state.appointments.by_code.contains_key("C1"));
    let step = h.step_at(t_on(1, 9, 20, 0), &check_in("C2", 1));
    assert!(step.result.is_ok());
    assert_eq!(h.ticket(1).due, Some(Ts(t_on(1, 9, 30, 0).0)));
}

trait WithService {
    fn with_service(self, service: &str) -> Self;
}

impl WithService for Envelope {
    fn with_service(mut self, new: &str) -> Self {
        if let Command::BookAppointment { service, .. } = &mut self.command {
            *service = new.into();
        }
        self
    }
}

#[test]
fn a_remote_ticket_called_by_number_and_missed_rejoins_the_line() {
    let mut h = hall();
    h.must(&remote_issue(1));
    h.must(&open("3", "c3"));
    h.must(&call_number("3", "c3", "A001", "到窗口询问"));
    h.must(&no_show("3", "c3"));
    h.must(&rejoin(1));
    assert_eq!(h.state.waiting(&q("A")), 1);
    h.now = Ts(h.now.0 + 10 * 60_000);
    assert_eq!(called(&mut h, "3", "c3"), Some((1, CallRule::EarliestIssued)));
}

#[test]
fn a_due_booking_may_be_called_by_any_window_of_its_service_not_before() {
    let mut h = hall();
    h.now = t(8, 0);
    h.must(&book("C1", hm(9, 30), "p1"));
    h.step_at(t(9, 10), &check_in("C1", 1)).result.unwrap();
    h.step_at(t(9, 11), &issue(2, "SC-A1", None)).result.unwrap();
    // Window 3 serves V and A, not Y. Before the slot it takes the walk-in, not the booking.
    h.step_at(t(9, 12), &open("3", "c3")).result.unwrap();
    h.now = t(9, 13);
    assert_eq!(called(&mut h, "3", "c3"), Some((2, CallRule::EarliestIssued)));
    h.must(&serve("3", "c3"));
    h.now = t(9, 31);
    h.must(&done("3", "c3", hallq::core::model::Outcome::Completed));
    // From 09:30 the booking (of an A item) is due there too.
    assert_eq!(called(&mut h, "3", "c3"), Some((1, CallRule::AppointmentDue { due: t(9, 30) })));
    let replayed = replay(h.state.setup.clone(), &h.log);
    assert_eq!(replayed, h.state);
}

/// The example hall's slots: each opening span filled, the lunch break skipped.
#[test]
fn slots_fill_each_opening_span_and_skip_the_lunch_break() {
    let config = hallq::config::embedded_default().expect("the embedded hall loads");
    let setup = config.setup;
    let policy = setup.appointments.clone().expect("the example hall takes bookings");
    let shown: Vec<String> =
        hallq::core::appointments::slots(&setup, &policy).iter().map(|t| t.format("%H:%M").to_string()).collect();
    // 08:30-12:00 and 13:00-17:30 in 30-minute slots: 7 + 9.
    assert_eq!(shown.len(), 16, "{shown:?}");
    assert_eq!((shown[0].as_str(), shown[6].as_str(), shown[7].as_str()), ("08:30", "11:30", "13:00"));
    assert_eq!(shown.last().map(String::as_str), Some("17:00"));
}
