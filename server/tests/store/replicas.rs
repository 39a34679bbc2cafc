//! `ReplicatedStore` over real databases: separate databases stand in for replicas
//! that hold other (older) content, so a test can tell which one answered; a chaos
//! proxy cuts a replica off and brings it back.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use votewire_server::Shutdown;
use votewire_server::store::{PollRecord, ReplicaState, ReplicatedStore, Store};

use crate::stories::{poll, vote};
use votewire_testkit::client::eventually;
use votewire_testkit::proxy::{Proxy, target_of};
use votewire_testkit::votes::VoteOne;
use votewire_testkit::{Kind, TestDatabase};

const MAX_LAG: Duration = Duration::from_secs(5);

/// A fresh replicated store over `primary` and `replicas`, probed once.
async fn replicated(primary: &TestDatabase, replicas: &[&TestDatabase]) -> Arc<ReplicatedStore> {
    let stores = replicas.iter().map(|r| r.store.clone()).collect();
    let store = Arc::new(ReplicatedStore::new(primary.store.clone(), stores, MAX_LAG));
    store.check().await;
    store
}

/// A separate database only gets the heartbeat when the test copies it there.
async fn beat(replica: &TestDatabase, age: Duration) {
    let at = Utc::now() - chrono::Duration::from_std(age).unwrap();
    replica.store.write_heartbeat(at).await.unwrap();
}

/// Waits until `condition` holds (the monitor probes on its own beat: no event to
/// await), failing after 15 s.
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    eventually(Duration::from_secs(15), || {
        let held = condition();
        async move {
            if held {
                Ok(())
            } else {
                Err(format!("waiting until {what}"))
            }
        }
    })
    .await
}

async fn reads_spread_over_the_replicas_and_writes_go_to_the_primary(kind: Kind) {
    let (Some(primary), Some(r1), Some(r2)) = (
        TestDatabase::new(kind).await,
        TestDatabase::new(kind).await,
        TestDatabase::new(kind).await,
    ) else {
        return;
    };
    // The same poll, with a question that tells which database answered.
    let mut p = poll("spread", 2, None);
    for (db, question) in [
        (&primary, "primary"),
        (&r1, "replica 1"),
        (&r2, "replica 2"),
    ] {
        p.question = question.into();
        db.store.create_poll(&p, None).await.unwrap();
    }
    beat(&r1, Duration::ZERO).await;
    beat(&r2, Duration::ZERO).await;
    let store = replicated(&primary, &[&r1, &r2]).await;
    assert!(
        store
            .health()
            .iter()
            .all(|h| h.state == ReplicaState::Healthy),
        "{:?}",
        store.health()
    );

    let mut answered = Vec::new();
    for _ in 0..4 {
        answered.push(store.poll(&p.id).await.unwrap().poll.question);
    }
    answered.sort();
    assert_eq!(
        answered,
        ["replica 1", "replica 1", "replica 2", "replica 2"]
    );
    let listed = store.list_open(Utc::now(), 10, None).await.unwrap();
    assert!(listed[0].0.question.starts_with("replica"), "{listed:?}");

    // Writes reach the primary only.
    let q = poll("written", 2, None);
    store.create_poll(&q, None).await.unwrap();
    let outcome = store.vote(vote(&p, "v1", Some(1), "n1")).await.unwrap();
    assert_eq!(outcome.tally.version, 1);
    assert_eq!(primary.store.poll(&p.id).await.unwrap().tally.version, 1);
    assert_eq!(r1.store.poll(&p.id).await.unwrap().tally.version, 0);
    assert!(r2.store.poll(&q.id).await.is_err());
    // The node reads its own writes: the replicas are behind, the primary answers.
    let state = store.poll(&p.id).await.unwrap();
    assert_eq!(
        (state.poll.question.as_str(), state.tally.version),
        ("primary", 1)
    );
    assert_eq!(store.poll(&q.id).await.unwrap().poll.id, q.id);
    let (tally, _) = store.audit(&p.id).await.unwrap();
    assert_eq!(tally.version, 1);
    assert!(store.fallbacks().behind >= 3);
    assert_eq!(store.fallbacks().failed, 0);

    for db in [primary, r1, r2] {
        db.drop_database().await;
    }
}

