//! The words of a call-out as a voice says them: a ticket number digit by digit ("A012"
//! is "A零一二", never "A十二"), a window number as a number ("12" is "十二"). Pure
//! functions, so the daemon's audio, the browser's voice and the tests agree.

const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
/// Longest run of digits in a window id read as a number; longer ones are read digit by
/// digit, like a code.
const NATURAL_DIGITS_MAX: usize = 4;

fn digit(c: char) -> Option<char> {
    c.to_digit(10).and_then(|d| DIGITS.get(d as usize).copied())
}

/// A ticket number as spoken: letters as they are, each digit on its own.
pub fn number(n: &str) -> String {
    n.chars().map(|c| digit(c).unwrap_or(c)).collect()
}

/// 0 to 9,999 in Chinese words: 5 五, 10 十, 12 十二, 20 二十, 105 一百零五, 110 一百一十,
/// 1005 一千零五.
fn natural(n: u32) -> String {
    if n == 0 {
        return "零".to_string();
    }
    const UNITS: [(u32, char); 4] = [(1000, '千'), (100, '百'), (10, '十'), (1, ' ')];
    let mut out = String::new();
    let mut zero_pending = false;
    for (place, unit) in UNITS {
        let d = (n / place) % 10;
        if d == 0 {
            zero_pending = !out.is_empty();
            continue;
        }
        if zero_pending {
            out.push('零');
            zero_pending = false;
        }
        // "十二", not "一十二", when ten is the leading place.
        if !(place == 10 && d == 1 && out.is_empty()) {
            out.push(DIGITS[d as usize]);
        }
        if place > 1 {
            out.push(unit);
        }
        if n.is_multiple_of(place) {
            break;
        }
    }
    out
}

/// A window id as spoken: each run of digits as a number ("12" 十二) unless it has a
/// leading zero or more than four digits (then digit by digit: "05" 零五); letters stay;
/// '-' and '_' are not said.
pub fn window(id: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let as_number = run.len() <= NATURAL_DIGITS_MAX && !(run.len() > 1 && run.starts_with('0'));
        match run.parse::<u32>() {
            Ok(n) if as_number => out.push_str(&natural(n)),
            _ => out.push_str(&number(run)),
        }
        run.clear();
    };
    for c in id.chars() {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        flush(&mut run, &mut out);
        if c != '-' && c != '_' {
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The short form of a call-out, said when calls queue up on a lobby screen: the number
/// and the window only, so that a burst of calls is said in a third less time.
pub const BRIEF_TEMPLATE: &str = "{number}，{window}号窗口";

/// The call-out as spoken: the hall's template (`请{number}号到{window}号窗口办理`) with the
/// number and window in words.
pub fn speech(template: &str, ticket: &str, window_id: &str) -> String {
    template.replace("{number}", &number(ticket)).replace("{window}", &window(window_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_are_read_digit_by_digit() {
        for (n, said) in [
            ("A012", "A零一二"),
            ("A001", "A零零一"),
            ("B100", "B一零零"),
            ("V010", "V零一零"),
            ("A1000", "A一零零零"),
            ("AB999", "AB九九九"),
        ] {
            assert_eq!(number(n), said, "{n}");
        }
    }

    #[test]
    fn window_numbers_are_read_as_numbers() {
        for (w, said) in [
            ("0", "零"),
            ("1", "一"),
            ("5", "五"),
            ("10", "十"),
            ("12", "十二"),
            ("20", "二十"),
            ("21", "二十一"),
            ("99", "九十九"),
            ("100", "一百"),
            ("101", "一百零一"),
            ("110", "一百一十"),
            ("115", "一百一十五"),
            ("1000", "一千"),
            ("1005", "一千零五"),
            ("1010", "一千零一十"),
            ("1200", "一千二百"),
            ("9999", "九千九百九十九"),
        ] {
            assert_eq!(window(w), said, "{w}");
        }
    }

    #[test]
    fn window_codes_keep_letters_and_read_odd_digit_runs_one_by_one() {
        for (w, said) in
            [("B3", "B三"), ("2F-05", "二F零五"), ("east_12", "east十二"), ("123456", "一二三四五六"), ("A", "A")]
        {
            assert_eq!(window(w), said, "{w}");
        }
    }

    #[test]
    fn the_template_gets_the_spoken_forms() {
        assert_eq!(speech("请{number}号到{window}号窗口办理", "A012", "5"), "请A零一二号到五号窗口办理");
        assert_eq!(speech("请{number}号到{window}号窗口办理", "B101", "12"), "请B一零一号到十二号窗口办理");
        assert_eq!(speech("{number} {window}", "V001", "11"), "V零零一 十一");
        assert_eq!(speech(BRIEF_TEMPLATE, "A036", "2"), "A零三六，二号窗口");
    }
}
