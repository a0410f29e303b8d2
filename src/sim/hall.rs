//! The hall a simulation runs: a `Setup` (from a kiosk-config directory, or the plain
//! hall of queueing theory built in memory) and the shape of its simulated day.
//!
//! A hall with opening hours takes arrivals within them and has every visitor counted. A
//! hall open always (the plain hall) cannot run one endless day: at local midnight the
//! core opens a new service day, expiring waiting tickets and closing windows. So each
//! simulated day is an independent run: arrivals from 00:00 to `ALWAYS_OPEN_ARRIVALS_END`,
//! waits counted only for tickets issued after the warm-up, and the last hour left for
//! the line to drain before midnight.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate, TimeZone, Timelike};

use crate::config::Config;
use crate::core::model::{Preferences, QueueId, ServiceCode, WindowId};
use crate::core::setup::{ItemDef, QueueDef, Setup, WindowDef};

use super::SimError;

/// One hour, in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// A hall open always takes arrivals until 23:00, leaving an hour for the line to drain
/// before the core closes the day at midnight (the test checks nothing expires).
pub const ALWAYS_OPEN_ARRIVALS_END: i64 = 23 * HOUR_MS;
/// Default warm-up of a hall open always: waits of tickets issued in the first two hours
/// of each day (which starts empty) are not counted. Two hours is many times the time the
/// line needs to forget its empty start at the loads tested (see tests/sim.rs).
pub const DEFAULT_WARMUP_MS: i64 = 2 * HOUR_MS;
/// The most windows of the plain hall: the config's limit.
pub const PLAIN_WINDOWS_MAX: usize = crate::config::MAX_WINDOWS;

/// When, within a local day, things happen (all in ms after local midnight).
#[derive(Clone, Debug, PartialEq)]
pub struct DayPlan {
    /// The hall opens: without a rota, clerks sign in at this time.
    pub open_ms: i64,
    /// Visitors arrive within these spans.
    pub arrival_spans: Vec<(i64, i64)>,
    /// Waits of tickets issued within this span are counted.
    pub measure: (i64, i64),
    /// The hall stops issuing here; a `drain` shift ends here at the earliest.
    pub close_ms: i64,
}

/// A hall ready to simulate.
#[derive(Clone, Debug)]
pub struct SimHall {
    pub name: String,
    pub setup: Arc<Setup>,
    pub plan: DayPlan,
    /// Expected counter minutes by item code and bundle id (a bundle's items summed).
    pub minutes: HashMap<String, f64>,
    /// Walk time from the call to the counter, in ms.
    pub walk_ms: i64,
    /// A clerk's reaction time between letting a ticket go and calling the next, in ms
    /// (`--react`; 0 calls at once).
    pub react_ms: i64,
    /// The clerks finish with `done-next` (store-next, issue 17 §4): the next ticket is
    /// called in the step of the finish, with no reaction time.
    pub store_next: bool,
}

impl SimHall {
    /// A hall from a loaded kiosk-config directory, with `warmup_ms` used only if it has
    /// no opening hours.
    pub fn from_config(name: &str, config: Config, walk_ms: i64, warmup_ms: i64) -> SimHall {
        let mut setup = config.setup;
        // Every simulated day is a day of the trace, worked whatever its date: bookings
        // (refused on the calendar's rest days and holidays) are taken on each.
        setup.rating.calendar = crate::core::calendar::Calendar {
            rest_days: Vec::new(),
            holidays: Default::default(),
            workdays: Default::default(),
        };
        let plan = plan_for(&setup, warmup_ms);
        let minutes = minutes_of(&setup);
        SimHall {
            name: name.to_string(),
            setup: Arc::new(setup),
            plan,
            minutes,
            walk_ms,
            react_ms: 0,
            store_next: false,
        }
    }