async fn a_replica_behind_the_wanted_version_sends_the_read_to_the_primary(kind: Kind) {
    let (Some(primary), Some(replica)) =
        (TestDatabase::new(kind).await, TestDatabase::new(kind).await)
    else {
        return;
    };
    let p = poll("behind", 2, None);
    primary.store.create_poll(&p, None).await.unwrap();
    replica.store.create_poll(&p, None).await.unwrap();
    // Votes this node did not see: another node's, committed on the primary only.
    primary
        .store
        .vote(vote(&p, "v1", Some(0), "other"))
        .await
        .unwrap();
    primary
        .store
        .vote(vote(&p, "v2", Some(1), "other"))
        .await
        .unwrap();
    // A poll made a moment ago, on the primary only: its code is found there.
    let fresh = PollRecord {
        join_code: Some("FRESH2".into()),
        ..poll("fresh", 2, None)
    };
    primary.store.create_poll(&fresh, None).await.unwrap();
    beat(&replica, Duration::ZERO).await;
    let store = replicated(&primary, &[&replica]).await;

    assert_eq!(
        store.poll(&p.id).await.unwrap().tally.version,
        0,
        "the replica answers"
    );
    assert_eq!(store.poll_by_code("FRESH2").await.unwrap(), fresh.id);
    // A vote the replica has not seen yet: its "no" is checked on the primary.
    assert!(store.has_vote(&p.id, "v1").await.unwrap());
    assert!(!store.has_vote(&p.id, "v3").await.unwrap());
    let state = store.poll_at_least(&p.id, 2).await.unwrap();
    assert_eq!((state.tally.version, state.tally.counts), (2, vec![1, 1]));
    // Having seen version 2, the node never shows less.
    assert_eq!(store.poll(&p.id).await.unwrap().tally.version, 2);
    // Nor an open poll after closing it, though close does not move the version.
    store.close(&p.id, Utc::now()).await.unwrap();
    assert!(store.poll(&p.id).await.unwrap().poll.closed_at.is_some());
    assert!(
        replica
            .store
            .poll(&p.id)
            .await
            .unwrap()
            .poll
            .closed_at
            .is_none()
    );

    primary.drop_database().await;
    replica.drop_database().await;
}

async fn the_heartbeat_gives_each_replica_its_lag(kind: Kind) {
    let (Some(primary), Some(stale)) =
        (TestDatabase::new(kind).await, TestDatabase::new(kind).await)
    else {
        return;
    };
    // In step: the primary's own database, as a second node would open it.
    let in_step = primary.another_node().await;
    beat(&stale, Duration::from_secs(30)).await;
    let store = ReplicatedStore::new(
        primary.store.clone(),
        vec![in_step, stale.store.clone()],
        MAX_LAG,
    );
    store.check().await;
    let [fresh, behind] = store.health()[..] else {
        panic!("two replicas")
    };
    assert_eq!(fresh.state, ReplicaState::Healthy);
    assert!(fresh.lag < Duration::from_secs(1), "{fresh:?}");
    assert_eq!(behind.state, ReplicaState::Lagging, "{behind:?}");
    assert!(behind.lag >= Duration::from_secs(30), "{behind:?}");
    // What /api/cluster and /metrics show, in --replica order.
    let lags: Vec<u128> = store.health().iter().map(|h| h.lag.as_millis()).collect();
    assert!(lags[0] < 1000 && lags[1] >= 30_000, "{lags:?}");

    // The lagging replica gets no reads until it catches up.
    let p = poll("lag", 2, None);
    primary.store.create_poll(&p, None).await.unwrap();
    for _ in 0..4 {
        store.poll(&p.id).await.unwrap();
    }
    beat(&stale, Duration::ZERO).await;
    store.check().await;
    assert_eq!(store.health()[1].state, ReplicaState::Healthy);

    primary.drop_database().await;
    stale.drop_database().await;
}

