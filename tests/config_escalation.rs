//! `[hall.escalation]` as hallq reads it: the example hall's queue, handler, deadline and
//! five reasons; errors naming file, line and key for a queue or handler that does not
//! exist, a deadline out of range and a bad or repeated reason code; and a hall without
//! the table has no escalation.

use crate::support;

use hallq::config::load_dir;

fn load(edit: impl Fn(String) -> String) -> Result<hallq::config::Config, String> {
    let dir = support::config_dir(edit);
    load_dir(dir.path()).map_err(|e| e.to_string())
}

#[test]
fn the_example_hall_sends_stuck_matters_to_queue_z_for_clerk12() {
    let c = load(|h| h).expect("the example hall");
    let p = c.setup.escalation.expect("the example hall escalates");
    assert_eq!((p.queue.as_str(), p.handler.as_str(), p.case_days), ("Z", "clerk12", 5));
    let names: Vec<&str> = p.reasons.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["政策理解偏差", "跨部门协调", "材料缺失", "系统故障", "其他"]);
}

#[test]
fn bad_values_are_named_with_file_line_and_key() {
    // (text in the example hall.toml, its replacement, what the error must name)
    let cases = [
        ("queue = \"Z\"\nhandler", "queue = \"Q\"\nhandler", "hall.escalation.queue: unknown queue \"Q\""),
        ("handler = \"clerk12\"", "handler = \"nobody\"", "hall.escalation.handler: unknown user \"nobody\""),
        ("case_days = 5\n\n[[hall.escalation", "case_days = 31\n\n[[hall.escalation", "hall.escalation.case_days"),
        ("code = \"policy\"", "code = \"政策\"", "hall.escalation.reason[0].code"),
        (
            "code = \"other\"\nname = \"其他\"\n\n[hall.calendar]",
            "code = \"policy\"\nname = \"其他\"\n\n[hall.calendar]",
            "duplicate escalation reason code",
        ),
    ];
    for (from, to, named) in cases {
        let err = load(|h| {
            assert!(h.contains(from), "the example hall.toml has {from:?}");
            h.replacen(from, to, 1)
        })
        .expect_err(to);
        assert!(err.contains("hall.toml:") && err.contains(named), "{to:?}: {err}");
    }
}

#[test]
fn a_hall_without_the_table_has_no_escalation() {
    let c = load(|h| {
        h.replace("[hall.escalation]", "[hall.escalation_off]")
            .replace("[[hall.escalation.reason]]", "[[hall.escalation_off.reason]]")
    });
    // An unknown table is an error too: the key names what is wrong.
    assert!(c.is_err_and(|e| e.contains("escalation_off")));
    let c = load(|h| {
        let start = h.find("\n[hall.escalation]\n").expect("the table");
        let end = h.find("\n[hall.calendar]\n").expect("the next table");
        format!("{}{}", &h[..start], &h[end..])
    });
    assert!(c.expect("a hall without escalation").setup.escalation.is_none());
}
