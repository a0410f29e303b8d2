//! What a printed ticket says and how it is laid out: the hall's name, the number large,
//! the queue, a priority ticket's class, how many are ahead and the expected wait, the
//! time, the items, a bundle's steps and the materials to prepare, a QR code of the
//! ticket's status page and the hall's real missed-number rule. Pure:
//! it takes plain values and gives ESC/POS bytes. No personal data is ever given to it;
//! a ticket holds none.

use super::escpos::{columns, wrap, Align, Escpos};

/// Most item lines printed: a bundle of twenty items would print a scroll, and the status
/// page behind the QR code lists them all.
pub const ITEM_LINES_MAX: usize = 6;
/// Most material lines printed, for the same reason.
pub const MATERIAL_LINES_MAX: usize = 12;

/// What goes on the paper, already in words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketPaper {
    pub hall: String,
    pub number: String,
    pub queue: String,
    /// The priority class's name, for a priority ticket.
    pub priority: Option<String>,
    /// Item names (a bundle's own name first, when it is one).
    pub services: Vec<String>,
    /// A bundle's steps in order, each as its queue and items in words ("B 企业服务：…");
    /// empty for one item.
    pub steps: Vec<String>,
    pub materials: Vec<String>,
    pub ahead: Option<usize>,
    pub eta_minutes: Option<u32>,
    /// No open window may call the ticket: the wait says 暂无窗口办理, not a figure.
    pub no_window: bool,
    /// Local time of issue, e.g. `2026-03-10 10:00`.
    pub issued: String,
    /// The ticket's status page, for the QR code; none prints no code.
    pub url: Option<String>,
    /// A reprint says so, so that two papers for one number are not mistaken for two
    /// tickets.
    pub reprint: bool,
    /// `[hall.dispatch] rejoin_min`: minutes a missed number may rejoin (0: never).
    pub rejoin_min: u32,
    /// 承诺办结时限 in words (`limit_words`); none when the catalogue states none.
    pub limit: Option<String>,
    /// 助企服务: an enterprise ticket's line in words (专员窗口 N / 企业服务区排队).
    pub line: Option<String>,
}

/// The promised time limit of items whose limits are `days` (working days, 0: on the
/// spot): the longest one, since the matter is done when its last item is; none when no
/// item states one.
pub fn limit_words(days: impl IntoIterator<Item = Option<u32>>) -> Option<String> {
    match days.into_iter().flatten().max()? {
        0 => Some("即办（当场办结）".to_string()),
        n => Some(format!("承诺 {n} 个工作日内办结")),
    }
}

/// The call-out and missed-number notice under the hall's rule, as the kiosk screen
/// words it: with `rejoin_min` a missed number rejoins from the status page.
pub fn notice(rejoin_min: u32) -> String {
    if rejoin_min == 0 {
        "请留意大厅叫号屏及语音广播，过号需重新取号。".to_string()
    } else {
        format!("请留意大厅叫号屏及语音广播。过号后 {rejoin_min} 分钟内可扫码重新排队（号码不变），超时需重新取号。")
    }
}

/// Beyond this an expected wait is said as "over 4 hours": the hall closes first or things
/// change, and a figure would promise too much.
pub const WAIT_LONG_MIN: u32 = 240;

/// An expected wait in the words of every page (`HallqI18n.wait` in display/static/i18n.js):
/// 暂无窗口办理 when no open window may call the ticket, 无需等候, 约 12 分钟, 约 1 小时 20 分
/// (to ten minutes), 超过 4 小时; "—" when unknown.
pub fn wait_words(eta_minutes: Option<u32>, no_window: bool) -> String {
    if no_window {
        return "暂无窗口办理".to_string();
    }
    match eta_minutes {
        None => "—".to_string(),
        Some(0) => "无需等候".to_string(),
        Some(m) if m < 60 => format!("约 {m} 分钟"),
        Some(m) if m >= WAIT_LONG_MIN => format!("超过 {} 小时", WAIT_LONG_MIN / 60),
        Some(m) => {
            // Half up to ten minutes, as Math.round does on the pages.
            let rounded = (m + 5) / 10 * 10;
            let (h, rest) = (rounded / 60, rounded % 60);
            if rest == 0 {
                format!("约 {h} 小时")
            } else {
                format!("约 {h} 小时 {rest} 分")
            }
        }
    }
}

