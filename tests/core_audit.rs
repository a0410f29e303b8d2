//! The core's side of the audit: logins, logouts and user disables are decided and logged
//! like any command; a disable holds across service days and snapshots; and the audit
//! trail derived from the records names, for every window action, exactly the clerk who
//! sent it — in a fixed script where a window changes hands, and in random scripts where
//! the log is also checked to replay (whole, and as snapshot + tail) to the live state.

use crate::core_support;

use std::sync::Arc;

use core_support::*;
use hallq::core::audit::{AuditAction, AuditDetail, AuditTrail};
use hallq::core::command::{Command, Envelope, RejectionKind};
use hallq::core::event::Event;
use hallq::core::hall::HallState;
use hallq::core::model::{Outcome, Ts, UserName, WindowId};
use hallq::core::snapshot::DaySnapshot;
use proptest::prelude::*;

fn log_in(name: &str) -> Envelope {
    cmd(Command::LogIn { user: user(name), session_ms: 3_600_000 })
}

fn log_out(name: &str) -> Envelope {
    cmd(Command::LogOut { user: user(name), elsewhere: false })
}

fn disable(name: &str, by: &str) -> Envelope {
    cmd(Command::DisableUser { name: user(name), by: user(by) })
}

fn enable(name: &str, by: &str) -> Envelope {
    cmd(Command::EnableUser { name: user(name), by: user(by) })
}

/// The trail of a whole log: (user, action, window, ticket number) per entry.
fn trail(h: &Hall) -> Vec<(String, &'static str, String, String)> {
    let mut trail = AuditTrail::new(h.state.setup.clone());
    h.log
        .iter()
        .filter_map(|(seq, r)| trail.observe(*seq, r))
        .map(|e| {
            let user = e.user.map(|u| u.to_string()).unwrap_or_default();
            let window = e.window.map(|w| w.to_string()).unwrap_or_default();
            (user, e.action.as_str(), window, e.ticket.map(|n| n.to_string()).unwrap_or_default())
        })
        .collect()
}

fn entry(user: &str, action: &'static str, window: &str, ticket: &str) -> (String, &'static str, String, String) {
    (user.into(), action, window.into(), ticket.into())
}

#[test]
fn a_window_that_changes_hands_has_each_action_attributed_to_its_clerk() {
    let mut h = Hall::new();
    h.must(&issue(1, "SC-A1", None));
    h.must(&issue(2, "SC-A1", None));
    h.must(&log_in("c1"));
    h.must(&open("1", "c1"));
    h.must(&next("1", "c1"));
    h.must(&serve("1", "c1"));
    h.must(&done("1", "c1", Outcome::Completed));
    h.must(&close("1", "c1"));
    h.must(&log_out("c1"));
    h.must(&open("1", "c2"));
    h.must(&next("1", "c2"));
    h.must(&no_show("1", "c2"));
    h.must(&pause("1", "c2"));
    h.must(&resume("1", "c2"));
    h.must(&close("1", "c2"));
    assert_eq!(
        trail(&h),
        vec![
            entry("", "day_opened", "", ""),
            entry("c1", "login", "", ""),
            entry("c1", "open", "1", ""),
            entry("c1", "call", "1", "A001"),
            entry("c1", "serve", "1", "A001"),
            entry("c1", "done", "1", "A001"),
            entry("c1", "close", "1", ""),
            entry("c1", "logout", "", ""),
            entry("c2", "open", "1", ""),
            entry("c2", "call", "1", "A002"),
            entry("c2", "no_show", "1", "A002"),
            entry("c2", "pause", "1", ""),
            entry("c2", "resume", "1", ""),
            entry("c2", "close", "1", ""),
        ]
    );
}

#[test]
fn a_new_day_signs_everyone_out_of_the_trail_too() {
    let mut h = Hall::new();
    h.must(&issue(1, "SC-A1", None));
    h.must(&open("1", "c1"));
    h.must(&next("1", "c1"));
    // The next morning: the day opens (expiring A001, closing window 1), and a pause by
    // nobody is impossible; c2 opens window 1 afresh.
    h.now = t_on(1, 9, 0, 0);
    h.must(&open("1", "c2"));
    let trail = trail(&h);
    assert_eq!(&trail[3..], &[entry("", "day_opened", "", ""), entry("c2", "open", "1", "")]);
    let mut t = AuditTrail::new(h.state.setup.clone());
    let expired: Vec<_> = h.log.iter().filter_map(|(s, r)| t.observe(*s, r)).collect();
    assert_eq!(expired[3].detail, AuditDetail::Expired(1));
}

