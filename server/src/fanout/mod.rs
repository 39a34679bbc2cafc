//! Fan-out: getting every committed event to every socket that watches its poll.
//!
//! - [`slot`]: a socket's outbox, one pending frame per poll (slow readers skip).
//! - [`room`]: one watched poll: its latest state, coalescing, one frame per flush.
//! - [`pace`]: the coalescing tick, stretched when the node sends too many frames.
//! - [`hub`]: this node's rooms.
//! - [`bus`]: the trait that carries events between nodes: [`local`] in-process,
//!   [`redis`] for a cluster.
//!
//! [`Fanout`] ties them: `watch` joins a room and confirms the bus subscription,
//! `publish` delivers to local rooms at once and then to the other nodes.

pub mod bus;
pub mod hub;
pub mod local;
pub mod pace;
pub mod redis;
pub mod room;
pub mod slot;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use votewire_proto::{PollEvent, PollId};

pub use bus::{Bus, BusError};
pub use hub::Hub;
pub use pace::Pacer;
pub use room::{Room, Seed, SocketId};
pub use slot::Outbox;

use crate::metrics::Metrics;

/// The hub and the bus, used together.
pub struct Fanout {
    hub: Arc<Hub>,
    bus: Arc<dyn Bus>,
    metrics: Arc<Metrics>,
}

impl Fanout {
    /// Fan-out over `bus` into `hub`.
    pub fn new(hub: Arc<Hub>, bus: Arc<dyn Bus>, metrics: Arc<Metrics>) -> Self {
        Self { hub, bus, metrics }
    }

    /// This node's rooms.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The bus to the other nodes.
    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    /// Makes `outbox` receive the updates of `poll`. Resolves once the bus carries the
    /// poll's events, so a snapshot read afterwards misses nothing.
    pub async fn watch(&self, poll: &PollId, socket: SocketId, outbox: Arc<Outbox>) -> Arc<Room> {
        let joined = self.hub.join(poll, socket, outbox);
        if joined.first {
            if let Err(e) = self.bus.subscribe(poll).await {
                // Local updates still flow; the bus resubscribes when it reconnects.
                tracing::warn!(%poll, error = %e, "bus subscribe failed");
            }
            joined.room.set_bus_ready();
        } else {
            joined.room.bus_ready().await;
        }
        joined.room
    }

    /// Stops sending the updates of `poll` to `socket`.
    pub async fn unwatch(&self, poll: &PollId, socket: SocketId) {
        if !self.hub.leave(poll, socket) {
            return;
        }
        if let Err(e) = self.bus.unsubscribe(poll).await {
            tracing::warn!(%poll, error = %e, "bus unsubscribe failed");
        }
        // A socket may have joined while the unsubscribe was in flight, its subscribe
        // racing ours: make sure a watched poll ends subscribed.
        if self.hub.room(poll).is_some()
            && let Err(e) = self.bus.subscribe(poll).await
        {
            tracing::warn!(%poll, error = %e, "bus resubscribe failed");
        }
    }

    /// Delivers a committed event to this node's watchers at once, then to the other
    /// nodes. A failed publish is counted and logged, never returned: the vote is
    /// committed whatever the bus does.
    pub async fn publish(&self, event: PollEvent) {
        self.hub.deliver(&event);
        // With the bus down, do not make the vote wait for a publish that must time out:
        // the resync after the reconnect brings every node's watchers up to date.
        if !self.bus.is_connected() {
            self.metrics.bus_publish_errors.fetch_add(1, Relaxed);
            return;
        }
        if let Err(e) = self.bus.publish(&event).await {
            self.metrics.bus_publish_errors.fetch_add(1, Relaxed);
            tracing::warn!(poll = %event.poll, error = %e, "bus publish failed");
        }
    }
}
