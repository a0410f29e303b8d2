//! Shared fixtures for the core's tests: a small hand-built hall, a fixed local day, ticket
//! ids from a counter, command builders, and the one `check(script, expected)` helper that
//! the table-driven tests run their rows through.
//!
//! The hall: queues A (comprehensive), B (enterprise), V (priority); windows "1" [A],
//! "2" [A, B], "3" [V, A], "4" [B]; a few items in A and B and one bundle that starts in A;
//! always open. Clerk `c1` belongs at window "1", `c2` at "2" and so on. Dispatch calls at
//! most one priority ticket per 2 ordinary ones at a window while both wait, and a ticket
//! that has waited more than 60 minutes goes before every priority class.

// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{NaiveTime, TimeZone};
use chrono_tz::Asia::Shanghai;
use hallq::core::appointments::AppointmentPolicy;
use hallq::core::command::{Command, Envelope, Rejection, RejectionKind, Reply};
use hallq::core::event::{Event, Record};
use hallq::core::hall::{Decision, HallState, Step};
use hallq::core::model::{
    BundleId, Outcome, Preferences, PriorityClass, QueueId, ServiceCode, Ticket, TicketId, TransferTarget, Ts,
    UserName, WindowId,
};
use hallq::core::setup::{BundleDef, DispatchPolicy, ItemDef, PriorityDef, QueueDef, Setup, WindowDef};

/// The local calendar day that `t` speaks of: a Monday.
pub const DAY: (i32, u32, u32) = (2025, 3, 10);

pub fn day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).expect("a real date")
}

/// The test hall, always open.
pub fn setup() -> Setup {
    let queue = |id: &str, name: &str| QueueDef { id: q(id), name: name.into(), prefix: id.into() };
    let class = |id: &str, name: &str| PriorityDef { id: PriorityClass::parse(id).unwrap(), name: name.into() };
    let window = |id: &str, queues: &[&str]| WindowDef {
        id: w(id),
        name: format!("{id}号窗口"),
        queues: queues.iter().map(|s| q(s)).collect(),
        prefer: Preferences::default(),
    };
    let item = |code: &str, name: &str, category: &str, queue: &str, minutes: u32| ItemDef {
        code: ServiceCode::parse(code).unwrap(),
        name: name.into(),
        category: category.into(),
        department: "测试局".into(),
        queue: q(queue),
        minutes,
        materials: vec!["身份证".into()],
        limit_days: None,
    };
    Setup {
        hall_id: "test-hall".into(),
        hall_name: "测试政务服务中心".into(),
        timezone: Shanghai,
        hours: Vec::new(),
        queues: vec![queue("A", "综合受理"), queue("B", "企业服务"), queue("V", "优先窗口")],
        priorities: vec![
            class("elderly", "老年人"),
            class("disabled", "残疾人"),
            class("military", "军人"),
            class("pregnant", "孕妇"),
        ],
        windows: vec![window("1", &["A"]), window("2", &["A", "B"]), window("3", &["V", "A"]), window("4", &["B"])],
        categories: vec!["户籍".into(), "社保".into(), "企业".into()],
        items: vec![
            item("SC-A1", "户口迁移", "户籍", "A", 10),
            item("SC-A2", "社保卡申领", "社保", "A", 15),
            item("SC-A3", "居住证办理", "户籍", "A", 20),
            item("SC-B1", "企业设立登记", "企业", "B", 30),
            item("SC-B2", "企业注销", "企业", "B", 20),
        ]
        .into(),
        bundles: vec![BundleDef {
            id: BundleId::parse("YJS-01").unwrap(),
            name: "开办餐馆一件事".into(),
            items: vec![ServiceCode::parse("SC-A2").unwrap(), ServiceCode::parse("SC-B1").unwrap()],
        }],
        call_template: "请{number}号到{window}号窗口办理".into(),
        call_repeat: 2,
        max_wait_min: 60,
        dispatch: DispatchPolicy { priority_ratio: 2, ..DispatchPolicy::default() },
        item_index: Default::default(),
        appointments: Some(AppointmentPolicy {
            queue: q("Y"),
            slot_min: 30,
            quota: 2,
            grace_min: 15,
            days_ahead: 7,
            phone_max: 3,
            address_max: 12,
            address_day_max: 4,
        }),
        rating: hallq::core::rating::RatingPolicy::default(),
        alerts: Default::default(),
        escalation: None,
        pause_reasons: hallq::core::scorecard::PauseReason::defaults(),
        guides: Default::default(),
        person_limits: Default::default(),
        enterprises: None,
    }
}

