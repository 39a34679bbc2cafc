//! `votewire worker`: commits the votes nodes recorded in the ingest streams.
//!
//! One loop per stream, in the consumer group `votewire`, each on a Redis client of its
//! own (a blocking `XREADGROUP` holds its connection). A vote is acknowledged (`XACK`,
//! then `XDEL`) only once its commit answered: committed, or refused for good (the poll
//! closed or does not exist, the option or the voter not admitted), which is counted,
//! logged and told to the voter's sockets ([`Votes::report_refused`]). A vote the database could not take (down, failing over) stays pending
//! with this worker, which reads its own pending entries again after a backoff. A
//! worker that dies leaves its pending entries behind: every loop claims entries idle
//! for `--ingest-claim-idle-ms` (`XAUTOCLAIM`), whoever held them. Committing an entry
//! twice changes nothing (see [`super`]), so a worker killed between its commit and its
//! acknowledgement loses nothing and doubles nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand, Value};

use super::entry::recorded_ms;
use super::reply::{self, Raw};
use super::{IngestEntry, stream_key};
use crate::settings::Settings;
use crate::shutdown::Shutdown;
use crate::store::StoreError;
use crate::votes::Votes;

/// The consumer group every worker reads in.
const GROUP: &str = "votewire";
/// How long a read waits for new entries; below the client's command timeout.
const BLOCK: Duration = Duration::from_millis(500);
/// The first and the longest wait before pending votes are tried again.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MOST: Duration = Duration::from_secs(5);

/// What the workers of this process did, for `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct WorkerCounts {
    /// Votes committed (changed a tally, or repeated what stood).
    pub(crate) committed: AtomicU64,
    /// Votes refused for good by the database, and acknowledged.
    pub(crate) rejected: AtomicU64,
    /// Commits that failed and left their votes pending, to be tried again.
    pub(crate) retried: AtomicU64,
    /// Entries taken over from a worker that held them too long.
    pub(crate) claimed: AtomicU64,
    /// Milliseconds from a vote being recorded to its commit, for the last batch.
    pub(crate) lag_ms: AtomicU64,
}

/// One stream's consumer.
struct Consumer {
    client: Client,
    key: String,
    name: String,
    votes: Arc<Votes>,
    counts: Arc<WorkerCounts>,
    read_count: u64,
    claim_idle: Duration,
    gather: Duration,
}

/// Starts one consumer per stream; each ends at `shutdown`, after its votes in flight
/// are committed and acknowledged.
pub(crate) fn consumers(
    settings: &Settings,
    votes: Arc<Votes>,
    counts: Arc<WorkerCounts>,
    shutdown: &Shutdown,
) -> Result<Vec<impl Future<Output = ()> + Send + 'static>, String> {
    let url = settings
        .redis_url
        .as_deref()
        .ok_or("a worker needs --redis")?;
    let ingest = &settings.ingest;
    (0..ingest.shards)
        .map(|shard| {
            let client = crate::redis_client::builder(url, settings.redis_ca_file.as_deref())?
                .build()
                .map_err(|e| e.to_string())?;
            let consumer = Consumer {
                client,
                key: stream_key(shard),
                name: settings.node_id.to_string(),
                votes: votes.clone(),
                counts: counts.clone(),
                read_count: ingest.read_count,
                claim_idle: ingest.claim_idle,
                gather: ingest.gather,
            };
            Ok(consumer.run(shutdown.clone()))
        })
        .collect()
}

/// Where the next read starts.
enum Next {
    /// This worker's own pending entries, from the start (after a start or a failure).
    Pending,
    /// New entries.
    New,
}

impl Consumer {
    async fn run(self, shutdown: Shutdown) {
        self.client.connect();
        let mut next = Next::Pending;
        let mut backoff = RETRY_FIRST;
        let mut claimed_at = Instant::now();
        let mut group_ready = false;
        while !shutdown.is_draining() {
            if !group_ready {
                if let Err(e) = self.ensure_group().await {
                    tracing::warn!(stream = %self.key, error = %e, "ingest stream not reachable");
                    if !back_off(&mut backoff, &shutdown).await {
                        return;
                    }
                    continue;
                }
                group_ready = true;
            }
            let read = match next {
                Next::Pending => self.read("0", None).await,
                Next::New => self.read(">", Some(BLOCK)).await,
            };
            let mut entries = match read {
                Ok(entries) => entries,
                Err(e) => {
                    // A Redis restarted without its data has no group: make it again.
                    group_ready = !e.details().contains("NOGROUP");
                    tracing::warn!(stream = %self.key, error = %e, "cannot read the ingest stream");
                    if !back_off(&mut backoff, &shutdown).await {
                        return;
                    }
                    continue;
                }
            };
            if claimed_at.elapsed() >= self.claim_idle / 2 {
                claimed_at = Instant::now();
                match self.claim().await {
                    Ok(claimed) => entries.extend(claimed),
                    Err(e) => {
                        tracing::warn!(stream = %self.key, error = %e, "cannot claim idle votes")
                    }
                }
            }
            let was_pending = matches!(next, Next::Pending);
            let nothing = entries.is_empty();
            let full = entries.len() as u64 >= self.read_count;
            let read_at = Instant::now();
            let all_done = self.commit(entries).await;
            // After a failure, this worker's pending entries again once the backoff is
            // over; new entries once its pending ones are all done.
            if !all_done && !back_off(&mut backoff, &shutdown).await {
                return;
            }
            next = if all_done && (nothing || !was_pending) {
                backoff = RETRY_FIRST;
                // A read that was not full: let the next votes gather a moment.
                if !nothing && !full {
                    let gathered = read_at + self.gather;
                    tokio::select! {
                        () = shutdown.wait() => return,
                        () = tokio::time::sleep_until(gathered.into()) => {}
                    }
                }
                Next::New
            } else {
                Next::Pending
            };
        }
    }

