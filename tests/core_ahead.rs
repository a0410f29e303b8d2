//! `ahead` and the call time of every waiting ticket (issue 15) against the real thing:
//! random halls (priority ratio, aging, cool-down, a window's preferences) brought into
//! random states by random scripts (tickets of one item and bundles, priority classes,
//! booked visitors checking in, windows opening, calling, serving, missing, rejoining,
//! sending to a window, pausing, closing), then every ticket called out with the real
//! `decide`/`apply` (`HallState::step` with `CallNext`, `Serve`, `Done`), each open window
//! asking when the forecast's schedule says it is free. The oracle is that run of the real
//! core, not a formula: each ticket's `ahead` must be the number of calls made before its
//! own, its call time the time of that call, and a ticket no open window may call must
//! never be called.

use crate::core_support;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use chrono::NaiveTime;
use core_support::*;
use hallq::core::command::{Command, Envelope, Reply};
use hallq::core::eta::eta;
use hallq::core::forecast::{forecast, free_at, serves_now, service_ms};
use hallq::core::hall::HallState;
use hallq::core::model::{Outcome, Preferences, ServiceCode, TicketId, TicketStatus, Ts};
use hallq::core::setup::{QueueDef, Setup, WindowDef};
use proptest::prelude::*;

const SERVICES: &[&str] = &["SC-A1", "SC-A2", "SC-A3", "SC-B1", "SC-B2", "YJS-01"];
const PRIORITIES: &[&str] = &["elderly", "disabled"];
const WINDOWS: &[&str] = &["1", "2", "3", "4"];

/// The policy a random hall gets.
#[derive(Clone, Debug)]
struct Policy {
    priority_ratio: u32,
    max_wait_min: u32,
    cooldown_min: u32,
    /// Window 2's head start for queue B, and for item SC-A3, in minutes (0: none).
    prefer_b: u32,
    prefer_a3: u32,
}

/// The test hall with queue Y for appointments at window 1, short services (so that a
/// whole line is called out well before midnight) and `p`'s dispatch policy.
fn hall_setup(p: &Policy) -> Setup {
    let mut setup = setup_with_policy(p.priority_ratio, p.max_wait_min);
    setup.dispatch.call_cooldown_min = p.cooldown_min;
    setup.queues.push(QueueDef { id: q("Y"), name: "预约".into(), prefix: "Y".into() });
    setup.windows[0] =
        WindowDef {
            id: w("1"), name: "1号窗口".into(), queues: vec![q("Y"), q("A")], prefer: Preferences::default()
        };
    let mut prefer = Preferences::default();
    if p.prefer_b > 0 {
        prefer.queues.push((q("B"), p.prefer_b));
    }
    if p.prefer_a3 > 0 {
        prefer.items.push((ServiceCode::parse("SC-A3").unwrap(), p.prefer_a3));
    }
    setup.windows[1].prefer = prefer;
    for (item, minutes) in std::sync::Arc::make_mut(&mut setup.items).iter_mut().zip([2, 3, 4, 5, 3]) {
        item.minutes = minutes;
    }
    setup
}

