//! The bus on a Redis Cluster (three masters with a replica each): votes cross nodes
//! on polls whose channels live on different masters, a node subscribes only to the
//! polls its sockets watch, and no update is lost once the shard is served again after
//! a master restarted mid-run, a maintenance failover (`CLUSTER FAILOVER`: the old
//! master lives on as a replica) and a master killed for good (its replica elected).

use std::time::Duration;

use votewire_proto::{ServerMessage, VoteResponse};
use votewire_testkit::redis_cluster::{Failover, RedisCluster};
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

/// Votes on `poll` through `node` until one arrives on `socket` (on another node)
/// over the bus. A vote in the moment a killed master's slots move may find the
/// publisher still pointed at the dead master: its update is lost to the bus (the
/// anti-entropy, off here, would heal it), so the next vote is the test.
async fn crosses(node: &TestApp, socket: &mut WsClient, poll: &str, what: &str) {
    for _ in 0..5 {
        let voter = node.new_voter().await;
        let response = node.vote(poll, &voter, 1).await;
        assert_eq!(response.status(), 200, "{what}");
        let version = response.json::<VoteResponse>().await.unwrap().vote.version;
        let seen = tokio::time::timeout(
            Duration::from_secs(3),
            socket.recv_until(|m| {
                matches!(m, ServerMessage::Update { poll: p, .. } if p.as_str() == poll)
                    && version_of(m) >= Some(version)
            }),
        )
        .await;
        if seen.is_ok() {
            return;
        }
    }
    panic!("{what}: no vote on {poll} reached the other node");
}

/// Waits until `poll`'s shard channel has its subscriber on the master that serves it
/// now: the nodes notice, reconnect and resubscribe. There is no event to await from
/// outside the node.
async fn resubscribed(redis: &RedisCluster, poll: &str, what: &str) {
    votewire_testkit::client::eventually(Duration::from_secs(15), || async {
        match subscribers(redis, poll) {
            1 => Ok(()),
            n => Err(format!("{what}: {n} subscribers on the master of {poll}")),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bus_works_on_a_redis_cluster_through_a_master_restart_and_failovers() {
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
    redis.restart(restarted).await;
    resubscribed(&redis, &watched[0], "after the master's restart").await;
    for poll in watched {
        crosses(&nodes[0], &mut socket, poll, "after the restart").await;
    }

    for how in [Failover::Manual, Failover::Kill] {
        let moved = &watched[1];
        let old = redis.master_of(&channel(moved));
        let new = redis.fail_over(old, how).await;
        assert_eq!(redis.master_of(&channel(moved)), new, "{how:?}");
        resubscribed(&redis, moved, &format!("after a {how:?} failover")).await;
        for poll in watched {
            crosses(
                &nodes[0],
                &mut socket,
                poll,
                &format!("after a {how:?} failover"),
            )
            .await;
        }
    }
    for node in nodes {
        node.stop().await;
    }
    db.drop_database().await;
}
