//! An idempotency key names one command (issue 14, medium 4), over random pairs of
//! commands under one key: after a command A succeeds with key K, a command B with K gets
//! A's answer and logs nothing when B is A (fresh ids aside), and `idempotency_conflict`
//! changing nothing when B is anything else — another target, another body, another
//! kind. A is drawn from one succeeding command of every kind a keyed route sends;
//! `every_keyed_route_is_drawn` holds that list to the routes in `src/http/`.

use crate::core_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::core_idempotency_mutate::mutated;
use chrono::NaiveTime;
use core_support::*;
use hallq::core::alerts::{AlertPolicy, QueueThresholds};
use hallq::core::command::{Command, Envelope, Rejection};
use hallq::core::enterprise::{EnterpriseDef, EnterpriseId, EnterprisePolicy, FollowUpKind};
use hallq::core::hall::HallState;
use hallq::core::model::{KioskId, Outcome, Preferences, TicketId, TransferTarget, Ts};
use hallq::core::setup::{QueueDef, Setup, WindowDef};
use hallq::core::staff::{PasswordHash, StaffRole};
use proptest::prelude::*;

/// The test hall with bookings (queue Y at window 1) and queue A alerting above 3 waiting.
fn hall_setup() -> Setup {
    let mut setup = setup();
    setup.queues.push(QueueDef { id: q("Y"), name: "预约".into(), prefix: "Y".into() });
    setup.windows[0] =
        WindowDef {
            id: w("1"), name: "1号窗口".into(), queues: vec![q("Y"), q("A")], prefer: Preferences::default()
        };
    let mut queues = std::collections::BTreeMap::new();
    queues.insert(q("A"), QueueThresholds { waiting: 3, wait_min: 0 });
    setup.alerts = AlertPolicy { queues, paused_min: 0, idle_min: 0, unstaffed: 0 };
    setup.escalation = Some(hallq::core::escalation::EscalationPolicy {
        queue: q("B"),
        case_days: 5,
        handler: user("h1"),
        reasons: hallq::core::escalation::EscalationPolicy::default_reasons(),
    });
    let e1 =
        EnterpriseDef { id: eid("E1"), name: "一号企业".into(), code_hash: "h1".into(), specialist: user("c4") };
    setup.enterprises = Some(EnterprisePolicy { queue: q("B"), seed: vec![e1], personal_hold_min: 10 });
    setup
}

pub fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn book(code: &str, slot: NaiveTime, phone: &str) -> Command {
    Command::BookAppointment {
        code: code.into(),
        service: "SC-A1".into(),
        day: day(),
        slot,
        phone_hash: phone.into(),
        window: None,
        addr_hash: None,
    }
}

fn remote(n: u32) -> Command {
    Command::IssueTicket { id: tid(n), service: "SC-A1".into(), priority: None, kiosk: "online".into(), remote: true }
}

/// The day so far, at 09:00: tickets 1-9 issued (7 and 8 remote, not checked in), an
/// alert on queue A, windows 1, 2 and 4 open; ticket 1 done at window 1 and rated 1 (case
/// C20250310-001), ticket 2 called at window 1; ticket 3 missed at window 2; bookings BK1
/// and BK2 for 10:00.
fn prelude() -> (HallState, Ts) {
    let setup = Arc::new(hall_setup());
    let mut state = HallState::new(setup);
    let mut script: Vec<Envelope> = (1..=6).map(|n| issue(n, "SC-A1", None)).collect();
    script.extend([issue(9, "SC-B1", None), cmd(remote(7)), cmd(remote(8)), tick()]);
    script.extend([open("1", "c1"), open("2", "c2"), open("4", "c4")]);
    script.extend([next("1", "c1"), serve("1", "c1"), done("1", "c1", Outcome::Completed)]);
    script.push(rate_because(1, 1, "slow", Some("等候太久")));
    script.extend([next("1", "c1"), next("2", "c2"), no_show("2", "c2")]);
    script.extend([cmd(book("BK1", hm(10, 0), "p1")), cmd(book("BK2", hm(10, 0), "p2"))]);
    let now = t(9, 0);
    for env in &script {
        let step = state.step(env, now);
        assert!(step.result.is_ok(), "prelude {env:?}: {:?}", step.result);
    }
    (state, now)
}

const CASE: &str = "C20250310-001";

