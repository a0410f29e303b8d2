//! The district's configuration directory (issue 18): `district.toml` and a folder per
//! hall under `halls/`, each a full hall configuration read by [`load_dir`](super::load_dir).
//!
//! `district.toml` holds `[district]` (`id`, `name`, `nats_url`, `online_seconds`,
//! `listen`, `session_ttl_s`, `nkey_file`: the district's own NKey seed when the NATS
//! server knows each party by its key, see `hallq nats-config`; `stream_max_bytes`,
//! `stream_max_msgs`, `stream_max_msg_bytes`: each hall's stream's bounds) and the district's supervisors as `[[user]]` (`name`,
//! argon2 `password_hash`). Each `halls/<folder>/hall.toml` must have `[district]`, whose
//! `hall_id` names the hall's stream; two halls under one id would be one stream. Every
//! error names its file (a hall's as `halls/<folder>/hall.toml`), line and key, and all
//! are reported at once, as for a hall.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use super::files::read_limited;
use super::hall::{id_field, int_in, name, within, Seen};
use super::people::check_hash;
use super::tree::{Src, Tab};
use super::{load_dir, Config, ConfigError, ConfigErrors, Errs, MAX_USERS};
use crate::core::model::UserName;
use crate::core::setup::{ItemDef, ItemIndex};
use crate::district::uplink::StreamBounds;

/// The district's own file.
pub const DISTRICT_FILE: &str = "district.toml";
/// The folder that holds a folder per hall.
pub const HALLS_DIR: &str = "halls";
/// Most halls in one district: a province has about 2,000 halls; each hall's projection
/// and consumer cost memory, so a wrong directory must not start a million.
pub const MAX_HALLS: usize = 4_096;
/// Default and bounds of `online_seconds`.
const ONLINE_S_DEFAULT: i64 = 30;
const ONLINE_S_MAX: i64 = 3_600;
const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 8090);
const SESSION_TTL_S_DEFAULT: i64 = 12 * 3600;
/// Most `stream_max_bytes` (1 TiB) and `stream_max_msgs` (a billion) taken: past a busy
/// hall's retention many times over.
const STREAM_BYTES_LIMIT: i64 = 1 << 40;
const STREAM_MSGS_LIMIT: i64 = 1_000_000_000;

/// A supervisor of the district.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupervisorDef {
    pub name: UserName,
    /// An argon2 PHC string.
    pub password_hash: String,
}

/// One hall of the district: its folder, its stream's id and its whole configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct DistrictHall {
    pub folder: String,
    /// `[district] hall_id`: the hall's name in the subjects.
    pub hall_id: String,
    pub config: Config,
}

/// A district's configuration, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct DistrictConfig {
    pub id: String,
    pub name: String,
    pub nats_url: String,
    /// A file holding the district's NKey seed, read when connecting, never logged.
    pub nkey_file: Option<std::path::PathBuf>,
    /// A hall heard from within this many seconds is online.
    pub online_s: u64,
    pub listen: SocketAddr,
    pub session_ttl_s: u64,
    pub users: Vec<SupervisorDef>,
    /// Each hall's stream's bounds (`stream_max_bytes`, `stream_max_msgs`,
    /// `stream_max_msg_bytes`; by default `uplink`'s constants).
    pub stream: StreamBounds,
    /// In the order of their folders' names.
    pub halls: Vec<DistrictHall>,
}

/// Loads and checks the district directory `dir`.
pub fn load_district_dir(dir: &Path) -> Result<DistrictConfig, ConfigErrors> {
    let mut errs = Errs::default();
    let text = match read_limited(&dir.join(DISTRICT_FILE)) {
        Ok(t) => t,
        Err(msg) => {
            errs.push(file_err(DISTRICT_FILE, format!("{msg}; point --config at a directory holding {DISTRICT_FILE}")));
            return Err(errs.into_errors());
        }
    };
    let district = read_text(&text, &mut errs);
    let halls = read_halls(dir, &mut errs);
    match district {
        Some(mut d) if errs.is_empty() => {
            d.halls = halls;
            Ok(d)
        }
        _ => Err(errs.into_errors()),
    }
}

