//! The chart of `--svg`: the mean number of tickets waiting over the local day, one line
//! per hall, as plain SVG text (no library: a few lines, axes and labels).

use std::fmt::Write;

use super::collect::{BINS, BIN_MS};
use super::report::Report;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLOURS: [&str; 4] = ["#1f6feb", "#d1242f", "#1a7f37", "#8250df"];
/// Bins per hour of the day.
const BINS_PER_HOUR: usize = (3_600_000 / BIN_MS) as usize;

/// An SVG line chart of waiting over the day for each report.
pub fn chart(reports: &[&Report]) -> String {
    let (from, to) = span(reports);
    let peak = reports.iter().flat_map(|r| r.waiting_by_5min[from..to].iter().copied()).fold(0.0, f64::max);
    let y_max = nice_ceiling(peak.max(1.0));
    let x = |bin: usize| LEFT + (bin - from) as f64 / (to - from) as f64 * (WIDTH - LEFT - RIGHT);
    let y = |v: f64| TOP + (1.0 - v / y_max) * (HEIGHT - TOP - BOTTOM);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ =
        writeln!(s, r#"<text x="{LEFT}" y="22" font-size="15">Tickets waiting over the day (mean per 5 min)</text>"#);
    for i in 0..=4 {
        let v = y_max * f64::from(i) / 4.0;
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.0}</text>"##,
            WIDTH - RIGHT,
            y(v),
            y(v),
            LEFT - 6.0,
            y(v) + 4.0
        );
    }
    for bin in (from..=to).filter(|b| b % BINS_PER_HOUR == 0) {
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" x2="{:.1}" y1="{TOP}" y2="{:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{:02}:00</text>"##,
            x(bin),
            x(bin),
            HEIGHT - BOTTOM,
            x(bin),
            HEIGHT - BOTTOM + 18.0,
            bin / BINS_PER_HOUR
        );
    }
    for (i, r) in reports.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<String> = (from..to)
            .map(|b| format!("{:.1},{:.1}", x(b) + 0.5 * (x(b + 1) - x(b)), y(r.waiting_by_5min[b])))
            .collect();
        let _ =
            writeln!(s, r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#, points.join(" "));
        let ly = TOP + 16.0 * i as f64 + 10.0;
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" x2="{:.1}" y1="{ly:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            WIDTH - 300.0,
            WIDTH - 280.0,
            WIDTH - 274.0,
            ly + 4.0,
            escape(&r.hall)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The bins to draw: whole hours around those where anyone waited.
fn span(reports: &[&Report]) -> (usize, usize) {
    let busy = |b: usize| reports.iter().any(|r| r.waiting_by_5min.get(b).is_some_and(|v| *v > 0.0));
    let first = (0..BINS).find(|b| busy(*b)).unwrap_or(0);
    let last = (0..BINS).rev().find(|b| busy(*b)).unwrap_or(BINS - 1);
    let from = (first / BINS_PER_HOUR) * BINS_PER_HOUR;
    let to = ((last / BINS_PER_HOUR + 1) * BINS_PER_HOUR).min(BINS);
    (from, to.max(from + BINS_PER_HOUR))
}

/// 1, 2 or 5 times a power of ten, at least `v`.
fn nice_ceiling(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|c| *c >= v).unwrap_or(10.0 * p)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
