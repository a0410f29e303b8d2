//! Reading `hall.toml`: the hall's settings, queues, priority classes, windows, kiosks,
//! users and where its service catalogue lives.
//!
//! Each section is checked on its own and against the others (a window's queues must
//! exist, every queue must have a window); errors are collected, never returned early, and
//! a bad value is replaced by a harmless stand-in so the remaining checks still run.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::NaiveTime;
use chrono_tz::Tz;
use toml::Spanned;

use super::alerts::{self, WebhookConfig};
use super::appointments::{self, RawPolicy};
use super::guard::{self, MetricsToken, RateLimits, TlsFiles};
use super::lines::{read_priorities, read_queues, read_windows};
use super::people::{read_kiosks, read_users};
use super::prefer::ItemPref;
use super::rating::{self, EvaluatorDef};
use super::tree::{Field, Loc, Node, Src, Tab};
use super::voice::{self, VoiceSettings, ZoneDef};
use super::{Errs, KioskDef, UserDef};
use super::{
    MAX_CALL_REPEAT, MAX_COOLDOWN_MIN, MAX_HOURS_SPANS, MAX_NAME_CHARS, MAX_PARKED, MAX_PRIORITY_RATIO, MAX_RECALLS,
    MAX_REJOIN_MIN, MAX_SESSION_TTL_S, MAX_TEXT_CHARS, MAX_WAIT_MIN, MIN_SESSION_TTL_S,
};
use crate::core::alerts::AlertPolicy;
use crate::core::appointments::AppointmentPolicy;
use crate::core::model::{IdError, QueueId};
use crate::core::rating::RatingPolicy;
use crate::core::setup::{DispatchPolicy, PriorityDef, QueueDef, WindowDef};

const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Shanghai;
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 8080);
const DEFAULT_DATA_DIR: &str = "./data";
/// Twelve hours: one working day per sign-in.
const DEFAULT_SESSION_TTL_S: u64 = 43_200;
/// Days of event history kept (a year and a half: a full year's comparison plus slack);
/// older records are removed once a day-opening snapshot holds their figures.
const DEFAULT_RETENTION_DAYS: u32 = 540;
/// `[hall] remind_ahead`: the status page's reminder when this many are ahead of the
/// visitor; 0 reminds only at the call. At most 50: a hall reminding at 50 ahead
/// reminds people who will wait an hour.
pub const DEFAULT_REMIND_AHEAD: u32 = 3;
const MAX_REMIND_AHEAD: i64 = 50;
const MIN_RETENTION_DAYS: i64 = 1;
const MAX_RETENTION_DAYS: i64 = 3660;
const DEFAULT_CALL_TEMPLATE: &str = "请{number}号到{window}号窗口办理";
const DEFAULT_CALL_REPEAT: u8 = 2;
const DEFAULT_MAX_WAIT_MIN: u32 = 30;
const DEFAULT_SERVICES_FILE: &str = "services.toml";

/// Where the service catalogue comes from, with the hall.toml location that named it.
pub(super) enum CatalogSource {
    Toml(Field<String>),
    /// A CSV catalogue, and optionally a TOML file whose categories, items and bundles go
    /// with it (`services` beside `services_csv`): a hall keeps the shared spreadsheet
    /// unedited and writes its own items and the kiosk's category order next to it.
    Csv {
        services: Field<String>,
        bundles: Option<Field<String>>,
        extra: Option<Field<String>>,
    },
}

