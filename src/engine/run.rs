//! The engine's loop: batches, group commit, answers, and recovery after a failed write.
//!
//! The engine stays a task on the runtime (its inbox, tick and the feed's timer are
//! tokio's), but every call into the log that waits on the disk — the batch's append, the
//! day's snapshot, pruning, and recovery (which may sleep for the file lock and replay a
//! day) — runs on tokio's blocking pool, awaited before the engine goes on. So a slow
//! disk stalls the engine alone, never a runtime worker serving requests and displays.
//! Chosen over an engine on its own thread because it keeps the task the daemon joins
//! (a panic in the engine still ends the daemon) and the same timers, and because the
//! fsync already went to the blocking pool (`Store::flush`): a batch with records makes
//! one trip there (append, sled's flush and the fsync together), a batch of reads none. The loop awaits each write before taking
//! the next batch, so group commit and the order of answers are as before.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::{CommandFn, Engine, EngineError, Job, ReadFn, Reads, BATCH_MAX, TICK_MS};
use crate::core::facts::Fact;
use crate::core::model::Ts;
use crate::core::snapshot::DaySnapshot;
use crate::core::{Command, Decision, Envelope, Record, Rejection};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// A job decided (or a read waiting) until its batch is durable.
enum Pending {
    Decided(Result<Decision, Rejection>, CommandFn),
    Read(ReadFn),
}

impl Pending {
    fn fail(self, e: EngineError) {
        match self {
            Pending::Decided(_, answer) => answer(Err(e)),
            Pending::Read(answer) => answer(Err(e)),
        }
    }
}

/// Runs `work` on the blocking pool and waits for it; `None` when the runtime is shutting
/// down. A panic in `work` is the engine's own (a bug): it ends the engine as before.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(v) => Some(v),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => None,
    }
}

fn tick() -> Envelope {
    Envelope { command: Command::Tick, idempotency_key: None }
}

impl Engine {
    pub(super) async fn run(mut self, mut inbox: mpsc::Receiver<Job>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick_every = tokio::time::interval(Duration::from_millis(TICK_MS));
        tick_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut batch = Vec::with_capacity(BATCH_MAX);
        let mut stopping = false;
        loop {
            // Window and queue messages held back by the feed go out when due, even if
            // nothing else happens in the hall by then.
            let feed_due = self.feed.due();
            tokio::select! {
                _ = tokio::time::sleep_until(feed_due.unwrap_or_else(std::time::Instant::now).into()), if feed_due.is_some() => {
                    self.feed.publish_due();
                    continue;
                }
                n = inbox.recv_many(&mut batch, BATCH_MAX) => {
                    if n == 0 {
                        break;
                    }
                }
                _ = stop.changed(), if !stopping => {
                    stopping = true;
                    inbox.close();
                    continue;
                }
                _ = tick_every.tick(), if !stopping => {
                    batch.push(Job::Command(tick(), Box::new(|_| {})));
                }
            }
            self.run_batch(&mut batch).await;
        }
        tracing::info!("engine stopped after draining its inbox");
    }