/// The ESC/POS job of `p` on paper `width` characters wide.
pub fn render(p: &TicketPaper, width: u16) -> Vec<u8> {
    let width = usize::from(width.max(16));
    let mut e = Escpos::new();
    e.align(Align::Center).bold(true);
    // The hall's name at double size when it fits on one line.
    let hall_scale = if columns(&p.hall) * 2 <= width { 2 } else { 1 };
    e.size(hall_scale, hall_scale);
    for l in wrap(&p.hall, width / usize::from(hall_scale)) {
        e.line(&l);
    }
    e.size(1, 1).bold(false).line(&rule(width)).line("您的号码");
    // The number as large as the paper allows: quad, triple or double size.
    let scale = (2..=4u8).rev().find(|s| columns(&p.number) * usize::from(*s) <= width).unwrap_or(1);
    e.bold(true).size(scale, scale).line(&p.number).size(1, 2);
    for l in wrap(&p.queue, width) {
        e.line(&l);
    }
    e.size(1, 1).bold(false);
    if let Some(prio) = &p.priority {
        // Said in words, large: the window staff and the visitor both read it.
        e.bold(true).size(1, 2).line(&format!("【优先 · {prio}】")).size(1, 1).bold(false);
    }
    if p.reprint {
        e.line("（补打）");
    }
    e.line(&rule(width)).align(Align::Left);
    let ahead = p.ahead.map_or_else(|| "—".to_string(), |n| format!("{n} 人"));
    let eta = wait_words(p.eta_minutes, p.no_window);
    e.line(&format!("前面等候：{ahead}")).line(&format!("预计等候：{eta}"));
    e.line(&format!("取号时间：{}", p.issued));
    for (label, text) in [("办理方式：", &p.line), ("办结时限：", &p.limit)] {
        if let Some(text) = text {
            for l in wrap(&format!("{label}{text}"), width) {
                e.line(&l);
            }
        }
    }
    list(&mut e, "办理事项：", &p.services, ITEM_LINES_MAX, width);
    list(&mut e, "办理步骤（同一号码依次办理）：", &p.steps, ITEM_LINES_MAX, width);
    list(&mut e, "请准备以下材料：", &p.materials, MATERIAL_LINES_MAX, width);
    e.line(&rule(width));
    if let Some(url) = &p.url {
        let module = if width >= 42 { 6 } else { 4 };
        e.align(Align::Center).qr(url.as_bytes(), module).line("扫码查看排队进度");
    }
    e.align(Align::Center);
    for l in wrap(&notice(p.rejoin_min), width) {
        e.line(&l);
    }
    e.cut(4);
    e.into_bytes()
}

fn rule(width: usize) -> String {
    "-".repeat(width)
}

