//! `[hall.rating]`, `[hall.calendar]` and `[[evaluator]]` as hallq reads them: the example
//! hall's values, and errors naming file, line and key when wrong.

use crate::support;

use chrono::{NaiveDate, Weekday};
use hallq::config::load_dir;

fn load(edit: impl Fn(String) -> String) -> Result<hallq::config::Config, String> {
    let dir = support::config_dir(edit);
    load_dir(dir.path()).map_err(|e| e.to_string())
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

#[test]
fn the_example_hall_has_six_reasons_a_calendar_and_sixty_evaluators() {
    let c = load(|h| h).expect("the example hall");
    let r = &c.setup.rating;
    assert_eq!((r.case_days, r.ask_s, r.reasons.len()), (5, 60, 6));
    assert!(r.reason("other").is_some_and(|o| o.needs_text && o.name == "其他"));
    assert!(r.reason("slow").is_some_and(|o| !o.needs_text));
    assert_eq!(r.calendar.rest_days, vec![Weekday::Sat, Weekday::Sun]);
    assert!(r.calendar.holidays.contains(&date("2026-10-01")));
    assert!(r.calendar.is_working_day(date("2026-10-10")), "a make-up Saturday");
    assert_eq!(r.closed_kept_days, c.retention_days);
    assert_eq!(c.evaluators.len(), 60);
    assert_eq!(c.evaluators[4].window.as_str(), "5");
    assert!(!format!("{:?}", c.evaluators[4]).contains("demo-rate-5"), "Debug hides the token");
}

#[test]
fn bad_values_are_named_with_file_line_and_key() {
    // (what, text in the example hall.toml, its replacement, the key the error names)
    let cases: [(&str, &str, &str, &str); 10] = [
        ("case_days", "case_days = 5", "case_days = 0", "hall.rating.case_days"),
        ("ask_s", "ask_s = 60", "ask_s = 5", "hall.rating.ask_s"),
        ("reason code", "code = \"slow\"", "code = \"办理慢\"", "hall.rating.reason[1].code"),
        ("duplicate reason", "code = \"slow\"", "code = \"attitude\"", "hall.rating.reason[1].code"),
        ("text", "text = \"required\"", "text = \"yes\"", "hall.rating.reason[5].text"),
        ("weekday", "rest_days = [\"sat\", \"sun\"]", "rest_days = [\"sat\", \"holiday\"]", "hall.calendar.rest_days"),
        ("date", "\"2026-10-01\", \"2026-10-02\"", "\"2026-10-01\", \"2026-10-32\"", "hall.calendar.holidays"),
        (
            "evaluator window",
            "window = \"5\"\ntoken = \"demo-rate-5\"",
            "window = \"61\"\ntoken = \"demo-rate-5\"",
            "evaluator[4].window",
        ),
        ("evaluator token a kiosk's", "token = \"demo-rate-5\"", "token = \"demo-kiosk-1\"", "evaluator[4].token"),
        ("unknown key", "case_days = 5", "case_days = 5\ndeadline = 5", "hall.rating.deadline"),
    ];
    for (what, from, to, key) in cases {
        let err = load(|h| {
            assert!(h.contains(from), "{what}: the example hall.toml has no {from:?}");
            h.replace(from, to)
        })
        .expect_err(what);
        assert!(err.contains("hall.toml"), "{what}: {err}");
        assert!(err.contains(key), "{what}: expected the key {key} in {err}");
    }
}
