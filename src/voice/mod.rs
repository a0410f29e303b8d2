//! Call-outs as sound, without the internet: the spoken words of each call
//! ([`text`]), and — where espeak-ng is installed — the daemon's own audio of them,
//! rendered on first request, kept on disk under `DATA/voice/` and served at
//! `/api/v1/voice/{hash}.wav` ([`render`]).
//!
//! The feed names each call's audio by a hash of what is said and how, so a client can
//! fetch only audio of call-outs the hall made: the daemon renders a hash it has
//! announced (it keeps the last `KNOWN_MAX`), serves one it has on disk, and knows no
//! other. Rendering happens in the request that first asks, one at a time, never in the
//! engine. What is said holds a ticket number and a window, nothing personal.

pub mod render;
pub mod text;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use axum::body::Bytes;
use blake2::{Blake2b512, Digest};
use prometheus::IntCounter;

use crate::config::{Synth, VoiceSettings, ZoneDef};
use crate::core::model::WindowId;

/// Call-outs whose audio may still be asked for, by hash: a few hours of a busy hall's
/// calls (two each: the call-out and its short form); a lobby asks within seconds of the
/// call.
pub const KNOWN_MAX: usize = 4_096;
/// Requests that may wait for a render at once; more are refused (503) and the lobby
/// falls back to the browser's voice.
pub const RENDER_WAITERS_MAX: usize = 64;
/// The folder under the data directory that holds the audio.
pub const DIR_NAME: &str = "voice";

/// What the feed says about one call's voice.
pub struct CallVoice<'a> {
    /// The call-out as spoken: numbers in words.
    pub speech: String,
    /// Who speaks it: `espeak-ng` (the daemon's audio), `browser` or `off`.
    pub synth: Synth,
    /// The daemon's audio of it, when it renders.
    pub audio: Option<String>,
    /// The short form (`text::BRIEF_TEMPLATE`: number and window), said when calls queue
    /// up, and its audio.
    pub brief_speech: String,
    pub brief_audio: Option<String>,
    /// The speaker zones of the call's window (none: the hall is one zone).
    pub zones: &'a [String],
}

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("no such call-out audio")]
    NotFound,
    #[error("too many call-outs are being rendered; use the browser's voice or try again")]
    Busy,
    #[error("the call-out could not be rendered: {0}")]
    Render(#[from] render::RenderError),
}

/// The 16-byte hash naming one rendering of one text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AudioId([u8; 16]);

impl AudioId {
    /// The name of `speech` said by espeak-ng `engine` (its `--version` line) with
    /// `settings`.
    pub fn of(settings: &VoiceSettings, engine: &str, speech: &str) -> Self {
        let mut h = Blake2b512::new();
        // Voice, speed and espeak-ng's version are part of the name: a changed setting or
        // an upgraded espeak-ng renders afresh instead of serving the old audio.
        for part in ["hallq-voice-2", engine, &settings.voice, &settings.speed_wpm.to_string(), speech] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let digest = h.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        Self(id)
    }

    /// Parses the 32 lowercase hex digits of a file name (without `.wav`).
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return None;
        }
        let mut id = [0u8; 16];
        for (i, byte) in id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(id))
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Default)]
struct Known {
    text: HashMap<AudioId, String>,
    order: VecDeque<AudioId>,
}

/// The hall's voice: settings, zones, the cache of rendered call-outs.
pub struct Voice {
    settings: VoiceSettings,
    /// What actually speaks: espeak-ng only when it was found working at start.
    synth: Synth,
    /// espeak-ng's `--version` line, read once at start (empty when it does not speak).
    engine: String,
    zones: Vec<ZoneDef>,
    zones_of: HashMap<WindowId, Vec<String>>,
    dir: PathBuf,
    known: Mutex<Known>,
    render_lock: tokio::sync::Mutex<()>,
    waiters: AtomicUsize,
    renders: IntCounter,
    render_failures: IntCounter,
}

impl Voice {
    /// Sets up the hall's voice under `data_dir`: with `synth = "espeak-ng"`, renders a
    /// test word to check that the program and its voice work; when they do not, says
    /// so in the log and leaves speaking to the browsers.
    pub async fn start(
        settings: VoiceSettings,
        zones: Vec<ZoneDef>,
        data_dir: &std::path::Path,
        renders: IntCounter,
        render_failures: IntCounter,
    ) -> Self {
        let dir = data_dir.join(DIR_NAME);
        let mut synth = settings.synth;
        let mut engine = String::new();
        if synth == Synth::EspeakNg {
            if let Err(e) = probe(&settings, &dir).await {
                tracing::warn!("call-outs are spoken by each lobby's browser: {e}");
                synth = Synth::Browser;
            } else {
                engine = render::version(&settings).await;
                tracing::info!(voice = %settings.voice, espeak_ng = %engine, "call-outs are rendered with espeak-ng");
            }
        }
        let mut zones_of: HashMap<WindowId, Vec<String>> = HashMap::new();
        for z in &zones {
            for w in &z.windows {
                zones_of.entry(*w).or_default().push(z.id.clone());
            }
        }
        Self {
            settings,
            synth,
            engine,
            zones,
            zones_of,
            dir,
            known: Mutex::new(Known::default()),
            render_lock: tokio::sync::Mutex::new(()),
            waiters: AtomicUsize::new(0),
            renders,
            render_failures,
        }
    }

