//! The district a run measures, written to a temporary directory: `district.toml` with one
//! supervisor the benchmark signs in as, and `halls/<id>/hall.toml` per hall, each the
//! example hall (the embedded default, 629 items) linked under an id of its own. The
//! catalogue files sit once at the top and every hall names them as `../../<file>`, the way
//! kiosk-config/district/ shares its services.toml.

use std::path::{Path, PathBuf};

use super::super::BenchError;

/// The supervisor the benchmark reads the district's API as; the password is hashed at
/// each run, so the file holds no secret worth keeping.
pub const SUPERVISOR: &str = "bench";
pub const PASSWORD: &str = "bench-district-password";

/// A district directory and its halls' ids.
pub struct DistrictDir {
    dir: tempfile::TempDir,
    pub hall_ids: Vec<String>,
}

impl DistrictDir {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The folder of the first hall (the simulator loads its setup from there, so that the
    /// records it makes are records of exactly the district's halls).
    pub fn first_hall(&self) -> PathBuf {
        self.dir.path().join("halls").join(self.hall_ids.first().map_or("", String::as_str))
    }
}

/// Writes a district of `halls` halls publishing to `nats_url`, their ids starting with
/// `tag` (a run's own, so that streams left on a server by an earlier run are not reused).
pub fn write(halls: usize, nats_url: &str, tag: &str) -> Result<DistrictDir, BenchError> {
    let io = |what: &str, e: std::io::Error| BenchError::new(format!("cannot write the district's {what}: {e}"));
    let dir = tempfile::Builder::new().prefix("hallq-bench-district-").tempdir().map_err(|e| io("directory", e))?;
    let hash = crate::config::hash_password(PASSWORD)
        .map_err(|e| BenchError::new(format!("cannot hash the supervisor's password: {e}")))?;
    let district = format!(
        "[district]\nid = \"bench-{tag}\"\nname = \"benchmark district\"\nnats_url = \"{nats_url}\"\n\n\
         [[user]]\nname = \"{SUPERVISOR}\"\npassword_hash = \"{hash}\"\n"
    );
    std::fs::write(dir.path().join("district.toml"), district).map_err(|e| io("district.toml", e))?;
    let mut hall_text = crate::config::EMBEDDED_HALL.to_string();
    for (name, text) in crate::config::EMBEDDED_FILES {
        std::fs::write(dir.path().join(name), text).map_err(|e| io(name, e))?;
        hall_text = hall_text.replace(&format!("= \"{name}\""), &format!("= \"../../{name}\""));
    }
    let mut hall_ids = Vec::with_capacity(halls);
    for i in 0..halls {
        let id = format!("b{tag}-{i:04}");
        let folder = dir.path().join("halls").join(&id);
        std::fs::create_dir_all(&folder).map_err(|e| io("hall folder", e))?;
        let text = format!("{hall_text}\n[district]\nnats_url = \"{nats_url}\"\nhall_id = \"{id}\"\n");
        std::fs::write(folder.join(crate::config::HALL_FILE), text).map_err(|e| io("hall.toml", e))?;
        hall_ids.push(id);
    }
    Ok(DistrictDir { dir, hall_ids })
}
