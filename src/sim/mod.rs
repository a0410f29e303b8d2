//! `hallq simulate`: a seeded discrete-event simulation of a hall that drives the real
//! core (`HallState::step`) with visitors and clerks, and reports waits, window use and
//! the error of the expected waits the core told.
//!
//! The simulated people also play the hall's rules around a call: clerks recall a missed
//! number up to the hall's `recall_max`, some visitors rejoin after missing it
//! (`--rejoin`), some lack a document and are parked (`--park`), and bundle tickets go
//! from counter to counter step by step; the report counts calls by the rule that chose
//! them. Visitors may also have booked a slot (`--appointments`, checked in on arrival)
//! or taken their number remotely (`--remote`, checked in on arrival), and some come with
//! a guide who takes the number for them and escorts them (`--guided`, `--guides`).
//!
//! Nothing here decides which ticket is called: that is the core's dispatch. The
//! simulator plays the people around it (`run`), draws them from a seeded generator
//! (`arrivals`), staffs the windows by a rota (`staffing`), reads the log the core writes
//! (`collect`) and reports (`report`, `svg`).
//! The same seed gives the same report, byte for byte. Used by `main` and tests/sim.rs.

mod arrivals;
// Issue 17 §2: moved out of collect.rs to make room for the escalations' waits.
mod call_rules;
mod collect;
mod guides;
mod hall;
mod input;
mod report;
mod run;
mod staffing;
mod svg;

pub use arrivals::{
    Arrivals, Catalogue, Channel, Source, Visitor, BOOKED_SPREAD_MS, PARK_AWAY_MAX_MS, PARK_AWAY_MEAN_MIN,
    PARK_AWAY_SD_MIN, REJOIN_AFTER_MAX_MS, REJOIN_AFTER_MIN_MS, REMOTE_LEAD_MAX_MS, REMOTE_LEAD_MIN_MS,
};
pub use collect::BIN_MS;
pub use guides::{GuidesReport, GUIDES_MAX};
pub use hall::{DayPlan, SimHall, ALWAYS_OPEN_ARRIVALS_END, DEFAULT_WARMUP_MS, HOUR_MS, PLAIN_WINDOWS_MAX};
pub use input::{InputError, Rate, ServiceModel, Trace, TraceRow};
pub use report::{side_by_side, Channels, EtaError, Report, RuleCalls, Tickets, WaitStats, WindowUse};
pub use run::{NO_SHOW_AFTER_RECALL_MS, PARK_FOUND_AFTER_MS, RECALL_AFTER_MS};
pub use staffing::{default_shifts, Rota, Shift, ShiftEnd, ROTA_LINES_MAX};
pub use svg::chart;

use crate::core::event::Record;

/// The most simulated days in one run (ten years): a limit so that a typo cannot run for
/// hours.
pub const DAYS_MAX: u32 = 3_660;

/// Why a simulation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Input(String),
    /// The core refused a clerk's command the simulator believed legal: a bug in the
    /// simulator or the core, reported rather than papered over.
    #[error("the core refused the simulated clerk's {command}: {reason}")]
    Refused { command: String, reason: String },
}

/// How to run a simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub source: Source,
    pub service: ServiceModel,
    pub days: u32,
    pub seed: u64,
    /// Probability that a called visitor does not come.
    pub no_show: f64,
    /// Probability that a visitor marked no-show takes the number back in line.
    pub rejoin: f64,
    /// Probability that a served visitor lacks a document and is parked to fetch it.
    pub park: f64,
    /// Share of Poisson visitors who ask for a bundle rather than one item.
    pub bundles: f64,
    /// Share of visitors who booked a slot beforehand and check in on arrival.
    pub appointments: f64,
    /// Share of visitors who take their number remotely before coming and check in on
    /// arrival.
    pub remote: f64,
    /// Share of walk-in visitors who come with a guide (全程领办), and the guides on duty.
    pub guided: f64,
    pub guides: u32,
    /// Share of visitors whose matter the first clerk cannot finish (办不成事): it goes to
    /// the hall's escalation queue with a reason, and its window serves it again.
    pub escalate: f64,
    /// A visitor not called after this many minutes leaves.
    pub abandon_after_min: Option<u32>,
    /// Service level: a wait up to this many minutes is within it.
    pub sla_min: u32,
    /// Each arrival is kept with this probability (1 keeps all).
    pub sample: f64,
    /// When clerks are at which windows; `None` staffs every window from the hall's
    /// opening until its line is empty after closing.
    pub staffing: Option<Rota>,
}

