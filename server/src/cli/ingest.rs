//! The flags of the ingest path: `--ingest direct` (the default) commits each vote on
//! the node that took it; `--ingest stream` records it in a Redis Stream, answers 202,
//! and leaves the commit to `votewire worker`. docs/architecture.md ("Buffered ingest")
//! says what each costs.

use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::settings::{IngestMode, IngestSettings};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mode {
    /// Commit each vote on the node, answer 200 with the tally.
    Direct,
    /// Record each vote in a Redis Stream, answer 202; workers commit.
    Stream,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Ingest")]
pub(super) struct IngestArgs {
    /// How votes reach the database: `direct` (the node commits them, answering 200
    /// with the tally) or `stream` (the node records them in a Redis Stream and answers
    /// 202; `votewire worker` processes commit them, so votes keep being taken while
    /// the database is slow or down). `stream` needs --redis.
    #[arg(long, env = "VOTEWIRE_INGEST", value_enum, default_value_t = Mode::Direct, global = true)]
    ingest: Mode,
    /// Streams the votes are spread over, by poll: `votewire:ingest:{0}` and on, each
    /// on its own Redis Cluster slot. Every node and worker must use the same number.
    #[arg(
        long,
        env = "VOTEWIRE_INGEST_SHARDS",
        default_value_t = 4,
        global = true
    )]
    ingest_shards: u32,
    /// Votes waiting to be counted, over all streams, above which nodes answer 503
    /// `ingest_backlog_full`: a bound on Redis's memory (about 250 bytes a vote) while
    /// the database is down.
    #[arg(
        long,
        env = "VOTEWIRE_INGEST_MAX_BACKLOG",
        default_value_t = 500_000,
        global = true
    )]
    ingest_max_backlog: u64,
    /// Milliseconds a vote may stay with a worker, unacknowledged, before another
    /// worker claims it: how long a dead worker's votes wait.
    #[arg(
        long,
        env = "VOTEWIRE_INGEST_CLAIM_IDLE_MS",
        default_value_t = 15_000,
        global = true
    )]
    ingest_claim_idle_ms: u64,
    /// Most votes a worker reads from one stream at once.
    #[arg(
        long,
        env = "VOTEWIRE_INGEST_READ_COUNT",
        default_value_t = 1024,
        global = true
    )]
    ingest_read_count: u64,
    /// Milliseconds a worker lets votes gather in a stream after a read that was not
    /// full, so it commits them in fewer, larger transactions: the database's work per
    /// vote falls, at the cost of up to this much more time from 202 to counted. 0
    /// reads again at once.
    #[arg(
        long,
        env = "VOTEWIRE_INGEST_GATHER_MS",
        default_value_t = 50,
        global = true
    )]
    ingest_gather_ms: u64,
}

impl IngestArgs {
    /// The checked settings; `redis` says whether --redis was given.
    pub(super) fn into_settings(self, redis: bool) -> Result<IngestSettings, String> {
        let mode = match self.ingest {
            Mode::Direct => IngestMode::Direct,
            Mode::Stream => IngestMode::Stream,
        };
        if mode == IngestMode::Stream && !redis {
            return Err("--ingest stream records votes in Redis: give --redis too".into());
        }
        if !(1..=1024).contains(&self.ingest_shards) {
            return Err("--ingest-shards must be between 1 and 1024".into());
        }
        if self.ingest_max_backlog == 0 {
            return Err("--ingest-max-backlog must be at least 1".into());
        }
        if self.ingest_claim_idle_ms < 1000 {
            return Err(
                "--ingest-claim-idle-ms must be at least 1000: a live worker's commit must not be claimed"
                    .into(),
            );
        }
        if !(1..=10_000).contains(&self.ingest_read_count) {
            return Err("--ingest-read-count must be between 1 and 10000".into());
        }
        if self.ingest_gather_ms > 5_000 {
            return Err("--ingest-gather-ms must be at most 5000".into());
        }
        Ok(IngestSettings {
            mode,
            shards: self.ingest_shards,
            max_backlog: self.ingest_max_backlog,
            claim_idle: Duration::from_millis(self.ingest_claim_idle_ms),
            read_count: self.ingest_read_count,
            gather: Duration::from_millis(self.ingest_gather_ms),
        })
    }
}
