//! The event log's file lock, with real sled: an opening waits a moment for a closing one
//! to let go of the files (a restart within one process), and a store held for good (a
//! second hallq on the same data directory) is refused with an error that says so.

use std::time::{Duration, Instant};

use hallq::store::Store;

#[test]
fn an_opening_waits_for_a_closing_one_to_let_go() {
    let data = tempfile::tempdir().expect("a temp dir");
    let first = Store::open(data.path()).expect("the log opens");
    let path = data.path().to_path_buf();
    let second = std::thread::spawn(move || {
        let started = Instant::now();
        (Store::open(&path).map(drop).map_err(|e| e.to_string()), started.elapsed())
    });
    // The second opening is now waiting on the lock; it gets it once the first is gone.
    std::thread::sleep(Duration::from_millis(300));
    drop(first);
    let (opened, waited) = second.join().expect("the opening thread");
    assert_eq!(opened, Ok(()), "the second opening failed");
    assert!(waited >= Duration::from_millis(250), "it did not wait for the lock ({waited:?})");
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
