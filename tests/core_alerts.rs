//! Supervision alerts in the core: thresholds crossed on the engine's tick, hysteresis on
//! the way down, paused and idle windows, acknowledgement, a new day, and replay (the
//! log, and a day snapshot with its tail, give the live alerts back).

use crate::core_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use core_support::*;
use hallq::core::alerts::{AlertKind, AlertPolicy, PrinterFault, QueueThresholds, CLEAR_PERCENT};
use hallq::core::command::{Command, Reply};
use hallq::core::event::Event;
use hallq::core::hall::HallState;
use hallq::core::model::{KioskId, Ts};
use hallq::core::setup::Setup;

/// The test hall with alerts: A above 5 waiting or 20 minutes' wait; B above 2 waiting;
/// windows paused over 15 minutes or idle over 10.
fn alerting() -> Setup {
    let mut queues = BTreeMap::new();
    queues.insert(q("A"), QueueThresholds { waiting: 5, wait_min: 20 });
    queues.insert(q("B"), QueueThresholds { waiting: 2, wait_min: 0 });
    Setup { alerts: AlertPolicy { queues, paused_min: 15, idle_min: 10, unstaffed: 0 }, ..setup() }
}

/// The alert events of the records logged since `from`, in a short form.
fn alert_events(hall: &Hall, from: usize) -> Vec<String> {
    hall.log[from..]
        .iter()
        .filter_map(|(_, r)| match &r.event {
            Event::AlertRaised { id, kind, queue, window, value, threshold, kiosk, fault } => {
                let on = queue.map(|q| q.to_string()).or(window.map(|w| w.to_string())).unwrap_or_default();
                let on = kiosk.map(|k| format!("{k} {}", fault.map_or("?", |f| f.as_str()))).unwrap_or(on);
                Some(format!("raised {id} {} {on} {value}>{threshold}", kind.as_str()))
            }
            Event::AlertCleared { id, value } => Some(format!("cleared {id} at {value}")),
            Event::AlertAcknowledged { id, by } => Some(format!("acked {id} by {by}")),
            _ => None,
        })
        .collect()
}

fn tick_at(hall: &mut Hall, at: Ts) -> usize {
    let from = hall.log.len();
    hall.step_at(at, &tick()).result.expect("a tick is never refused");
    hall.now = at;
    from
}

fn ack(id: u64, by: &str) -> hallq::core::command::Envelope {
    cmd(Command::AckAlert { id, by: user(by) })
}

fn assert_replays(hall: &Hall) {
    let replayed = replay(hall.state.setup.clone(), &hall.log);
    assert_eq!(replayed, hall.state, "replaying the log gives the live state");
}

#[test]
fn a_queue_count_alert_rises_above_the_threshold_and_clears_only_below_80_percent() {
    let mut hall = Hall::with(alerting());
    for n in 1..=5 {
        hall.must(&issue(n, "SC-A1", None));
    }
    let from = tick_at(&mut hall, t(9, 10));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "5 waiting is not above 5");
    hall.must(&issue(6, "SC-A1", None));
    let from = tick_at(&mut hall, t(9, 12));
    assert_eq!(alert_events(&hall, from), ["raised 1 queue_waiting A 6>5"]);
    let from = tick_at(&mut hall, t(9, 13));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "an active alert is not raised twice");
    // 5 waiting: at the threshold, not yet at 80 % of it (4): the alert stays.
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    let from = tick_at(&mut hall, t(9, 16));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "no clearing at 5 of 5");
    assert_eq!(CLEAR_PERCENT, 80);
    hall.must(&serve("1", "c1"));
    hall.must(&done("1", "c1", hallq::core::model::Outcome::Completed));
    hall.must(&next("1", "c1"));
    let from = tick_at(&mut hall, t(9, 19));
    assert_eq!(alert_events(&hall, from), ["cleared 1 at 4"]);
    let a = hall.state.alerts.get(1).expect("alert 1 kept");
    assert_eq!((a.value, a.threshold, a.cleared_value), (6, 5, Some(4)));
    assert!(!a.is_active());
    // Above again: a new alert, with the next id.
    hall.must(&issue(7, "SC-A1", None));
    hall.must(&issue(8, "SC-A1", None));
    let from = tick_at(&mut hall, t(9, 21));
    assert_eq!(alert_events(&hall, from), ["raised 2 queue_waiting A 6>5"]);
    assert_replays(&hall);
}

