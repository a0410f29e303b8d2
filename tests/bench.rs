//! `hallq bench` as a user runs it: the real binary with small numbers, its JSON read back.
//! It checks that the figures, the baseline beside them, the ratios and the reconnect storm
//! are all there and that every display got every call; never how fast anything was
//! (performance goals live in BENCHMARKS.md, not in tests).

use std::process::Command;

use serde_json::Value;

fn hallq(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hallq")).args(args).output().expect("the hallq binary runs")
}

fn number(v: &Value, path: &str) -> f64 {
    let mut at = v;
    for key in path.split('.') {
        at = &at[key];
    }
    at.as_f64().unwrap_or_else(|| panic!("{path} is not a number in {v:#}"))
}

/// The figures of one phase: things were issued and called, and every display got every call.
fn check_phase(report: &Value, who: &str, displays: f64) {
    let p = &report[who];
    let n = |path: &str| number(p, path);
    assert!(n("issuance.tickets") > 0.0, "{who} issued nothing: {p:#}");
    assert!(n("issuance.per_sec") > 0.0, "{p:#}");
    assert_eq!(n("issuance.latency.count"), n("issuance.tickets"), "one latency per ticket: {p:#}");
    assert_eq!(n("issuance.errors"), 0.0, "{p:#}");
    assert!(n("issuance.latency.p50_ms") <= n("issuance.latency.p99_ms"), "{p:#}");
    assert!(n("issuance.latency.p99_ms") <= n("issuance.latency.max_ms"), "{p:#}");
    let calls = n("callout.calls");
    assert!(calls > 0.0, "{who} made no call: {p:#}");
    assert_eq!(n("callout.errors"), 0.0, "{p:#}");
    assert_eq!(n("callout.displays"), displays, "{p:#}");
    assert_eq!(n("callout.displays_complete"), displays, "a display missed a call: {p:#}");
    assert_eq!(n("callout.complete_share"), 1.0, "{p:#}");
    assert_eq!(n("callout.latency.count"), calls * displays, "one latency per call and display: {p:#}");
    assert!(n("callout.latency.max_ms") > 0.0, "{p:#}");
    assert!(n("resources.rss_start_kib") > 0.0, "{p:#}");
    assert!(n("resources.rss_peak_kib") >= n("resources.rss_end_kib"), "{p:#}");
    assert!(p["resources"]["rss_per_display_kib"].is_number(), "{p:#}");
}

#[test]
fn a_small_bench_reports_hallq_the_baseline_their_ratios_and_the_storm() {
    let out = hallq(&[
        "bench",
        "--kiosks",
        "4",
        "--displays",
        "6",
        "--clerks",
        "2",
        "--calls-per-sec",
        "4",
        "--duration",
        "2",
        "--reconnect-storm",
        "10",
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "hallq bench failed:\n{stderr}\n{stdout}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
    assert_eq!(report["options"]["kiosks"], 4, "{report:#}");
    check_phase(&report, "hallq", 6.0);
    check_phase(&report, "baseline", 6.0);
    for ratio in ["issuance_per_sec", "issuance_p99", "callout_p99", "cpu"] {
        let r = &report["ratios"][ratio];
        assert!(r.as_f64().is_some_and(|r| r > 0.0), "ratio {ratio} missing: {:#}", report["ratios"]);
    }
    // With ten displays the memory they add is within the daemon's own noise (a freed
    // allocation may even make it negative): only its presence is checked here.
    let per_display = &report["ratios"]["rss_per_display"];
    assert!(per_display.as_f64().is_some_and(f64::is_finite), "ratio rss_per_display missing: {:#}", report["ratios"]);
    let storm = &report["reconnect_storm"];
    assert_eq!(storm["restarted"], true, "{storm:#}");
    assert_eq!(storm["served"], 10, "every display of the storm is served: {storm:#}");
    assert!(storm["first_failure"].is_null(), "{storm:#}");
    // Half came fresh (a snapshot each); half resumed from before the restart and got the
    // ticket issued since, or a snapshot.
    let (snapshots, replays) = (number(storm, "snapshots"), number(storm, "replays"));
    assert_eq!(snapshots + replays, 10.0, "{storm:#}");
    assert!(snapshots >= 5.0, "{storm:#}");
}

#[test]
fn the_table_has_a_hallq_a_baseline_and_a_ratio_column() {
    // With the display clients at the lowest priority (`--displays-nice`).
    let out = hallq(&[
        "bench",
        "--kiosks",
        "2",
        "--displays",
        "2",
        "--clerks",
        "1",
        "--duration",
        "1",
        "--displays-nice",
        "19",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "hallq bench failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let header = stdout.lines().find(|l| l.contains("hallq") && l.contains("baseline")).unwrap_or_default();
    assert!(header.contains("ratio"), "no table header:\n{stdout}");
    for row in ["issuance: tickets/s", "call-out: p99 ms", "RSS per display KiB", "CPU % of one core"] {
        assert!(stdout.contains(row), "no row {row:?}:\n{stdout}");
    }
}

#[test]
fn bad_options_are_refused_with_what_to_do() {
    for (args, names) in [
        (&["bench", "--clerks", "0"][..], "--clerks"),
        (&["bench", "--clerks", "12"][..], "--clerks"),
        (&["bench", "--duration", "0"][..], "--duration"),
        (&["bench", "--calls-per-sec", "0"][..], "--calls-per-sec"),
        (&["bench", "--displays", "100000"][..], "--displays"),
        (&["bench", "--target", "ftp://example"][..], "--target"),
        (&["bench", "--displays-nice", "20"][..], "--displays-nice"),
    ] {
        let out = hallq(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(names), "{args:?}: the error does not name {names}: {stderr}");
    }
}
