//! 考勤考核 in the core (issue 17 §5, the follow-up's point 6): the scorecards' fold over
//! hand-built facts and records with answers worked out by hand — signed-in time runs
//! from the sign-in to the sign-out, the session's expiry, a disable or a reset, or the
//! day's end, not from a window's opening; a
//! window open over midnight counts up to the day's end, and what it ran on after counts
//! on the next day from that day's opening.

use crate::core_support;

use core_support::*;
use hallq::core::event::Event;
use hallq::core::facts::{Desk, Fact, What};
use hallq::core::model::Ts;
use hallq::core::scorecard::{ClerkDay, Scorecards};

const MIN: u64 = 60_000;

fn desk(window: &str, clerk: &str) -> Desk {
    Desk { window: w(window), clerk: Some(user(clerk)) }
}

fn fact(at: Ts, what: What) -> Fact {
    Fact { seq: 0, at, what }
}

fn opened(s: &mut Scorecards, at: Ts, window: &str, clerk: &str) {
    s.observe(&fact(at, What::WindowOpened { desk: desk(window, clerk) }));
}

fn closed(s: &mut Scorecards, at: Ts, window: &str, clerk: &str) {
    s.observe(&fact(at, What::WindowClosed { desk: desk(window, clerk), forced: false }));
}

/// A sign-in whose session outlasts the test day (sixteen hours).
fn sign_in(s: &mut Scorecards, at: Ts, name: &str) {
    s.observe_sign(at, &Event::UserLoggedIn { name: user(name), session_ms: Some(16 * 60 * MIN) });
}

fn sign_out(s: &mut Scorecards, at: Ts, name: &str) {
    s.observe_sign(at, &Event::UserLoggedOut { name: user(name), elsewhere: false });
}

/// The test day's end: the next day's midnight.
fn day_end() -> Ts {
    t_on(1, 0, 0, 0)
}

#[test]
fn signed_in_time_runs_from_sign_in_to_sign_out_or_the_days_end() {
    let mut s = Scorecards::until(day_end());
    // c1: signed in 08:50, a window 09:00–11:00, a second device at 09:30 changes nothing,
    // signed out 11:20: 150 minutes signed in, 120 with a window open.
    sign_in(&mut s, t(8, 50), "c1");
    opened(&mut s, t(9, 0), "1", "c1");
    sign_in(&mut s, t(9, 30), "c1");
    closed(&mut s, t(11, 0), "1", "c1");
    sign_out(&mut s, t(11, 20), "c1");
    // Signed in again 14:00–14:30.
    sign_in(&mut s, t(14, 0), "c1");
    sign_out(&mut s, t(14, 30), "c1");
    // c2: signed in at 16:00 and never out; the next day opens at 00:05: 8 hours, to the
    // day's end only.
    sign_in(&mut s, t(16, 0), "c2");
    // c3: a sign-out with no sign-in counts nothing.
    sign_out(&mut s, t(12, 0), "c3");
    let (days, carry) = s.finish(t_on(1, 0, 5, 0));
    assert_eq!(
        (days[&user("c1")].signed_in_ms, days[&user("c1")].open_ms),
        (180 * MIN, 120 * MIN),
        "{:?}",
        days[&user("c1")]
    );
    assert_eq!((days[&user("c2")].signed_in_ms, days[&user("c2")].open_ms), (8 * 60 * MIN, 0));
    assert_eq!(days.get(&user("c3")).map_or(0, |d| d.signed_in_ms), 0);
    assert!(carry.is_empty(), "signed-in time is never carried: {carry:?}");
}

#[test]
fn signed_in_time_of_today_runs_to_the_folds_end() {
    let mut s = Scorecards::until(day_end());
    sign_in(&mut s, t(9, 0), "c1");
    let (days, _) = s.finish(t(10, 15));
    assert_eq!(days[&user("c1")].signed_in_ms, 75 * MIN);
}

/// A window open over midnight (its clerk serving past it, so the next day opens only at
/// 00:41): the day counts 22:00–24:00 open and 23:50–24:00 paused; the next day counts
/// 00:00–00:40 open and 00:00–00:10 paused, from its opening, beside its own 09:00–10:00.
#[test]
fn a_window_open_over_midnight_counts_on_the_next_day_from_its_opening() {
    let mut s = Scorecards::until(day_end());
    opened(&mut s, t(22, 0), "1", "c1");
    s.observe(&fact(t(23, 50), What::WindowPaused { desk: desk("1", "c1"), reason: Some("away".into()) }));
    s.observe(&fact(t_on(1, 0, 10, 0), What::WindowResumed { desk: desk("1", "c1") }));
    closed(&mut s, t_on(1, 0, 40, 0), "1", "c1");
    // Window 2 left open, closed by the next day's opening at 00:41.
    opened(&mut s, t(23, 0), "2", "c2");
    let (days, carry) = s.finish(t_on(1, 0, 41, 0));
    let d1 = &days[&user("c1")];
    assert_eq!((d1.open_ms, d1.paused_total_ms()), (120 * MIN, 10 * MIN), "{d1:?}");
    assert_eq!(d1.last_close, None, "the day saw no close before its end: {d1:?}");
    assert_eq!(days[&user("c2")].open_ms, 60 * MIN);
    let c1 = &carry[&user("c1")];
    assert_eq!((c1.open_ms, c1.paused_ms.get("away").copied()), (40 * MIN, Some(10 * MIN)), "{c1:?}");
    assert_eq!((c1.windows.clone(), c1.last_close), (vec![w("1")], Some(t_on(1, 0, 40, 0))));
    assert_eq!(carry[&user("c2")].open_ms, 41 * MIN);

    // The next day: its own window 09:00–10:00, and the carry from its opening at 00:00.
    let mut next = Scorecards::until(t_on(2, 0, 0, 0));
    opened(&mut next, t_on(1, 9, 0, 0), "3", "c1");
    closed(&mut next, t_on(1, 10, 0, 0), "3", "c1");
    let (mut days, _) = next.finish(t_on(1, 10, 0, 0));
    let day = days.get_mut(&user("c1")).expect("c1's next day");
    day.take_carry(c1, day_end());
    assert_eq!((day.open_ms, day.paused_total_ms()), (100 * MIN, 10 * MIN), "{day:?}");
    assert_eq!((day.first_open, day.windows.clone()), (Some(day_end()), vec![w("1"), w("3")]));
    assert_eq!(day.last_close, Some(t_on(1, 10, 0, 0)));
    // A clerk who did nothing else the next day gets a row of the carry alone.
    let mut only = ClerkDay::default();
    only.take_carry(&carry[&user("c2")], day_end());
    assert_eq!((only.open_ms, only.first_open), (41 * MIN, Some(day_end())));
}

