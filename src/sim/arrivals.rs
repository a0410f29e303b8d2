//! The visitors of each simulated day: when they take a ticket, what for, their priority
//! class, and everything random about them (service-time draw, whether they miss their
//! call), all drawn at arrival from one seeded generator.
//!
//! Drawing a visitor's fate at arrival, from a generator of its own, is what makes
//! `--compare` fair: both halls see exactly the same people, who would take exactly as
//! long at any counter (common random numbers). Whether a visitor rejoins after missing
//! the call or lacks a document (`--rejoin`, `--park`) comes from a second generator, so
//! that turning those on changes nobody's service time or arrival. How a visitor comes
//! (walk-in, booked, remote: `--appointments`, `--remote`) comes from a third, for the
//! same reason.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::input::{lognormal, unit_exp, Rate, ServiceModel, Trace};
use super::Options;

/// A visitor who missed the call comes back to the kiosk this long after the no-show at
/// the soonest, in ms: they were outside or on another floor and notice the missed number
/// on a lobby screen on return.
pub const REJOIN_AFTER_MIN_MS: i64 = 2 * 60_000;
/// ... and at the latest (drawn uniformly between); the core's `rejoin_min` still bounds it.
pub const REJOIN_AFTER_MAX_MS: i64 = 10 * 60_000;
/// Mean time a visitor sent away for a missing document is gone, in minutes: a copy
/// printed in the hall's self-service corner or a paper fetched from a car or an office
/// nearby takes about a quarter of an hour.
pub const PARK_AWAY_MEAN_MIN: f64 = 15.0;
/// Its standard deviation, in minutes (lognormal: most are back in 5 to 30 minutes).
pub const PARK_AWAY_SD_MIN: f64 = 8.0;
/// The longest a parked visitor stays away, in ms: a limit, so that a draw from the
/// lognormal's tail does not keep a window from closing all evening.
pub const PARK_AWAY_MAX_MS: i64 = 2 * 3_600_000;
/// Mixed into the seed of the generator of rejoins and parks, to make it a stream apart.
const RULES_SEED: u64 = 0x7061_726b_726a_6e21;
/// A booked visitor comes within this long either side of their slot's start, in ms,
/// uniformly: people with an appointment aim at its start, and buses and parking spread
/// them. There is no recorded data behind it; ±20 minutes makes an eighth of them later
/// than the example hall's 15-minute grace, so the late path is played every day.
pub const BOOKED_SPREAD_MS: i64 = 20 * 60_000;
/// A remote visitor takes the number in the app this long before coming in at the
/// soonest, in ms (on the way, or at a desk nearby)...
pub const REMOTE_LEAD_MIN_MS: i64 = 10 * 60_000;
/// ... and at the latest (drawn uniformly between): from home, an hour's journey away.
pub const REMOTE_LEAD_MAX_MS: i64 = 60 * 60_000;
/// Mixed into the seed of the generator of how visitors come, to make it a stream apart.
const CHANNEL_SEED: u64 = 0x6368_616e_6e65_6c73;
/// Mixed into the seed for the draws of who comes with a guide.
const GUIDE_SEED: u64 = 0x6775_6964_6573_2121;
/// The escalations' own stream (`--escalate`), for the same reason.
const ESCALATE_SEED: u64 = 0x6573_6361_6c61_7465;

/// How a visitor comes to the hall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Takes a ticket at a kiosk on arrival.
    WalkIn,
    /// Booked a slot beforehand (`--appointments`) and comes this far from its start, in
    /// ms (negative: early), to check in.
    Booked { offset_ms: i64 },
    /// Takes the number remotely this long before arriving, in ms, and checks in on
    /// arrival (`--remote`).
    Remote { lead_ms: i64 },
}

/// What Poisson visitors ask for: the hall's item codes, and its bundle ids for
/// `--bundles`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalogue {
    pub items: Vec<String>,
    pub bundles: Vec<String>,
}

/// Where arrivals come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// Poisson arrivals at a constant rate within the hall's arrival spans, each asking
    /// for an item drawn uniformly from the hall's catalogue (or, a share `--bundles` of
    /// them, for a bundle drawn uniformly from its bundles).
    Poisson(Rate),
    /// The same recorded day, every simulated day.
    Trace(Trace),
}

