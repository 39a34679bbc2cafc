//! The fault scenarios of the issue, one function each; every one ends with
//! [`checker::check`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::api::{Api, Counts, Load, VoteResult, Voter, show};
use crate::checker::{self, Ending};
use crate::cluster::{Cluster, Db};
use crate::watcher::Watcher;

const OPTIONS: usize = 4;

/// A cluster with one open poll, and each node's counts before any socket.
struct Setup {
    name: &'static str,
    cluster: Cluster,
    nginx: Api,
    nodes: Vec<Api>,
    poll: String,
    baseline: Vec<Counts>,
}

async fn setup(name: &'static str, k: u16, db: Db) -> Setup {
    let cluster = Cluster::up(name, k, db).await;
    let nginx = Api::new(&cluster.nginx_url());
    let nodes = cluster.node_urls().iter().map(|u| Api::new(u)).collect();
    let poll = nginx.create_poll(name, OPTIONS).await;
    let baseline = checker::baseline(&cluster).await;
    Setup {
        name,
        cluster,
        nginx,
        nodes,
        poll,
        baseline,
    }
}

impl Setup {
    /// `per_node` sockets straight to each node's port.
    async fn direct_watchers(&self, per_node: usize) -> Vec<Watcher> {
        let mut watchers = Vec::new();
        for i in 1..=3u16 {
            for j in 0..per_node {
                let w = Watcher::start(
                    format!("node-{i}#{j} (direct)"),
                    &self.cluster.node_url(i),
                    &self.poll,
                )
                .await;
                assert_eq!(w.node(), format!("node-{i}"), "the hello names the node");
                watchers.push(w);
            }
        }
        watchers
    }

    /// `n` sockets through nginx; fails unless every node got at least one.
    async fn nginx_watchers(&self, n: usize) -> Vec<Watcher> {
        let mut watchers = Vec::new();
        for j in 0..n {
            watchers.push(Watcher::start(format!("nginx#{j}"), &self.nginx.base, &self.poll).await);
        }
        let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
        for w in &watchers {
            *per_node.entry(w.node()).or_default() += 1;
        }
        assert_eq!(
            per_node.len(),
            3,
            "[{}] nginx spread {n} sockets over every node: {per_node:?}",
            self.name
        );
        eprintln!("[{}] sockets through nginx: {per_node:?}", self.name);
        watchers
    }

    async fn check(&self, voters: &[Voter], watchers: Vec<Watcher>) {
        checker::check(Ending {
            name: self.name,
            cluster: &self.cluster,
            poll: &self.poll,
            options: OPTIONS,
            voters,
            watchers,
            baseline: &self.baseline,
        })
        .await;
    }

