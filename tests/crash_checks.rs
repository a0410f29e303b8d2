//! What crash.rs and graceful_stop.rs check after a stop: every acknowledged fact against
//! the restarted daemon, and the stopped daemon's log against what it reported.

use crate::crash::{example_setup, number_n, Acked, Facts};
use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hallq::core::HallState;
use hallq::store::Store;
use support::{guard, Api};

/// What the daemon says about a ticket: (status, number, queue, window).
type TicketReport = (String, String, String, Option<String>);

/// What a live daemon reports: every known ticket, and each window's ticket number.
pub(crate) struct Reported {
    tickets: BTreeMap<String, TicketReport>,
    windows: BTreeMap<String, Option<String>>,
}

/// GET of each ticket, 16 at a time.
async fn read_tickets(api: &Api, ids: BTreeSet<String>) -> BTreeMap<String, support::Reply> {
    let ids: Vec<String> = ids.into_iter().collect();
    let mut tasks = Vec::new();
    for part in ids.chunks(ids.len().div_ceil(16).max(1)) {
        let (api, part) = (api.clone(), part.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for id in part {
                let r = api.ticket(&id).await;
                out.push((id, r));
            }
            out
        }));
    }
    let mut all = BTreeMap::new();
    for t in tasks {
        all.extend(guard("reading tickets", t).await.expect("read task"));
    }
    all
}

/// Checks every fact against the restarted daemon, and the windows' invariant; returns
/// what the daemon reported.
pub(crate) async fn check_facts(api: &Api, facts: &Facts, context: &str) -> Reported {
    let mut bad = Vec::new();
    let mut tickets = BTreeMap::new();
    let ids = facts.issued.iter().map(|a| a.id.clone()).chain(facts.clerked.keys().cloned()).collect();
    let mut got = read_tickets(api, ids).await;
    for a in &facts.issued {
        let r = got.remove(&a.id).expect("read");
        if r.status != 200 || r.body["number"] != a.number.as_str() || r.body["queue"] != a.queue.as_str() {
            bad.push(format!("issued {} {}: {} {}", a.number, a.id, r.status, r.text));
            continue;
        }
        let status = r.body["status"].as_str().expect("status").to_string();
        if let Some(least) = facts.clerked.get(&a.id) {
            if !least.allowed().contains(&status.as_str()) {
                bad.push(format!("{} acknowledged as {least:?} is now {status}", a.number));
            }
        }
        let window = r.body["window"].as_str().map(String::from);
        tickets.insert(a.id.clone(), (status, a.number.clone(), a.queue.clone(), window));
    }
    // A clerk may call a ticket whose kiosk never heard its 201 (in flight at a kill, yet
    // logged): it is checked all the same.
    for (id, least) in &facts.clerked {
        if tickets.contains_key(id) {
            continue;
        }
        let r = got.remove(id).expect("read");
        let status = r.body["status"].as_str().unwrap_or_default().to_string();
        if r.status != 200 || !least.allowed().contains(&status.as_str()) {
            bad.push(format!("ticket {id} acknowledged as {least:?}: {} {}", r.status, r.text));
            continue;
        }
        let text = |k: &str| r.body[k].as_str().map(String::from);
        let (number, queue) = (text("number").expect("number"), text("queue").expect("queue"));
        tickets.insert(id.clone(), (status, number, queue, text("window")));
    }
    assert!(
        bad.is_empty(),
        "{context}: {} acknowledged commands lost or changed: {:#?}",
        bad.len(),
        &bad[..bad.len().min(20)]
    );

    let sup = api.login("supervisor").await;
    let hall = api.get("/api/v1/hall", None).await;
    let mut windows = BTreeMap::new();
    let mut at_window: BTreeMap<String, String> = BTreeMap::new();
    for w in hall.body["windows"].as_array().expect("windows") {
        let w = w["id"].as_str().expect("window id");
        let r = api.get(&format!("/api/v1/windows/{w}"), Some(&sup)).await;
        assert_eq!(r.status, 200, "{context}: window {w}: {}", r.text);
        let number = r.body["window"]["ticket"].as_str().map(String::from);
        assert_eq!(r.body["ticket"]["number"].as_str().map(String::from), number, "{context}: window {w}: {}", r.text);
        if let Some(n) = &number {
            let other = at_window.insert(n.clone(), w.to_string());
            assert!(other.is_none(), "{context}: ticket {n} is at windows {other:?} and {w}");
            let t = &r.body["ticket"];
            assert_eq!(t["window"], w, "{context}: window {w} holds {n}, which says it is at {}", t["window"]);
        }
        windows.insert(w.to_string(), number);
    }
    // A ticket that says it is called or served at a window is what that window holds.
    for (status, number, _, window) in tickets.values() {
        if status == "called" || status == "serving" {
            let w = window.as_ref().unwrap_or_else(|| panic!("{context}: {number} is {status} at no window"));
            assert_eq!(windows.get(w), Some(&Some(number.clone())), "{context}: {number} is {status} at {w}");
        }
    }
    Reported { tickets, windows }
}