/// The test hall with another priority ratio (0: priority classes always first) and
/// aging cap.
pub fn setup_with_policy(priority_ratio: u32, max_wait_min: u32) -> Setup {
    Setup { dispatch: DispatchPolicy { priority_ratio, ..DispatchPolicy::default() }, max_wait_min, ..setup() }
}

/// The test hall, but issuing only from 09:00 to 12:00 and 13:30 to 17:00 local.
pub fn setup_with_hours() -> Setup {
    let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    Setup { hours: vec![(hm(9, 0), hm(12, 0)), (hm(13, 30), hm(17, 0))], ..setup() }
}

/// `h:m` local time on `DAY`.
pub fn t(h: u32, m: u32) -> Ts {
    t_on(0, h, m, 0)
}

/// `h:m:s` local time, `days` after `DAY`.
pub fn t_on(days: i64, h: u32, m: u32, s: u32) -> Ts {
    let date = day() + chrono::Days::new(u64::try_from(days).unwrap());
    let local = Shanghai.from_local_datetime(&date.and_hms_opt(h, m, s).unwrap()).single().unwrap();
    Ts(local.timestamp_millis())
}

/// The n-th ticket id: the counter's bytes where the shell would draw random ones.
pub fn tid(n: u32) -> TicketId {
    let mut bytes = [0u8; 16];
    bytes[12..].copy_from_slice(&n.to_be_bytes());
    TicketId::from_bytes(bytes)
}

pub fn q(s: &str) -> QueueId {
    QueueId::parse(s).unwrap()
}

pub fn w(s: &str) -> WindowId {
    WindowId::parse(s).unwrap()
}

pub fn user(s: &str) -> UserName {
    UserName::parse(s).unwrap()
}

/// A command without an idempotency key.
pub fn cmd(command: Command) -> Envelope {
    Envelope { command, idempotency_key: None }
}

/// The same command, carrying `key`.
pub fn keyed(env: Envelope, key: &str) -> Envelope {
    Envelope { idempotency_key: Some(key.into()), ..env }
}

/// A kiosk asks for ticket `tid(n)`.
pub fn issue(n: u32, service: &str, priority: Option<&str>) -> Envelope {
    cmd(Command::IssueTicket {
        id: tid(n),
        service: service.into(),
        priority: priority.map(Into::into),
        kiosk: "kiosk-1".into(),
        remote: false,
    })
}

pub fn cancel(n: u32) -> Envelope {
    cmd(Command::CancelTicket { id: tid(n) })
}

pub fn rate(n: u32, score: u8, comment: Option<&str>) -> Envelope {
    cmd(Command::RateTicket { id: tid(n), score, comment: comment.map(Into::into), reason: None })
}

/// Supervisor `s1` records a call-back of `case`.
pub fn case_callback(case: &str, reached: bool, note: &str) -> Envelope {
    cmd(Command::CaseCallback { case: case.into(), by: user("s1"), reached, note: note.into() })
}

/// Supervisor `s1` records the rectification of `case`, closing it.
pub fn rectify(case: &str, note: &str) -> Envelope {
    cmd(Command::RectifyCase { case: case.into(), by: user("s1"), note: note.into() })
}

/// A rating with a reason code (needed for a score of 1 or 2).
pub fn rate_because(n: u32, score: u8, reason: &str, comment: Option<&str>) -> Envelope {
    cmd(Command::RateTicket { id: tid(n), score, comment: comment.map(Into::into), reason: Some(reason.into()) })
}

pub fn open(window: &str, clerk: &str) -> Envelope {
    cmd(Command::OpenWindow { window: w(window), clerk: user(clerk) })
}

pub fn next(window: &str, clerk: &str) -> Envelope {
    cmd(Command::CallNext { window: w(window), clerk: user(clerk) })
}

