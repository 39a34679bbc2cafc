//! Read replicas: [`ReplicatedStore`] is a [`Store`] over a primary and its replicas.
//!
//! - Writes (create, vote, close, migrate, the heartbeat) go to the primary.
//! - Reads (a poll, the open list, the audit) go round robin to the replicas in the
//!   read rotation, and to the primary when none is.
//! - Read-your-writes on the node: the store remembers, per poll, the highest version
//!   (and whether it was closed) that this node committed or read. A replica answer
//!   below that, or below what the caller asks for ([`Store::poll_at_least`]), is
//!   thrown away and the primary answers instead, so a node's reads never go back in
//!   time. A replica that does not have the poll yet is treated the same way.
//! - A replica that fails a read leaves the rotation at once and that read is retried
//!   on the primary: callers never see a replica's failure.
//! - [`ReplicatedStore::monitor`] writes the heartbeat to the primary and probes every
//!   replica each [`HEARTBEAT_INTERVAL`]: a replica that answers and lags no more than
//!   the bound is (back) in the rotation; one that fails or lags more is out.
//! - The store owns what it measures: [`ReplicatedStore::health`] (state and lag per
//!   replica) and [`ReplicatedStore::fallbacks`] (reads the primary answered instead),
//!   which the node's `/metrics` and `/api/cluster` read when they render.
//!
//! Lag is measured portably, with no replication-specific SQL: every node writes its
//! clock into a one-row table on the primary
//! ([`Heartbeat::write_heartbeat`](super::Heartbeat::write_heartbeat)), and the age of
//! the row a replica holds is its lag. Two caveats: the figure is only as fine as the
//! interval (a replica perfectly in step shows between 0 and one interval), and it
//! includes the clock skew between nodes (negative ages count as 0).
//!
//! The probing lives in `health`; this file is the routing.
//!
//! Replicas connect lazily, in the probe: a replica that is down when the node starts
//! must not stop it (docs/architecture.md, invariant 5), it just stays out of the rotation.

mod health;
mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use futures_util::future::BoxFuture;
use votewire_proto::{PollId, Tally};

pub(crate) use health::HEARTBEAT_INTERVAL;
use health::Replica;
pub use health::{ReplicaHealth, ReplicaState};

use super::{Backend, StoreError, check_url};

/// Longest a read may wait for a replica before the primary is asked instead: reads
/// take milliseconds, and a replica that hangs (a cut network) must not hang requests.
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// What a node remembers of a poll is forgotten after this long (and at least four
/// times the lag bound): by then any replica within the bound has caught up with it.
const SEEN_HORIZON: Duration = Duration::from_secs(60);

/// The highest version of a poll this node committed or read, and whether it saw the
/// poll closed: what a read must at least show.
#[derive(Debug, Clone, Copy)]
struct Seen {
    version: u64,
    closed: bool,
    at: Instant,
}

impl Seen {
    /// A newer version is news whatever it says (a reopen raises the version past a
    /// close); at the same version, a close is not undone.
    fn shown_by(&self, tally: &Tally, closed: bool) -> bool {
        tally.version > self.version || (tally.version == self.version && (closed || !self.closed))
    }
}

/// Reads the primary answered instead of a replica, by reason, since the store opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fallbacks {
    /// The replica was behind the version the reader needed, or did not have the poll
    /// yet.
    pub behind: u64,
    /// The replica failed (or did not answer in time).
    pub failed: u64,
}

/// The running counts behind [`Fallbacks`].
#[derive(Debug, Default)]
struct FallbackCounters {
    behind: AtomicU64,
    failed: AtomicU64,
}

/// A [`Store`] that writes to a primary and reads from replicas (see the module docs).
pub struct ReplicatedStore {
    primary: Arc<dyn Backend>,
    replicas: Vec<Replica>,
    max_lag: Duration,
    next: AtomicUsize,
    seen: DashMap<PollId, Seen>,
    fallbacks: FallbackCounters,
}

impl ReplicatedStore {
    /// Reads from `replicas`, already open. They stay out of the rotation until the
    /// first probe ([`Self::check`] or [`Self::monitor`]) finds them within `max_lag`.
    pub fn new(
        primary: Arc<dyn Backend>,
        replicas: Vec<Arc<dyn Backend>>,
        max_lag: Duration,
    ) -> Self {
        let replicas = replicas
            .into_iter()
            .map(|store| Replica::new(None, Some(store)))
            .collect();
        Self::with(primary, replicas, max_lag)
    }

    /// Reads from the databases at `urls`, which the probes connect to (and reconnect
    /// to, when one was down at start-up). Fails only for a URL of no known backend.
    pub fn with_urls(
        primary: Arc<dyn Backend>,
        urls: &[String],
        max_lag: Duration,
    ) -> Result<Self, StoreError> {
        let replicas = urls
            .iter()
            .map(|url| check_url(url).map(|()| Replica::new(Some(url.clone()), None)))
            .collect::<Result<_, _>>()?;
        Ok(Self::with(primary, replicas, max_lag))
    }

