//! CSV exports of a day: one row per ticket, and the figures per queue, window and clerk.
//!
//! Written UTF-8 with a byte-order mark: Excel, which a hall's office opens them with,
//! reads a CSV without one in the machine's legacy code page (GBK on a Chinese Windows)
//! and garbles the Chinese names. Times are local wall-clock times of the hall
//! (`2026-03-10 09:05:00`), which Excel reads as dates; durations are minutes with one
//! decimal. No ticket id (a ticket's secret capability) and no personal data appear.

use super::figures::{GroupFigures, Report};
use super::replay::{Day, Fate};
use crate::core::model::Ts;
use crate::core::setup::Setup;

/// UTF-8's byte-order mark, which tells Excel the file is UTF-8.
const BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, thiserror::Error)]
#[error("the CSV could not be written: {0}")]
pub struct ExportError(String);

fn local(setup: &Setup, at: Option<Ts>) -> String {
    at.map(|t| crate::time::local_second(setup, t)).unwrap_or_default()
}

fn minutes(ms: Option<u64>) -> String {
    ms.map(|ms| format!("{:.1}", ms as f64 / 60_000.0)).unwrap_or_default()
}

fn fate_zh(f: Fate) -> &'static str {
    match f {
        Fate::Waiting => "等候中",
        Fate::Called => "已叫号",
        Fate::Serving => "办理中",
        Fate::Parked => "暂存",
        Fate::Completed => "已办结",
        Fate::Incomplete => "未办结",
        Fate::NoShow => "过号",
        Fate::Cancelled => "已取消",
        Fate::Expired => "已过期",
    }
}

/// A CSV writer that Excel reads as UTF-8 (with the byte-order mark).
pub fn writer_for_office() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(BOM.to_vec())
}

/// The bytes of a CSV written with [`writer_for_office`].
pub fn finish_office(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, ExportError> {
    w.into_inner().map_err(|e| ExportError(e.to_string()))
}

impl From<csv::Error> for ExportError {
    fn from(e: csv::Error) -> Self {
        ExportError(e.to_string())
    }
}

/// The header of `tickets.csv`.
pub const TICKET_HEADER: [&str; 16] = [
    "号码",
    "队列",
    "事项编码",
    "事项名称",
    "优先类别",
    "取号时间",
    "首次叫号时间",
    "开始办理时间",
    "结束时间",
    "等候分钟",
    "办理分钟",
    "窗口",
    "工作人员",
    "结果",
    "结果代码",
    "评价",
];

/// One row per ticket, in issue order.
pub fn tickets(day: &Day, setup: &Setup) -> Result<Vec<u8>, ExportError> {
    let mut w = writer_for_office();
    let e = |e: csv::Error| ExportError(e.to_string());
    w.write_record(TICKET_HEADER).map_err(e)?;
    for t in &day.tickets {
        let codes: Vec<&str> = t.services.iter().map(|c| c.as_str()).collect();
        let names: Vec<&str> =
            t.services.iter().map(|c| setup.item(c.as_str()).map_or("", |i| i.name.as_str())).collect();
        let priority = t
            .priority
            .as_ref()
            .map(|p| setup.priorities.iter().find(|d| d.id == *p).map_or_else(|| p.to_string(), |d| d.name.clone()));
        w.write_record([
            t.number.clone(),
            t.queue.to_string(),
            codes.join(";"),
            names.join(";"),
            priority.unwrap_or_default(),
            local(setup, Some(t.issued_at)),
            local(setup, t.called_at),
            local(setup, t.serving_at),
            local(setup, t.ended_at),
            minutes(t.wait_ms),
            minutes(t.service_ms),
            t.window.map(|w| w.to_string()).unwrap_or_default(),
            t.clerk.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            fate_zh(t.fate).to_string(),
            t.fate.as_str().to_string(),
            t.rating.map(|r| r.to_string()).unwrap_or_default(),
        ])
        .map_err(e)?;
    }
    finish_office(w)
}

/// The header of `figures.csv`.
pub const FIGURES_HEADER: [&str; 20] = [
    "维度",
    "编号",
    "名称",
    "取号",
    "叫号",
    "办结",
    "未办结",
    "过号",
    "取消",
    "过期",
    "转移",
    "平均等候分钟",
    "P95等候分钟",
    "最长等候分钟",
    "平均办理分钟",
    "P95办理分钟",
    "服务水平目标分钟",
    "服务水平达标率%",
    "评价数",
    "平均评分",
];

fn figures_row(kind: &str, id: &str, name: &str, f: &GroupFigures) -> Vec<String> {
    let level = f.service_level.as_ref();
    vec![
        kind.to_string(),
        id.to_string(),
        name.to_string(),
        f.issued.to_string(),
        f.called.to_string(),
        f.completed.to_string(),
        f.incomplete.to_string(),
        f.no_show.to_string(),
        f.cancelled.to_string(),
        f.expired.to_string(),
        f.transferred.to_string(),
        minutes(f.wait.mean_ms),
        minutes(f.wait.p95_ms),
        minutes(f.wait.max_ms),
        minutes(f.service.mean_ms),
        minutes(f.service.p95_ms),
        level.map(|l| l.target_min.to_string()).unwrap_or_default(),
        level.and_then(|l| l.share).map(|s| format!("{:.1}", s * 100.0)).unwrap_or_default(),
        f.ratings.count.to_string(),
        f.ratings.mean.map(|m| format!("{m:.2}")).unwrap_or_default(),
    ]
}

/// The day's figures: the whole hall, then each queue, window and clerk.
pub fn figures(report: &Report) -> Result<Vec<u8>, ExportError> {
    let mut w = writer_for_office();
    let e = |e: csv::Error| ExportError(e.to_string());
    w.write_record(FIGURES_HEADER).map_err(e)?;
    w.write_record(figures_row("全部", "", "全厅", &report.total)).map_err(e)?;
    for (kind, rows) in [("队列", &report.queues), ("窗口", &report.windows), ("工作人员", &report.clerks)] {
        for r in rows {
            w.write_record(figures_row(kind, &r.id, &r.name, &r.figures)).map_err(e)?;
        }
    }
    finish_office(w)
}
