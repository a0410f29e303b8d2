//! The core's commands one by one: every success, the ticket's life, idempotency,
//! numbering and bundles; every refusal (with its code and kind, and proof that it changed
//! nothing) is in core_rejections.rs, on the scripts here. Dispatch and transfers are in core_dispatch.rs; hours, the day's limit and the
//! rollover in core_day.rs.
//!
//! Most tests are rows of `(name, script, expected)` run through `core_support::check`.

use crate::core_support;

use core_support::*;
use hallq::core::command::{Envelope, RejectionKind, Reply};
use hallq::core::model::{Outcome, TicketStatus, WindowState};

use Outcome::{Completed, Incomplete};
use RejectionKind::Conflict;

pub(crate) type Row = (&'static str, Vec<Envelope>, Expect);

/// Runs every row on a fresh hall; the row's name is printed first so that a failure
/// names it.
pub(crate) fn run(rows: Vec<Row>) {
    for (name, script, expected) in rows {
        eprintln!("row: {name}");
        check(&script, expected);
    }
}

/// Issue ticket 1 in A, open window 1 and call it.
pub(crate) fn at_window_1() -> Vec<Envelope> {
    vec![issue(1, "SC-A1", None), open("1", "c1"), next("1", "c1")]
}

/// `at_window_1` and the visitor has arrived.
pub(crate) fn serving_at_1() -> Vec<Envelope> {
    let mut s = at_window_1();
    s.push(serve("1", "c1"));
    s
}

/// `serving_at_1` and the service finished.
pub(crate) fn done_at_1() -> Vec<Envelope> {
    let mut s = serving_at_1();
    s.push(done("1", "c1", Completed));
    s
}

/// Ticket 1 missed at window 1, then `minutes` later an attempt to rejoin.
pub(crate) fn rejoin_after(minutes: usize) -> Vec<Envelope> {
    let mut s = then(at_window_1(), vec![no_show("1", "c1")]);
    s.extend(std::iter::repeat_with(tick).take(minutes));
    s.push(rejoin(1));
    s
}

pub(crate) fn then(mut script: Vec<Envelope>, more: Vec<Envelope>) -> Vec<Envelope> {
    script.extend(more);
    script
}

#[test]
fn every_command_succeeds_where_it_should() {
    let comment_500 = "好".repeat(500);
    run(vec![
        ("issue an item", vec![issue(1, "SC-A1", None)], Expect::Ok(ticket(1), &["ticket_issued"])),
        ("issue a bundle", vec![issue(1, "YJS-01", None)], Expect::Ok(ticket(1), &["ticket_issued"])),
        ("issue with priority", vec![issue(1, "SC-B1", Some("pregnant"))], Expect::Ok(ticket(1), &["ticket_issued"])),
        ("cancel", vec![issue(1, "SC-A1", None), cancel(1)], Expect::Ok(ticket(1), &["ticket_cancelled"])),
        ("open", vec![open("1", "c1")], Expect::Ok(window("1"), &["window_opened"])),
        ("open again", vec![open("1", "c1"), open("1", "c1")], Expect::Ok(window("1"), &[])),
        ("next", at_window_1(), Expect::Ok(called(1), &["ticket_called"])),
        ("next, none waiting", vec![open("1", "c1"), next("1", "c1")], Expect::Ok(Reply::MaybeTicket(None), &[])),
        ("recall", then(at_window_1(), vec![recall("1", "c1")]), Expect::Ok(ticket(1), &["ticket_recalled"])),
        ("serve", serving_at_1(), Expect::Ok(ticket(1), &["ticket_serving"])),
        ("done", done_at_1(), Expect::Ok(ticket(1), &["ticket_done"])),
        (
            "done incomplete",
            then(serving_at_1(), vec![done("1", "c1", Incomplete)]),
            Expect::Ok(ticket(1), &["ticket_done"]),
        ),
        ("no-show", then(at_window_1(), vec![no_show("1", "c1")]), Expect::Ok(ticket(1), &["ticket_no_show"])),
        (
            "transfer to a queue",
            then(at_window_1(), vec![to_queue("1", "c1", "B")]),
            Expect::Ok(ticket(1), &["ticket_transferred"]),
        ),
        (
            "transfer to a window",
            then(serving_at_1(), vec![open("2", "c2"), to_window("1", "c1", "2")]),
            Expect::Ok(ticket(1), &["ticket_transferred"]),
        ),
        ("rate", then(done_at_1(), vec![rate(1, 5, None)]), Expect::Ok(ticket(1), &["ticket_rated"])),
        (
            "rate with the longest comment",
            then(done_at_1(), vec![rate_because(1, 1, "attitude", Some(&comment_500))]),
            Expect::Ok(ticket(1), &["ticket_rated"]),
        ),
        ("pause", vec![open("1", "c1"), pause("1", "c1")], Expect::Ok(window("1"), &["window_paused"])),
        ("pause again", vec![open("1", "c1"), pause("1", "c1"), pause("1", "c1")], Expect::Ok(window("1"), &[])),
        (
            "resume",
            vec![open("1", "c1"), pause("1", "c1"), resume("1", "c1")],
            Expect::Ok(window("1"), &["window_resumed"]),
        ),
        ("close", vec![open("1", "c1"), close("1", "c1")], Expect::Ok(window("1"), &["window_closed"])),
        (
            "close paused",
            vec![open("1", "c1"), pause("1", "c1"), close("1", "c1")],
            Expect::Ok(window("1"), &["window_closed"]),
        ),
        (
            "reopen by another clerk",
            vec![open("1", "c1"), close("1", "c1"), open("1", "c9")],
            Expect::Ok(window("1"), &["window_opened"]),
        ),
        ("tick", vec![tick()], Expect::Ok(Reply::Nothing, &[])),
        ("park a called ticket", then(at_window_1(), vec![park("1", "c1")]), Expect::Ok(ticket(1), &["ticket_parked"])),
        ("park while serving", then(serving_at_1(), vec![park("1", "c1")]), Expect::Ok(ticket(1), &["ticket_parked"])),
        (
            "resume a parked ticket",
            then(serving_at_1(), vec![park("1", "c1"), unpark("1", "c1", 1)]),
            Expect::Ok(ticket(1), &["ticket_called"]),
        ),
        (
            "rejoin after a no-show",
            then(at_window_1(), vec![no_show("1", "c1"), rejoin(1)]),
            Expect::Ok(ticket(1), &["ticket_rejoined"]),
        ),
        (
            "finish a bundle's first step",
            vec![
                issue(1, "YJS-01", None),
                open("1", "c1"),
                next("1", "c1"),
                serve("1", "c1"),
                done("1", "c1", Completed),
            ],
            Expect::Ok(ticket(1), &["ticket_step_done"]),
        ),
        (
            "finish a bundle's last step",
            vec![
                issue(1, "YJS-01", None),
                open("1", "c1"),
                next("1", "c1"),
                serve("1", "c1"),
                done("1", "c1", Completed),
                open("4", "c4"),
                next("4", "c4"),
                serve("4", "c4"),
                done("4", "c4", Completed),
            ],
            Expect::Ok(ticket(1), &["ticket_done"]),
        ),
        (
            "an incomplete bundle step ends the ticket",
            vec![
                issue(1, "YJS-01", None),
                open("1", "c1"),
                next("1", "c1"),
                serve("1", "c1"),
                done("1", "c1", Incomplete),
            ],
            Expect::Ok(ticket(1), &["ticket_done"]),
        ),
    ]);
}

#[test]
fn a_refused_command_leaves_no_trace_in_the_log() {
    let hall = check(&[open("1", "c1"), open("2", "c1")], Expect::Rejected("clerk_elsewhere", Conflict));
    assert_eq!(hall.types_since(0), ["day_opened", "window_opened"]);
}

#[test]
fn a_ticket_lives_waiting_called_recalled_serving_done() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "SC-A1", None));
    assert_eq!(hall.ticket(1).status, TicketStatus::Waiting);
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    let t1 = hall.ticket(1);
    assert_eq!((t1.status, t1.window, t1.calls), (TicketStatus::Called, Some(w("1")), 1));
    assert_eq!(hall.state.window(&w("1")).unwrap().state, WindowState::Calling);
    assert_eq!(hall.state.window(&w("1")).unwrap().ticket, Some(tid(1)));
    hall.must(&recall("1", "c1"));
    assert_eq!((hall.ticket(1).status, hall.ticket(1).calls), (TicketStatus::Called, 2));
    hall.must(&serve("1", "c1"));
    assert_eq!(hall.ticket(1).status, TicketStatus::Serving);
    assert_eq!(hall.state.window(&w("1")).unwrap().state, WindowState::Serving);
    hall.must(&done("1", "c1", Completed));
    let t1 = hall.ticket(1);
    assert_eq!((t1.status, t1.outcome), (TicketStatus::Done, Some(Completed)));
    let w1 = hall.state.window(&w("1")).unwrap();
    assert_eq!((w1.state, w1.ticket, w1.clerk.clone()), (WindowState::Open, None, Some(user("c1"))));
    hall.must(&rate(1, 4, Some("很快")));
    assert_eq!(hall.ticket(1).rating, Some(4));

    let figures = &hall.state.stats[&day()].total;
    assert_eq!((figures.issued, figures.called, figures.completed, figures.rated, figures.score_sum), (1, 1, 1, 1, 4));
    // Issued at 09:00, called at 09:02, served at 09:04, done at 09:05 (a minute a command).
    assert_eq!((figures.wait.sum_ms, figures.service.sum_ms), (120_000, 60_000));
    assert_eq!(hall.state.stats[&day()].by_window[&w("1")].completed, 1);
}

