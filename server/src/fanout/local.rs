//! The in-process bus: nodes in one process share a [`LocalNetwork`].
//!
//! A single node is a network of one, where publishing reaches nobody else. Several
//! nodes in one process see each other's events and presence, as over Redis: the bus
//! conformance suite (`server/tests/bus`) runs the same stories on both.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::watch;
use votewire_proto::{NodeId, NodeInfo, PollEvent, PollId};

use super::bus::{Bus, BusError};
use super::hub::Hub;
use futures_util::future::BoxFuture;

/// The nodes that hear each other's events.
#[derive(Default)]
pub struct LocalNetwork {
    members: Mutex<Vec<(NodeId, Weak<Hub>)>>,
    presence: Mutex<BTreeMap<NodeId, NodeInfo>>,
}

impl LocalNetwork {
    /// An empty network.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
}

/// One node's link to a [`LocalNetwork`].
pub struct LocalBus {
    network: Arc<LocalNetwork>,
    node: NodeId,
    /// Nothing is ever missed in-process: this never changes.
    resync: watch::Sender<u64>,
}

impl LocalBus {
    /// A node alone: what it publishes reaches nobody else.
    pub(crate) fn alone(node: NodeId, hub: &Arc<Hub>) -> Self {
        Self::join(LocalNetwork::new(), node, hub)
    }

    /// Joins `node`, whose rooms live in `hub`, to `network`.
    pub fn join(network: Arc<LocalNetwork>, node: NodeId, hub: &Arc<Hub>) -> Self {
        network
            .members
            .lock()
            .expect("network lock is never poisoned")
            .push((node.clone(), Arc::downgrade(hub)));
        Self {
            network,
            node,
            resync: watch::Sender::new(0),
        }
    }
}

impl Bus for LocalBus {
    fn publish<'a>(&'a self, event: &'a PollEvent) -> BoxFuture<'a, Result<(), BusError>> {
        let others: Vec<Arc<Hub>> = {
            let mut members = self
                .network
                .members
                .lock()
                .expect("network lock is never poisoned");
            members.retain(|(_, hub)| hub.strong_count() > 0);
            members
                .iter()
                .filter(|(node, _)| *node != self.node)
                .filter_map(|(_, hub)| hub.upgrade())
                .collect()
        };
        for hub in others {
            hub.deliver(event);
        }
        Box::pin(async { Ok(()) })
    }

    fn subscribe<'a>(&'a self, _poll: &'a PollId) -> BoxFuture<'a, Result<(), BusError>> {
        // Every member hears every event; a hub without a room for it drops it.
        Box::pin(async { Ok(()) })
    }

    fn unsubscribe<'a>(&'a self, _poll: &'a PollId) -> BoxFuture<'a, Result<(), BusError>> {
        Box::pin(async { Ok(()) })
    }

    fn is_connected(&self) -> bool {
        true
    }

    fn resyncs(&self) -> watch::Receiver<u64> {
        self.resync.subscribe()
    }

    fn announce<'a>(&'a self, node: &'a NodeInfo) -> BoxFuture<'a, Result<(), BusError>> {
        let mut presence = self
            .network
            .presence
            .lock()
            .expect("presence lock is never poisoned");
        presence.insert(node.id.clone(), node.clone());
        Box::pin(async { Ok(()) })
    }

    fn live_nodes(&self) -> BoxFuture<'_, Result<Vec<NodeInfo>, BusError>> {
        let nodes = self
            .network
            .presence
            .lock()
            .expect("presence lock is never poisoned")
            .values()
            .cloned()
            .collect();
        Box::pin(async { Ok(nodes) })
    }
}
