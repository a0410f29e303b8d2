//! The JSON wire types of contract v1 (DESIGN.md §4). Built from the core's values at the
//! edge; never stored, never used as state.

use serde::Serialize;

use crate::config::{Config, PublicUrl};
use crate::core::model::{CallRule, Ticket, TicketId, TicketStatus, Ts, Window};
use crate::core::setup::Setup;
use crate::engine::{TicketView, WindowView};
use crate::time::rfc3339;

pub use super::figures_dto::{EtaErrorDto, FiguresDto, RatesDto, StatsDto};

#[derive(Serialize)]
pub struct TicketDto {
    pub id: String,
    pub number: String,
    pub queue: String,
    pub services: Vec<String>,
    pub bundle: Option<String>,
    pub priority: Option<String>,
    pub status: &'static str,
    /// Calls before this ticket's if nobody else arrives (the hall's dispatch run forward);
    /// null unless waiting.
    pub ahead: Option<usize>,
    /// Null unless waiting, and while no open window may call it (`eta_reason`).
    pub eta_minutes: Option<u32>,
    /// The range told with `eta_minutes`, `[low, high]`.
    pub eta_range: Option<[u32; 2]>,
    /// Why a waiting ticket has no `eta_minutes`: `no_open_window`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta_reason: Option<&'static str>,
    /// What it was told at its issue: `{ahead, minutes, low, high}` (null in older logs and
    /// where no window served).
    pub promise: Option<crate::core::model::Promise>,
    pub window: Option<String>,
    /// The window a waiting ticket was sent to by name (a booking or transfer to it, or an
    /// enterprise's specialist, 助企服务), which calls it; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
    pub issued_at: String,
    /// The first call; `called_at` moves with every recall.
    pub first_called_at: Option<String>,
    pub called_at: Option<String>,
    pub serving_at: Option<String>,
    pub finished_at: Option<String>,
    pub outcome: Option<crate::core::model::Outcome>,
    pub rated: bool,
    /// The ticket-status page; with the visitor's key (`?k=`) where `key` is present.
    pub status_url: String,
    /// A ticket taken remotely (线上取号) whose visitor has not checked in at a kiosk yet: it
    /// keeps its place but is not called until they do.
    pub check_in: bool,
    /// The visitor's key (src/http/tickets.rs): only in the issuing kiosk's answer, never
    /// in a clerk's, a supervisor's or the feed's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Why dispatch chose this ticket at its last call; null before the first call.
    pub call_rule: Option<CallRuleDto>,
    /// Recalls since its last call, and how many the hall allows.
    pub recalls: u32,
    pub recall_max: u32,
    /// For a missed number: until when it may rejoin the line (null when it may not).
    pub rejoin_until: Option<String>,
    /// A bundle ticket's steps with what happened at each; empty for one item.
    pub steps: Vec<StepDto>,
    /// The index of the step it is at (0 for one item).
    pub step: usize,
    /// 办不成事: why its clerk could not finish it and where it waits now; null otherwise.
    pub escalation: Option<super::escalation_dto::TicketEscalationDto>,
    /// 助企服务: while an enterprise's ticket waits, its line: its specialist's window, or
    /// the enterprise queue (also after a long pause or a close of that window); null otherwise.
    pub enterprise_line: Option<super::ticket_line::EnterpriseLineDto>,
    /// 跨中心转办 (issue 18): where the ticket was referred to, or from; null otherwise.
    pub referral: Option<super::referral_dto::ReferralDto>,
}

/// One step of a bundle ticket on the wire.
#[derive(Serialize)]
pub struct StepDto {
    pub queue: String,
    pub services: Vec<String>,
    /// `pending`, `current` or `done`.
    pub state: &'static str,
    pub window: Option<String>,
    pub queued_at: Option<String>,
    pub first_called_at: Option<String>,
    pub serving_at: Option<String>,
    pub done_at: Option<String>,
}

fn steps_dto(setup: &Setup, t: &Ticket) -> Vec<StepDto> {
    let time = |at: Option<Ts>| at.map(|at| rfc3339(setup, at));
    t.steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let times = t.step_times.get(i);
            let state = match times {
                Some(times) if times.done_at.is_some() => "done",
                Some(_) => "current",
                None => "pending",
            };
            StepDto {
                queue: step.queue.to_string(),
                services: step.services.iter().map(ToString::to_string).collect(),
                state,
                window: times.and_then(|x| x.window.as_ref()).map(ToString::to_string),
                queued_at: time(times.map(|x| x.queued_at)),
                first_called_at: time(times.and_then(|x| x.first_called_at)),
                serving_at: time(times.and_then(|x| x.serving_at)),
                done_at: time(times.and_then(|x| x.done_at)),
            }
        })
        .collect()
}

