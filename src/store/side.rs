//! The store's side trees, which are not the hall's log: the alert webhook's and the
//! district link's progress (each a log position under its key in one tree), the
//! referrals owed an end at a peer (in the same tree), and the staff sessions (each under
//! its token's SHA-256). Not in the log or a backup.

use super::{seq_of, KeyValue, Store, StoreError, DISTRICT_DONE_KEY, REFERRALS_OWED_KEY, WEBHOOK_DONE_KEY};

impl Store {
    /// The log position of the last alert notice the webhook finished with; `None` before
    /// the hall's first start with a webhook.
    pub fn webhook_done(&self) -> Result<Option<u64>, StoreError> {
        self.progress(WEBHOOK_DONE_KEY)
    }

    /// Records that the webhook finished with the notice at `seq`. Not flushed here: the
    /// engine's next flush, sled's own, or the daemon's last one at shutdown makes it
    /// durable; a notice whose mark is lost in a crash is sent again, under the same
    /// delivery id.
    pub fn set_webhook_done(&self, seq: u64) -> Result<(), StoreError> {
        self.set_progress(WEBHOOK_DONE_KEY, seq)
    }

    /// The log position of the last record the district's stream acknowledged, as this
    /// hall last heard; `None` before its first link. Shown on `/metrics`, never the point
    /// the link resumes from (the server says that).
    pub fn district_done(&self) -> Result<Option<u64>, StoreError> {
        self.progress(DISTRICT_DONE_KEY)
    }

    /// Keeps the district link's acknowledged position (not flushed here, like the
    /// webhook's mark).
    pub fn set_district_done(&self, seq: u64) -> Result<(), StoreError> {
        self.set_progress(DISTRICT_DONE_KEY, seq)
    }

    /// The referrals owed an end at a peer, as `district::refer::settle` wrote them.
    pub fn referrals_owed(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.inner()?.webhook.get(REFERRALS_OWED_KEY)?.map(|v| v.to_vec()))
    }

    /// Keeps the referrals owed (not flushed here: `flush_side` makes it durable).
    pub fn set_referrals_owed(&self, list: &[u8]) -> Result<(), StoreError> {
        self.inner()?.webhook.insert(REFERRALS_OWED_KEY, list)?;
        Ok(())
    }

    /// Makes the side trees' changes durable (sled's flush; the log's own file is the
    /// engine's to sync).
    pub async fn flush_side(&self) -> Result<(), StoreError> {
        self.inner()?.db.flush_async().await?;
        Ok(())
    }

    /// A reader's log position under `key`; `None` before it kept one.
    fn progress(&self, key: &[u8]) -> Result<Option<u64>, StoreError> {
        let inner = self.inner()?;
        let Some(value) = inner.webhook.get(key)? else { return Ok(None) };
        seq_of(&value).map(Some)
    }

    fn set_progress(&self, key: &[u8], seq: u64) -> Result<(), StoreError> {
        self.inner()?.webhook.insert(key, &seq.to_be_bytes())?;
        Ok(())
    }

    /// Every stored session: the hash of its token and its record.
    pub fn sessions(&self) -> Result<Vec<KeyValue>, StoreError> {
        let inner = self.inner()?;
        let pairs = inner.sessions.iter().map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())));
        Ok(pairs.collect::<Result<_, _>>()?)
    }

    /// Writes and removes sessions in one atomic batch (durable after `flush_sessions`).
    pub fn change_sessions(&self, put: &[(&[u8], Vec<u8>)], remove: &[&[u8]]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, value) in put {
            batch.insert(*key, value.as_slice());
        }
        for key in remove {
            batch.remove(*key);
        }
        self.inner()?.sessions.apply_batch(batch)?;
        Ok(())
    }

    /// Makes the sessions' changes durable: sled's flush and the log file's `fdatasync`,
    /// without the mark (the engine's flushes keep that).
    pub async fn flush_sessions(&self) -> Result<(), StoreError> {
        let inner = self.inner()?;
        inner.db.flush_async().await?;
        let file = inner.file.clone();
        tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .map_err(|e| StoreError::Sync(std::io::Error::other(e)))?
            .map_err(StoreError::Sync)
    }
}