#[derive(Clone, Debug)]
enum Op {
    Issue(usize, Option<usize>),
    /// Books slot `k` (08:00 + 30 min × k) and checks in at once.
    Booked(u32),
    Open(usize),
    Next(usize),
    Serve(usize),
    Done(usize),
    NoShow(usize),
    Rejoin(u32),
    ToWindow(usize, usize),
    Pause(usize),
    Resume(usize),
    Close(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let win = || 0..WINDOWS.len();
    prop_oneof![
        12 => (0..SERVICES.len(), prop::option::weighted(0.25, 0..PRIORITIES.len())).prop_map(|(s, p)| Op::Issue(s, p)),
        2 => (0..8u32).prop_map(Op::Booked),
        4 => win().prop_map(Op::Open),
        5 => win().prop_map(Op::Next),
        3 => win().prop_map(Op::Serve),
        3 => win().prop_map(Op::Done),
        1 => win().prop_map(Op::NoShow),
        2 => (0..6u32).prop_map(Op::Rejoin),
        1 => (win(), win()).prop_map(|(a, b)| Op::ToWindow(a, b)),
        1 => win().prop_map(Op::Pause),
        1 => win().prop_map(Op::Resume),
        1 => win().prop_map(Op::Close),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        0..4u32,
        prop_oneof![Just(0u32), 3..40u32],
        0..6u32,
        prop_oneof![Just(0u32), 1..30u32],
        prop_oneof![Just(0u32), 1..30u32],
    )
        .prop_map(|(priority_ratio, max_wait_min, cooldown_min, prefer_b, prefer_a3)| Policy {
            priority_ratio,
            max_wait_min,
            cooldown_min,
            prefer_b,
            prefer_a3,
        })
}

fn clerk(i: usize) -> String {
    format!("c{}", WINDOWS[i])
}

/// Runs the script from 08:00 with `advance` minutes before each step; refusals are part
/// of the game and change nothing.
fn build(p: &Policy, script: &[(u8, Op)]) -> HallState {
    let mut state = HallState::new(std::sync::Arc::new(hall_setup(p)));
    let mut now = t(8, 0);
    let mut issued = 0u32;
    for (k, (advance, op)) in script.iter().enumerate() {
        now = Ts(now.0 + i64::from(*advance) * 20_000);
        let at = |i: usize| WINDOWS[i];
        let envs: Vec<Envelope> = match op {
            Op::Issue(s, pr) => {
                issued += 1;
                vec![issue(issued, SERVICES[*s], pr.map(|p| PRIORITIES[p]))]
            }
            Op::Booked(slot) => {
                issued += 1;
                let code = format!("BK{k:06}");
                let slot = NaiveTime::from_hms_opt(8, 0, 0).unwrap() + chrono::Duration::minutes(30 * i64::from(*slot));
                vec![
                    cmd(Command::BookAppointment {
                        code: code.clone(),
                        service: "SC-A1".into(),
                        day: day(),
                        slot,
                        phone_hash: format!("phone-{k}"),
                        addr_hash: None,
                        window: None,
                    }),
                    cmd(Command::CheckInAppointment { code, id: tid(issued), kiosk: "kiosk-1".into() }),
                ]
            }
            Op::Open(i) => vec![open(at(*i), &clerk(*i))],
            Op::Next(i) => vec![next(at(*i), &clerk(*i))],
            Op::Serve(i) => vec![serve(at(*i), &clerk(*i))],
            Op::Done(i) => vec![done(at(*i), &clerk(*i), Outcome::Completed)],
            Op::NoShow(i) => vec![no_show(at(*i), &clerk(*i))],
            Op::Rejoin(back) => vec![rejoin(issued.saturating_sub(*back).max(1))],
            Op::ToWindow(i, j) => vec![to_window(at(*i), &clerk(*i), at(*j))],
            Op::Pause(i) => vec![pause(at(*i), &clerk(*i))],
            Op::Resume(i) => vec![resume(at(*i), &clerk(*i))],
            Op::Close(i) => vec![close(at(*i), &clerk(*i))],
        };
        for env in envs {
            let _ = state.step(&env, now);
        }
    }
    state
}

/// Calls everything out of `start` with the real core, on the forecast's schedule: each
/// open window asks when it is free (the ticket it holds served and done first), the one
/// free first asking first; one that finds nothing asks again when a bundle step another
/// window holds is done or a rejoined ticket's cool-down ends. Returns each ticket's first
/// call: (calls before it by the windows that may serve it, when).
fn call_everything_out(start: &HallState) -> BTreeMap<TicketId, (usize, Ts)> {
    let mut state = start.clone();
    let windows: Vec<_> = start.windows.values().filter(|w| serves_now(w)).map(|w| w.id).collect();
    let clerks: Vec<_> =
        windows.iter().map(|w| start.windows[w].clerk.clone().expect("an open window's clerk")).collect();
    let mut agenda = BinaryHeap::new();
    let mut order = 0u64;
    let mut free: Vec<Option<i64>> = vec![None; windows.len()];
    for (i, w) in windows.iter().enumerate() {
        let at = free_at(start, &start.windows[w]).0;
        agenda.push(Reverse((at, order, i)));
        order += 1;
        free[i] = Some(at);
    }
    let cooldown_ms = i64::from(start.setup.dispatch.call_cooldown_min) * 60_000;
    // Every call in order, by the index of the window that made it.
    let mut calls: Vec<usize> = Vec::new();
    let may_serve = |i: usize, id: &TicketId| {
        let (w, t) = (&start.windows[&windows[i]], &start.tickets[id]);
        match &t.target_window {
            Some(target) => w.id == *target,
            None => w.queues.contains(&t.queue),
        }
    };
    let mut first = BTreeMap::new();
    let mut steps = 0;
    while let Some(Reverse((at, _, i))) = agenda.pop() {
        steps += 1;
        assert!(steps < 100_000, "the oracle does not end");
        let (w, c) = (windows[i], &clerks[i]);
        let now = Ts(at);
        free[i] = None;
        let holding = state.windows[&w].ticket;
        if let Some(id) = holding {
            if state.tickets[&id].status == TicketStatus::Called {
                let serve = Command::Serve { window: w, clerk: c.clone() };
                state.step(&cmd(serve), now).result.expect("serve the held ticket");
            }
            let done = Command::Done { window: w, clerk: c.clone(), outcome: Outcome::Completed };
            state.step(&cmd(done), now).result.expect("finish the held ticket");
        }
        let step = state.step(&cmd(Command::CallNext { window: w, clerk: c.clone() }), now);
        match step.result.expect("an open window calls").reply {
            Reply::MaybeTicket(Some(id)) => {
                first.entry(id).or_insert_with(|| {
                    let ahead = calls.iter().filter(|j| may_serve(**j, &id)).count();
                    (ahead, now)
                });
                calls.push(i);
                let until = at + service_ms(start, &state.tickets[&id]);
                agenda.push(Reverse((until, order, i)));
                order += 1;
                free[i] = Some(until);
            }
            _ => {
                let bundle_step = |j: usize| {
                    let id = state.windows[&windows[j]].ticket?;
                    let t = &state.tickets[&id];
                    (t.step + 1 < t.steps.len()).then_some(free[j]).flatten()
                };
                let entering = (0..windows.len()).filter_map(bundle_step).min();
                let cooled = state
                    .tickets
                    .values()
                    .filter(|t| t.status == TicketStatus::Waiting && t.checked_in)
                    .filter_map(|t| t.recent_call.map(|(_, called)| called.0 + cooldown_ms))
                    .filter(|end| *end > at)
                    .min();
                // A booking's slot starting: the windows of its service's queue may call it.
                let due = state
                    .tickets
                    .values()
                    .filter(|t| t.status == TicketStatus::Waiting && t.checked_in)
                    .filter_map(|t| t.due.map(|due| due.0))
                    .filter(|due| *due > at)
                    .min();
                if let Some(again) = [entering, cooled, due].into_iter().flatten().min() {
                    agenda.push(Reverse((again.max(at), order, i)));
                    order += 1;
                }
            }
        }
    }
    first
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ahead_is_the_number_of_calls_the_real_dispatch_makes_first(
        p in policy(),
        script in proptest::collection::vec((0..12u8, op()), 0..70),
    ) {
        let state = build(&p, &script);
        let forecast = state.forecast();
        let oracle = call_everything_out(&state);
        for t in state.tickets.values().filter(|t| t.status == TicketStatus::Waiting && t.checked_in) {
            let spot = forecast.ticket(&t.id).expect("every ticket in line has a spot");
            let e = eta(&state, t).expect("a waiting ticket has an eta");
            prop_assert_eq!(e.ahead, spot.ahead);
            match (spot.call_at, oracle.get(&t.id)) {
                (Some(at), Some((ahead, called))) => {
                    prop_assert_eq!(spot.ahead, *ahead, "ahead of {} ({:?})", t.number, p);
                    prop_assert_eq!(at, *called, "call time of {}", t.number);
                    prop_assert!(e.minutes.is_some());
                }
                (None, None) => prop_assert_eq!(e.minutes, None, "{} has no open window", t.number),
                (forecast, oracle) => {
                    prop_assert!(false, "{}: forecast {:?}, real dispatch {:?}", t.number, forecast, oracle)
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// An issue runs the forecast once, with its ticket in line, for the kiosk's promise,
    /// and keeps that run as the forecast of the state the issue makes. Every answer after
    /// the issue reads it: it must be what a fresh run of that state says, and the promise
    /// must be the new ticket's spot in it.
    #[test]
    fn the_run_an_issue_keeps_is_the_run_of_the_state_it_makes(
        p in policy(),
        script in proptest::collection::vec((0..12u8, op()), 0..70),
        last in (0..SERVICES.len(), prop::option::weighted(0.25, 0..PRIORITIES.len()), 0..12i64),
    ) {
        let mut state = build(&p, &script);
        let (s, pr, advance) = last;
        let now = Ts(state.last_at.0.max(t(8, 0).0) + advance * 20_000);
        let id = tid(1_000_000);
        if state.step(&issue(1_000_000, SERVICES[s], pr.map(|p| PRIORITIES[p])), now).result.is_err() {
            return Ok(());
        }
        let kept = state.forecast();
        let fresh = forecast(&state);
        prop_assert_eq!(&*kept, &fresh);
        let told = state.tickets[&id].promise;
        let spot = fresh.ticket(&id);
        match (told, spot.and_then(|s| s.call_at)) {
            (Some(promise), Some(_)) => prop_assert_eq!(promise.ahead as usize, spot.map_or(0, |s| s.ahead)),
            (None, None) => {}
            (told, spot) => prop_assert!(false, "promise {:?}, fresh run {:?}", told, spot),
        }
    }
}

/// The issue's case: the A line of a pooled hall is short, while B, V and priority
/// tickets wait in numbers for windows that call them first only where they serve them.
/// A new A ticket at the only window serving A alone is told what that window will do,
/// not the length of every line it shares a window with.
#[test]
fn a_ticket_is_not_told_the_lines_no_window_of_its_takes_first() {
    let mut hall = Hall::with(setup());
    hall.must(&open("1", "c1"));
    hall.must(&open("4", "c4"));
    let mut n = 0;
    for _ in 0..20 {
        n += 1;
        hall.must(&issue(n, "SC-B1", None));
    }
    for _ in 0..3 {
        n += 1;
        hall.must(&issue(n, "SC-A1", None));
    }
    n += 1;
    hall.must(&issue(n, "SC-A1", None));
    let e = eta(&hall.state, hall.ticket(n)).unwrap();
    // Window 1 takes the three A tickets before it; window 4 serves only B.
    assert_eq!(e.ahead, 3, "the 20 B tickets are not ahead of an A ticket here");
    assert_eq!(hall.ticket(n).promise.map(|p| p.ahead), Some(3), "the kiosk was told the same");
}

/// A queue that no open window serves gets no wait, however long its line.
#[test]
fn a_queue_no_open_window_serves_has_no_wait() {
    let mut hall = Hall::with(setup());
    hall.must(&open("1", "c1"));
    for n in 1..=5 {
        hall.must(&issue(n, "SC-B2", None));
    }
    let e = eta(&hall.state, hall.ticket(5)).unwrap();
    assert_eq!(e.minutes, None);
    assert_eq!(e.reason(), Some("no_open_window"));
    assert_eq!(e.ahead, 4, "its place as if its windows were open");
    assert_eq!(hall.ticket(5).promise, None, "no wait was promised");
    assert_eq!(hallq::core::eta::for_queue(&hall.state, &q("B")).minutes, None);
    assert!(hallq::core::eta::for_queue(&hall.state, &q("A")).minutes.is_some());
    hall.must(&open("4", "c4"));
    let e = eta(&hall.state, hall.ticket(5)).unwrap();
    assert!(e.minutes.is_some_and(|m| m > 0), "a window opened: {e:?}");
    assert_eq!(e.ahead, 4);
}

/// The figures hold what was promised against the wait each ticket got.
#[test]
fn a_call_measures_the_wait_against_the_promise() {
    let mut hall = Hall::with(setup());
    hall.now = t(9, 0);
    hall.must(&open("1", "c1"));
    hall.must(&issue(1, "SC-A1", None));
    hall.must(&issue(2, "SC-A1", None));
    let p = hall.ticket(2).promise.expect("a promise");
    assert_eq!((p.ahead, p.minutes), (1, 10), "behind one ticket of 10 minutes");
    hall.must(&next("1", "c1"));
    hall.must(&serve("1", "c1"));
    hall.now = t(9, 40);
    hall.must(&done("1", "c1", Outcome::Completed));
    hall.must(&next("1", "c1"));
    let day = hall.state.stats.get(&day()).unwrap();
    let e = &day.total.eta;
    assert_eq!(e.count, 2);
    // Ticket 1: told 0 (range 0–3), issued 09:01, called 09:03: off by 2, inside.
    // Ticket 2: told 10 (range 8–14), issued 09:02, called 09:41: off by 29, outside.
    assert_eq!(e.within, 1);
    assert_eq!(e.quantile_min(0.5), Some(2.0));
    assert_eq!(e.quantile_min(1.0), Some(29.0));
    assert_eq!(day.by_queue[&q("A")].eta, *e);
    assert_eq!(day.by_window[&w("1")].eta, *e);
    assert_eq!(hall.ticket(1).promise.map(|p| (p.ahead, p.minutes)), Some((0, 0)));
}

/// A line longer than the forecast runs (`FORECAST_WAITING_MAX`) is answered by the
/// estimate, which must tell what the plain hall's dispatch does: one window, first come
/// first served, ten-minute items, so ticket k has k - 1 ahead and waits (k - 1) × 10
/// minutes, on both sides of the bound.
#[test]
fn past_the_forecasts_bound_the_estimate_tells_what_the_dispatch_does() {
    use hallq::core::forecast::FORECAST_WAITING_MAX;
    let mut hall = Hall::with(setup());
    hall.must(&open("1", "c1"));
    let check = |hall: &Hall, waiting: usize| {
        for k in [1, 2, 700, FORECAST_WAITING_MAX, waiting] {
            let e = eta(&hall.state, hall.ticket(k as u32)).unwrap();
            assert_eq!((e.ahead, e.minutes), (k - 1, Some(10 * (k as u32 - 1))), "ticket {k} of {waiting} waiting");
        }
        let next = hallq::core::eta::for_queue(&hall.state, &q("A"));
        assert_eq!((next.ahead, next.minutes), (waiting, Some(10 * waiting as u32)), "a new ticket, {waiting} waiting");
    };
    // All at one time (a step moves the test clock on a minute; 2,000 would be a day).
    let at = hall.now;
    let take = |hall: &mut Hall, n: usize| {
        let step = hall.step_at(at, &issue(n as u32, "SC-A1", None));
        assert!(step.result.is_ok(), "ticket {n} refused: {:?}", step.result);
    };
    for n in 1..=FORECAST_WAITING_MAX {
        take(&mut hall, n);
    }
    check(&hall, FORECAST_WAITING_MAX);
    for n in FORECAST_WAITING_MAX + 1..=FORECAST_WAITING_MAX + 100 {
        take(&mut hall, n);
    }
    check(&hall, FORECAST_WAITING_MAX + 100);
    // Past the bound too, a queue no open window serves has no wait.
    assert_eq!(hallq::core::eta::for_queue(&hall.state, &q("B")).minutes, None);
}

/// A booked visitor who checks in an hour before their slot, while no window serving the
/// appointment queue is open: from the slot's start the windows of the booked service's
/// own queue call them (the dispatch's due rule), so they are told that time, not
/// 暂无窗口办理. The real dispatch then calls them at the slot's start, not before.
#[test]
fn a_booking_checked_in_early_is_told_its_slot() {
    let mut hall = Hall::with(setup());
    hall.must(&open("1", "c1"));
    let slot = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
    let book = Command::BookAppointment {
        code: "BK0001".into(),
        service: "SC-A1".into(),
        day: day(),
        slot,
        phone_hash: "phone-1".into(),
        addr_hash: None,
        window: None,
    };
    hall.step_at(t(8, 0), &cmd(book)).result.expect("booked");
    let check_in = Command::CheckInAppointment { code: "BK0001".into(), id: tid(1), kiosk: "kiosk-1".into() };
    hall.step_at(t(9, 0), &cmd(check_in)).result.expect("checked in");
    let e = eta(&hall.state, hall.ticket(1)).expect("waiting");
    assert_eq!((e.ahead, e.minutes), (0, Some(60)), "called at its slot's start, an hour on");
    // The oracle: window 1 finds nothing before 10:00, and calls the booking at 10:00.
    let _ = hall.step_at(t(9, 59), &next("1", "c1"));
    assert_eq!(hall.ticket(1).status, TicketStatus::Waiting, "not called before its slot");
    let called = hall.step_at(t(10, 0), &next("1", "c1"));
    assert!(called.result.is_ok(), "called at its slot: {:?}", called.result);
    assert_eq!(hall.ticket(1).status, TicketStatus::Called);
}
