//! The simulator against queueing theory (Erlang C), against itself (same seed, same
//! report), on a recorded weekday through the example hall, and with staffing rotas.
//!
//! Run with `cargo test --release --test sim`: the Erlang C cases simulate millions of
//! tickets through the real core, which takes a few seconds optimised and minutes not.

use std::path::Path;

use hallq::config;
use hallq::sim::{
    self, Options, Rate, Report, Rota, ServiceModel, SimHall, Source, Trace, WindowUse, BIN_MS, DEFAULT_WARMUP_MS,
};

/// Erlang C: the probability that an arrival waits, with `c` windows and offered load
/// `a` = λ/μ (in windows).
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let last = term * f64::from(c) / (f64::from(c) - a);
    last / (sum + last)
}

/// Mean wait in minutes of M/M/c: C / (cμ − λ).
fn erlang_wq_min(c: u32, per_hour: f64, service_min: f64) -> f64 {
    let mu = 60.0 / service_min;
    erlang_c(c, per_hour / mu) / (f64::from(c) * mu - per_hour) * 60.0
}

fn plain_options(per_hour: f64, service_min: f64, days: u32, seed: u64) -> Options {
    Options {
        source: Source::Poisson(Rate { per_hour }),
        service: ServiceModel::Exp { mean_min: service_min },
        days,
        seed,
        no_show: 0.0,
        abandon_after_min: None,
        sla_min: 15,
        sample: 1.0,
        staffing: None,
    }
}

/// Simulates the plain hall and checks its mean wait against Erlang C within 3%.
fn check_erlang(c: u32, per_hour: f64, service_min: f64, days: u32) {
    let base = config::embedded_default().expect("the example hall loads");
    let hall = SimHall::plain(base, c as usize, service_min, DEFAULT_WARMUP_MS).expect("a plain hall");
    let seed = 1;
    let report = sim::simulate(&hall, &plain_options(per_hour, service_min, days, seed)).expect("simulation runs");
    let theory = erlang_wq_min(c, per_hour, service_min);
    let simulated = report.wait.mean_min;
    let rel = (simulated - theory) / theory;
    println!(
        "c={c} λ={per_hour}/h service={service_min} min ρ={:.2}: simulated {simulated:.4} min over {} tickets, \
         Erlang C {theory:.4} min, {:+.2}%, utilisation {:.3}",
        per_hour * service_min / 60.0 / f64::from(c),
        report.wait.tickets,
        rel * 100.0,
        report.utilisation()
    );
    assert_eq!(report.tickets.rejected.len(), 0, "nothing refused");
    assert!(rel.abs() < 0.03, "seed {seed}: mean wait {simulated} min vs Erlang C {theory} min ({:+.2}%)", rel * 100.0);
}

#[test]
fn erlang_c_formula_matches_known_values() {
    // M/M/1: P(wait) = ρ.
    assert!((erlang_c(1, 0.5) - 0.5).abs() < 1e-12);
    assert!((erlang_wq_min(1, 3.0, 10.0) - 10.0).abs() < 1e-9);
}

#[test]
fn twenty_windows_at_load_0_9_match_erlang_c() {
    check_erlang(20, 108.0, 10.0, 960);
}

#[test]
fn ten_windows_at_load_0_8_match_erlang_c() {
    check_erlang(10, 48.0, 10.0, 960);
}

#[test]
fn five_windows_at_load_0_7_match_erlang_c() {
    check_erlang(5, 21.0, 10.0, 1920);
}

#[test]
fn one_window_at_load_0_5_matches_erlang_c() {
    check_erlang(1, 15.0, 2.0, 480);
}

fn example_hall() -> SimHall {
    let cfg = config::embedded_default().expect("the example hall loads");
    SimHall::from_config("example", cfg, 20_000, DEFAULT_WARMUP_MS)
}

fn weekday() -> Trace {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/arrivals-weekday.csv");
    let text = std::fs::read_to_string(&path).expect("the weekday trace is in tests/data");
    Trace::parse("arrivals-weekday.csv", &text).expect("the weekday trace parses")
}

