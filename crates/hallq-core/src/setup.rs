//! The hall's fixed description: queues, windows, service items, bundles, priority
//! classes, opening hours and call-out wording.
//!
//! `config.rs` builds a `Setup` from kiosk-config/ and checks it; the core only reads it.
//! It is not part of the event log: a restart with a changed config replays the same
//! events against the new description.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;

use super::model::{BundleId, BundleStep, Preferences, PriorityClass, QueueId, ServiceCode, Ts, WindowId};

/// Minutes assumed for a ticket none of whose items the setup knows.
pub const UNKNOWN_ITEM_MINUTES: u32 = 10;

#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    pub hall_id: String,
    pub hall_name: String,
    pub timezone: Tz,
    /// Local times during which kiosks may issue tickets; empty means always.
    pub hours: Vec<(NaiveTime, NaiveTime)>,
    pub queues: Vec<QueueDef>,
    /// In rank order: the first class outranks the second, and every class outranks none.
    pub priorities: Vec<PriorityDef>,
    pub windows: Vec<WindowDef>,
    pub categories: Vec<String>,
    /// Shared: a district loads a thousand halls with one catalogue, and a copy per hall
    /// (three, with the views') did not fit its memory (BENCHMARKS.md, the district).
    pub items: Arc<Vec<ItemDef>>,
    pub bundles: Vec<BundleDef>,
    /// Call-out text with `{number}` and `{window}` placeholders.
    pub call_template: String,
    /// How many times a display speaks each call-out.
    pub call_repeat: u8,
    /// Minutes of waiting after which a supervisor should hear of it, and after which a
    /// ticket outranks every priority class in dispatch.
    pub max_wait_min: u32,
    /// How priority classes share a window with ordinary tickets.
    pub dispatch: DispatchPolicy,
    /// Finds items by code without a scan; built on first use from `items`.
    pub item_index: ItemIndex,
    /// Appointments (`[hall.appointments]`); `None` when the hall takes none.
    pub appointments: Option<super::appointments::AppointmentPolicy>,
    /// 好差评: reasons for bad ratings, the cases' deadline and the working-day calendar.
    pub rating: super::rating::RatingPolicy,
    /// Supervision alert thresholds (`[hall.thresholds]`, `[[queue]]` overrides).
    pub alerts: super::alerts::AlertPolicy,
    /// 办不成事请找我 (`[hall.escalation]`); `None` when the hall has no escalation queue.
    pub escalation: Option<super::escalation::EscalationPolicy>,
    /// The reasons a clerk may give for a pause (`[hall.pause]`).
    pub pause_reasons: Vec<super::scorecard::PauseReason>,
    /// 全程领办 (`[hall.guides]`): escorts per guide, the escort priority class.
    pub guides: super::guide::GuidePolicy,
    /// The kiosk's per-person limits (`[hall.limits]`, issue 17 §4); off by default.
    pub person_limits: super::clerk_moves::PersonLimits,
    /// 助企服务 (`[enterprises]`); `None` when the hall keeps no enterprise registry.
    pub enterprises: Option<super::enterprise::EnterprisePolicy>,
}

/// Item positions by code, derived from `Setup::items` on first use. Being derived, two
/// indexes always compare equal. Shared by copies of a setup, like the items it indexes
/// (`Setup::item` checks what it finds, so an index of items since changed only scans).
#[derive(Clone, Debug, Default)]
pub struct ItemIndex(Arc<OnceLock<HashMap<String, usize>>>);

impl PartialEq for ItemIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The hall's dispatch settings (`[hall.dispatch]`), beyond the priority classes' rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DispatchPolicy {
    /// At most one priority call per this many ordinary calls at one window, while both
    /// kinds wait. 0 puts no bound: priority classes always go first (aging still caps
    /// the wait).
    pub priority_ratio: u32,
    /// Recalls allowed after a call; then the clerk marks the ticket a no-show.
    pub recall_max: u32,
    /// Minutes after a no-show during which the visitor may rejoin, at the back of the
    /// ticket's queue, keeping the number. 0: a missed number is gone.
    pub rejoin_min: u32,
    /// Minutes after a call during which no other window calls the same ticket again (a
    /// rejoined visitor may still be walking to the first window).
    pub call_cooldown_min: u32,
    /// Tickets one window may hold parked at once.
    pub park_max: u32,
}

