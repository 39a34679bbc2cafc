//! Fan-out: getting every committed event to every socket that watches its poll.
//!
//! - [`slot`]: a socket's outbox, one pending frame per poll (slow readers skip).
//! - [`room`]: one watched poll: its latest state, coalescing, one frame per flush.
//! - [`pace`]: the coalescing tick, stretched when a room's frames are slow to reach
//!   its clients.
//! - [`flight`]: a flush's frames on their way, and when they were read.
//! - [`hub`]: this node's rooms.
//! - [`bus`]: the trait that carries events between nodes: [`local`] in-process,
//!   [`redis`] for a cluster.
//! - [`stats`]: what the fan-out counts, for `/metrics`.
//!
//! [`Fanout`] ties them and is what the rest of the node uses: it offers verbs (watch,
//! seed, publish, refresh, ..) and keeps the hub and the bus to itself.

mod bus;
mod flight;
mod hub;
mod local;
mod pace;
mod redis;
mod redis_liveness;
mod redis_topology;
mod room;
mod slot;
mod stats;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use votewire_proto::{NodeId, NodeInfo, PollEvent, PollEventKind, PollId, PollStatus};

pub use bus::{Bus, BusError};
pub(crate) use flight::Probe;
pub use hub::Hub;
pub use local::{LocalBus, LocalNetwork};
pub use pace::Pacer;
pub use redis::RedisBus;
pub(crate) use room::{PollNow, RECENT_MAX, Seed};
pub use room::{Room, SocketId, encode};
pub use slot::Outbox;
pub use stats::FanoutStats;

use crate::results::Reader;

/// A socket as the fan-out knows it: its number on this node and its outbox.
#[derive(Clone)]
pub(crate) struct Watcher {
    /// Unique on this node.
    pub(crate) id: SocketId,
    /// Where the socket's frames wait for its writer.
    pub(crate) outbox: Arc<Outbox>,
}

/// This node's rooms and the bus to the other nodes, used together.
pub(crate) struct Fanout {
    node: NodeId,
    hub: Arc<Hub>,
    bus: Arc<dyn Bus>,
    pacer: Arc<Pacer>,
    stats: Arc<FanoutStats>,
}

impl Fanout {
    /// Fan-out for `node` over `bus` into `hub`, whose rooms pace with `pacer` and
    /// count in `stats`.
    pub(crate) fn new(
        node: NodeId,
        hub: Arc<Hub>,
        bus: Arc<dyn Bus>,
        pacer: Arc<Pacer>,
        stats: Arc<FanoutStats>,
    ) -> Self {
        Self {
            node,
            hub,
            bus,
            pacer,
            stats,
        }
    }

    /// Makes `watcher`, who is `reader` to the poll's results, receive the updates of
    /// `poll`. Resolves once the bus carries the poll's events, so a snapshot read
    /// afterwards misses nothing. False when the socket was watching the poll already.
    pub(crate) async fn watch(&self, poll: &PollId, watcher: &Watcher, reader: Reader) -> bool {
        let joined = self
            .hub
            .join_as(poll, watcher.id, watcher.outbox.clone(), reader);
        if joined.first {
            if let Err(e) = self.bus.subscribe(poll).await {
                // Local updates still flow; the bus resubscribes when it reconnects.
                tracing::warn!(%poll, error = %e, "bus subscribe failed");
            }
            joined.room.set_bus_ready();
        } else {
            joined.room.bus_ready().await;
        }
        joined.added
    }

    /// Makes `watcher` `reader` to the results of `poll` (a voter found to have voted).
    pub(crate) fn seat_as(&self, poll: &PollId, watcher: &Watcher, reader: Reader) {
        if let Some(room) = self.hub.room(poll) {
            room.seat_as(watcher.id, reader);
        }
    }

    /// Stops sending the updates of `poll` to `watcher`, dropping its pending frame.
    pub(crate) async fn unwatch(&self, poll: &PollId, watcher: &Watcher) {
        let emptied = self.hub.leave(poll, watcher.id);
        // After leaving: no frame of the poll can arrive once it is forgotten.
        watcher.outbox.forget(poll);
        if !emptied {
            return;
        }
        if let Err(e) = self.bus.unsubscribe(poll).await {
            tracing::warn!(%poll, error = %e, "bus unsubscribe failed");
        }
        // A socket may have joined while the unsubscribe was in flight, its subscribe
        // racing ours: make sure a watched poll ends subscribed.
        if self.hub.room(poll).is_some() {
            self.resubscribe(poll).await;
        }
    }

    /// The poll as its room holds it, when that is current: the room was seeded and
    /// the bus is connected, so every committed event reaches it (an event the bus may
    /// have lost makes the node refresh every room).
    pub(crate) fn current(&self, poll: &PollId) -> Option<PollNow> {
        if !self.bus.is_connected() {
            return None;
        }
        self.hub.room(poll)?.state()
    }

    /// The status and version the room of `poll` holds, connected bus or not, once it
    /// was seeded: what the anti-entropy loop compares with the database.
    pub(crate) fn held(&self, poll: &PollId) -> Option<(PollStatus, u64)> {
        let held = self.hub.room(poll)?.state()?;
        Some((held.status, held.tally.version))
    }