impl Options {
    /// Refuses options outside their ranges.
    pub fn check(&self) -> Result<(), SimError> {
        let bad = |m: &str| Err(SimError::Input(m.to_string()));
        if !(1..=DAYS_MAX).contains(&self.days) {
            return bad(&format!("days must be 1 to {DAYS_MAX}"));
        }
        for (name, p) in [("--no-show", self.no_show), ("--rejoin", self.rejoin), ("--park", self.park)] {
            if !(0.0..=1.0).contains(&p) {
                return bad(&format!("{name} is a probability from 0 to 1; got {p}"));
            }
        }
        for (name, share) in [
            ("--bundles", self.bundles),
            ("--appointments", self.appointments),
            ("--remote", self.remote),
            ("--guided", self.guided),
            ("--escalate", self.escalate),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return bad(&format!("{name} is a share from 0 to 1; got {share}"));
            }
        }
        if self.appointments + self.remote > 1.0 {
            return bad("--appointments and --remote are shares of the same visitors; together they are at most 1");
        }
        if self.bundles > 0.0 && matches!(self.source, Source::Trace(_)) {
            return bad("--bundles mixes bundles into Poisson arrivals; a trace names each visitor's service itself");
        }
        if self.guided > 0.0 && !(1..=GUIDES_MAX).contains(&self.guides) {
            return bad(&format!("--guided needs guides on duty: --guides from 1 to {GUIDES_MAX}"));
        }
        if !(self.sample > 0.0 && self.sample <= 1.0) {
            return bad("--sample is a probability above 0 and at most 1");
        }
        Ok(())
    }
}

/// The item codes and bundle ids of `hall`'s catalogue, which Poisson visitors choose from:
/// not the appointment queue's own items, which only a booking's check-in may take.
pub fn catalogue(hall: &SimHall) -> Catalogue {
    let booked_only = hall.setup.appointments.as_ref().map(|p| p.queue);
    Catalogue {
        items: hall
            .setup
            .items
            .iter()
            .filter(|i| Some(i.queue) != booked_only)
            .map(|i| i.code.as_str().to_string())
            .collect(),
        bundles: hall.setup.bundles.iter().map(|b| b.id.as_str().to_string()).collect(),
    }
}

/// Runs one hall.
pub fn simulate(hall: &SimHall, opts: &Options) -> Result<Report, SimError> {
    simulate_with(hall, opts, &catalogue(hall))
}

/// Runs one hall with Poisson visitors choosing from `catalogue`; `compare` runs both
/// halls with the first one's, so that they see the same visitors.
pub fn simulate_with(hall: &SimHall, opts: &Options, catalogue: &Catalogue) -> Result<Report, SimError> {
    Ok(run_hall(hall, opts, catalogue, false)?.0)
}

/// Runs one hall and keeps every record the core logged, with its log position: the
/// hall's whole log, as its daemon would have written it (`hallq bench --district`
/// publishes it).
pub fn simulate_logged(hall: &SimHall, opts: &Options) -> Result<(Report, Vec<(u64, Record)>), SimError> {
    run_hall(hall, opts, &catalogue(hall), true)
}

fn run_hall(
    hall: &SimHall,
    opts: &Options,
    catalogue: &Catalogue,
    keep_log: bool,
) -> Result<(Report, Vec<(u64, Record)>), SimError> {
    opts.check()?;
    if opts.bundles > 0.0 && catalogue.bundles.is_empty() {
        return Err(SimError::Input(format!("--bundles: {} has no bundles to ask for", hall.name)));
    }
    takes_bookings(hall, opts)?;
    let shifts = shifts(hall, opts)?;
    let mut arrivals = Arrivals::new(opts, catalogue);
    run::simulate(hall, opts, shifts, &mut arrivals, keep_log)
}

/// Runs two halls on the same visitors and seed; a rota must fit both before either runs.
pub fn compare(a: &SimHall, b: &SimHall, opts: &Options) -> Result<(Report, Report), SimError> {
    shifts(b, opts)?;
    takes_bookings(b, opts)?;
    let cat = catalogue(a);
    Ok((simulate_with(a, opts, &cat)?, simulate_with(b, opts, &cat)?))
}

/// Refuses `--appointments` for a hall that takes no bookings.
fn takes_bookings(hall: &SimHall, opts: &Options) -> Result<(), SimError> {
    if opts.appointments > 0.0 && hall.setup.appointments.is_none() {
        let m = format!("--appointments: \"{}\" takes no appointments; give it a [hall.appointments] table", hall.name);
        return Err(SimError::Input(m));
    }
    Ok(())
}

/// The shifts of each of `hall`'s windows under `opts`' rota, or the default.
fn shifts(hall: &SimHall, opts: &Options) -> Result<Vec<Vec<Shift>>, SimError> {
    match &opts.staffing {
        Some(rota) => rota.resolve(hall).map_err(|e| SimError::Input(e.to_string())),
        None => Ok(default_shifts(hall)),
    }
}
