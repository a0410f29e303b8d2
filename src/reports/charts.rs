//! The report's charts, drawn by the daemon as SVG with plotters (its SVG backend only:
//! no font files or system libraries; text goes out as SVG `<text>`, so the browser sets
//! the Chinese labels in its own fonts).
//!
//! Four charts of a replayed day: tickets issued per hour, tickets waiting over the day,
//! the wait distribution of each queue, and each queue's share called within its service
//! level.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figures::{p95, Report};
use super::replay::Day;
use crate::core::setup::Setup;

/// The charts there are, by the name in `/api/v1/reports/day/charts/{name}.svg`.
pub const CHARTS: [&str; 4] = ["arrivals", "waiting", "wait-histogram", "service-level"];

const WIDTH: u32 = 760;
const HEIGHT: u32 = 320;
const FONT: &str = "sans-serif";
/// Axis labels and descriptions: legible when the chart is shown at half a screen's width.
const LABEL_PX: u32 = 14;
/// Width of a bin of the wait histogram, in minutes; waits from `BINS × BIN_MIN` up share
/// the last bin.
const BIN_MIN: u64 = 5;
const BINS: u32 = 13;

#[derive(Debug, thiserror::Error)]
#[error("the chart could not be drawn: {0}")]
pub struct ChartError(String);

fn err<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError(format!("{e:?}"))
}

/// The SVG of chart `name`, or `None` for a name that is not a chart.
pub fn render(name: &str, day: &Day, report: &Report, setup: &Setup) -> Option<Result<String, ChartError>> {
    Some(match name {
        "arrivals" => arrivals(day),
        "waiting" => waiting(day, setup),
        "wait-histogram" => wait_histogram(day, report),
        "service-level" => service_level(report),
        _ => return None,
    })
}

fn queue_name(setup: &Setup, id: &crate::core::model::QueueId) -> String {
    setup.queue(id).map_or_else(|| id.to_string(), |q| q.name.clone())
}