pub fn call_number(window: &str, clerk: &str, number: &str, reason: &str) -> Envelope {
    cmd(Command::CallNumber { window: w(window), clerk: user(clerk), number: number.into(), reason: reason.into() })
}

pub fn recall(window: &str, clerk: &str) -> Envelope {
    cmd(Command::Recall { window: w(window), clerk: user(clerk) })
}

pub fn serve(window: &str, clerk: &str) -> Envelope {
    cmd(Command::Serve { window: w(window), clerk: user(clerk) })
}

pub fn done(window: &str, clerk: &str, outcome: Outcome) -> Envelope {
    cmd(Command::Done { window: w(window), clerk: user(clerk), outcome })
}

pub fn no_show(window: &str, clerk: &str) -> Envelope {
    cmd(Command::NoShow { window: w(window), clerk: user(clerk) })
}

pub fn to_queue(window: &str, clerk: &str, queue: &str) -> Envelope {
    cmd(Command::Transfer { window: w(window), clerk: user(clerk), to: TransferTarget::Queue(q(queue)) })
}

pub fn to_window(window: &str, clerk: &str, target: &str) -> Envelope {
    cmd(Command::Transfer { window: w(window), clerk: user(clerk), to: TransferTarget::Window(w(target)) })
}

pub fn rejoin(n: u32) -> Envelope {
    cmd(Command::RejoinTicket { id: tid(n) })
}

pub fn park(window: &str, clerk: &str) -> Envelope {
    cmd(Command::Park { window: w(window), clerk: user(clerk) })
}

pub fn unpark(window: &str, clerk: &str, n: u32) -> Envelope {
    cmd(Command::Unpark { window: w(window), clerk: user(clerk), id: tid(n) })
}

pub fn pause(window: &str, clerk: &str) -> Envelope {
    cmd(Command::Pause { window: w(window), clerk: user(clerk), reason: None })
}

pub fn resume(window: &str, clerk: &str) -> Envelope {
    cmd(Command::Resume { window: w(window), clerk: user(clerk) })
}

pub fn close(window: &str, clerk: &str) -> Envelope {
    cmd(Command::Close { window: w(window), clerk: user(clerk) })
}

pub fn tick() -> Envelope {
    cmd(Command::Tick)
}

/// The answer naming ticket `tid(n)`.
pub fn ticket(n: u32) -> Reply {
    Reply::Ticket(tid(n))
}

/// The answer naming window `id`.
pub fn window(id: &str) -> Reply {
    Reply::Window(w(id))
}

/// `next`'s answer when it called ticket `tid(n)`.
pub fn called(n: u32) -> Reply {
    Reply::MaybeTicket(Some(tid(n)))
}

/// The log's name for an event, e.g. `ticket_issued`.
pub fn event_type(event: &Event) -> String {
    let value = serde_json::to_value(event).unwrap();
    value["type"].as_str().unwrap().to_string()
}

/// A fresh state with every record applied in order: what a restart sees.
pub fn replay(setup: Arc<Setup>, log: &[(u64, Record)]) -> HallState {
    let mut state = HallState::new(setup);
    for (seq, record) in log {
        state.apply(*seq, record);
    }
    state
}

/// What the last command of a script should get.
#[derive(Debug)]
pub enum Expect {
    /// Accepted with this reply, logging events of these types (a `day_opened` that the step
    /// appends first is not listed).
    Ok(Reply, &'static [&'static str]),
    /// Recognised as a repeat: this earlier reply and nothing logged.
    Repeated(Reply),
    /// Refused with this code and kind, changing nothing.
    Rejected(&'static str, RejectionKind),
}

/// A hall under test: its state, every record it logged, and its clock, which moves one
/// minute per command from 09:00 on `DAY` unless a test sets it.
pub struct Hall {
    pub state: HallState,
    pub log: Vec<(u64, Record)>,
    pub now: Ts,
}

impl Default for Hall {
    fn default() -> Self {
        Self::new()
    }
}

impl Hall {
    pub fn new() -> Self {
        Self::with(setup())
    }

    pub fn with(setup: Setup) -> Self {
        Self { state: HallState::new(Arc::new(setup)), log: Vec::new(), now: t(9, 0) }
    }

