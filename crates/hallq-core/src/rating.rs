//! 好差评: the hall's rating rules, the cases that bad ratings open, and the last ticket
//! each window finished (what its evaluator tablet asks the visitor to rate).
//!
//! The scale is the national one (国办发〔2019〕51号, and the provincial guides that apply
//! it, e.g. Shanxi's: "五个等级，后两个等级为差评"): 5 非常满意, 4 满意, 3 基本满意 are good
//! ratings, 2 不满意 and 1 非常不满意 are bad ones. A bad rating needs a reason chosen from
//! the hall's list and opens a case: a supervisor calls the visitor back (回访) and records
//! what was put right (整改) within `case_days` working days of the hall's calendar (many
//! cities' guides give 5, e.g. Dezhou's "5个工作日内整改反馈"; Sichuan allows 15).
//!
//! The case's id and deadline are decided with the rating and written into its
//! `TicketRated` record, so a later change of the calendar does not move a deadline that
//! was already given.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::case_book::{self, Filed};
use super::command::{Rejection, COMMENT_CHARS_MAX};
use super::event::Event;
use super::hall::HallState;
use super::model::{QueueId, ServiceCode, TicketId, TicketStatus, Ts, UserName, WindowId};

/// Scores at or below this are bad ratings (差评).
pub const BAD_SCORE_MAX: u8 = 2;
/// Longest call-back or rectification note, in characters.
pub const NOTE_CHARS_MAX: usize = 500;
/// Call-backs recorded on one case at most: past a handful, the case needs a decision.
pub const CALLBACKS_MAX: usize = 10;
/// Shortest run of digits masked in free text: phone and id numbers are longer, amounts
/// and dates shorter.
pub const MASK_DIGITS_MIN: usize = 7;

/// One reason a visitor may give for a bad rating (`[[hall.rating.reason]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonDef {
    pub code: String,
    pub name: String,
    /// The visitor must say more in the comment (for "其他").
    pub needs_text: bool,
}

/// `[hall.rating]` and `[hall.calendar]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatingPolicy {
    pub reasons: Vec<ReasonDef>,
    /// Working days a bad-rating case has before it is overdue.
    pub case_days: u32,
    /// Seconds after `done` during which a window's evaluator asks for the rating.
    pub ask_s: u32,
    pub calendar: Calendar,
    /// Days a closed case is kept after its rating (the hall's `retention_days`, so that a
    /// visitor's comment goes with the log's records); open cases are always kept.
    pub closed_kept_days: u32,
}

impl RatingPolicy {
    pub const DEFAULT_CASE_DAYS: u32 = 5;
    pub const DEFAULT_ASK_S: u32 = 60;
    /// A year and a half, like the log's default retention.
    pub const DEFAULT_CLOSED_KEPT_DAYS: u32 = 540;

    pub fn reason(&self, code: &str) -> Option<&ReasonDef> {
        self.reasons.iter().find(|r| r.code == code)
    }
}

impl Default for RatingPolicy {
    /// The reasons most provincial systems offer, five working days, a minute to ask.
    fn default() -> Self {
        let reason = |code: &str, name: &str, needs_text: bool| ReasonDef {
            code: code.to_string(),
            name: name.to_string(),
            needs_text,
        };
        Self {
            reasons: vec![
                reason("attitude", "态度不好", false),
                reason("slow", "办理时间长", false),
                reason("unclear_materials", "材料要求不清", false),
                reason("repeat_visits", "多次跑动", false),
                reason("system_fault", "系统故障", false),
                reason("other", "其他", true),
            ],
            case_days: Self::DEFAULT_CASE_DAYS,
            ask_s: Self::DEFAULT_ASK_S,
            calendar: Calendar::default(),
            closed_kept_days: Self::DEFAULT_CLOSED_KEPT_DAYS,
        }
    }
}

/// What a bad rating's record says of the case it opens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOpening {
    pub id: String,
    /// The last working day of the case (it is overdue from the day after).
    pub due: NaiveDate,
    /// The clerk signed in at the window when the ticket was served; absent in older
    /// records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clerk: Option<UserName>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    pub at: Ts,
    pub by: UserName,
    /// Whether the visitor was reached.
    pub reached: bool,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rectification {
    pub at: Ts,
    pub by: UserName,
    pub note: String,
}

