//! A node going away: killed, or restarted in turn.

use std::time::{Duration, Instant};

use super::{print_load, setup};
use crate::cluster::Db;

/// Scenario 4: A node killed with SIGKILL under voting: its sockets reconnect through nginx and
/// resubscribe with `since`; no acknowledged vote is lost; every socket converges.
pub async fn node_killed(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let watchers = s.nginx_watchers(9).await;
    let victims: Vec<usize> = (0..watchers.len())
        .filter(|&i| watchers[i].node() == "node-2")
        .collect();
    let started = Instant::now();
    let load = s.voting(16, Duration::from_millis(10), 200).await;

    s.cluster.signal("node-2", "KILL").await;
    let killed = Instant::now();
    for &i in &victims {
        watchers[i]
            .wait(
                "reconnected through nginx to another node",
                Duration::from_secs(15),
                |seen| seen.connected && seen.connections >= 2 && seen.node() != "node-2",
            )
            .await;
    }
    eprintln!(
        "[{name}] the {} sockets of node-2 reconnected within {:.1?}",
        victims.len(),
        killed.elapsed()
    );
    let acked = load.stats().acked;
    load.wait_acked(acked + 200, Duration::from_secs(20)).await;
    let (voters, stats) = load.finish().await;
    print_load(name, "votes", &stats, started.elapsed());

    s.cluster.cluster_up().await; // node-2 back, for the baseline counts
    s.check(&voters, watchers).await;
}

/// Scenario 7: A rolling restart (SIGTERM one node, `up`, its /readyz, the next) under steady
/// voting through nginx: every vote request gets 200.
///
/// The next node is stopped only once nginx sends writes to the restarted one again: its
/// passive health check (`max_fails=2 fail_timeout=5s`) keeps a node it saw fail out of
/// rotation for 5 s whatever its /readyz says, and stopping the next node inside that
/// window leaves nginx with no node at all for a moment (`503 no_node_available`). The
/// votes themselves all go to one node (writes have poll affinity), so the probe is a
/// write nginx spreads at random.
pub async fn rolling_restart(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let watchers = s.nginx_watchers(6).await;
    let started = Instant::now();
    let load = s.voting(8, Duration::from_millis(25), 50).await;
    for i in 1..=3u16 {
        let part = format!("node-{i}");
        let restart = Instant::now();
        s.cluster.signal(&part, "TERM").await;
        s.cluster.cluster_up().await;
        let node = &s.nodes[usize::from(i) - 1];
        assert_eq!(
            node.status("/readyz").await,
            200,
            "{part} is ready after `up`"
        );
        let ready = restart.elapsed();
        let rejoined = s
            .nginx
            .wait_for_write_node(&part, Duration::from_secs(20))
            .await;
        eprintln!(
            "[{name}] {part} ready {ready:.1?} after SIGTERM; nginx sent it writes again \
             {rejoined:.1?} later"
        );
    }
    let (voters, stats) = load.finish().await;
    print_load(
        name,
        "votes during the rolling restart",
        &stats,
        started.elapsed(),
    );
    assert_eq!(
        stats.not_acked(),
        0,
        "[{name}] every vote request gets 200 during a rolling restart: {stats:?}"
    );
    s.check(&voters, watchers).await;
}
