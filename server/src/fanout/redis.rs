//! The Redis bus: a channel per poll, re-broadcast by every node to its own sockets.
//!
//! fred's traps, and how each is handled here (and, for every client of the node, in
//! [`crate::redis_client`]):
//! - a client does not resubscribe after a reconnect, and fred's own remedy
//!   (`SubscriberClient::manage_subscriptions`) fails on a node that uses no
//!   patterns: it sends a PSUBSCRIBE with none, which Redis refuses, before it gets to
//!   the shard channels, and the refusal can even land on the node's next subscribe
//!   (the bus conformance suite caught both). So on every reconnect the node itself
//!   resubscribes every watched poll and pushes fresh snapshots from the database (see
//!   [`Bus::resyncs`]), since events published while it was away are gone;
//! - its broadcast receivers end silently on `Lagged`: the receive loop here handles
//!   `Lagged` itself and asks for the same resync;
//! - on a Redis Cluster, a failover moves a shard without a word to the subscriber
//!   (fred drops the server's SUNSUBSCRIBE): [`super::redis_topology`] follows the
//!   slots and asks for the same resync when they move;
//! - an in-flight PUBLISH may be sent twice after a reconnect: harmless, because rooms
//!   keep the highest version and drop the rest.
//!
//! Channels are `votewire:{<poll id>}`: the hash tag keeps a poll's channel on one
//! shard of a Redis Cluster, and sharded pub/sub (SPUBLISH/SSUBSCRIBE) is used when the
//! server has it (Redis 7), so a message travels only within its shard.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::prelude::*;
use futures_util::future::BoxFuture;
use tokio::sync::{broadcast, watch};
use votewire_proto::{NodeId, NodeInfo, PollEvent, PollId};

use super::bus::{Bus, BusError};
use super::hub::Hub;
use crate::shutdown::Shutdown;

/// Messages buffered between the socket reader and the receive loop before `Lagged`.
const RECEIVE_BUFFER: usize = 16 * 1024;
/// Where nodes announce themselves: one hash field per node, its `NodeInfo` as JSON.
const NODES_KEY: &str = "votewire:nodes";
/// A node that has not announced itself for this long is gone.
const NODE_EXPIRY: Duration = Duration::from_secs(6);

fn channel(poll: &PollId) -> String {
    format!("votewire:{{{poll}}}")
}

fn bus_error(e: Error) -> BusError {
    BusError(e.to_string())
}

/// A node's link to Redis.
pub struct RedisBus {
    publisher: Client,
    subscriber: SubscriberClient,
    node: NodeId,
    sharded: AtomicBool,
    /// A Redis Cluster: always sharded pub/sub (Redis 7), which keeps a poll's messages
    /// on the master of its slot where plain pub/sub would copy each to every master.
    clustered: bool,
    resync: watch::Sender<u64>,
    /// False while Redis stays silent on open connections ([`super::redis_liveness`]).
    pub(super) answering: AtomicBool,
}

