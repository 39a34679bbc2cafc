//! The bus on a Redis Cluster (three masters): votes cross nodes on polls whose
//! channels live on different masters, a node subscribes only to the polls its sockets
//! watch, and a master restarted mid-run loses no update once it is back.

use std::time::Duration;

use votewire_proto::{ServerMessage, VoteResponse};
use votewire_testkit::redis_cluster::RedisCluster;
use votewire_testkit::{TestApp, WsClient, external_enabled, version_of};

use super::{postgres, spawn_nodes};

/// The bus channel of `poll`, as the nodes name it (hash-tagged: one slot per poll).
fn channel(poll: &str) -> String {
    format!("votewire:{{{poll}}}")
}

/// Subscribers of `poll`'s shard channel, on the master of its slot (each master
/// counts its own).
fn subscribers(redis: &RedisCluster, poll: &str) -> u32 {
    let channel = channel(poll);
    let answer = redis.cli(
        redis.master_of(&channel),
        &["PUBSUB", "SHARDNUMSUB", &channel],
    );
    answer
        .lines()
        .nth(1)
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("PUBSUB SHARDNUMSUB answered {answer:?}"))
}

/// A vote on `poll` through `node`, awaited on `socket` (on another node).
async fn crosses(node: &TestApp, socket: &mut WsClient, poll: &str, what: &str) {
    let voter = node.new_voter().await;
    let response = node.vote(poll, &voter, 1).await;
    assert_eq!(response.status(), 200, "{what}");
    let version = response.json::<VoteResponse>().await.unwrap().vote.version;
    let seen = tokio::time::timeout(
        Duration::from_secs(10),
        socket.recv_until(|m| {
            matches!(m, ServerMessage::Update { poll: p, .. } if p.as_str() == poll)
                && version_of(m) >= Some(version)
        }),
    )
    .await;
    assert!(
        seen.is_ok(),
        "{what}: the vote on {poll} never reached the other node"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bus_works_on_a_redis_cluster_and_survives_a_master_restart() {
    if !external_enabled("the Redis Cluster test") {
        return;
    }
    let mut redis = RedisCluster::start().await;
    let db = postgres().await;
    // No anti-entropy: what reaches the sockets here came over the bus.
    let nodes = spawn_nodes(2, &db.url, &redis.url(), Duration::ZERO).await;
    let mut polls = Vec::new();
    for i in 0..6 {
        polls.push(
            nodes[0]
                .new_poll(&format!("Sharded {i}?"), &["a", "b"])
                .await,
        );
    }
    let masters: std::collections::BTreeSet<u16> =
        polls.iter().map(|p| redis.master_of(&channel(p))).collect();
    assert!(
        masters.len() >= 2,
        "six polls spread over the masters: {masters:?}"
    );

    let mut socket = nodes[1].ws().await;
    let watched = &polls[..4];
    for poll in watched {
        socket.subscribe(poll, None).await;
        socket.recv().await;
    }
    for poll in &polls {
        let expected = u32::from(watched.contains(poll));
        assert_eq!(
            subscribers(&redis, poll),
            expected,
            "only polls a node's sockets watch are subscribed: {poll}"
        );
    }
    for poll in watched {
        crosses(&nodes[0], &mut socket, poll, "before the restart").await;
    }

    let restarted = redis.master_of(&channel(&watched[0]));
    let index = redis.ports.iter().position(|&p| p == restarted).unwrap();
    redis.restart_master(index).await;
    // The nodes notice, reconnect and resubscribe: the shard channel has its subscriber
    // back. There is no event to await from outside the node.
    votewire_testkit::client::eventually(Duration::from_secs(15), || async {
        match subscribers(&redis, &watched[0]) {
            1 => Ok(()),
            n => Err(format!("{n} subscribers on the restarted master")),
        }
    })
    .await;
    for poll in watched {
        crosses(&nodes[0], &mut socket, poll, "after the restart").await;
    }
    for node in nodes {
        node.stop().await;
    }
    db.drop_database().await;
}