    pub fn synth(&self) -> Synth {
        self.synth
    }

    pub fn settings(&self) -> &VoiceSettings {
        &self.settings
    }

    /// espeak-ng's version line as read at start; empty when it does not speak.
    pub fn engine(&self) -> &str {
        &self.engine
    }

    pub fn zones(&self) -> &[ZoneDef] {
        &self.zones
    }

    fn known(&self) -> MutexGuard<'_, Known> {
        // The map is only ever inserted into whole entries; after a panic elsewhere it is
        // still usable.
        self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The voice of a call of `ticket` to `window` with the hall's `template`. Cheap and
    /// never blocking: the feed calls it inside the engine's publish.
    pub fn call(&self, template: &str, ticket: &str, window: &WindowId) -> CallVoice<'_> {
        let speech = text::speech(template, ticket, window.as_str());
        let brief_speech = text::speech(text::BRIEF_TEMPLATE, ticket, window.as_str());
        let audio = self.announce(&speech);
        let brief_audio = self.announce(&brief_speech);
        let zones = self.zones_of.get(window).map_or(&[][..], Vec::as_slice);
        CallVoice { speech, synth: self.synth, audio, brief_speech, brief_audio, zones }
    }

    /// The URL of the audio of `speech`, now one the daemon may render; `None` when
    /// espeak-ng does not speak.
    fn announce(&self, speech: &str) -> Option<String> {
        (self.synth == Synth::EspeakNg).then(|| {
            let id = AudioId::of(&self.settings, &self.engine, speech);
            let mut known = self.known();
            let known = &mut *known;
            if let std::collections::hash_map::Entry::Vacant(slot) = known.text.entry(id) {
                slot.insert(speech.to_string());
                known.order.push_back(id);
                if known.order.len() > KNOWN_MAX {
                    if let Some(old) = known.order.pop_front() {
                        known.text.remove(&old);
                    }
                }
            }
            format!("/api/v1/voice/{}.wav", id.hex())
        })
    }

    /// The WAV audio named `id`: from the disk cache, else rendered now when `id` is a
    /// call-out the hall announced.
    pub async fn audio(&self, id: AudioId) -> Result<Bytes, VoiceError> {
        if self.synth != Synth::EspeakNg {
            return Err(VoiceError::NotFound);
        }
        let path = self.dir.join(format!("{}.wav", id.hex()));
        if let Ok(bytes) = tokio::fs::read(&path).await {
            return Ok(Bytes::from(bytes));
        }
        let speech = self.known().text.get(&id).cloned().ok_or(VoiceError::NotFound)?;
        let _waiting = Waiting::enter(&self.waiters).ok_or(VoiceError::Busy)?;
        let _one_at_a_time = self.render_lock.lock().await;
        // Another request may have rendered it while this one waited.
        if let Ok(bytes) = tokio::fs::read(&path).await {
            return Ok(Bytes::from(bytes));
        }
        if let Err(e) = render::render(&self.settings, &speech, &path).await {
            self.render_failures.inc();
            tracing::warn!("a call-out could not be rendered: {e}");
            return Err(e.into());
        }
        self.renders.inc();
        let bytes = tokio::fs::read(&path).await.map_err(render::RenderError::Io)?;
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = render::trim_cache(&dir, render::CACHE_FILES_MAX, render::CACHE_BYTES_MAX) {
                tracing::warn!("the voice cache could not be trimmed: {e}");
            }
        });
        Ok(Bytes::from(bytes))
    }
}

/// One request among those waiting for a render; leaving (or being dropped) frees its
/// place.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Option<Self> {
        let before = count.fetch_add(1, Ordering::SeqCst);
        if before >= RENDER_WAITERS_MAX {
            count.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Self(count))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Makes the cache folder, clears what a crash left, and renders one word to check that
/// espeak-ng and its voice work.
async fn probe(settings: &VoiceSettings, dir: &std::path::Path) -> Result<(), render::RenderError> {
    tokio::fs::create_dir_all(dir).await.map_err(render::RenderError::Io)?;
    let trim_dir = dir.to_path_buf();
    let _ = tokio::task::spawn_blocking(move || {
        render::trim_cache(&trim_dir, render::CACHE_FILES_MAX, render::CACHE_BYTES_MAX)
    })
    .await;
    let test = dir.join("probe.wav.check");
    let result = render::render(settings, "请", &test).await;
    let _ = tokio::fs::remove_file(&test).await;
    result
}