/// Opens the stopped daemon's log: `load` (snapshot + tail) equals a full replay, both
/// equal what the daemon reported, records' times never go back, no number repeats, and
/// every call-out a display saw is in the log.
pub(crate) fn check_log(data: &Path, reported: &Reported, facts: &Facts, context: &str) {
    let store = Store::open(data).expect("the log opens");
    let setup = example_setup();
    let (loaded, _) = store.load(setup.clone()).expect("the log loads");
    let mut replayed = HallState::new(setup);
    let mut last_at = i64::MIN;
    for item in store.records_after(0) {
        let (seq, record) = item.expect("a record reads");
        assert!(record.at.0 >= last_at, "{context}: record {seq} is at {} before {last_at}", record.at.0);
        last_at = record.at.0;
        replayed.apply(seq, &record);
    }
    assert!(loaded == replayed, "{context}: load (snapshot + tail) differs from replaying the whole log");

    let by_id: BTreeMap<String, &hallq::core::model::Ticket> =
        loaded.tickets.values().map(|t| (t.id.to_string(), t)).collect();
    for (id, (status, number, queue, window)) in &reported.tickets {
        let t = by_id.get(id).unwrap_or_else(|| panic!("{context}: the daemon reported {number}, the log lacks it"));
        let logged =
            (t.status.as_str(), t.number.to_string(), t.queue.as_str(), t.window.as_ref().map(|w| w.to_string()));
        assert_eq!(
            logged,
            (status.as_str(), number.clone(), queue.as_str(), window.clone()),
            "{context}: the log and the daemon disagree on ticket {id}"
        );
    }
    let number_of = |id: &hallq::core::model::TicketId| loaded.tickets.get(id).map(|t| t.number.to_string());
    let logged_windows: BTreeMap<String, Option<String>> =
        loaded.windows.values().map(|w| (w.id.to_string(), w.ticket.as_ref().and_then(number_of))).collect();
    assert_eq!(logged_windows, reported.windows, "{context}: the log and the daemon disagree on the windows");

    let mut numbers = BTreeSet::new();
    for t in loaded.tickets.values() {
        assert!(numbers.insert(t.number.to_string()), "{context}: number {} is in the log twice", t.number);
    }
    let statuses: BTreeMap<String, &str> =
        loaded.tickets.values().map(|t| (t.number.to_string(), t.status.as_str())).collect();
    for n in &facts.shown_calls {
        let status =
            statuses.get(n).unwrap_or_else(|| panic!("{context}: displays were shown a call of {n}, not in the log"));
        assert_ne!(*status, "waiting", "{context}: displays were shown a call of {n}, which the log has waiting");
    }
}

/// Numbers per queue, asserting that no acknowledged number was given twice.
pub(crate) fn numbers_by_queue(acked: &[Acked]) -> BTreeMap<String, BTreeSet<u32>> {
    let mut by_queue: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for a in acked {
        let fresh = by_queue.entry(a.queue.clone()).or_default().insert(number_n(&a.number));
        assert!(fresh, "number {} in queue {} was acknowledged twice", a.number, a.queue);
    }
    by_queue
}
