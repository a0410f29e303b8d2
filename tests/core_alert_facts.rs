//! The alert facts `apply` yields (`What::AlertRaised`, `AlertCleared`, `AlertEnded`),
//! held against the state's own alerts after every step of a random script: queues that
//! grow and shrink, windows paused and idle, printers failing, acknowledgements, the clock
//! running on and new days opening. The alert webhook sends exactly these facts, live and
//! in its catch-up after a restart, so a fact missing or wrong is a notice missing or
//! wrong.

use crate::core_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use core_support::*;
use hallq::core::alerts::{Alert, AlertPolicy, PrinterFault, QueueThresholds};
use hallq::core::command::{Command, Envelope};
use hallq::core::day_reader::DayReader;
use hallq::core::facts::{Fact, What};
use hallq::core::model::{KioskId, Outcome, Ts};
use hallq::core::setup::Setup;
use proptest::prelude::*;

const MIN: i64 = 60_000;

/// Every kind of alert on, low: A above 2 waiting or 20 minutes' wait, B above 1 waiting,
/// windows paused over 15 minutes or idle over 10, a queue unstaffed from 2 waiting.
fn alerting() -> Setup {
    let mut queues = BTreeMap::new();
    queues.insert(q("A"), QueueThresholds { waiting: 2, wait_min: 20 });
    queues.insert(q("B"), QueueThresholds { waiting: 1, wait_min: 0 });
    Setup { alerts: AlertPolicy { queues, paused_min: 15, idle_min: 10, unstaffed: 2 }, ..setup() }
}

#[derive(Clone, Debug)]
enum Op {
    Issue(usize),
    Open(usize),
    Close(usize),
    Pause(usize),
    Resume(usize),
    Next(usize),
    Done(usize),
    Ack(u64),
    Printer(Option<PrinterFault>),
    /// The engine's tick, so many minutes on.
    Tick(i64),
    /// The engine's tick on the next morning: a new day opens.
    NextDay,
}

const SERVICES: [&str; 3] = ["SC-A1", "SC-B1", "YJS-01"];
const WINDOWS: [&str; 4] = ["1", "2", "3", "4"];

fn op() -> impl Strategy<Value = Op> {
    let win = 0..WINDOWS.len();
    let fault = prop_oneof![
        Just(None),
        Just(Some(PrinterFault::PaperOut)),
        Just(Some(PrinterFault::CoverOpen)),
        Just(Some(PrinterFault::Offline)),
    ];
    prop_oneof![
        6 => (0..SERVICES.len()).prop_map(Op::Issue),
        2 => win.clone().prop_map(Op::Open),
        1 => win.clone().prop_map(Op::Close),
        1 => win.clone().prop_map(Op::Pause),
        1 => win.clone().prop_map(Op::Resume),
        3 => win.clone().prop_map(Op::Next),
        3 => win.prop_map(Op::Done),
        1 => (1..12u64).prop_map(Op::Ack),
        1 => fault.prop_map(Op::Printer),
        6 => (1..30i64).prop_map(Op::Tick),
        1 => Just(Op::NextDay),
    ]
}

/// The command of `op` and when it runs; `now` moves on with a tick.
fn command(op: &Op, issued: &mut u32, now: &mut Ts) -> Envelope {
    let c = |x: &usize| (WINDOWS[*x], format!("c{}", WINDOWS[*x]));
    match op {
        Op::Issue(s) => {
            *issued += 1;
            issue(*issued, SERVICES[*s], None)
        }
        Op::Open(x) => open(c(x).0, &c(x).1),
        Op::Close(x) => close(c(x).0, &c(x).1),
        Op::Pause(x) => pause(c(x).0, &c(x).1),
        Op::Resume(x) => resume(c(x).0, &c(x).1),
        Op::Next(x) => next(c(x).0, &c(x).1),
        Op::Done(x) => done(c(x).0, &c(x).1, Outcome::Completed),
        Op::Ack(id) => cmd(Command::AckAlert { id: *id, by: user("supervisor") }),
        Op::Printer(fault) => {
            cmd(Command::PrinterReport { kiosk: KioskId::parse("kiosk1").expect("a kiosk id"), fault: *fault })
        }
        Op::Tick(minutes) => {
            *now = Ts(now.0 + minutes * MIN);
            tick()
        }
        Op::NextDay => {
            // 08:00 on the day after the one `now` is in (the test hall's zone is +08:00).
            let days = (now.0 - t(0, 0).0).div_euclid(24 * 60 * MIN);
            *now = t_on(days + 1, 8, 0, 0);
            tick()
        }
    }
}

/// An alert as the facts know it: acknowledgements are no fact.
fn unacked(a: &Alert) -> Alert {
    Alert { acked_by: None, acked_at: None, ..a.clone() }
}

