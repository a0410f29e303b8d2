//! `[[window_range]]` as hallq reads it (issue 17 §5): the example hall's windows 13-60, four
//! ranges, make their clerks and rating tablets exactly as the long form of windows 1-12 would,
//! and a range that is wrong or clashes with the long form is an error naming file, line and key.

use crate::support;

use hallq::config::{load_dir, Role};

/// The example hall, edited, as `load_dir` reads it (its windows 13-60 are four ranges).
fn load(edit: impl Fn(String) -> String) -> Result<hallq::config::Config, String> {
    let dir = support::config_dir(edit);
    load_dir(dir.path()).map_err(|e| e.to_string())
}

/// The example hall's first range, to edit.
const FIRST: &str = "from = 13\nto = 48\nname = \"{n}号综合窗口\"\nqueues = [\"A\"]\n";

#[test]
fn a_range_makes_what_the_long_form_would() {
    let c = load(|h| h).expect("the example hall");
    let w13 = c.setup.windows.iter().find(|w| w.id.as_str() == "13").expect("window 13");
    assert_eq!((w13.name.as_str(), w13.queues[0].as_str()), ("13号综合窗口", "A"));
    let ids: Vec<&str> = c.setup.windows.iter().map(|w| w.id.as_str()).collect();
    let expected: Vec<String> = (1..=60).map(|n| n.to_string()).collect();
    assert_eq!(ids, expected, "windows 1-60 in order, each once");
    let clerk48 = c.users.iter().find(|u| u.name.as_str() == "clerk48").expect("clerk48");
    assert_eq!((clerk48.role, clerk48.windows[0].as_str(), clerk48.windows.len()), (Role::Clerk, "48", 1));
    assert!(hallq::config::verify_password(&clerk48.password_hash, "demo"));
    let e57 = c.evaluators.iter().find(|e| e.window.as_str() == "57").expect("window 57's tablet");
    assert_eq!(e57.token, "demo-rate-57");
    // The long form's users are untouched.
    let clerk1 = c.users.iter().find(|u| u.name.as_str() == "clerk1").expect("clerk1");
    assert_eq!(clerk1.display_name.as_deref(), Some("李明"));
    // The hall compiled into the binary is the same sixty windows.
    let embedded = hallq::config::embedded_default().expect("the embedded example hall");
    let embedded_ids: Vec<&str> = embedded.setup.windows.iter().map(|w| w.id.as_str()).collect();
    assert_eq!(embedded_ids, ids);
}

#[test]
fn a_range_without_clerks_or_tablets_makes_only_windows() {
    let c = load(|h| {
        let out = h.replace("clerk_password_hash = ", "# clerk_password_hash = ");
        out.replace("evaluator_token = ", "# evaluator_token = ")
    })
    .expect("windows only");
    assert_eq!(c.setup.windows.len(), 60);
    assert!(!c.users.iter().any(|u| u.name.as_str() == "clerk13"));
    assert_eq!(c.evaluators.len(), 12);
}

#[test]
fn bad_ranges_are_named_with_file_line_and_key() {
    // (the example's first range's from, to, name and queues replaced by, what the error says)
    let q = "queues = [\"A\"]\n";
    let n = "name = \"{n}号\"\n";
    let cases = [
        (format!("from = 13\nto = 4\n{n}{q}"), "window_range[0].to: to (4) is below from (13)"),
        (format!("from = 0\nto = 4\n{n}{q}"), "window_range[0].from: 0 is not a window number"),
        (format!("from = 13\nto = 48\nname = \"综合窗口\"\n{q}"), "has no {n}"),
        (format!("from = 13\nto = 48\n{n}queues = [\"Q\"]\n"), "unknown queue \"Q\""),
        (format!("from = 13\nto = 48\n{n}queues = []\n"), "at least one queue"),
        (format!("from = 12\nto = 48\n{n}{q}"), "window \"12\" is declared already"),
        (format!("from = 13\nto = 49\n{n}{q}"), "window \"49\" is declared already"),
        (format!("from = 13\nto = 48\n{n}{q}prefer = 1\n"), "window_range[0].prefer"),
        (format!("to = 48\n{n}{q}"), "window_range[0].from"),
    ];
    for (to, says) in cases {
        let err = load(|h| {
            assert!(h.contains(FIRST), "the example hall.toml has {FIRST:?}");
            h.replacen(FIRST, &to, 1)
        })
        .expect_err(&to);
        assert!(err.contains("hall.toml:") && err.contains(says), "{to:?}: {err}");
    }
}

#[test]
fn a_range_clashing_with_a_long_form_user_or_tablet_is_refused() {
    let err = load(|h| h.replace("name = \"clerk12\"", "name = \"clerk20\"")).expect_err("clerk20 twice");
    assert!(err.contains("user \"clerk20\" is declared already"), "{err}");
    let err = load(|h| h.replacen("token = \"demo-rate-1\"", "token = \"demo-rate-13\"", 1)).expect_err("token twice");
    assert!(err.contains("evaluator token \"demo-rate-13\" is taken already"), "{err}");
    let err = load(|h| {
        h.replace(
            "evaluator_token = \"demo-rate-{n}\"\n\n[[window_range]]\nfrom = 49",
            "evaluator_token = \"r{n}\"\n\n[[window_range]]\nfrom = 49",
        )
    })
    .expect_err("short token");
    assert!(err.contains("window_range[0].evaluator_token") && err.contains("bad evaluator_token"), "{err}");
}