    async fn run_batch(&mut self, batch: &mut Vec<Job>) {
        if self.broken && !self.recover().await {
            // The state may hold changes the log lacks; nothing is answered from it until
            // the log is readable and writable again.
            batch.drain(..).for_each(|job| job.fail(EngineError::Storage));
            return;
        }
        let now = (self.clock)();
        // A new service day opens before anything else in the batch, on its own, so that
        // the state right after it can be kept as the day's snapshot.
        let opening = self.state.step(&tick(), now);
        let snapshot = if opening.records.is_empty() { None } else { self.state.day_snapshot().map(Arc::new) };
        let (mut records, mut facts) = (opening.records, opening.facts);
        let mut pending = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            pending.push(match job {
                Job::Command(env, answer) => {
                    let step = self.state.step(&env, now);
                    records.extend(step.records);
                    facts.extend(step.facts);
                    Pending::Decided(step.result, answer)
                }
                Job::Read(answer) => Pending::Read(answer),
            });
        }
        self.metrics.batch_size.observe(pending.len() as f64);
        let records = Arc::new(records);
        if !records.is_empty() && !self.write(&records, snapshot.clone()).await {
            pending.into_iter().for_each(|p| p.fail(EngineError::Storage));
            self.broken = true;
            self.recover().await;
            return;
        }
        if let Some((seq, _)) = records.last() {
            self.metrics.log_position.set(i64::try_from(*seq).unwrap_or(i64::MAX));
        }
        self.answer(pending);
        if !records.is_empty() {
            self.metrics.observe_facts(&self.state, &facts);
            self.feed.publish(&self.state, &records, &facts);
            self.notify_webhook(&facts);
        }
        if let Some(snap) = snapshot {
            self.prune(&snap).await;
        }
    }

    /// Appends `records` (and the day's `snapshot`) in one sled batch and flushes once,
    /// in one trip to the blocking pool. Whether they are durable.
    async fn write(&self, records: &Arc<Vec<(u64, Record)>>, snapshot: Option<Arc<DaySnapshot>>) -> bool {
        let started = std::time::Instant::now();
        let (store, batch) = (self.store.clone(), records.clone());
        let written = blocking(move || {
            store.append(&batch)?;
            if let Some(snap) = &snapshot {
                // Only a shortcut for start-up: without it the log is replayed.
                if let Err(e) = store.put_snapshot(snap) {
                    tracing::warn!(error = %e, "the day's snapshot could not be written");
                }
            }
            store.flush_blocking()
        })
        .await;
        let written = match written {
            Some(done) => done,
            None => {
                tracing::error!(records = records.len(), "event log write cut short by the shutdown; answering 503");
                self.metrics.flush_seconds.observe(started.elapsed().as_secs_f64());
                return false;
            }
        };
        self.metrics.flush_seconds.observe(started.elapsed().as_secs_f64());
        if let Err(e) = &written {
            tracing::error!(error = %e, records = records.len(), "event log write failed; answering 503 and reloading");
        }
        written.is_ok()
    }

    /// Answers every job of a durable batch, reading the state as it is after the batch.
    fn answer(&self, pending: Vec<Pending>) {
        let reads = Reads::new(&self.state, (self.clock)());
        for p in pending {
            match p {
                Pending::Decided(Ok(d), answer) => {
                    self.metrics.commands.with_label_values(&["ok"]).inc();
                    answer(Ok((&reads, &d)));
                }
                Pending::Decided(Err(r), answer) => {
                    self.metrics.commands.with_label_values(&[r.code()]).inc();
                    answer(Err(EngineError::Rejected(r)));
                }
                Pending::Read(answer) => {
                    self.metrics.engine_queries.inc();
                    answer(Ok(&reads));
                }
            }
        }
    }

    /// Queues a webhook notice for each alert the flushed batch raised or cleared, also
    /// those a new day's opening ended: read off the batch's facts.
    fn notify_webhook(&self, facts: &[Fact]) {
        let Some(outbox) = &self.webhook else { return };
        crate::webhook::notices_of(facts).for_each(|notice| outbox.push(notice));
    }

    /// Removes the log's records older than the retention, now that `snap` (durable, a
    /// later position) holds their figures: their tickets, ratings' comments, bookings'
    /// phone hashes and clerks' names go, the day's counts and durations stay.
    async fn prune(&self, snap: &DaySnapshot) {
        let cutoff = Ts(snap.at.0.saturating_sub(i64::from(self.retention_days).saturating_mul(DAY_MS)));
        let (store, keep_from) = (self.store.clone(), snap.seq);
        match blocking(move || store.prune(cutoff, keep_from)).await {
            None | Some(Ok(0)) => {}
            Some(Ok(n)) => {
                tracing::info!(records = n, days = self.retention_days, "log records past the retention removed")
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "log records past the retention could not be removed; next day again")
            }
        }
    }

    /// After a failed write the state may hold changes the log lacks, and sled refuses
    /// every later write: reopen the log and rebuild the state from it (on the blocking
    /// pool), which is the truth. While that fails (the disk is still full or read-only),
    /// every job gets 503; the engine tries again with each batch (its own tick brings
    /// one every second), so the hall resumes by itself once the disk is back. Whether it
    /// is healthy now.
    async fn recover(&mut self) -> bool {
        let (store, setup) = (self.store.clone(), self.state.setup.clone());
        let Some(reloaded) = blocking(move || store.reopen().and_then(|()| store.load(setup))).await else {
            return false;
        };
        match reloaded {
            Ok((fresh, _)) => {
                if self.broken {
                    tracing::info!(seq = fresh.last_seq, "event log reopened; serving again");
                }
                self.state = fresh;
                self.broken = false;
                self.failed_recoveries = 0;
                true
            }
            Err(e) => {
                // Said at the 1st, 2nd, 4th, 8th ... attempt: a disk full for hours must
                // not also fill it with this line.
                self.failed_recoveries += 1;
                if self.failed_recoveries.is_power_of_two() {
                    tracing::error!(error = %e, attempts = self.failed_recoveries, "event log still unavailable; answering 503");
                }
                false
            }
        }
    }
}
