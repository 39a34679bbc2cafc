//! Presence: what this node tells the others about itself (every
//! [`PRESENCE_INTERVAL`], over the bus) and the cluster view of `/api/cluster`.
//!
//! Each figure comes from the part that owns it: sockets from the sessions, votes from
//! the vote path, replica lag from the replicated store, the ingest backlog and a
//! worker's lag from the ingest parts.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::Utc;
use votewire_proto::{ClusterView, NodeId, NodeInfo, NodeRole};

use crate::fanout::Fanout;
use crate::ingest::IngestParts;
use crate::sessions::Sessions;
use crate::shutdown::Shutdown;
use crate::store::ReplicatedStore;
use crate::votes::Votes;

/// How often a node announces itself; peers forget it after three missed beats.
pub(crate) const PRESENCE_INTERVAL: Duration = Duration::from_secs(2);

/// This node as the cluster sees it.
pub(crate) struct Presence {
    node: NodeId,
    /// The address it was told to listen on, until it knows the one it serves on.
    listen: SocketAddr,
    address: OnceLock<SocketAddr>,
    fanout: Arc<Fanout>,
    sessions: Sessions,
    votes: Arc<Votes>,
    replicas: Option<Arc<ReplicatedStore>>,
    ingest: IngestParts,
}

impl Presence {
    /// The presence of `node`, reading its figures from their owners.
    pub(crate) fn new(
        node: NodeId,
        listen: SocketAddr,
        fanout: Arc<Fanout>,
        sessions: Sessions,
        votes: Arc<Votes>,
        replicas: Option<Arc<ReplicatedStore>>,
        ingest: IngestParts,
    ) -> Arc<Self> {
        Arc::new(Self {
            node,
            listen,
            address: OnceLock::new(),
            fanout,
            sessions,
            votes,
            replicas,
            ingest,
        })
    }

    /// Records the address the node serves on (a test's listener has port 0 in the
    /// settings and a real one here).
    pub(crate) fn serving_on(&self, address: SocketAddr) {
        let _ = self.address.set(address);
    }

    /// This node now.
    pub(crate) fn node_info(&self) -> NodeInfo {
        let replica_lag_ms = self.replicas.as_ref().map_or_else(Vec::new, |replicas| {
            replicas
                .health()
                .iter()
                .map(|r| r.lag.as_millis().try_into().unwrap_or(u64::MAX))
                .collect()
        });
        NodeInfo {
            id: self.node.clone(),
            sockets: self.sessions.count() as u64,
            // A node in stream mode commits nothing: what it handled is what it recorded.
            votes_handled: match (&self.ingest.stream, &self.ingest.worker) {
                (Some(stream), None) => stream.accepted(),
                _ => self.votes.counts().handled(),
            },
            last_seen: Utc::now(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            address: self.address.get().unwrap_or(&self.listen).to_string(),
            replica_lag_ms,
            role: match self.ingest.worker {
                Some(_) => NodeRole::Worker,
                None => NodeRole::Node,
            },
            ingest_backlog: self.ingest.stream.as_ref().map(|stream| stream.backlog()),
            ingest_lag_ms: self
                .ingest
                .worker
                .as_ref()
                .map(|worker| worker.lag_ms.load(Relaxed)),
            frames_sent: self.fanout.stats().updates_sent.load(Relaxed),
            commit_ms: self.votes.timing().last(),
            bus_connected: self.fanout.bus_connected(),
        }
    }

    /// The live nodes, this one always among them and always fresh, even when the bus
    /// is down.
    pub(crate) async fn cluster_view(&self) -> ClusterView {
        let mut nodes = match self.fanout.live_nodes().await {
            Ok(nodes) => nodes,
            Err(e) => {
                tracing::debug!(error = %e, "cannot list the live nodes; listing this one");
                Vec::new()
            }
        };
        let me = self.node_info();
        nodes.retain(|node| node.id != me.id);
        nodes.push(me);
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        ClusterView {
            node: self.node.clone(),
            nodes,
        }
    }

    /// Announces the node, and its rooms' audiences, every [`PRESENCE_INTERVAL`] until
    /// `shutdown`.
    pub(crate) async fn announce_until(self: Arc<Self>, shutdown: Shutdown) {
        let mut every = tokio::time::interval(PRESENCE_INTERVAL);
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                _ = every.tick() => {
                    self.votes.timing().roll();
                    if let Err(e) = self.fanout.announce(&self.node_info()).await {
                        tracing::debug!(error = %e, "presence announcement failed");
                    }
                    self.fanout.share_audience().await;
                }
            }
        }
    }
}