fn trace_options(seed: u64) -> Options {
    Options {
        source: Source::Trace(weekday()),
        service: ServiceModel::Items,
        days: 1,
        seed,
        no_show: 0.05,
        abandon_after_min: Some(90),
        sla_min: 15,
        sample: 0.25,
        staffing: None,
    }
}

#[test]
fn same_seed_gives_the_same_report() {
    let hall = example_hall();
    let a = sim::simulate(&hall, &trace_options(7)).expect("runs");
    let b = sim::simulate(&hall, &trace_options(7)).expect("runs");
    let c = sim::simulate(&hall, &trace_options(8)).expect("runs");
    assert_eq!(a, b);
    assert_eq!(serde_json::to_string(&a).ok(), serde_json::to_string(&b).ok());
    assert_ne!(a, c, "another seed gives other visitors");
    let plain = SimHall::plain(config::embedded_default().expect("loads"), 3, 10.0, DEFAULT_WARMUP_MS).expect("plain");
    let p = |s| sim::simulate(&plain, &plain_options(15.0, 10.0, 3, s)).expect("runs");
    assert_eq!(p(3), p(3));
}

#[test]
fn a_weekday_trace_runs_through_the_example_hall_and_every_arrival_is_accounted_for() {
    let hall = example_hall();
    let mut opts = trace_options(1);
    opts.sample = 1.0;
    let r = sim::simulate(&hall, &opts).expect("runs");
    let t = &r.tickets;
    assert_eq!(t.arrivals, weekday().rows.len() as u64);
    let rejected: u64 = t.rejected.values().sum();
    assert_eq!(t.arrivals, t.issued + rejected, "every arrival gets a ticket or is counted as refused: {t:?}");
    // The example hall's catalogue has 90 of the 629 items: the rest are refused by code.
    assert!(t.rejected.keys().all(|k| k == "unknown_service"), "{:?}", t.rejected);
    assert_eq!(t.issued, t.served + t.no_show + t.abandoned + t.expired, "every ticket ends somehow: {t:?}");
    assert!(t.served > 0 && r.wait.tickets > 0);
    let svg = sim::chart(&[&r]);
    assert!(svg.starts_with("<svg") && svg.contains("<polyline") && svg.trim_end().ends_with("</svg>"));
}

fn rota(text: &str) -> Rota {
    Rota::parse("rota.csv", &format!("window,from,to\n{text}")).expect("the rota parses")
}

fn window<'a>(r: &'a Report, id: &str) -> &'a WindowUse {
    r.windows.iter().find(|w| w.window == id).expect("the window is in the report")
}

#[test]
fn half_the_windows_at_lunch_lengthen_the_waits_over_midday_and_nothing_before() {
    // Ten windows at load 0.8, open always; windows 1-5 break 12:00-13:00 every day.
    let base = config::embedded_default().expect("the example hall loads");
    let hall = SimHall::plain(base, 10, 10.0, DEFAULT_WARMUP_MS).expect("a plain hall");
    let all_day = plain_options(48.0, 10.0, 40, 5);
    let mut lunch = all_day.clone();
    lunch.staffing = Some(rota("1 2 3 4 5,00:00,12:00\n1 2 3 4 5,13:00,drain\n*,00:00,drain\n"));
    let (a, b) = (sim::simulate(&hall, &all_day).expect("runs"), sim::simulate(&hall, &lunch).expect("runs"));
    let noon = (12 * sim::HOUR_MS / BIN_MS) as usize;
    let one = (13 * sim::HOUR_MS / BIN_MS) as usize;
    let midday = |r: &Report| r.waiting_by_5min[noon..one].iter().sum::<f64>() / (one - noon) as f64;
    println!("waiting 12-13: all day {:.2}, lunch rota {:.2}", midday(&a), midday(&b));
    assert_eq!(a.waiting_by_5min[..noon], b.waiting_by_5min[..noon], "the same visitors, served alike until noon");
    assert!(midday(&b) > 3.0 * midday(&a), "half the windows away: {} vs {}", midday(&b), midday(&a));
    assert!(b.wait.mean_min > a.wait.mean_min);
    // An hour a day less, but for the visitor at the counter at noon, whom the clerk finishes.
    let less_h = window(&a, "1").staffed_h - window(&b, "1").staffed_h;
    assert!((30.0..=40.0).contains(&less_h), "{less_h} h less over 40 days");
    assert_eq!(a.tickets.issued, b.tickets.issued);
}

