//! The cluster's fault tests: each scenario starts a real local cluster with
//! `cluster/cluster.sh` (Redis, a database primary + 2 replicas, 3 nodes of the binary
//! `cargo test` built, nginx), on ports and in a folder of its own, talks to it through
//! nginx like a user, breaks one part, and ends with the one shared checker
//! (`checker.rs`). The cluster is always torn down (`down --purge`), failure or not.
//!
//! The scenarios run one at a time (a global lock): each cluster is eight processes on a
//! machine that may have two cores. `VOTEWIRE_TEST_EXTERNAL=0` skips them all;
//! `VOTEWIRE_FAULTS_PORT_BASE` moves their ports (default 19000-19319, 20 per scenario);
//! `VOTEWIRE_FAULTS_VERBOSE=1` prints what each `cluster.sh up` said;
//! `VOTEWIRE_FAULTS_LOGS=<folder>` keeps every part's log there (a failure prints the end
//! of the nodes' and nginx's logs anyway).
//!
//! Run: `cargo test -p votewire-server --test faults -- --nocapture`.

#![allow(
    unreachable_pub,
    reason = "a test binary exports nothing: `pub` only shares items between its modules"
)]

mod api;
mod checker;
mod cluster;
mod load;
mod logs;
mod redis_tools;
mod scenarios;
mod watcher;

use std::future::Future;
use std::time::Instant;

use cluster::Db;

/// One scenario at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Prints how long the scenario took, passed or failed.
struct Timer {
    name: &'static str,
    started: Instant,
}

impl Drop for Timer {
    fn drop(&mut self) {
        let verdict = if std::thread::panicking() {
            "FAILED"
        } else {
            "passed"
        };
        eprintln!(
            "[{}] {verdict} in {:.1?}",
            self.name,
            self.started.elapsed()
        );
    }
}

async fn run(name: &'static str, scenario: impl Future<Output = ()>) {
    if !votewire_testkit::external_enabled("the cluster fault scenarios") {
        return;
    }
    let _serial = SERIAL.lock().await;
    eprintln!("[{name}] starting");
    let _timer = Timer {
        name,
        started: Instant::now(),
    };
    scenario.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_a_socket_on_node_3_sees_a_vote_cast_through_node_1() {
    run("s1-cross-node", scenarios::cross_node("s1-cross-node", 0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s2_3000_votes_from_64_voters_converge_on_mariadb() {
    run(
        "s2-load-mariadb",
        scenarios::load("s2-load-mariadb", 1, Db::Mariadb),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s2_3000_votes_from_64_voters_converge_on_postgres() {
    run(
        "s2-load-postgres",
        scenarios::load("s2-load-postgres", 2, Db::Postgres),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_redis_down_for_5_s_votes_still_acknowledged_and_sockets_heal_within_2_s() {
    run("s3-redis-down", scenarios::redis_down("s3-redis-down", 3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_a_node_killed_its_clients_reconnect_and_nothing_is_lost() {
    run(
        "s4-node-killed",
        scenarios::node_killed("s4-node-killed", 4),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s5_a_replica_stopped_reads_move_to_the_primary() {
    run(
        "s5-replica-down",
        scenarios::replica_down("s5-replica-down", 5),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s6_the_primary_stopped_votes_answer_503_and_resume_when_it_returns() {
    run(
        "s6-primary-down",
        scenarios::primary_down("s6-primary-down", 6),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_a_rolling_restart_under_steady_voting_fails_no_vote() {
    run(
        "s7-rolling-restart",
        scenarios::rolling_restart("s7-rolling-restart", 7),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s8_answers_lost_after_the_commit_and_a_killed_node_never_count_twice() {
    run(
        "s8-lost-answers",
        scenarios::lost_answers("s8-lost-answers", 8, false),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s9_pubsub_clients_killed_under_voting_every_socket_converges() {
    run(
        "s9-pubsub-killed",
        scenarios::pubsub_clients_killed("s9-pubsub-killed", 9),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s10_redis_silent_on_open_connections_noticed_within_10_s() {
    run(
        "s10-redis-half-open",
        scenarios::redis_half_open("s10-redis-half-open", 10),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s11_a_subscriber_cut_at_its_output_buffer_limit_resyncs() {
    run(
        "s11-slow-subscriber",
        scenarios::slow_subscriber_cut("s11-slow-subscriber", 11),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s12_a_redis_cluster_master_fails_over_twice_under_voting() {
    run(
        "s12-redis-cluster-failover",
        scenarios::cluster_failover("s12-redis-cluster-failover", 12),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s13_stream_ingest_a_worker_killed_and_the_primary_down_for_30_s_lose_nothing() {
    run(
        "s13-ingest-primary-down",
        scenarios::ingest_primary_down("s13-ingest-primary-down", 13),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s14_stream_ingest_answers_lost_after_the_xadd_and_a_killed_node_never_count_twice() {
    run(
        "s14-ingest-lost-answers",
        scenarios::lost_answers("s14-ingest-lost-answers", 14, true),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s15_stream_ingest_redis_killed_and_restarted_from_its_aof_loses_no_accepted_vote() {
    run(
        "s15-ingest-redis-restarted",
        scenarios::ingest_redis_restarted("s15-ingest-redis-restarted", 15),
    )
    .await;
}
