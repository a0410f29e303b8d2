//! `hallq bench --district` as a user runs it, small: three simulated halls for two
//! seconds through a real `nats-server -js` into the real district binary, its JSON read
//! back. It checks that every record published reached the district (every one
//! acknowledged after the view applied it, and each hall's day figures in the district
//! equal the core's for the records that hall published), so that the benchmark cannot
//! rot; never how fast anything was
//! (the figures live in BENCHMARKS.md).

use std::process::Command;

use serde_json::Value;

use crate::support::nats::Nats;

fn number(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} is not a count in {v:#}"))
}

#[test]
fn the_district_benchmark_gets_every_record_of_three_halls_into_the_view() {
    let Some(nats) = Nats::start_or_skip("the_district_benchmark_gets_every_record_of_three_halls_into_the_view")
    else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_hallq"))
        .args(["bench", "--district", "--halls", "3", "--duration", "2", "--drain", "30", "--json", "--nats"])
        .arg(nats.url())
        .output()
        .expect("the hallq binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let run = &report["runs"][0];
    assert_eq!(number(run, "halls"), 3, "{run:#}");
    assert_eq!(number(run, "publish_errors"), 0, "{run:#}");
    assert!(number(run, "records_prefix") > 0, "the clerks' sign-ins come before the first ticket: {run:#}");
    let records = number(run, "records");
    assert!(records > 0, "nothing was published in two seconds: {run:#}");
    assert_eq!(number(run, "records_acked"), records, "a record did not reach the view: {run:#}");
    assert_eq!(number(&run["lag"], "count"), records, "one lag per record: {run:#}");
    let tickets = number(run, "tickets_published");
    assert!(tickets > 0, "{run:#}");
    assert_eq!(number(run, "tickets_in_district"), tickets, "the district's figures miss tickets: {run:#}");
    // Every count of the day (called, served, no-shows, ...), not only the tickets: the same
    // as the core gives for the records published.
    assert_eq!(number(run, "halls_mismatched"), 0, "{run:#}");
    assert!(number(&run["district"], "rss_peak_kib") > 0, "{run:#}");
}