/// The ticket-status page of ticket `id`: at the hall's public address when it has one.
pub fn status_url(public: Option<&PublicUrl>, id: &TicketId) -> String {
    format!("{}/t/{id}", public.map_or("", PublicUrl::as_str))
}

/// Until when a missed number may rejoin, if it may.
fn rejoin_until(setup: &Setup, t: &Ticket) -> Option<String> {
    let minutes = setup.dispatch.rejoin_min;
    if t.status != TicketStatus::NoShow || minutes == 0 {
        return None;
    }
    let missed = t.finished_at?;
    Some(rfc3339(setup, Ts(missed.0.saturating_add(i64::from(minutes) * 60_000))))
}

impl TicketDto {
    /// The ticket `view` in `config`'s hall; its `status_url` is absolute when the hall
    /// has a `public_url`, else the path alone.
    pub fn new(config: &Config, view: &TicketView) -> Self {
        let setup = &config.setup;
        let t: &Ticket = &view.ticket;
        Self {
            id: t.id.to_string(),
            number: t.number.to_string(),
            queue: t.queue.to_string(),
            services: t.services.iter().map(ToString::to_string).collect(),
            bundle: t.bundle.as_ref().map(ToString::to_string),
            priority: t.priority.as_ref().map(ToString::to_string),
            status: t.status.as_str(),
            ahead: view.eta.map(|e| e.ahead),
            eta_minutes: view.eta.and_then(|e| e.minutes),
            eta_range: view.eta.and_then(|e| e.range()).map(|(l, h)| [l, h]),
            eta_reason: view.eta.and_then(|e| e.reason()),
            promise: t.promise,
            window: t.window.as_ref().map(ToString::to_string),
            waits_for: t.target_window.filter(|_| t.status == TicketStatus::Waiting).map(|w| w.to_string()),
            issued_at: rfc3339(setup, t.issued_at),
            first_called_at: t.first_called_at.map(|at| rfc3339(setup, at)),
            called_at: t.called_at.map(|at| rfc3339(setup, at)),
            serving_at: t.serving_at.map(|at| rfc3339(setup, at)),
            finished_at: t.finished_at.map(|at| rfc3339(setup, at)),
            outcome: t.outcome,
            rated: t.rating.is_some(),
            status_url: status_url(config.public_url.as_ref(), &t.id),
            check_in: !t.checked_in && t.status == TicketStatus::Waiting,
            key: None,
            call_rule: t.call_rule.as_ref().map(|r| CallRuleDto::new(setup, r)),
            recalls: t.recalls,
            recall_max: setup.dispatch.recall_max,
            rejoin_until: rejoin_until(setup, t),
            steps: steps_dto(setup, t),
            step: t.step,
            escalation: view.escalation.as_ref().map(|c| super::escalation_dto::TicketEscalationDto::new(setup, c)),
            enterprise_line: view
                .enterprise
                .as_ref()
                .filter(|_| t.status == TicketStatus::Waiting)
                .map(|tag| super::ticket_line::EnterpriseLineDto::new(tag, t)),
            referral: view.referral.as_ref().map(|r| super::referral_dto::ReferralDto::new(config, r)),
        }
    }
}

impl TicketDto {
    /// The ticket as its visitor gets it: its key, and the status page's address with it.
    pub fn with_key(mut self, key: String) -> Self {
        self.status_url = format!("{}?k={key}", self.status_url);
        self.key = Some(key);
        self
    }
}

/// A call's rule on the wire: a code for programs, a Chinese sentence for people, and
/// the numbers behind it so that a page can word it in another language.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct CallRuleDto {
    /// `transferred_here`, `aged`, `priority`, `ordinary_turn` or `earliest_issued`.
    pub code: &'static str,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waited_min: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_min: Option<u32>,
    /// For `priority`: ordinary calls per priority call, when the call counted (else 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_ordinary: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of: Option<u32>,
    /// For `preferred`: the queue, the item if the preference was for one, and the head
    /// start in minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bonus_min: Option<u32>,
    /// For `appointment_due`: the slot's local start, `HH:MM`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
}

