//! The stories every bus must tell the same way.

use crate::{Network, poll};

/// What one node commits reaches the watchers of the poll on the others, and a
/// `subscribe` that has returned already holds: the publish right after it arrives.
async fn an_event_from_one_node_reaches_the_watchers_on_the_others(network: Network) {
    let [a, b, c] = network.nodes(["a", "b", "c"]).await;
    let p = poll("p1");
    b.watch(&p).await;
    c.watch(&p).await;
    a.publish(&p, 1).await;
    assert_eq!(b.next_versions().await, [1]);
    assert_eq!(c.next_versions().await, [1]);
}

/// The committing node delivered the event to its own room already: its echo from
/// the bus is dropped, so its watchers never see an event twice.
async fn a_node_does_not_hear_its_own_events_back(network: Network) {
    let [a, b] = network.nodes(["a", "b"]).await;
    let p = poll("p2");
    a.watch(&p).await;
    a.publish(&p, 1).await;
    b.publish(&p, 2).await;
    // Had the echo of 1 come back, it would have been the leading edge.
    assert_eq!(a.next_versions().await, [2]);
}

/// Events of other polls do not reach a room.
async fn a_room_gets_only_its_polls_events(network: Network) {
    let [a, b] = network.nodes(["a", "b"]).await;
    let (watched, other) = (poll("p3"), poll("p4"));
    b.watch(&watched).await;
    a.publish(&other, 7).await;
    a.publish(&watched, 1).await;
    assert_eq!(b.next_versions().await, [1]);
}

/// Every node that announced itself is listed, by any node, in id order.
async fn every_announced_node_is_listed(network: Network) {
    let [a, b] = network.nodes(["node-b", "node-a"]).await;
    for node in [&a, &b] {
        let info = votewire_proto::NodeInfo {
            id: node.id.clone(),
            sockets: 3,
            votes_handled: 5,
            last_seen: chrono::Utc::now(),
            version: "test".into(),
            address: "127.0.0.1:1".into(),
            replica_lag_ms: vec![],
            role: votewire_proto::NodeRole::Node,
            ingest_backlog: None,
            ingest_lag_ms: None,
            frames_sent: 7,
            commit_ms: None,
            bus_connected: true,
        };
        node.bus
            .announce(&info)
            .await
            .expect("the announcement is sent");
    }
    for node in [&a, &b] {
        assert!(node.bus.is_connected());
        let listed: Vec<String> = node
            .bus
            .live_nodes()
            .await
            .expect("the nodes are listed")
            .iter()
            .map(|n| n.id.to_string())
            .collect();
        assert_eq!(listed, ["node-a", "node-b"]);
    }
}

macro_rules! stories_for {
    ($name:ident, $network:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn an_event_from_one_node_reaches_the_watchers_on_the_others() {
                let Some(network) = $network else { return };
                super::an_event_from_one_node_reaches_the_watchers_on_the_others(network).await
            }

            #[tokio::test]
            async fn a_node_does_not_hear_its_own_events_back() {
                let Some(network) = $network else { return };
                super::a_node_does_not_hear_its_own_events_back(network).await
            }

            #[tokio::test]
            async fn a_room_gets_only_its_polls_events() {
                let Some(network) = $network else { return };
                super::a_room_gets_only_its_polls_events(network).await
            }

            #[tokio::test]
            async fn every_announced_node_is_listed() {
                let Some(network) = $network else { return };
                super::every_announced_node_is_listed(network).await
            }
        }
    };
}

stories_for!(local, Some(Network::local()));
stories_for!(redis, Network::redis().await);

/// Redis alone can go away: when it comes back, the bus asks the node for a resync
/// (events published meanwhile are gone), and once the node resubscribes (as its
/// resync does) events flow again.
#[tokio::test]
async fn redis_after_a_restart_the_bus_asks_for_a_resync_and_delivers_again() {
    let Some(mut network) = Network::redis().await else {
        return;
    };
    let [a, b] = network.nodes(["a", "b"]).await;
    let p = poll("p5");
    b.watch(&p).await;
    let mut resyncs = b.bus.resyncs();
    resyncs.borrow_and_update();
    let Network::Redis { server, .. } = &mut network else {
        unreachable!("a Redis network")
    };
    server.stop().await;
    server.restart().await;
    tokio::time::timeout(votewire_testkit::EVENT_TIMEOUT, resyncs.changed())
        .await
        .expect("a resync is asked for within the timeout")
        .expect("the bus is alive");
    b.bus
        .subscribe(&p)
        .await
        .expect("the subscription holds again");
    // The publisher's connection may still be coming back: it retries like a node's
    // next vote would.
    let deadline = tokio::time::Instant::now() + votewire_testkit::EVENT_TIMEOUT;
    while a.bus.publish(&crate::event(&a.id, &p, 1)).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Redis never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(b.next_versions().await, [1]);
}
