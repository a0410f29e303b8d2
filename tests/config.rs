//! Loading kiosk-config directories: the example hall, the CSV catalogue, and bad
//! configurations whose every error must name the right file, line and key.

use std::fs;
use std::path::Path;

use hallq::config::{self, ConfigError, Role};
use tempfile::TempDir;

/// A small valid hall; tests replace parts of it to break it.
const HALL: &str = r#"[hall]
id = "t"
name = "测试大厅"
hours = ["08:30-12:00"]

[[queue]]
id = "A"
name = "综合受理"
prefix = "A"

[[queue]]
id = "Z"
name = "办不成事请找我"
prefix = "Z"

[[window]]
id = "1"
name = "1号窗口"
queues = ["A"]

[[window]]
id = "2"
name = "2号窗口"
queues = ["Z", "A"]

[[kiosk]]
id = "k1"
name = "入口取号机"
token = "secret-token-1"

[[user]]
name = "clerk1"
role = "clerk"
password_hash = "HASH"
windows = ["1"]
"#;

const SERVICES: &str = r#"[[category]]
name = "社保"

[[item]]
code = "SC-0001"
name = "社会保障卡申领"
category = "社保"
department = "人力资源和社会保障"
queue = "A"
minutes = 8
materials = ["身份证原件"]

[[item]]
code = "SC-0002"
name = "社会保障卡补领换领"
category = "社保"
department = "人力资源和社会保障"
queue = "A"
minutes = 6
materials = ["身份证原件", "申请表"]

[[bundle]]
id = "YJS-01"
name = "社会保障卡办理一件事"
items = ["SC-0001", "SC-0002"]
"#;

/// A real argon2id hash (of "demo"), taken from the example hall.
fn a_hash() -> String {
    let cfg = config::embedded_default().expect("the embedded default loads");
    cfg.users[0].password_hash.clone()
}

fn write_dir(hall: &str, services: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("hall.toml"), hall.replace("HASH", &a_hash())).expect("write hall.toml");
    fs::write(dir.path().join("services.toml"), services).expect("write services.toml");
    dir
}

fn load_errors(hall: &str, services: &str) -> Vec<ConfigError> {
    let dir = write_dir(hall, services);
    match config::load_dir(dir.path()) {
        Ok(_) => panic!("expected errors; the configuration loaded"),
        Err(errs) => errs.0,
    }
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1).unwrap_or_else(|| panic!("{needle:?} not in text"))
}

fn assert_error(errs: &[ConfigError], file: &str, line: Option<usize>, key: &str, says: &str) {
    let found = errs.iter().any(|e| e.file == file && e.line == line && e.key == key && e.message.contains(says));
    let listed: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert!(found, "no error {file}:{line:?}: {key}: ...{says}...; got:\n{}", listed.join("\n"));
}

#[test]
fn the_embedded_default_loads_a_realistic_hall() {
    let cfg = config::embedded_default().unwrap_or_else(|e| panic!("{e}"));
    let s = &cfg.setup;
    assert!(s.items.len() >= 60, "{} items", s.items.len());
    assert_eq!(s.windows.len(), 60);
    let queues: Vec<&str> = s.queues.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(queues, ["A", "B", "V", "Y", "Z"]);
    let priorities: Vec<&str> = s.priorities.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(priorities, ["elderly", "disabled", "military", "pregnant"]);
    assert!(s.bundles.len() >= 3);
    assert!(s.items.iter().filter(|i| i.queue.as_str() == "B").count() >= 3);
    assert!(s.items.iter().any(|i| i.queue.as_str() == "Z"));
    assert_eq!(s.hours.len(), 2);
    assert_eq!(s.timezone, chrono_tz::Asia::Shanghai);
    assert_eq!(cfg.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(cfg.data_dir, Path::new("./data"));
    assert_eq!(cfg.session_ttl_s, 43_200);
    assert_eq!(s.call_text("A012", &s.windows[4].id), "请A012号到5号窗口办理");
    assert!(cfg.kiosks.iter().any(|k| k.id == "kiosk1" && k.token == "demo-kiosk-1"));
    let clerk5 = cfg.users.iter().find(|u| u.name.as_str() == "clerk5").expect("clerk5");
    assert_eq!((clerk5.role, clerk5.windows[0].as_str()), (Role::Clerk, "5"));
}

#[test]
fn the_embedded_default_reports_its_demo_credentials() {
    let cfg = config::embedded_default().unwrap_or_else(|e| panic!("{e}"));
    let demo = cfg.demo_credentials();
    // Two kiosks, the online channel, sixty evaluators, the metrics token, sixty clerks,
    // two 助企服务 specialists, a supervisor, two guides and an admin.
    assert_eq!(demo.len(), 130, "{demo:#?}");
    assert!(demo.iter().any(|d| d.contains("metrics_token")));
    assert!(demo.iter().any(|d| d.contains("demo-rate-5")));
    assert!(demo.iter().any(|d| d.contains("demo-kiosk-1")));
    assert!(demo.iter().any(|d| d.contains("demo-online-1")));
    for user in ["clerk1", "clerk12", "clerk60", "supervisor", "guide1", "guide2", "admin"] {
        assert!(demo.iter().any(|d| d.contains(&format!("{user:?}"))), "{user} missing from {demo:#?}");
    }
}

#[test]
fn a_hall_without_demo_credentials_reports_none() {
    let dir = write_dir(&HALL.replace("HASH", &config::hash_password("not-demo").expect("hash")), SERVICES);
    let cfg = config::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert!(cfg.demo_credentials().is_empty(), "{:?}", cfg.demo_credentials());
}

#[test]
fn the_repository_kiosk_config_equals_the_embedded_default() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config");
    let from_dir = config::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let embedded = config::embedded_default().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_dir.setup, embedded.setup);
    assert_eq!(from_dir, embedded);
}

