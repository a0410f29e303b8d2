//! hallq: a queue-ticketing and window-dispatch daemon for a government service hall
//! (政务服务中心). A deterministic core inside a thin shell; every change is an event in
//! a sled log. This file is the table of contents.
//!
//! - [`core`] — the pure core, its own crate (`crates/hallq-core`, re-exported here):
//!   ids and plain data, commands, events, the hall state with `decide` and `apply`, the
//!   dispatch policy, wait estimates and the day's figures. No I/O, no clock, no
//!   randomness, held by its dependencies. Anyone may call it; only the engine changes the
//!   live state with it.
//! - [`config`] — loads and checks a kiosk-config/ directory (TOML, or a CSV catalogue)
//!   into the core's `Setup` plus the shell's kiosks and users; every error names file,
//!   line and key. Used by `main` and the daemon.
//! - [`store`] — the event log in sled: append a batch, flush, replay. Only the engine and
//!   the daemon's start-up touch it.
//! - [`engine`] — the single writer task: decides batches of commands, group-commits
//!   their records, answers callers and publishes to the feed. HTTP handlers reach the
//!   hall only through its `EngineHandle`.
//! - [`feed`] — the display model: snapshot, call / window / queue messages, the resume
//!   ring and the broadcast to displays. Fed by the engine; read by the WebSocket edge.
//! - [`http`] — routes of contract v1, authentication, error mapping, the WebSocket feed
//!   and the JSON wire types. Knows nothing of sled.
//! - [`metrics`] — the daemon's Prometheus registry.
//! - [`printer`] — kiosks' network ticket printers: a ticket laid out in ESC/POS
//!   (GB18030 text, the printer's own QR code, a cut), one task per printer sending jobs
//!   and reading its status, which it keeps for the kiosk and supervisors. Used by `http`
//!   and the daemon.
//! - [`reports`] — day reports for supervisors: a day's records read back from the store
//!   off the engine and replayed into figures per queue, window, clerk and item, SVG
//!   charts (plotters) and CSV exports. Reads only; used by `http`.
//! - [`daemon`] — `serve(listener, config, options, shutdown)`: wires everything and runs
//!   until shutdown. Used by `main` and by the black-box tests.
//! - [`bench`] — `hallq bench`: starts the daemon and a raw baseline (axum + sled, bare
//!   tokio-tungstenite) as child processes, drives both with kiosks, clerks and displays,
//!   and reports throughput, latencies, memory, CPU and their ratios. A client of the
//!   daemon like any other: it touches none of its modules. Used by `main`.
//! - `fuzzing` — thin doors for the `cargo fuzz` targets in fuzz/ (config text, body shape).
//! - [`voice`] — call-outs as sound: the spoken words (numbers in words, pure), and
//!   espeak-ng's audio of them, rendered on request and cached in the data directory.
//!   Used by the feed (which names each call's audio) and the HTTP edge (which serves it).
//! - [`alert_subject`] — an alert's subject in words (its queue's, window's or kiosk's
//!   name), for the webhook's notices and the supervisors' alert list.
//! - [`audit`] — reads a service day's audit trail (who did what, when) from the event
//!   log, filtered and paged, on a blocking thread beside the engine. Used by `http`.
//! - [`webhook`] — the alert webhook: a bounded outbox the engine fills after each flush
//!   from the batch's alert facts, and one task that POSTs each alert change, signed, with
//!   retries. Started by the daemon, which queues first what the last run owed.
//! - [`time`] — the clock the daemon reads and how a moment is written (RFC 3339, local
//!   date and time in the hall's zone). Below every other module of the daemon.
//! - [`thread_nice`] — the nice level of one thread: the daemon's displays' thread and the
//!   benchmark's display clients yield the CPU to requests.
//! - [`credit_code`] — the unified social credit code: its check character, finding it in
//!   a scanner's text, and the keyed hash that stands for it past the edge. Used by
//!   `config` and `http`.
//! - [`district`] — the district over NATS JetStream (issue 18): the hall's uplink, which
//!   publishes every durable record of its log to the hall's stream exactly once, and its
//!   answers to the district's online requests through its own public routes.
//! - [`sim`] — `hallq simulate`: seeded discrete-event simulation driving the real core; used by `main` and tests/sim.rs.

pub mod alert_subject;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod config;
pub mod credit_code;
pub mod district;
pub use hallq_core as core;
pub mod daemon;
pub mod engine;
pub mod feed;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod identity;
pub mod mark;
pub mod metrics;
pub mod printer;
pub mod recover;
pub mod reports;
pub mod sim;
pub mod store;
pub mod thread_nice;
pub mod time;
pub mod voice;
pub mod webhook;