    fn with(primary: Arc<dyn Backend>, replicas: Vec<Replica>, max_lag: Duration) -> Self {
        Self {
            primary,
            replicas,
            max_lag,
            next: AtomicUsize::new(0),
            seen: DashMap::new(),
            fallbacks: FallbackCounters::default(),
        }
    }

    /// The reads the primary answered instead of a replica, by reason.
    pub fn fallbacks(&self) -> Fallbacks {
        Fallbacks {
            behind: self.fallbacks.behind.load(Relaxed),
            failed: self.fallbacks.failed.load(Relaxed),
        }
    }

    /// The next replica in the rotation, round robin.
    /// Reads with `read` from a replica of the rotation, else (none is in it, or the
    /// one picked failed or did not have it) from the primary.
    async fn replica_or_primary<'a, T, F>(
        &'a self,
        read: impl Fn(Arc<dyn Backend>) -> F,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'a,
    {
        if let Some((index, replica)) = self.pick()
            && let Some(value) = self.try_replica(index, Box::pin(read(replica))).await
        {
            return Ok(value);
        }
        read(self.primary.clone()).await
    }

    fn pick(&self) -> Option<(usize, Arc<dyn Backend>)> {
        let n = self.replicas.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Relaxed);
        (0..n).map(|k| (start + k) % n).find_map(|index| {
            let replica = &self.replicas[index];
            if replica.state() != ReplicaState::Healthy {
                return None;
            }
            replica.connected().map(|store| (index, store))
        })
    }

    /// Runs a read on a replica; `None` sends it to the primary. A replica that fails
    /// (or hangs) leaves the rotation until a probe brings it back.
    async fn try_replica<T>(
        &self,
        index: usize,
        read: BoxFuture<'_, Result<T, StoreError>>,
    ) -> Option<T> {
        let error = match tokio::time::timeout(READ_TIMEOUT, read).await {
            Ok(Ok(value)) => return Some(value),
            // Not replicated yet, most likely: the primary knows.
            Ok(Err(StoreError::PollNotFound)) => {
                self.fallbacks.behind.fetch_add(1, Relaxed);
                return None;
            }
            Ok(Err(e)) => e,
            Err(_) => StoreError::Unavailable(format!("no answer within {READ_TIMEOUT:?}")),
        };
        self.fallbacks.failed.fetch_add(1, Relaxed);
        if self.replicas[index].swap_state(ReplicaState::Down) != ReplicaState::Down {
            tracing::warn!(replica = index, error = ?error, "replica read failed: out of the read rotation, reading from the primary");
        }
        None
    }

    /// What a read of `id` must at least show.
    fn need(&self, id: &PollId, min_version: u64) -> Seen {
        let mut need = self.seen.get(id).map_or(
            Seen {
                version: 0,
                closed: false,
                at: Instant::now(),
            },
            |seen| *seen,
        );
        need.version = need.version.max(min_version);
        need
    }

    /// Forgets what replicas within the lag bound have long caught up with, so the
    /// map holds recently touched polls only.
    fn forget_old_polls(&self) {
        let horizon = SEEN_HORIZON.max(self.max_lag * 4);
        self.seen.retain(|_, seen| seen.at.elapsed() < horizon);
    }

    /// Remembers what this node committed or read of `id`.
    fn observe(&self, id: &PollId, tally: &Tally, closed: bool) {
        if let Some(mut seen) = self.seen.get_mut(id) {
            // A close keeps the version; only a reopen raises it past a closed one.
            if tally.version > seen.version {
                (seen.version, seen.closed) = (tally.version, closed);
                seen.at = Instant::now();
            } else if tally.version == seen.version && closed && !seen.closed {
                seen.closed = true;
                seen.at = Instant::now();
            }
            return;
        }
        self.seen.insert(
            id.clone(),
            Seen {
                version: tally.version,
                closed,
                at: Instant::now(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(version: u64, closed: bool) -> Seen {
        Seen {
            version,
            closed,
            at: Instant::now(),
        }
    }

    fn tally(version: u64) -> Tally {
        Tally {
            version,
            counts: vec![version],
            total: version,
        }
    }

    #[test]
    fn a_read_shows_what_was_seen_unless_older_or_open_where_a_close_was_seen() {
        let closed = seen(5, true);
        assert!(closed.shown_by(&tally(5), true));
        assert!(
            !closed.shown_by(&tally(5), false),
            "the close is not undone"
        );
        assert!(!closed.shown_by(&tally(4), true));
        assert!(
            closed.shown_by(&tally(6), false),
            "a newer version is a reopen"
        );
        assert!(seen(5, false).shown_by(&tally(5), false));
    }
}
