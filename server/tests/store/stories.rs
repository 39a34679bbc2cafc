//! The stories every backend must tell the same way.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use votewire_proto::{NodeId, PollId, PollStatus};
use votewire_server::store::{Ballot, ListCursor, PollRecord, Store, StoreError, VoteBatch};

use votewire_testkit::votes::{VoteCommand, VoteOne};
use votewire_testkit::{Kind, TestDatabase};

pub(crate) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

pub(crate) fn poll(id: &str, options: usize, closes_at: Option<DateTime<Utc>>) -> PollRecord {
    PollRecord {
        id: PollId::parse(id).unwrap(),
        question: format!("Question of {id}?"),
        options: (0..options).map(|i| format!("option {i}")).collect(),
        created_at: now(),
        closes_at,
        closed_at: None,
    }
}

pub(crate) fn vote(poll: &PollRecord, voter: &str, option: Option<u32>, node: &str) -> VoteCommand {
    VoteCommand {
        poll: poll.id.clone(),
        voter: voter.to_owned(),
        option,
        node: NodeId::parse(node).unwrap(),
        now: now(),
    }
}

async fn a_poll_reads_back_and_votes_set_change_repeat_and_withdraw(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = poll("story", 3, None);
    db.store.create_poll(&p).await.unwrap();
    let state = db.store.poll(&p.id).await.unwrap();
    assert_eq!(state.poll, p);
    assert_eq!(
        (
            state.tally.version,
            state.tally.counts.clone(),
            state.tally.total
        ),
        (0, vec![0, 0, 0], 0)
    );

    let first = db.store.vote(vote(&p, "v1", Some(2), "n1")).await.unwrap();
    assert!(first.changed);
    assert_eq!(
        (
            first.tally.version,
            first.tally.counts.clone(),
            first.tally.total
        ),
        (1, vec![0, 0, 1], 1)
    );
    let repeat = db.store.vote(vote(&p, "v1", Some(2), "n2")).await.unwrap();
    assert!(!repeat.changed, "a repeated vote changes nothing");
    assert_eq!(repeat.tally, first.tally);
    let change = db.store.vote(vote(&p, "v1", Some(0), "n2")).await.unwrap();
    assert_eq!(
        (
            change.tally.version,
            change.tally.counts.clone(),
            change.tally.total
        ),
        (2, vec![1, 0, 0], 1)
    );
    db.store.vote(vote(&p, "v2", Some(0), "n1")).await.unwrap();
    let withdraw = db.store.vote(vote(&p, "v1", None, "n1")).await.unwrap();
    assert_eq!(
        (
            withdraw.tally.version,
            withdraw.tally.counts.clone(),
            withdraw.tally.total
        ),
        (4, vec![1, 0, 0], 1)
    );
    let again = db.store.vote(vote(&p, "v1", None, "n1")).await.unwrap();
    assert!(!again.changed, "withdrawing nothing changes nothing");
    assert_eq!(db.recount("story", 3).await, withdraw.tally.counts);

    let (tally, nodes) = db.store.audit(&p.id).await.unwrap();
    assert_eq!(tally, withdraw.tally);
    assert_eq!(nodes.len(), 1);
    assert_eq!((nodes[0].node.as_str(), nodes[0].votes), ("n1", 1));
    db.drop_database().await;
}

async fn bad_votes_are_refused_and_change_nothing(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = poll("gate", 2, None);
    db.store.create_poll(&p).await.unwrap();
    let missing = poll("missing", 2, None);
    assert_eq!(
        db.store
            .vote(vote(&missing, "v", Some(0), "n"))
            .await
            .unwrap_err(),
        StoreError::PollNotFound
    );
    assert_eq!(
        db.store.poll(&missing.id).await.unwrap_err(),
        StoreError::PollNotFound
    );
    assert_eq!(
        db.store
            .vote(vote(&p, "v", Some(2), "n"))
            .await
            .unwrap_err(),
        StoreError::OptionOutOfRange { options: 2 }
    );
    let (closed, state) = db.store.close(&p.id, now()).await.unwrap();
    assert!(closed);
    assert_eq!(state.poll.status(now()), PollStatus::Closed);
    assert!(
        !db.store.close(&p.id, now()).await.unwrap().0,
        "closing twice changes nothing"
    );
    assert_eq!(
        db.store
            .vote(vote(&p, "v", Some(0), "n"))
            .await
            .unwrap_err(),
        StoreError::PollClosed
    );
    assert_eq!(db.recount("gate", 2).await, vec![0, 0]);
    assert_eq!(db.store.poll(&p.id).await.unwrap().tally.version, 0);
    db.drop_database().await;
}