/// A bad rating's case. It keeps what a supervisor needs after the ticket has left the
/// state (at the next day's opening): never the ticket's id (supervisors need no handle
/// on the visitor's ticket).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    /// The service day of the rating; its figures count the case's rectification.
    pub day: NaiveDate,
    pub opened_at: Ts,
    pub due: NaiveDate,
    pub number: String,
    pub queue: QueueId,
    pub window: Option<WindowId>,
    /// The clerk who served the ticket (for supervisors only; never on a display).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clerk: Option<UserName>,
    pub services: Vec<ServiceCode>,
    pub score: u8,
    pub reason: String,
    pub comment: Option<String>,
    pub callbacks: Vec<Callback>,
    pub rectified: Option<Rectification>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Overdue,
    Closed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Overdue => "overdue",
            CaseStatus::Closed => "closed",
        }
    }
}

impl Case {
    /// Open until rectified; overdue once `today` is past its last working day.
    pub fn status(&self, today: NaiveDate) -> CaseStatus {
        status_on(self.rectified.is_some(), self.due, today)
    }
}

impl Filed for Case {
    type Status = CaseStatus;
    fn day(&self) -> NaiveDate {
        self.day
    }
    fn ended(&self) -> bool {
        self.rectified.is_some()
    }
    fn status(&self, today: NaiveDate) -> CaseStatus {
        Case::status(self, today)
    }
}

/// A case's status on `today`: closed once closed, else overdue once `today` is past its
/// last working day `due`. Bad-rating and escalation cases keep time alike.
pub fn status_on(closed: bool, due: NaiveDate, today: NaiveDate) -> CaseStatus {
    match closed {
        true => CaseStatus::Closed,
        false if today > due => CaseStatus::Overdue,
        false => CaseStatus::Open,
    }
}

/// Every case not yet forgotten, by id, and the last ticket each window finished today.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ratings {
    pub cases: BTreeMap<String, Case>,
    pub last_done: BTreeMap<WindowId, (TicketId, Ts)>,
}

impl Ratings {
    /// A new day: windows start afresh; closed cases rated more than `kept_days` ago go.
    pub fn open_day(&mut self, day: NaiveDate, kept_days: u32) {
        self.last_done.clear();
        case_book::forget_ended(&mut self.cases, day, kept_days);
    }

    /// Cases with `status` (any when `None`) rated on `day` (any when `None`), newest
    /// first, at most `limit`.
    pub fn list(
        &self,
        today: NaiveDate,
        status: Option<CaseStatus>,
        day: Option<NaiveDate>,
        limit: usize,
    ) -> Vec<Case> {
        case_book::list(&self.cases, today, status, day, limit)
    }

    /// The ticket `window` finished last, if it finished it within `ask_s` of `now` and
    /// nobody has rated it yet.
    pub fn rateable(&self, state: &HallState, window: &WindowId, now: Ts) -> Option<TicketId> {
        let (id, at) = self.last_done.get(window)?;
        let t = state.ticket(id)?;
        let fresh = now.since_ms(*at) <= u64::from(state.setup.rating.ask_s) * 1000;
        (fresh && t.status == TicketStatus::Done && t.rating.is_none()).then_some(*id)
    }
}

/// Digits written apart (`138 0013 8000`, `138-0013-8000`) are masked when their run has
/// at least this many: a mobile number has 11, a landline with its area code 11 or 12, a
/// date with its hour 10.
pub const MASK_SPACED_DIGITS_MIN: usize = 11;

/// A character that stands for a digit: ASCII, full-width and every other Unicode digit,
/// and the Chinese numerals people write numbers with (幺 for 1 and 两 for 2 as spoken).
fn is_digitlike(c: char) -> bool {
    c.is_ascii_digit() || c.is_numeric() || "零〇一二三四五六七八九幺两壹贰叁肆伍陆柒捌玖".contains(c)
}

/// A character that shows nothing: zero-width spaces and joiners, the word joiner, the
/// byte-order mark, the soft hyphen and the blank fillers.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
}

/// What people put between the digits of a number: spaces, dashes, dots, brackets.
fn is_digit_separator(c: char) -> bool {
    c.is_whitespace() || "-‐‑‒–—−－.．·・()（）/／_".contains(c)
}