#[test]
fn a_window_never_staffed_serves_no_one() {
    let hall = example_hall();
    let mut opts = trace_options(2);
    opts.staffing = Some(rota("1 2 3 4 5 6 7 8 9 10 11,08:30,drain\n"));
    let r = sim::simulate(&hall, &opts).expect("runs");
    let w12 = window(&r, "12");
    assert_eq!((w12.served, w12.no_show, w12.busy_h, w12.staffed_h, w12.utilisation), (0, 0, 0.0, 0.0, 0.0));
    assert!(window(&r, "11").served > 0);
    let t = &r.tickets;
    assert_eq!(t.issued, t.served + t.no_show + t.abandoned + t.expired, "every ticket ends somehow: {t:?}");
    assert!(r.table().contains("never staffed"), "{}", r.table());
}

#[test]
fn utilisation_is_measured_over_staffed_time() {
    // An overloaded day; window 3 is staffed 09:00-10:00 only, so it is busy all its hour.
    let hall = example_hall();
    let mut opts = trace_options(3);
    opts.sample = 0.3;
    opts.staffing = Some(rota("3,09:00,10:00\n*,08:30,drain\n"));
    let r = sim::simulate(&hall, &opts).expect("runs");
    let w3 = window(&r, "3");
    println!("window 3: {w3:?}");
    // The clerk finishes the visitor at the counter at 10:00 before leaving.
    assert!((1.0..1.0 + 1.5).contains(&w3.staffed_h), "staffed {} h", w3.staffed_h);
    assert!(w3.busy_h <= w3.staffed_h && w3.served > 0);
    assert!((w3.utilisation - w3.busy_h / w3.staffed_h).abs() < 1e-12);
    assert!(w3.utilisation > 0.8, "busy all its hour, not a ninth of the day: {}", w3.utilisation);
    assert!(window(&r, "4").staffed_h > 8.0);
}

#[test]
fn the_lunch_rota_of_the_readme_costs_waits_and_saves_staffed_hours_and_is_deterministic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/staffing-lunch.csv");
    let text = std::fs::read_to_string(&path).expect("the lunch rota is in tests/data");
    let hall = example_hall();
    let mut opts = trace_options(1);
    opts.sample = 0.2;
    let all_day = sim::simulate(&hall, &opts).expect("runs");
    opts.staffing = Some(Rota::parse("staffing-lunch.csv", &text).expect("the lunch rota parses"));
    let lunch = sim::simulate(&hall, &opts).expect("runs");
    assert_eq!(lunch, sim::simulate(&hall, &opts).expect("runs"), "same seed, same report");
    assert!(lunch.wait.mean_min > all_day.wait.mean_min);
    assert!(lunch.staffed_h() < all_day.staffed_h() - 10.0);
    assert!(lunch.utilisation() > all_day.utilisation());
    assert!(window(&lunch, "12").staffed_h <= 3.5 + 1.5);
}

#[test]
fn a_bad_rota_is_refused_naming_file_and_line_and_nothing_runs() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("rota.csv");
    std::fs::write(&path, "window,from,to\n*,08:30,12:00\n# window 13 was torn down\n13,13:00,drain\n")
        .expect("writes the rota");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallq"))
        .args(["simulate", "--staffing"])
        .arg(&path)
        .output()
        .expect("hallq runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing ran: {}", String::from_utf8_lossy(&out.stdout));
    let want = format!("{}:4: example hall has no window \"13\"", path.display());
    assert!(stderr.contains(&want), "{stderr}");
}
