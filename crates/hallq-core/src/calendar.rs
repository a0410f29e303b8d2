//! The hall's working-day calendar (`[hall.calendar]`): which dates are working days, and
//! the date a number of working days after another.
//!
//! Chinese public holidays move every year and come with make-up working days (调休) on
//! weekends, so no rule computes them: the hall lists its holidays and its make-up days,
//! and the weekly rest days (Saturday and Sunday unless told otherwise) fill in the rest.
//! Deadlines of bad-rating cases are counted here, so the calendar is pure and total: it
//! answers for any date, and a search forward is bounded.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The most dates `add_working_days` looks at: a year, far past any run of holidays, so a
/// calendar that (wrongly) rests every day still gives an answer instead of looping.
pub const SEARCH_DAYS_MAX: u32 = 366;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    /// Weekdays off every week.
    pub rest_days: Vec<Weekday>,
    /// Dates off although they fall on a working weekday (法定节假日).
    pub holidays: BTreeSet<NaiveDate>,
    /// Dates worked although they fall on a rest day (调休上班); they win over `holidays`.
    pub workdays: BTreeSet<NaiveDate>,
}

impl Default for Calendar {
    /// Saturday and Sunday off, no holidays listed.
    fn default() -> Self {
        Self { rest_days: vec![Weekday::Sat, Weekday::Sun], holidays: BTreeSet::new(), workdays: BTreeSet::new() }
    }
}

impl Calendar {
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        !self.holidays.contains(&day) && !self.rest_days.contains(&day.weekday())
    }

    /// The `n`th working day after `from` (`from` itself does not count, whether or not it
    /// is worked): a case opened on Friday with `n = 5` is due the next Friday in a week
    /// without holidays. `n = 0` is `from`. Past [`SEARCH_DAYS_MAX`] dates it stops and
    /// answers the date it reached.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut day = from;
        let mut left = n;
        let mut looked = 0;
        while left > 0 && looked < SEARCH_DAYS_MAX {
            let Some(next) = day.checked_add_days(Days::new(1)) else { return day };
            day = next;
            looked += 1;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days from `from` (excluded) to `to` (included); 0 when `to` is not after
    /// `from`. Bounded like `add_working_days`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut count = 0;
        let mut day = from;
        let mut looked = 0;
        while day < to && looked < SEARCH_DAYS_MAX {
            let Some(next) = day.checked_add_days(Days::new(1)) else { break };
            day = next;
            looked += 1;
            if self.is_working_day(day) {
                count += 1;
            }
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn five_working_days_skip_the_weekend() {
        let c = Calendar::default();
        // 2026-11-27 is a Friday.
        assert_eq!(c.add_working_days(d("2026-11-27"), 5), d("2026-12-04"));
        // From a Monday: the Monday after.
        assert_eq!(c.add_working_days(d("2026-11-23"), 5), d("2026-11-30"));
        // From a Saturday: the Friday after.
        assert_eq!(c.add_working_days(d("2026-11-28"), 5), d("2026-12-04"));
        assert_eq!(c.add_working_days(d("2026-11-27"), 0), d("2026-11-27"));
    }

    #[test]
    fn holidays_are_skipped_and_make_up_days_count() {
        // National Day 2026: 10-01..10-07 off, Sunday 09-27 and Saturday 10-10 worked.
        let c = Calendar {
            holidays: (1..=7).map(|n| d(&format!("2026-10-0{n}"))).collect(),
            workdays: [d("2026-09-27"), d("2026-10-10")].into_iter().collect(),
            ..Calendar::default()
        };
        assert!(c.is_working_day(d("2026-09-27")), "a make-up Sunday is worked");
        assert!(!c.is_working_day(d("2026-10-05")), "a holiday Monday is not");
        // From Wednesday 09-30: 10-08 (Thu), 10-09 (Fri), 10-10 (make-up Sat), 10-12, 10-13.
        assert_eq!(c.add_working_days(d("2026-09-30"), 5), d("2026-10-13"));
        assert_eq!(c.working_days_between(d("2026-09-30"), d("2026-10-13")), 5);
    }

    #[test]
    fn a_calendar_without_working_days_still_answers() {
        let c = Calendar {
            rest_days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ],
            ..Calendar::default()
        };
        let from = d("2026-01-01");
        assert_eq!(c.add_working_days(from, 5), from + Days::new(u64::from(SEARCH_DAYS_MAX)));
    }
}
