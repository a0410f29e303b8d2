//! Issue 17 §4 in the core: store-next (armed, the call is made in the step of the
//! finish; `done` and `next` as one command; disarmed by a close; a repeated key calls
//! nobody), walk-direct (called at once, never ahead of a ticket past `max_wait_min`, at
//! most `WALK_DIRECT_PER_DAY_MAX` a window a day), the per-person limits at the kiosk; and
//! a property over random scripts with armed windows: no ticket is ever called at two
//! windows, no window calls twice in one step, and an armed window left idle after a
//! finish had nobody to call.

use crate::core_support;

use core_support::*;
use hallq::core::clerk_moves::{PersonLimits, WALK_DIRECT_PER_DAY_MAX};
use hallq::core::event::Event;
use hallq::core::model::{Outcome, TicketStatus, Ts, WindowState};
use hallq::core::setup::Setup;
use hallq::core::RejectionKind::{BadInput, Conflict, Forbidden};
use hallq::core::{decide, Command, Envelope, Reply};
use proptest::prelude::*;

fn arm(window: &str, clerk: &str, armed: bool) -> Envelope {
    cmd(Command::ArmStoreNext { window: w(window), clerk: user(clerk), armed })
}

fn done_next(window: &str, clerk: &str) -> Envelope {
    cmd(Command::DoneAndNext { window: w(window), clerk: user(clerk), outcome: Outcome::Completed })
}

fn walk_up(window: &str, clerk: &str, n: u32, service: &str) -> Envelope {
    cmd(Command::WalkDirect { window: w(window), clerk: user(clerk), id: tid(n), service: service.into() })
}

fn for_person(n: u32, person: &str) -> Envelope {
    cmd(Command::IssueForPerson {
        id: tid(n),
        service: "SC-A1".into(),
        priority: None,
        kiosk: "k1".into(),
        person: person.into(),
        remote: false,
    })
}

/// Tickets 1 and 2 waiting in queue A, window 1 open under c1 and serving ticket 1.
fn serving_one(h: &mut Hall) {
    for env in [open("1", "c1"), issue(1, "SC-A1", None), issue(2, "SC-A2", None), next("1", "c1"), serve("1", "c1")] {
        h.must(&env);
    }
}

#[test]
fn an_armed_window_calls_the_next_ticket_in_the_step_that_finishes_its_ticket() {
    let mut h = Hall::new();
    serving_one(&mut h);
    h.check(&[arm("1", "c2", true)], Expect::Rejected("not_your_window", Forbidden));
    h.check(&[arm("1", "c1", true)], Expect::Ok(window("1"), &["store_next_set"]));
    assert!(h.state.window(&w("1")).unwrap().store_next);
    // Arming again changes nothing.
    h.check(&[arm("1", "c1", true)], Expect::Ok(window("1"), &[]));
    let from = h.log.len();
    let step = h.step(&done("1", "c1", Outcome::Completed));
    assert_eq!(step.result.map(|d| d.reply), Ok(ticket(1)), "the answer is the finish's");
    assert_eq!(h.types_since(from), ["ticket_done", "store_next_fired", "ticket_called"]);
    let win = h.state.window(&w("1")).unwrap();
    assert_eq!((win.state, win.ticket), (WindowState::Calling, Some(tid(2))));
    let day = &h.state.stats[&day()];
    assert_eq!((day.total.store_next_calls, day.by_window[&w("1")].store_next_calls), (1, 1));
    // Nobody left: the finish lets the window idle, and store-next stays armed.
    h.must(&serve("1", "c1"));
    let from = h.log.len();
    h.must(&done("1", "c1", Outcome::Completed));
    assert_eq!(h.types_since(from), ["ticket_done"]);
    assert!(h.state.window(&w("1")).unwrap().store_next);
    // Armed and idle, the window calls the next ticket in the step that issues it.
    let from = h.log.len();
    h.must(&issue(3, "SC-A1", None));
    assert_eq!(h.types_since(from), ["ticket_issued", "store_next_fired", "ticket_called"]);
    assert_eq!(h.state.window(&w("1")).unwrap().ticket, Some(tid(3)));
    // Disarmed, a finish calls nobody even with a ticket waiting.
    h.check(&[arm("1", "c1", false)], Expect::Ok(window("1"), &["store_next_set"]));
    h.must(&issue(4, "SC-A1", None));
    let from = h.log.len();
    h.must(&no_show("1", "c1"));
    assert_eq!(h.types_since(from), ["ticket_no_show"]);
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state, "store-next replays");
}

