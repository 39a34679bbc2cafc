//! Anti-entropy: at an interval (`--anti-entropy-ms`) the node compares every room its
//! sockets watch with the database, in one read, and brings each room found behind up
//! to date.
//!
//! The bus carries every commit to every node, except when it cannot: a node killed
//! between its commit and its publish, a message Redis dropped (a subscriber cut at its
//! output-buffer limit, `CLIENT KILL TYPE pubsub`), Redis down altogether. Without this
//! loop such a room would stay on its old tally until the poll's next vote; with it, no
//! socket stays behind the database for longer than the interval (plus a read). It
//! costs one query per interval per node however many polls are watched, and one read
//! per room found behind; a replica that lags only delays a repair to the next round.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use votewire_proto::PollStatus;

use super::Watch;
use crate::shutdown::Shutdown;
use crate::store::PollVersion;
use crate::votes::poll_now;

impl Watch {
    /// Checks the rooms against the database every `every` until `shutdown`.
    pub(crate) async fn heal_every(self: Arc<Self>, every: Duration, shutdown: Shutdown) {
        let mut rounds = tokio::time::interval(every);
        rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        rounds.reset(); // the first tick would fire at once, before any room exists
        loop {
            tokio::select! {
                () = shutdown.wait() => return,
                _ = rounds.tick() => {
                    self.heal().await;
                }
            }
        }
    }

    /// One round: reads the versions of the watched polls and refreshes the rooms that
    /// are behind. Returns how many it refreshed.
    pub(crate) async fn heal(&self) -> usize {
        let polls = self.fanout.watched_polls();
        if polls.is_empty() {
            return 0;
        }
        let stored = match self.store.versions(&polls).await {
            Ok(stored) => stored,
            Err(e) => {
                // The database is down: nothing to compare with until it returns.
                tracing::debug!(error = %e, "anti-entropy read failed");
                return 0;
            }
        };
        let mut refreshed = 0;
        for PollVersion {
            id,
            version,
            closed,
        } in stored
        {
            let Some((status, shown)) = self.fanout.held(&id) else {
                continue; // not seeded yet: its first subscriber reads it anyway
            };
            if version <= shown && (!closed || status == PollStatus::Closed) {
                continue;
            }
            match self.store.poll_at_least(&id, version).await {
                Ok(state) => {
                    tracing::info!(poll = %id, shown, stored = version, "room behind the database: refreshed");
                    self.fanout.refresh(id, poll_now(&state));
                    self.repairs.fetch_add(1, Relaxed);
                    refreshed += 1;
                }
                Err(e) => tracing::debug!(poll = %id, error = %e, "anti-entropy read failed"),
            }
        }
        refreshed
    }

    /// Rooms found behind the database and refreshed since start.
    pub(crate) fn repairs(&self) -> u64 {
        self.repairs.load(Relaxed)
    }
}
