//! The seam between nodes: a [`Bus`] carries committed events to every other node,
//! and the nodes' presence.
//!
//! The node that committed an event delivers it to its own rooms at once and then
//! publishes it; a bus hands events from other nodes to this node's
//! [`super::Hub`] and drops the node's own echo. Implementations:
//! [`super::local::LocalBus`] (in-process) and [`super::redis::RedisBus`].

use futures_util::future::BoxFuture;
use tokio::sync::watch;
use votewire_proto::{NodeInfo, PollEvent, PollId};

/// Why a bus call failed. A failed publish never fails a vote: events carry whole
/// tallies, so the next one (or a resync) heals any gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusError(pub String);

impl std::fmt::Display for BusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Carries poll events and node presence between nodes.
pub trait Bus: Send + Sync + 'static {
    /// Sends a committed event to the other nodes watching its poll.
    fn publish<'a>(&'a self, event: &'a PollEvent) -> BoxFuture<'a, Result<(), BusError>>;

    /// Starts receiving events of `poll`; resolves once the subscription is confirmed,
    /// so a snapshot read afterwards cannot miss an event.
    fn subscribe<'a>(&'a self, poll: &'a PollId) -> BoxFuture<'a, Result<(), BusError>>;

    /// Stops receiving events of `poll`.
    fn unsubscribe<'a>(&'a self, poll: &'a PollId) -> BoxFuture<'a, Result<(), BusError>>;

    /// True when the bus can carry events now.
    fn is_connected(&self) -> bool;

    /// Changes whenever events may have been missed (a reconnect, a lag): the node
    /// then resubscribes every watched poll and pushes fresh snapshots.
    fn resyncs(&self) -> watch::Receiver<u64>;

    /// Announces this node and its stats to the others.
    fn announce<'a>(&'a self, node: &'a NodeInfo) -> BoxFuture<'a, Result<(), BusError>>;

    /// The nodes that announced themselves recently, this one included.
    fn live_nodes(&self) -> BoxFuture<'_, Result<Vec<NodeInfo>, BusError>>;
}