#[test]
fn done_and_next_is_one_step_and_a_repeat_of_its_key_calls_nobody() {
    let mut h = Hall::new();
    serving_one(&mut h);
    h.check(&[done_next("2", "c1")], Expect::Rejected("window_closed", Conflict));
    let env = keyed(done_next("1", "c1"), "k-1");
    let from = h.log.len();
    assert_eq!(h.must(&env).reply, ticket(1));
    assert_eq!(h.types_since(from), ["ticket_done", "store_next_fired", "ticket_called"]);
    assert!(!h.state.window(&w("1")).unwrap().store_next, "done-next does not arm");
    h.must(&issue(3, "SC-A1", None));
    h.check(&[env], Expect::Repeated(ticket(1)));
    assert_eq!(h.ticket(3).status, TicketStatus::Waiting, "the repeat called nobody");
    // Nothing to finish: refused, and nobody is called either.
    h.must(&no_show("1", "c1"));
    h.check(&[done_next("1", "c1")], Expect::Rejected("no_ticket", Conflict));
}

/// Store-next must not idle: an armed window that finished with nobody to call calls the
/// first ticket it serves that comes to wait (issued, transferred from another window), in
/// that command's step; a ticket of a queue it does not serve waits; arming an idle window
/// while a ticket waits calls it at once.
#[test]
fn an_armed_idle_window_calls_the_first_ticket_that_comes_to_wait() {
    let mut h = Hall::new();
    h.must(&open("1", "c1"));
    h.must(&open("2", "c2"));
    h.must(&arm("1", "c1", true));
    let from = h.log.len();
    h.must(&issue(1, "SC-B1", None));
    assert_eq!(h.types_since(from), ["ticket_issued"], "window 1 does not serve queue B");
    h.must(&next("2", "c2"));
    assert_eq!(h.state.window(&w("2")).unwrap().ticket, Some(tid(1)));
    let from = h.log.len();
    h.must(&to_queue("2", "c2", "A"));
    assert_eq!(h.types_since(from)[1..], ["store_next_fired", "ticket_called"], "the transfer's step calls it");
    assert_eq!(h.state.window(&w("1")).unwrap().ticket, Some(tid(1)));
    h.must(&no_show("1", "c1"));
    h.must(&arm("1", "c1", false));
    h.must(&issue(2, "SC-A1", None));
    assert_eq!(h.state.window(&w("1")).unwrap().ticket, None, "disarmed, it waits");
    let from = h.log.len();
    h.must(&arm("1", "c1", true));
    assert_eq!(h.types_since(from), ["store_next_set", "store_next_fired", "ticket_called"]);
    assert_eq!(h.state.window(&w("1")).unwrap().ticket, Some(tid(2)));
    assert_eq!(h.state.stats[&day()].by_window[&w("1")].store_next_calls, 2);
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state, "the calls replay");
}

#[test]
fn a_close_and_a_new_sign_in_disarm_store_next() {
    let mut h = Hall::new();
    h.must(&open("1", "c1"));
    h.must(&arm("1", "c1", true));
    h.must(&close("1", "c1"));
    h.must(&open("1", "c1"));
    assert!(!h.state.window(&w("1")).unwrap().store_next);
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state);
}

#[test]
fn a_walk_up_is_called_at_once_at_the_clerks_window_and_counted() {
    let mut h = Hall::new();
    h.must(&open("1", "c1"));
    h.must(&issue(1, "SC-A1", None));
    h.check(&[walk_up("1", "c1", 2, "SC-B1")], Expect::Rejected("walk_direct_not_served", BadInput));
    h.check(&[walk_up("1", "c2", 2, "SC-A1")], Expect::Rejected("not_your_window", Forbidden));
    h.check(
        &[walk_up("1", "c1", 2, "SC-A2")],
        Expect::Ok(ticket(2), &["ticket_issued", "walk_direct", "ticket_called"]),
    );
    let win = h.state.window(&w("1")).unwrap();
    assert_eq!((win.ticket, win.walk_direct_today), (Some(tid(2)), 1));
    h.check(&[walk_up("1", "c1", 3, "SC-A2")], Expect::Rejected("window_busy", Conflict));
    let day = &h.state.stats[&day()];
    assert_eq!((day.total.walk_direct, day.by_window[&w("1")].walk_direct, day.total.issued), (1, 1, 2));
    assert_eq!(h.ticket(1).status, TicketStatus::Waiting, "the kiosk's ticket still waits, first in line");
}

