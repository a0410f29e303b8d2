//! Storage faults, for real: the `hallq` binary with its data directory on a small tmpfs
//! that fills up, grows, and fills up again. The daemon acknowledges nothing it could not
//! persist, answers 503 `storage_unavailable`, stays up, and serves again by itself once
//! the disk is back; nothing acknowledged is lost.
//!
//! A file system gone read-only is shown on ext4 in a loop device, mounted
//! `errors=remount-ro`: the kernel's own error path (ext4's `trigger_fs_error`) aborts the
//! journal and turns the mount read-only under the running daemon, as a failing disk
//! would. (A plain `remount,ro` cannot be used: Linux refuses it while files are open for
//! writing.) The repair is what an operator does: unmount, `e2fsck`, mount again, which
//! works only if the daemon let go of the broken disk, and must not let it start a new,
//! empty log on the bare mount point meanwhile.
//!
//! Mounting needs root (CI runs as root). Without it the tests say so loudly and pass,
//! unless `CI` is set, where they fail.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{guard, Api, Process};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).expect("a mount point");
        let out =
            Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(&path).output();
        match out {
            Ok(o) if o.status.success() => Some(Self { path, _dir: dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(std::env::var_os("CI").is_none(), "CI must be able to mount a tmpfs (run as root): {why}");
                eprintln!("\n*** SKIPPED storage_faults: cannot mount a tmpfs here ({why}); run as root ***\n");
                None
            }
        }
    }

    fn remount(&self, options: &str) {
        let ok = Command::new("mount").args(["-o", &format!("remount,{options}")]).arg(&self.path).status();
        assert!(ok.is_ok_and(|s| s.success()), "remount {options} failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Runs a command that must succeed; its standard output.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An ext4 file system in a loop device, mounted `errors=remount-ro`; unmounted and
/// detached when dropped.
struct Ext4 {
    path: PathBuf,
    image: PathBuf,
    device: String,
    _dir: tempfile::TempDir,
}

impl Ext4 {
    fn mount() -> Option<Self> {
        let dir = tempfile::tempdir().expect("a temp dir");
        let image = dir.path().join("disk.img");
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).expect("a mount point");
        std::fs::File::create(&image).and_then(|f| f.set_len(64 << 20)).expect("a disk image");
        let attach = Command::new("losetup").args(["--find", "--show"]).arg(&image).output();
        let device = match attach {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(std::env::var_os("CI").is_none(), "CI must be able to attach a loop device (root): {why}");
                eprintln!("\n*** SKIPPED the read-only test: no loop device here ({why}); run as root ***\n");
                return None;
            }
        };
        let fs = Self { path, image, device, _dir: dir };
        run("mkfs.ext4", &["-q", "-F", &fs.device]);
        fs.mount_again();
        Some(fs)
    }

    fn mount_again(&self) {
        let path = self.path.to_string_lossy();
        run("mount", &["-o", "errors=remount-ro", &self.device, &path]);
    }

    /// ext4 meets an error: the kernel aborts the journal and makes the mount read-only.
    fn fail(&self) {
        let name = Path::new(&self.device).file_name().and_then(|n| n.to_str()).expect("a device name");
        std::fs::write(format!("/sys/fs/ext4/{name}/trigger_fs_error"), "hallq storage test")
            .expect("ext4's trigger_fs_error");
        let probe = std::fs::write(self.path.join("probe"), b"x").map_err(|e| e.raw_os_error());
        assert_eq!(probe, Err(Some(libc::EROFS)), "the file system must now be read-only");
    }

    fn try_unmount(&self) -> bool {
        Command::new("umount").arg(&self.path).output().is_ok_and(|o| o.status.success())
    }

    /// e2fsck after the abort: 0 (clean) and 1 (errors corrected) are both fine.
    fn repair(&self) {
        let out = Command::new("e2fsck").args(["-f", "-y", &self.device]).output().expect("e2fsck");
        assert!(matches!(out.status.code(), Some(0 | 1)), "e2fsck: {}", String::from_utf8_lossy(&out.stdout));
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        let _ = Command::new("losetup").arg("-d").arg(&self.device).status();
        let _ = std::fs::remove_file(&self.image);
    }
}

/// Issues tickets until one is refused (at most `max`); the ids acknowledged, and the
/// refusal's status and error code.
async fn issue_until_refused(api: &Api, item: &str, max: usize) -> (Vec<String>, Option<(u16, String)>) {
    let mut acked = Vec::new();
    for _ in 0..max {
        let r = api.issue_with(serde_json::json!({ "service": item })).await;
        if r.status == 201 {
            acked.push(r.body["id"].as_str().expect("an id").to_string());
        } else {
            return (acked, Some((r.status, r.error_code().to_string())));
        }
    }
    (acked, None)
}

