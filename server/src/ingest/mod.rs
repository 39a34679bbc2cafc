//! Buffered ingest (`--ingest stream`): a node validates a vote, records it in a Redis
//! Stream with `XADD` and answers 202; `votewire worker` processes ([`worker`]) commit
//! the stream's votes through the same group commit as direct mode and publish them.
//!
//! A poll's votes all go to one stream, `votewire:ingest:{N}` with `N` a hash of the
//! poll id modulo `--ingest-shards`: one stream keeps a poll's votes in the order they
//! were taken, and the hash tag puts each stream on its own Redis Cluster slot.
//! Counting a vote twice changes nothing (docs/architecture.md, "Buffered ingest"):
//! the entry's id becomes the ballot's `entry`, and the store applies a ballot without
//! a `seq` only when its entry is later than any it handled for that voter.

mod entry;
mod reply;
mod rules;
pub(crate) mod worker;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use fred::prelude::*;
use votewire_proto::{ErrorCode, NodeId, PollId, VoteAccepted};

use crate::error::Refusal;
use crate::settings::IngestSettings;
use crate::shutdown::Shutdown;
use crate::store::{Ballot, Store};
pub(crate) use entry::IngestEntry;
use rules::PollRules;

/// How often a node measures the backlog (the length of every stream).
const MEASURE_EVERY: Duration = Duration::from_millis(250);

/// The stream of shard `shard`.
pub(crate) fn stream_key(shard: u32) -> String {
    format!("votewire:ingest:{{{shard}}}")
}

/// The shard of a poll's votes: FNV-1a of its id, the same on every node and worker.
pub(crate) fn shard_of(poll: &PollId, shards: u32) -> u32 {
    let hash = poll
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    (hash % u64::from(shards.max(1))) as u32
}

/// The ingest parts of a process: the stream on a node in `--ingest stream` mode and on a
/// worker, and the worker's counts on a worker. Both absent on a node in direct mode.
#[derive(Clone, Default)]
pub(crate) struct IngestParts {
    /// Where a stream node records votes, and what measures the backlog.
    pub(crate) stream: Option<Arc<Ingest>>,
    /// What a worker's consumers did.
    pub(crate) worker: Option<Arc<worker::WorkerCounts>>,
}

/// A node's side of the stream: records validated votes.
pub(crate) struct Ingest {
    client: Client,
    node: NodeId,
    settings: IngestSettings,
    rules: PollRules,
    /// The streams' total length when last measured: votes not yet committed.
    backlog: AtomicU64,
    /// Votes recorded by this node.
    accepted: AtomicU64,
}

impl Ingest {
    /// Connects to the Redis at `url`. The returned future measures the backlog until
    /// `shutdown`; the caller runs it (the node's task set owns it).
    pub(crate) fn connect(
        url: &str,
        ca_file: Option<&std::path::Path>,
        node: NodeId,
        settings: IngestSettings,
        store: Arc<dyn Store>,
        shutdown: Shutdown,
    ) -> Result<(Arc<Self>, impl Future<Output = ()> + Send + 'static), String> {
        let client = crate::redis_client::builder(url, ca_file)?
            .build()
            .map_err(|e| e.to_string())?;
        client.connect();
        let ingest = Arc::new(Self {
            client,
            node,
            settings,
            rules: PollRules::new(store),
            backlog: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
        });
        let measuring = ingest.clone().measure_until(shutdown);
        Ok((ingest, measuring))
    }

    /// Votes waiting in the streams when last measured.
    pub(crate) fn backlog(&self) -> u64 {
        self.backlog.load(Relaxed)
    }

    /// Votes waiting above which new ones are refused (`--ingest-max-backlog`).
    pub(crate) fn max_backlog(&self) -> u64 {
        self.settings.max_backlog
    }

    /// Votes this node recorded.
    pub(crate) fn accepted(&self) -> u64 {
        self.accepted.load(Relaxed)
    }

    /// Checks `ballot` against its poll's rules and records it. The receipt names the
    /// stream entry; the vote is counted when a worker commits it.
    pub(crate) async fn record(
        &self,
        poll: PollId,
        ballot: Ballot,
    ) -> Result<VoteAccepted, Refusal> {
        let max = self.settings.max_backlog;
        if self.backlog() >= max {
            return Err(Refusal::new(
                ErrorCode::IngestBacklogFull,
                format!("{max} votes are waiting to be counted; retry in a few seconds"),
            ));
        }
        self.rules.check(&poll, ballot.choice).await?;
        let (choice, seq) = (ballot.choice, ballot.seq);
        let entry = IngestEntry {
            poll: poll.clone(),
            node: self.node.clone(),
            ballot,
        };
        let key = stream_key(shard_of(&poll, self.settings.shards));
        let id: String = self
            .client
            .xadd(key, false, None, "*", entry.fields())
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "cannot record a vote in the ingest stream");
                Refusal::new(
                    ErrorCode::IngestUnavailable,
                    "Redis did not confirm the vote: retry it (with the same seq, it counts once)",
                )
            })?;
        self.accepted.fetch_add(1, Relaxed);
        Ok(VoteAccepted {
            stream_id: id,
            poll,
            option: choice.lowest(),
            options: choice.options(),
            seq,
            node: self.node.clone(),
        })
    }

    /// Measures the backlog every [`MEASURE_EVERY`] until `shutdown`. While Redis does
    /// not answer the last measure stands: XADD fails then anyway.
    async fn measure_until(self: Arc<Self>, shutdown: Shutdown) {
        let mut rounds = tokio::time::interval(MEASURE_EVERY);
        rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.wait() => return,
                _ = rounds.tick() => {}
            }
            let lengths = (0..self.settings.shards)
                .map(|shard| self.client.xlen::<u64, _>(stream_key(shard)));
            if let Ok(lengths) = futures_util::future::try_join_all(lengths).await {
                self.backlog.store(lengths.iter().sum(), Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_always_goes_to_the_same_shard_and_polls_spread_over_all() {
        let polls: Vec<PollId> = (0..400)
            .map(|i| PollId::parse(format!("poll{i}")).unwrap())
            .collect();
        let mut per_shard = [0u32; 4];
        for poll in &polls {
            let shard = shard_of(poll, 4);
            assert_eq!(shard, shard_of(poll, 4));
            per_shard[shard as usize] += 1;
        }
        assert!(per_shard.iter().all(|&n| n > 60), "{per_shard:?}");
        assert_eq!(stream_key(3), "votewire:ingest:{3}");
    }
}