#[test]
fn a_small_hall_loads_with_defaults() {
    let dir = write_dir(HALL, SERVICES);
    let cfg = config::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.setup.items.len(), 2);
    assert_eq!(cfg.setup.bundles.len(), 1);
    assert_eq!(cfg.setup.categories, ["社保"]);
    assert_eq!(cfg.setup.timezone, chrono_tz::Asia::Shanghai);
    assert_eq!(cfg.setup.call_template, "请{number}号到{window}号窗口办理");
    assert_eq!((cfg.setup.call_repeat, cfg.setup.max_wait_min), (2, 30));
    assert_eq!(cfg.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(cfg.data_dir, Path::new("./data"));
    assert_eq!(cfg.session_ttl_s, 43_200);
    assert!(cfg.users[0].windows.iter().map(|w| w.as_str()).eq(["1"]));
}

#[test]
fn an_unknown_queue_in_a_window_names_the_line_and_key() {
    let hall = HALL.replace("queues = [\"Z\", \"A\"]", "queues = [\"Z\", \"Q\"]");
    let errs = load_errors(&hall, SERVICES);
    let line = line_of(&hall, "queues = [\"Z\", \"Q\"]");
    assert_error(
        &errs,
        "hall.toml",
        Some(line),
        "window[1].queues",
        "unknown queue \"Q\"; declare it in a [[queue]] table",
    );
    assert_eq!(errs.len(), 1, "{errs:?}");
}

#[test]
fn a_duplicate_item_code_names_the_second_one() {
    let services = SERVICES.replacen("code = \"SC-0002\"", "code = \"SC-0001\"", 1);
    let errs = load_errors(HALL, &services);
    let second = services.lines().enumerate().filter(|(_, l)| l.contains("SC-0001\"")).nth(1).map(|(i, _)| i + 1);
    assert_error(&errs, "services.toml", second, "item[1].code", "duplicate item code \"SC-0001\" (first on line 5)");
}

#[test]
fn user_names_differing_only_in_case_are_one_name() {
    let hall = format!("{HALL}\n[[user]]\nname = \"Clerk1\"\nrole = \"clerk\"\npassword_hash = \"HASH\"\n");
    let errs = load_errors(&hall, SERVICES);
    let first = line_of(&hall, "name = \"clerk1\"");
    let message = format!("duplicate user name \"clerk1\" (first on line {first})");
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "name = \"Clerk1\"")), "user[1].name", &message);
}

#[test]
fn a_bad_timezone_is_reported() {
    let hall = HALL.replace("hours =", "timezone = \"Asia/Beijing\"\nhours =");
    let errs = load_errors(&hall, SERVICES);
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "Asia/Beijing")), "hall.timezone", "unknown time zone");
}

#[test]
fn malformed_hours_are_reported() {
    let hall = HALL.replace("hours = [\"08:30-12:00\"]", "hours = [\"08:30-12:00\",\n  \"13:00 to 17:30\"]");
    let errs = load_errors(&hall, SERVICES);
    let line = line_of(&hall, "13:00 to 17:30");
    assert_error(&errs, "hall.toml", Some(line), "hall.hours", "malformed opening hours \"13:00 to 17:30\"");
}