/// One step's alert facts against the state after it: each alert as the state has it now
/// (nothing else in a step changes an alert again), the day's ends just before its opening.
fn check_step(i: usize, facts: &[Fact], state_alert: impl Fn(u64) -> Option<Alert>) -> Result<(), TestCaseError> {
    let opening = facts.iter().position(|f| matches!(f.what, What::DayOpened { .. }));
    for (k, f) in facts.iter().enumerate() {
        let (alert, ended) = match &f.what {
            What::AlertRaised { alert } => {
                prop_assert!(alert.is_active() && alert.acked_by.is_none(), "step {}: raised {:?}", i, alert);
                prop_assert_eq!(alert.raised_at, f.at, "step {}: raised when its record was", i);
                (alert, false)
            }
            What::AlertCleared { alert } => {
                prop_assert!(alert.cleared_value.is_some(), "step {}: cleared with its value {:?}", i, alert);
                (alert, false)
            }
            What::AlertEnded { alert } => (alert, true),
            _ => continue,
        };
        prop_assert_eq!(Some(alert.clone()), state_alert(alert.id), "step {}: the fact's alert is the state's", i);
        if ended {
            prop_assert!(alert.ended_by_day() && alert.cleared_at == Some(f.at), "step {}: {:?}", i, alert);
            prop_assert!(opening.is_some_and(|o| k < o), "step {}: an end comes before the day's opening", i);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// After every step: each alert fact is the state's alert; the alerts the facts leave
    /// active are the state's active ones; every alert the state holds has had its facts,
    /// the last of them the alert as the state has it (but for an acknowledgement); and a
    /// reader of the log alone yields the very alert facts the live steps did.
    #[test]
    fn alert_facts_say_what_the_states_alerts_say_after_every_step(
        ops in prop::collection::vec(op(), 1..120)
    ) {
        let mut h = Hall::with(alerting());
        let (mut issued, mut now) = (0u32, t(9, 0));
        let mut known: BTreeMap<u64, Alert> = BTreeMap::new();
        let mut live: Vec<Fact> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let env = command(op, &mut issued, &mut now);
            let step = h.step_at(now, &env);
            check_step(i, &step.facts, |id| h.state.alerts.get(id).cloned())?;
            for f in step.facts {
                if let What::AlertRaised { alert } | What::AlertCleared { alert } | What::AlertEnded { alert } = &f.what {
                    known.insert(alert.id, unacked(alert));
                    live.push(f);
                }
            }
            let active: BTreeSet<u64> = known.values().filter(|a| a.is_active()).map(|a| a.id).collect();
            let state_active: BTreeSet<u64> = h.state.alerts.active.values().copied().collect();
            prop_assert_eq!(active, state_active, "step {}: the active alerts after {:?}", i, op);
            let held: BTreeMap<u64, Alert> =
                h.state.alerts.days.values().flatten().map(|a| (a.id, unacked(a))).collect();
            prop_assert_eq!(&known, &held, "step {}: every alert as its last fact left it", i);
        }
        let mut reader = DayReader::new(Arc::clone(&h.state.setup));
        let read: Vec<Fact> = h
            .log
            .iter()
            .flat_map(|(seq, r)| reader.read(*seq, r))
            .filter(|f| matches!(f.what, What::AlertRaised { .. } | What::AlertCleared { .. } | What::AlertEnded { .. }))
            .collect();
        prop_assert_eq!(read, live, "the log read again yields other alert facts");
    }
}

/// A day's opening with alerts active: the expiries, then each alert's end in id order,
/// then the opening; the next day's raise is a new alert.
#[test]
fn a_new_day_ends_the_active_alerts_in_id_order_before_it_opens() {
    let mut h = Hall::with(alerting());
    let kiosk = KioskId::parse("kiosk1").expect("a kiosk id");
    h.step_at(t(9, 0), &cmd(Command::PrinterReport { kiosk, fault: Some(PrinterFault::PaperOut) }));
    for n in 1..=3 {
        h.step_at(t(9, 1), &issue(n, "SC-A1", None));
    }
    let raised: Vec<What> = h.step_at(t(9, 2), &tick()).facts.into_iter().map(|f| f.what).collect();
    let ids: Vec<u64> =
        raised.iter().filter_map(|w| if let What::AlertRaised { alert } = w { Some(alert.id) } else { None }).collect();
    assert_eq!(ids, [2, 3], "A's queue over 2 and unstaffed: {raised:?}");
    let opening: Vec<String> = h
        .step_at(t_on(1, 8, 0, 0), &tick())
        .facts
        .iter()
        .map(|f| match &f.what {
            What::Expired { .. } => "expired".to_string(),
            What::AlertEnded { alert } => format!("ended {} {}", alert.id, alert.kind.as_str()),
            What::DayOpened { .. } => "day_opened".to_string(),
            _ => "other".to_string(),
        })
        .filter(|s| s != "other")
        .collect();
    assert_eq!(
        opening,
        [
            "expired",
            "expired",
            "expired",
            "ended 1 printer",
            "ended 2 queue_waiting",
            "ended 3 queue_unstaffed",
            "day_opened"
        ]
    );
}