fn file_err(file: &str, message: String) -> ConfigError {
    ConfigError { file: file.to_string(), line: None, key: String::new(), message }
}

/// Reads `district.toml`'s text; the halls are left empty.
fn read_text(text: &str, errs: &mut Errs) -> Option<DistrictConfig> {
    let src = Src::new(DISTRICT_FILE, text);
    let root = match src.parse() {
        Ok(r) => r,
        Err(e) => {
            errs.push(e);
            return None;
        }
    };
    let mut top = Tab::root(&src, &root)?;
    let at = top.loc();
    let users = read_users(top.tables("user", errs), &at, errs);
    let Some(mut t) = top.table("district", errs) else {
        top.finish(errs);
        errs.push(at.err("missing [district]; add it with id, name and nats_url"));
        return None;
    };
    top.finish(errs);
    let id = t.req_str("id", errs).filter(|f| {
        let ok = super::is_subject_token(&f.value);
        if !ok {
            errs.push(f.loc.err(format!("id {:?}: use letters, digits, '-' or '_'", f.value)));
        }
        ok
    });
    let district_name = name(&mut t, "name", errs);
    let url = t.req_str("nats_url", errs).filter(|f| match super::district::check_url(&f.value) {
        Ok(()) => true,
        Err(why) => {
            errs.push(f.loc.err(format!("nats_url {:?}: {why}", f.value)));
            false
        }
    });
    let nkey_file = t.str("nkey_file", errs).filter(|f| {
        let ok = !f.value.is_empty() && f.value.len() <= 512;
        if !ok {
            errs.push(f.loc.err("nkey_file: give a file's path".to_string()));
        }
        ok
    });
    let online_s = int_in(&mut t, "online_seconds", 1, ONLINE_S_MAX, errs).unwrap_or(ONLINE_S_DEFAULT);
    let ttl = int_in(&mut t, "session_ttl_s", super::MIN_SESSION_TTL_S, super::MAX_SESSION_TTL_S, errs);
    let listen = t.str("listen", errs).and_then(|f| match f.value.parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            errs.push(f.loc.err(format!("listen {:?} is not an address; write e.g. \"127.0.0.1:8090\"", f.value)));
            None
        }
    });
    let stream = read_stream_bounds(&mut t, errs);
    t.finish(errs);
    Some(DistrictConfig {
        id: id?.value,
        name: district_name?,
        nats_url: url?.value,
        nkey_file: nkey_file.map(|f| f.value.into()),
        online_s: u64::try_from(online_s).unwrap_or(30),
        listen: listen.unwrap_or_else(|| SocketAddr::from(DEFAULT_LISTEN)),
        session_ttl_s: u64::try_from(ttl.unwrap_or(SESSION_TTL_S_DEFAULT)).unwrap_or(3600),
        users,
        stream,
        halls: Vec::new(),
    })
}

/// `[district]`'s bounds of each hall's stream: bytes and records from a record's worth
/// to far past the defaults (the bytes are a reservation on the server, sized for it), a
/// message's bytes at most the default (under NATS's own payload bound).
fn read_stream_bounds(t: &mut Tab<'_>, errs: &mut Errs) -> StreamBounds {
    let d = StreamBounds::default();
    let bytes_max = int_in(t, "stream_max_bytes", 64 * 1024, STREAM_BYTES_LIMIT, errs).unwrap_or(d.bytes_max);
    let msgs_max = int_in(t, "stream_max_msgs", 1, STREAM_MSGS_LIMIT, errs).unwrap_or(d.msgs_max);
    let msg_bytes = int_in(t, "stream_max_msg_bytes", 4 * 1024, i64::from(d.msg_bytes_max), errs);
    let msg_bytes_max = msg_bytes.and_then(|b| i32::try_from(b).ok()).unwrap_or(d.msg_bytes_max);
    StreamBounds { bytes_max, msgs_max, msg_bytes_max }
}

