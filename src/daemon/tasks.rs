//! What `serve` starts, owned by it: one shutdown signal that every long-lived task
//! watches (the daemon's cancellation token), the handle of each such task, and the
//! displays' thread. At shutdown `serve` cancels, lets the HTTP server drain, then joins
//! each task and the thread, so that nothing the daemon started outlives `serve`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// How long a task may take to end once cancelled before it is aborted and named in the
/// log: each one's own work at the signal is a socket write or two.
const TASK_END_WAIT: Duration = Duration::from_secs(10);

/// The daemon's long-lived tasks and the signal that ends them.
pub struct Tasks {
    stop: Arc<watch::Sender<bool>>,
    owned: Vec<(&'static str, JoinHandle<()>)>,
}

impl Default for Tasks {
    fn default() -> Self {
        Self { stop: Arc::new(watch::channel(false).0), owned: Vec::new() }
    }
}

impl Tasks {
    /// What cancels from elsewhere (the shutdown future handed to the HTTP server).
    pub fn canceller(&self) -> Canceller {
        Canceller(self.stop.clone())
    }

    /// The cancellation token: turns true once, when the daemon begins to shut down.
    pub fn token(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Takes `task` into the daemon's keeping: it is joined at shutdown.
    pub fn own(&mut self, name: &'static str, task: JoinHandle<()>) {
        self.owned.push((name, task));
    }

    /// Signals every task to end.
    pub fn cancel(&self) {
        self.stop.send_replace(true);
    }

    /// Cancels, then waits for each task; one that does not end in time is aborted, and
    /// one that panicked is named in the log.
    pub async fn join(self) {
        self.cancel();
        for (name, mut task) in self.owned {
            match tokio::time::timeout(TASK_END_WAIT, &mut task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(task = name, error = %e, "a task of the daemon failed"),
                Err(_) => {
                    tracing::warn!(task = name, "a task of the daemon did not end at shutdown; aborted");
                    task.abort();
                }
            }
        }
    }
}

/// Cancels the daemon's tasks; a part of `Tasks` that may be moved into a future.
pub struct Canceller(Arc<watch::Sender<bool>>);

impl Canceller {
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }
}

/// The thread that writes to displays: a runtime of its own at a lower priority, so that
/// a call's fan-out to thousands of displays shares the CPU with requests instead of
/// queueing ahead of them (BENCHMARKS.md, target 3). One per daemon, stopped by `serve`.
pub struct DisplayThread {
    handle: tokio::runtime::Handle,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

/// The displays' thread runs at this nice level.
const DISPLAYS_NICE: i32 = 10;

impl DisplayThread {
    /// Starts the thread; `None` (said in the log) if it cannot be started: displays are
    /// then served where they connected.
    pub fn start() -> Option<Self> {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot make the displays' runtime; serving displays beside HTTP");
                return None;
            }
        };
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let started = std::thread::Builder::new().name("hallq-displays".into()).spawn(move || {
            if !crate::thread_nice::set(DISPLAYS_NICE) {
                tracing::debug!("cannot lower the displays' thread priority");
            }
            // Until `serve` says stop; dropping the runtime then ends what is left on it.
            let _ = runtime.block_on(stopped);
        });
        match started {
            Ok(thread) => Some(Self { handle, stop, thread }),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the displays' thread; serving displays beside HTTP");
                None
            }
        }
    }

    /// Where display connections are served.
    pub fn handle(&self) -> tokio::runtime::Handle {
        self.handle.clone()
    }

    /// Stops the runtime and waits for the thread to end.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let thread = self.thread;
        if tokio::task::spawn_blocking(move || thread.join()).await.is_err() {
            tracing::warn!("the displays' thread did not end cleanly");
        }
    }
}
