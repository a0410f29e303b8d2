//! Reading `[hall.voice]` (how call-outs are spoken) and `[[zone]]` (the lobby's speaker
//! zones) from `hall.toml`.
//!
//! Both are optional: without `[hall.voice]` the daemon renders with espeak-ng when it is
//! installed and leaves speaking to the browser otherwise; without zones every lobby
//! screen speaks every call.

use super::guard::int_within;
use super::hall::Seen;
use super::tree::{Loc, Tab};
use super::{Errs, MAX_NAME_CHARS};
use crate::core::model::WindowId;
use crate::core::setup::WindowDef;

/// Most speaker zones in a hall: one per floor or wing; a large centre has a handful.
pub const MAX_ZONES: usize = 32;
/// Longest espeak-ng voice name (`cmn`, `zh`, `cmn+f3`), in characters.
const MAX_VOICE_CHARS: usize = 32;
/// Longest path of the espeak-ng program, in characters.
const MAX_COMMAND_CHARS: usize = 256;
/// espeak-ng's own range of speeds, in words a minute.
const MIN_SPEED_WPM: i64 = 80;
const MAX_SPEED_WPM: i64 = 450;
const DEFAULT_VOICE: &str = "cmn";
const DEFAULT_COMMAND: &str = "espeak-ng";
/// A little slower than espeak-ng's 175: a call-out is heard across a noisy hall, often by
/// older visitors.
const DEFAULT_SPEED_WPM: u32 = 150;

/// Who turns a call-out into sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synth {
    /// The daemon renders audio with espeak-ng (the browser's voice where it is missing).
    EspeakNg,
    /// Each lobby screen speaks with its browser's own voice (Web Speech API).
    Browser,
    /// No voice: the lobby chimes and flashes the number.
    Off,
}

impl Synth {
    pub fn as_str(self) -> &'static str {
        match self {
            Synth::EspeakNg => "espeak-ng",
            Synth::Browser => "browser",
            Synth::Off => "off",
        }
    }
}

/// `[hall.voice]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoiceSettings {
    pub synth: Synth,
    /// The espeak-ng program: a name looked up on PATH, or a path.
    pub command: String,
    /// The espeak-ng voice (`espeak-ng --voices=zh` lists them); Debian's Mandarin is `cmn`.
    pub voice: String,
    pub speed_wpm: u32,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        Self {
            synth: Synth::EspeakNg,
            command: DEFAULT_COMMAND.to_string(),
            voice: DEFAULT_VOICE.to_string(),
            speed_wpm: DEFAULT_SPEED_WPM,
        }
    }
}

/// A `[[zone]]`: the lobby screens (and speakers) of one area, and the windows whose
/// calls are spoken there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneDef {
    pub id: String,
    pub name: String,
    pub windows: Vec<WindowId>,
}

pub(super) fn read_settings(mut t: Tab<'_>, errs: &mut Errs) -> VoiceSettings {
    let mut out = VoiceSettings::default();
    if let Some(s) = t.str("synth", errs) {
        match s.value.as_str() {
            "espeak-ng" => out.synth = Synth::EspeakNg,
            "browser" => out.synth = Synth::Browser,
            "off" => out.synth = Synth::Off,
            other => errs.push(s.loc.err(format!(
                "unknown synth {other:?}; use \"espeak-ng\" (rendered by the daemon), \"browser\" or \"off\""
            ))),
        }
    }
    if let Some(c) = t.str("command", errs) {
        if c.value.trim().is_empty() || c.value.chars().count() > MAX_COMMAND_CHARS {
            errs.push(c.loc.err(format!(
                "command must name the espeak-ng program in 1 to {MAX_COMMAND_CHARS} characters, e.g. \"espeak-ng\""
            )));
        } else {
            out.command = c.value;
        }
    }
    if let Some(v) = t.str("voice", errs) {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/');
        let n = v.value.chars().count();
        if n == 0 || n > MAX_VOICE_CHARS || !v.value.chars().all(ok_char) {
            errs.push(v.loc.err(format!(
                "bad voice {:?}; name an espeak-ng voice such as \"cmn\" (`espeak-ng --voices=zh` lists them)",
                v.value
            )));
        } else {
            out.voice = v.value;
        }
    }
    if let Some(s) = int_within(&mut t, "speed_wpm", MIN_SPEED_WPM, MAX_SPEED_WPM, errs) {
        out.speed_wpm = u32::try_from(s).unwrap_or(DEFAULT_SPEED_WPM);
    }
    t.finish(errs);
    out
}

/// Reads the `[[zone]]` tables. When there are any, every window must be in at least one:
/// a window in none would call visitors that no speaker names.
pub(super) fn read_zones(tabs: Vec<Tab<'_>>, windows: &[WindowDef], at: &Loc, errs: &mut Errs) -> Vec<ZoneDef> {
    if tabs.len() > MAX_ZONES {
        errs.push(at.err(format!("{} [[zone]] tables, more than the limit of {MAX_ZONES}; merge some", tabs.len())));
        return Vec::new();
    }
    let mut ids = Seen::new("zone id");
    let mut out = Vec::new();
    let mut zoned: Vec<WindowId> = Vec::new();
    for mut t in tabs {
        let id = t.req_str("id", errs).filter(|f| {
            let ok = WindowId::parse(&f.value).is_ok();
            if !ok {
                errs.push(f.loc.err(format!(
                    "bad zone id {:?}; use 1 to 16 ASCII letters, digits, '-' or '_', such as \"1F\"",
                    f.value
                )));
            }
            ok && ids.check(&f.value, &f.loc, errs)
        });
        let name = t.str("name", errs).filter(|f| {
            let ok = !f.value.trim().is_empty() && f.value.chars().count() <= MAX_NAME_CHARS;
            if !ok {
                errs.push(
                    f.loc.err(format!("name must have 1 to {MAX_NAME_CHARS} characters; write one or leave it out")),
                );
            }
            ok
        });
        let mut members = Vec::new();
        if let Some(list) = t.req_str_list("windows", errs) {
            if list.value.is_empty() {
                errs.push(list.loc.err("a zone must name at least one window, e.g. [\"1\", \"2\"]"));
            }
            for w in list.value {
                match windows.iter().find(|d| d.id.as_str() == w.value) {
                    Some(d) if members.contains(&d.id) => {
                        errs.push(w.loc.err(format!("window {:?} listed twice in this zone; list it once", w.value)))
                    }
                    Some(d) => members.push(d.id),
                    None => {
                        errs.push(w.loc.err(format!("unknown window {:?}; declare it in a [[window]] table", w.value)))
                    }
                }
            }
        }
        t.finish(errs);
        zoned.extend(members.iter().copied());
        if let Some(id) = id {
            let name = name.map_or_else(|| id.value.clone(), |n| n.value);
            out.push(ZoneDef { id: id.value, name, windows: members });
        }
    }
    if !out.is_empty() {
        let lonely: Vec<&str> = windows.iter().filter(|w| !zoned.contains(&w.id)).map(|w| w.id.as_str()).collect();
        if !lonely.is_empty() {
            errs.push(at.err(format!(
                "window(s) {} are in no [[zone]], so their calls would be spoken nowhere; add each to a zone",
                lonely.join(", ")
            )));
        }
    }
    out
}