#[test]
fn a_walk_up_never_goes_ahead_of_a_ticket_past_max_wait() {
    let mut h = Hall::with(setup_with_policy(2, 30));
    h.must(&open("1", "c1"));
    h.must(&issue(1, "SC-A1", None));
    let number = h.number(1);
    h.now = t(9, 40);
    let step = h.step(&walk_up("1", "c1", 2, "SC-A2"));
    let refusal = step.result.expect_err("a ticket waited 40 min, past 30");
    assert_eq!(refusal.code(), "walk_direct_behind_aged");
    assert!(refusal.to_string().contains(&number), "the refusal names {number}: {refusal}");
    assert!(h.state.ticket(&tid(2)).is_none(), "nothing issued");
    // Called first, the aged ticket no longer stands in the way.
    h.must(&next("1", "c1"));
    h.must(&serve("1", "c1"));
    h.must(&done("1", "c1", Outcome::Completed));
    h.check(
        &[walk_up("1", "c1", 2, "SC-A2")],
        Expect::Ok(ticket(2), &["ticket_issued", "walk_direct", "ticket_called"]),
    );
}

#[test]
fn a_window_issues_at_most_its_walk_direct_tickets_a_day() {
    let mut h = Hall::new();
    h.must(&open("1", "c1"));
    for n in 1..=WALK_DIRECT_PER_DAY_MAX {
        h.must(&walk_up("1", "c1", n, "SC-A1"));
        h.must(&no_show("1", "c1"));
    }
    h.check(&[walk_up("1", "c1", 999, "SC-A1")], Expect::Rejected("walk_direct_limit", Conflict));
}

fn limited() -> Setup {
    let person_limits = PersonLimits { tickets_per_day: Some(2), no_shows_before_wait: Some(1), no_show_wait_min: 30 };
    Setup { person_limits, ..setup() }
}

#[test]
fn a_person_takes_at_most_the_days_tickets_and_waits_after_no_shows() {
    let mut h = Hall::with(limited());
    h.check(&[for_person(1, "p-a")], Expect::Ok(ticket(1), &["ticket_issued", "person_ticket"]));
    h.must(&for_person(2, "p-a"));
    h.check(&[for_person(3, "p-a")], Expect::Rejected("person_daily_limit", Conflict));
    h.must(&for_person(4, "p-b"));
    assert_eq!(h.state.stats[&day()].total.id_checked, 3);
    // p-b misses the call at 10:00 (local): no new ticket until 10:30.
    h.must(&open("1", "c1"));
    for _ in 0..2 {
        h.must(&next("1", "c1"));
        h.must(&serve("1", "c1"));
        h.must(&done("1", "c1", Outcome::Completed));
    }
    h.must(&next("1", "c1"));
    assert_eq!(h.state.window(&w("1")).unwrap().ticket, Some(tid(4)));
    h.now = t(10, 0);
    h.must(&no_show("1", "c1"));
    h.now = t(10, 29);
    let step = h.step(&for_person(5, "p-b"));
    let refusal = step.result.expect_err("p-b waits");
    assert_eq!(refusal.code(), "person_must_wait");
    assert!(refusal.to_string().contains("10:30"), "{refusal}");
    h.now = t(10, 30);
    h.must(&for_person(5, "p-b"));
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state, "the limits replay");
}

/// What a random script may do at a window, or at the kiosk.
#[derive(Clone, Debug)]
enum Op {
    Issue(usize),
    Open(usize),
    Arm(usize, bool),
    Next(usize),
    Serve(usize),
    Done(usize),
    DoneNext(usize),
    NoShow(usize),
    Park(usize),
    Transfer(usize),
    Close(usize),
    Wait(u8),
}

const WINDOWS: [&str; 4] = ["1", "2", "3", "4"];
const SERVICES: [&str; 4] = ["SC-A1", "SC-B1", "YJS-01", "SC-A2"];

fn op() -> impl Strategy<Value = Op> {
    let win = 0..WINDOWS.len();
    prop_oneof![
        3 => (0..SERVICES.len()).prop_map(Op::Issue),
        1 => win.clone().prop_map(Op::Open),
        2 => (win.clone(), any::<bool>()).prop_map(|(w, a)| Op::Arm(w, a)),
        2 => win.clone().prop_map(Op::Next),
        2 => win.clone().prop_map(Op::Serve),
        2 => win.clone().prop_map(Op::Done),
        2 => win.clone().prop_map(Op::DoneNext),
        1 => win.clone().prop_map(Op::NoShow),
        1 => win.clone().prop_map(Op::Park),
        1 => win.clone().prop_map(Op::Transfer),
        1 => win.prop_map(Op::Close),
        1 => any::<u8>().prop_map(Op::Wait),
    ]
}

