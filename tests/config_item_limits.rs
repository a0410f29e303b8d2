//! `limit_days` (承诺办结时限, issue 17 §5) as hallq reads it: the example catalogue's
//! example values by category, an optional CSV column (a spreadsheet without it loads as
//! before) and TOML key, and errors naming file, line and column for a bad value.

use crate::support;

use hallq::config::load_dir;

fn load(edit_csv: impl Fn(String) -> String) -> Result<hallq::config::Config, String> {
    let dir = support::config_dir(|h| h);
    let path = dir.path().join("services.csv");
    let csv = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    std::fs::write(&path, edit_csv(csv)).map_err(|e| e.to_string())?;
    load_dir(dir.path()).map_err(|e| e.to_string())
}

#[test]
fn the_example_catalogue_states_a_limit_for_every_csv_item() {
    let c = load(|csv| csv).expect("the example hall");
    let item = |code: &str| c.setup.items.iter().find(|i| i.code.as_str() == code).expect(code).limit_days;
    assert_eq!(item("SC-0001"), Some(1), "企业开办: one working day");
    let stated = c.setup.items.iter().filter(|i| i.limit_days.is_some()).count();
    assert_eq!(stated, 629, "every CSV item; services.toml's own items state none");
    assert!(c.setup.items.iter().any(|i| i.limit_days == Some(0)), "some items are done on the spot (即办)");
}

#[test]
fn a_csv_without_the_column_loads_as_before() {
    let c =
        load(|csv| csv.lines().map(|l| l.rsplit_once(',').map_or(l, |(head, _)| head).to_string() + "\n").collect())
            .expect("no limit column");
    assert_eq!(c.setup.items.len(), 632, "629 from the CSV, 3 from services.toml");
    assert!(c.setup.items.iter().all(|i| i.limit_days.is_none()));
}

#[test]
fn an_empty_cell_states_none() {
    let c = load(|csv| {
        csv.replacen("股东主体资格证明；董事监事经理任职文件,1\n", "股东主体资格证明；董事监事经理任职文件,\n", 1)
    })
    .expect("an empty cell");
    let first = c.setup.items.iter().find(|i| i.code.as_str() == "SC-0001").expect("SC-0001");
    assert_eq!(first.limit_days, None);
}

#[test]
fn bad_limits_are_named_with_file_line_and_column() {
    for (cell, says) in
        [("5天", "limit_days \"5天\" is not a whole number"), ("366", "limit_days is 366"), ("-1", "limit_days is -1")]
    {
        let err = load(|csv| {
            csv.replacen(
                "股东主体资格证明；董事监事经理任职文件,1\n",
                &format!("股东主体资格证明；董事监事经理任职文件,{cell}\n"),
                1,
            )
        })
        .expect_err(cell);
        assert!(err.contains("services.csv:2: limit_days:") && err.contains(says), "{cell}: {err}");
    }
}