#[test]
fn the_oldest_wait_alert_follows_the_clock_and_the_head_of_the_line() {
    let mut hall = Hall::with(alerting());
    hall.step_at(t(9, 0), &issue(1, "SC-A1", None));
    hall.step_at(t(9, 10), &issue(2, "SC-A1", None));
    let from = tick_at(&mut hall, t(9, 20));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "20 minutes is not above 20");
    let from = tick_at(&mut hall, t(9, 21));
    assert_eq!(alert_events(&hall, from), ["raised 1 queue_wait A 21>20"]);
    // Ticket 1 is called: ticket 2 has waited 17 minutes, above 80 % of 20 (16): stays.
    hall.step_at(t(9, 27), &open("1", "c1"));
    hall.step_at(t(9, 27), &next("1", "c1"));
    let from = tick_at(&mut hall, t(9, 27));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new());
    hall.step_at(t(9, 28), &serve("1", "c1"));
    hall.step_at(t(9, 28), &done("1", "c1", hallq::core::model::Outcome::Completed));
    hall.step_at(t(9, 28), &next("1", "c1"));
    let from = tick_at(&mut hall, t(9, 28));
    assert_eq!(alert_events(&hall, from), ["cleared 1 at 0"], "nobody waits any more");
    assert_replays(&hall);
}

#[test]
fn a_paused_window_alerts_after_its_threshold_and_clears_when_resumed() {
    let mut hall = Hall::with(alerting());
    hall.step_at(t(9, 0), &open("4", "c4"));
    hall.step_at(t(9, 5), &pause("4", "c4"));
    let from = tick_at(&mut hall, t(9, 20));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "15 minutes is not above 15");
    let from = tick_at(&mut hall, t(9, 21));
    assert_eq!(alert_events(&hall, from), ["raised 1 window_paused 4 16>15"]);
    hall.step_at(t(9, 30), &resume("4", "c4"));
    let from = tick_at(&mut hall, t(9, 30));
    assert_eq!(alert_events(&hall, from), ["cleared 1 at 0"]);
    // A second pause counts from its own start.
    hall.step_at(t(9, 31), &pause("4", "c4"));
    let from = tick_at(&mut hall, t(9, 45));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new());
    let from = tick_at(&mut hall, t(9, 47));
    assert_eq!(alert_events(&hall, from), ["raised 2 window_paused 4 16>15"]);
    assert_replays(&hall);
}

#[test]
fn an_idle_window_alerts_only_while_tickets_it_could_call_wait() {
    let mut hall = Hall::with(alerting());
    hall.step_at(t(9, 0), &open("4", "c4"));
    let from = tick_at(&mut hall, t(9, 30));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "idle with nobody waiting is fine");
    // An A ticket does not concern window 4 (B only).
    hall.step_at(t(9, 30), &issue(1, "SC-A1", None));
    let from = tick_at(&mut hall, t(9, 31));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new());
    hall.step_at(t(9, 31), &issue(2, "SC-B1", None));
    let from = tick_at(&mut hall, t(9, 32));
    assert_eq!(alert_events(&hall, from), ["raised 1 window_idle 4 32>10"]);
    hall.step_at(t(9, 33), &next("4", "c4"));
    let from = tick_at(&mut hall, t(9, 33));
    assert_eq!(alert_events(&hall, from), ["cleared 1 at 0"]);
    assert_replays(&hall);
}

#[test]
fn a_supervisor_acknowledges_an_alert_once_and_unknown_ids_are_refused() {
    let mut hall = Hall::with(alerting());
    for n in 1..=3 {
        hall.must(&issue(n, "SC-B1", None));
    }
    tick_at(&mut hall, t(9, 10));
    assert_eq!(hall.state.alerts.active.len(), 1);
    let before = hall.state.clone();
    let refused = hall.step(&ack(99, "supervisor"));
    assert_eq!(refused.result.map_err(|r| r.code()), Err("unknown_alert"));
    assert_eq!(hall.state, before, "a refusal changes nothing");
    let from = hall.log.len();
    let d = hall.must(&ack(1, "supervisor"));
    assert_eq!(d.reply, Reply::Alert(1));
    assert_eq!(alert_events(&hall, from), ["acked 1 by supervisor"]);
    let a = hall.state.alerts.get(1).expect("alert 1");
    assert_eq!(a.acked_by.as_ref().map(|u| u.as_str()), Some("supervisor"));
    assert!(a.is_active(), "acknowledged is not cleared: the queue is still long");
    // Again, by someone else: answered, nothing logged, the first acknowledgement stands.
    let from = hall.log.len();
    let d = hall.must(&ack(1, "admin"));
    assert_eq!(d.reply, Reply::Alert(1));
    assert!(hall.log.len() == from);
    assert_eq!(hall.state.alerts.get(1).unwrap().acked_by.as_ref().map(|u| u.as_str()), Some("supervisor"));
    assert_replays(&hall);
}