/// Signed-in time is the user's: a sign-out while another session of theirs is live (the
/// shell says `elsewhere`) leaves it running; a record written before `elsewhere` was kept
/// reads as the last sign-out, as it ended the time then.
#[test]
fn a_sign_out_elsewhere_leaves_the_time_running() {
    let mut s = Scorecards::until(day_end());
    sign_in(&mut s, t(9, 0), "c1");
    sign_in(&mut s, t(9, 30), "c1");
    s.observe_sign(t(10, 0), &Event::UserLoggedOut { name: user("c1"), elsewhere: true });
    sign_out(&mut s, t(11, 0), "c1");
    let (days, _) = s.finish(t(12, 0));
    assert_eq!(days[&user("c1")].signed_in_ms, 120 * MIN);
    let old: Event = serde_json::from_str(r#"{"type":"user_logged_out","name":"c1"}"#).expect("an old record");
    assert_eq!(old, Event::UserLoggedOut { name: user("c1"), elsewhere: false });
    let new = serde_json::to_string(&old).expect("serialises");
    assert!(!new.contains("elsewhere"), "a last sign-out is written as before: {new}");
}

fn signed_in_minutes(s: Scorecards, end: Ts, name: &str) -> u64 {
    let (days, _) = s.finish(end);
    days.get(&user(name)).map_or(0, |d| d.signed_in_ms / MIN)
}

/// A session that ends without a sign-out counts to its expiry, not to the day's end: a
/// tablet left signed in, a session pushed out. A sign-in after every session expired
/// starts a new span; one while a session is live moves the end. A disable and an admin's
/// password reset end every session (an admin's reset of their own does not); a record
/// from before expiries were kept still runs to the day's end.
#[test]
fn a_session_without_a_sign_out_ends_at_its_expiry_a_disable_or_a_reset() {
    let hour = 60 * MIN;
    let login = |s: &mut Scorecards, at: Ts, name: &str, ms: Option<u64>| {
        s.observe_sign(at, &Event::UserLoggedIn { name: user(name), session_ms: ms })
    };
    let mut s = Scorecards::until(day_end());
    // c1: 08:00 for 2 h (expires 10:00 unseen), again 13:00 for 2 h and 14:00 for 2 h
    // (one span to 16:00): 2 h + 3 h.
    login(&mut s, t(8, 0), "c1", Some(2 * hour));
    login(&mut s, t(13, 0), "c1", Some(2 * hour));
    login(&mut s, t(14, 0), "c1", Some(2 * hour));
    // c2: disabled at 10:30 after a 09:00 sign-in for 8 h: 90 min.
    login(&mut s, t(9, 0), "c2", Some(8 * hour));
    let by = user("admin");
    s.observe_sign(t(10, 30), &Event::UserDisabled { name: user("c2"), by: by.clone() });
    // c3: an admin resets c3's password at 11:00 (09:00 sign-in): 2 h. The admin resets
    // their own at 10:00 and stays signed in to their session's end at 12:00: 3 h.
    login(&mut s, t(9, 0), "c3", Some(8 * hour));
    login(&mut s, t(9, 0), "admin", Some(3 * hour));
    let hash = || hallq::core::staff::PasswordHash("$argon2id$x".into());
    s.observe_sign(t(10, 0), &Event::PasswordReset { name: by.clone(), password_hash: hash(), by: by.clone() });
    s.observe_sign(t(11, 0), &Event::PasswordReset { name: user("c3"), password_hash: hash(), by });
    // c4: a record from before expiries were kept: to the fold's end.
    login(&mut s, t(9, 0), "c4", None);
    let end = t(18, 0);
    for (name, minutes) in [("c1", 5 * 60), ("c2", 90), ("c3", 120), ("admin", 180), ("c4", 9 * 60)] {
        assert_eq!(signed_in_minutes(s.clone(), end, name), minutes, "{name}");
    }
    // A sign-out after the session expired counts to the expiry.
    let mut late = Scorecards::until(day_end());
    login(&mut late, t(9, 0), "c5", Some(hour));
    sign_out(&mut late, t(12, 0), "c5");
    assert_eq!(signed_in_minutes(late, end, "c5"), 60);
}