    /// Polls every node's /readyz until each answers `status` (bounded).
    async fn await_readyz(&self, status: u16, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            // At once: a node without its database may take seconds to answer.
            let now = futures_util::future::join_all(
                self.nodes.iter().map(|node| node.status("/readyz")),
            )
            .await;
            if now.iter().all(|&s| s == status) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "[{}] the nodes' /readyz answer {now:?}, not {status} everywhere within {within:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls one sample of every node's /metrics until it equals `value` (bounded).
    async fn await_metric(&self, metric: &str, value: f64, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let mut now = Vec::new();
            for node in &self.nodes {
                now.push(node.metric(metric).await);
            }
            if now.iter().all(|&v| v == Some(value)) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "[{}] {metric} is {now:?} on the nodes, not {value} within {within:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The nodes' `votewire_replica_fallbacks_total{reason}`, summed.
async fn fallbacks(nodes: &[Api], reason: &str) -> f64 {
    let mut sum = 0.0;
    for node in nodes {
        sum += node
            .metric(&format!(
                "votewire_replica_fallbacks_total{{reason=\"{reason}\"}}"
            ))
            .await
            .unwrap_or(0.0);
    }
    sum
}

fn print_load(name: &str, what: &str, stats: &crate::api::LoadStats, took: Duration) {
    eprintln!(
        "[{name}] {what}: {} sent, {} acknowledged, others {:?} in {took:.1?} ({:.0}/s), \
         slowest {:.1?}{}",
        stats.sent,
        stats.acked,
        stats.other,
        stats.sent as f64 / took.as_secs_f64().max(0.001),
        stats.slowest,
        if stats.examples.is_empty() {
            String::new()
        } else {
            format!(", e.g. {:?}", stats.examples)
        }
    );
}

/// Scenario 1: A socket on node 3 sees votes cast through node 1 (node ports, no nginx).
pub async fn cross_node(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let node1 = &s.nodes[0];
    let watcher = Watcher::start("node-3 (direct)", &s.cluster.node_url(3), &s.poll).await;
    assert_eq!(watcher.node(), "node-3");
    let mut voters = node1.new_voters(3).await;
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
    let voters = s.nginx.new_voters(64).await;
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

/// Answers PING on 127.0.0.1:`port` with +PONG.
async fn redis_answers(port: u16) -> bool {
    let attempt = async {
        let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        conn.write_all(b"PING\r\n").await?;
        let mut buf = [0u8; 7];
        conn.read_exact(&mut buf).await?;
        Ok::<_, std::io::Error>(&buf == b"+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_millis(500), attempt).await,
        Ok(Ok(true))
    )
}

/// Scenario 3: Redis killed for 5 s under voting: votes keep being acknowledged, and within 2 s of
/// Redis answering again every socket shows the exact final tally.
pub async fn redis_down(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let mut watchers = s.direct_watchers(1).await;
    watchers.extend(s.nginx_watchers(3).await);
    let voters = s.nginx.new_voters(16).await;
    let load = Load::start(
        &s.nginx,
        &s.poll,
        voters,
        OPTIONS as u32,
        1_000_000,
        Duration::from_millis(20),
    );
    load.wait_acked(100, Duration::from_secs(20)).await;

    s.cluster.signal("redis", "KILL").await;
    let down = Instant::now();
    let before = load.stats();
    // The outage itself lasts 5 s: this sleep is the fault, not a synchronisation.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (voters, stats) = load.finish().await;
    let outage = down.elapsed();
    eprintln!(
        "[{name}] during the {outage:.1?} outage: {} votes sent, {} acknowledged \
         (16 voters, 20 ms apart; slowest vote of the run {:.1?})",
        stats.sent - before.sent,
        stats.acked - before.acked,
        stats.slowest
    );
    assert!(
        stats.acked - before.acked >= 20,
        "[{name}] votes keep being acknowledged with Redis down: {stats:?}"
    );
    assert_eq!(
        stats.not_acked(),
        0,
        "[{name}] every vote is acknowledged with Redis down: {stats:?}"
    );
    let final_tally = checker::read_primary(&s.cluster, &s.poll, OPTIONS)
        .await
        .tally;
    let not_yet: Vec<String> = watchers
        .iter()
        .filter(|w| w.seen().last.as_ref() != Some(&final_tally))
        .map(|w| format!("{} ({})", w.label, w.node()))
        .collect();
    eprintln!(
        "[{name}] final tally {}; sockets not showing it before Redis returns: {not_yet:?}",
        show(&final_tally)
    );

    // `cluster.sh up` restarts Redis (only Redis) while we watch for it to answer and
    // then for every socket to heal.
    let heal = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !redis_answers(s.cluster.ports.redis).await {
            assert!(
                Instant::now() < deadline,
                "[{name}] Redis did not come back"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let back = Instant::now();
        eprintln!(
            "[{name}] Redis answers again, {:.1?} after it was killed",
            down.elapsed()
        );
        let mut slowest = Duration::ZERO;
        for w in &watchers {
            let healed = w
                .wait_until(back + Duration::from_secs(2), |seen| {
                    seen.last.as_ref() == Some(&final_tally)
                })
                .await;
            assert!(
                healed,
                "[{name}] socket {} does not show the final tally {} within 2 s of Redis \
                 returning: {}",
                w.label,
                show(&final_tally),
                w.seen().summary()
            );
            slowest = slowest.max(back.elapsed());
        }
        eprintln!("[{name}] every socket shows the final tally {slowest:.1?} after Redis returned");
    };
    tokio::join!(s.cluster.cluster_up(), heal);
    s.check(&voters, watchers).await;
}

/// Scenario 4: A node killed with SIGKILL under voting: its sockets reconnect through nginx and
/// resubscribe with `since`; no acknowledged vote is lost; every socket converges.
pub async fn node_killed(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let watchers = s.nginx_watchers(9).await;
    let victims: Vec<usize> = (0..watchers.len())
        .filter(|&i| watchers[i].node() == "node-2")
        .collect();
    let voters = s.nginx.new_voters(16).await;
    let started = Instant::now();
    let load = Load::start(
        &s.nginx,
        &s.poll,
        voters,
        OPTIONS as u32,
        1_000_000,
        Duration::from_millis(10),
    );
    load.wait_acked(200, Duration::from_secs(20)).await;

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

/// Scenario 5: A replica stopped under voting: it leaves every node's read rotation, /readyz stays
/// 200 everywhere, GETs through nginx keep working and end on the primary's version.
pub async fn replica_down(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let watchers = s.direct_watchers(1).await;
    let voters = s.nginx.new_voters(8).await;
    let load = Load::start(
        &s.nginx,
        &s.poll,
        voters,
        OPTIONS as u32,
        1_000_000,
        Duration::from_millis(20),
    );
    load.wait_acked(50, Duration::from_secs(20)).await;
    s.await_metric(
        "votewire_replica_healthy{replica=\"0\"}",
        1.0,
        Duration::from_secs(5),
    )
    .await;

    // Probe readiness and reads all along the fault.
    let probe_stop = tokio::sync::watch::Sender::new(false);
    let probe = {
        let (nodes, nginx, poll) = (s.nodes.clone(), s.nginx.clone(), s.poll.clone());
        let mut stop = probe_stop.subscribe();
        tokio::spawn(async move {
            let (mut rounds, mut failures) = (0u32, Vec::new());
            let (mut slowest_ready, mut slowest_get) = (Duration::ZERO, Duration::ZERO);
            while !*stop.borrow() {
                for node in &nodes {
                    let sent = Instant::now();
                    let status = node.status("/readyz").await;
                    slowest_ready = slowest_ready.max(sent.elapsed());
                    if status != 200 {
                        failures.push(format!("{} /readyz {status}", node.base));
                    }
                }
                let sent = Instant::now();
                if let Err(e) = nginx.get_poll(&poll).await {
                    failures.push(format!("GET through nginx: {e}"));
                }
                slowest_get = slowest_get.max(sent.elapsed());
                rounds += 1;
                tokio::select! {
                    _ = stop.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
            (rounds, failures, slowest_ready, slowest_get)
        })
    };

    s.cluster.signal("mariadb-replica-1", "TERM").await;
    let stopped = Instant::now();
    let left = s
        .await_metric(
            "votewire_replica_healthy{replica=\"0\"}",
            0.0,
            Duration::from_secs(10),
        )
        .await;
    eprintln!("[{name}] replica 0 out of every node's rotation {left:.1?} after it stopped");
    let acked = load.stats().acked;
    load.wait_acked(acked + 100, Duration::from_secs(20)).await;
    // Reads and probes for at least 3 s with the replica down.
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(stopped.elapsed())).await;
    let (voters, stats) = load.finish().await;
    let _ = probe_stop.send(true);
    let (rounds, failures, slowest_ready, slowest_get) = probe.await.unwrap();
    eprintln!(
        "[{name}] {rounds} probe rounds (3 x /readyz + a GET through nginx) during the fault: \
         slowest /readyz {slowest_ready:.1?}, slowest GET {slowest_get:.1?}; {} reads fell \
         back to the primary after failing on a replica",
        fallbacks(&s.nodes, "failed").await
    );
    assert!(
        failures.is_empty(),
        "[{name}] with a replica down, /readyz stays 200 and GETs work: {failures:?}"
    );
    assert_eq!(
        stats.not_acked(),
        0,
        "[{name}] every vote is acknowledged: {stats:?}"
    );
    s.await_metric(
        "votewire_replica_healthy{replica=\"1\"}",
        1.0,
        Duration::from_secs(1),
    )
    .await;

    // Reads end on the primary's version: 9 GETs in a row through nginx (every node).
    let primary = checker::read_primary(&s.cluster, &s.poll, OPTIONS)
        .await
        .tally;
    let started = Instant::now();
    let mut rounds = 0;
    loop {
        rounds += 1;
        let mut seen = Vec::new();
        for _ in 0..9 {
            let view = s
                .nginx
                .get_poll(&s.poll)
                .await
                .unwrap_or_else(|e| panic!("[{name}] GET through nginx: {e}"));
            seen.push(view.tally);
        }
        if seen.iter().all(|t| *t == primary) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "[{name}] GETs through nginx answer {:?}, not the primary's {}",
            seen.iter().map(show).collect::<Vec<_>>(),
            show(&primary)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "[{name}] GETs through nginx answer the primary's version {} ({rounds} round(s))",
        primary.version
    );

    // And the replica rejoins once it is back.
    s.cluster.cluster_up().await;
    let back = s
        .await_metric(
            "votewire_replica_healthy{replica=\"0\"}",
            1.0,
            Duration::from_secs(10),
        )
        .await;
    eprintln!("[{name}] replica 0 back in every node's rotation {back:.1?} after `up`");
    s.check(&voters, watchers).await;
}

/// Scenario 6: The primary stopped: votes answer 503 `database_unavailable`, every /readyz 503,
/// reads keep working; when it returns, voting resumes by itself.
pub async fn primary_down(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let watchers = s.direct_watchers(1).await;
    let mut voters = s.nginx.new_voters(12).await;
    for (i, voter) in voters.iter_mut().enumerate() {
        let result = s
            .nginx
            .vote(&s.poll, voter, i as u32 % OPTIONS as u32)
            .await;
        assert!(matches!(result, VoteResult::Acked(_)), "{result:?}");
    }
    let before = checker::read_primary(&s.cluster, &s.poll, OPTIONS)
        .await
        .tally;

    s.cluster.signal("mariadb-primary", "TERM").await;
    let stopped = Instant::now();

    // Votes through nginx and to each node directly, at once.
    let mut tasks = Vec::new();
    for (i, base) in std::iter::once(s.nginx.base.clone())
        .chain(s.cluster.node_urls())
        .enumerate()
    {
        let api = Api::new(&base);
        let (poll, mut voter) = (s.poll.clone(), voters[i].clone());
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let option = (voter.acked.unwrap() + 1) % OPTIONS as u32;
            let result = api.vote(&poll, &mut voter, option).await;
            (base, voter, result, started.elapsed())
        }));
    }
    let refused_within = s.await_readyz(503, Duration::from_secs(15)).await;
    eprintln!("[{name}] every /readyz 503 {refused_within:.1?} after the primary stopped");
    let view = s
        .nginx
        .get_poll(&s.poll)
        .await
        .unwrap_or_else(|e| panic!("[{name}] reads go on from the replicas: {e}"));
    assert_eq!(view.tally, before, "[{name}] a read with the primary down");
    for (i, task) in tasks.into_iter().enumerate() {
        let (base, voter, result, took) = task.await.unwrap();
        eprintln!(
            "[{name}] vote through {base} with the primary down: {} in {took:.1?}",
            result.label()
        );
        match result {
            VoteResult::Refused { status: 503, code } if code == "database_unavailable" => {}
            other => panic!(
                "[{name}] a vote through {base} with the primary down answers 503 \
                 database_unavailable, not {other:?}"
            ),
        }
        voters[i] = voter;
    }

    s.cluster.cluster_up().await;
    let up = Instant::now();
    let mut attempts: BTreeMap<String, u32> = BTreeMap::new();
    let resumed = loop {
        let voter = &mut voters[4];
        let option = (voter.acked.unwrap() + 1) % OPTIONS as u32;
        let result = s.nginx.vote(&s.poll, voter, option).await;
        *attempts.entry(result.label()).or_default() += 1;
        if let VoteResult::Acked(_) = result {
            break up.elapsed();
        }
        assert!(
            up.elapsed() < Duration::from_secs(30),
            "[{name}] voting does not resume within 30 s of the primary's return: {attempts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "[{name}] primary back {:.1?} after it stopped; a vote acknowledged {resumed:.1?} \
         after `up` ({attempts:?})",
        up.duration_since(stopped)
    );
    for voter in voters.iter_mut() {
        let option = (voter.acked.unwrap() + 1) % OPTIONS as u32;
        let result = s.nginx.vote(&s.poll, voter, option).await;
        assert!(matches!(result, VoteResult::Acked(_)), "{result:?}");
    }
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
    let voters = s.nginx.new_voters(8).await;
    let started = Instant::now();
    let load = Load::start(
        &s.nginx,
        &s.poll,
        voters,
        OPTIONS as u32,
        1_000_000,
        Duration::from_millis(25),
    );
    load.wait_acked(50, Duration::from_secs(20)).await;
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