/// One person who comes to take a ticket.
#[derive(Clone, Debug, PartialEq)]
pub struct Visitor {
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    /// Index into `Arrivals::services`.
    pub service: usize,
    /// Index into `Arrivals::classes`.
    pub priority: Option<usize>,
    /// The service model's draw for this visitor (see `ServiceModel::draw`).
    pub draw: f64,
    /// Whether they will miss their call.
    pub no_show: bool,
    /// After missing their call, they take their number back in line this long after the
    /// no-show, in ms; 0 if they go home (`--rejoin`).
    pub rejoin_after_ms: u32,
    /// Served, they lack a document and are gone this long to fetch it, in ms; 0 if they
    /// have everything (`--park`).
    pub park_away_ms: u32,
    pub channel: Channel,
    /// Comes with a guide (`--guided`), who takes the number for them if they walk in.
    pub guided: bool,
    /// Their matter cannot be finished at the first counter and goes to the hall's
    /// escalation queue, 办不成事请找我 (`--escalate`).
    pub escalates: bool,
}

/// Makes each day's visitors, deterministically from a seed.
pub struct Arrivals {
    source: Source,
    model: ServiceModel,
    no_show_p: f64,
    sample_p: f64,
    rejoin_p: f64,
    park_p: f64,
    bundles_p: f64,
    rng: StdRng,
    /// Draws of rejoins and parks; `None` while both are off, which leaves every other
    /// draw as it was without them.
    rules_rng: Option<StdRng>,
    /// Shares of booked and remote visitors.
    booked_p: f64,
    remote_p: f64,
    /// Draws of how visitors come; `None` while both shares are 0.
    channel_rng: Option<StdRng>,
    /// Share of visitors who come with a guide, and its draws; `None` while it is 0,
    /// which leaves every other draw as it was without guides.
    guided_p: f64,
    guide_rng: Option<StdRng>,
    escalate_p: f64,
    escalate_rng: Option<StdRng>,
    /// Service codes visitors ask for: for Poisson visitors the catalogue's items, then
    /// its bundles.
    pub services: Vec<String>,
    /// How many of `services` are items (the rest are bundles).
    items: usize,
    /// Priority class ids visitors name.
    pub classes: Vec<String>,
    trace_ix: Vec<(usize, Option<usize>)>,
}

impl Arrivals {
    /// The visitors of `opts` (its source, service model, probabilities and seed);
    /// `catalogue` lists what Poisson visitors choose from.
    pub fn new(opts: &Options, catalogue: &Catalogue) -> Arrivals {
        let source = opts.source.clone();
        let mut services: Vec<String> = catalogue.items.clone();
        services.extend(catalogue.bundles.iter().cloned());
        let mut items = catalogue.items.len();
        let mut classes: Vec<String> = Vec::new();
        let mut trace_ix = Vec::new();
        if let Source::Trace(trace) = &source {
            services.clear();
            for row in &trace.rows {
                let s = index_of(&mut services, &row.service);
                let p = row.priority.as_ref().map(|p| index_of(&mut classes, p));
                trace_ix.push((s, p));
            }
            items = services.len();
        }
        let rules_on = opts.rejoin > 0.0 || opts.park > 0.0;
        let channels_on = opts.appointments > 0.0 || opts.remote > 0.0;
        Arrivals {
            source,
            model: opts.service,
            no_show_p: opts.no_show,
            sample_p: opts.sample,
            rejoin_p: opts.rejoin,
            park_p: opts.park,
            bundles_p: if catalogue.bundles.is_empty() { 0.0 } else { opts.bundles },
            rng: StdRng::seed_from_u64(opts.seed),
            rules_rng: rules_on.then(|| StdRng::seed_from_u64(opts.seed ^ RULES_SEED)),
            booked_p: opts.appointments,
            remote_p: opts.remote,
            channel_rng: channels_on.then(|| StdRng::seed_from_u64(opts.seed ^ CHANNEL_SEED)),
            guided_p: opts.guided,
            guide_rng: (opts.guided > 0.0).then(|| StdRng::seed_from_u64(opts.seed ^ GUIDE_SEED)),
            escalate_p: opts.escalate,
            escalate_rng: (opts.escalate > 0.0).then(|| StdRng::seed_from_u64(opts.seed ^ ESCALATE_SEED)),
            services,
            items,
            classes,
            trace_ix,
        }
    }

