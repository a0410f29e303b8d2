//! 办不成事 in the simulator: with `--escalate` a share of visitors' matters cannot be
//! finished at the first counter; the simulated clerk escalates each with the hall's first
//! reason, and the escalation window serves it again. The report's count is the core's
//! own figures; the test holds it against the share asked for and against what the
//! simulated escalation window served, and the escalated tickets' waits at that window
//! (a row of their own) against it too.

use crate::sim::{example_hall, trace_options};

use hallq::sim::{self, Options, Rate, Source};

fn options(escalate: f64) -> Options {
    Options { source: Source::Poisson(Rate { per_hour: 60.0 }), sample: 1.0, escalate, ..trace_options(5) }
}

#[test]
fn escalated_matters_reach_the_escalation_window_and_are_served_there() {
    let hall = example_hall();
    let plain = sim::simulate(&hall, &options(0.0)).expect("runs");
    assert_eq!((plain.escalated, plain.escalated_served), (0, 0));
    let json = serde_json::to_value(&plain).expect("serialises");
    assert!(json.get("escalated").is_none(), "no escalations, no key: the report is as before");

    let run = sim::simulate(&hall, &options(0.1)).expect("runs");
    assert_eq!(run.tickets.arrivals, plain.tickets.arrivals, "the same visitors come");
    // About one matter in ten, of those finished at a first counter (the core's count).
    let share = run.escalated as f64 / run.tickets.served as f64;
    assert!((0.05..0.16).contains(&share), "{} escalated of {} served", run.escalated, run.tickets.served);
    // Window 12 (queue Z) is staffed all day: every escalated matter is served again.
    assert_eq!(run.escalated_served, run.escalated, "escalated matters left unserved");
    let table = run.table();
    assert!(table.contains("escalated (办不成事) / served again"), "{table}");
    assert!(table.contains("queue Z"), "the escalation queue's waits are reported: {table}");
    // Issue 17 §2: an escalated ticket's second wait is its own row, not a bundle's step.
    assert_eq!(run.escalation_wait.tickets, run.escalated_served, "one wait per matter served again");
    assert_eq!(run.step_wait.tickets, run.tickets.steps_done, "later steps are bundle steps alone");
    assert!(table.contains("escalated, wait at the escalation window"), "{table}");
    assert!(json.get("escalation_wait").is_none(), "no escalations, no wait row");

    let refused = sim::simulate(&hall, &options(1.5)).expect_err("a share above 1");
    assert!(refused.to_string().contains("--escalate"), "{refused}");
}