impl DispatchPolicy {
    pub const DEFAULT_RECALL_MAX: u32 = 2;
    pub const DEFAULT_REJOIN_MIN: u32 = 30;
    pub const DEFAULT_CALL_COOLDOWN_MIN: u32 = 5;
    pub const DEFAULT_PARK_MAX: u32 = 3;
}

impl Default for DispatchPolicy {
    /// No priority ratio; two recalls, half an hour to rejoin, five minutes of cooldown,
    /// three parked tickets per window: what the halls we learned from use.
    fn default() -> Self {
        Self {
            priority_ratio: 0,
            recall_max: Self::DEFAULT_RECALL_MAX,
            rejoin_min: Self::DEFAULT_REJOIN_MIN,
            call_cooldown_min: Self::DEFAULT_CALL_COOLDOWN_MIN,
            park_max: Self::DEFAULT_PARK_MAX,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueueDef {
    pub id: QueueId,
    pub name: String,
    pub prefix: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PriorityDef {
    pub id: PriorityClass,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WindowDef {
    pub id: WindowId,
    pub name: String,
    pub queues: Vec<QueueId>,
    pub prefer: Preferences,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ItemDef {
    pub code: ServiceCode,
    pub name: String,
    pub category: String,
    pub department: String,
    pub queue: QueueId,
    pub minutes: u32,
    pub materials: Vec<String>,
    /// 承诺办结时限 (issue 17 §5): the working days the hall promises to finish the matter
    /// in, `Some(0)` done on the spot (即办); `None`: the catalogue states none.
    pub limit_days: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BundleDef {
    pub id: BundleId,
    pub name: String,
    pub items: Vec<ServiceCode>,
}

/// What a kiosk's `service` field names.
pub enum ServiceRef<'a> {
    Item(&'a ItemDef),
    Bundle(&'a BundleDef),
}

impl Setup {
    pub fn queue(&self, id: &QueueId) -> Option<&QueueDef> {
        self.queues.iter().find(|q| &q.id == id)
    }

    pub fn window(&self, id: &WindowId) -> Option<&WindowDef> {
        self.windows.iter().find(|w| &w.id == id)
    }

    pub fn item(&self, code: &str) -> Option<&ItemDef> {
        let index = self.item_index.0.get_or_init(|| {
            self.items.iter().enumerate().map(|(i, item)| (item.code.as_str().to_string(), i)).collect()
        });
        // The index is built once: a setup copied with another's index, or whose items
        // changed after it was built, falls back to a scan rather than answer wrongly.
        let found = index.get(code).and_then(|i| self.items.get(*i)).filter(|i| i.code.as_str() == code);
        if found.is_some() || index.len() == self.items.len() {
            return found;
        }
        self.items.iter().find(|i| i.code.as_str() == code)
    }

    /// Expected counter minutes of `services`: their configured minutes, summed (a bundle
    /// step's items are one piece of business at one window); `UNKNOWN_ITEM_MINUTES` when
    /// none is known.
    pub fn expected_minutes(&self, services: &[ServiceCode]) -> u32 {
        let sum: u32 = services.iter().filter_map(|c| self.item(c.as_str())).map(|i| i.minutes).sum();
        if sum == 0 {
            UNKNOWN_ITEM_MINUTES
        } else {
            sum
        }
    }

    /// Looks up an item code or a bundle id.
    pub fn service(&self, code: &str) -> Option<ServiceRef<'_>> {
        if let Some(item) = self.item(code) {
            return Some(ServiceRef::Item(item));
        }
        self.bundles.iter().find(|b| b.id.as_str() == code).map(ServiceRef::Bundle)
    }

    /// Milliseconds of waiting after which a ticket is aged and outranks every class.
    pub fn max_wait_ms(&self) -> u64 {
        u64::from(self.max_wait_min) * 60_000
    }

    /// 0 for the first configured class; `None` ranks after every class.
    pub fn priority_rank(&self, class: Option<&PriorityClass>) -> u8 {
        class
            .and_then(|c| self.priorities.iter().position(|p| &p.id == c))
            .map_or(u8::MAX, |i| u8::try_from(i).unwrap_or(u8::MAX - 1))
    }

    /// The service day that `at` falls in, in the hall's time zone.
    pub fn day_of(&self, at: Ts) -> NaiveDate {
        self.timezone
            .timestamp_millis_opt(at.0)
            .single()
            .map_or_else(|| chrono::DateTime::UNIX_EPOCH.date_naive(), |t| t.date_naive())
    }

    /// Whether kiosks may issue at `at`: within the opening hours of a working day of the
    /// hall calendar (rest days, holidays and make-up working days, `[hall.calendar]`). A
    /// hall without hours is always open, calendar or not.
    /// Whether a walk-in may take a ticket in `queue`: not in the appointment queue, which
    /// only a booking's check-in joins (a walk-in there would never be due, and a booked
    /// visitor who took one would never be checked in).
    pub fn takes_walk_ins(&self, queue: &QueueId) -> bool {
        self.appointments.as_ref().is_none_or(|p| p.queue != *queue)
    }

    pub fn is_open(&self, at: Ts) -> bool {
        if self.hours.is_empty() {
            return true;
        }
        let Some(local) = self.timezone.timestamp_millis_opt(at.0).single() else {
            return false;
        };
        let t = local.time();
        self.rating.calendar.is_working_day(local.date_naive())
            && self.hours.iter().any(|(open, close)| *open <= t && t < *close)
    }

    /// When kiosks next issue, from `at` on: `at` itself while open; the next opening time
    /// of a working day otherwise. `None` for a hall without hours (always open), or when
    /// no working day comes within `calendar::SEARCH_DAYS_MAX` days.
    pub fn opens_at(&self, at: Ts) -> Option<Ts> {
        if self.hours.is_empty() {
            return None;
        }
        if self.is_open(at) {
            return Some(at);
        }
        let today = self.day_of(at);
        (0..=u64::from(super::calendar::SEARCH_DAYS_MAX))
            .filter_map(|n| today.checked_add_days(chrono::Days::new(n)))
            .filter(|day| self.rating.calendar.is_working_day(*day))
            .flat_map(|day| self.hours.iter().filter_map(move |(open, _)| self.local_ts(day, *open)))
            .find(|t| t.0 > at.0)
    }

    /// When the opening span `at` falls in ends; `None` while closed or always open.
    pub fn closes_at(&self, at: Ts) -> Option<Ts> {
        if self.hours.is_empty() || !self.is_open(at) {
            return None;
        }
        let local = self.timezone.timestamp_millis_opt(at.0).single()?;
        let t = local.time();
        let (_, close) = self.hours.iter().find(|(open, close)| *open <= t && t < *close)?;
        self.local_ts(local.date_naive(), *close)
    }

    /// `time` on `day` in the hall's zone (the earlier of two readings in a clock change).
    fn local_ts(&self, day: NaiveDate, time: NaiveTime) -> Option<Ts> {
        self.timezone.from_local_datetime(&day.and_time(time)).earliest().map(|t| Ts(t.timestamp_millis()))
    }

    /// The queues that share at least one window with `queue` (itself included): the
    /// tickets that compete with a ticket of `queue` for the same windows.
    pub fn competing_queues(&self, queue: &QueueId) -> Vec<QueueId> {
        let mut out: Vec<QueueId> = vec![*queue];
        for w in self.windows.iter().filter(|w| w.queues.contains(queue)) {
            for q in &w.queues {
                if !out.contains(q) {
                    out.push(*q);
                }
            }
        }
        out
    }

    /// Typical minutes at the counter for a ticket of `queue`: the mean of its items.
    pub fn typical_minutes(&self) -> BTreeMap<QueueId, u32> {
        let mut sums: BTreeMap<QueueId, (u64, u64)> = BTreeMap::new();
        for item in self.items.iter() {
            let e = sums.entry(item.queue).or_default();
            e.0 += u64::from(item.minutes);
            e.1 += 1;
        }
        sums.into_iter().map(|(q, (sum, n))| (q, u32::try_from(sum.div_ceil(n.max(1))).unwrap_or(u32::MAX))).collect()
    }

    /// The steps of a bundle ticket: one per queue its items need, in the order the queues
    /// first appear among the items, each with all the items of its queue, so the visitor
    /// goes to each kind of counter once. Items the setup does not know are skipped.
    pub fn bundle_steps(&self, bundle: &BundleDef) -> Vec<BundleStep> {
        let mut steps: Vec<BundleStep> = Vec::new();
        for item in bundle.items.iter().filter_map(|c| self.item(c.as_str())) {
            match steps.iter_mut().find(|s| s.queue == item.queue) {
                Some(step) => step.services.push(item.code.clone()),
                None => steps.push(BundleStep { queue: item.queue, services: vec![item.code.clone()] }),
            }
        }
        steps
    }

    /// The spoken and shown call-out text.
    pub fn call_text(&self, number: &str, window: &WindowId) -> String {
        self.call_template.replace("{number}", number).replace("{window}", window.as_str())
    }
}
