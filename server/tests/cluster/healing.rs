//! Anti-entropy across nodes: a commit no node published reaches every node's sockets
//! within the interval, and with Redis down every socket stays within the interval of
//! the database while the votes go on.

use std::time::{Duration, Instant};

use votewire_proto::VoteResponse;
use votewire_testkit::redis::RedisServer;
use votewire_testkit::votes::{VoteCommand, VoteOne};
use votewire_testkit::{WsClient, external_enabled, version_of};

use super::{postgres, spawn_nodes};

const INTERVAL: Duration = Duration::from_millis(250);
/// What "within the interval" allows: a round may start just before the commit, and the
/// refresh is a read and a frame after it; a second for those on a loaded 2-core box.
const WITHIN: Duration = Duration::from_millis(1250);

/// Waits for `socket` to show `version`, failing when it takes longer than [`WITHIN`].
async fn reaches(socket: &mut WsClient, version: u64, what: &str) {
    let started = Instant::now();
    let reached = tokio::time::timeout(
        WITHIN * 4,
        socket.recv_until(|m| version_of(m).is_some_and(|v| v >= version)),
    )
    .await;
    let took = started.elapsed();
    assert!(reached.is_ok(), "{what}: version {version} never arrived");
    assert!(took <= WITHIN, "{what}: version {version} took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_no_node_published_reaches_every_node_within_the_interval() {
    if !external_enabled("the Redis cluster tests") {
        return;
    }
    let redis = RedisServer::start().await;
    let db = postgres().await;
    let nodes = spawn_nodes(2, &db.url, &redis.url(), INTERVAL).await;
    let poll = nodes[0].new_poll("Healed?", &["a", "b"]).await;
    let mut sockets = Vec::new();
    for node in &nodes {
        let mut socket = node.ws().await;
        socket.subscribe(&poll, None).await;
        socket.recv().await;
        sockets.push(socket);
    }
    // A node that commits and dies before it publishes: a store of its own.
    let gone = db.another_node().await;
    let committed = gone
        .vote(VoteCommand::now(
            &poll,
            "voter-of-a-dead-node",
            0,
            "node-dead",
        ))
        .await
        .expect("the vote commits");
    for (i, socket) in sockets.iter_mut().enumerate() {
        let what = format!("a socket on node-{}", i + 1);
        reaches(socket, committed.tally.version, &what).await;
    }
    for node in nodes {
        node.stop().await;
    }
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_down_every_socket_stays_within_the_interval_of_the_database() {
    if !external_enabled("the Redis cluster tests") {
        return;
    }
    let mut redis = RedisServer::start().await;
    let db = postgres().await;
    let nodes = spawn_nodes(2, &db.url, &redis.url(), INTERVAL).await;
    let poll = nodes[0].new_poll("Through the outage?", &["a", "b"]).await;
    let mut remote = nodes[1].ws().await;
    remote.subscribe(&poll, None).await;
    remote.recv().await;

    redis.stop().await;
    // During the outage: every vote through node-1 reaches node-2's socket from the
    // database, within the interval. Ten votes, a few intervals apart.
    for i in 0..10u32 {
        let voter = nodes[0].new_voter().await;
        let response = nodes[0].vote(&poll, &voter, i % 2).await;
        assert_eq!(response.status(), 200, "votes count with Redis down");
        let version = response.json::<VoteResponse>().await.unwrap().vote.version;
        reaches(&mut remote, version, "node-2's socket with Redis down").await;
    }
    let metric = nodes[1].metrics().await;
    assert!(
        !metric.contains("votewire_anti_entropy_repairs_total 0"),
        "node-2 repaired nothing: {metric}"
    );
    for node in nodes {
        node.stop().await;
    }
    db.drop_database().await;
}
