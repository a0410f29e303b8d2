//! Loading and checking a hall's configuration directory (kiosk-config/).
//!
//! `hall.toml` describes the hall, its queues, priority classes, windows, kiosks and users;
//! the service catalogue comes from `services.toml` or from CSV files in the shape of
//! `shared/data/services.csv`. Everything is read, checked and turned into the core's
//! [`Setup`] plus the shell's kiosks, users and settings. Every problem found becomes a
//! [`ConfigError`] naming file, line and key, and all of them are reported at once, so a
//! hall administrator fixes a file in one pass. Only `main` and the HTTP shell call this;
//! the core never sees a file.

mod alerts;
mod appointments;
mod catalog;
mod csv_catalog;
mod district;
mod district_file;
mod enterprises;
mod escalation;
mod files;
mod guard;
mod guides;
mod hall;
mod limits;
mod lines;
mod passwords;
mod pause;
mod people;
mod prefer;
mod printer;
mod public_url;
mod rating;
mod referrals;
pub mod service_level;
mod tree;
mod voice;
mod window_range;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::core::model::{UserName, WindowId};
use crate::core::setup::Setup;
pub use alerts::WebhookConfig;
pub use district::{is_subject_token, log_subject, stream_name, DistrictLink};
pub use district_file::{load_district_dir, DistrictConfig, DistrictHall, SupervisorDef};
pub use enterprises::{seed as enterprise_seed, EnterpriseRow};
use files::read_limited;
pub use guard::{MetricsToken, Rate, RateLimits, TlsFiles};
pub use limits::*;
use passwords::demo_password_users;
pub use passwords::{hash_password, hash_password_salted, verify_password, HashError};
pub use printer::PrinterDef;
pub use public_url::PublicUrl;
pub use rating::EvaluatorDef;
pub use referrals::{Peer, Referrals, DEFAULT_REASONS};
pub use voice::{Synth, VoiceSettings, ZoneDef, MAX_ZONES};

/// The file that must exist in every configuration directory.
pub const HALL_FILE: &str = "hall.toml";
/// Largest configuration file read, in bytes: the full 629-item CSV is about 110 KiB, so
/// this leaves room for catalogues fifty times larger and still refuses a wrong file.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Most errors reported for one load; a badly broken CSV would otherwise print thousands.
pub const MAX_ERRORS: usize = 200;

/// The repository's example hall, compiled in so that `hallq serve` runs with no files:
/// hall.toml and the catalogue files its `[catalog]` names, by the names written there.
/// Public for `hallq bench --district`, which writes a district of copies of it.
pub const EMBEDDED_HALL: &str = include_str!("../../kiosk-config/hall.toml");
pub const EMBEDDED_FILES: [(&str, &str); 4] = [
    ("enterprises.csv", include_str!("../../kiosk-config/enterprises.csv")),
    ("services.csv", include_str!("../../kiosk-config/services.csv")),
    ("bundles.csv", include_str!("../../kiosk-config/bundles.csv")),
    ("services.toml", include_str!("../../kiosk-config/services.toml")),
];

/// The password every demo user of the example hall has.
pub const DEMO_PASSWORD: &str = "demo";
/// Kiosk tokens starting with this are the example hall's published ones.
pub const DEMO_TOKEN_PREFIX: &str = "demo-";

/// A hall's whole configuration, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub setup: Setup,
    pub kiosks: Vec<KioskDef>,
    pub users: Vec<UserDef>,
    pub listen: SocketAddr,
    /// `[hall] public_url`: the address visitors' phones reach, for QR codes and status
    /// links; none: the Host a kiosk reached the daemon by.
    pub public_url: Option<PublicUrl>,
    /// Relative paths are relative to the process's working directory.
    pub data_dir: PathBuf,
    pub session_ttl_s: u64,
    /// Days of event history kept (`[hall] retention_days`).
    pub retention_days: u32,
    /// `[hall] remind_ahead`: the status page reminds its visitor when this many are
    /// ahead (0: only at the call).
    pub remind_ahead: u32,
    /// `[hall.limits]`: how fast one kiosk, client address or login name may go.
    pub limits: RateLimits,
    /// `[hall] tls_cert`/`tls_key`: serve HTTPS with these PEM files.
    pub tls: Option<TlsFiles>,
    /// `[hall] metrics_token`: a Prometheus scraper's bearer token for `/metrics`.
    pub metrics_token: Option<MetricsToken>,
    /// `[hall.voice]`: who speaks call-outs, and espeak-ng's voice and speed.
    pub voice: VoiceSettings,
    /// `[[zone]]`: the lobby's speaker zones (empty: one zone, the whole hall).
    pub zones: Vec<ZoneDef>,
    /// `[[evaluator]]`: the rating tablets at the windows.
    pub evaluators: Vec<EvaluatorDef>,
    /// `[hall.thresholds] service_level_min`: the reports' target wait, per queue.
    pub service_level: service_level::ServiceLevel,
    /// `[supervision.webhook]`: where alerts are POSTed, if anywhere.
    pub webhook: Option<WebhookConfig>,
    /// `[district]`: the link to the district's NATS (issue 18), if any.
    pub district: Option<DistrictLink>,
    /// `[enterprises] csv`: the 助企服务 registry's rows, credit codes not yet hashed.
    pub enterprises: Vec<EnterpriseRow>,
}