/// Through a proxy to the primary's own database: cut, the replica leaves the
/// rotation and reads still succeed; restored, the monitor brings it back.
async fn a_failing_replica_leaves_the_rotation_and_comes_back(kind: Kind) {
    let Some(primary) = TestDatabase::new(kind).await else {
        return;
    };
    let proxy = Proxy::start(target_of(&primary.url).await).await;
    let store = Arc::new(
        ReplicatedStore::with_urls(
            primary.store.clone(),
            &[proxy.url_for(&primary.url)],
            MAX_LAG,
        )
        .unwrap(),
    );
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    let monitor = tokio::spawn(store.clone().monitor(async move { stop.wait().await }));
    let healthy = |s: &ReplicatedStore| s.health()[0].state == ReplicaState::Healthy;
    until("the replica is probed in", || healthy(&store)).await;

    let p = poll("chaos", 2, None);
    store.create_poll(&p, None).await.unwrap();
    store.vote(vote(&p, "v1", Some(0), "n1")).await.unwrap();
    proxy.cut();
    for _ in 0..3 {
        let state = store.poll(&p.id).await.expect("reads survive the replica");
        assert_eq!(state.tally.version, 1);
    }
    until("the replica is out", || {
        store.health()[0].state == ReplicaState::Down
    })
    .await;
    store.list_open(Utc::now(), 10, None).await.unwrap();

    proxy.restore();
    until("the replica is back", || healthy(&store)).await;
    let before = store.fallbacks().failed;
    assert_eq!(store.poll(&p.id).await.unwrap().tally.version, 1);
    assert_eq!(store.fallbacks().failed, before);

    shutdown.fire();
    tokio::time::timeout(Duration::from_secs(5), monitor)
        .await
        .expect("the monitor ends with the shutdown")
        .unwrap();
    drop(store);
    primary.drop_database().await;
}

/// A replica that is down when the node starts does not stop it: reads use the primary.
#[tokio::test]
async fn a_replica_down_at_start_stays_out_and_reads_use_the_primary() {
    let Some(primary) = TestDatabase::new(Kind::Sqlite).await else {
        return;
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("postgres://postgres@{}/none", closed.local_addr().unwrap());
    drop(closed);
    let store = ReplicatedStore::with_urls(primary.store.clone(), &[url], MAX_LAG).unwrap();
    store.check().await;
    assert_eq!(store.health()[0].state, ReplicaState::Down);
    let p = poll("down", 2, None);
    store.create_poll(&p, None).await.unwrap();
    assert_eq!(store.poll(&p.id).await.unwrap().poll.id, p.id);
    assert!(
        ReplicatedStore::with_urls(primary.store.clone(), &["redis://x".into()], MAX_LAG).is_err()
    );
    primary.drop_database().await;
}

macro_rules! replica_stories_for {
    ($module:ident, $kind:expr) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn reads_spread_over_the_replicas_and_writes_go_to_the_primary() {
                super::reads_spread_over_the_replicas_and_writes_go_to_the_primary($kind).await
            }

            #[tokio::test]
            async fn a_replica_behind_the_wanted_version_sends_the_read_to_the_primary() {
                super::a_replica_behind_the_wanted_version_sends_the_read_to_the_primary($kind)
                    .await
            }

            #[tokio::test]
            async fn the_heartbeat_gives_each_replica_its_lag() {
                super::the_heartbeat_gives_each_replica_its_lag($kind).await
            }
        }
    };
}

replica_stories_for!(sqlite, Kind::Sqlite);
replica_stories_for!(postgres, Kind::Postgres);
replica_stories_for!(mysql, Kind::MySql);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_failing_replica_leaves_the_rotation_and_comes_back() {
    a_failing_replica_leaves_the_rotation_and_comes_back(Kind::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_failing_replica_leaves_the_rotation_and_comes_back() {
    a_failing_replica_leaves_the_rotation_and_comes_back(Kind::MySql).await
}