#[test]
fn an_incomplete_service_and_a_no_show_and_a_cancel_end_a_ticket() {
    let mut hall = Hall::new();
    for n in 1..=3 {
        hall.must(&issue(n, "SC-A1", None));
    }
    hall.must(&open("1", "c1"));
    hall.must(&next("1", "c1"));
    hall.must(&serve("1", "c1"));
    hall.must(&done("1", "c1", Incomplete));
    assert_eq!((hall.ticket(1).status, hall.ticket(1).outcome), (TicketStatus::Done, Some(Incomplete)));
    hall.must(&next("1", "c1"));
    hall.must(&no_show("1", "c1"));
    assert_eq!(hall.ticket(2).status, TicketStatus::NoShow);
    assert_eq!(hall.state.window(&w("1")).unwrap().ticket, None);
    hall.must(&cancel(3));
    assert_eq!(hall.ticket(3).status, TicketStatus::Cancelled);
    assert_eq!(hall.state.waiting(&q("A")), 0);
    assert_eq!(hall.must(&next("1", "c1")).reply, Reply::MaybeTicket(None));
    let f = &hall.state.stats[&day()].total;
    assert_eq!((f.issued, f.called, f.incomplete, f.no_show, f.cancelled, f.served()), (3, 2, 1, 1, 1, 1));
}

