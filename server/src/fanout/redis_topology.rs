//! Following a Redis Cluster's slots. A failover moves a poll's shard to another
//! master, and what the subscriber does not notice it does not fix: after a
//! maintenance failover (`CLUSTER FAILOVER`, as managed services run them) the old
//! master lives on as a replica and ends the shard subscriptions it held with a
//! server-side SUNSUBSCRIBE that fred drops without a word, so the connection stays
//! open and quiet while the new master publishes to nobody. So the subscriber reads
//! the cluster's slots every few seconds and, when a range changed masters,
//! resubscribes every watched poll (through the master that serves it now) and pushes
//! fresh snapshots, as after a reconnect.

use std::sync::Arc;
use std::time::Duration;

use fred::prelude::*;
use fred::types::config::Server;

use super::redis::RedisBus;
use crate::shutdown::Shutdown;

/// How often the subscriber reads `CLUSTER SLOTS`: one small command per node, and
/// the anti-entropy loop covers the moments in between.
const READ_SLOTS_EVERY: Duration = Duration::from_secs(2);

/// The slot ranges and the master that serves each, as `client` last read them.
fn masters(client: &impl ClusterInterface) -> Vec<(u16, u16, Server)> {
    client
        .cached_cluster_state()
        .map_or_else(Vec::new, |routing| {
            routing
                .slots()
                .iter()
                .map(|range| (range.start, range.end, range.primary.clone()))
                .collect()
        })
}

impl RedisBus {
    /// On a Redis Cluster, reads its slots every [`READ_SLOTS_EVERY`] until
    /// `shutdown`, asking for a resync when they moved; elsewhere returns at once.
    pub(super) async fn follow_slots(self: Arc<Self>, shutdown: Shutdown) {
        if !self.is_clustered() {
            return;
        }
        let subscriber = self.subscriber();
        let mut known = masters(subscriber);
        let mut rounds = tokio::time::interval(READ_SLOTS_EVERY);
        rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.wait() => return,
                _ = rounds.tick() => {}
            }
            // A cluster that does not answer is the liveness check's to report.
            if let Err(e) = subscriber.sync_cluster().await {
                tracing::debug!(error = %e, "could not read the Redis Cluster's slots");
                continue;
            }
            let now = masters(subscriber);
            if now != known {
                if !known.is_empty() {
                    tracing::info!("the Redis Cluster's slots moved; resubscribing and resyncing");
                    self.ask_resync();
                }
                known = now;
            }
        }
    }
}
