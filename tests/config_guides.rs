//! `[hall.guides]` as hallq reads it: the example hall's bound and its guides; an escort
//! priority naming a declared class; errors naming file, line and key for an unknown
//! class, a bound out of range and an unknown role; and a hall without the table.

use crate::support;

use hallq::config::{load_dir, Role};
use hallq::core::guide::ESCORTS_PER_GUIDE_DEFAULT;

fn load(edit: impl Fn(String) -> String) -> Result<hallq::config::Config, String> {
    let dir = support::config_dir(edit);
    load_dir(dir.path()).map_err(|e| e.to_string())
}

const TABLE: &str = "escorts_max = 3\n";

#[test]
fn the_example_hall_has_two_guides_who_escort_three_each_with_no_priority() {
    let c = load(|h| h).expect("the example hall");
    assert_eq!((c.setup.guides.escorts_max, c.setup.guides.escort_priority.clone()), (3, None));
    let guides: Vec<&str> = c.users.iter().filter(|u| u.role == Role::Guide).map(|u| u.name.as_str()).collect();
    assert_eq!(guides, ["guide1", "guide2"]);
    let c = load(|h| h.replacen(TABLE, "escorts_max = 3\nescort_priority = \"elderly\"\n", 1)).expect("a class");
    assert_eq!(c.setup.guides.escort_priority.map(|p| p.to_string()).as_deref(), Some("elderly"));
}

#[test]
fn bad_values_are_named_with_file_line_and_key() {
    let cases = [
        ("escorts_max = 3\nescort_priority = \"vip\"\n", "hall.guides.escort_priority: unknown priority class \"vip\""),
        ("escorts_max = 0\n", "hall.guides.escorts_max: escorts_max is 0; use a value from 1 to 20"),
        ("escorts_max = 21\n", "hall.guides.escorts_max"),
        ("escorts_max = \"3\"\n", "hall.guides.escorts_max"),
        ("escorts_max = 3\nescorts = 2\n", "hall.guides.escorts"),
    ];
    for (to, named) in cases {
        let err = load(|h| {
            assert!(h.contains(TABLE), "the example hall.toml has {TABLE:?}");
            h.replacen(TABLE, to, 1)
        })
        .expect_err(to);
        assert!(err.contains("hall.toml:") && err.contains(named), "{to:?}: {err}");
    }
    let err =
        load(|h| h.replacen("role = \"guide\"\npassword", "role = \"guides\"\npassword", 1)).expect_err("a bad role");
    assert!(err.contains("unknown role \"guides\"") && err.contains("\"guide\""), "{err}");
}

#[test]
fn a_hall_without_the_table_lets_a_guide_escort_the_default_with_no_priority() {
    let c = load(|h| h.replacen("[hall.guides]\n", "", 1).replacen(TABLE, "", 1)).expect("no table");
    assert_eq!((c.setup.guides.escorts_max, c.setup.guides.escort_priority), (ESCORTS_PER_GUIDE_DEFAULT, None));
}
