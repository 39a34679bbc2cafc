//! A Redis Cluster's master failing over, the two ways a managed Redis Cluster does it,
//! while votes flow: a maintenance failover (`CLUSTER FAILOVER` on the replica; the old
//! master lives on as a replica and drops its shard subscribers) and a master killed
//! (its replica elected after the node timeout). Both move the poll's shard; the nodes
//! must follow it and subscribe on the new master, and the checker ends the run.

use std::time::{Duration, Instant};

use votewire_testkit::client::eventually;

use super::redis_faults::converge_and_check;
use super::{Setup, setup_on};
use crate::cluster::{Db, Redis};

/// How long the shard may take to be served by the replica: the node timeout (5 s)
/// and the election, on a busy box.
const FAILED_OVER_WITHIN: Duration = Duration::from_secs(20);
/// How long the nodes may take to subscribe on the new master: their slot reading
/// (every 2 s), or the reconnect after the kill.
const RESUBSCRIBED_WITHIN: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy)]
enum Failover {
    Manual,
    Kill,
}

/// Scenario 12: the poll's shard fails over twice under voting, by `CLUSTER FAILOVER`
/// and then by a SIGKILL of the master that took it; after each, every node is
/// subscribed on the master that serves the shard and votes are acknowledged.
pub async fn cluster_failover(name: &'static str, k: u16) {
    let s = setup_on(name, k, Db::Mariadb, Redis::Cluster).await;
    let mut watchers = s.direct_watchers(1).await;
    watchers.extend(s.nginx_watchers(3).await);
    let load = s.voting(16, Duration::from_millis(20), 100).await;
    let channel = format!("votewire:{{{}}}", s.poll);
    for how in [Failover::Manual, Failover::Kill] {
        // After a failover the old master turns into the new one's replica a moment later.
        let (master, replica) = eventually(FAILED_OVER_WITHIN, || async {
            match s.cluster.shard_of(&channel).await {
                (Some(master), Some(replica)) => Ok((master, replica)),
                shard => Err(format!("[{name}] master and replica: {shard:?}")),
            }
        })
        .await;
        // A replica that has not finished its sync (a demoted master syncs from the new
        // one, after the diskless-sync delay) cannot be elected.
        eventually(FAILED_OVER_WITHIN, || async {
            let replication = s.cluster.redis_cli_on(replica, &["INFO", "replication"]);
            match replication.await.contains("master_link_status:up") {
                true => Ok(()),
                false => Err(format!("[{name}] the replica on {replica} is not in sync")),
            }
        })
        .await;
        assert_eq!(
            subscribers(&s, replica, &channel).await,
            0,
            "[{name}] nothing subscribes on the replica"
        );
        resubscribed(&s, master, &channel, "before the failover").await;
        let before = load.stats().acked;
        let started = Instant::now();
        match how {
            Failover::Manual => {
                let answer = s.cluster.redis_cli_on(replica, &["CLUSTER", "FAILOVER"]);
                assert_eq!(answer.await, "OK", "[{name}]");
            }
            Failover::Kill => {
                let part = s.cluster.redis_part(master);
                s.cluster.signal(&part, "KILL").await;
            }
        }
        eventually(FAILED_OVER_WITHIN, || async {
            match s.cluster.shard_of(&channel).await.0 {
                Some(now) if now == replica => Ok(()),
                now => Err(format!("[{name}] {how:?}: the shard's master is {now:?}")),
            }
        })
        .await;
        eprintln!(
            "[{name}] {how:?} failover: the shard moved from {master} to {replica} in {:.1?}",
            started.elapsed()
        );
        let after = format!("after the {how:?} failover");
        resubscribed(&s, replica, &channel, &after).await;
        eprintln!(
            "[{name}] every node subscribed on {replica} {:.1?} after the failover began",
            started.elapsed()
        );
        load.wait_acked(before + 100, Duration::from_secs(20)).await;
    }
    converge_and_check(&s, load, watchers, Vec::new()).await;
}

/// Subscribers of the shard `channel` on the server at `port`.
async fn subscribers(s: &Setup, port: u16, channel: &str) -> u32 {
    let answer = s
        .cluster
        .redis_cli_on(port, &["PUBSUB", "SHARDNUMSUB", channel])
        .await;
    answer
        .lines()
        .nth(1)
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("PUBSUB SHARDNUMSUB answered {answer:?}"))
}

/// Waits until each of the three nodes is subscribed to `channel` on `port`.
async fn resubscribed(s: &Setup, port: u16, channel: &str, what: &str) {
    eventually(RESUBSCRIBED_WITHIN, || async {
        match subscribers(s, port, channel).await {
            3 => Ok(()),
            n => Err(format!(
                "[{}] {what}: {n} of 3 nodes subscribed on {port}",
                s.name
            )),
        }
    })
    .await;
}
