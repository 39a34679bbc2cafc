//! The `Bus` conformance suite: the same stories against the in-process bus (nodes on
//! one `LocalNetwork`) and the Redis bus (nodes on a `redis-server` of the suite's own),
//! as the store's suite runs its stories on every database.
//!
//! Each node here is a bus and a hub with one watcher's outbox: what reaches the
//! outbox is what a socket on that node would be sent. `VOTEWIRE_TEST_EXTERNAL=0`
//! skips the Redis half.

#![allow(
    unreachable_pub,
    reason = "a test binary exports nothing: `pub` only shares items between its modules"
)]

mod stories;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use votewire_proto::{NodeId, PollEvent, PollEventKind, PollId, PollStatus, ServerMessage, Tally};
use votewire_server::Shutdown;
use votewire_server::fanout::{
    Bus, FanoutStats, Hub, LocalBus, LocalNetwork, Outbox, Pacer, RedisBus,
};
use votewire_testkit::EVENT_TIMEOUT;
use votewire_testkit::redis::RedisServer;

/// Which bus the nodes of a story share.
pub enum Network {
    Local(Arc<LocalNetwork>),
    Redis {
        server: RedisServer,
        shutdown: Shutdown,
    },
}

impl Network {
    pub fn local() -> Self {
        Self::Local(LocalNetwork::new())
    }

    /// A Redis of the story's own; `None` when external servers are skipped.
    pub async fn redis() -> Option<Self> {
        if !votewire_testkit::external_enabled("the Redis bus stories") {
            return None;
        }
        Some(Self::Redis {
            server: RedisServer::start().await,
            shutdown: Shutdown::new(),
        })
    }

    /// Nodes with these names on this network.
    pub async fn nodes<const N: usize>(&self, names: [&str; N]) -> [TestNode; N] {
        let mut nodes = Vec::with_capacity(N);
        for name in names {
            nodes.push(self.node(name).await);
        }
        nodes
            .try_into()
            .unwrap_or_else(|_| unreachable!("one node per name"))
    }

    /// A node called `name` on this network.
    async fn node(&self, name: &str) -> TestNode {
        let id = NodeId::parse(name).unwrap();
        let stats = Arc::new(FanoutStats::default());
        let tick = Duration::from_millis(10);
        let hub = Arc::new(Hub::new(Arc::new(Pacer::new(tick, tick)), stats.clone()));
        let bus: Arc<dyn Bus> = match self {
            Self::Local(network) => Arc::new(LocalBus::join(network.clone(), id.clone(), &hub)),
            Self::Redis { server, shutdown } => {
                let (bus, receiving) = RedisBus::connect(
                    &server.url(),
                    None,
                    id.clone(),
                    hub.clone(),
                    shutdown.clone(),
                )
                .await
                .expect("the bus is set up");
                tokio::spawn(receiving);
                bus
            }
        };
        TestNode {
            id,
            bus,
            hub,
            outbox: Outbox::new(stats),
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        if let Self::Redis { shutdown, .. } = self {
            shutdown.fire();
        }
    }
}

/// A bus and a hub, with one watcher.
pub struct TestNode {
    pub id: NodeId,
    pub bus: Arc<dyn Bus>,
    pub hub: Arc<Hub>,
    outbox: Arc<Outbox>,
}

impl TestNode {
    /// Watches `poll` here, as a node's first watcher does: the room, then the bus.
    pub async fn watch(&self, poll: &PollId) {
        self.hub.join(poll, 1, self.outbox.clone());
        self.bus
            .subscribe(poll)
            .await
            .expect("the subscription holds");
    }

    /// Publishes a vote on `poll` that brings its tally to `version`.
    pub async fn publish(&self, poll: &PollId, version: u64) {
        self.bus
            .publish(&event(&self.id, poll, version))
            .await
            .expect("the publish is sent");
    }

    /// The versions in the next frames the watcher is sent, in order.
    pub async fn next_versions(&self) -> Vec<u64> {
        tokio::time::timeout(EVENT_TIMEOUT, self.outbox.ready())
            .await
            .expect("a frame within the timeout");
        self.outbox
            .take()
            .into_iter()
            .map(
                |pending| match serde_json::from_str(pending.frame.as_str()).unwrap() {
                    ServerMessage::Update { tally, .. } => tally.version,
                    other => panic!("expected an update, got {other:?}"),
                },
            )
            .collect()
    }
}

pub fn poll(id: &str) -> PollId {
    PollId::parse(id).unwrap()
}

pub fn event(node: &NodeId, poll: &PollId, version: u64) -> PollEvent {
    PollEvent {
        poll: poll.clone(),
        node: node.clone(),
        at: Utc::now(),
        status: PollStatus::Open,
        tally: Tally {
            version,
            counts: vec![version, 0],
            total: version,
        },
        results: Default::default(),
        kind: PollEventKind::Votes {
            options: vec![Some(0)],
            more: 0,
            sets: Vec::new(),
            recorded_by: Vec::new(),
            voters: Vec::new(),
        },
    }
}