/// Everything `hall.toml` says, checked; stand-ins where it was wrong.
pub(super) struct HallParts {
    pub hall_id: String,
    pub hall_name: String,
    pub timezone: Tz,
    pub hours: Vec<(NaiveTime, NaiveTime)>,
    pub listen: SocketAddr,
    /// `public_url`: the address visitors' phones reach.
    pub public_url: Option<super::public_url::PublicUrl>,
    pub data_dir: PathBuf,
    pub session_ttl_s: u64,
    pub retention_days: u32,
    pub remind_ahead: u32,
    pub limits: RateLimits,
    pub tls: Option<TlsFiles>,
    pub metrics_token: Option<MetricsToken>,
    pub call_template: String,
    pub call_repeat: u8,
    pub max_wait_min: u32,
    pub dispatch: DispatchPolicy,
    pub queues: Vec<QueueDef>,
    /// Where each queue's id was declared, parallel to `queues`.
    pub queue_locs: Vec<Loc>,
    pub priorities: Vec<PriorityDef>,
    pub windows: Vec<WindowDef>,
    /// `[hall.appointments]`, resolved once the queues are read.
    pub appointments_raw: Option<RawPolicy>,
    pub appointments: Option<AppointmentPolicy>,
    /// Windows' item preferences, checked once the catalogue is loaded.
    pub item_prefs: Vec<ItemPref>,
    pub kiosks: Vec<KioskDef>,
    pub users: Vec<UserDef>,
    pub catalog: CatalogSource,
    /// `[hall.voice]` and the `[[zone]]` tables.
    pub voice: VoiceSettings,
    pub zones: Vec<ZoneDef>,
    /// `[hall.rating]` and `[hall.calendar]`.
    pub rating: RatingPolicy,
    pub evaluators: Vec<EvaluatorDef>,
    /// `[hall.escalation]` as read, and once its queue and handler are found.
    pub escalation_raw: Option<super::escalation::RawEscalation>,
    pub escalation: Option<crate::core::escalation::EscalationPolicy>,
    /// `[hall.pause]`: the reasons a clerk may give for a pause.
    pub pause_reasons: Vec<crate::core::scorecard::PauseReason>,
    /// `[hall.guides]` as read, and once its escort priority is found.
    pub guides_raw: Option<super::guides::RawGuides>,
    pub guides: crate::core::guide::GuidePolicy,
    /// `[hall.limits]`'s per-person limits at the kiosk (issue 17 §4).
    pub person_limits: crate::core::clerk_moves::PersonLimits,
    /// `[enterprises]` as read (助企服务).
    pub enterprises_raw: Option<super::enterprises::RawEnterprises>,
    /// `[hall.thresholds] service_level_min` and `service_level_queue_min`, unresolved.
    pub service_level: super::service_level::Raw,
    /// `[hall.thresholds]`'s alert keys, and each queue's own, until resolved.
    pub alert_keys: alerts::HallKeys,
    pub queue_alerts: Vec<(QueueId, alerts::QueueKeys)>,
    /// The resolved alert thresholds.
    pub alerts: AlertPolicy,
    /// `[supervision.webhook]`.
    pub webhook: Option<WebhookConfig>,
    /// `[district]`: the link to the district's NATS, if the hall has one.
    pub district: Option<super::district::DistrictLink>,
}

impl HallParts {
    /// Every key's default, before hall.toml is read.
    fn defaults(src: &Src<'_>) -> Self {
        Self {
            hall_id: String::new(),
            hall_name: String::new(),
            timezone: DEFAULT_TIMEZONE,
            hours: Vec::new(),
            listen: SocketAddr::from(DEFAULT_LISTEN),
            public_url: None,
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            session_ttl_s: DEFAULT_SESSION_TTL_S,
            retention_days: DEFAULT_RETENTION_DAYS,
            remind_ahead: DEFAULT_REMIND_AHEAD,
            limits: RateLimits::default(),
            tls: None,
            metrics_token: None,
            call_template: DEFAULT_CALL_TEMPLATE.to_string(),
            call_repeat: DEFAULT_CALL_REPEAT,
            max_wait_min: DEFAULT_MAX_WAIT_MIN,
            dispatch: DispatchPolicy::default(),
            queues: Vec::new(),
            queue_locs: Vec::new(),
            priorities: Vec::new(),
            windows: Vec::new(),
            item_prefs: Vec::new(),
            appointments_raw: None,
            appointments: None,
            kiosks: Vec::new(),
            users: Vec::new(),
            catalog: CatalogSource::Toml(Field {
                value: DEFAULT_SERVICES_FILE.to_string(),
                loc: Loc { file: src.file.to_string(), line: None, key: "catalog.services".to_string() },
            }),
            voice: VoiceSettings::default(),
            zones: Vec::new(),
            rating: RatingPolicy::default(),
            evaluators: Vec::new(),
            escalation_raw: None,
            escalation: None,
            pause_reasons: crate::core::scorecard::PauseReason::defaults(),
            guides_raw: None,
            guides: Default::default(),
            person_limits: Default::default(),
            enterprises_raw: None,
            service_level: Default::default(),
            alert_keys: alerts::HallKeys::default(),
            queue_alerts: Vec::new(),
            alerts: AlertPolicy::default(),
            webhook: None,
            district: None,
        }
    }
}

