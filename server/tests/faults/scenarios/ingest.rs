//! Buffered ingest (`--ingest stream`): the nodes answer 202 and two workers commit the
//! votes from Redis Streams. What breaks here is behind the 202: a worker, the
//! database, Redis itself. Every accepted vote must end in the database, once.

use std::time::{Duration, Instant};

use votewire_testkit::client::eventually;

use super::{Setup, print_load, setup_streamed};
use crate::cluster::{Cluster, Db};

/// The streams the nodes write to (the shipped `--ingest-shards`).
const SHARDS: u32 = 4;

/// Votes a consumer holds unacknowledged, over every stream (`XINFO CONSUMERS`).
async fn pending_with(cluster: &Cluster, consumer: &str) -> u64 {
    let mut pending = 0;
    for shard in 0..SHARDS {
        let key = format!("votewire:ingest:{{{shard}}}");
        if cluster.redis_cli(&["EXISTS", &key]).await == "0" {
            continue;
        }
        let info = cluster
            .redis_cli(&["XINFO", "CONSUMERS", &key, "votewire"])
            .await;
        let lines: Vec<&str> = info.lines().map(str::trim).collect();
        // Flat pairs per consumer: name <name> pending <n> idle <ms> ...
        for at in lines.windows(4) {
            if at[0] == "name" && at[1] == consumer && at[2] == "pending" {
                pending += at[3].parse::<u64>().unwrap_or(0);
            }
        }
    }
    pending
}

/// The highest `votewire_ingest_backlog` among the nodes.
async fn backlog(s: &Setup) -> f64 {
    let mut most: f64 = 0.0;
    for node in &s.nodes {
        most = most.max(node.metric("votewire_ingest_backlog").await.unwrap_or(0.0));
    }
    most
}

/// Scenario 13: 64 voters vote through nginx while the primary is stopped for 30 s:
/// every vote is still accepted (202) and the backlog grows. Meanwhile worker-1 is
/// SIGKILLed holding votes it read and could not commit: they must move to worker-2
/// within the claim time (3 s here). Once the primary is back the backlog drains, and
/// the shared checker finds every voter's last accepted vote in the database, once, and
/// every socket on the final tally.
pub async fn ingest_primary_down(name: &'static str, k: u16) {
    let s = setup_streamed(name, k, Db::Postgres).await;
    let watchers = s.nginx_watchers(6).await;
    let started = Instant::now();
    let load = s.voting(64, Duration::from_millis(50), 300).await;

    let before = load.stats().acked;
    s.cluster.signal("postgres-primary", "INT").await;
    let stopped = Instant::now();

    // Mid-batch: worker-1 read votes it cannot commit (they stay pending with it).
    let held = eventually(Duration::from_secs(10), || async {
        match pending_with(&s.cluster, "worker-1").await {
            0 => Err(format!("[{name}] worker-1 holds no vote yet")),
            n => Ok(n),
        }
    })
    .await;
    s.cluster.signal("worker-1", "KILL").await;
    let killed = Instant::now();
    let claimed = eventually(Duration::from_secs(10), || async {
        match pending_with(&s.cluster, "worker-1").await {
            0 => Ok(killed.elapsed()),
            n => Err(format!("[{name}] worker-1 still holds {n} votes")),
        }
    })
    .await;
    eprintln!(
        "[{name}] worker-1 SIGKILLed holding {held} votes; worker-2 claimed them {claimed:.1?} later"
    );

    // The fault's length, not a wait for an event: votes keep coming meanwhile.
    tokio::time::sleep(Duration::from_secs(30).saturating_sub(stopped.elapsed())).await;
    let during = load.stats().acked - before;
    let peak = backlog(&s).await;
    eprintln!(
        "[{name}] {during} votes accepted in {:.1?} with the primary down; backlog {peak}",
        stopped.elapsed()
    );
    assert!(
        during >= 64 * 20,
        "[{name}] votes keep being accepted with the primary down: {during} in 30 s"
    );
    assert!(
        peak > 0.0,
        "[{name}] votes wait in the streams while the primary is down"
    );

    s.cluster.cluster_up().await; // the primary and worker-1 back
    let (voters, stats) = load.finish().await;
    print_load(name, "votes", &stats, started.elapsed());
    assert_eq!(
        stats.not_acked(),
        0,
        "[{name}] every vote is accepted, the primary down or not: {stats:?}"
    );
    s.await_drained(Duration::from_secs(60)).await;
    s.check(&voters, watchers).await;
}

/// Scenario 15: with both workers stopped (SIGSTOP), so that accepted votes wait in
/// the streams, Redis is SIGKILLed and started again from its AOF
/// (`appendfsync everysec`: what it acknowledged is in the kernel before the answer),
/// after the voters' last votes were accepted. Once the workers resume, every voter's
/// last accepted vote is committed: none was lost with Redis (without the AOF, the
/// checker finds older choices).
pub async fn ingest_redis_restarted(name: &'static str, k: u16) {
    let s = setup_streamed(name, k, Db::Mariadb).await;
    let watchers = s.nginx_watchers(6).await;
    let started = Instant::now();
    let load = s.voting(32, Duration::from_millis(20), 300).await;

    // The workers stopped (SIGSTOP), so votes wait in the streams when Redis dies: the
    // AOF is all that keeps them.
    for worker in ["worker-1", "worker-2"] {
        s.cluster.pause(worker).await;
    }
    let acked = load.stats().acked;
    load.wait_acked(acked + 500, Duration::from_secs(30)).await;
    // Every voter's last vote is now accepted, and most are not committed yet.
    let (voters, stats) = load.finish().await;
    print_load(name, "votes", &stats, started.elapsed());
    assert_eq!(stats.not_acked(), 0, "[{name}] {stats:?}");
    let waiting = backlog(&s).await;
    s.cluster.signal("redis", "KILL").await;
    eprintln!("[{name}] Redis killed with about {waiting} accepted votes waiting");
    // Resumed before `up`, which waits for every part to answer: with Redis dead they
    // can take nothing until it is back from its AOF.
    for worker in ["worker-1", "worker-2"] {
        s.cluster.resume(worker).await;
    }
    s.cluster.cluster_up().await;
    s.await_drained(Duration::from_secs(30)).await;
    s.check(&voters, watchers).await;
}