#[test]
fn a_disabled_user_cannot_log_in_until_enabled_also_on_later_days() {
    let mut h = Hall::new();
    h.must(&log_in("c3"));
    h.must(&disable("c3", "admin"));
    let refused = h.step(&log_in("c3")).result.expect_err("a disabled user is refused");
    assert_eq!((refused.code(), refused.kind()), ("user_disabled", RejectionKind::Forbidden));
    let own = h.step(&disable("admin", "admin")).result.expect_err("an admin may not disable themselves");
    assert_eq!(own.code(), "cannot_disable_self");
    // Disabling again changes nothing and logs nothing.
    let before = h.log.len();
    h.must(&disable("c3", "admin"));
    assert_eq!(h.log.len(), before);

    // The next day opens; its snapshot carries the disable, and the log replays to it.
    h.now = t_on(1, 8, 0, 0);
    h.must(&tick());
    let snap = h.state.day_snapshot().expect("a snapshot right after the day opened");
    assert!(snap.staff.is_disabled(&user("c3")));
    let text = serde_json::to_string(&snap).expect("a snapshot serialises");
    let back: DaySnapshot = serde_json::from_str(&text).expect("and reads back");
    assert_eq!(back, snap);
    assert_eq!(HallState::from_snapshot(h.state.setup.clone(), back), h.state);
    assert!(h.step(&log_in("c3")).result.is_err(), "still disabled the next day");

    h.must(&enable("c3", "admin"));
    h.must(&log_in("c3"));
    let before = h.log.len();
    h.must(&enable("c3", "admin"));
    assert_eq!(h.log.len(), before, "enabling an enabled user logs nothing");
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state);
    let admin_acts: Vec<_> = trail(&h).into_iter().filter(|e| e.1.ends_with("_user")).collect();
    assert_eq!(admin_acts, vec![entry("admin", "disable_user", "", ""), entry("admin", "enable_user", "", "")]);
}

#[test]
fn a_snapshot_written_before_staff_existed_still_reads() {
    let mut h = Hall::new();
    h.must(&tick());
    let snap = h.state.day_snapshot().expect("a snapshot");
    let mut value = serde_json::to_value(&snap).expect("serialises");
    value.as_object_mut().expect("an object").remove("staff");
    let old: DaySnapshot = serde_json::from_value(value).expect("an old snapshot reads");
    assert!(old.staff.disabled.is_empty());
}

#[test]
fn window_queues_set_by_an_admin_hold_through_snapshots_and_set_back_leave_no_trace() {
    let mut h = Hall::new();
    let w4 = w("4");
    h.must(&cmd(Command::SetWindowQueues { window: w4, queues: vec![q("A"), q("B")], by: user("admin") }));
    assert_eq!(h.state.window(&w4).map(|w| w.queues.clone()), Some(vec![q("A"), q("B")]));
    // Dispatch follows: window 4 (B in hall.toml) now calls an A ticket.
    h.must(&issue(1, "SC-A1", None));
    h.must(&open("4", "c4"));
    assert_eq!(h.must(&next("4", "c4")).reply, called(1));
    let refused = h.step(&cmd(Command::SetWindowQueues { window: w4, queues: vec![], by: user("admin") }));
    assert_eq!(refused.result.expect_err("no queues").code(), "bad_queues");
    // An admin closes a window whatever it holds: its ticket waits in its queue again.
    h.must(&cmd(Command::ForceCloseWindow { window: w4, by: user("admin") }));
    assert!(h.state.window(&w4).is_some_and(|w| w.ticket.is_none() && w.clerk.is_none()));
    assert_eq!(h.ticket(1).window, None);

    h.now = t_on(1, 8, 0, 0);
    h.must(&tick());
    let snap = h.state.day_snapshot().expect("a snapshot");
    assert_eq!(snap.window_queues.get(&w4), Some(&vec![q("A"), q("B")]));
    let back: DaySnapshot = serde_json::from_str(&serde_json::to_string(&snap).unwrap()).unwrap();
    assert_eq!(HallState::from_snapshot(h.state.setup.clone(), back), h.state);

    h.must(&cmd(Command::SetWindowQueues { window: w4, queues: vec![q("B")], by: user("admin") }));
    let fresh = HallState::new(h.state.setup.clone());
    assert_eq!(
        (&h.state.windows, &h.state.serving, &h.state.competing),
        (&fresh.windows, &fresh.serving, &fresh.competing)
    );
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state);
}