pub(super) fn read(src: &Src<'_>, root: &Spanned<Node>, errs: &mut Errs) -> HallParts {
    let mut parts = HallParts::defaults(src);
    let Some(mut top) = Tab::root(src, root) else {
        errs.push(
            Loc { file: src.file.to_string(), line: None, key: String::new() }.err("the file must be a TOML table"),
        );
        return parts;
    };
    match top.table("hall", errs) {
        Some(hall) => read_hall(hall, &mut parts, errs),
        None => errs.push(top.loc().err("missing [hall] table; add one with at least id and name")),
    }
    let queue_tabs = top.tables("queue", errs);
    (parts.queues, parts.queue_locs) = read_queues(queue_tabs, &top.loc(), &mut parts.queue_alerts, errs);
    parts.alerts = alerts::resolve(&parts.alert_keys, parts.max_wait_min, &parts.queue_alerts);
    parts.priorities = read_priorities(top.tables("priority", errs), &top.loc(), errs);
    if let Some(raw) = parts.guides_raw.take() {
        parts.guides = super::guides::resolve(raw, &parts.priorities, errs);
    }
    let mut served = Vec::new();
    if let Some(raw) = parts.appointments_raw.take() {
        parts.appointments = appointments::resolve(raw, &parts.queues, errs);
    }
    let tabs = top.tables("window", errs);
    let windows = read_windows(tabs, &parts.queues, &mut served, &top.loc(), errs);
    (parts.windows, parts.item_prefs) = windows;
    let ranges = super::window_range::finish_windows(&mut top, &mut parts, &mut served, errs);
    parts.kiosks = read_kiosks(top.tables("kiosk", errs), &top.loc(), errs);
    parts.users = read_users(top.tables("user", errs), &parts.windows, &top.loc(), errs);
    let kiosk_tokens: Vec<&str> = parts.kiosks.iter().map(|k| k.token.as_str()).collect();
    let tabs = top.tables("evaluator", errs);
    parts.evaluators = rating::read_evaluators(tabs, &parts.windows, &kiosk_tokens, &top.loc(), errs);
    super::window_range::add_staff(ranges, &mut parts, errs);
    if let Some(raw) = parts.escalation_raw.take() {
        parts.escalation = super::escalation::resolve(raw, &parts.queues, &parts.users, errs);
    }
    if let Some(cat) = top.table("catalog", errs) {
        if let Some(source) = super::catalog::read_source(cat, errs) {
            parts.catalog = source;
        }
    }
    parts.zones = voice::read_zones(top.tables("zone", errs), &parts.windows, &top.loc(), errs);
    parts.enterprises_raw = top.table("enterprises", errs).and_then(|t| super::enterprises::read(t, errs));
    if let Some(sup) = top.table("supervision", errs) {
        parts.webhook = alerts::read_supervision(sup, errs);
    }
    if let Some(t) = top.table("district", errs) {
        parts.district = super::district::read(t, &parts.hall_id, errs);
    }
    top.finish(errs);
    parts
}

fn read_hall(mut hall: Tab<'_>, parts: &mut HallParts, errs: &mut Errs) {
    if let Some(id) = name(&mut hall, "id", errs) {
        parts.hall_id = id;
    }
    if let Some(n) = name(&mut hall, "name", errs) {
        parts.hall_name = n;
    }
    read_place(&mut hall, parts, errs);
    if let Some(ttl) = int_in(&mut hall, "session_ttl_s", MIN_SESSION_TTL_S, MAX_SESSION_TTL_S, errs) {
        parts.session_ttl_s = ttl.unsigned_abs();
    }
    if let Some(days) = int_in(&mut hall, "retention_days", MIN_RETENTION_DAYS, MAX_RETENTION_DAYS, errs) {
        parts.retention_days = u32::try_from(days).unwrap_or(DEFAULT_RETENTION_DAYS);
    }
    if let Some(n) = int_in(&mut hall, "remind_ahead", 0, MAX_REMIND_AHEAD, errs) {
        parts.remind_ahead = u32::try_from(n).unwrap_or(DEFAULT_REMIND_AHEAD);
    }
    parts.tls = guard::read_tls(&mut hall, errs);
    parts.metrics_token = guard::read_metrics_token(&mut hall, errs);
    if let Some(t) = hall.table("limits", errs) {
        (parts.limits, parts.person_limits) = guard::read_limits(t, errs);
    }
    if let Some(calls) = hall.table("calls", errs) {
        read_calls(calls, parts, errs);
    }
    if let Some(th) = hall.table("thresholds", errs) {
        read_thresholds(th, parts, errs);
    }
    if let Some(t) = hall.table("voice", errs) {
        parts.voice = voice::read_settings(t, errs);
    }
    if let Some(t) = hall.table("appointments", errs) {
        parts.appointments_raw = appointments::read(t, errs);
    }
    if let Some(t) = hall.table("rating", errs) {
        rating::read_rating(t, &mut parts.rating, errs);
    }
    if let Some(t) = hall.table("escalation", errs) {
        parts.escalation_raw = super::escalation::read(t, errs);
    }
    if let Some(t) = hall.table("pause", errs) {
        parts.pause_reasons = super::pause::read(t, errs);
    }
    if let Some(t) = hall.table("guides", errs) {
        parts.guides_raw = super::guides::read(t, errs);
    }
    if let Some(t) = hall.table("calendar", errs) {
        parts.rating.calendar = rating::read_calendar(t, errs);
    }
    if let Some(d) = hall.table("dispatch", errs) {
        read_dispatch(d, parts, errs);
    }
    hall.finish(errs);
}

