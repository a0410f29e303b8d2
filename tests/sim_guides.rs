//! 全程领办 in the simulator: with `--guided` a share of walk-in visitors come with one of
//! `--guides` guides, who takes the number for them and escorts them within the hall's
//! bound; the report carries the core's figures per guide, summed; without it the day's
//! visitors and the report are those of a run without guides.

use crate::sim::{example_hall, trace_options};

use hallq::sim::{self, Options, Rate, Source};

fn options(guided: f64, guides: u32) -> Options {
    Options { source: Source::Poisson(Rate { per_hour: 108.0 }), sample: 1.0, guided, guides, ..trace_options(3) }
}

#[test]
fn guided_visitors_are_issued_by_guides_and_escorted_within_the_bound() {
    let hall = example_hall();
    let plain = sim::simulate(&hall, &options(0.0, 0)).expect("runs");
    assert!(plain.guides.is_empty());
    let json = serde_json::to_value(&plain).expect("serialises");
    assert!(json.get("guides").is_none(), "no guides, no key: the report is as before");

    let guided = sim::simulate(&hall, &options(0.3, 2)).expect("runs");
    assert_eq!(guided.tickets.arrivals, plain.tickets.arrivals, "the same visitors come");
    let g = &guided.guides;
    let share = g.assisted as f64 / guided.tickets.issued as f64;
    assert!(
        (0.2..0.4).contains(&share),
        "about 30% of the numbers taken by guides: {g:?} of {}",
        guided.tickets.issued
    );
    // Two guides escort at most three each at once: the rest are assisted only.
    assert!(g.escorted > 0 && g.escorted < g.assisted, "{g:?}");
    assert!(g.escorted_waits > 0 && g.escorted_wait_mean_min >= 0.0, "{g:?}");
    assert!(guided.table().contains("guided: assisted / escorted"), "{}", guided.table());

    let more = sim::simulate(&hall, &options(0.3, 20)).expect("runs");
    assert!(more.guides.escorted > g.escorted, "more guides escort more: {:?} vs {g:?}", more.guides);
    let refused = sim::simulate(&hall, &options(0.3, 0)).expect_err("guided needs guides");
    assert!(refused.to_string().contains("--guides"), "{refused}");
}
