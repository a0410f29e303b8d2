//! Online backup and restore (issue 14): `hallq backup DIR` while the real daemon serves
//! with tickets waiting, `hallq restore` into a fresh directory, a daemon there (and
//! again after a restart) has the same tickets waiting and continues the numbers. The
//! phone-hash key is not in the backup; a cut-short backup and a non-empty target are
//! refused.

use crate::support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{guard, Process, PASSWORD};

fn hallq() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hallq"))
}

fn number_n(number: &str) -> u32 {
    number.trim_start_matches(|c: char| c.is_ascii_alphabetic()).parse().expect("a ticket number")
}

/// Runs `hallq backup OUT --url … --user admin` (blocking, off the runtime); the file.
async fn backup(addr: std::net::SocketAddr, out: &Path) -> PathBuf {
    let out = out.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut child = hallq()
            .arg("backup")
            .arg(&out)
            .args(["--url", &format!("http://{addr}"), "--user", "admin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hallq backup starts");
        child.stdin.take().expect("stdin").write_all(format!("{PASSWORD}\n").as_bytes()).expect("the password");
        let done = child.wait_with_output().expect("hallq backup ends");
        assert!(done.status.success(), "hallq backup failed: {}", String::from_utf8_lossy(&done.stderr));
        let files: Vec<PathBuf> = std::fs::read_dir(&out)
            .expect("the backup directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        assert_eq!(files.len(), 1, "one backup file: {files:?}");
        files[0].clone()
    })
    .await
    .expect("the backup task")
}

fn restore(file: &Path, data: &Path, key: Option<&Path>) -> std::process::Output {
    let mut cmd = hallq();
    cmd.arg("restore").arg(file).arg("--data").arg(data);
    if let Some(key) = key {
        cmd.arg("--phone-key").arg(key);
    }
    cmd.output().expect("hallq restore runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_the_waiting_tickets_on_a_fresh_machine() {
    guard("backup and restore", async {
        let old = tempfile::tempdir().expect("a temp dir");
        let mut daemon = Process::spawn(old.path()).await;
        let items = daemon.api.items().await;
        let mut waiting: Vec<Value> = Vec::new();
        for (code, _) in items.iter().take(6) {
            waiting.push(daemon.api.issue(code).await);
        }
        let out = tempfile::tempdir().expect("a temp dir");
        let file = backup(daemon.addr, out.path()).await;
        // The hall goes on serving after the backup.
        let later = daemon.api.issue(&items[0].0).await;
        let status = daemon.terminate().await;
        assert!(status.success());

        let text = std::fs::read(&file).expect("the backup");
        let key = std::fs::read(old.path().join("phone-hash.key")).expect("the key");
        assert!(!text.windows(key.len()).any(|w| w == key.as_slice()), "the phone-hash key is in the backup");

        let fresh = tempfile::tempdir().expect("a temp dir");
        let data = fresh.path().join("data");
        let done = restore(&file, &data, Some(&old.path().join("phone-hash.key")));
        assert!(done.status.success(), "hallq restore: {}", String::from_utf8_lossy(&done.stderr));
        assert_eq!(std::fs::read(data.join("phone-hash.key")).expect("the key restored"), key);

        for round in ["after restore", "after a restart"] {
            let mut daemon = Process::spawn(&data).await;
            for t in &waiting {
                let id = t["id"].as_str().expect("id");
                let r = daemon.api.ticket(id).await;
                assert_eq!(r.status, 200, "{round}: ticket {id}: {}", r.text);
                assert_eq!(r.body["number"], t["number"], "{round}");
                assert_eq!(r.body["status"], "waiting", "{round}: {}", r.text);
            }
            let r = daemon.api.ticket(later["id"].as_str().expect("id")).await;
            assert_eq!(r.status, 404, "{round}: a ticket issued after the backup is not in it: {}", r.text);
            let status = daemon.terminate().await;
            assert!(status.success(), "{round}");
        }
        // The numbers continue from the backup's.
        let mut daemon = Process::spawn(&data).await;
        let next = daemon.api.issue(&items[0].0).await;
        let first = number_n(waiting[0]["number"].as_str().expect("number"));
        assert!(number_n(next["number"].as_str().expect("number")) > first, "{next}");
        assert!(daemon.terminate().await.success());

        // A target that is not empty, and a backup cut short, are refused.
        let again = restore(&file, &data, None);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"), "{:?}", again);
        let cut = out.path().join("cut.jsonl");
        std::fs::write(&cut, &text[..text.len() - 40]).expect("write");
        let into = fresh.path().join("cut");
        let refused = restore(&cut, &into, None);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("not a complete hallq backup"), "{refused:?}");
    })
    .await;
}
