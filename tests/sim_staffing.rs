//! The simulator with staffing rotas: a lunch break lengthens the waits over midday and
//! nothing before, a window never staffed serves no one, utilisation is over staffed time,
//! the README's lunch rota, and a bad rota refused naming file and line.

use crate::sim::{example_hall, plain_options, trace_options};

use std::path::Path;

use hallq::config;
use hallq::sim::{self, Report, Rota, SimHall, WindowUse, BIN_MS, DEFAULT_WARMUP_MS};

fn rota(text: &str) -> Rota {
    Rota::parse("rota.csv", &format!("window,from,to\n{text}")).expect("the rota parses")
}

pub(crate) fn window<'a>(r: &'a Report, id: &str) -> &'a WindowUse {
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
    // An overloaded day (the whole weekday on sixty windows); window 3 is staffed
    // 09:00-10:00 only, so it is busy all its hour.
    let hall = example_hall();
    let mut opts = trace_options(3);
    opts.sample = 1.0;
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
    // The README's whole weekday.
    opts.sample = 1.0;
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
    std::fs::write(&path, "window,from,to\n*,08:30,12:00\n# window 61 was torn down\n61,13:00,drain\n")
        .expect("writes the rota");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallq"))
        .args(["simulate", "--staffing"])
        .arg(&path)
        .output()
        .expect("hallq runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing ran: {}", String::from_utf8_lossy(&out.stdout));
    let want = format!("{}:4: example hall has no window \"61\"", path.display());
    assert!(stderr.contains(&want), "{stderr}");
}