fn envelope(op: &Op, n: u32) -> Option<Envelope> {
    let c = |i: usize| format!("c{}", WINDOWS[i]);
    Some(match *op {
        Op::Issue(s) => issue(n, SERVICES[s], None),
        Op::Open(i) => open(WINDOWS[i], &c(i)),
        Op::Arm(i, a) => arm(WINDOWS[i], &c(i), a),
        Op::Next(i) => next(WINDOWS[i], &c(i)),
        Op::Serve(i) => serve(WINDOWS[i], &c(i)),
        Op::Done(i) => done(WINDOWS[i], &c(i), Outcome::Completed),
        Op::DoneNext(i) => done_next(WINDOWS[i], &c(i)),
        Op::NoShow(i) => no_show(WINDOWS[i], &c(i)),
        Op::Park(i) => park(WINDOWS[i], &c(i)),
        Op::Transfer(i) => to_queue(WINDOWS[i], &c(i), "A"),
        Op::Close(i) => close(WINDOWS[i], &c(i)),
        Op::Wait(_) => return None,
    })
}

/// After each step: no ticket at two windows and each window's ticket called there; no
/// ticket or window called twice in one step; an armed window idle after its finish had
/// nobody it could call.
fn check_step(h: &Hall, events: &[&Event]) -> Result<(), TestCaseError> {
    let mut held = std::collections::BTreeSet::new();
    for win in h.state.windows.values() {
        if let Some(id) = win.ticket {
            prop_assert!(held.insert(id), "ticket {id} at two windows");
            let t = h.state.ticket(&id).expect("a held ticket exists");
            prop_assert_eq!(t.window, Some(win.id), "ticket {} at window {} points elsewhere", id, win.id);
        }
    }
    let calls: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::TicketCalled { window, id, .. } => Some((*window, *id)),
            _ => None,
        })
        .collect();
    let windows: std::collections::BTreeSet<_> = calls.iter().map(|c| c.0).collect();
    prop_assert_eq!(windows.len(), calls.len(), "a window called twice in one step: {:?}", calls);
    let fired: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::StoreNextFired { window } => Some(*window),
            _ => None,
        })
        .collect();
    let once: std::collections::BTreeSet<_> = fired.iter().collect();
    prop_assert_eq!(once.len(), fired.len(), "store-next fired twice at a window in one step: {:?}", fired);
    // Whatever the step, an armed window left idle has nobody it could call.
    for win in h.state.windows.values() {
        if let (true, WindowState::Open, None, Some(clerk)) = (win.store_next, win.state, win.ticket, &win.clerk) {
            let probe = cmd(Command::CallNext { window: win.id, clerk: clerk.clone() });
            let d = decide(&h.state, &probe, h.state.last_at);
            prop_assert_eq!(d.map(|d| d.reply), Ok(Reply::MaybeTicket(None)), "armed window {} idles", win.id);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn store_next_never_calls_a_ticket_twice_at_a_time(ops in prop::collection::vec(op(), 1..120)) {
        let mut h = Hall::new();
        for (n, op) in ops.iter().enumerate() {
            let Some(env) = envelope(op, n as u32) else {
                if let Op::Wait(m) = op { h.now = Ts(h.now.0 + i64::from(*m) * 10_000); }
                continue;
            };
            let from = h.log.len();
            h.step(&env);
            let events: Vec<&Event> = h.log[from..].iter().map(|(_, r)| &r.event).collect();
            check_step(&h, &events)?;
        }
        prop_assert_eq!(replay(h.state.setup.clone(), &h.log), h.state);
    }
}

/// The audit trail names the clerk of a walk-up and of store-next's arming; the call
/// store-next makes is the clerk's call at that window.
#[test]
fn the_audit_names_the_clerk_of_each_move() {
    use hallq::core::audit::{AuditAction, AuditTrail};
    let mut h = Hall::new();
    h.must(&open("1", "c1"));
    h.must(&arm("1", "c1", true));
    h.must(&walk_up("1", "c1", 1, "SC-A1"));
    h.must(&issue(2, "SC-A1", None));
    h.must(&serve("1", "c1"));
    h.must(&done("1", "c1", Outcome::Completed));
    let mut trail = AuditTrail::new(h.state.setup.clone());
    let entries: Vec<_> = h.log.iter().filter_map(|(seq, r)| trail.observe(*seq, r)).collect();
    let by =
        |action: AuditAction| entries.iter().filter(|e| e.action == action).map(|e| e.user.clone()).collect::<Vec<_>>();
    assert_eq!(by(AuditAction::StoreNextOn), [Some(user("c1"))]);
    assert_eq!(by(AuditAction::WalkDirect), [Some(user("c1"))]);
    let calls: Vec<_> = entries.iter().filter(|e| e.action == AuditAction::Call).map(|e| e.ticket.clone()).collect();
    assert_eq!(calls.len(), 2, "the walk-up's call and store-next's: {entries:?}");
    assert!(entries.iter().filter(|e| e.action == AuditAction::Call).all(|e| e.user == Some(user("c1"))));
}