/// Every action code parses back to itself.
#[test]
fn action_codes_round_trip() {
    for a in AuditAction::ALL {
        assert_eq!(AuditAction::parse(a.as_str()), Some(a));
    }
    assert_eq!(AuditAction::parse("dance"), None);
}

/// One random step: a window (0..4), a user (c1..c4, or "admin" at 4), and what they do.
#[derive(Clone, Debug)]
enum Op {
    Issue,
    Open,
    Next,
    Serve,
    Done,
    NoShow,
    Recall,
    ToWindow(usize),
    Park,
    Pause,
    Resume,
    Close,
    LogIn,
    LogOut,
    Disable,
    Enable,
    /// Time jumps to a later day.
    NextDay,
    /// An admin sets the window's queues to a subset of the hall's.
    SetQueues(Vec<usize>),
    ForceClose,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Issue),
        4 => Just(Op::Open),
        6 => Just(Op::Next),
        4 => Just(Op::Serve),
        4 => Just(Op::Done),
        1 => Just(Op::NoShow),
        1 => Just(Op::Recall),
        1 => (0..4usize).prop_map(Op::ToWindow),
        1 => Just(Op::Park),
        1 => Just(Op::Pause),
        1 => Just(Op::Resume),
        3 => Just(Op::Close),
        2 => Just(Op::LogIn),
        1 => Just(Op::LogOut),
        1 => Just(Op::Disable),
        1 => Just(Op::Enable),
        1 => Just(Op::NextDay),
        1 => prop::collection::vec(0..4usize, 0..3).prop_map(Op::SetQueues),
        1 => Just(Op::ForceClose),
    ]
}

const WINDOWS: [&str; 4] = ["1", "2", "3", "4"];
const USERS: [&str; 5] = ["c1", "c2", "c3", "c4", "admin"];

