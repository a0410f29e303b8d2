//! Reading one configuration file with bounds: a regular file, at most
//! [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES), UTF-8.

use std::path::Path;

use super::MAX_FILE_BYTES;

/// Reads a regular file of at most [`MAX_FILE_BYTES`]; the error is a lowercase sentence.
/// The file is opened without blocking and checked on the open handle, so a FIFO (which
/// would wait for a writer forever) or a device such as `/dev/zero` (whose size says 0
/// while it never ends) is refused, and the read stops one byte past the limit whatever
/// the metadata said.
pub(super) fn read_limited(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let shown = path.display();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file; name a file holding the configuration"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("{shown} has {} bytes, more than the limit of {MAX_FILE_BYTES}", meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{shown} grew past the limit of {MAX_FILE_BYTES} bytes while it was read"));
    }
    String::from_utf8(bytes).map_err(|_| format!("{shown} is not valid UTF-8; save it as UTF-8"))
}