    /// Creates the stream and its group if they are not there yet (a fresh Redis, or
    /// one restarted without its data).
    async fn ensure_group(&self) -> Result<(), Error> {
        match self
            .client
            .xgroup_create::<(), _, _, _>(&self.key, GROUP, "0", true)
            .await
        {
            Err(e) if e.details().starts_with("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// Entries from `id` on (`0`: this consumer's pending ones; `>`: new ones).
    async fn read(&self, id: &str, block: Option<Duration>) -> Result<Vec<Raw>, Error> {
        let block = block.map(|b| b.as_millis() as u64);
        let answer: Value = self
            .client
            .xreadgroup(
                GROUP,
                &self.name,
                Some(self.read_count),
                block,
                false,
                &self.key,
                id,
            )
            .await?;
        reply::read_group(answer, &self.key).map_err(|e| Error::new(ErrorKind::Parse, e))
    }

    /// Takes over entries that another consumer (or this one) held too long.
    async fn claim(&self) -> Result<Vec<Raw>, Error> {
        let idle = self.claim_idle.as_millis() as u64;
        let command = CustomCommand::new_static("XAUTOCLAIM", ClusterHash::FirstKey, false);
        let args: Vec<Value> = vec![
            self.key.as_str().into(),
            GROUP.into(),
            self.name.as_str().into(),
            idle.to_string().into(),
            "0-0".into(),
            "COUNT".into(),
            self.read_count.to_string().into(),
        ];
        let answer: Value = self.client.custom(command, args).await?;
        let claimed = reply::auto_claim(answer).map_err(|e| Error::new(ErrorKind::Parse, e))?;
        self.counts.claimed.fetch_add(claimed.len() as u64, Relaxed);
        Ok(claimed)
    }

    /// Commits `entries` (each through its poll's group commit) and acknowledges what
    /// is done with. True when nothing is left pending.
    async fn commit(&self, entries: Vec<Raw>) -> bool {
        if entries.is_empty() {
            return true;
        }
        let mut done = Vec::with_capacity(entries.len());
        let mut casts = Vec::with_capacity(entries.len());
        for (id, fields) in entries {
            // Deleted since it was read: another worker committed it.
            let Some(fields) = fields else {
                done.push(id);
                continue;
            };
            match IngestEntry::parse(&id, fields) {
                Ok(entry) => casts.push((id, entry)),
                Err(why) => {
                    // Not a node's entry: acknowledged so it does not block the stream.
                    tracing::error!(stream = %self.key, %why, "dropping an unreadable ingest entry");
                    done.push(id);
                }
            }
        }
        let oldest = casts
            .first()
            .and_then(|(_, entry)| entry.ballot.entry)
            .map(recorded_ms);
        // Every cast is queued in stream order before any is awaited, so a poll's
        // ballots commit in the order they were recorded.
        let results = futures_util::future::join_all(casts.iter().map(|(_, entry)| {
            let recorded_by = Some(entry.node.clone());
            self.votes
                .cast(entry.poll.clone(), entry.ballot.clone(), recorded_by)
        }))
        .await;
        let mut left = 0;
        let mut refusals = HashMap::new();
        for ((id, entry), result) in casts.into_iter().zip(results) {
            match result {
                Ok(_) => {
                    self.counts.committed.fetch_add(1, Relaxed);
                    done.push(id);
                }
                Err(StoreError::Unavailable(_) | StoreError::Other(_)) => left += 1,
                Err(refused) => {
                    self.counts.rejected.fetch_add(1, Relaxed);
                    tracing::info!(poll = %entry.poll, node = %entry.node, reason = %refused, "ingested vote refused");
                    refusals.entry(entry.poll).or_insert_with(Vec::new).push((
                        entry.ballot.voter,
                        id.clone(),
                        refused,
                    ));
                    done.push(id);
                }
            }
        }
        for (poll, refused) in refusals {
            self.votes.report_refused(poll, refused).await;
        }
        if left > 0 {
            self.counts.retried.fetch_add(1, Relaxed);
        }
        if let Some(oldest) = oldest {
            let now = chrono::Utc::now().timestamp_millis() as u64;
            self.counts
                .lag_ms
                .store(now.saturating_sub(oldest), Relaxed);
        }
        if let Err(e) = self.acknowledge(&done).await {
            // They stay pending and are committed again: a no-op, then acknowledged.
            tracing::warn!(stream = %self.key, error = %e, "cannot acknowledge committed votes");
            return false;
        }
        left == 0
    }

    /// Acknowledges and deletes `ids`: the stream's length stays the backlog.
    async fn acknowledge(&self, ids: &[String]) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let _: u64 = self.client.xack(&self.key, GROUP, ids.clone()).await?;
        let _: u64 = self.client.xdel(&self.key, ids).await?;
        Ok(())
    }
}

/// Waits `backoff`, doubled for the next time (up to [`RETRY_MOST`]); false when the
/// shutdown came first.
async fn back_off(backoff: &mut Duration, shutdown: &Shutdown) -> bool {
    let wait = *backoff;
    *backoff = (*backoff * 2).min(RETRY_MOST);
    tokio::select! {
        () = shutdown.wait() => false,
        () = tokio::time::sleep(wait) => true,
    }
}