    /// The visitors of the day that starts (local midnight) at `day_start_ms`, arriving
    /// within `spans` (ms after midnight), in time order.
    pub fn day(&mut self, day_start_ms: i64, spans: &[(i64, i64)]) -> Vec<Visitor> {
        let times: Vec<(i64, usize, Option<usize>)> = match &self.source {
            Source::Poisson(rate) => {
                let per_ms = rate.per_hour / 3_600_000.0;
                let (n, bundles) = (self.items.max(1), self.services.len() - self.items);
                let mut out = Vec::new();
                for &(from, to) in spans {
                    let mut t = from as f64;
                    loop {
                        t += unit_exp(&mut self.rng) / per_ms;
                        if t >= to as f64 {
                            break;
                        }
                        // Without --bundles no draw is added, so the visitors stay as they were.
                        let service = if self.bundles_p > 0.0 && self.rng.gen::<f64>() < self.bundles_p {
                            self.items + self.rng.gen_range(0..bundles)
                        } else {
                            self.rng.gen_range(0..n)
                        };
                        out.push((t.round() as i64, service, None));
                    }
                }
                out
            }
            Source::Trace(trace) => trace.rows.iter().zip(&self.trace_ix).map(|(r, &(s, p))| (r.at_ms, s, p)).collect(),
        };
        let mut out = Vec::with_capacity(times.len());
        for (t, service, priority) in times {
            // Every draw is made for every arrival, kept or not, so that the stream of
            // visitors does not depend on which were thinned out.
            let keep = self.rng.gen::<f64>() < self.sample_p;
            let draw = self.model.draw(&mut self.rng);
            let no_show = self.rng.gen::<f64>() < self.no_show_p;
            let (rejoin_after_ms, park_away_ms) = self.rules();
            let channel = self.channel();
            let guided = self.guide_rng.as_mut().is_some_and(|rng| rng.gen::<f64>() < self.guided_p);
            let escalates = self.escalate_rng.as_mut().is_some_and(|rng| rng.gen::<f64>() < self.escalate_p);
            if keep {
                out.push(Visitor {
                    at_ms: day_start_ms + t,
                    service,
                    priority,
                    draw,
                    no_show,
                    rejoin_after_ms,
                    park_away_ms,
                    channel,
                    guided,
                    escalates,
                });
            }
        }
        out
    }
}

impl Arrivals {
    /// One visitor's rejoin delay and time away to fetch a document (0 for none), the
    /// same four draws for every visitor whatever the probabilities.
    fn rules(&mut self) -> (u32, u32) {
        let Some(rng) = self.rules_rng.as_mut() else { return (0, 0) };
        let rejoins = rng.gen::<f64>() < self.rejoin_p;
        let after_ms = rng.gen_range(REJOIN_AFTER_MIN_MS..=REJOIN_AFTER_MAX_MS);
        let parks = rng.gen::<f64>() < self.park_p;
        let away_ms = (lognormal(rng, PARK_AWAY_MEAN_MIN, PARK_AWAY_SD_MIN) * 60_000.0).round() as i64;
        let ms = |on: bool, ms: i64| if on { u32::try_from(ms.clamp(1, PARK_AWAY_MAX_MS)).unwrap_or(1) } else { 0 };
        (ms(rejoins, after_ms), ms(parks, away_ms))
    }
}

impl Arrivals {
    /// How one visitor comes, the same three draws for every visitor whatever the shares.
    fn channel(&mut self) -> Channel {
        let Some(rng) = self.channel_rng.as_mut() else { return Channel::WalkIn };
        let u = rng.gen::<f64>();
        let offset_ms = rng.gen_range(-BOOKED_SPREAD_MS..=BOOKED_SPREAD_MS);
        let lead_ms = rng.gen_range(REMOTE_LEAD_MIN_MS..=REMOTE_LEAD_MAX_MS);
        if u < self.booked_p {
            Channel::Booked { offset_ms }
        } else if u < self.booked_p + self.remote_p {
            Channel::Remote { lead_ms }
        } else {
            Channel::WalkIn
        }
    }
}

fn index_of(list: &mut Vec<String>, s: &str) -> usize {
    match list.iter().position(|x| x == s) {
        Some(i) => i,
        None => {
            list.push(s.to_string());
            list.len() - 1
        }
    }
}