/// The clerk a command acts as, when it is a window command.
fn clerk_of(command: &Command) -> Option<(&WindowId, &UserName)> {
    match command {
        Command::OpenWindow { window, clerk }
        | Command::CallNext { window, clerk }
        | Command::CallNumber { window, clerk, .. }
        | Command::Recall { window, clerk }
        | Command::Serve { window, clerk }
        | Command::Done { window, clerk, .. }
        | Command::NoShow { window, clerk }
        | Command::Transfer { window, clerk, .. }
        | Command::Park { window, clerk }
        | Command::Unpark { window, clerk, .. }
        | Command::Pause { window, clerk, .. }
        | Command::Resume { window, clerk }
        | Command::Close { window, clerk } => Some((window, clerk)),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_trail_names_the_clerk_who_acted_and_the_log_replays(
        steps in prop::collection::vec((0..4usize, 0..5usize, op()), 1..200)
    ) {
        let setup = Arc::new(setup());
        let mut state = HallState::new(setup.clone());
        let mut trail = AuditTrail::new(setup.clone());
        let mut snapshot = None;
        // The log replayed record by record (`apply` is a function of state and record, so
        // this is what a replay from the start makes), and the day's snapshot restored with
        // the records since: one record's cost per step instead of the whole log's.
        let mut replayed = HallState::new(setup.clone());
        let mut restored: Option<HallState> = None;
        let mut now = t(8, 0).0;
        let mut issued = 0u32;
        for (i, (window, who, op)) in steps.iter().enumerate() {
            now += 45_000;
            let (w, u) = (WINDOWS[*window], USERS[*who]);
            let env = match op {
                Op::Issue => {
                    issued += 1;
                    issue(issued, "SC-A1", None)
                }
                Op::Open => open(w, u),
                Op::Next => next(w, u),
                Op::Serve => serve(w, u),
                Op::Done => done(w, u, Outcome::Completed),
                Op::NoShow => no_show(w, u),
                Op::Recall => recall(w, u),
                Op::ToWindow(to) => to_window(w, u, WINDOWS[*to]),
                Op::Park => park(w, u),
                Op::Pause => pause(w, u),
                Op::Resume => resume(w, u),
                Op::Close => close(w, u),
                Op::LogIn => log_in(u),
                Op::LogOut => log_out(u),
                Op::Disable => disable(USERS[*window], "admin"),
                Op::Enable => enable(USERS[*window], "admin"),
                Op::NextDay => {
                    now += 86_400_000;
                    tick()
                }
                Op::SetQueues(qs) => {
                    let queues = qs.iter().map(|i| q(["A", "B", "V", "Z"][*i])).collect();
                    cmd(Command::SetWindowQueues { window: hallq::core::model::WindowId::parse(w).unwrap(), queues, by: user("admin") })
                }
                Op::ForceClose => {
                    cmd(Command::ForceCloseWindow { window: hallq::core::model::WindowId::parse(w).unwrap(), by: user("admin") })
                }
            };
            let step = state.step(&env, Ts(now));
            for (seq, record) in &step.records {
                let entry = trail.observe(*seq, record);
                replayed.apply(*seq, record);
                if let Some(restored) = restored.as_mut() {
                    restored.apply(*seq, record);
                }
                if let Event::DayOpened { .. } = record.event {
                    snapshot = replayed.day_snapshot();
                    prop_assert!(snapshot.is_some(), "step {}: no snapshot after the day opened", i);
                    restored = snapshot.clone().map(|snap| HallState::from_snapshot(setup.clone(), snap));
                    continue;
                }
                if let (Some((window, clerk)), Some(entry)) = (clerk_of(&env.command), entry) {
                    prop_assert_eq!(entry.user.as_ref(), Some(clerk), "step {}: {:?}", i, record.event);
                    prop_assert_eq!(entry.window.as_ref(), Some(window), "step {}", i);
                }
            }
            if matches!(env.command, Command::LogIn { .. }) {
                let disabled = state.staff.is_disabled(&user(u));
                prop_assert_eq!(step.result.is_err(), disabled, "step {}: login of a disabled user", i);
            }
            prop_assert_eq!(&replayed, &state, "step {}: replay differs", i);
            if let (Some(snap), Some(restored)) = (&snapshot, &restored) {
                prop_assert_eq!(restored, &state, "step {}: snapshot {} + tail differs", i, snap.seq);
            }
        }
    }
}

fn add_user(name: &str, by: &str) -> Envelope {
    use hallq::core::staff::{PasswordHash, StaffRole};
    cmd(Command::AddUser {
        name: user(name),
        role: StaffRole::Clerk,
        password_hash: PasswordHash(format!("$argon2id$not-a-real-hash-of-{name}")),
        by: user(by),
    })
}

#[test]
fn an_added_user_is_state_named_once_audited_and_bounded() {
    let mut h = Hall::new();
    h.must(&add_user("c13", "admin"));
    assert_eq!(h.state.staff.added.len(), 1);
    assert!(h.state.staff.password_of(&user("c13")).is_some());
    let before = h.log.len();
    let again = h.step(&add_user("c13", "admin2")).result.expect_err("a name is added once");
    assert_eq!((again.code(), again.kind()), ("user_exists", RejectionKind::Conflict));
    assert_eq!(h.log.len(), before, "a refused add logs nothing");
    for i in 1..hallq::core::staff::ADDED_USERS_MAX {
        h.must(&add_user(&format!("u{i}"), "admin"));
    }
    let full = h.step(&add_user("one-more", "admin")).result.expect_err("the bound holds");
    assert_eq!((full.code(), full.kind()), ("too_many_users", RejectionKind::Conflict));
    assert_eq!(replay(h.state.setup.clone(), &h.log), h.state);
    let mut trail = AuditTrail::new(h.state.setup.clone());
    let first = h
        .log
        .iter()
        .filter_map(|(seq, r)| trail.observe(*seq, r))
        .find(|e| e.action == AuditAction::AddUser)
        .expect("the add is audited");
    assert_eq!(first.user, Some(user("admin")));
    assert_eq!(first.detail, AuditDetail::User(user("c13")));
}