    /// The version of the tally the room of `poll` holds, if it holds one: what a read
    /// for its watchers must at least show.
    pub(crate) fn shown_version(&self, poll: &PollId) -> Option<u64> {
        self.hub.room(poll)?.version()
    }

    /// Brings the room of `poll` up to a state a new watcher read from the database;
    /// returns what that watcher must be shown, the newer of the two. Other watchers get
    /// an update when the read is newer than what they were sent.
    pub(crate) fn seed(&self, poll: &PollId, seed: Seed) -> PollNow {
        match self.hub.room(poll) {
            Some(room) => room.seed(seed),
            // The watcher left meanwhile: nobody else to bring up to date.
            None => PollNow {
                status: seed.status,
                results: seed.results,
                tally: seed.tally,
            },
        }
    }

    /// Delivers what this node committed to its own watchers at once, then to the
    /// other nodes. A failed publish is counted and logged, never returned: the vote is
    /// committed whatever the bus does.
    pub(crate) async fn publish(&self, poll: PollId, state: PollNow, kind: PollEventKind) {
        let event = self.event(poll, state, kind);
        self.hub.deliver(&event);
        // With the bus down, do not make the vote wait for a publish that must time out:
        // the resync after the reconnect brings every node's watchers up to date.
        if !self.bus.is_connected() {
            self.stats.publish_errors.fetch_add(1, Relaxed);
            return;
        }
        match self.bus.publish(&event).await {
            Ok(()) => self.stats.bus_published.count(&event.kind),
            Err(e) => {
                self.stats.publish_errors.fetch_add(1, Relaxed);
                tracing::warn!(poll = %event.poll, error = %e, "bus publish failed");
            }
        }
    }

    /// Brings this node's watchers of `poll` up to a state read from the database
    /// (after a bus gap), without telling the other nodes.
    pub(crate) fn refresh(&self, poll: PollId, state: PollNow) {
        self.hub
            .deliver(&self.event(poll, state, PollEventKind::Resync));
    }

    /// Subscribes the bus to `poll` again (after a reconnect), logging a failure.
    pub(crate) async fn resubscribe(&self, poll: &PollId) {
        if let Err(e) = self.bus.subscribe(poll).await {
            tracing::warn!(%poll, error = %e, "bus resubscribe failed");
        }
    }

    /// The presence beat of every room (see `room/audience.rs`): each brings its shown
    /// audience up to date, and this node's count goes to the other nodes when it
    /// changed or a beat is due.
    pub(crate) async fn share_audience(&self) {
        for poll in self.hub.polls() {
            let Some(room) = self.hub.room(&poll) else {
                continue;
            };
            let Some((count, state)) = room.audience_beat() else {
                continue;
            };
            if !self.bus.is_connected() {
                continue;
            }
            let event = self.event(poll, state, PollEventKind::Watching { count });
            match self.bus.publish(&event).await {
                Ok(()) => self.stats.bus_published.count(&event.kind),
                Err(e) => {
                    tracing::debug!(poll = %event.poll, error = %e, "cannot share the audience")
                }
            }
        }
    }

    /// How many sockets watch `poll` over every node, as last counted (0 when no
    /// socket here watches it).
    pub(crate) fn audience(&self, poll: &PollId) -> u64 {
        self.hub.room(poll).map_or(0, |room| room.audience())
    }

    /// Every poll watched on this node.
    pub(crate) fn watched_polls(&self) -> Vec<PollId> {
        self.hub.polls()
    }

    /// Changes whenever the bus may have missed events (a reconnect, a lag).
    pub(crate) fn bus_gaps(&self) -> watch::Receiver<u64> {
        self.bus.resyncs()
    }

    /// True when the bus can carry events now.
    pub(crate) fn bus_connected(&self) -> bool {
        self.bus.is_connected()
    }

    /// Announces this node to the others.
    pub(crate) async fn announce(&self, info: &NodeInfo) -> Result<(), BusError> {
        self.bus.announce(info).await
    }

    /// The nodes that announced themselves recently.
    pub(crate) async fn live_nodes(&self) -> Result<Vec<NodeInfo>, BusError> {
        self.bus.live_nodes().await
    }

    /// What the fan-out counted.
    pub(crate) fn stats(&self) -> &FanoutStats {
        &self.stats
    }

    /// Polls with at least one watcher here.
    pub(crate) fn rooms(&self) -> usize {
        self.hub.rooms()
    }

    /// Watchers summed over rooms.
    pub(crate) fn watchers(&self) -> usize {
        self.hub.watchers()
    }

    /// The coalescing tick now.
    pub(crate) fn tick(&self) -> Duration {
        self.pacer.current_tick()
    }

    /// A new outbox of a socket that speaks for `voter`, counting in the fan-out's stats.
    pub(crate) fn outbox(&self, voter: Option<String>) -> Arc<Outbox> {
        Outbox::of_voter(self.stats.clone(), voter)
    }

    fn event(&self, poll: PollId, state: PollNow, kind: PollEventKind) -> PollEvent {
        PollEvent {
            poll,
            node: self.node.clone(),
            at: Utc::now(),
            status: state.status,
            tally: state.tally,
            results: state.results,
            kind,
        }
    }
}