#[test]
fn a_new_day_ends_the_old_days_alerts_and_a_day_snapshot_keeps_them() {
    let mut hall = Hall::with(alerting());
    for n in 1..=3 {
        hall.must(&issue(n, "SC-B1", None));
    }
    tick_at(&mut hall, t(9, 10));
    hall.must(&ack(1, "supervisor"));
    let from = tick_at(&mut hall, t_on(1, 8, 0, 0));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "the new day has no tickets and raises nothing");
    assert!(hall.state.alerts.active.is_empty());
    let old = hall.state.alerts.of_day(Some(day()));
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].cleared_at, Some(t_on(1, 8, 0, 0)), "ended by the day's opening");
    // Yesterday's alert may not be acknowledged today.
    let refused = hall.step(&ack(1, "supervisor"));
    assert_eq!(refused.result.map_err(|r| r.code()), Err("unknown_alert"));
    // The day's snapshot holds the history; restored, it is the live state.
    let snap = hall.state.day_snapshot().expect("a fresh day has a snapshot");
    let text = serde_json::to_string(&snap).unwrap();
    let back: hallq::core::snapshot::DaySnapshot = serde_json::from_str(&text).unwrap();
    assert_eq!(back, snap, "the snapshot round-trips through its stored form");
    let restored = HallState::from_snapshot(Arc::new(alerting()), back);
    assert_eq!(restored, hall.state);
    // Ids go on growing across days, also after a restore.
    let mut hall2 = Hall { state: restored, log: Vec::new(), now: t_on(1, 9, 0, 0) };
    for n in 10..=12 {
        hall2.must(&issue(n, "SC-B1", None));
    }
    let from = tick_at(&mut hall2, t_on(1, 9, 30, 0));
    assert_eq!(alert_events(&hall2, from), ["raised 2 queue_waiting B 3>2"]);
    assert_replays(&hall);
}

#[test]
fn zero_thresholds_raise_nothing_and_alerts_carry_no_visitor_data() {
    let mut hall = Hall::new();
    for n in 1..=30 {
        hall.must(&issue(n, "SC-A1", Some("elderly")));
    }
    hall.must(&open("1", "c1"));
    hall.must(&pause("1", "c1"));
    let from = tick_at(&mut hall, t(15, 0));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "the plain test hall has every alert off");
    let mut hall = Hall::with(alerting());
    for n in 1..=6 {
        hall.must(&issue(n, "SC-A1", Some("elderly")));
    }
    let from = tick_at(&mut hall, t(9, 30));
    for (_, r) in &hall.log[from..] {
        let text = serde_json::to_string(&r.event).unwrap();
        assert!(!text.contains("elderly") && !text.contains("SC-A1"), "{text}");
    }
    assert!(alert_events(&hall, from).iter().any(|e| e.contains("queue_waiting A")));
    assert_eq!(AlertKind::QueueWaiting.unit(), "tickets");
}

fn printer(kiosk: &str, fault: Option<PrinterFault>) -> hallq::core::command::Envelope {
    cmd(Command::PrinterReport { kiosk: KioskId::parse(kiosk).unwrap(), fault })
}

#[test]
fn a_printer_report_raises_changes_and_clears_the_kiosks_alert_and_a_new_day_ends_it() {
    let mut hall = Hall::with(alerting());
    let report = |hall: &mut Hall, fault| {
        let from = hall.log.len();
        hall.must(&printer("kiosk1", fault));
        alert_events(hall, from)
    };
    assert_eq!(report(&mut hall, None), Vec::<String>::new(), "a ready printer with no alert writes nothing");
    assert_eq!(report(&mut hall, Some(PrinterFault::PaperOut)), ["raised 1 printer kiosk1 paper_out 0>0"]);
    assert_eq!(report(&mut hall, Some(PrinterFault::PaperOut)), Vec::<String>::new(), "the same fault again: nothing");
    assert_eq!(
        report(&mut hall, Some(PrinterFault::CoverOpen)),
        ["cleared 1 at 0", "raised 2 printer kiosk1 cover_open 0>0"],
        "another fault: the alert says what is wrong now"
    );
    hall.must(&ack(2, "supervisor"));
    assert_eq!(report(&mut hall, None), ["cleared 2 at 0"]);
    assert_eq!(report(&mut hall, Some(PrinterFault::Offline)), ["raised 3 printer kiosk1 offline 0>0"]);
    // The engine's tick leaves it alone: only the printer's report clears it.
    let from = tick_at(&mut hall, t(9, 30));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new());
    assert_replays(&hall);
    // A new day ends it like the others; the printer's next report raises it again.
    tick_at(&mut hall, t_on(1, 8, 0, 0));
    assert!(hall.state.alerts.active.is_empty());
    assert!(hall.state.alerts.of_day(Some(day()))[2].ended_by_day());
    assert_eq!(report(&mut hall, Some(PrinterFault::Offline)), ["raised 4 printer kiosk1 offline 0>0"]);
    assert_eq!(AlertKind::Printer.as_str(), "printer");
    assert_replays(&hall);
}