fn read_users(tabs: Vec<Tab<'_>>, at: &super::tree::Loc, errs: &mut Errs) -> Vec<SupervisorDef> {
    if !within(tabs.len(), MAX_USERS, "user", at, errs) {
        return Vec::new();
    }
    let mut names = Seen::new("user name");
    let mut out = Vec::new();
    for mut t in tabs {
        let user = id_field(&mut t, "name", UserName::parse, errs)
            .filter(|(n, loc)| names.check(&n.as_str().to_ascii_lowercase(), loc, errs));
        let hash = t.req_str("password_hash", errs).filter(|h| check_hash(h, errs));
        t.finish(errs);
        if let (Some((name, _)), Some(hash)) = (user, hash) {
            out.push(SupervisorDef { name, password_hash: hash.value });
        }
    }
    out
}

/// Every folder of `halls/`, in name order, loaded as a hall; each must link to the
/// district under an id of its own.
fn read_halls(dir: &Path, errs: &mut Errs) -> Vec<DistrictHall> {
    let halls_dir = dir.join(HALLS_DIR);
    let mut folders = match std::fs::read_dir(&halls_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .take(MAX_HALLS + 1)
            .collect::<Vec<_>>(),
        Err(e) => {
            errs.push(file_err(
                HALLS_DIR,
                format!("cannot read {}: {e}; make a folder per hall there", halls_dir.display()),
            ));
            return Vec::new();
        }
    };
    if folders.is_empty() || folders.len() > MAX_HALLS {
        errs.push(file_err(HALLS_DIR, format!("give 1 to {MAX_HALLS} halls, each a folder holding its hall.toml")));
        return Vec::new();
    }
    folders.sort();
    let mut ids = Seen::new("[district] hall_id");
    let mut out = Vec::new();
    let mut catalogues = Vec::new();
    for folder in folders {
        let shown = format!("{HALLS_DIR}/{folder}/");
        let config = match load_dir(&halls_dir.join(&folder)) {
            Ok(mut c) => {
                share_catalogue(&mut c, &mut catalogues);
                c
            }
            Err(ConfigErrors(list)) => {
                for mut e in list {
                    e.file = format!("{shown}{}", e.file);
                    errs.push(e);
                }
                continue;
            }
        };
        let file = format!("{shown}{}", super::HALL_FILE);
        let Some(link) = &config.district else {
            errs.push(file_err(&file, "the hall has no [district]; add one with nats_url and hall_id".to_string()));
            continue;
        };
        let loc = super::tree::Loc { file, line: None, key: "district.hall_id".to_string() };
        if ids.check(&link.hall_id, &loc, errs) {
            out.push(DistrictHall { folder, hall_id: link.hall_id.clone(), config });
        }
    }
    out
}

/// Distinct catalogues kept for sharing; halls beyond them keep their own copies.
const SHARED_CATALOGUES_MAX: usize = 64;

