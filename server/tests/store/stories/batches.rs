//! The stories of many votes at once: concurrent nodes, group-commit batches, and
//! nodes that migrate together.

use std::sync::Arc;

use votewire_proto::NodeId;
use votewire_server::store::{Ballot, Choice, Store, StoreError, VoteBatch};
use votewire_testkit::votes::{VoteCommand, VoteOne};
use votewire_testkit::{Kind, TestDatabase};

use super::{now, poll, vote};

pub(super) async fn concurrent_votes_from_two_nodes_equal_a_recount(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = Arc::new(poll("race", 4, None));
    db.store.create_poll(&p, None).await.unwrap();
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
pub(super) async fn vote_until_done(store: &dyn Store, command: VoteCommand) {
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
        choice: option.map_or(Choice::None, Choice::One),
        seq: None,
        entry: None,
        admission: Default::default(),
    }
}

pub(super) async fn a_batch_applies_its_ballots_in_order_in_one_commit(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = poll("batch", 3, None);
    db.store.create_poll(&p, None).await.unwrap();
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
    let changed: Vec<Result<bool, StoreError>> = outcome
        .results
        .iter()
        .map(|r| r.clone().map(|ballot| ballot.changed))
        .collect();
    assert_eq!(
        changed[..6],
        [
            Ok(false),
            Ok(true),
            Ok(true),
            Err(StoreError::OptionOutOfRange { options: 3 }),
            Ok(true),
            Ok(true)
        ]
    );
    assert!(changed[6..].iter().all(|r| *r == Ok(true)));
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

pub(super) async fn a_batch_on_a_closed_poll_is_refused_whole(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = poll("shut", 2, None);
    db.store.create_poll(&p, None).await.unwrap();
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

pub(super) async fn nodes_starting_together_migrate_without_racing(kind: Kind) {
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