#[test]
fn hours_that_close_before_they_open_are_reported() {
    let hall = HALL.replace("\"08:30-12:00\"", "\"12:00-08:30\"");
    let errs = load_errors(&hall, SERVICES);
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "12:00-08:30")), "hall.hours", "close before they open");
}

#[test]
fn bad_toml_syntax_names_the_line() {
    let services = SERVICES.replace("minutes = 6", "minutes = = 6");
    let errs = load_errors(HALL, &services);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_error(&errs, "services.toml", Some(line_of(&services, "minutes = = 6")), "", "invalid TOML");
}

#[test]
fn a_dotted_table_without_its_parent_says_to_write_the_parent() {
    // Valid TOML, but the reader needs every table written out to know its lines.
    let hall =
        format!("{HALL}\n[supervision.webhook]\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"0123456789abcdef\"\n");
    let errs = load_errors(&hall, SERVICES);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_error(
        &errs,
        "hall.toml",
        Some(line_of(&hall, "[supervision.webhook]")),
        "supervision.webhook",
        "write a [supervision] line above [supervision.webhook]",
    );
}

#[test]
fn a_queue_no_window_serves_is_an_error() {
    let hall = HALL.replace("queues = [\"Z\", \"A\"]", "queues = [\"A\"]");
    let errs = load_errors(&hall, SERVICES);
    let line = line_of(&hall, "id = \"Z\"");
    assert_error(&errs, "hall.toml", Some(line), "queue[1].id", "no window serves queue \"Z\"");
}

#[test]
fn a_bad_password_hash_is_reported() {
    let hall = HALL.replace("HASH", "$argon2id$v=19$m=19456,t=2,p=1$not-base64!");
    let errs = load_errors(&hall, SERVICES);
    let line = line_of(&hall, "password_hash");
    assert_error(&errs, "hall.toml", Some(line), "user[0].password_hash", "malformed password hash");
}

#[test]
fn a_plain_text_password_is_refused() {
    let hall = HALL.replace("HASH", "demo");
    let errs = load_errors(&hall, SERVICES);
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "password_hash")), "user[0].password_hash", "argon2id");
}

#[test]
fn several_errors_are_all_reported_in_file_and_line_order() {
    let hall = HALL
        .replace("hours = [\"08:30-12:00\"]", "hours = [\"8h-12h\"]\ntimezone = \"Mars/Olympus\"")
        .replace("queues = [\"A\"]", "queues = [\"A\", \"Q\"]")
        .replace("token = \"secret-token-1\"", "token = \"short\"")
        .replace("role = \"clerk\"", "role = \"boss\"");
    let services = SERVICES.replace("minutes = 8", "minutes = 0").replace(
        "category = \"社保\"\ndepartment = \"人力资源和社会保障\"\nqueue = \"A\"\nminutes = 6",
        "category = \"医保\"\ndepartment = \"人力资源和社会保障\"\nqueue = \"X\"\nminutes = 6",
    );
    let errs = load_errors(&hall, &services);
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "8h-12h")), "hall.hours", "malformed opening hours");
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "Mars")), "hall.timezone", "unknown time zone");
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "\"Q\"")), "window[0].queues", "unknown queue \"Q\"");
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "\"short\"")), "kiosk[0].token", "bad kiosk token");
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "boss")), "user[0].role", "unknown role \"boss\"");
    assert_error(&errs, "services.toml", Some(line_of(&services, "minutes = 0")), "item[0].minutes", "from 1 to 240");
    assert_error(&errs, "services.toml", Some(line_of(&services, "\"医保\"")), "item[1].category", "unknown category");
    assert_error(&errs, "services.toml", Some(line_of(&services, "\"X\"")), "item[1].queue", "unknown queue \"X\"");
    assert_eq!(errs.len(), 8, "{errs:#?}");
    let order: Vec<(&str, Option<usize>)> = errs.iter().map(|e| (e.file.as_str(), e.line)).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    let text = config::load_dir(write_dir(&hall, &services).path()).expect_err("errors").to_string();
    assert_eq!(text.lines().count(), 8, "one line per error:\n{text}");
}

#[test]
fn missing_keys_unknown_keys_and_wrong_types_are_reported() {
    let hall = HALL.replace("prefix = \"Z\"", "prefx = \"Z\"").replace("name = \"1号窗口\"", "name = 1");
    let errs = load_errors(&hall, SERVICES);
    let z_table = line_of(&hall, "id = \"Z\"") - 1;
    assert_error(&errs, "hall.toml", Some(z_table), "queue[1].prefix", "missing key; add `prefix = ");
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "prefx")), "queue[1].prefx", "unknown key \"prefx\"");
    assert_error(
        &errs,
        "hall.toml",
        Some(line_of(&hall, "name = 1")),
        "window[0].name",
        "expected a string, found an integer",
    );
}