    /// Runs one command at `now`, logs its records, and moves the clock on a minute.
    pub fn step(&mut self, env: &Envelope) -> Step {
        let now = self.now;
        self.now = Ts(now.0 + 60_000);
        self.step_at(now, env)
    }

    /// Runs one command at `at` and logs its records; the clock is left alone.
    pub fn step_at(&mut self, at: Ts, env: &Envelope) -> Step {
        let step = self.state.step(env, at);
        self.log.extend(step.records.iter().cloned());
        step
    }

    /// Runs a command that must be accepted.
    pub fn must(&mut self, env: &Envelope) -> Decision {
        let step = self.step(env);
        step.result.unwrap_or_else(|r| panic!("{env:?} was refused: {r:?} ({})", r.code()))
    }

    pub fn ticket(&self, n: u32) -> &Ticket {
        self.state.ticket(&tid(n)).unwrap_or_else(|| panic!("no ticket {n}"))
    }

    /// The printed number of ticket `tid(n)`.
    pub fn number(&self, n: u32) -> String {
        self.ticket(n).number.to_string()
    }

    /// The event types of the records logged since position `from` of the log.
    pub fn types_since(&self, from: usize) -> Vec<String> {
        self.log[from..].iter().map(|(_, r)| event_type(&r.event)).collect()
    }

    /// Runs every command of `script`; all but the last must be accepted, and the last
    /// must get `expected`. A refused last command must change nothing but the day (if it
    /// was the first command of a new day), and the log must still replay to the state.
    pub fn check(&mut self, script: &[Envelope], expected: Expect) -> &mut Self {
        let (last, setup_steps) = script.split_last().expect("a script has at least one command");
        for env in setup_steps {
            self.must(env);
        }
        let before = self.state.clone();
        let step = self.step(last);
        let mut opened = before.clone();
        let mut own: Vec<&Record> = Vec::new();
        for (seq, record) in &step.records {
            match record.event {
                Event::DayOpened { .. } if own.is_empty() => {
                    opened.apply(*seq, record);
                }
                _ => own.push(record),
            }
        }
        let own_types: Vec<String> = own.iter().map(|r| event_type(&r.event)).collect();
        match (expected, step.result) {
            (Expect::Ok(reply, types), Ok(decision)) => {
                assert_eq!(decision.reply, reply, "reply to {last:?}");
                assert!(!decision.repeated, "{last:?} was taken for a repeat");
                assert_eq!(own_types, types, "events of {last:?}");
                let decided: Vec<&Event> = decision.events.iter().collect();
                let logged: Vec<&Event> = own.iter().map(|r| &r.event).collect();
                assert_eq!(decided, logged, "logged events are the decided ones");
            }
            (Expect::Repeated(reply), Ok(decision)) => {
                assert_eq!(decision.reply, reply, "reply to the repeat {last:?}");
                assert!(decision.repeated, "{last:?} was not taken for a repeat");
                assert!(own.is_empty(), "a repeat logged {own_types:?}");
                assert_eq!(self.state, opened, "a repeat changed the state");
            }
            (Expect::Rejected(code, kind), Err(rejection)) => {
                assert_eq!((rejection.code(), rejection.kind()), (code, kind), "refusal of {last:?}: {rejection}");
                assert_message(&rejection);
                assert!(own.is_empty(), "a refused command logged {own_types:?}");
                assert_eq!(self.state, opened, "a refused command changed the state");
            }
            (expected, got) => panic!("{last:?}: expected {expected:?}, got {got:?}"),
        }
        assert_eq!(replay(self.state.setup.clone(), &self.log), self.state, "replay differs from the live state");
        self
    }
}

/// Runs `script` on a fresh test hall and checks its last command against `expected`.
pub fn check(script: &[Envelope], expected: Expect) -> Hall {
    let mut hall = Hall::new();
    hall.check(script, expected);
    hall
}

/// Error messages are sentences for people: lowercase first letter, no trailing full stop.
fn assert_message(rejection: &Rejection) {
    let text = rejection.to_string();
    assert!(!text.is_empty());
    assert!(!text.starts_with(|c: char| c.is_uppercase()), "message {text:?} starts uppercase");
    assert!(!text.ends_with('.'), "message {text:?} ends with a full stop");
}