/// A ticket machine and the bearer token it authenticates with.
#[derive(Clone, PartialEq, Eq)]
pub struct KioskDef {
    pub id: String,
    pub name: String,
    pub token: String,
    /// `kind = "remote"`: an online channel (线上取号, a phone app or portal) whose tickets
    /// are only called after the visitor checks in at a kiosk or the door.
    pub remote: bool,
    /// This kiosk's own issuing limit (`burst`, `refill_ms`), instead of `[hall.limits]`'s
    /// `kiosk_burst`/`kiosk_refill_ms`: an online channel's one token serves a whole
    /// portal's visitors, not one stuck key.
    pub rate: Option<Rate>,
    /// Its network ticket printer (`printer = "host:9100"`), if it has one.
    pub printer: Option<PrinterDef>,
}

impl fmt::Debug for KioskDef {
    // The token is a credential: keep it out of logs and panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KioskDef").field("id", &self.id).field("name", &self.name).finish_non_exhaustive()
    }
}

/// A person who signs in: a clerk at a window, a supervisor or an admin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserDef {
    pub name: UserName,
    pub role: Role,
    /// An argon2 PHC string.
    pub password_hash: String,
    /// The windows the user may open; empty means any window.
    pub windows: Vec<WindowId>,
    /// The name staff pages show for the user (`display_name`, e.g. 李明), never a
    /// display a visitor sees; `None`: the login name.
    pub display_name: Option<String>,
}

/// Longest `[[user]] display_name`, in characters: a name with a title, on a staff page's
/// header and a window card.
pub const DISPLAY_NAME_CHARS_MAX: usize = 32;