/// One command of every kind a keyed route sends, each succeeding on `prelude()`.
fn keyed_commands() -> Vec<Command> {
    let (c1, c2, c4) = (user("c1"), user("c2"), user("c4"));
    let admin = user("admin");
    vec![
        Command::IssueTicket {
            id: tid(20),
            service: "SC-A2".into(),
            priority: None,
            kiosk: "kiosk-1".into(),
            remote: false,
        },
        Command::CheckInTicket { id: tid(7) },
        book("BK3", hm(10, 30), "p3"),
        Command::CancelAppointment { code: "BK1".into() },
        Command::CheckInAppointment { code: "BK2".into(), id: tid(21), kiosk: "kiosk-1".into() },
        Command::CancelTicket { id: tid(5) },
        Command::RateTicket { id: tid(2), score: 5, comment: None, reason: None },
        Command::RejoinTicket { id: tid(3) },
        Command::OpenWindow { window: w("3"), clerk: user("c3") },
        Command::CallNext { window: w("2"), clerk: c2.clone() },
        Command::CallNumber { window: w("2"), clerk: c2.clone(), number: "A004".into(), reason: "老人".into() },
        Command::Recall { window: w("1"), clerk: c1.clone() },
        Command::Serve { window: w("1"), clerk: c1.clone() },
        Command::Done { window: w("1"), clerk: c1.clone(), outcome: Outcome::Incomplete },
        Command::NoShow { window: w("1"), clerk: c1.clone() },
        Command::Transfer { window: w("1"), clerk: c1.clone(), to: TransferTarget::Queue(q("B")) },
        Command::Park { window: w("1"), clerk: c1.clone() },
        Command::Unpark { window: w("1"), clerk: c1.clone(), id: tid(2) },
        Command::Pause { window: w("4"), clerk: c4.clone(), reason: None },
        Command::Resume { window: w("4"), clerk: c4.clone() },
        Command::Close { window: w("4"), clerk: c4.clone() },
        Command::CaseCallback { case: CASE.into(), by: user("sup"), reached: true, note: "已回访".into() },
        Command::RectifyCase { case: CASE.into(), by: user("sup"), note: "已整改".into() },
        Command::DisableUser { name: user("c9"), by: admin.clone() },
        Command::EnableUser { name: user("c9"), by: admin.clone() },
        Command::AddUser {
            name: user("newclerk"),
            role: StaffRole::Clerk,
            password_hash: PasswordHash("$argon2id$one".into()),
            by: admin.clone(),
        },
        Command::ResetPassword {
            name: user("c3"),
            password_hash: PasswordHash("$argon2id$one".into()),
            by: admin.clone(),
        },
        Command::SetWindowQueues { window: w("3"), queues: vec![q("A"), q("B")], by: admin.clone() },
        Command::ForceCloseWindow { window: w("4"), by: admin.clone() },
        Command::AckAlert { id: 1, by: user("sup") },
        escalate(),
        Command::EscalationCallback {
            case: ESCALATION.into(), by: user("h1"), reached: true, note: "已回访".into()
        },
        Command::ResolveEscalation {
            case: ESCALATION.into(),
            by: user("h1"),
            note: "已答复".into(),
            refer_to: Some("不动产登记中心".into()),
        },
        Command::IssueAssisted {
            id: tid(22),
            service: "SC-A2".into(),
            priority: None,
            guide: user("g1"),
            escort: true,
        },
        Command::Escort { number: "A004".into(), guide: user("g1") },
        Command::ReleaseEscort { number: "A005".into(), guide: user("g1") },
        // Issue 17 §4, the clerk's moves.
        Command::ArmStoreNext { window: w("2"), clerk: c2.clone(), armed: true },
        Command::DoneAndNext { window: w("1"), clerk: c1.clone(), outcome: Outcome::Incomplete },
        Command::WalkDirect { window: w("4"), clerk: c4.clone(), id: tid(22), service: "SC-B2".into() },
        Command::IssueForPerson {
            id: tid(23),
            service: "SC-A2".into(),
            priority: None,
            kiosk: "kiosk-1".into(),
            person: "p-hash".into(),
            remote: false,
        },
    ]
    .into_iter()
    .chain(enterprise_commands())
    .chain(referral_commands())
    .collect()
}