/// `text` without invisible characters and whitespace at either end; what a required
/// text must still have something of.
pub fn trim_invisible(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || is_invisible(c))
}

/// Masks the phone and id numbers in free text, whatever way they are written: each
/// character of a run of digits (in any script, or Chinese numerals) joined by separators
/// and invisible characters becomes `*` (invisible ones are dropped) when the run has
/// [`MASK_DIGITS_MIN`] digits side by side or [`MASK_SPACED_DIGITS_MIN`] in all; an id
/// card's closing `X` goes with its digits. Visitors and supervisors type phone numbers
/// into notes, and those must not reach the log.
pub fn mask_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_digitlike(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The run: digits, with separators and invisible characters only between digits.
        let (mut end, mut digits, mut side_by_side, mut longest, mut j) = (i, 0, 0, 0, i);
        while j < chars.len() {
            let c = chars[j];
            if is_digitlike(c) {
                digits += 1;
                side_by_side += 1;
                longest = longest.max(side_by_side);
                end = j + 1;
            } else if is_invisible(c) {
                // Invisible: the digits on either side are still side by side.
            } else if is_digit_separator(c) {
                side_by_side = 0;
            } else {
                break;
            }
            j += 1;
        }
        if end < chars.len() && digits >= 15 && matches!(chars[end], 'X' | 'x' | 'Ｘ' | 'ｘ') {
            end += 1;
        }
        let mask = longest >= MASK_DIGITS_MIN || digits >= MASK_SPACED_DIGITS_MIN;
        for &c in &chars[i..end] {
            match (mask, is_invisible(c)) {
                (true, true) => {}
                (true, false) => out.push('*'),
                (false, _) => out.push(c),
            }
        }
        i = end;
    }
    out
}

/// A note of 1 to [`NOTE_CHARS_MAX`] characters, trimmed and masked.
pub(crate) fn note(text: &str) -> Result<String, Rejection> {
    let text = trim_invisible(text);
    if text.is_empty() || text.chars().count() > NOTE_CHARS_MAX {
        return Err(Rejection::NoteRequired);
    }
    Ok(mask_numbers(text))
}

/// The rating of ticket `id`: its record, and for a bad rating the case it opens.
pub fn decide_rate(
    state: &HallState,
    id: &TicketId,
    score: u8,
    reason: Option<&str>,
    comment: Option<&str>,
    now: Ts,
) -> Result<Event, Rejection> {
    let t = state.ticket(id).ok_or(Rejection::UnknownTicket)?;
    if t.status != TicketStatus::Done {
        return Err(Rejection::NotRateable(t.status.as_str()));
    }
    if t.rating.is_some() {
        return Err(Rejection::AlreadyRated);
    }
    if !(1..=5).contains(&score) {
        return Err(Rejection::BadScore);
    }
    // Zero-width spaces are no comment: a required "其他" needs something one can read.
    let comment = comment.map(trim_invisible).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > COMMENT_CHARS_MAX) {
        return Err(Rejection::CommentTooLong);
    }
    let policy = &state.setup.rating;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let case = if score <= BAD_SCORE_MAX {
        // The national 好差评 rules ask a reason for 不满意 and 非常不满意.
        let code = reason.ok_or(Rejection::ReasonRequired)?;
        let def = policy.reason(code).ok_or_else(|| Rejection::UnknownReason(code.chars().take(40).collect()))?;
        if def.needs_text && comment.is_none() {
            return Err(Rejection::ReasonTextRequired(def.name.clone()));
        }
        let day = state.setup.day_of(now);
        Some(CaseOpening {
            id: next_case_id(&state.ratings, day),
            due: due_after(&state.setup, day, policy.case_days),
            clerk: t.served_by.clone(),
        })
    } else {
        if reason.is_some() {
            return Err(Rejection::ReasonNotAsked);
        }
        None
    };
    Ok(Event::TicketRated {
        id: *id,
        score,
        comment: comment.map(mask_numbers),
        reason: reason.filter(|_| case.is_some()).map(str::to_string),
        case,
    })
}

