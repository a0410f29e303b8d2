//! The core is a layer the daemon stands on, not the other way round: what
//! `crates/hallq-core` may depend on, read from its own `Cargo.toml` and the workspace's
//! `Cargo.lock`. The compiler refuses a `use tokio` in the core only as long as tokio is
//! not among its dependencies; this test fails the day someone adds it (or sled, axum, an
//! HTTP client, a random source) there, directly or through another crate.
//!
//! How it fails: add `tokio = "1"` under `[dependencies]` in crates/hallq-core/Cargo.toml
//! and `the_core_depends_on_no_runtime_store_network_or_randomness` names the path to it.
//! `the_scan_finds_what_the_daemon_depends_on` runs the same scan from the daemon, so the
//! scan is known to see such crates.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

/// Crates the core must not reach: an async runtime, the log store, the web stack, an
/// HTTP client, randomness, logging to a collector.
const FORBIDDEN: &[&str] =
    &["tokio", "mio", "sled", "axum", "hyper", "reqwest", "tokio-tungstenite", "tungstenite", "rand", "getrandom"];

fn read(rel: &str) -> toml::Table {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.parse().unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// Each locked package's dependencies, by name (every version of a name merged).
fn locked() -> BTreeMap<String, BTreeSet<String>> {
    let lock = read("Cargo.lock");
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in lock["package"].as_array().expect("packages") {
        let name = p["name"].as_str().expect("a name").to_string();
        let entry = deps.entry(name).or_default();
        for d in p.get("dependencies").and_then(|d| d.as_array()).into_iter().flatten() {
            // "serde" or, where two versions are locked, "thiserror 2.0.21".
            let d = d.as_str().expect("a dependency").split(' ').next().unwrap_or_default();
            entry.insert(d.to_string());
        }
    }
    deps
}

/// Every crate reachable from `roots`, with the path that reaches it.
fn reachable(roots: &[String]) -> BTreeMap<String, Vec<String>> {
    let deps = locked();
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut queue: VecDeque<Vec<String>> = roots.iter().map(|r| vec![r.clone()]).collect();
    while let Some(path) = queue.pop_front() {
        let last = path.last().expect("a path").clone();
        if seen.contains_key(&last) {
            continue;
        }
        for next in deps.get(&last).into_iter().flatten() {
            let mut longer = path.clone();
            longer.push(next.clone());
            queue.push_back(longer);
        }
        seen.insert(last, path);
    }
    seen
}

/// The `[dependencies]` of a manifest: what it builds on, not what its tests use.
fn normal_dependencies(manifest: &str) -> Vec<String> {
    let m = read(manifest);
    let deps = m.get("dependencies").and_then(|d| d.as_table()).expect("a [dependencies] table");
    deps.keys().cloned().collect()
}

fn forbidden_in(reach: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    FORBIDDEN.iter().filter_map(|f| reach.get(*f).map(|path| path.join(" → "))).collect()
}

#[test]
fn the_core_depends_on_no_runtime_store_network_or_randomness() {
    let roots = normal_dependencies("crates/hallq-core/Cargo.toml");
    for expected in ["serde", "chrono"] {
        assert!(roots.iter().any(|r| r == expected), "the core's dependencies lack {expected}: {roots:?}");
    }
    let reach = reachable(&roots);
    assert!(reach.len() > roots.len(), "the lock file was read: {reach:?}");
    let found = forbidden_in(&reach);
    assert!(found.is_empty(), "the core reaches crates of the shell: {found:#?}");
}

#[test]
fn the_scan_finds_what_the_daemon_depends_on() {
    let reach = reachable(&normal_dependencies("Cargo.toml"));
    let found = forbidden_in(&reach);
    for expected in ["tokio", "sled", "axum", "rand"] {
        assert!(found.iter().any(|p| p.ends_with(expected)), "{expected} not found from the daemon: {found:#?}");
    }
}