/// 跨中心转办's keyed commands (issue 18), each succeeding on `prelude()`: window 1
/// refers its called ticket 2; a visitor referred from town-a.
fn referral_commands() -> Vec<Command> {
    use hallq::core::referral::{Origin, Sent};
    let to = Sent {
        hall: "town-b".into(),
        name: "西岭乡".into(),
        reason: "需属地办理".into(),
        note: Some("户籍".into()),
        number: "A007".into(),
        ticket: tid(90),
        key: Some("k1".into()),
    };
    let origin = Origin {
        hall: "town-a".into(),
        name: "东河镇".into(),
        reference: "ref-1".into(),
        number: "A001".into(),
        reason: "需属地办理".into(),
        note: None,
    };
    vec![
        Command::Refer { window: w("1"), clerk: user("c1"), to: Box::new(to) },
        Command::AcceptReferral { id: tid(24), service: "SC-A2".into(), priority: None, origin: Box::new(origin) },
        Command::WithdrawReferral { from_hall: "town-a".into(), reference: "ref-1".into(), ticket: Some(tid(25)) },
    ]
}

/// The referral from town-a that `WithdrawReferral` withdraws: its ticket 25.
fn referred_in() -> Envelope {
    let origin = hallq::core::referral::Origin {
        hall: "town-a".into(),
        name: "东河镇".into(),
        reference: "ref-1".into(),
        number: "A001".into(),
        reason: "需属地办理".into(),
        note: None,
    };
    cmd(Command::AcceptReferral { id: tid(25), service: "SC-A2".into(), priority: None, origin: Box::new(origin) })
}

const ESCALATION: &str = "E20250310-001";

pub fn eid(s: &str) -> EnterpriseId {
    EnterpriseId::parse(s).unwrap()
}

/// 助企服务's keyed commands, each succeeding on `prelude()` (enterprise E1, specialist c4).
fn enterprise_commands() -> Vec<Command> {
    let admin = user("admin");
    let added =
        EnterpriseDef { id: eid("E2"), name: "二号企业".into(), code_hash: "h2".into(), specialist: user("c2") };
    vec![
        Command::IssueEnterpriseTicket {
            id: tid(22),
            service: "SC-A2".into(),
            kiosk: "kiosk-1".into(),
            enterprise: eid("E1"),
        },
        Command::AddEnterprise { enterprise: added, by: admin.clone() },
        Command::SetSpecialist { enterprise: eid("E1"), specialist: user("c2"), by: admin },
        Command::AddFollowUp {
            enterprise: eid("E1"),
            kind: FollowUpKind::Project,
            date: day(),
            note: "立项".into(),
            by: user("c4"),
        },
    ]
}

/// Window 1's clerk could not finish ticket 2 (called there in the prelude).
fn escalate() -> Command {
    Command::Escalate { window: w("1"), clerk: user("c1"), reason: "policy".into(), note: None }
}

/// The steps a command of `keyed_commands()` needs first, beyond the prelude (a parked
/// ticket to unpark, a paused window to resume, a call-back before the rectification, a
/// disabled user to enable, a finished ticket to rate).
fn setup_for(command: &Command) -> Vec<Envelope> {
    match command {
        Command::Unpark { .. } => vec![park("1", "c1")],
        Command::Resume { .. } => vec![pause("4", "c4")],
        Command::RectifyCase { .. } => {
            vec![cmd(Command::CaseCallback { case: CASE.into(), by: user("sup"), reached: true, note: "好".into() })]
        }
        Command::EnableUser { .. } => vec![cmd(Command::DisableUser { name: user("c9"), by: user("admin") })],
        Command::EscalationCallback { .. } | Command::ResolveEscalation { .. } => vec![cmd(escalate())],
        Command::ReleaseEscort { .. } => vec![cmd(Command::Escort { number: "A005".into(), guide: user("g1") })],
        Command::Done { .. } | Command::DoneAndNext { .. } => vec![serve("1", "c1")],
        Command::RateTicket { .. } => vec![serve("1", "c1"), done("1", "c1", Outcome::Completed)],
        Command::WithdrawReferral { .. } => vec![referred_in()],
        _ => Vec::new(),
    }
}

