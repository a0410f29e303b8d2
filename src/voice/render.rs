//! Running espeak-ng: one call-out's speech to one WAV file, with a time limit, and the
//! disk cache's upkeep (at most `CACHE_FILES_MAX` files and `CACHE_BYTES_MAX` bytes, the
//! oldest going first).
//!
//! espeak-ng writes with `-w FILE` (its `--stdout` stream leaves the RIFF sizes unset);
//! the file is written under a temporary name and renamed into place, so a reader sees a
//! whole file or none. The text goes in on stdin, never as an argument, so nothing in it
//! can read as an option.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

use crate::config::VoiceSettings;

/// Longest one render may take: a call-out renders in well under a second; a hung
/// program must not hold the lobby's audio for longer than a visitor would wait.
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(10);
/// Most audio files kept: a busy day's call-outs of the last hours, recalls included.
pub const CACHE_FILES_MAX: usize = 1_000;
/// Most bytes of audio kept (a call-out is 150 to 250 KB of 22 kHz mono WAV).
pub const CACHE_BYTES_MAX: u64 = 256 * 1024 * 1024;
/// A WAV header is 44 bytes; a file no longer than this holds no speech.
const WAV_BYTES_MIN: u64 = 1024;
const TEMP_SUFFIX: &str = ".tmp";

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "espeak-ng could not be started ({0}); install it (apt-get install espeak-ng) or set [hall.voice] command"
    )]
    Spawn(std::io::Error),
    #[error("espeak-ng did not finish within {RENDER_TIMEOUT:?}")]
    Timeout,
    #[error("espeak-ng failed ({0}); check [hall.voice] voice with `espeak-ng --voices=zh`")]
    Failed(String),
    #[error("espeak-ng wrote no usable WAV file ({0})")]
    BadOutput(String),
    #[error("the voice cache: {0}")]
    Io(std::io::Error),
}

/// Renders `speech` into `dest` (a `.wav` path); on success the file is complete.
pub async fn render(settings: &VoiceSettings, speech: &str, dest: &Path) -> Result<(), RenderError> {
    let tmp = temp_path(dest);
    let result = tokio::time::timeout(RENDER_TIMEOUT, run(settings, speech, &tmp)).await;
    let outcome = match result {
        Err(_) => Err(RenderError::Timeout),
        Ok(Err(e)) => Err(e),
        Ok(Ok(())) => check_wav(&tmp).await,
    };
    if outcome.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
        return outcome;
    }
    tokio::fs::rename(&tmp, dest).await.map_err(RenderError::Io)
}

/// Longest version line kept, in characters.
const VERSION_CHARS_MAX: usize = 200;

/// espeak-ng's version as its `--version` prints it (first line, e.g. `eSpeak NG
/// text-to-speech: 1.51  Data at: …`), for the cache's names: a new espeak-ng or new voice
/// data must not be answered with audio the old one rendered. A program that does not
/// say gives `unknown`, logged: its audio is then cached as if it never changed.
pub async fn version(settings: &VoiceSettings) -> String {
    let run = Command::new(&settings.command)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let line = match tokio::time::timeout(RENDER_TIMEOUT, run).await {
        Ok(Ok(out)) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            text.lines().next().unwrap_or_default().trim().chars().take(VERSION_CHARS_MAX).collect::<String>()
        }
        _ => String::new(),
    };
    if line.is_empty() {
        tracing::warn!("espeak-ng did not say its version; its cached call-outs are kept across upgrades");
        return "unknown".to_string();
    }
    line
}

fn temp_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{:08x}{TEMP_SUFFIX}", rand::random::<u32>()));
    dest.with_file_name(name)
}

async fn run(settings: &VoiceSettings, speech: &str, out: &Path) -> Result<(), RenderError> {
    let mut child = Command::new(&settings.command)
        .arg("-v")
        .arg(&settings.voice)
        .arg("-s")
        .arg(settings.speed_wpm.to_string())
        .arg("-w")
        .arg(out)
        .arg("--stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // A render abandoned at its time limit must not leave the program running.
        .kill_on_drop(true)
        .spawn()
        .map_err(RenderError::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(speech.as_bytes()).await.map_err(RenderError::Io)?;
        // Dropping stdin closes it: espeak-ng reads to its end.
    }
    let output = child.wait_with_output().await.map_err(RenderError::Io)?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let first = said.lines().next().unwrap_or_default().chars().take(200).collect::<String>();
    Err(RenderError::Failed(format!("{}: {first}", output.status)))
}

async fn check_wav(path: &Path) -> Result<(), RenderError> {
    let bytes = tokio::fs::read(path).await.map_err(|e| RenderError::BadOutput(e.to_string()))?;
    let riff = bytes.len() as u64 > WAV_BYTES_MIN && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WAVE");
    if riff {
        Ok(())
    } else {
        Err(RenderError::BadOutput(format!("{} bytes, no RIFF/WAVE header", bytes.len())))
    }
}

/// Removes the oldest audio files until at most `files_max` and `bytes_max` remain, and
/// every temporary file older than a render could take (one left by a crash). Blocking:
/// call it off the async threads.
pub fn trim_cache(dir: &Path, files_max: usize, bytes_max: u64) -> std::io::Result<usize> {
    let mut wavs = Vec::new();
    let now = SystemTime::now();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Ok(meta) = entry.metadata() else { continue };
        let modified = meta.modified().unwrap_or(now);
        if name.ends_with(TEMP_SUFFIX) {
            let stale = now.duration_since(modified).is_ok_and(|age| age > RENDER_TIMEOUT * 6);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        } else if name.ends_with(".wav") {
            wavs.push((modified, meta.len(), entry.path()));
        }
    }
    wavs.sort();
    let mut bytes: u64 = wavs.iter().map(|w| w.1).sum();
    let mut count = wavs.len();
    let mut removed = 0;
    for (_, len, path) in wavs {
        if count <= files_max && bytes <= bytes_max {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
        count -= 1;
        bytes = bytes.saturating_sub(len);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `name` with `len` bytes, last modified `age_s` seconds ago.
    fn file(dir: &Path, name: &str, len: usize, age_s: u64) {
        let path = dir.join(name);
        std::fs::write(&path, vec![0u8; len]).expect("write a cache file");
        let when = SystemTime::now() - Duration::from_secs(age_s);
        std::fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(when)).expect("set its time");
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .expect("read the cache")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_cache_keeps_the_newest_files_within_its_count_and_size() {
        let dir = tempfile::tempdir().expect("a temp dir");
        for (i, age) in [50, 40, 30, 20, 10].iter().enumerate() {
            file(dir.path(), &format!("{i}.wav"), 100, *age);
        }
        assert_eq!(trim_cache(dir.path(), 3, u64::MAX).expect("trim"), 2);
        assert_eq!(names(dir.path()), ["2.wav", "3.wav", "4.wav"], "the oldest two went");
        assert_eq!(trim_cache(dir.path(), 10, 150).expect("trim"), 2);
        assert_eq!(names(dir.path()), ["4.wav"], "then down to 150 bytes");
    }

    #[test]
    fn a_temporary_file_left_by_a_crash_is_removed_but_not_one_being_written() {
        let dir = tempfile::tempdir().expect("a temp dir");
        file(dir.path(), "a.wav.0000000a.tmp", 10, 3600);
        file(dir.path(), "b.wav.0000000b.tmp", 10, 0);
        file(dir.path(), "c.wav", 10, 3600);
        assert_eq!(trim_cache(dir.path(), 10, u64::MAX).expect("trim"), 0);
        assert_eq!(names(dir.path()), ["b.wav.0000000b.tmp", "c.wav"]);
    }
}