impl CallRuleDto {
    pub fn new(setup: &Setup, rule: &CallRule) -> Self {
        let plain = |code, text: &str| Self {
            code,
            text: text.to_string(),
            class: None,
            class_name: None,
            waited_min: None,
            max_min: None,
            per_ordinary: None,
            turn: None,
            of: None,
            queue: None,
            item: None,
            bonus_min: None,
            slot: None,
        };
        match rule {
            CallRule::TransferredHere => plain("transferred_here", "转至本窗口的号码"),
            CallRule::EarliestIssued => plain("earliest_issued", "取号时间最早"),
            CallRule::Aged { waited_min, max_min } => Self {
                waited_min: Some(*waited_min),
                max_min: Some(*max_min),
                ..plain("aged", &format!("等候{waited_min}分钟，超过{max_min}分钟"))
            },
            CallRule::Priority { class, per_ordinary } => {
                let name = setup.priorities.iter().find(|p| &p.id == class).map_or(class.as_str(), |p| &p.name);
                let text = match per_ordinary {
                    0 => format!("优先人群：{name}"),
                    n => format!("优先人群：{name}（每{n}位普通号可叫1位优先号）"),
                };
                Self {
                    class: Some(class.to_string()),
                    class_name: Some(name.to_string()),
                    per_ordinary: Some(*per_ordinary),
                    ..plain("priority", &text)
                }
            }
            // The clerk's reason stays in the log: the ticket's holder reads this too, and a
            // free-text reason may name people.
            CallRule::ByNumber { .. } => plain("by_number", "工作人员按号呼叫"),
            CallRule::Unparked => plain("unparked", "暂存后恢复办理"),
            CallRule::AppointmentDue { due } => {
                let at = crate::time::local_hm(setup, *due);
                Self { slot: Some(at.clone()), ..plain("appointment_due", &format!("预约{at}时段已到")) }
            }
            CallRule::Preferred { queue, item, bonus_min } => {
                let what = match item {
                    Some(code) => setup.item(code.as_str()).map_or_else(|| code.to_string(), |i| i.name.clone()),
                    None => setup.queue(queue).map_or_else(|| queue.to_string(), |q| q.name.clone()),
                };
                Self {
                    queue: Some(queue.to_string()),
                    item: item.as_ref().map(ToString::to_string),
                    bonus_min: Some(*bonus_min),
                    ..plain("preferred", &format!("本窗口优先办理：{what}（按提前{bonus_min}分钟取号计）"))
                }
            }
            CallRule::OrdinaryTurn { turn, of } => Self {
                turn: Some(*turn),
                of: Some(*of),
                ..plain("ordinary_turn", &format!("刚叫过优先号，轮到普通号（第{turn}/{of}位）"))
            },
        }
    }
}

/// A window as the staff pages see it (the clerk's and supervisor's pages, the admin
/// page): with the clerk signed in. Displays get the feed's own window message instead,
/// which has no clerk to show.
#[derive(Serialize, Clone)]
pub struct WindowDto {
    pub id: String,
    pub name: String,
    pub queues: Vec<String>,
    pub state: &'static str,
    /// The number of the ticket the window holds.
    pub ticket: Option<String>,
    /// The signed-in clerk's user name.
    pub clerk: Option<String>,
    /// Store-next is armed (issue 17 §4).
    pub store_next: bool,
}

impl WindowDto {
    pub fn new(w: &Window, number: Option<String>) -> Self {
        Self {
            id: w.id.to_string(),
            name: w.name.clone(),
            queues: w.queues.iter().map(ToString::to_string).collect(),
            state: w.state.as_str(),
            ticket: number,
            clerk: w.clerk.as_ref().map(ToString::to_string),
            store_next: w.store_next,
        }
    }

    pub fn from_view(v: &WindowView) -> Self {
        Self::new(&v.window, v.number.as_ref().map(ToString::to_string))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::model::PriorityClass;

    fn wire(rule: CallRule) -> serde_json::Value {
        let setup = crate::config::embedded_default().expect("the embedded hall loads").setup;
        serde_json::to_value(CallRuleDto::new(&setup, &rule)).expect("serialises")
    }

    #[test]
    fn a_call_rule_has_a_code_a_chinese_sentence_and_its_numbers() {
        let aged = wire(CallRule::Aged { waited_min: 42, max_min: 30 });
        assert_eq!(aged, json!({"code": "aged", "text": "等候42分钟，超过30分钟", "waited_min": 42, "max_min": 30}));
        let elderly = PriorityClass::parse("elderly").unwrap();
        let counted = wire(CallRule::Priority { class: elderly.clone(), per_ordinary: 2 });
        assert_eq!(counted["code"], "priority");
        assert_eq!(counted["text"], "优先人群：老年人（每2位普通号可叫1位优先号）");
        assert_eq!((counted["class"].as_str(), counted["per_ordinary"].as_u64()), (Some("elderly"), Some(2)));
        assert_eq!(wire(CallRule::Priority { class: elderly, per_ordinary: 0 })["text"], "优先人群：老年人");
        let turn = wire(CallRule::OrdinaryTurn { turn: 1, of: 2 });
        assert_eq!(
            turn,
            json!({"code": "ordinary_turn", "text": "刚叫过优先号，轮到普通号（第1/2位）", "turn": 1, "of": 2})
        );
        assert_eq!(wire(CallRule::EarliestIssued), json!({"code": "earliest_issued", "text": "取号时间最早"}));
        assert_eq!(wire(CallRule::TransferredHere), json!({"code": "transferred_here", "text": "转至本窗口的号码"}));
    }
}