    /// The plain hall: one queue A, `windows` identical windows serving it, one item of
    /// `item_min` minutes, always open, no priority classes, no walk time. The rest of the
    /// setup (call-out wording, dispatch settings) is the example hall's; it takes no
    /// appointments.
    pub fn plain(base: Config, windows: usize, item_min: f64, warmup_ms: i64) -> Result<SimHall, SimError> {
        if !(1..=PLAIN_WINDOWS_MAX).contains(&windows) {
            return Err(SimError::Input(format!("--windows must be 1 to {PLAIN_WINDOWS_MAX}")));
        }
        let id = |s: &str| QueueId::parse(s).map_err(|e| SimError::Input(e.to_string()));
        let queue = id("A")?;
        let window_defs = (1..=windows)
            .map(|n| {
                let wid = WindowId::parse(&n.to_string()).map_err(|e| SimError::Input(e.to_string()))?;
                Ok(WindowDef {
                    id: wid,
                    name: format!("window {n}"),
                    queues: vec![queue],
                    prefer: Preferences::default(),
                })
            })
            .collect::<Result<Vec<_>, SimError>>()?;
        let code = ServiceCode::parse("PLAIN").map_err(|e| SimError::Input(e.to_string()))?;
        let item = ItemDef {
            code,
            name: "plain service".into(),
            category: "plain".into(),
            department: "plain".into(),
            queue,
            // The core's estimates count whole minutes.
            minutes: item_min.round().max(1.0) as u32,
            materials: vec!["none".into()],
            limit_days: None,
        };
        let setup = Setup {
            hall_id: "plain".into(),
            hall_name: format!("plain hall, {windows} windows"),
            timezone: chrono_tz::UTC,
            hours: Vec::new(),
            queues: vec![QueueDef { id: queue, name: "plain".into(), prefix: "A".into() }],
            priorities: Vec::new(),
            windows: window_defs,
            categories: vec!["plain".into()],
            items: vec![item].into(),
            bundles: Vec::new(),
            item_index: Default::default(),
            // The example hall's bookings wait in its queue Y, which this hall lacks.
            appointments: None,
            // Nor has it the example hall's priority classes an escort could get.
            guides: crate::core::guide::GuidePolicy { escort_priority: None, ..base.setup.guides },
            ..base.setup
        };
        let plan = plan_for(&setup, warmup_ms);
        let minutes = minutes_of(&setup);
        let name = setup.hall_name.clone();
        Ok(SimHall { name, setup: Arc::new(setup), plan, minutes, walk_ms: 0, react_ms: 0, store_next: false })
    }

    /// Expected minutes of a service code; 0 for a code the hall does not know (the core
    /// refuses it anyway).
    pub fn expected_min(&self, service: &str) -> f64 {
        self.minutes.get(service).copied().unwrap_or(0.0)
    }
}

fn ms_of(t: chrono::NaiveTime) -> i64 {
    i64::from(t.num_seconds_from_midnight()) * 1000
}

fn plan_for(setup: &Setup, warmup_ms: i64) -> DayPlan {
    if setup.hours.is_empty() {
        let warmup = warmup_ms.clamp(0, ALWAYS_OPEN_ARRIVALS_END - HOUR_MS);
        return DayPlan {
            open_ms: 0,
            arrival_spans: vec![(0, ALWAYS_OPEN_ARRIVALS_END)],
            measure: (warmup, ALWAYS_OPEN_ARRIVALS_END),
            close_ms: ALWAYS_OPEN_ARRIVALS_END,
        };
    }
    let spans: Vec<(i64, i64)> = setup.hours.iter().map(|(a, b)| (ms_of(*a), ms_of(*b))).collect();
    let open_ms = spans.iter().map(|s| s.0).min().unwrap_or(0);
    let close_ms = spans.iter().map(|s| s.1).max().unwrap_or(24 * HOUR_MS);
    DayPlan { open_ms, arrival_spans: spans, measure: (0, 24 * HOUR_MS), close_ms }
}

fn minutes_of(setup: &Setup) -> HashMap<String, f64> {
    let mut m: HashMap<String, f64> =
        setup.items.iter().map(|i| (i.code.as_str().to_string(), f64::from(i.minutes))).collect();
    for b in &setup.bundles {
        let sum = b.items.iter().filter_map(|c| m.get(c.as_str())).sum();
        m.insert(b.id.as_str().to_string(), sum);
    }
    m
}

/// The first simulated day (a Monday).
const FIRST_DAY: (i32, u32, u32) = (2024, 1, 1);

/// Local midnight of simulated day `d` in the hall's time zone, in ms.
pub(super) fn day_start(hall: &SimHall, d: u32) -> Result<i64, SimError> {
    let (y, m, dd) = FIRST_DAY;
    let date = NaiveDate::from_ymd_opt(y, m, dd)
        .and_then(|date| date.checked_add_days(Days::new(u64::from(d))))
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .ok_or_else(|| SimError::Input("too many days".into()))?;
    let local = hall.setup.timezone.from_local_datetime(&date).earliest();
    local.map(|t| t.timestamp_millis()).ok_or_else(|| SimError::Input("no local midnight".into()))
}