#[test]
fn bundles_must_name_existing_items() {
    let services = SERVICES.replace("items = [\"SC-0001\", \"SC-0002\"]", "items = [\"SC-0001\",\n  \"SC-9999\"]");
    let errs = load_errors(HALL, &services);
    assert_error(
        &errs,
        "services.toml",
        Some(line_of(&services, "SC-9999")),
        "bundle[0].items",
        "unknown item \"SC-9999\"",
    );
}

#[test]
fn a_missing_catalogue_file_names_the_key_that_points_to_it() {
    let hall = format!("{HALL}\n[catalog]\nservices = \"nowhere.toml\"\n");
    let errs = load_errors(&hall, SERVICES);
    assert_error(&errs, "hall.toml", Some(line_of(&hall, "nowhere.toml")), "catalog.services", "cannot read");
}

#[test]
fn a_directory_without_hall_toml_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let errs = config::load_dir(dir.path()).expect_err("no hall.toml").0;
    assert_error(&errs, "hall.toml", None, "", "cannot read");
}

#[test]
fn too_many_windows_are_refused() {
    let mut hall = HALL.to_string();
    for i in 3..=(config::MAX_WINDOWS + 1) {
        hall.push_str(&format!("\n[[window]]\nid = \"{i}\"\nname = \"{i}号窗口\"\nqueues = [\"A\"]\n"));
    }
    let errs = load_errors(&hall, SERVICES);
    assert!(errs.iter().any(|e| e.file == "hall.toml" && e.message.contains("more than the limit of 200")), "{errs:?}");
}

/// A hall naming the CSV catalogue, with the project's bundles copied next to it.
fn csv_hall(services_csv: &str) -> TempDir {
    let hall = HALL.replace("queues = [\"A\"]", "queues = [\"A\", \"B\"]").replacen(
        "[[window]]",
        "[[queue]]\nid = \"B\"\nname = \"企业服务\"\nprefix = \"B\"\n\n[[window]]",
        1,
    ) + "\n[catalog]\nservices_csv = \"services.csv\"\nbundles_csv = \"bundles.csv\"\n";
    let dir = write_dir(&hall, "");
    fs::remove_file(dir.path().join("services.toml")).expect("remove services.toml");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    fs::write(dir.path().join("services.csv"), services_csv).expect("write csv");
    fs::copy(data.join("bundles.csv"), dir.path().join("bundles.csv")).expect("copy bundles.csv");
    dir
}

fn full_services_csv() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/services.csv");
    fs::read_to_string(path).expect("read tests/data/services.csv")
}

#[test]
fn the_csv_catalogue_loads_629_items_and_22_bundles() {
    let dir = csv_hall(&full_services_csv());
    let cfg = config::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.setup.items.len(), 629);
    assert_eq!(cfg.setup.bundles.len(), 22);
    assert_eq!(cfg.setup.categories.len(), 24);
    assert_eq!(cfg.setup.items.iter().filter(|i| i.queue.as_str() == "B").count(), 30);
    let first = &cfg.setup.items[0];
    assert_eq!((first.code.as_str(), first.name.as_str(), first.minutes), ("SC-0001", "有限责任公司设立登记", 12));
    assert_eq!(first.materials.len(), 5);
    let yjs3 = cfg.setup.bundles.iter().find(|b| b.name == "开办餐饮店一件事").expect("bundle");
    assert_eq!(yjs3.items.len(), 5);
}

#[test]
fn csv_errors_name_the_row_line_and_column() {
    let mut lines: Vec<String> = full_services_csv().lines().map(str::to_string).collect();
    // Line 4 (the third item) joins an undeclared queue; line 11 has no number of minutes.
    let mut set_cell = |line: usize, col: usize, value: &str| {
        let mut cells: Vec<&str> = lines[line - 1].split(',').collect();
        cells[col] = value;
        lines[line - 1] = cells.join(",");
    };
    set_cell(4, 4, "Q");
    set_cell(11, 5, "lots");
    let errs = config::load_dir(csv_hall(&lines.join("\n")).path()).expect_err("errors").0;
    assert_error(&errs, "services.csv", Some(4), "queue", "unknown queue \"Q\"");
    assert_error(&errs, "services.csv", Some(11), "minutes", "not a whole number");
    assert_eq!(errs.len(), 2, "{errs:#?}");
}

