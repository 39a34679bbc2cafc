//! Following a Redis Cluster's slots. A failover moves a poll's shard to another
//! master, and what the subscriber does not notice it does not fix: after a
//! maintenance failover (`CLUSTER FAILOVER`, as managed services run them) the old
//! master lives on as a replica and ends the shard subscriptions it held with a
//! server-side SUNSUBSCRIBE that fred drops without a word, so the connection stays
//! open and quiet while the new master publishes to nobody. So the node reads the
//! cluster's slots every few seconds (`CLUSTER SLOTS`, on a connection it already has)
//! and, when a range changed masters, refreshes the subscriber's routing, resubscribes
//! every watched poll (through the master that serves it now) and pushes fresh
//! snapshots, as after a reconnect.

use std::sync::Arc;
use std::time::Duration;

use fred::prelude::*;
use fred::types::Value;
use fred::types::cluster::ClusterRouting;
use fred::types::config::Server;

use super::redis::RedisBus;
use crate::shutdown::Shutdown;

/// How often the slots are read: one small command, and the anti-entropy loop covers
/// the moments in between.
const READ_SLOTS_EVERY: Duration = Duration::from_secs(2);

/// The slot ranges and the master that serves each, as `client` reads them now.
async fn masters(client: &Client) -> Result<Vec<(u16, u16, Server)>, Error> {
    let answer: Value = client.cluster_slots().await?;
    let routing = ClusterRouting::from_cluster_slots(answer, "")?;
    Ok(routing
        .slots()
        .iter()
        .map(|range| (range.start, range.end, range.primary.clone()))
        .collect())
}

impl RedisBus {
    /// On a Redis Cluster, reads its slots every [`READ_SLOTS_EVERY`] until
    /// `shutdown`, asking for a resync when they moved; elsewhere returns at once.
    pub(super) async fn follow_slots(self: Arc<Self>, shutdown: Shutdown) {
        if !self.is_clustered() {
            return;
        }
        let (publisher, _) = self.clients();
        let mut known: Option<Vec<(u16, u16, Server)>> = None;
        let mut rounds = tokio::time::interval(READ_SLOTS_EVERY);
        rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.wait() => return,
                _ = rounds.tick() => {}
            }
            // A cluster that does not answer is the liveness check's to report.
            let now = match masters(&publisher).await {
                Ok(now) => now,
                Err(e) => {
                    tracing::debug!(error = %e, "could not read the Redis Cluster's slots");
                    continue;
                }
            };
            if known.as_ref().is_some_and(|known| *known != now) {
                tracing::info!("the Redis Cluster's slots moved; resubscribing and resyncing");
                // The subscriber's routing first (its one CLUSTER SLOTS of its own), so
                // the resubscriptions go to the masters that serve the slots now.
                if let Err(e) = self.subscriber().sync_cluster().await {
                    tracing::warn!(error = %e, "could not refresh the subscriber's routing");
                }
                self.ask_resync();
            }
            known = Some(now);
        }
    }
}