async fn the_server_clock_closes_a_poll_at_its_closing_time(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let closes_at = now() + Duration::seconds(60);
    let p = poll("timed", 2, Some(closes_at));
    db.store.create_poll(&p).await.unwrap();
    let mut early = vote(&p, "v", Some(1), "n");
    early.now = closes_at - Duration::milliseconds(1);
    assert!(db.store.vote(early).await.unwrap().changed);
    let mut late = vote(&p, "v", Some(0), "n");
    late.now = closes_at;
    assert_eq!(
        db.store.vote(late).await.unwrap_err(),
        StoreError::PollClosed
    );
    assert_eq!(db.recount("timed", 2).await, vec![0, 1]);
    let listed = db.store.list_open(closes_at, 10, None).await.unwrap();
    assert!(
        listed.is_empty(),
        "a poll past its closing time is not listed as open"
    );
    db.drop_database().await;
}

async fn open_polls_list_newest_first_in_pages(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let base = now();
    for i in 0..5 {
        let mut p = poll(&format!("list{i}"), 2, None);
        p.created_at = base + Duration::milliseconds(i);
        db.store.create_poll(&p).await.unwrap();
    }
    db.store
        .close(&PollId::parse("list2").unwrap(), base)
        .await
        .unwrap();
    let first = db.store.list_open(base, 2, None).await.unwrap();
    let ids: Vec<_> = first.iter().map(|(p, _)| p.id.to_string()).collect();
    assert_eq!(ids, ["list4", "list3"]);
    let last = &first[1].0;
    let cursor = ListCursor {
        created_at: last.created_at,
        id: last.id.clone(),
    };
    let second = db.store.list_open(base, 10, Some(&cursor)).await.unwrap();
    let ids: Vec<_> = second.iter().map(|(p, _)| p.id.to_string()).collect();
    assert_eq!(ids, ["list1", "list0"], "closed polls are left out");
    db.drop_database().await;
}

