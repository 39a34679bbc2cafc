//! Several nodes in one process, joined by a real Redis and sharing a real PostgreSQL
//! database: cross-node fan-out, presence, and Redis going away and coming back.
//!
//! Redis is a `redis-server` of the test's own; PostgreSQL is the machine's (or
//! `VOTEWIRE_TEST_POSTGRES_URL`). `VOTEWIRE_TEST_EXTERNAL=0` skips these tests.

#![allow(
    unreachable_pub,
    reason = "a test binary exports nothing: `pub` only shares items between its modules"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use votewire_proto::{ClusterView, HealthReport, ServerMessage, VoteResponse};
use votewire_testkit::client::eventually;
use votewire_testkit::redis::RedisServer;
use votewire_testkit::{
    Kind, TempDir, TestApp, TestDatabase, external_enabled, spawn_app_in, version_of,
};

/// A fresh PostgreSQL database on the machine's server.
async fn postgres() -> TestDatabase {
    TestDatabase::unmigrated(Kind::Postgres)
        .await
        .expect("external servers are enabled")
}

mod audience;
mod healing;
mod ingest;
mod redis_cluster;
mod results;

/// The shipped anti-entropy interval, for tests not about it.
const ANTI_ENTROPY: Duration = Duration::from_secs(2);

/// `count` nodes on one database and one Redis, sharing a signing key, checking their
/// rooms against the database every `anti_entropy`.
async fn spawn_nodes(
    count: usize,
    database: &str,
    redis: &str,
    anti_entropy: Duration,
) -> Vec<TestApp> {
    let key_dir = Arc::new(TempDir::new("cluster-key"));
    std::fs::write(
        key_dir.0.join("signing.key"),
        "0123456789abcdef0123456789abcdef",
    )
    .unwrap();
    let mut nodes = Vec::new();
    for i in 1..=count {
        let (database, redis, key) = (
            database.to_owned(),
            redis.to_owned(),
            key_dir.0.join("signing.key"),
        );
        nodes.push(
            spawn_app_in(Arc::new(TempDir::new("node")), move |s| {
                s.node_id = votewire_proto::NodeId::parse(format!("node-{i}")).unwrap();
                s.database_url = database;
                s.redis_url = Some(redis);
                s.key_file = key;
                s.anti_entropy = anti_entropy;
            })
            .await,
        );
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_socket_on_node_3_sees_a_vote_cast_through_node_1_and_every_node_is_listed() {
    if !external_enabled("the Redis cluster tests") {
        return;
    }
    let redis = RedisServer::start().await;
    let db = postgres().await;
    let nodes = spawn_nodes(3, &db.url, &redis.url(), ANTI_ENTROPY).await;
    let poll = nodes[0]
        .create_poll("Across nodes?", &["yes", "no"])
        .await
        .poll
        .id
        .to_string();
    let mut socket = nodes[2].ws().await;
    assert_eq!(socket.node, "node-3");
    socket.subscribe(&poll, None).await;
    socket.recv().await;

    let voter = nodes[0].new_voter().await;
    let vote: VoteResponse = nodes[0].vote(&poll, &voter, 1).await.json().await.unwrap();
    match socket.recv().await {
        ServerMessage::Update { tally, recent, .. } => {
            assert_eq!(tally, vote.tally);
            assert_eq!(
                recent[0].node.as_str(),
                "node-1",
                "the update names the node that handled the vote"
            );
        }
        other => panic!("expected an update, got {other:?}"),
    }

    // Presence: every node lists all three once each has announced itself.
    // Presence is a 2 s heartbeat: there is no event to await.
    for node in &nodes {
        eventually(Duration::from_secs(10), || async {
            let view: ClusterView = node.get_json("/api/cluster").await;
            let ids: Vec<_> = view.nodes.iter().map(|n| n.id.to_string()).collect();
            match ids == ["node-1", "node-2", "node-3"] {
                true => Ok(()),
                false => Err(format!("{} lists {ids:?}", node.settings.node_id)),
            }
        })
        .await;
    }
    for node in nodes {
        node.stop().await;
    }
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_down_votes_still_count_and_sockets_heal_within_two_seconds_of_its_return() {
    if !external_enabled("the Redis cluster tests") {
        return;
    }
    let mut redis = RedisServer::start().await;
    let db = postgres().await;
    let nodes = spawn_nodes(2, &db.url, &redis.url(), ANTI_ENTROPY).await;
    let poll = nodes[0]
        .create_poll("Resilient?", &["a", "b", "c"])
        .await
        .poll
        .id
        .to_string();
    let mut remote = nodes[1].ws().await;
    remote.subscribe(&poll, None).await;
    remote.recv().await;
    let mut local = nodes[0].ws().await;
    local.subscribe(&poll, None).await;
    local.recv().await;

    redis.stop().await;
    let mut last = 0;
    for i in 0..30u32 {
        let voter = nodes[0].new_voter().await;
        let response = nodes[0].vote(&poll, &voter, i % 3).await;
        assert_eq!(
            response.status(),
            200,
            "votes are acknowledged while Redis is down"
        );
        last = response.json::<VoteResponse>().await.unwrap().vote.version;
    }
    assert_eq!(last, 30);
    // The node's own sockets still update without Redis.
    local.recv_until(|m| version_of(m) == Some(last)).await;
    // What a readiness gate does: the node stays in the pool, degraded, the bus named.
    let ready = readiness(&nodes[0]).await;
    assert_eq!(ready.0, 200, "kept in the pool without Redis: {ready:?}");
    assert_eq!(ready.1.status, "degraded", "{ready:?}");
    assert_ne!(ready.1.checks["bus"], "ok", "{ready:?}");
    assert_eq!(ready.1.checks["database"], "ok", "{ready:?}");

    redis.restart().await;
    let back = Instant::now();
    let healed = tokio::time::timeout(
        Duration::from_secs(2),
        remote.recv_until(|m| version_of(m) == Some(last)),
    )
    .await;
    assert!(
        healed.is_ok(),
        "the remote socket did not reach version {last} within 2 s of Redis returning"
    );
    eprintln!("healed {:?} after Redis returned", back.elapsed());
    let final_tally = nodes[1].get_poll(&poll).await.tally;
    let ServerMessage::Update { tally, .. } = healed.unwrap() else {
        panic!("expected an update")
    };
    assert_eq!(tally, final_tally);
    let ready = eventually(Duration::from_secs(10), || async {
        let (status, report) = readiness(&nodes[0]).await;
        (report.status == "ready")
            .then_some(status)
            .ok_or(format!("{status} {report:?}"))
    })
    .await;
    assert_eq!(ready, 200);
    for node in nodes {
        node.stop().await;
    }
    db.drop_database().await;
}

/// `/readyz` of `node`: its status code and its report.
async fn readiness(node: &TestApp) -> (u16, HealthReport) {
    let response = node.http.get(node.url("/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.expect("a health report"))
}