impl UserDef {
    /// What staff pages call this user: the display name, else the login name.
    pub fn shown_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(self.name.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Clerk,
    Supervisor,
    Admin,
    Guide,
}

impl Role {
    /// Every role; a guide (导办, issue 17 §1) issues and escorts for visitors, at no window.
    pub const ALL: [Role; 4] = [Role::Clerk, Role::Supervisor, Role::Admin, Role::Guide];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Guide => "guide",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One thing wrong with a configuration: where, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, as named in the configuration (e.g. `hall.toml`, `services.csv`).
    pub file: String,
    /// 1-based line, where it can be found.
    pub line: Option<usize>,
    /// Dotted key such as `window[3].queues` (tables of an array count from 0), or a CSV
    /// column name; empty when no key applies (a syntax error).
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every error found in one load, in file and line order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl std::error::Error for ConfigError {}

/// Collects errors up to [`MAX_ERRORS`].
#[derive(Default)]
pub(crate) struct Errs {
    list: Vec<ConfigError>,
    dropped: usize,
}

impl Errs {
    pub(crate) fn push(&mut self, e: ConfigError) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(e);
        } else {
            self.dropped += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn into_errors(mut self) -> ConfigErrors {
        self.list.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        if self.dropped > 0 {
            self.list.push(ConfigError {
                file: String::new(),
                line: None,
                key: String::new(),
                message: format!("and {} more errors not shown; fix the ones above first", self.dropped),
            });
        }
        ConfigErrors(self.list)
    }
}

/// Loads and checks the configuration directory `dir` (which holds `hall.toml`).
pub fn load_dir(dir: &Path) -> Result<Config, ConfigErrors> {
    let hall_text = match read_limited(&dir.join(HALL_FILE)) {
        Ok(text) => text,
        Err(msg) => {
            return Err(ConfigErrors(vec![ConfigError {
                file: HALL_FILE.to_string(),
                line: None,
                key: String::new(),
                message: format!("{msg}; point the configuration at a directory holding {HALL_FILE}"),
            }]))
        }
    };
    load_with(&hall_text, &|name| read_limited(&dir.join(name)))
}

/// The example hall from the repository's kiosk-config/, compiled in.
pub fn embedded_default() -> Result<Config, ConfigErrors> {
    load_with(EMBEDDED_HALL, &embedded_file)
}

/// One of the example hall's catalogue files, compiled in.
fn embedded_file(name: &str) -> Result<String, String> {
    let found = EMBEDDED_FILES.iter().find(|(n, _)| *n == name);
    found.map(|(_, text)| (*text).to_string()).ok_or_else(|| format!("the embedded default has no file {name:?}"))
}

/// Loads from `hall.toml`'s text; `read` fetches the catalogue files it names (by the
/// name written in the file). For the fuzz targets; the daemon reads a directory.
pub fn load_text(hall_text: &str, read: &dyn Fn(&str) -> Result<String, String>) -> Result<Config, ConfigErrors> {
    load_with(hall_text, read)
}

/// Loads from `hall.toml`'s text; `read` fetches the catalogue files it names.
fn load_with(hall_text: &str, read: &dyn Fn(&str) -> Result<String, String>) -> Result<Config, ConfigErrors> {
    let mut errs = Errs::default();
    let src = tree::Src::new(HALL_FILE, hall_text);
    let root = match src.parse() {
        Ok(root) => root,
        Err(e) => {
            errs.push(e);
            return Err(errs.into_errors());
        }
    };
    let mut parts = hall::read(&src, &root, &mut errs);
    let cat = catalog::load(&parts.catalog, read, &parts.queues, &mut errs);
    prefer::resolve_items(&mut parts.windows, std::mem::take(&mut parts.item_prefs), &cat.items, &mut errs);
    let service_level = service_level::resolve(std::mem::take(&mut parts.service_level), &parts.queues, &mut errs);
    let raw = parts.enterprises_raw.take();
    let (enterprise_policy, enterprise_rows) = enterprises::load(raw, read, &parts.queues, &parts.users, &mut errs);
    if !errs.is_empty() {
        return Err(errs.into_errors());
    }
    parts.rating.closed_kept_days = parts.retention_days;
    let setup = Setup {
        hall_id: parts.hall_id,
        hall_name: parts.hall_name,
        timezone: parts.timezone,
        hours: parts.hours,
        queues: parts.queues,
        priorities: parts.priorities,
        windows: parts.windows,
        categories: cat.categories,
        items: cat.items.into(),
        bundles: cat.bundles,
        call_template: parts.call_template,
        call_repeat: parts.call_repeat,
        max_wait_min: parts.max_wait_min,
        dispatch: parts.dispatch,
        item_index: Default::default(),
        appointments: parts.appointments,
        rating: parts.rating,
        alerts: parts.alerts,
        escalation: parts.escalation,
        pause_reasons: parts.pause_reasons,
        guides: parts.guides,
        person_limits: parts.person_limits,
        enterprises: enterprise_policy,
    };
    Ok(Config {
        setup,
        kiosks: parts.kiosks,
        users: parts.users,
        listen: parts.listen,
        public_url: parts.public_url,
        data_dir: parts.data_dir,
        session_ttl_s: parts.session_ttl_s,
        retention_days: parts.retention_days,
        remind_ahead: parts.remind_ahead,
        limits: parts.limits,
        tls: parts.tls,
        metrics_token: parts.metrics_token,
        voice: parts.voice,
        zones: parts.zones,
        evaluators: parts.evaluators,
        service_level,
        webhook: parts.webhook,
        district: parts.district,
        enterprises: enterprise_rows,
    })
}

impl Config {
    /// The published demo credentials this hall still uses, one human-readable line each:
    /// kiosk tokens starting with `demo-` and users whose password is `demo`. The daemon
    /// warns while this is not empty.
    pub fn demo_credentials(&self) -> Vec<String> {
        self.demo_credentials_of(&self.demo_users())
    }

    /// For each `[[user]]`, whether the demo password opens the account (a full argon2
    /// check each, spread over the cores).
    pub fn demo_users(&self) -> Vec<bool> {
        demo_password_users(&self.users)
    }