/// Waits until the daemon issues again; the ticket's id.
async fn until_issuing(api: &Api, item: &str) -> String {
    guard("the daemon serving again once the disk is back", async {
        loop {
            let r = api.issue_with(serde_json::json!({ "service": item })).await;
            if r.status == 201 {
                return r.body["id"].as_str().expect("an id").to_string();
            }
            assert_eq!((r.status, r.error_code()), (503, "storage_unavailable"), "{}", r.text);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

async fn assert_present(api: &Api, ids: &[String]) {
    for id in ids {
        let r = api.ticket(id).await;
        assert_eq!(r.status, 200, "acknowledged ticket {id} is gone: {}", r.text);
    }
}

fn data_dir(fs: &Tmpfs) -> PathBuf {
    Path::new(&fs.path).join("data")
}

/// The daemon's numbers for these tickets, each once.
async fn assert_numbers_unique(api: &Api, ids: &[String]) {
    let mut numbers = std::collections::BTreeSet::new();
    for id in ids {
        let t = api.ticket(id).await;
        assert!(
            numbers.insert(t.body["number"].as_str().unwrap_or_default().to_string()),
            "a number repeats: {}",
            t.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_answers_503_and_heals_when_the_disk_is_back() {
    let Some(fs) = Tmpfs::mount("1m") else { return };
    let mut daemon = Process::spawn(&data_dir(&fs)).await;
    let api = daemon.api.clone();
    let item = api.item_in("A").await;

    // Fill the disk.
    let (mut acked, refused) = issue_until_refused(&api, &item, 20_000).await;
    assert!(acked.len() > 100, "the disk filled too soon: {} tickets", acked.len());
    assert_eq!(refused, Some((503, "storage_unavailable".to_string())), "a full disk must answer 503");
    // Still up, still refusing, nothing half-done.
    let again = api.issue_with(serde_json::json!({ "service": item })).await;
    assert_eq!((again.status, again.error_code()), (503, "storage_unavailable"), "{}", again.text);
    assert_eq!(api.get("/healthz", None).await.status, 200, "the daemon stays up");

    // The disk grows: the daemon resumes by itself, with everything acknowledged.
    fs.remount("size=64m");
    acked.push(until_issuing(&api, &item).await);
    assert_present(&api, &acked).await;

    // The disk fills a second time (shrunk back to what is used), and heals again.
    let used = Command::new("df").args(["--output=used", "-k"]).arg(&fs.path).output().expect("df");
    let used_kib: u64 = String::from_utf8_lossy(&used.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("df's used KiB");
    fs.remount(&format!("size={}k", used_kib + 64));
    let (more, refused) = issue_until_refused(&api, &item, 20_000).await;
    assert_eq!(refused, Some((503, "storage_unavailable".to_string())), "a full disk must answer 503 again");
    acked.extend(more);
    fs.remount("size=64m");
    acked.push(until_issuing(&api, &item).await);
    assert_present(&api, &acked).await;

    // And a restart finds every acknowledged ticket, numbers unrepeated.
    let status = daemon.terminate().await;
    assert!(status.success(), "hallq exited with {status:?}; log:\n{}", daemon.log_text());
    let mut daemon = Process::spawn(&data_dir(&fs)).await;
    assert_present(&daemon.api, &acked).await;
    assert_numbers_unique(&daemon.api, &acked).await;
    let status = daemon.terminate().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_system_gone_read_only_answers_503_lets_go_of_the_disk_and_heals_after_repair() {
    let Some(fs) = Ext4::mount() else { return };
    let data = fs.path.join("data");
    let mut daemon = Process::spawn(&data).await;
    let api = daemon.api.clone();
    let item = api.item_in("A").await;
    let (mut acked, refused) = issue_until_refused(&api, &item, 40).await;
    assert_eq!((acked.len(), refused), (40, None), "a healthy disk must take every ticket");

    // The disk fails under the running daemon: nothing more is acknowledged.
    fs.fail();
    for _ in 0..3 {
        let r = api.issue_with(serde_json::json!({ "service": item })).await;
        assert_eq!((r.status, r.error_code()), (503, "storage_unavailable"), "read-only disk: {}", r.text);
    }
    assert_eq!(api.get("/healthz", None).await.status, 200, "the daemon stays up");

    // The operator unmounts the broken disk: possible only once the daemon closed its files.
    guard("the daemon letting go of the read-only disk", async {
        while !fs.try_unmount() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    // Meanwhile the daemon waits for its log; it must not start an empty one on the bare
    // mount point (which would give the day's numbers again).
    for _ in 0..3 {
        let r = api.issue_with(serde_json::json!({ "service": item })).await;
        assert_eq!((r.status, r.error_code()), (503, "storage_unavailable"), "disk unmounted: {}", r.text);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(!data.exists(), "the daemon made a new data directory on the bare mount point");

    // Repaired and mounted again: the daemon resumes by itself with everything acknowledged.
    fs.repair();
    fs.mount_again();
    acked.push(until_issuing(&api, &item).await);
    assert_present(&api, &acked).await;
    assert_numbers_unique(&api, &acked).await;

    let status = daemon.terminate().await;
    assert!(status.success(), "hallq exited with {status:?}; log:\n{}", daemon.log_text());
    let mut daemon = Process::spawn(&data).await;
    assert_present(&daemon.api, &acked).await;
    assert_numbers_unique(&daemon.api, &acked).await;
    let status = daemon.terminate().await;
    assert!(status.success(), "{status:?}");
}