#[test]
fn the_same_idempotency_key_gives_the_same_answer_and_logs_nothing() {
    let mut hall = Hall::new();
    hall.check(&[keyed(issue(1, "SC-A1", None), "kiosk-1/k1")], Expect::Ok(ticket(1), &["ticket_issued"]));
    hall.check(&[keyed(issue(1, "SC-A1", None), "kiosk-1/k1")], Expect::Repeated(ticket(1)));
    // A retry with a freshly drawn id still gets the first ticket, and no second one.
    hall.check(&[keyed(issue(2, "SC-A1", None), "kiosk-1/k1")], Expect::Repeated(ticket(1)));
    assert!(hall.state.ticket(&tid(2)).is_none());
    // A double click on "next" calls one visitor, not two.
    hall.check(&[issue(3, "SC-A1", None), open("1", "c1")], Expect::Ok(window("1"), &["window_opened"]));
    hall.check(&[keyed(next("1", "c1"), "c1/n1")], Expect::Ok(called(1), &["ticket_called"]));
    hall.check(&[keyed(next("1", "c1"), "c1/n1")], Expect::Repeated(called(1)));
    assert_eq!(hall.ticket(3).status, TicketStatus::Waiting);
    // Another key is another command.
    hall.check(&[keyed(next("1", "c1"), "c1/n2")], Expect::Rejected("window_busy", Conflict));
    // The key with another command (another window, another action) is refused, and
    // answers its own command still.
    hall.check(&[keyed(next("2", "c1"), "c1/n1")], Expect::Rejected("idempotency_conflict", Conflict));
    hall.check(&[keyed(serve("1", "c1"), "c1/n1")], Expect::Rejected("idempotency_conflict", Conflict));
    hall.check(&[keyed(next("1", "c1"), "c1/n1")], Expect::Repeated(called(1)));
    // The keys survive a replay.
    assert_eq!(replay(hall.state.setup.clone(), &hall.log).idem, hall.state.idem);
    // A keyed command that changed nothing keeps its answer too: a retried "next" that
    // found nobody must not call a visitor who arrived in between.
    hall.check(
        &[cancel(3), open("2", "c2"), keyed(next("2", "c2"), "c2/n1")],
        Expect::Ok(Reply::MaybeTicket(None), &["no_change"]),
    );
    hall.check(&[issue(5, "SC-A1", None)], Expect::Ok(ticket(5), &["ticket_issued"]));
    hall.check(&[keyed(next("2", "c2"), "c2/n1")], Expect::Repeated(Reply::MaybeTicket(None)));
    assert_eq!(hall.ticket(5).status, TicketStatus::Waiting);
    // Keys last one service day.
    hall.now = t_on(1, 9, 0, 0);
    hall.check(&[keyed(issue(4, "SC-A1", None), "kiosk-1/k1")], Expect::Ok(ticket(4), &["ticket_issued"]));
}

#[test]
fn numbers_count_per_queue_from_001() {
    let mut hall = Hall::new();
    let services = ["SC-A1", "SC-A2", "SC-B1", "YJS-01", "SC-B2", "SC-A3"];
    for (n, service) in (1..).zip(services) {
        hall.must(&issue(n, service, None));
    }
    let numbers: Vec<String> = (1..=6).map(|n| hall.number(n)).collect();
    assert_eq!(numbers, ["A001", "A002", "B001", "A003", "B002", "A004"]);
}

#[test]
fn a_bundle_ticket_lists_its_items_and_joins_the_first_items_queue() {
    let mut hall = Hall::new();
    hall.must(&issue(1, "YJS-01", Some("military")));
    let t1 = hall.ticket(1);
    let services: Vec<&str> = t1.services.iter().map(|s| s.as_str()).collect();
    assert_eq!(services, ["SC-A2", "SC-B1"]);
    assert_eq!(t1.bundle.as_ref().map(|b| b.as_str()), Some("YJS-01"));
    assert_eq!((t1.queue, hall.number(1)), (q("A"), "A001".to_string()));
    assert_eq!(t1.priority.as_ref().map(|p| p.as_str()), Some("military"));
}
