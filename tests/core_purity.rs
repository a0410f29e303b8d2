//! The core stays pure: no file under `src/core/` names an async runtime, the log store,
//! the web framework, a clock or a random source. Time and fresh ids arrive inside
//! commands, so the core gives the same answer in the daemon, the tests and the simulator.
//!
//! How this test fails: add `use tokio::sync::mpsc;` (or `let t = Utc::now();`, or
//! `rand::random()`) to any file under `src/core/` and `the_core_names_no_clock_runtime_or_store`
//! reports the file, line and name. `the_scanner_finds_what_it_looks_for` runs the same
//! scanner on such lines, so the scanner itself is known to see them.

use std::path::{Path, PathBuf};

/// Names the core must not use. `Utc::now` and `Local::now` are matched as written.
const FORBIDDEN: &[&str] = &["tokio", "sled", "axum", "SystemTime", "Instant", "Utc::now", "Local::now", "rand"];

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The forbidden names in `source` as (line number, name), ignoring `//` comments
/// (doc comments included, which may well say what the core does *not* do).
fn forbidden_names(source: &str) -> Vec<(usize, &'static str)> {
    let mut found = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for name in FORBIDDEN {
            let hit = code.match_indices(name).any(|(at, _)| {
                let before = code[..at].chars().next_back();
                let after = code[at + name.len()..].chars().next();
                !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
            });
            if hit {
                found.push((i + 1, *name));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_core_names_no_clock_runtime_or_store() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join("core");
    let mut files = Vec::new();
    rust_files(&core, &mut files);
    // A wrong path must not pass as "nothing found".
    for expected in ["mod.rs", "hall.rs", "dispatch.rs", "model.rs"] {
        assert!(files.iter().any(|f| f.ends_with(expected)), "{expected} not found under {}", core.display());
    }
    let mut offences = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for (line, name) in forbidden_names(&source) {
            offences.push(format!("{}:{line}: {name}", file.display()));
        }
    }
    assert!(offences.is_empty(), "the core must stay pure:\n{}", offences.join("\n"));
}

#[test]
fn the_scanner_finds_what_it_looks_for() {
    assert_eq!(forbidden_names("use tokio::sync::mpsc;"), [(1, "tokio")]);
    assert_eq!(forbidden_names("fn f() {}\nlet db = sled::open(p)?;"), [(2, "sled")]);
    assert_eq!(forbidden_names("use axum::Router;"), [(1, "axum")]);
    assert_eq!(forbidden_names("let t = std::time::SystemTime::now();"), [(1, "SystemTime")]);
    assert_eq!(forbidden_names("let t = Instant::now();"), [(1, "Instant")]);
    assert_eq!(forbidden_names("let t = chrono::Utc::now();"), [(1, "Utc::now")]);
    assert_eq!(forbidden_names("let t = Local::now();"), [(1, "Local::now")]);
    assert_eq!(forbidden_names("let n: u8 = rand::random();"), [(1, "rand")]);
    // Words that merely contain a name, and comments, are fine.
    assert!(forbidden_names("let operand = random_ish(brand);").is_empty());
    assert!(forbidden_names("//! no tokio, no sled, no rand here").is_empty());
    assert!(forbidden_names("let x = 1; // unlike tokio").is_empty());
    assert!(forbidden_names("let at = Utc.timestamp_millis_opt(0);").is_empty());
}