/// The test hall with only the unstaffed alert on, from one waiting ticket.
fn unstaffed_on() -> Setup {
    Setup { alerts: AlertPolicy { unstaffed: 1, ..AlertPolicy::default() }, ..setup() }
}

fn set_queues(window: &str, queues: &[&str]) -> hallq::core::command::Envelope {
    cmd(Command::SetWindowQueues {
        window: w(window),
        queues: queues.iter().map(|s| q(s)).collect(),
        by: user("admin"),
    })
}

/// Issue 15, point 9: B had 16 and V 6 waiting while every window serving them was closed,
/// and the supervisor heard only of the long queue.
#[test]
fn a_queue_with_tickets_and_no_open_window_alerts_on_the_next_tick_and_clears_when_a_window_opens() {
    let mut hall = Hall::with(unstaffed_on());
    // Window 1 (A only) is open; B is served by windows 2 and 4, V by window 3: all closed.
    hall.must(&open("1", "c1"));
    for n in 1..=3 {
        hall.must(&issue(n, "SC-B1", None));
    }
    hall.must(&issue(4, "SC-A1", Some("elderly")));
    let from = tick_at(&mut hall, t(9, 0));
    assert_eq!(alert_events(&hall, from), ["raised 1 queue_unstaffed B 3>1"], "A has an open window; B has none");
    let from = tick_at(&mut hall, Ts(t(9, 0).0 + 1_000));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "raised once");
    // A paused window calls nobody: it does not staff B.
    hall.must(&open("4", "c4"));
    hall.must(&pause("4", "c4"));
    let from = tick_at(&mut hall, t(9, 1));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "still unstaffed while window 4 is paused");
    hall.must(&resume("4", "c4"));
    let from = tick_at(&mut hall, Ts(t(9, 1).0 + 1_000));
    assert_eq!(alert_events(&hall, from), ["cleared 1 at 0"], "cleared on the tick after a window opens");
    // An admin taking B off the only open window that serves it raises it again.
    hall.must(&close("4", "c4"));
    hall.must(&open("2", "c2"));
    let from = tick_at(&mut hall, t(9, 2));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "window 2 serves B");
    hall.must(&set_queues("2", &["A"]));
    let from = tick_at(&mut hall, t(9, 3));
    assert_eq!(alert_events(&hall, from), ["raised 2 queue_unstaffed B 3>1"]);
    // The line emptying also ends it, and an empty queue never alerts.
    for n in 1..=3 {
        hall.must(&cancel(n));
    }
    let from = tick_at(&mut hall, t(9, 4));
    assert_eq!(alert_events(&hall, from), ["cleared 2 at 0"]);
    assert_eq!(AlertKind::QueueUnstaffed.as_str(), "queue_unstaffed");
    assert_eq!(AlertKind::QueueUnstaffed.unit(), "tickets");
    assert_replays(&hall);
}

#[test]
fn the_unstaffed_alert_is_off_at_zero_and_counts_only_the_shared_line() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-B1", None));
    let from = tick_at(&mut hall, t(9, 0));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "alert_unstaffed = 0: off");
    // With a threshold of 2, one ticket is not enough, two are.
    let mut hall = Hall::with(Setup { alerts: AlertPolicy { unstaffed: 2, ..AlertPolicy::default() }, ..setup() });
    hall.must(&issue(2, "SC-B1", None));
    let from = tick_at(&mut hall, t(9, 0));
    assert_eq!(alert_events(&hall, from), Vec::<String>::new(), "1 of 2");
    hall.must(&issue(3, "SC-B2", None));
    let from = tick_at(&mut hall, t(9, 1));
    assert_eq!(alert_events(&hall, from), ["raised 1 queue_unstaffed B 2>2"]);
    assert_replays(&hall);
}
