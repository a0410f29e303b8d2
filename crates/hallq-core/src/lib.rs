//! The pure core: the hall's state and every rule that changes it.
//!
//! Nothing here reads a clock, draws a random number, or touches the async runtime, the
//! log's storage or the network. The compiler holds this: this crate's `Cargo.toml` names
//! no runtime, store, network or random crate, and its `clippy.toml` forbids the clock
//! calls of `chrono` and `std::time` (the daemon enables chrono's clock for itself, and
//! features are shared in a build). Time and fresh ids
//! arrive inside commands. So the same code runs in the daemon, in the tests and in the
//! simulator, and gives the same answer each time.

pub mod alerts;
pub mod answer;
pub mod appointments;
pub mod audit;
pub mod calendar;
pub mod case_book;
pub mod clerk_moves;
pub mod command;
pub mod day_reader;
pub mod decide;
pub mod dispatch;
pub mod enterprise;
pub mod escalation;
pub mod estimate;
pub mod eta;
pub mod event;
mod event_reach;
pub mod facts;
pub mod fingerprint;
pub mod forecast;
pub mod guide;
pub mod hall;
mod ids;
pub mod model;
pub mod overview;
pub mod rating;
pub mod reconcile;
pub mod referral;
mod rejection;
pub mod scorecard;
pub mod service_times;
pub mod setup;
pub mod snapshot;
pub mod staff;
pub mod stats;
pub mod transitions;
pub mod window_admin;

pub use answer::{Answer, ReplyKind};
pub use command::{Command, Envelope, Rejection, RejectionKind, Reply};
pub use decide::decide;
pub use event::{Event, Record};
pub use hall::{Decision, HallState, Step};