/// A heading and numbered lines, at most `max`, then how many more there are.
fn list(e: &mut Escpos, heading: &str, lines: &[String], max: usize, width: usize) {
    if lines.is_empty() {
        return;
    }
    e.line(heading);
    for (i, text) in lines.iter().take(max).enumerate() {
        let mark = format!("{}. ", i + 1);
        let indent = " ".repeat(mark.len());
        for (j, l) in wrap(text, width.saturating_sub(mark.len()).max(2)).into_iter().enumerate() {
            e.line(&format!("{}{l}", if j == 0 { &mark } else { &indent }));
        }
    }
    if lines.len() > max {
        e.line(&format!("……另有 {} 项，请扫码查看", lines.len() - max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper() -> TicketPaper {
        TicketPaper {
            hall: "青川区政务服务中心".into(),
            number: "A012".into(),
            queue: "综合受理".into(),
            services: vec!["个体工商户设立登记".into()],
            materials: (1..=20).map(|i| format!("材料{i}")).collect(),
            ahead: Some(3),
            eta_minutes: Some(15),
            issued: "2026-03-10 10:00".into(),
            url: Some("http://hall/t/abc".into()),
            ..TicketPaper::default()
        }
    }

    fn text_of(bytes: &[u8]) -> String {
        encoding_rs::GB18030.decode(bytes).0.into_owned()
    }

    #[test]
    fn the_ticket_says_what_a_visitor_needs() {
        let text = text_of(&render(&paper(), 42));
        for want in
            ["青川区政务服务中心", "A012", "综合受理", "前面等候：3 人", "约 15 分钟", "2026-03-10 10:00", "个体工商户"]
        {
            assert!(text.contains(want), "{want:?} missing from {text}");
        }
        assert!(text.contains("材料12") && !text.contains("材料13"), "materials are capped");
        assert!(text.contains("另有 8 项"));
        assert!(text.contains("过号需重新取号"), "without rejoining, a missed number is gone");
    }

    #[test]
    fn the_ticket_says_the_time_limit_and_an_enterprise_tickets_line() {
        let mut p = paper();
        assert!(!text_of(&render(&p, 32)).contains("办结时限"), "no limit stated, none printed");
        p.limit = limit_words([Some(5), None, Some(1)]);
        p.line = Some("专员窗口 10（您的专属服务专员办理）".into());
        let text = text_of(&render(&p, 32));
        assert!(text.contains("办结时限：承诺 5 个工作日内办结"), "{text}");
        assert!(text.contains("办理方式：专员窗口 10"), "{text}");
        assert_eq!(limit_words([Some(0)]).as_deref(), Some("即办（当场办结）"));
        assert_eq!(limit_words([None, None]), None);
    }

    #[test]
    fn a_priority_bundle_ticket_says_its_class_its_steps_and_the_halls_rejoin_rule() {
        let mut p = paper();
        p.priority = Some("老年人".into());
        p.steps = vec!["B 企业服务：企业设立登记".into(), "A 综合受理：公章刻制备案".into()];
        p.rejoin_min = 30;
        // Wrapped lines joined again: the notice spans two.
        let text = text_of(&render(&p, 42)).replace('\n', "");
        for want in ["优先 · 老年人", "办理步骤", "1. B 企业服务", "2. A 综合受理", "30 分钟内可扫码重新排队"]
        {
            assert!(text.contains(want), "{want:?} missing from {text}");
        }
        assert!(!text.contains("过号需重新取号"), "{text}");
    }

    #[test]
    fn the_wait_is_worded_as_on_the_pages() {
        let cases = [
            (None, true, "暂无窗口办理"),
            (Some(12), true, "暂无窗口办理"),
            (None, false, "—"),
            (Some(0), false, "无需等候"),
            (Some(59), false, "约 59 分钟"),
            (Some(60), false, "约 1 小时"),
            (Some(84), false, "约 1 小时 20 分"),
            (Some(85), false, "约 1 小时 30 分"),
            (Some(239), false, "约 4 小时"),
            (Some(240), false, "超过 4 小时"),
        ];
        for (eta, none, want) in cases {
            assert_eq!(wait_words(eta, none), want, "{eta:?} {none}");
        }
        let mut p = paper();
        p.eta_minutes = None;
        p.no_window = true;
        let text = text_of(&render(&p, 42));
        assert!(text.contains("预计等候：暂无窗口办理"), "{text}");
    }

    #[test]
    fn narrow_paper_shrinks_the_number_and_the_hall_name() {
        let mut p = paper();
        p.hall = "某某省某某市某某区人民政府政务服务中心（便民服务大厅）".into();
        p.number = "AB10000".into();
        let bytes = render(&p, 24);
        // The number drops to triple size: 7 columns × 4 would overflow 24.
        assert!(bytes.windows(3).any(|w| w == [0x1D, b'!', 0x22]));
        assert!(!bytes.windows(3).any(|w| w == [0x1D, b'!', 0x33]));
        // The long hall name stays at normal size (no double-size command before it).
        assert!(bytes
            .starts_with(&[0x1B, b'@', 0x1C, b'&', 0x1B, b'a', 1, 0x1B, b'E', 1, 0x1D, b'!', 0x00, 0x1C, b'!', 0x00]));
    }
}