impl RedisBus {
    /// Connects to Redis at `url`. Returns the bus and its receive loop, which delivers
    /// other nodes' events into `hub` until `shutdown` and which the caller must run
    /// (the node's task set owns it). A Redis that is down at start is not fatal: the
    /// clients keep reconnecting and the node serves its own sockets meanwhile.
    pub async fn connect(
        url: &str,
        ca_file: Option<&Path>,
        node: NodeId,
        hub: Arc<Hub>,
        shutdown: Shutdown,
    ) -> Result<(Arc<Self>, impl Future<Output = ()> + Send + 'static), BusError> {
        let mut builder = crate::redis_client::builder(url, ca_file).map_err(BusError)?;
        builder.with_performance_config(|p| p.broadcast_channel_capacity = RECEIVE_BUFFER);
        let clustered = builder
            .get_config()
            .is_some_and(|c| c.server.is_clustered());
        let publisher = builder.build().map_err(bus_error)?;
        let subscriber = builder.build_subscriber_client().map_err(bus_error)?;
        let bus = Arc::new(Self {
            publisher,
            subscriber,
            node,
            sharded: AtomicBool::new(clustered),
            clustered,
            resync: watch::Sender::new(0),
            answering: AtomicBool::new(true),
        });
        // The receivers exist before the clients connect, so the loop misses no
        // connection event even though it starts later.
        let receiving = {
            let (receiving, checking, following) = (
                bus.clone().receive_loop(hub, shutdown.clone()),
                bus.clone().keep_checking(shutdown.clone()),
                bus.clone().follow_slots(shutdown),
            );
            async move {
                tokio::join!(receiving, checking, following);
            }
        };
        // What went wrong, when the first connection does not come: a refused
        // certificate or password says so here, where a timeout alone would not.
        let mut errors = bus.publisher.error_rx();
        for client in [bus.publisher.clone(), bus.subscriber.to_client()] {
            client.connect();
        }
        // Both clients: a bus whose subscriber is still connecting would call itself
        // disconnected (and the node unready) right after start.
        let connected = async {
            bus.publisher.wait_for_connect().await?;
            bus.subscriber.wait_for_connect().await
        };
        // Not the URL in these lines: it may hold a password.
        match tokio::time::timeout(Duration::from_secs(3), connected).await {
            Ok(Ok(())) => bus.detect_sharding(&bus.publisher),
            Ok(Err(e)) => tracing::warn!(
                error = %e,
                "Redis is not reachable yet; serving local sockets while reconnecting"
            ),
            Err(_) => {
                let mut last = None;
                while let Ok((error, _)) = errors.try_recv() {
                    last = Some(error);
                }
                let error =
                    last.map_or_else(|| "no connection within 3 s".into(), |e| e.to_string());
                tracing::warn!(
                    %error,
                    "Redis is not reachable yet; serving local sockets while reconnecting"
                );
            }
        }
        Ok((bus, receiving))
    }

    /// Sharded pub/sub came with Redis 7. Every node must use the same kind, since a
    /// sharded publish reaches only sharded subscribers: the mode follows the server's
    /// version once a connection knows it, and an unknown version (a client not
    /// connected yet) changes nothing. (Reading it from the publisher while only the
    /// subscriber had connected once turned a node back to plain pub/sub at start-up,
    /// and its votes never reached the other nodes.) A change of mode resubscribes
    /// every watched poll in the new one.
    fn detect_sharding(&self, client: &impl ClientLike) {
        if self.clustered {
            return;
        }
        let Some(version) = client.server_version() else {
            return;
        };
        let sharded = version.major >= 7;
        if self.sharded.swap(sharded, Ordering::Relaxed) != sharded {
            tracing::info!(sharded, "Redis pub/sub mode");
            self.ask_resync();
        }
    }

    /// Hands other nodes' events to `hub` and asks for a resync after every reconnect
    /// or lag, until `shutdown`; then closes both clients.
    fn receive_loop(
        self: Arc<Self>,
        hub: Arc<Hub>,
        shutdown: Shutdown,
    ) -> impl Future<Output = ()> + Send + 'static {
        let bus = self;
        let mut messages = bus.subscriber.message_rx();
        let mut reconnects = bus.subscriber.reconnect_rx();
        async move {
            let ended = loop {
                tokio::select! {
                    _ = shutdown.wait() => break "shutdown",
                    message = messages.recv() => match message {
                        Ok(message) => bus.receive(&hub, &message),
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "Redis messages arrived faster than they were handled; resyncing");
                            bus.ask_resync();
                        }
                        Err(broadcast::error::RecvError::Closed) => break "the subscriber client closed",
                    },
                    reconnect = reconnects.recv() => match reconnect {
                        Ok(server) => {
                            tracing::info!(%server, "reconnected to Redis; resubscribing and resyncing");
                            bus.detect_sharding(&bus.subscriber);
                            bus.ask_resync();
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => bus.ask_resync(),
                        Err(broadcast::error::RecvError::Closed) => break "the subscriber client closed",
                    },
                }
            };
            let _ = bus.subscriber.quit().await;
            let _ = bus.publisher.quit().await;
            tracing::info!(ended, "Redis receive loop ended");
        }
    }

    fn receive(&self, hub: &Hub, message: &fred::types::Message) {
        let Some(text) = message.value.as_str() else {
            return;
        };
        match serde_json::from_str::<PollEvent>(&text) {
            Ok(event) => {
                hub.stats().bus_received.count(&event.kind);
                // The node that committed an event delivered it to its sockets already.
                if event.node != self.node {
                    hub.deliver(&event);
                }
            }
            Err(e) => {
                tracing::warn!(channel = %message.channel, error = %e, "ignoring a malformed bus message")
            }
        }
    }

    pub(super) fn is_clustered(&self) -> bool {
        self.clustered
    }

    pub(super) fn subscriber(&self) -> &SubscriberClient {
        &self.subscriber
    }

    /// The publisher, and the subscriber as a plain client on its connection (for PING).
    pub(super) fn clients(&self) -> (Client, Client) {
        (self.publisher.clone(), self.subscriber.to_client())
    }

    pub(super) fn ask_resync(&self) {
        self.resync.send_modify(|n| *n += 1);
    }
}

