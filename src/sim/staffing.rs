//! The staffing schedule (`--staffing FILE`): when clerks sit at which windows through the
//! simulated day — shifts, lunch breaks, a window staffed only for the morning peak.
//!
//! A rota is a CSV file with the header `window,from,to`, one shift a line, the same every
//! simulated day; blank lines and lines starting with `#` are skipped. `window` is a window id, several
//! ids separated by spaces, or `*` for every window no other line names. `from` and `to`
//! are local times `HH:MM`; `to` may be `drain`: the clerk stays past the hall's closing
//! until nothing the window serves is waiting. A window no line covers is never staffed.
//! Without a rota every window works one `drain` shift from the hall's first opening.
//!
//! Parsing checks the text alone; `resolve` checks it against one hall's windows, so that a
//! wrong rota is refused, naming file and line, before anything runs.

use super::hall::SimHall;
use super::input::{clock_ms, InputError};

/// The most lines a rota may hold: a 60-window hall with a dozen shifts each is 720.
pub const ROTA_LINES_MAX: usize = 10_000;
/// One day, in ms: the latest a shift may end.
const DAY_MS: i64 = 24 * 3_600_000;

/// When a shift ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftEnd {
    /// At this time (ms after local midnight): the clerk finishes the visitor at the
    /// counter and leaves.
    At(i64),
    /// When the hall has closed and nothing the window serves is waiting.
    Drain,
}

/// One stretch of a clerk at a window, in ms after local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    pub from_ms: i64,
    pub to: ShiftEnd,
}

/// Which windows a rota line is about.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Who {
    All,
    Windows(Vec<String>),
}

/// One line of a rota, kept with its line number for errors found against a hall.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    line: usize,
    who: Who,
    shift: Shift,
}

/// A parsed rota, not yet checked against a hall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rota {
    file: String,
    lines: Vec<Line>,
}

impl Rota {
    /// Reads `window,from,to` CSV from `text`; `file` names it in errors. Ids hold no
    /// commas or quotes, so a line is split by hand, which keeps comment lines counted.
    pub fn parse(file: &str, text: &str) -> Result<Rota, InputError> {
        let err = |line: usize, message: String| InputError::Staffing { file: file.to_string(), line, message };
        let mut rows = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let header = rows.next().map(|(line, h)| (line, h.split(',').map(str::trim).collect::<Vec<_>>()));
        match header {
            Some((_, h)) if h == ["window", "from", "to"] => {}
            Some((line, _)) => return Err(err(line, "the header must be window,from,to".into())),
            None => return Err(err(1, "no header; the first line must be window,from,to".into())),
        }
        let mut lines = Vec::new();
        for (line, row) in rows {
            if lines.len() >= ROTA_LINES_MAX {
                return Err(err(line, format!("more than {ROTA_LINES_MAX} shifts; is this the right file?")));
            }
            let fields: Vec<&str> = row.split(',').map(str::trim).collect();
            let [who, from, to] = fields[..] else {
                return Err(err(line, format!("expected 3 fields (window,from,to), found {}", fields.len())));
            };
            let who = match who {
                "" => return Err(err(line, "no window; write an id, ids separated by spaces, or *".into())),
                "*" => Who::All,
                ids => Who::Windows(ids.split_whitespace().map(String::from).collect()),
            };
            let from_ms = clock_ms(from)
                .filter(|ms| *ms < DAY_MS)
                .ok_or_else(|| err(line, format!("from {from:?} is not a time HH:MM")))?;
            let end = match to {
                "drain" => ShiftEnd::Drain,
                t => ShiftEnd::At(
                    until_ms(t)
                        .ok_or_else(|| err(line, format!("to {t:?} is not a time HH:MM (up to 24:00) or drain")))?,
                ),
            };
            if matches!(end, ShiftEnd::At(t) if t <= from_ms) {
                return Err(err(line, format!("the shift ends ({to}) before it starts ({from})")));
            }
            lines.push(Line { line, who, shift: Shift { from_ms, to: end } });
        }
        Ok(Rota { file: file.to_string(), lines })
    }

    /// The shifts of each of `hall`'s windows (in the order of its setup), sorted; refuses
    /// unknown windows and overlapping shifts.
    pub fn resolve(&self, hall: &SimHall) -> Result<Vec<Vec<Shift>>, InputError> {
        let err = |line: usize, message: String| InputError::Staffing { file: self.file.clone(), line, message };
        let windows = &hall.setup.windows;
        let mut named: Vec<Vec<(usize, Shift)>> = vec![Vec::new(); windows.len()];
        let mut all: Vec<(usize, Shift)> = Vec::new();
        for l in &self.lines {
            match &l.who {
                Who::All => all.push((l.line, l.shift)),
                Who::Windows(ids) => {
                    for id in ids {
                        let ix = windows.iter().position(|w| w.id.as_str() == id).ok_or_else(|| {
                            err(
                                l.line,
                                format!("{} has no window {id:?}", hall.name.chars().take(60).collect::<String>()),
                            )
                        })?;
                        named[ix].push((l.line, l.shift));
                    }
                }
            }
        }
        named
            .into_iter()
            .zip(windows)
            .map(|(mut shifts, w)| {
                if shifts.is_empty() {
                    shifts = all.clone();
                }
                shifts.sort_by_key(|(_, s)| s.from_ms);
                check_window(&shifts, w.id.as_str()).map_err(|(line, m)| err(line, m))?;
                Ok(shifts.into_iter().map(|(_, s)| s).collect())
            })
            .collect()
    }
}

