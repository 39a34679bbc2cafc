//! The databases going away: a replica, then the primary.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{OPTIONS, fallbacks, setup};
use crate::api::{Api, VoteResult, show};
use crate::checker;
use crate::cluster::Db;

/// Scenario 5: A replica stopped under voting: it leaves every node's read rotation, /readyz stays
/// 200 everywhere, GETs through nginx keep working and end on the primary's version.
pub async fn replica_down(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let watchers = s.direct_watchers(1).await;
    let load = s.voting(8, Duration::from_millis(20), 50).await;
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
                if let Err(e) = nginx.try_get_poll(&poll).await {
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
                .try_get_poll(&s.poll)
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

/// Scenario 6: The primary stopped: votes answer 503 `database_unavailable`, every node is
/// degraded (/readyz still 200), reads keep working; when it returns, voting resumes by
/// itself.
pub async fn primary_down(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let watchers = s.direct_watchers(1).await;
    let mut voters = s.nginx.ledger_voters(12).await;
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
    // What a readiness gate does: every node stays in the pool, degraded (reads and
    // sockets from the replicas), instead of the whole pool emptying.
    let degraded_within = s
        .await_metric(
            "votewire_readiness{state=\"degraded\"}",
            1.0,
            Duration::from_secs(15),
        )
        .await;
    s.await_readyz(200, Duration::from_secs(5)).await;
    eprintln!(
        "[{name}] every node degraded, /readyz still 200, {degraded_within:.1?} after the primary stopped"
    );
    let view = s
        .nginx
        .try_get_poll(&s.poll)
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