/// Bars of tickets issued per hour (all queues), over the hours that had any.
fn arrivals(day: &Day) -> Result<String, ChartError> {
    let mut per_hour = [0u64; 24];
    for hours in day.arrivals.values() {
        for (h, n) in hours.iter().enumerate() {
            per_hour[h] += n;
        }
    }
    let busy: Vec<u32> = (0u32..24).filter(|h| per_hour[*h as usize] > 0).collect();
    let (from, to) = match (busy.first(), busy.last()) {
        (Some(a), Some(b)) => (*a.min(&8), *b.max(&17) + 1),
        _ => (8, 18),
    };
    let top = per_hour.iter().max().copied().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("每小时取号量", (FONT, 18))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(44)
            .build_cartesian_2d((from..to - 1).into_segmented(), 0u64..top + top / 10 + 1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .label_style((FONT, LABEL_PX))
            .axis_desc_style((FONT, LABEL_PX))
            .x_desc("时段")
            .y_desc("取号（张）")
            .x_labels((to - from) as usize)
            .x_label_formatter(&|v| match v {
                SegmentValue::Exact(h) | SegmentValue::CenterOf(h) => format!("{h}时"),
                SegmentValue::Last => String::new(),
            })
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(RGBColor(37, 99, 235).filled())
                    .margin(4)
                    .data((from..to).map(|h| (h, per_hour[h as usize]))),
            )
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Lines of tickets waiting per minute, one per queue; the x axis in hours of the day.
fn waiting(day: &Day, setup: &Setup) -> Result<String, ChartError> {
    let len = day.waiting.values().map(Vec::len).max().unwrap_or(0);
    let first = day.waiting.values().filter_map(|s| s.iter().position(|n| *n > 0)).min().unwrap_or(0);
    let from_h = (first / 60).min(8);
    let to_h = len.div_ceil(60).max(from_h + 1);
    let top = day.waiting.values().flat_map(|s| s.iter().copied()).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("等候人数（全天）", (FONT, 18))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(44)
            .build_cartesian_2d(from_h as f64..to_h as f64, 0u32..top + top / 10 + 1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .label_style((FONT, LABEL_PX))
            .axis_desc_style((FONT, LABEL_PX))
            .x_desc("时间")
            .y_desc("等候（人）")
            .x_labels((to_h - from_h + 1).min(13))
            .x_label_formatter(&|h| {
                let m = (h * 60.0).round() as u32;
                format!("{:02}:{:02}", m / 60, m % 60)
            })
            .draw()
            .map_err(err)?;
        for (i, (queue, series)) in day.waiting.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points = series.iter().enumerate().skip(from_h * 60).map(|(m, n)| (m as f64 / 60.0, *n));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(err)?
                .label(format!("{} ({})", queue_name(setup, queue), queue))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        if !day.waiting.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font((FONT, LABEL_PX))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One panel per queue with tickets called: how many waited 0–5, 5–10, … minutes.
fn wait_histogram(day: &Day, report: &Report) -> Result<String, ChartError> {
    let queues: Vec<_> = day.groups.queues.iter().filter(|(_, g)| !g.wait_ms.is_empty()).collect();
    let cols = 2usize;
    let rows = queues.len().div_ceil(cols).max(1);
    let height = 40 + 240 * rows as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled("等候时长分布（分钟）", (FONT, 18)).map_err(err)?;
        if queues.is_empty() {
            root.draw(&Text::new("当日尚无叫号", (WIDTH as i32 / 2 - 50, 60), (FONT, 16))).map_err(err)?;
        }
        let panels = root.split_evenly((rows, cols));
        for (i, (queue, g)) in queues.iter().enumerate() {
            let mut bins = [0u64; BINS as usize];
            for w in &g.wait_ms {
                let b = (w / 60_000 / BIN_MIN).min(u64::from(BINS) - 1);
                bins[b as usize] += 1;
            }
            let mut sorted = g.wait_ms.clone();
            let p = p95(&mut sorted).unwrap_or(0);
            let name =
                report.queues.iter().find(|q| q.id == queue.as_str()).map_or(queue.to_string(), |q| q.name.clone());
            let top = bins.iter().max().copied().unwrap_or(0).max(1);
            let caption = format!("{name} ({queue}) · {} 张 · P95 {:.1} 分", g.wait_ms.len(), p as f64 / 60_000.0);
            let mut chart = ChartBuilder::on(&panels[i])
                .caption(caption, (FONT, 14))
                .margin(8)
                .x_label_area_size(26)
                .y_label_area_size(36)
                .build_cartesian_2d((0u32..BINS - 1).into_segmented(), 0u64..top + top / 10 + 1)
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(BINS as usize)
                .label_style((FONT, LABEL_PX - 3))
                // Each bin is labelled under its middle with its range; the last is open.
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(b) if *b + 1 == BINS => format!("{}+", u64::from(*b) * BIN_MIN),
                    SegmentValue::CenterOf(b) => format!("{}-{}", u64::from(*b) * BIN_MIN, u64::from(*b + 1) * BIN_MIN),
                    SegmentValue::Exact(_) | SegmentValue::Last => String::new(),
                })
                .draw()
                .map_err(err)?;
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(
                    Histogram::vertical(&chart)
                        .style(color.filled())
                        .margin(2)
                        .data(bins.iter().enumerate().map(|(b, n)| (b as u32, *n))),
                )
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Bars of each queue's share called within its service level, in per cent.
fn service_level(report: &Report) -> Result<String, ChartError> {
    let rows: Vec<(String, f64, u32)> = report
        .queues
        .iter()
        .filter_map(|q| {
            let l = q.figures.service_level.as_ref()?;
            Some((format!("{} ({})", q.name, q.id), l.share? * 100.0, l.target_min))
        })
        .collect();
    let n = rows.len().max(1) as u32;
    // plotters' integer ranges include their end; a range of one value would have no width.
    let last = if n > 1 { n - 1 } else { n };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("服务水平达标率（按队列）", (FONT, 18))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(44)
            .build_cartesian_2d((0u32..last).into_segmented(), 0.0f64..105.0)
            .map_err(err)?;
        let labels: Vec<String> = rows.iter().map(|(name, _, min)| format!("{name} ≤{min}分")).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .label_style((FONT, LABEL_PX))
            .axis_desc_style((FONT, LABEL_PX))
            .y_desc("达标率（%）")
            .x_labels(n as usize)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                SegmentValue::Exact(_) | SegmentValue::Last => String::new(),
            })
            .draw()
            .map_err(err)?;
        // Green at 80 % and above, the usual floor of a hall's service-level target.
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .margin(40)
                    .style_func(|_, share: &f64| {
                        if *share >= 80.0 { RGBColor(22, 163, 74) } else { RGBColor(220, 38, 38) }.filled()
                    })
                    .data(rows.iter().enumerate().map(|(i, (_, share, _))| (i as u32, *share))),
            )
            .map_err(err)?;
        for (i, (_, share, _)) in rows.iter().enumerate() {
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{share:.1}%"),
                    (SegmentValue::CenterOf(i as u32), (*share + 6.0).min(104.0)),
                    (FONT, LABEL_PX).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center)),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}
