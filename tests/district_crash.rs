//! The district SIGKILLed mid-consume: the `hallq district` binary as a child, killed while
//! a hall issues tickets and it reads them, then started again on its data directory. It
//! must come level with each hall's own figures exactly: what it kept before the kill is
//! not counted again when NATS delivers it again (an acknowledgement lost with the
//! process), and nothing is missed.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::district_view::{agrees, district_dir, district_hall, district_login, issue, start_hall};
use crate::support::nats::Nats;
use crate::support::*;

/// `hallq district` as a child process; killed when dropped.
pub(crate) struct DistrictProcess {
    child: Child,
    pub(crate) api: Api,
    pub(crate) addr: SocketAddr,
}

impl DistrictProcess {
    /// Starts the binary on port 0 and waits (bounded) for its listening line.
    pub(crate) fn spawn(config: &Path, data: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hallq"))
            .args(["district", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .arg("--data")
            .arg(data)
            .env("RUST_LOG", "info,sled=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the hallq binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads until the pipe closes, so the district never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let addr = line
                    .split("listening on http://")
                    .nth(1)
                    .and_then(|a| a.split_whitespace().next()?.parse::<SocketAddr>().ok());
                if let Some(addr) = addr {
                    let _ = tx.send(addr);
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => Self { child, api: Api::new(addr), addr },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("hallq district did not print its listening line");
            }
        }
    }

    fn kill9(mut self) {
        self.child.kill().expect("SIGKILL the district");
        let status = self.child.wait().expect("reap the district");
        assert!(!status.success(), "a SIGKILLed district cannot exit cleanly: {status:?}");
    }
}

impl Drop for DistrictProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_killed_mid_consume_counts_each_record_once() {
    let Some(nats) = Nats::start_or_skip("a_district_killed_mid_consume_counts_each_record_once") else { return };
    let dir: TempDir = district_dir(&nats, 30);
    let (a, b) = (start_hall(&dir, "town-a", None).await, start_hall(&dir, "town-b", None).await);
    let (sa, sb) = (a.api.login("super").await, b.api.login("super").await);
    issue(&b, "ZX-0002", 5).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let district = DistrictProcess::spawn(dir.path(), data.path());
    let token = district_login(&district.api).await;
    // Town-a issues while the district reads; the district dies once it has some of them.
    let issuing = {
        let api = a.api.clone();
        tokio::spawn(async move {
            for _ in 0..150 {
                api.issue("ZX-0001").await;
            }
        })
    };
    let mut seen = 0;
    for _ in 0..600 {
        seen = district_hall(&district.api, &token, "town-a").await["tickets_today"].as_u64().unwrap_or(0);
        if seen >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen >= 20, "the district read {seen} of town-a's tickets before the kill");
    district.kill9();
    guard("town-a's kiosk", issuing).await.expect("the kiosk task");

    let district = DistrictProcess::spawn(dir.path(), data.path());
    let token = district_login(&district.api).await;
    agrees(&district.api, &token, &[("town-a", &a, &sa), ("town-b", &b, &sb)]).await;
    assert_eq!(district_hall(&district.api, &token, "town-a").await["tickets_today"], 150);
    assert_eq!(district_hall(&district.api, &token, "town-b").await["tickets_today"], 5);
    district.kill9();
    let _ = (a.stop().await, b.stop().await);
}
