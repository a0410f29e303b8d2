//! The facts `apply` yields (`core::facts`), held against what the test itself did: the
//! clock it drove, the tickets it issued, the clerks it signed in, and a scan of the
//! tickets the state holds. The figures, the reports, the audit and the metrics all fold
//! these facts, so a wrong fact is a wrong figure everywhere.

use std::collections::BTreeMap;
use std::sync::Arc;

use hallq::core::day_reader::DayReader;
use hallq::core::facts::{Fact, Line, What};
use hallq::core::model::{Outcome, TicketId, TicketStatus, Ts};
use hallq::core::HallState;
use proptest::prelude::*;

use super::core_support::*;

const MIN: u64 = 60_000;

/// Runs `env` at `at` and hands back its facts (the command must be accepted).
fn facts_at(h: &mut Hall, at: Ts, env: &hallq::core::Envelope) -> Vec<What> {
    let step = h.step_at(at, env);
    assert!(step.result.is_ok(), "{env:?} refused: {:?}", step.result);
    step.facts.into_iter().map(|f| f.what).collect()
}

#[test]
fn a_ticket_served_and_rated_yields_its_wait_service_and_clerk_as_the_clock_ran() {
    let mut h = Hall::new();
    facts_at(&mut h, t(9, 0), &open("1", "c1"));
    let issued = facts_at(&mut h, t(9, 1), &issue(1, "SC-A1", None));
    assert!(matches!(&issued[..], [What::Issued { .. }, What::Joined { line: Line::Queue(_), minutes: 10, .. }]));
    let called = facts_at(&mut h, t(9, 11), &next("1", "c1"));
    let [What::Left { .. }, What::Called { ticket, desk, step: 0, waited_ms, .. }] = &called[..] else {
        panic!("a call leaves the line, then is called: {called:?}");
    };
    assert_eq!((ticket.id, ticket.number.to_string()), (tid(1), "A001".to_string()));
    assert_eq!((desk.window, desk.clerk.as_ref().map(|c| c.as_str())), (w("1"), Some("c1")));
    assert_eq!(*waited_ms, Some(10 * MIN), "issued 09:01, called 09:11");
    // A recall is not a second first call.
    let recalled = facts_at(&mut h, t(9, 12), &recall("1", "c1"));
    assert!(matches!(&recalled[..], [What::Recalled { .. }]), "{recalled:?}");
    facts_at(&mut h, t(9, 13), &serve("1", "c1"));
    let done = facts_at(&mut h, t(9, 21), &done("1", "c1", Outcome::Completed));
    let [What::Finished { outcome, served_ms, minutes, desk, .. }] = &done[..] else { panic!("{done:?}") };
    assert_eq!((*outcome, *served_ms, *minutes), (Some(Outcome::Completed), Some(8 * MIN), 10));
    assert_eq!(desk.clerk.as_ref().map(|c| c.as_str()), Some("c1"));
    // The clerk leaves; the visitor rates afterwards: the rating is of c1's service.
    facts_at(&mut h, t(9, 22), &close("1", "c1"));
    facts_at(&mut h, t(9, 23), &open("1", "c2"));
    let rated = facts_at(&mut h, t(9, 24), &rate(1, 5, None));
    let [What::Rated { desk: Some(desk), score: 5, .. }] = &rated[..] else { panic!("{rated:?}") };
    assert_eq!((desk.window, desk.clerk.as_ref().map(|c| c.as_str())), (w("1"), Some("c1")));
}