impl Bus for RedisBus {
    fn publish<'a>(&'a self, event: &'a PollEvent) -> BoxFuture<'a, Result<(), BusError>> {
        Box::pin(async move {
            let payload = serde_json::to_string(event).expect("events serialize");
            let channel = channel(&event.poll);
            let sent: Result<i64, Error> = if self.sharded.load(Ordering::Relaxed) {
                self.publisher.spublish(channel, payload).await
            } else {
                self.publisher.publish(channel, payload).await
            };
            sent.map(|_| ()).map_err(bus_error)
        })
    }

    fn subscribe<'a>(&'a self, poll: &'a PollId) -> BoxFuture<'a, Result<(), BusError>> {
        Box::pin(async move {
            let (channel, subscriber) = (channel(poll), &self.subscriber);
            let subscribed = if self.sharded.load(Ordering::Relaxed) {
                subscriber.ssubscribe(channel).await
            } else {
                subscriber.subscribe(channel).await
            };
            subscribed.map_err(bus_error)
        })
    }

    fn unsubscribe<'a>(&'a self, poll: &'a PollId) -> BoxFuture<'a, Result<(), BusError>> {
        Box::pin(async move {
            let (channel, subscriber) = (channel(poll), &self.subscriber);
            let unsubscribed = if self.sharded.load(Ordering::Relaxed) {
                subscriber.sunsubscribe(channel).await
            } else {
                subscriber.unsubscribe(channel).await
            };
            unsubscribed.map_err(bus_error)
        })
    }

    fn is_connected(&self) -> bool {
        self.publisher.is_connected()
            && self.subscriber.is_connected()
            && self.answering.load(Ordering::Relaxed)
    }

    fn resyncs(&self) -> watch::Receiver<u64> {
        self.resync.subscribe()
    }

    fn announce<'a>(&'a self, node: &'a NodeInfo) -> BoxFuture<'a, Result<(), BusError>> {
        Box::pin(async move {
            let json = serde_json::to_string(node).expect("node info serializes");
            let _: i64 = self
                .publisher
                .hset(NODES_KEY, (node.id.as_str(), json))
                .await
                .map_err(bus_error)?;
            Ok(())
        })
    }

    fn live_nodes(&self) -> BoxFuture<'_, Result<Vec<NodeInfo>, BusError>> {
        Box::pin(async move {
            let all: std::collections::HashMap<String, String> =
                self.publisher.hgetall(NODES_KEY).await.map_err(bus_error)?;
            let oldest = chrono::Utc::now() - NODE_EXPIRY;
            let mut live = Vec::new();
            let mut gone = Vec::new();
            for (id, json) in all {
                match serde_json::from_str::<NodeInfo>(&json) {
                    Ok(info) if info.last_seen >= oldest => live.push(info),
                    _ => gone.push(id),
                }
            }
            if !gone.is_empty() {
                let _: Result<i64, _> = self.publisher.hdel(NODES_KEY, gone).await;
            }
            live.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(live)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bus() -> RedisBus {
        let builder = Builder::from_config(Config::default());
        RedisBus {
            publisher: builder.build().unwrap(),
            subscriber: builder.build_subscriber_client().unwrap(),
            node: NodeId::parse("n1").unwrap(),
            sharded: AtomicBool::new(true),
            clustered: false,
            resync: watch::Sender::new(0),
            answering: AtomicBool::new(true),
        }
    }

    #[test]
    fn a_client_that_does_not_know_the_server_yet_leaves_the_mode_alone() {
        let bus = bus();
        let resyncs = bus.resyncs();
        // Neither client has connected: their server version is unknown.
        bus.detect_sharding(&bus.subscriber);
        bus.detect_sharding(&bus.publisher);
        assert!(bus.sharded.load(Ordering::Relaxed), "still sharded");
        assert_eq!(*resyncs.borrow(), 0, "no mode change, no resync");
    }
}