/// Gives `config` the items (and their index) of an earlier hall whose catalogue is the
/// same, so that a district keeps one copy of a catalogue its halls share: the example
/// hall's 629 items are ~0.4 MiB parsed, and a copy per hall (three, with the API's and
/// the view's) made 1,000 halls need 1.2 GiB (BENCHMARKS.md, the district).
fn share_catalogue(config: &mut Config, catalogues: &mut Vec<(Arc<Vec<ItemDef>>, ItemIndex)>) {
    let setup = &mut config.setup;
    match catalogues.iter().find(|(items, _)| **items == *setup.items) {
        Some((items, index)) => {
            setup.items = items.clone();
            setup.item_index = index.clone();
        }
        None if catalogues.len() < SHARED_CATALOGUES_MAX => {
            catalogues.push((setup.items.clone(), setup.item_index.clone()));
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/district")
    }

    #[test]
    fn the_example_district_loads() {
        let d = load_district_dir(&example()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d.id.as_str(), d.online_s, d.users.len()), ("qingchuan", 30, 1));
        let ids: Vec<&str> = d.halls.iter().map(|h| h.hall_id.as_str()).collect();
        assert_eq!(ids, ["qingchuan-district", "town-a", "town-b"]);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let mut errs = Errs::default();
        let text = "[district]\nid = \"a.b\"\nname = \"x\"\nnats_url = \"http://h:1\"\nonline_seconds = 0\n\n[[user]]\nname = \"s\"\npassword_hash = \"plain\"\n";
        assert!(read_text(text, &mut errs).is_none());
        let shown = errs.into_errors().to_string();
        for want in [
            "district.toml:2: district.id: id \"a.b\"",
            "district.toml:4: district.nats_url",
            "district.toml:5: district.online_seconds",
            "district.toml:9: user[0].password_hash: malformed password hash",
        ] {
            assert!(shown.contains(want), "{want} not in:\n{shown}");
        }
    }

    #[test]
    fn stream_bounds_default_to_the_constants_within_limits() {
        let head = "[district]\nid = \"d\"\nname = \"x\"\nnats_url = \"nats://h:1\"\n";
        let mut errs = Errs::default();
        let d = read_text(head, &mut errs).expect("reads");
        assert_eq!(d.stream, StreamBounds::default());
        let lowered = format!("{head}stream_max_bytes = 1048576\nstream_max_msgs = 10\nstream_max_msg_bytes = 65536\n");
        let d = read_text(&lowered, &mut errs).expect("reads");
        assert_eq!(d.stream, StreamBounds { bytes_max: 1_048_576, msgs_max: 10, msg_bytes_max: 65_536 });
        assert!(errs.is_empty());
        let wrong =
            format!("{head}stream_max_bytes = 1\nstream_max_msgs = 400000000000\nstream_max_msg_bytes = 2097152\n");
        read_text(&wrong, &mut errs);
        let shown = errs.into_errors().to_string();
        for want in ["district.stream_max_bytes", "district.stream_max_msgs", "district.stream_max_msg_bytes"] {
            assert!(shown.contains(want), "{want} not in:\n{shown}");
        }
    }

    #[test]
    fn a_hall_without_a_link_or_under_a_taken_id_is_named() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let src = example();
        std::fs::copy(src.join(DISTRICT_FILE), dir.path().join(DISTRICT_FILE)).expect("copy");
        std::fs::copy(src.join("services.toml"), dir.path().join("services.toml")).expect("copy");
        let hall = std::fs::read_to_string(src.join("halls/town-a/hall.toml")).expect("read");
        for (folder, text) in [("a", hall.clone()), ("b", hall.clone()), ("c", hall.replace("[district]", "[x]"))] {
            std::fs::create_dir_all(dir.path().join("halls").join(folder)).expect("mkdir");
            std::fs::write(dir.path().join("halls").join(folder).join("hall.toml"), text).expect("write");
        }
        let shown = load_district_dir(dir.path()).expect_err("refused").to_string();
        assert!(
            shown.contains("halls/b/hall.toml: district.hall_id: duplicate [district] hall_id \"town-a\""),
            "{shown}"
        );
        assert!(shown.contains("halls/c/hall.toml:"), "{shown}");
    }

    #[test]
    fn halls_on_one_catalogue_share_one_copy_of_it() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let src = example();
        std::fs::copy(src.join(DISTRICT_FILE), dir.path().join(DISTRICT_FILE)).expect("copy");
        let services = std::fs::read_to_string(src.join("services.toml")).expect("read");
        std::fs::write(dir.path().join("services.toml"), &services).expect("write");
        std::fs::write(dir.path().join("other.toml"), services.replace("minutes = 8", "minutes = 9")).expect("write");
        let hall = std::fs::read_to_string(src.join("halls/town-a/hall.toml")).expect("read");
        for (folder, catalogue) in [("a", "services.toml"), ("b", "services.toml"), ("c", "other.toml")] {
            let text = hall
                .replace("hall_id = \"town-a\"", &format!("hall_id = \"{folder}\""))
                .replace("../../services.toml", &format!("../../{catalogue}"));
            std::fs::create_dir_all(dir.path().join("halls").join(folder)).expect("mkdir");
            std::fs::write(dir.path().join("halls").join(folder).join("hall.toml"), text).expect("write");
        }
        let d = load_district_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let setups: Vec<&crate::core::setup::Setup> = d.halls.iter().map(|h| &h.config.setup).collect();
        assert!(Arc::ptr_eq(&setups[0].items, &setups[1].items), "a and b have one catalogue");
        assert!(!Arc::ptr_eq(&setups[0].items, &setups[2].items), "c's differs");
        assert_eq!(setups[1].item("ZX-0001").map(|i| i.minutes), Some(8));
        assert_eq!(setups[2].item("ZX-0001").map(|i| i.minutes), Some(9));
    }
}