#[test]
fn a_day_opening_first_expires_what_was_left_then_opens() {
    let mut h = Hall::new();
    facts_at(&mut h, t(9, 0), &issue(1, "SC-A1", None));
    facts_at(&mut h, t(9, 5), &open("2", "c2"));
    facts_at(&mut h, t(9, 30), &issue(2, "SC-B1", None));
    let next_day = facts_at(&mut h, t_on(1, 8, 0, 0), &tick());
    let kinds: Vec<&str> = next_day
        .iter()
        .map(|f| match f {
            What::Left { .. } => "left",
            What::Expired { .. } => "expired",
            What::DayOpened { .. } => "day_opened",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["left", "expired", "left", "expired", "day_opened"]);
    let waits: Vec<u64> = next_day
        .iter()
        .filter_map(|f| if let What::Expired { waited_ms, .. } = f { Some(*waited_ms) } else { None })
        .collect();
    // 09:00 and 09:30 to 08:00 the next morning.
    assert_eq!(waits, [23 * 60 * MIN, 22 * 60 * MIN + 30 * MIN]);
    let day_before = h.state.stats.get(&day()).expect("the first day's figures");
    assert_eq!(day_before.total.expired, 2, "the expiries count in the day that ended");
}

/// A line as the state's tickets say it is: each waiting ticket in its window's line when
/// sent to one, else its queue's (count and expected minutes).
fn lines_by_scan(state: &HallState) -> BTreeMap<Line, (u64, u64)> {
    let mut lines = BTreeMap::new();
    for t in state.tickets.values().filter(|t| t.status == TicketStatus::Waiting) {
        let line = t.target_window.map_or(Line::Queue(t.queue), Line::Window);
        let e: &mut (u64, u64) = lines.entry(line).or_default();
        e.0 += 1;
        e.1 += u64::from(t.minutes);
    }
    lines
}

#[derive(Clone, Debug)]
enum Op {
    Issue(usize),
    Next(usize),
    Serve(usize),
    Done(usize, bool),
    NoShow(usize),
    Rejoin(u32),
    Cancel(u32),
    ToQueue(usize, usize),
    ToWindow(usize, usize),
    Park(usize),
    Unpark(usize, u32),
    Open(usize),
    Close(usize),
}

const SERVICES: [&str; 6] = ["SC-A1", "SC-A2", "SC-A3", "SC-B1", "SC-B2", "YJS-01"];
const WINDOWS: [&str; 4] = ["1", "2", "3", "4"];
const QUEUES: [&str; 3] = ["A", "B", "V"];

fn op() -> impl Strategy<Value = Op> {
    let win = 0..WINDOWS.len();
    prop_oneof![
        6 => (0..SERVICES.len()).prop_map(Op::Issue),
        6 => win.clone().prop_map(Op::Next),
        5 => win.clone().prop_map(Op::Serve),
        5 => (win.clone(), any::<bool>()).prop_map(|(w, c)| Op::Done(w, c)),
        2 => win.clone().prop_map(Op::NoShow),
        2 => (0..8u32).prop_map(Op::Rejoin),
        1 => (0..8u32).prop_map(Op::Cancel),
        1 => (win.clone(), 0..QUEUES.len()).prop_map(|(w, q)| Op::ToQueue(w, q)),
        1 => (win.clone(), 0..WINDOWS.len()).prop_map(|(w, t)| Op::ToWindow(w, t)),
        1 => win.clone().prop_map(Op::Park),
        1 => (win.clone(), 0..4u32).prop_map(|(w, k)| Op::Unpark(w, k)),
        2 => win.clone().prop_map(Op::Open),
        1 => win.prop_map(Op::Close),
    ]
}

fn command(op: &Op, issued: &mut u32) -> hallq::core::Envelope {
    let c = |w: &usize| (WINDOWS[*w], format!("c{}", WINDOWS[*w]));
    let recent = |k: &u32, issued: u32| issued.saturating_sub(*k).max(1);
    match op {
        Op::Issue(s) => {
            *issued += 1;
            issue(*issued, SERVICES[*s], None)
        }
        Op::Next(x) => next(c(x).0, &c(x).1),
        Op::Serve(x) => serve(c(x).0, &c(x).1),
        Op::Done(x, ok) => done(c(x).0, &c(x).1, if *ok { Outcome::Completed } else { Outcome::Incomplete }),
        Op::NoShow(x) => no_show(c(x).0, &c(x).1),
        Op::Rejoin(k) => rejoin(recent(k, *issued)),
        Op::Cancel(k) => cancel(recent(k, *issued)),
        Op::ToQueue(x, q) => to_queue(c(x).0, &c(x).1, QUEUES[*q]),
        Op::ToWindow(x, t) => to_window(c(x).0, &c(x).1, WINDOWS[*t]),
        Op::Park(x) => park(c(x).0, &c(x).1),
        Op::Unpark(x, k) => unpark(c(x).0, &c(x).1, recent(k, *issued)),
        Op::Open(x) => open(c(x).0, &c(x).1),
        Op::Close(x) => close(c(x).0, &c(x).1),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// After every step: the lines the facts' joins and leaves add up to are the lines a
    /// scan of the waiting tickets gives; a first call's wait is the time since the issue
    /// the script made; a ticket is first called at step 0 at most once; and a reader of
    /// the log alone yields the very facts the live steps did.
    #[test]
    fn facts_agree_with_the_tickets_the_clock_and_a_second_reading(
        ops in prop::collection::vec((1..400_000i64, op()), 1..160)
    ) {
        let mut h = Hall::new();
        let mut issued = 0u32;
        let mut now = t(9, 0).0;
        let mut issued_at: BTreeMap<TicketId, Ts> = BTreeMap::new();
        let mut lines: BTreeMap<Line, (u64, u64)> = BTreeMap::new();
        let mut live: Vec<Fact> = Vec::new();
        for (i, (advance, op)) in ops.iter().enumerate() {
            now += advance;
            let env = command(op, &mut issued);
            let at = Ts(now);
            let step = h.step_at(at, &env);
            if let (Ok(_), Op::Issue(_)) = (&step.result, op) {
                issued_at.insert(tid(issued), at);
            }
            for f in &step.facts {
                match &f.what {
                    What::Joined { line, minutes, .. } => {
                        let e = lines.entry(*line).or_default();
                        e.0 += 1;
                        e.1 += u64::from(*minutes);
                    }
                    What::Left { line, minutes, .. } => {
                        let e = lines.entry(*line).or_default();
                        prop_assert!(e.0 > 0, "step {}: a ticket left an empty line {:?}", i, line);
                        e.0 -= 1;
                        e.1 -= u64::from(*minutes);
                    }
                    What::Called { ticket, step: 0, waited_ms: Some(ms), .. } => {
                        let since = issued_at.remove(&ticket.id);
                        prop_assert!(since.is_some(), "step {}: {} first called twice", i, ticket.number);
                        prop_assert_eq!(*ms, f.at.since_ms(since.unwrap_or(f.at)), "step {}: wait of {}", i, ticket.number);
                    }
                    _ => {}
                }
            }
            live.extend(step.facts);
            lines.retain(|_, e| e.0 > 0);
            prop_assert_eq!(&lines, &lines_by_scan(&h.state), "step {}: the lines after {:?}", i, op);
        }
        let mut reader = DayReader::new(Arc::clone(&h.state.setup));
        let read: Vec<Fact> = h.log.iter().flat_map(|(seq, r)| reader.read(*seq, r)).collect();
        prop_assert_eq!(read, live, "the log read again yields other facts");
    }
}