/// Where and when the hall is: its time zone, opening hours, listening address, the
/// visitors' address and the data directory.
fn read_place(hall: &mut Tab<'_>, parts: &mut HallParts, errs: &mut Errs) {
    if let Some(tz) = hall.str("timezone", errs) {
        match tz.value.parse::<Tz>() {
            Ok(tz) => parts.timezone = tz,
            Err(_) => errs.push(
                tz.loc.err(format!("unknown time zone {:?}; use an IANA name such as \"Asia/Shanghai\"", tz.value)),
            ),
        }
    }
    if let Some(hours) = hall.str_list("hours", errs) {
        parts.hours = read_hours(hours, errs);
    }
    if let Some(listen) = hall.str("listen", errs) {
        match listen.value.parse::<SocketAddr>() {
            Ok(addr) => parts.listen = addr,
            Err(_) => errs.push(listen.loc.err(format!(
                "bad listen address {:?}; write IP:PORT such as \"{}\"",
                listen.value,
                SocketAddr::from(DEFAULT_LISTEN)
            ))),
        }
    }
    parts.public_url = super::public_url::read(hall, errs);
    if let Some(dir) = hall.str("data_dir", errs) {
        if dir.value.trim().is_empty() {
            errs.push(dir.loc.err(format!("data_dir is empty; name a directory such as {DEFAULT_DATA_DIR:?}")));
        } else {
            parts.data_dir = PathBuf::from(dir.value);
        }
    }
}

/// `[hall.thresholds]`: the longest wait, the service level and the alert thresholds.
fn read_thresholds(mut th: Tab<'_>, parts: &mut HallParts, errs: &mut Errs) {
    if let Some(m) = int_in(&mut th, "max_wait_min", 1, MAX_WAIT_MIN, errs) {
        parts.max_wait_min = u32::try_from(m).unwrap_or(u32::MAX);
    }
    parts.service_level = super::service_level::read(&mut th, errs);
    parts.alert_keys = alerts::read_hall(&mut th, errs);
    th.finish(errs);
}

/// `[hall.dispatch]`: the priority ratio, recalls, rejoin, call cooldown and parking.
fn read_dispatch(mut d: Tab<'_>, parts: &mut HallParts, errs: &mut Errs) {
    let dispatch = &mut parts.dispatch;
    let mut read = |key: &str, min: i64, max: i64, to: &mut u32| {
        if let Some(v) = int_in(&mut d, key, min, max, errs) {
            *to = u32::try_from(v).unwrap_or(0);
        }
    };
    read("priority_ratio", 0, MAX_PRIORITY_RATIO, &mut dispatch.priority_ratio);
    read("recall_max", 0, MAX_RECALLS, &mut dispatch.recall_max);
    read("rejoin_min", 0, MAX_REJOIN_MIN, &mut dispatch.rejoin_min);
    read("call_cooldown_min", 0, MAX_COOLDOWN_MIN, &mut dispatch.call_cooldown_min);
    read("park_max", 0, MAX_PARKED, &mut dispatch.park_max);
    d.finish(errs);
}

fn read_calls(mut calls: Tab<'_>, parts: &mut HallParts, errs: &mut Errs) {
    if let Some(t) = calls.str("template", errs) {
        let missing: Vec<&str> = ["{number}", "{window}"].into_iter().filter(|p| !t.value.contains(p)).collect();
        if !missing.is_empty() {
            errs.push(t.loc.err(format!(
                "the call-out template lacks {}; write both {{number}} and {{window}}, e.g. {DEFAULT_CALL_TEMPLATE:?}",
                missing.join(" and ")
            )));
        } else if t.value.chars().count() > MAX_TEXT_CHARS {
            errs.push(
                t.loc.err(format!("the call-out template is longer than {MAX_TEXT_CHARS} characters; shorten it")),
            );
        } else {
            parts.call_template = t.value;
        }
    }
    if let Some(r) = int_in(&mut calls, "repeat", 1, MAX_CALL_REPEAT, errs) {
        parts.call_repeat = u8::try_from(r).unwrap_or(1);
    }
    calls.finish(errs);
}

