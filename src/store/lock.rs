//! Letting go of sled's lock on the data directory: a store closed (or dropped) returns
//! only when the lock is free, so that the next opening, in this process or another,
//! finds it free, and one that finds it held is refused at once.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Inner;

/// How long letting go of an opening waits for sled to release the directory's lock.
/// sled's I/O threads finish a write or a segment's truncation (a sync) a moment after
/// its last handle is dropped, holding the files until then; a reader of the log still
/// under way (a report, a backup) holds them until it ends.
const LET_GO_WAIT: Duration = Duration::from_secs(10);

/// Drops `open` and waits until sled's lock on `dir`'s database is free: an opening right
/// after (a restart within one process, `reopen`, `hallq recover`'s check) then never
/// finds it held, and one that does is refused at once. Past `LET_GO_WAIT` it says so in
/// the log and returns.
pub(super) fn let_go(dir: &Path, open: Option<Arc<Inner>>) {
    let Some(open) = open else { return };
    drop(open);
    wait_free(dir);
}

/// Waits (at most `LET_GO_WAIT`) until sled's lock on `dir`'s database is free, once
/// every handle of it was dropped: the district's replica closes the same way.
pub(crate) fn wait_free(dir: &Path) {
    let until = Instant::now() + LET_GO_WAIT;
    while lock_held(&dir.join("db")) {
        if Instant::now() >= until {
            tracing::warn!(
                dir = %dir.display(),
                waited_s = LET_GO_WAIT.as_secs(),
                "the event log's files are still held after closing it; a start on this directory is refused until they are let go"
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether anyone holds sled's lock on `db` (an exclusive `flock`, which sled takes
/// through fs2). On Linux it is read from `/proc/locks` without taking the lock: a probe
/// that took and released it would leave it held a moment longer in a child process this
/// process was starting, which holds a copy of every descriptor from its fork to its
/// exec. The same copy of sled's own descriptor is listed there until that exec, so the
/// wait in `let_go` also covers it.
fn lock_held(db: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt as _;
        let Ok(inode) = std::fs::metadata(db).map(|m| m.ino()) else { return false };
        if let Ok(locks) = std::fs::read_to_string("/proc/locks") {
            return flock_listed(&locks, inode);
        }
    }
    flock_probe(db)
}

/// Whether `/proc/locks` lists a granted `flock` on the file with `inode` (a line such as
/// `3: FLOCK  ADVISORY  WRITE 4242 08:01:131075 0 EOF`; a waiter's line has a `->`).
fn flock_listed(locks: &str, inode: u64) -> bool {
    locks.lines().filter(|line| !line.contains("->")).any(|line| {
        let mut fields = line.split_whitespace();
        fields.nth(1) == Some("FLOCK")
            && fields.nth(3).and_then(|file| file.rsplit(':').next()).and_then(|i| i.parse::<u64>().ok()) == Some(inode)
    })
}

/// Whether a lock on `db` is held, by trying to take it. Taken here, it is released at
/// once by closing the file.
fn flock_probe(db: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd as _;
        let Ok(file) = File::open(db) else { return false };
        // SAFETY: flock on a descriptor this function owns; a lock it takes ends when the
        // file is closed on return.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        !locked && std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock
    }
    #[cfg(not(unix))]
    {
        let _ = db;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::flock_listed;

    #[test]
    fn a_granted_flock_is_found_by_its_inode_and_a_waiter_or_posix_lock_is_not() {
        let locks = "1: FLOCK  ADVISORY  WRITE 9536 fe:00:10011085 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 9540 fe:00:777 0 EOF\n\
                     2: POSIX  ADVISORY  WRITE 9541 fe:00:888 0 EOF\n";
        assert!(flock_listed(locks, 10011085));
        assert!(!flock_listed(locks, 777), "a waiter does not hold the lock");
        assert!(!flock_listed(locks, 888), "sled's lock is a flock, not a POSIX lock");
        assert!(!flock_listed(locks, 1001108), "an inode is matched whole");
        assert!(!flock_listed("", 10011085));
    }
}
