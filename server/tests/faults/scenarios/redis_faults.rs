//! Redis failing in the ways a managed Redis does, short of going away: its pub/sub
//! clients killed (`CLIENT KILL TYPE pubsub`, messages lost on the way), a server that
//! stops answering without closing anything (half-open connections), and a subscriber
//! cut at its output-buffer limit because its node stopped reading. Each runs under
//! voting, asserts what the nodes must do, and ends with the shared checker.

use std::time::{Duration, Instant};

use super::{OPTIONS, Setup, setup};
use crate::api::{VoteResult, Voter, show};
use crate::checker;
use crate::cluster::Db;
use crate::watcher::Watcher;

/// The nodes' shipped anti-entropy interval, plus a read and a frame on a busy box.
pub(super) const HEALED_WITHIN: Duration = Duration::from_secs(5);

/// Stops the voting, then waits until every socket shows the database's final tally
/// (bounded by [`HEALED_WITHIN`]) and runs the shared checker on the load's voters and
/// the `others` who voted besides.
pub(super) async fn converge_and_check(
    s: &Setup,
    load: crate::load::Load,
    watchers: Vec<Watcher>,
    others: Vec<Voter>,
) {
    let (mut voters, stats) = load.finish().await;
    voters.extend(others);
    assert_eq!(
        stats.not_acked(),
        0,
        "[{}] every vote is acknowledged: {stats:?}",
        s.name
    );
    let stopped = Instant::now();
    let final_tally = checker::read_primary(&s.cluster, &s.poll, OPTIONS)
        .await
        .tally;
    for w in &watchers {
        let healed = w
            .wait_until(stopped + HEALED_WITHIN, |seen| {
                seen.last.as_ref() == Some(&final_tally)
            })
            .await;
        assert!(
            healed,
            "[{}] socket {} does not show the final tally {} within {HEALED_WITHIN:?}: {}",
            s.name,
            w.label,
            show(&final_tally),
            w.seen().summary()
        );
    }
    eprintln!(
        "[{}] every socket on the final tally {} {:.1?} after the votes stopped",
        s.name,
        show(&final_tally),
        stopped.elapsed()
    );
    s.check(&voters, watchers).await;
}

/// Scenario 9: every pub/sub client killed three times under voting: the messages in
/// flight are lost; the nodes reconnect, and the resync and the anti-entropy check
/// bring every socket to the database's tally.
pub async fn pubsub_clients_killed(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let mut watchers = s.direct_watchers(1).await;
    watchers.extend(s.nginx_watchers(3).await);
    let load = s.voting(16, Duration::from_millis(20), 100).await;
    for round in 1..=3 {
        let killed = s
            .cluster
            .redis_cli(&["CLIENT", "KILL", "TYPE", "pubsub"])
            .await;
        eprintln!("[{name}] CLIENT KILL TYPE pubsub #{round}: {killed} clients killed");
        assert!(
            killed.parse::<u32>().is_ok_and(|n| n >= 3),
            "[{name}] {killed}"
        );
        // The gap between kills lets the nodes reconnect: part of the fault.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    converge_and_check(&s, load, watchers, Vec::new()).await;
}

/// Scenario 10: Redis stops answering without closing a connection (SIGSTOP: the
/// kernel keeps the sockets open, nothing replies), as a network partition looks to a
/// client. Every node notices within 10 s (degraded readiness), votes keep being
/// acknowledged, and when Redis answers again every socket converges.
pub async fn redis_half_open(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let mut watchers = s.direct_watchers(1).await;
    watchers.extend(s.nginx_watchers(3).await);
    let load = s.voting(16, Duration::from_millis(20), 100).await;
    s.cluster.pause("redis").await;
    let noticed = s
        .await_metric(
            "votewire_readiness{state=\"degraded\"}",
            1.0,
            Duration::from_secs(10),
        )
        .await;
    eprintln!("[{name}] every node degraded {noticed:.1?} after Redis stopped answering");
    let before = load.stats();
    // The partition lasts 3 s more: the sleep is the fault, not a synchronisation.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let during = load.stats();
    assert!(
        during.acked > before.acked,
        "[{name}] votes are acknowledged while Redis is silent: {during:?}"
    );
    s.cluster.resume("redis").await;
    s.await_metric(
        "votewire_readiness{state=\"ready\"}",
        1.0,
        Duration::from_secs(15),
    )
    .await;
    converge_and_check(&s, load, watchers, Vec::new()).await;
}

/// Scenario 11: a node stops reading (SIGSTOP) while the node taking the votes publishes;
/// Redis cuts its subscriber at a small pub/sub output-buffer limit. When it runs again
/// it finds its subscription gone, reconnects and resyncs: its sockets converge.
pub async fn slow_subscriber_cut(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let limit = [
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "pubsub 16kb 8kb 1",
    ];
    assert_eq!(s.cluster.redis_cli(&limit).await, "OK");
    let mut watchers = s.direct_watchers(1).await;
    watchers.extend(s.nginx_watchers(3).await);
    let load = s.voting(16, Duration::from_millis(10), 100).await;
    // A node that does not commit this poll's votes: nginx sends them all to one node
    // (poll affinity), which must keep publishing while the paused one stops reading.
    let mut probe = s.nginx.ledger_voters(1).await;
    let VoteResult::Acked(receipt) = s.nginx.vote(&s.poll, &mut probe[0], 0).await else {
        panic!("[{name}] the probe vote is acknowledged");
    };
    let writer = receipt.vote.node.to_string();
    let paused = if writer == "node-2" {
        "node-3"
    } else {
        "node-2"
    };
    eprintln!("[{name}] {writer} commits the poll's votes; pausing {paused}");
    // Every node subscribes to the poll's shard channel: three, until one is cut.
    let channel = format!("votewire:{{{}}}", s.poll);
    let subscribers = || async {
        let answer = s
            .cluster
            .redis_cli(&["PUBSUB", "SHARDNUMSUB", &channel])
            .await;
        answer
            .lines()
            .nth(1)
            .and_then(|n| n.trim().parse::<u32>().ok())
    };
    assert_eq!(
        subscribers().await,
        Some(3),
        "[{name}] every node subscribes"
    );
    s.cluster.pause(paused).await;
    let paused_at = Instant::now();
    // The votes' updates alone would take minutes to fill the kernel's buffers before
    // Redis's own: a burst of large messages on the channel does it at once (the nodes
    // that read them drop them as malformed).
    s.cluster.redis_flood(&channel, 200, 100 * 1024).await;
    let deadline = paused_at + Duration::from_secs(20);
    while subscribers().await != Some(2) {
        assert!(
            Instant::now() < deadline,
            "[{name}] Redis never cut {paused}'s subscriber"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "[{name}] Redis cut {paused}'s subscriber at the output-buffer limit {:.1?} after it stopped reading",
        paused_at.elapsed()
    );
    s.cluster.resume(paused).await;
    converge_and_check(&s, load, watchers, probe).await;
}