/// Parses `["08:30-12:00", "13:00-17:30"]`: each span opens before it closes, and spans
/// come in order without overlapping.
fn read_hours(hours: Field<Vec<Field<String>>>, errs: &mut Errs) -> Vec<(NaiveTime, NaiveTime)> {
    if hours.value.len() > MAX_HOURS_SPANS {
        errs.push(hours.loc.err(format!("more than {MAX_HOURS_SPANS} opening-hour spans; merge some")));
        return Vec::new();
    }
    let mut out: Vec<(NaiveTime, NaiveTime)> = Vec::new();
    for span in &hours.value {
        let parsed = span.value.split_once('-').and_then(|(a, b)| {
            let open = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
            let close = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
            Some((open, close))
        });
        let Some((open, close)) = parsed else {
            errs.push(span.loc.err(format!(
                "malformed opening hours {:?}; write \"HH:MM-HH:MM\" such as \"08:30-12:00\"",
                span.value
            )));
            continue;
        };
        if open >= close {
            errs.push(span.loc.err(format!("opening hours {:?} close before they open; swap the times", span.value)));
        } else if out.last().is_some_and(|&(_, prev_close)| open < prev_close) {
            errs.push(span.loc.err(format!(
                "opening hours {:?} overlap or precede the span before; list spans in order, apart",
                span.value
            )));
        } else {
            out.push((open, close));
        }
    }
    out
}

/// A required, non-empty name of at most [`MAX_NAME_CHARS`] characters.
pub(super) fn name(t: &mut Tab<'_>, key: &str, errs: &mut Errs) -> Option<String> {
    let f = t.req_str(key, errs)?;
    if f.value.trim().is_empty() {
        errs.push(f.loc.err(format!("{key} is empty; write one")));
        return None;
    }
    if f.value.chars().count() > MAX_NAME_CHARS {
        errs.push(f.loc.err(format!("{key} is longer than {MAX_NAME_CHARS} characters; shorten it")));
        return None;
    }
    Some(f.value)
}

/// A required id checked by one of the core's `parse` functions.
pub(super) fn id_field<T>(
    t: &mut Tab<'_>,
    key: &str,
    parse: fn(&str) -> Result<T, IdError>,
    errs: &mut Errs,
) -> Option<(T, Loc)> {
    let f = t.req_str(key, errs)?;
    match parse(&f.value) {
        Ok(id) => Some((id, f.loc)),
        Err(e) => {
            errs.push(f.loc.err(format!("{e}; change it")));
            None
        }
    }
}

/// An optional integer in `min..=max`.
pub(super) fn int_in(t: &mut Tab<'_>, key: &str, min: i64, max: i64, errs: &mut Errs) -> Option<i64> {
    let f = t.int(key, errs)?;
    if (min..=max).contains(&f.value) {
        Some(f.value)
    } else {
        errs.push(f.loc.err(format!("{key} is {}; use a value from {min} to {max}", f.value)));
        None
    }
}

pub(super) fn within(n: usize, max: usize, table: &str, at: &Loc, errs: &mut Errs) -> bool {
    if n > max {
        errs.push(at.err(format!("{n} [[{table}]] tables, more than the limit of {max}; remove some")));
    }
    n <= max
}

/// Remembers values already declared, to report duplicates with the first one's line.
pub(super) struct Seen {
    what: &'static str,
    first: HashMap<String, Option<usize>>,
}

impl Seen {
    pub fn new(what: &'static str) -> Self {
        Seen { what, first: HashMap::new() }
    }

    /// True if `value` is new; otherwise records an error and returns false.
    pub fn check(&mut self, value: &str, loc: &Loc, errs: &mut Errs) -> bool {
        if let Some(first) = self.first.get(value) {
            let where_ = first.map_or(String::new(), |l| format!(" (first on line {l})"));
            errs.push(loc.err(format!("duplicate {} {value:?}{where_}; make each one unique", self.what)));
            return false;
        }
        self.first.insert(value.to_string(), loc.line);
        true
    }
}