#[test]
fn a_generated_catalogue_of_1000_items_loads() {
    let mut services = String::from("[[category]]\nname = \"综合\"\n");
    for i in 1..=1000 {
        services.push_str(&format!(
            "\n[[item]]\ncode = \"GEN-{i:04}\"\nname = \"事项{i}\"\ncategory = \"综合\"\ndepartment = \"部门{}\"\nqueue = \"A\"\nminutes = {}\nmaterials = [\"身份证原件\", \"申请表\"]\n",
            i % 24,
            1 + i % 45
        ));
    }
    services.push_str("\n[[bundle]]\nid = \"YJS-01\"\nname = \"一件事\"\nitems = [\"GEN-0001\", \"GEN-1000\"]\n");
    let dir = write_dir(HALL, &services);
    let cfg = config::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.setup.items.len(), 1000);
    assert_eq!(cfg.setup.items[999].code.as_str(), "GEN-1000");
}

#[test]
fn passwords_round_trip() {
    let hash = config::hash_password("窗口-密码").expect("hash");
    assert!(config::verify_password(&hash, "窗口-密码"));
    assert!(!config::verify_password(&hash, "demo"));
    assert!(!config::verify_password("", "demo"));
}

#[test]
fn window_preferences_are_read_and_checked() {
    let base = std::fs::read_to_string("kiosk-config/hall.toml").unwrap();
    let with = |extra: &str| {
        assert!(base.contains("prefer = { B = 60 }\n"), "the example hall's window 10 prefers B");
        let text = base.replacen("prefer = { B = 60 }\n", &format!("{extra}\n"), 1);
        let dir = crate::support::config_dir(|_| text.clone());
        hallq::config::load_dir(dir.path()).map(|c| c.setup).map_err(|e| e.to_string())
    };
    let setup = with("prefer = { B = 45 }\nprefer_items = { \"SC-0029\" = 20 }").unwrap();
    let w10 = setup.windows.iter().find(|w| w.id.as_str() == "10").unwrap();
    assert_eq!(w10.prefer.queue_bonus(&hallq::core::model::QueueId::parse("B").unwrap()), 45);
    assert_eq!(w10.prefer.items.len(), 1);
    for (extra, message) in [
        ("prefer = { V = 10 }", "does not serve queue \"V\""),
        ("prefer = { B = 0 }", "use 1 to 240"),
        ("prefer = { B = \"x\" }", "expected an integer"),
        ("prefer_items = { \"SC-9999\" = 10 }", "unknown item \"SC-9999\""),
        ("prefer_items = { \"BC-0001\" = 10 }", "which this window does not serve"),
    ] {
        let err = with(extra).unwrap_err();
        assert!(err.contains(message) && err.contains("hall.toml:"), "{extra}: {err}");
    }
}

#[test]
fn a_public_url_is_read_without_its_trailing_slash_and_absent_means_none() {
    let dir = write_dir(HALL, SERVICES);
    let cfg = config::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.public_url, None, "no public_url: QR codes use the kiosk's address");
    let hall = HALL.replace("hours =", "public_url = \"https://hall.example.gov.cn/\"\nhours =");
    let dir = write_dir(&hall, SERVICES);
    let cfg = config::load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.public_url.as_ref().map(config::PublicUrl::as_str), Some("https://hall.example.gov.cn"));
}

#[test]
fn a_bad_public_url_names_its_line_and_says_what_to_write() {
    for (value, says) in [
        ("\"ftp://hall.example.gov.cn\"", "is not http or https"),
        ("\"hall.example.gov.cn\"", "is not an address"),
        ("\"https://\"", "is not an address"),
        ("\"https://hall.example.gov.cn/t?from=qr\"", "has a query or fragment"),
        ("\"https://hall.example.gov.cn/#top\"", "has a query or fragment"),
        ("\"https://clerk:pw@hall.example.gov.cn\"", "user name or password"),
        ("\"\"", "is empty"),
        ("8080", "expected a string"),
    ] {
        let hall = HALL.replace("hours =", &format!("public_url = {value}\nhours ="));
        let errs = load_errors(&hall, SERVICES);
        assert_error(&errs, "hall.toml", Some(line_of(&hall, "public_url")), "hall.public_url", says);
        assert!(errs.iter().all(|e| e.key == "hall.public_url"), "{value}: only public_url is wrong: {errs:?}");
    }
}
