//! The event log's file lock, with real sled: a closed log opens again at once (a restart
//! within one process), also when a reader held it while it closed, and a store held for
//! good (a second hallq on the same data directory) is refused with an error that says so.

use std::sync::Arc;
use std::time::Duration;

use hallq::store::Store;

#[test]
fn a_closed_log_opens_again_at_once_though_a_reader_held_it() {
    let data = tempfile::tempdir().expect("a temp dir");
    let store = Arc::new(Store::open(data.path()).expect("the log opens"));
    // A reader under way (as a report or a backup reads) holds sled's files.
    let reading = store.records_after(0);
    let closing = std::thread::spawn({
        let (store, path) = (store.clone(), data.path().to_path_buf());
        move || {
            store.close();
            Store::open(&path).map(drop).map_err(|e| e.to_string())
        }
    });
    // `close` is now waiting for the reader; the opening after it must find the lock free.
    std::thread::sleep(Duration::from_millis(300));
    drop(reading);
    let reopened = closing.join().expect("the closing thread");
    assert_eq!(reopened, Ok(()), "the log did not open at once after it was closed");
}

#[test]
fn a_closed_log_opens_again_at_once_round_after_round() {
    // sled's I/O threads finish a write a moment after its last handle is gone; without
    // `close` waiting for them, about one round in a thousand found the lock still held.
    // Meanwhile another thread keeps starting child processes (as other tests, the voice
    // and the printers do): a child holds a copy of every open descriptor from its fork
    // to its exec, sled's locked file among them.
    let data = tempfile::tempdir().expect("a temp dir");
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spawner = std::thread::spawn({
        let done = done.clone();
        move || {
            let mut started = 0u32;
            while !done.load(std::sync::atomic::Ordering::SeqCst) && started < 100_000 {
                let _ = std::process::Command::new("true").status();
                started += 1;
            }
            started
        }
    });
    let keys: Vec<[u8; 4]> = (0..200u32).map(u32::to_be_bytes).collect();
    for round in 0..400u32 {
        let store = Store::open(data.path()).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let value = round.to_be_bytes().repeat(512);
        let put: Vec<(&[u8], Vec<u8>)> = keys.iter().map(|k| (k.as_slice(), value.clone())).collect();
        store.change_sessions(&put, &[]).expect("a write");
        store.flush_blocking().expect("a flush");
        store.close();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let started = spawner.join().expect("the spawning thread");
    assert!(started > 0, "no child process was started beside the rounds");
}

#[test]
fn a_log_held_by_another_opening_is_refused_with_what_to_check() {
    let data = tempfile::tempdir().expect("a temp dir");
    let _held = Store::open(data.path()).expect("the log opens");
    let err = match Store::open(data.path()) {
        Ok(_) => panic!("two openings of one log at once"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("not used by another hallq") && err.contains("lock"), "{err}");
}