/// The last working day of a case opened on `day` with `days` working days, on the hall's
/// calendar (`[hall.calendar]`): the one deadline rule of bad-rating and escalation cases.
pub fn due_after(setup: &crate::setup::Setup, day: NaiveDate, days: u32) -> NaiveDate {
    setup.rating.calendar.add_working_days(day, days)
}

/// `C20261127-001`: the day of the rating and its place among the day's cases.
fn next_case_id(ratings: &Ratings, day: NaiveDate) -> String {
    case_book::next_id(&ratings.cases, 'C', day)
}

/// An open case, or why it cannot be worked on.
fn open_case<'a>(state: &'a HallState, case: &str) -> Result<&'a Case, Rejection> {
    let c = state.ratings.cases.get(case).ok_or(Rejection::UnknownCase)?;
    if c.rectified.is_some() {
        return Err(Rejection::CaseClosed);
    }
    Ok(c)
}

pub fn decide_callback(
    state: &HallState,
    case: &str,
    by: &UserName,
    reached: bool,
    text: &str,
) -> Result<Event, Rejection> {
    let c = open_case(state, case)?;
    if c.callbacks.len() >= CALLBACKS_MAX {
        return Err(Rejection::CallbacksFull(CALLBACKS_MAX));
    }
    Ok(Event::CaseCallback { case: c.id.clone(), by: by.clone(), reached, note: note(text)? })
}

pub fn decide_rectify(state: &HallState, case: &str, by: &UserName, text: &str) -> Result<Event, Rejection> {
    let c = open_case(state, case)?;
    // 回访 before 整改: the visitor's account of what went wrong is the case's first fact.
    if c.callbacks.is_empty() {
        return Err(Rejection::CallbackFirst);
    }
    Ok(Event::CaseRectified { case: c.id.clone(), by: by.clone(), note: note(text)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_digit_runs_are_masked_and_short_ones_kept() {
        assert_eq!(mask_numbers("请回电13800138000，谢谢"), "请回电***********，谢谢");
        assert_eq!(mask_numbers("等了45分钟，3号窗口"), "等了45分钟，3号窗口");
        assert_eq!(mask_numbers("１３８００１３８０００"), "***********");
        assert_eq!(mask_numbers("2026-11-27"), "2026-11-27");
    }

    /// A mobile number in each way people write one, and what must stay as it is.
    #[test]
    fn numbers_are_masked_however_they_are_written() {
        let masked = [
            ("电话138 0013 8000谢谢", "电话*************谢谢"),
            ("电话138-0013-8000", "电话*************"),
            ("电话 (138) 0013.8000 。", "电话 (************** 。"),
            ("138\u{200B}0013\u{200B}8000", "***********"),
            ("1\u{200C}3\u{200D}8\u{2060}0\u{FEFF}0138000", "***********"),
            ("１３８　００１３　８０００", "*************"),
            ("１３８－００１３－８０００", "*************"),
            ("一三八零零一三八零零零", "***********"),
            ("幺三八 〇〇幺三 八〇〇〇", "*************"),
            ("壹叁捌零零壹叁捌零零零", "***********"),
            ("+86 138 0013 8000", "+****************"),
            ("0351-12345678", "*************"),
            ("010 8888 8888", "*************"),
            ("身份证11010119900307123X号", "身份证******************号"),
            ("身份证 110101 19900307 123x", "身份证 ********************"),
            ("电话：138\n0013\n8000", "电话：*************"),
        ];
        for (text, want) in masked {
            assert_eq!(mask_numbers(text), want, "{text:?}");
        }
        let kept = [
            "2026-11-27",
            "2026.11.27 10:30",
            "2026-11-27 10",
            "等了45分钟，3号窗口",
            "一共三个窗口，等了一个小时",
            "1,000,000元",
            "第12 34号",
        ];
        for text in kept {
            assert_eq!(mask_numbers(text), text, "{text:?}");
        }
    }

    #[test]
    fn invisible_characters_are_no_text() {
        assert_eq!(trim_invisible("\u{200B}\u{200B} \u{FEFF}\u{2060}\u{3000}"), "");
        assert_eq!(trim_invisible("\u{200B}太慢\u{200B} "), "太慢");
        assert!(note("\u{200B}\u{200C}\u{200D}").is_err());
    }
}