/// The kind of a command, and whether a route sends it with an idempotency key. No `_`
/// arm: a new command does not compile here until someone says whether it is keyed.
fn kind(c: &Command) -> (&'static str, bool) {
    match c {
        Command::IssueTicket { .. } => ("IssueTicket", true),
        Command::CheckInTicket { .. } => ("CheckInTicket", true),
        Command::BookAppointment { .. } => ("BookAppointment", true),
        Command::CancelAppointment { .. } => ("CancelAppointment", true),
        Command::CheckInAppointment { .. } => ("CheckInAppointment", true),
        Command::CancelTicket { .. } => ("CancelTicket", true),
        Command::RateTicket { .. } => ("RateTicket", true),
        Command::RejoinTicket { .. } => ("RejoinTicket", true),
        Command::OpenWindow { .. } => ("OpenWindow", true),
        Command::CallNext { .. } => ("CallNext", true),
        Command::CallNumber { .. } => ("CallNumber", true),
        Command::Recall { .. } => ("Recall", true),
        Command::Serve { .. } => ("Serve", true),
        Command::Done { .. } => ("Done", true),
        Command::NoShow { .. } => ("NoShow", true),
        Command::Transfer { .. } => ("Transfer", true),
        Command::Park { .. } => ("Park", true),
        Command::Unpark { .. } => ("Unpark", true),
        Command::Pause { .. } => ("Pause", true),
        Command::Resume { .. } => ("Resume", true),
        Command::Close { .. } => ("Close", true),
        Command::CaseCallback { .. } => ("CaseCallback", true),
        Command::RectifyCase { .. } => ("RectifyCase", true),
        Command::DisableUser { .. } => ("DisableUser", true),
        Command::EnableUser { .. } => ("EnableUser", true),
        Command::AddUser { .. } => ("AddUser", true),
        Command::ResetPassword { .. } => ("ResetPassword", true),
        Command::SetWindowQueues { .. } => ("SetWindowQueues", true),
        Command::ForceCloseWindow { .. } => ("ForceCloseWindow", true),
        Command::AckAlert { .. } => ("AckAlert", true),
        Command::Escalate { .. } => ("Escalate", true),
        Command::EscalationCallback { .. } => ("EscalationCallback", true),
        Command::ResolveEscalation { .. } => ("ResolveEscalation", true),
        Command::IssueAssisted { .. } => ("IssueAssisted", true),
        Command::Escort { .. } => ("Escort", true),
        Command::ReleaseEscort { .. } => ("ReleaseEscort", true),
        Command::ArmStoreNext { .. } => ("ArmStoreNext", true),
        Command::DoneAndNext { .. } => ("DoneAndNext", true),
        Command::WalkDirect { .. } => ("WalkDirect", true),
        Command::IssueForPerson { .. } => ("IssueForPerson", true),
        Command::IssueEnterpriseTicket { .. } => ("IssueEnterpriseTicket", true),
        Command::AddEnterprise { .. } => ("AddEnterprise", true),
        Command::SetSpecialist { .. } => ("SetSpecialist", true),
        Command::AddFollowUp { .. } => ("AddFollowUp", true),
        Command::Refer { .. } => ("Refer", true),
        Command::AcceptReferral { .. } => ("AcceptReferral", true),
        Command::WithdrawReferral { .. } => ("WithdrawReferral", true),
        // The engine's own tick, logins (a session is the answer) and the printer task's
        // reports carry no key.
        Command::Tick => ("Tick", false),
        Command::Reconcile => ("Reconcile", false),
        Command::LogIn { .. } => ("LogIn", false),
        Command::LogOut { .. } => ("LogOut", false),
        Command::PrinterReport { .. } => ("PrinterReport", false),
    }
}

/// `c` with the values the shell draws afresh per request redrawn from `fresh`.
fn redrawn(c: &Command, fresh: u32) -> Command {
    let mut c = c.clone();
    match &mut c {
        Command::IssueTicket { id, .. }
        | Command::CheckInAppointment { id, .. }
        | Command::IssueAssisted { id, .. }
        | Command::WalkDirect { id, .. }
        | Command::IssueForPerson { id, .. }
        | Command::IssueEnterpriseTicket { id, .. }
        | Command::AcceptReferral { id, .. } => *id = tid(100 + fresh),
        Command::BookAppointment { code, .. } => *code = format!("NEW{fresh}"),
        _ => {}
    }
    c
}