/// The rota without a file: every window one `drain` shift from the hall's opening.
pub fn default_shifts(hall: &SimHall) -> Vec<Vec<Shift>> {
    let shift = Shift { from_ms: hall.plan.open_ms, to: ShiftEnd::Drain };
    vec![vec![shift]; hall.setup.windows.len()]
}

/// Refuses overlapping shifts of one window (sorted by start) and shifts after a `drain`.
fn check_window(shifts: &[(usize, Shift)], window: &str) -> Result<(), (usize, String)> {
    for pair in shifts.windows(2) {
        let ((_, a), (line, b)) = (pair[0], pair[1]);
        match a.to {
            ShiftEnd::Drain => return Err((line, format!("window {window} has a shift after its drain shift"))),
            ShiftEnd::At(end) if b.from_ms < end => {
                return Err((line, format!("window {window}'s shifts overlap")));
            }
            ShiftEnd::At(_) => {}
        }
    }
    Ok(())
}

/// `HH:MM` or `HH:MM:SS` up to `24:00`, in ms after midnight.
fn until_ms(s: &str) -> Option<i64> {
    if matches!(s.trim(), "24:00" | "24:00:00") {
        return Some(DAY_MS);
    }
    clock_ms(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    const H: i64 = 3_600_000;

    fn hall() -> SimHall {
        let cfg = config::embedded_default().expect("the example hall loads");
        SimHall::from_config("example", cfg, 0, 0)
    }

    fn at(h: i64, m: i64) -> i64 {
        h * H + m * 60_000
    }

    /// Parses and resolves `body` (after the header) against the example hall: the shifts
    /// of windows 1 and 12, or the error's line and message.
    fn check(body: &str) -> Result<(Vec<Shift>, Vec<Shift>), (usize, String)> {
        let text = format!("window,from,to\n{body}");
        let shifts = Rota::parse("rota.csv", &text).and_then(|r| r.resolve(&hall())).map_err(|e| match e {
            InputError::Staffing { file, line, message } => {
                assert_eq!(file, "rota.csv");
                (line, message)
            }
            other => (0, other.to_string()),
        })?;
        Ok((shifts[0].clone(), shifts[11].clone()))
    }

    #[test]
    fn reads_rotas() {
        let day = |from, to| Shift { from_ms: from, to: ShiftEnd::At(to) };
        let lunch = "*,08:30,12:00\n*,13:00,drain\n";
        let rows: &[(&str, Vec<Shift>, Vec<Shift>)] = &[
            (
                lunch,
                vec![day(at(8, 30), at(12, 0)), Shift { from_ms: at(13, 0), to: ShiftEnd::Drain }],
                vec![day(at(8, 30), at(12, 0)), Shift { from_ms: at(13, 0), to: ShiftEnd::Drain }],
            ),
            // A named window's own lines replace the `*` lines; comments are skipped.
            (
                "# morning peak only\n12,08:30,11:00\n*,08:00,24:00\n",
                vec![day(at(8, 0), 24 * H)],
                vec![day(at(8, 30), at(11, 0))],
            ),
            // Several windows on one line; a window no line covers is never staffed.
            ("1 2 3,09:00:30,10:00\n", vec![day(at(9, 0) + 30_000, at(10, 0))], vec![]),
            // Out of order in the file, sorted by start.
            ("1,14:00,15:00\n1,08:30,09:00\n", vec![day(at(8, 30), at(9, 0)), day(at(14, 0), at(15, 0))], vec![]),
        ];
        for (body, w1, w12) in rows {
            assert_eq!(check(body), Ok((w1.clone(), w12.clone())), "{body}");
        }
    }

    #[test]
    fn refuses_bad_rotas_naming_the_line() {
        let rows: &[(&str, usize, &str)] = &[
            ("1,8.30,12:00\n", 2, "from \"8.30\" is not a time"),
            ("1,08:30,25:00\n", 2, "to \"25:00\" is not a time"),
            ("*,08:30,12:00\n1,12:00,11:00\n", 3, "ends (11:00) before it starts"),
            ("*,08:30,12:00\n# note\n99,08:30,12:00\n", 4, "no window \"99\""),
            ("1,08:30,12:00\n1,11:00,13:00\n", 3, "window 1's shifts overlap"),
            ("1,08:30,drain\n1,13:00,14:00\n", 3, "window 1 has a shift after its drain shift"),
            ("1,08:30\n", 2, "expected 3 fields"),
            ("1,08:30,12:00,13:00\n", 2, "found 4"),
            (",08:30,12:00\n", 2, "no window"),
        ];
        for (body, line, message) in rows {
            match check(body) {
                Err((l, m)) => assert!(l == *line && m.contains(message), "{body}: got line {l}: {m}"),
                Ok(s) => panic!("{body}: accepted as {s:?}"),
            }
        }
        let header = Rota::parse("r.csv", "win,from,to\n1,08:30,12:00\n");
        assert!(matches!(header, Err(InputError::Staffing { line: 1, .. })), "{header:?}");
    }

    #[test]
    fn without_a_rota_every_window_works_from_opening_until_the_line_is_empty() {
        let shifts = default_shifts(&hall());
        assert_eq!(shifts.len(), 60, "the example hall's sixty windows");
        assert!(shifts.iter().all(|s| s == &[Shift { from_ms: at(8, 30), to: ShiftEnd::Drain }]));
    }
}