    /// `demo_credentials`, with the users' check already made (`demo_users`).
    pub fn demo_credentials_of(&self, demo_users: &[bool]) -> Vec<String> {
        let mut out: Vec<String> = self
            .kiosks
            .iter()
            .filter(|k| k.token.starts_with(DEMO_TOKEN_PREFIX))
            .map(|k| format!("kiosk {:?} uses the demo token {:?}", k.id, k.token))
            .collect();
        out.extend(
            self.evaluators
                .iter()
                .filter(|e| e.token.starts_with(DEMO_TOKEN_PREFIX))
                .map(|e| format!("the evaluator of window {} uses the demo token {:?}", e.window, e.token)),
        );
        if self.metrics_token.as_ref().is_some_and(|t| t.0.starts_with(DEMO_TOKEN_PREFIX)) {
            out.push("metrics_token is the demo token".to_string());
        }
        out.extend(self.users.iter().zip(demo_users).filter(|(_, demo)| **demo).map(|(u, _)| {
            format!("{} {:?} has the demo password {DEMO_PASSWORD:?}", u.role.as_str(), u.name.as_str())
        }));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let hash = hash_password("s3cret").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "s3cret"));
        assert!(!verify_password(&hash, "s3cret "));
        assert!(!verify_password("not a hash", "s3cret"));
        assert_ne!(hash, hash_password("s3cret").expect("hash"), "salts must differ");
    }

    /// BENCHMARKS.md simulates the whole example weekday on `sim/weekday-hall`: it must
    /// stay a hall that loads, with the full catalogue and its 67 windows.
    #[test]
    fn the_weekday_hall_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/weekday-hall");
        let config = load_dir(&dir).unwrap_or_else(|e| panic!("sim/weekday-hall: {e}"));
        assert_eq!(config.setup.windows.len(), 67);
        assert_eq!(config.setup.items.len(), 629);
        assert_eq!(config.setup.bundles.len(), 22);
    }

    #[test]
    fn error_display_names_file_line_and_key() {
        let e = ConfigError {
            file: "hall.toml".into(),
            line: Some(12),
            key: "window[3].queues".into(),
            message: "unknown queue \"Q\"; declare it in a [[queue]] table".into(),
        };
        assert_eq!(
            e.to_string(),
            "hall.toml:12: window[3].queues: unknown queue \"Q\"; declare it in a [[queue]] table"
        );
        let no_line = ConfigError { line: None, key: String::new(), ..e };
        assert_eq!(no_line.to_string(), "hall.toml: unknown queue \"Q\"; declare it in a [[queue]] table");
    }

    #[test]
    fn the_dispatch_ratio_is_read_and_checked() {
        let services = embedded_file;
        let ratio = |text: &str| load_with(text, &services).map(|c| c.setup.dispatch.priority_ratio);
        assert_eq!(ratio(EMBEDDED_HALL).unwrap(), 2);
        let start = EMBEDDED_HALL.find("[hall.dispatch]").unwrap();
        let end = start + EMBEDDED_HALL[start..].find("\n[").unwrap();
        let without = format!("{}{}", &EMBEDDED_HALL[..start], &EMBEDDED_HALL[end + 1..]);
        let defaults = load_with(&without, &services).unwrap().setup.dispatch;
        assert_eq!(defaults, crate::core::setup::DispatchPolicy::default(), "absent means the defaults");
        assert_eq!(defaults.priority_ratio, 0, "absent means no bound");
        let errs = ratio(&EMBEDDED_HALL.replace("priority_ratio = 2", "priority_ratio = 101")).unwrap_err();
        let text = errs.to_string();
        assert!(text.contains("priority_ratio is 101; use a value from 0 to 100"), "{text}");
        let errs = ratio(&EMBEDDED_HALL.replace("priority_ratio = 2", "priority_ratio = 2\nratio = 1")).unwrap_err();
        assert!(errs.to_string().contains("unknown key \"ratio\""), "{errs}");
        let dispatch = |text: &str| load_with(text, &services).map(|c| c.setup.dispatch);
        let d = dispatch(&EMBEDDED_HALL.replace("park_max = 3", "park_max = 5")).unwrap();
        assert_eq!((d.recall_max, d.rejoin_min, d.call_cooldown_min, d.park_max), (2, 30, 5, 5));
        for (key, bad, range) in [
            ("recall_max = 2", "recall_max = 11", "0 to 10"),
            ("rejoin_min = 30", "rejoin_min = -1", "0 to 720"),
            ("call_cooldown_min = 5", "call_cooldown_min = 61", "0 to 60"),
            ("park_max = 3", "park_max = 21", "0 to 20"),
        ] {
            let errs = dispatch(&EMBEDDED_HALL.replace(key, bad)).unwrap_err().to_string();
            assert!(errs.contains(range) && errs.contains("hall.toml:"), "{bad}: {errs}");
        }
    }

    #[test]
    fn roles_round_trip() {
        assert!(Role::ALL.iter().all(|r| Role::parse(r.as_str()) == Some(*r)));
        assert_eq!(Role::parse("root"), None);
    }
}