async fn concurrent_votes_from_two_nodes_equal_a_recount(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = Arc::new(poll("race", 4, None));
    db.store.create_poll(&p).await.unwrap();
    let stores = [db.store.clone(), db.another_node().await];
    const VOTERS: usize = 60;
    const TASKS: usize = 12;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (store, p) = (stores[task % 2].clone(), p.clone());
        tasks.push(tokio::spawn(async move {
            for voter in (task..VOTERS).step_by(TASKS) {
                for option in [voter % 4, (voter + 1) % 4] {
                    let node = if task % 2 == 0 { "n1" } else { "n2" };
                    vote_until_done(
                        &*store,
                        vote(&p, &format!("voter{voter}"), Some(option as u32), node),
                    )
                    .await;
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let state = db.store.poll(&p.id).await.unwrap();
    assert_eq!(
        state.tally.version,
        2 * VOTERS as u64,
        "every vote and change moved the version by one"
    );
    assert_eq!(state.tally.total, VOTERS as u64);
    let expected: Vec<u64> = (0..4)
        .map(|o| (0..VOTERS).filter(|v| (v + 1) % 4 == o).count() as u64)
        .collect();
    assert_eq!(state.tally.counts, expected);
    assert_eq!(db.recount("race", 4).await, expected);
    db.drop_database().await;
}

/// Retries a vote the database refused as a deadlock victim: a vote is idempotent.
async fn vote_until_done(store: &dyn Store, command: VoteCommand) {
    for _ in 0..5 {
        match store.vote(command.clone()).await {
            Ok(_) => return,
            Err(StoreError::Unavailable(why)) => eprintln!("retrying after: {why}"),
            Err(e) => panic!("vote failed: {e:?}"),
        }
    }
    panic!("vote kept failing");
}

fn ballot(voter: &str, option: Option<u32>) -> Ballot {
    Ballot {
        voter: voter.to_owned(),
        option,
    }
}

async fn a_batch_applies_its_ballots_in_order_in_one_commit(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = poll("batch", 3, None);
    db.store.create_poll(&p).await.unwrap();
    db.store.vote(vote(&p, "old", Some(0), "n1")).await.unwrap();
    db.store
        .vote(vote(&p, "leaver", Some(1), "n1"))
        .await
        .unwrap();
    let mut ballots = vec![
        ballot("old", Some(0)), // a repeat
        ballot("old", Some(2)), // a change
        ballot("leaver", None), // a withdrawal
        ballot("bad", Some(3)), // refused alone
        ballot("twice", Some(0)),
        ballot("twice", Some(1)),
    ];
    // More new voters than one statement takes, so the batch is cut into several.
    const CROWD: usize = 700;
    ballots.extend((0..CROWD).map(|i| ballot(&format!("crowd{i}"), Some((i % 3) as u32))));
    let batch = VoteBatch {
        poll: p.id.clone(),
        node: NodeId::parse("n2").unwrap(),
        now: now(),
        ballots,
    };
    let outcome = db.store.vote_batch(batch).await.unwrap();
    assert_eq!(
        outcome.results[..6],
        [
            Ok(false),
            Ok(true),
            Ok(true),
            Err(StoreError::OptionOutOfRange { options: 3 }),
            Ok(true),
            Ok(true)
        ]
    );
    assert!(outcome.results[6..].iter().all(|r| *r == Ok(true)));
    let crowd_on = |o: usize| (0..CROWD).filter(|i| i % 3 == o).count() as u64;
    let expected = vec![crowd_on(0), crowd_on(1) + 1, crowd_on(2) + 1];
    assert_eq!(
        outcome.tally.version,
        2 + 4 + CROWD as u64,
        "the version rises by one per ballot that changed a choice"
    );
    assert_eq!(outcome.tally.counts, expected);
    assert_eq!(outcome.tally.total, CROWD as u64 + 2);
    assert_eq!(db.recount("batch", 3).await, expected);
    assert_eq!(db.store.poll(&p.id).await.unwrap().tally, outcome.tally);
    let (_, nodes) = db.store.audit(&p.id).await.unwrap();
    let n2 = nodes.iter().find(|n| n.node.as_str() == "n2").unwrap();
    assert_eq!(
        n2.votes,
        CROWD as u64 + 2,
        "the batch's votes are the node's"
    );
    db.drop_database().await;
}

async fn a_batch_on_a_closed_poll_is_refused_whole(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = poll("shut", 2, None);
    db.store.create_poll(&p).await.unwrap();
    db.store.close(&p.id, now()).await.unwrap();
    let batch = VoteBatch {
        poll: p.id.clone(),
        node: NodeId::parse("n1").unwrap(),
        now: now(),
        ballots: vec![ballot("a", Some(0)), ballot("b", Some(1))],
    };
    assert_eq!(
        db.store.vote_batch(batch).await.unwrap_err(),
        StoreError::PollClosed
    );
    assert_eq!(db.recount("shut", 2).await, vec![0, 0]);
    db.drop_database().await;
}

async fn nodes_starting_together_migrate_without_racing(kind: Kind) {
    let Some(db) = TestDatabase::unmigrated(kind).await else {
        return;
    };
    // Three nodes start on an empty database and migrate at the same time.
    let url = db.url.clone();
    let starts = (0..3).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let store = votewire_server::store::connect(&url).await.unwrap();
            store.migrate().await
        })
    });
    for start in starts.collect::<Vec<_>>() {
        start
            .await
            .unwrap()
            .expect("a concurrent migration succeeds");
    }
    db.drop_database().await;
}

macro_rules! stories_for {
    ($module:ident, $kind:expr) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn a_poll_reads_back_and_votes_set_change_repeat_and_withdraw() {
                super::a_poll_reads_back_and_votes_set_change_repeat_and_withdraw($kind).await
            }

            #[tokio::test]
            async fn bad_votes_are_refused_and_change_nothing() {
                super::bad_votes_are_refused_and_change_nothing($kind).await
            }

            #[tokio::test]
            async fn a_batch_applies_its_ballots_in_order_in_one_commit() {
                super::a_batch_applies_its_ballots_in_order_in_one_commit($kind).await
            }

            #[tokio::test]
            async fn a_batch_on_a_closed_poll_is_refused_whole() {
                super::a_batch_on_a_closed_poll_is_refused_whole($kind).await
            }

            #[tokio::test]
            async fn the_server_clock_closes_a_poll_at_its_closing_time() {
                super::the_server_clock_closes_a_poll_at_its_closing_time($kind).await
            }

            #[tokio::test]
            async fn open_polls_list_newest_first_in_pages() {
                super::open_polls_list_newest_first_in_pages($kind).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_votes_from_two_nodes_equal_a_recount() {
                super::concurrent_votes_from_two_nodes_equal_a_recount($kind).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn nodes_starting_together_migrate_without_racing() {
                super::nodes_starting_together_migrate_without_racing($kind).await
            }
        }
    };
}

/// After a failover a pooled connection may sit on a server that is now read-only
/// while new connections reach a writable one: the write that meets it fails (503,
/// nothing written), and the next write runs on a fresh connection.
#[tokio::test]
async fn postgres_a_write_on_a_read_only_connection_reconnects_the_writer_pool() {
    let Some(db) = TestDatabase::new(Kind::Postgres).await else {
        return;
    };
    let p = poll("failover", 2, None);
    db.store.create_poll(&p).await.unwrap();
    db.set_new_sessions_read_only(true).await;
    let node = db.another_node().await;
    // Concurrent reads fill the pool with several read-only connections.
    let reads = (0..8).map(|_| node.poll(&p.id));
    for read in futures_util::future::join_all(reads).await {
        read.unwrap();
    }
    db.set_new_sessions_read_only(false).await;
    let refused = node.vote(vote(&p, "v0", Some(0), "n1")).await.unwrap_err();
    assert!(
        matches!(refused, StoreError::Unavailable(ref why) if why.contains("read-only")),
        "{refused:?}"
    );
    for i in 1..=8 {
        let accepted = node.vote(vote(&p, &format!("v{i}"), Some(0), "n1")).await;
        assert!(
            accepted.as_ref().is_ok_and(|o| o.changed),
            "every stale connection was closed, the write ran on a new one: {accepted:?}"
        );
    }
    assert_eq!(db.recount("failover", 2).await, vec![8, 0]);
    drop(node);
    db.drop_database().await;
}

stories_for!(sqlite, Kind::Sqlite);
stories_for!(postgres, Kind::Postgres);
stories_for!(mysql, Kind::MySql);
