//! Traffic with nothing broken: across nodes, and a load through nginx.

use std::time::{Duration, Instant};

use super::{OPTIONS, print_load, setup};
use crate::api::VoteResult;
use crate::cluster::Db;
use crate::load::Load;
use crate::watcher::Watcher;

/// Scenario 1: A socket on node 3 sees votes cast through node 1 (node ports, no nginx).
pub async fn cross_node(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let node1 = &s.nodes[0];
    let watcher = Watcher::start("node-3 (direct)", &s.cluster.node_url(3), &s.poll).await;
    assert_eq!(watcher.node(), "node-3");
    let mut voters = node1.ledger_voters(3).await;
    for (i, voter) in voters.iter_mut().enumerate() {
        let sent = Instant::now();
        let VoteResult::Acked(response) = node1.vote(&s.poll, voter, i as u32 % 2).await else {
            panic!("a vote through node 1 is acknowledged");
        };
        assert_eq!(response.vote.node.as_str(), "node-1");
        let version = response.tally.version;
        watcher
            .wait(
                &format!("at version {version}"),
                Duration::from_secs(5),
                |seen| seen.last.as_ref() == Some(&response.tally),
            )
            .await;
        eprintln!(
            "[{name}] vote {} through node-1 seen on node-3 {:.1?} after it was sent",
            version,
            sent.elapsed()
        );
    }
    let recent = watcher.seen().recent_nodes;
    assert!(
        !recent.is_empty() && recent.iter().all(|n| n == "node-1"),
        "the updates name node-1 as the node that handled the votes: {recent:?}"
    );
    s.check(&voters, vec![watcher]).await;
}

/// Scenario 2: 3,000 votes through nginx from 64 concurrent voters, sockets on every node.
pub async fn load(name: &'static str, k: u16, db: Db) {
    let s = setup(name, k, db).await;
    let mut watchers = s.direct_watchers(2).await;
    watchers.extend(s.nginx_watchers(6).await);
    let voters = s.nginx.ledger_voters(64).await;
    let started = Instant::now();
    let load = Load::start(
        &s.nginx,
        &s.poll,
        voters,
        OPTIONS as u32,
        3000,
        Duration::ZERO,
    );
    let (voters, stats) = load.join().await;
    print_load(name, "votes", &stats, started.elapsed());
    assert_eq!(stats.sent, 3000);
    assert_eq!(
        stats.acked, 3000,
        "[{name}] every vote is acknowledged with no fault: {stats:?}"
    );
    s.check(&voters, watchers).await;
}
