//! The curve of `--svg`: against the hall count (log scale), the district view's lag p50
//! and p99 on the left and the district's peak memory on the right, each with its target
//! drawn in; plain SVG text like the simulator's chart (`sim::svg`).

use std::fmt::Write;

use super::report::Median;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 380.0;
const PANEL: f64 = 450.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 50.0;
/// The targets of issue 18 at 1,000 halls: lag p99 under 1 s, memory under 512 MiB.
const LAG_TARGET_MS: f64 = 1_000.0;
const RSS_TARGET_MIB: f64 = 512.0;

struct Line<'a> {
    label: &'a str,
    colour: &'a str,
    points: Vec<(usize, f64)>,
}

/// The two panels, from the medians of each hall count.
pub fn curve(medians: &[Median]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let lag = [
        Line { label: "p50", colour: "#1f6feb", points: medians.iter().map(|m| (m.halls, m.lag_p50_ms)).collect() },
        Line { label: "p99", colour: "#d1242f", points: medians.iter().map(|m| (m.halls, m.lag_p99_ms)).collect() },
    ];
    panel(&mut s, 0.0, "District view lag (ms)", &lag, LAG_TARGET_MS, medians);
    let rss = [Line {
        label: "peak RSS",
        colour: "#1a7f37",
        points: medians.iter().map(|m| (m.halls, m.rss_peak_mib)).collect(),
    }];
    panel(&mut s, PANEL, "District memory (MiB)", &rss, RSS_TARGET_MIB, medians);
    s.push_str("</svg>\n");
    s
}

fn panel(s: &mut String, x0: f64, title: &str, lines: &[Line], target: f64, medians: &[Median]) {
    let peak = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(target, f64::max);
    let y_max = nice_ceiling(peak * 1.1);
    let (n_min, n_max) = medians.iter().fold((usize::MAX, 1), |(a, b), m| (a.min(m.halls), b.max(m.halls)));
    let (lo, hi) = ((n_min.max(1) as f64).log10().floor(), (n_max.max(1) as f64).log10().ceil().max(1.0));
    let hi = if hi <= lo { lo + 1.0 } else { hi };
    let x = |n: usize| x0 + LEFT + ((n.max(1) as f64).log10() - lo) / (hi - lo) * (PANEL - LEFT - RIGHT);
    let y = |v: f64| TOP + (1.0 - v / y_max) * (HEIGHT - TOP - BOTTOM);
    let _ = writeln!(s, r#"<text x="{:.1}" y="24" font-size="15">{title}</text>"#, x0 + LEFT);
    for i in 0..=4 {
        let v = y_max * f64::from(i) / 4.0;
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.0}</text>"##,
            x0 + LEFT,
            x0 + PANEL - RIGHT,
            y(v),
            y(v),
            x0 + LEFT - 6.0,
            y(v) + 4.0
        );
    }
    let mut decade = lo as i32;
    while f64::from(decade) <= hi {
        let n = 10usize.pow(decade.max(0) as u32);
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{n} halls</text>"#,
            x(n),
            HEIGHT - BOTTOM + 18.0
        );
        decade += 1;
    }
    let _ = writeln!(
        s,
        r##"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#888" stroke-dasharray="6 4"/><text x="{:.1}" y="{:.1}" fill="#555">target {target:.0}</text>"##,
        x0 + LEFT,
        x0 + PANEL - RIGHT,
        y(target),
        y(target),
        x0 + LEFT + 4.0,
        y(target) - 4.0
    );
    for (i, line) in lines.iter().enumerate() {
        let points: Vec<String> = line.points.iter().map(|&(n, v)| format!("{:.1},{:.1}", x(n), y(v))).collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            line.colour,
            points.join(" ")
        );
        for &(n, v) in &line.points {
            let _ = writeln!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#, x(n), y(v), line.colour);
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" fill="{}">{}</text>"#,
            x0 + PANEL - RIGHT - 70.0,
            TOP + 14.0 + 16.0 * i as f64,
            line.colour,
            line.label
        );
    }
}

/// 1, 2 or 5 times a power of ten, at least `v`.
fn nice_ceiling(v: f64) -> f64 {
    let p = 10f64.powf(v.max(1.0).log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|c| *c >= v).unwrap_or(10.0 * p)
}