/// `c` with fresh values blanked: two requests are one command when these are equal.
fn without_fresh(c: &Command) -> Command {
    let mut c = c.clone();
    match &mut c {
        Command::IssueTicket { id, .. }
        | Command::CheckInAppointment { id, .. }
        | Command::IssueAssisted { id, .. }
        | Command::WalkDirect { id, .. }
        | Command::IssueForPerson { id, .. }
        | Command::IssueEnterpriseTicket { id, .. }
        | Command::AcceptReferral { id, .. } => *id = TicketId::from_bytes([0; 16]),
        Command::BookAppointment { code, .. } => code.clear(),
        _ => {}
    }
    c
}

#[test]
fn every_drawn_command_succeeds_on_the_prelude_and_every_keyed_kind_is_drawn() {
    let (state, now) = prelude();
    for c in keyed_commands() {
        let mut s = state.clone();
        for env in setup_for(&c) {
            assert!(s.step(&env, now).result.is_ok(), "setup of {c:?}: {env:?}");
        }
        let step = s.step(&keyed(cmd(c.clone()), "k"), now);
        assert!(step.result.is_ok(), "{c:?} on the prelude: {:?}", step.result);
    }
    let drawn: BTreeSet<&str> = keyed_commands().iter().map(|c| kind(c).0).collect();
    let all_keyed: BTreeSet<&str> = every_command().iter().filter(|c| kind(c).1).map(|c| kind(c).0).collect();
    assert_eq!(drawn, all_keyed, "a keyed kind of command is not drawn");
}

/// One command of every kind (for the kinds `kind` calls keyed, and the rest).
fn every_command() -> Vec<Command> {
    let mut all = keyed_commands();
    all.extend([
        Command::Tick,
        Command::LogIn { user: user("c1"), session_ms: 3_600_000 },
        Command::LogOut { user: user("c1"), elsewhere: false },
        Command::PrinterReport { kiosk: KioskId::parse("kiosk1").unwrap(), fault: None },
    ]);
    all
}

/// Every route of `src/http/` that takes an Idempotency-Key sends only commands of kinds
/// drawn here: for each file calling `idempotency_key(`, each `Command::Name` it builds.
#[test]
fn every_keyed_route_is_drawn() {
    let drawn: BTreeSet<&str> = keyed_commands().iter().map(|c| kind(c).0).collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join("http");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("src/http") {
        let path = entry.expect("an entry").path();
        let text = std::fs::read_to_string(&path).expect("a source file");
        if path.file_name().is_some_and(|n| n == "mod.rs") || !text.contains("idempotency_key(") {
            continue;
        }
        files += 1;
        for (at, _) in text.match_indices("Command::") {
            let name: String = text[at + 9..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            if name.is_empty() || name == "LogIn" || name == "LogOut" {
                continue;
            }
            assert!(drawn.contains(name.as_str()), "{} sends Command::{name} with a key; draw it", path.display());
        }
    }
    assert!(files >= 8, "the keyed routes were not found under {}", dir.display());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_key_answers_its_own_command_and_refuses_every_other(
        a in 0..40usize,
        how in 0..3u8,
        b in 0..40usize,
        r in any::<u8>(),
        fresh in 0..50u32,
    ) {
        let commands = keyed_commands();
        let first = &commands[a % commands.len()];
        let second = match how {
            0 => redrawn(first, fresh),
            1 => mutated(first, r),
            _ => redrawn(&commands[b % commands.len()], fresh),
        };
        let (mut state, now) = prelude();
        for env in setup_for(first) {
            prop_assert!(state.step(&env, now).result.is_ok());
        }
        let did = state.step(&keyed(cmd(first.clone()), "admin/K"), now);
        let reply = did.result.expect("A succeeds on the prelude").reply;
        let before = state.clone();
        let again = state.step(&keyed(cmd(second.clone()), "admin/K"), now);
        prop_assert!(again.records.is_empty(), "B logged {:?}", again.records);
        prop_assert_eq!(&state, &before, "B changed the state");
        if without_fresh(&second) == without_fresh(first) {
            let d = again.result.expect("a repeat is answered");
            prop_assert!(d.repeated);
            prop_assert_eq!(d.reply, reply);
        } else {
            prop_assert_eq!(again.result.err(), Some(Rejection::IdempotencyConflict), "A {:?}, B {:?}", first, second);
        }
        // Another key is another command: decided afresh, never a conflict.
        let other = state.clone().step(&keyed(cmd(second.clone()), "admin/K2"), now);
        prop_assert!(other.result.as_ref().map_or_else(|r| *r != Rejection::IdempotencyConflict, |d| !d.repeated));
    }
}
