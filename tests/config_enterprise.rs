//! `[enterprises]` (助企服务) as hallq reads it: the example hall's six enterprises, each
//! credit code checked (its GB 32100-2015 check character) and kept only as a
//! `CreditCode` whose `Debug` hides it; errors naming the CSV's file, line and column for a
//! wrong check character, an unknown or non-clerk specialist, a repeated id or code, a
//! bad name, a missing file or queue; and a hall without the table keeps no registry.

use crate::support;

use hallq::config::load_dir;

const HEADER: &str = "id,name,credit_code,specialist\n";

/// The example hall with `csv` as its enterprises.csv and `edit` applied to hall.toml.
fn load(csv: &str, edit: impl Fn(String) -> String) -> Result<hallq::config::Config, String> {
    let dir = support::config_dir(edit);
    std::fs::write(dir.path().join("enterprises.csv"), csv).expect("write enterprises.csv");
    load_dir(dir.path()).map_err(|e| e.to_string())
}

fn example_csv() -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/enterprises.csv"))
        .expect("the example enterprises.csv")
}

#[test]
fn the_example_hall_registers_six_enterprises_for_two_specialists_in_queue_b() {
    let c = load(&example_csv(), |h| h).expect("the example hall");
    assert_eq!(c.setup.enterprises.as_ref().map(|p| p.queue.as_str()), Some("B"));
    assert_eq!(c.enterprises.len(), 6);
    let specialists: Vec<&str> = c.enterprises.iter().map(|e| e.specialist.as_str()).collect();
    assert_eq!(specialists, ["zhuanyuan1", "zhuanyuan1", "zhuanyuan1", "zhuanyuan2", "zhuanyuan2", "zhuanyuan2"]);
    // The compiled-in example is the same hall.
    let embedded = hallq::config::embedded_default().expect("the embedded hall");
    assert_eq!(embedded.enterprises, c.enterprises);
    // A config printed for a bug report shows no code.
    assert!(!format!("{:?}", c.enterprises).contains("91510100MA6CAY4CLW"));
}

#[test]
fn bad_rows_are_named_with_file_line_and_column() {
    // (a row after the header, what the error must name)
    let cases = [
        (
            "E1,甲公司,91510100MA6CAY4CLX,zhuanyuan1",
            "enterprises.csv:2: credit_code: the unified social credit code's check",
        ),
        ("E1,甲公司,91510100MA6CAY4CL,zhuanyuan1", "enterprises.csv:2: credit_code: no 18-character"),
        ("E1,甲公司,91510100MA6CAY4CLW,nobody", "enterprises.csv:2: specialist: unknown specialist \"nobody\""),
        (
            "E1,甲公司,91510100MA6CAY4CLW,supervisor",
            "unknown specialist \"supervisor\"; name a [[user]] with role = \"clerk\"",
        ),
        ("E 1,甲公司,91510100MA6CAY4CLW,zhuanyuan1", "enterprises.csv:2: id"),
        ("E1,,91510100MA6CAY4CLW,zhuanyuan1", "enterprises.csv:2: name: a name has 1 to 100 characters"),
    ];
    for (row, named) in cases {
        let err = load(&format!("{HEADER}{row}\n"), |h| h).expect_err(row);
        assert!(err.contains(named), "{row:?}: {err}");
        assert!(!err.contains("91510100MA6CAY4C"), "an error shows the code: {err}");
    }
    let twice = format!("{HEADER}E1,甲,91510100MA6CAY4CLW,zhuanyuan1\nE1,乙,91510100MA6112TH3X,zhuanyuan1\n");
    assert!(load(&twice, |h| h).is_err_and(|e| e.contains("enterprise E1 is listed twice")));
    let same_code = format!("{HEADER}E1,甲,91510100MA6CAY4CLW,zhuanyuan1\nE2,乙,91510100ma6cay4clw,zhuanyuan1\n");
    assert!(load(&same_code, |h| h).is_err_and(|e| e.contains("credit code is another row's too")));
    let no_column = "id,name,specialist\nE1,甲,zhuanyuan1\n";
    assert!(load(no_column, |h| h).is_err_and(|e| e.contains("missing column(s) credit_code")));
}

#[test]
fn a_missing_file_or_queue_is_named_and_a_hall_without_the_table_keeps_no_registry() {
    let err =
        load(&example_csv(), |h| h.replace("csv = \"enterprises.csv\"", "csv = \"nope.csv\"")).expect_err("no file");
    assert!(err.contains("hall.toml:") && err.contains("enterprises.csv") && err.contains("nope.csv"), "{err}");
    let err = load(&example_csv(), |h| {
        h.replace(
            "[enterprises]\ncsv = \"enterprises.csv\"\nqueue = \"B\"",
            "[enterprises]\ncsv = \"enterprises.csv\"\nqueue = \"Q\"",
        )
    })
    .expect_err("no queue Q");
    assert!(err.contains("enterprises.queue: unknown queue \"Q\""), "{err}");
    let c = load(&example_csv(), |h| {
        let start = h.find("[enterprises]\n").expect("the table");
        let end = start + h[start..].find("personal_hold_minutes = 10\n").expect("its last key") + 27;
        format!("{}{}", &h[..start], &h[end..])
    })
    .expect("a hall without the table");
    assert!(c.setup.enterprises.is_none() && c.enterprises.is_empty());
}

/// `personal_hold_minutes` (issue 17 follow-up point 2): read, 10 when absent, and out of
/// its bounds an error naming the key.
#[test]
fn the_personal_lines_hold_is_a_bounded_key() {
    let hold = |c: &hallq::config::Config| c.setup.enterprises.as_ref().map(|p| p.personal_hold_min);
    let c = load(&example_csv(), |h| h.replace("personal_hold_minutes = 10", "personal_hold_minutes = 25")).unwrap();
    assert_eq!(hold(&c), Some(25));
    let c = load(&example_csv(), |h| h.replace("personal_hold_minutes = 10\n", "")).expect("without the key");
    assert_eq!(hold(&c), Some(hallq::core::enterprise::PERSONAL_HOLD_MIN_DEFAULT));
    for bad in ["0", "241", "-5"] {
        let err = load(&example_csv(), |h| {
            h.replace("personal_hold_minutes = 10", &format!("personal_hold_minutes = {bad}"))
        })
        .expect_err("out of bounds");
        assert!(err.contains(&format!("personal_hold_minutes is {bad}; use a value from 1 to 240")), "{err}");
    }
}

#[test]
fn a_registry_past_its_bound_is_refused() {
    let rows: String = (0..=hallq::core::enterprise::ENTERPRISES_MAX)
        .map(|n| format!("E{n},企业{n},91510100MA6CAY4CLW,zhuanyuan1\n"))
        .collect();
    let err = load(&format!("{HEADER}{rows}"), |h| h).expect_err("too many");
    assert!(err.contains("5001 enterprises; a registry holds at most 5000"), "{err}");
}
