//! Stories of retried and reordered requests: a ballot's `seq` and ingest `entry`,
//! and a creation's Idempotency-Key, each on every backend.

use std::sync::Arc;

use chrono::Duration;
use votewire_server::store::{Creation, IdempotencyKey, PollRecord, Store};
use votewire_testkit::votes::{VoteCommand, VoteOne};
use votewire_testkit::{Kind, TestDatabase};

use super::{now, poll, vote};

/// What a ballot did: (changed, superseded, the choice that stands).
type Did = (bool, bool, Option<u32>);

/// Commits `command` alone and says what it did.
async fn did(store: &dyn Store, command: VoteCommand) -> Did {
    let b = store
        .vote(command)
        .await
        .expect("the ballot commits")
        .ballot;
    (b.changed, b.superseded, b.choice.lowest())
}

/// `voter`'s ballot for `option` (`None`: withdraw) with sequence number `seq`.
async fn ballot(
    store: &dyn Store,
    p: &PollRecord,
    voter: &str,
    option: Option<u32>,
    seq: u64,
) -> Did {
    let mut command = vote(p, voter, option, "n1");
    command.seq = Some(seq);
    did(store, command).await
}

/// `voter`'s ballot for `option` from ingest stream entry `entry`, with a `seq` when
/// given.
async fn entered(
    store: &dyn Store,
    p: &PollRecord,
    voter: &str,
    option: u32,
    entry: u64,
    seq: Option<u64>,
) -> Did {
    let mut command = vote(p, voter, Some(option), "worker-1");
    (command.entry, command.seq) = (Some(entry), seq);
    did(store, command).await
}

pub(super) async fn an_ingest_entry_applies_once_and_orders_ballots_without_a_seq(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = poll("entries", 3, None);
    db.store.create_poll(&p, None).await.unwrap();
    let store: &dyn Store = &*db.store;
    // A→B→C from one voter without a seq, committed as two workers might: A, C, then
    // B claimed late, then A again (a worker killed between commit and ack).
    assert_eq!(
        entered(store, &p, "v", 0, 1_000, None).await,
        (true, false, Some(0))
    );
    assert_eq!(
        entered(store, &p, "v", 2, 3_000, None).await,
        (true, false, Some(2))
    );
    assert_eq!(
        entered(store, &p, "v", 1, 2_000, None).await,
        (false, true, Some(2))
    );
    assert_eq!(
        entered(store, &p, "v", 0, 1_000, None).await,
        (false, true, Some(2))
    );
    // A client's seq orders its ballots whatever the entries, and the entries handled
    // stay stored beside it: an older entry without a seq is still too late.
    assert_eq!(
        entered(store, &p, "w", 1, 9_000, Some(7)).await,
        (true, false, Some(1))
    );
    assert_eq!(
        entered(store, &p, "w", 0, 8_000, Some(8)).await,
        (true, false, Some(0))
    );
    assert_eq!(
        entered(store, &p, "w", 2, 8_500, None).await,
        (false, true, Some(0))
    );
    assert_eq!(db.recount("entries", 3).await, vec![1, 0, 1]);
    let state = db.store.poll(&p.id).await.unwrap();
    assert_eq!(state.tally.version, 4, "four ballots changed a choice");
    db.drop_database().await;
}

pub(super) async fn a_late_ballot_with_a_lower_seq_never_undoes_a_newer_choice(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = poll("seqs", 3, None);
    db.store.create_poll(&p, None).await.unwrap();
    let store: &dyn Store = &*db.store;
    // A times out, B commits, then A's retry lands: B stands, and the answer says so.
    assert_eq!(
        ballot(store, &p, "v", Some(0), 10).await,
        (true, false, Some(0))
    );
    assert_eq!(
        ballot(store, &p, "v", Some(1), 20).await,
        (true, false, Some(1))
    );
    assert_eq!(
        ballot(store, &p, "v", Some(0), 10).await,
        (false, true, Some(1))
    );
    // The seq outlives a withdrawal: an older vote cannot bring the voter back.
    assert_eq!(ballot(store, &p, "v", None, 30).await, (true, false, None));
    assert_eq!(
        ballot(store, &p, "v", Some(2), 25).await,
        (false, true, None)
    );
    // A higher seq that repeats the choice raises the stored seq all the same.
    assert_eq!(
        ballot(store, &p, "w", Some(2), 5).await,
        (true, false, Some(2))
    );
    assert_eq!(
        ballot(store, &p, "w", Some(2), 8).await,
        (false, false, Some(2))
    );
    assert_eq!(
        ballot(store, &p, "w", Some(0), 7).await,
        (false, true, Some(2))
    );
    assert_eq!(db.recount("seqs", 3).await, vec![0, 0, 1]);
    let state = db.store.poll(&p.id).await.unwrap();
    assert_eq!(
        (state.tally.counts, state.tally.total, state.tally.version),
        (vec![0, 0, 1], 1, 4),
        "only the ballots that changed a choice moved the version"
    );
    db.drop_database().await;
}

pub(super) async fn an_idempotency_key_makes_one_poll_whoever_retries_it(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let key = |key: &str, request: &str| IdempotencyKey {
        key: key.to_owned(),
        request_hash: request.to_owned(),
        forget_before: now() - Duration::hours(24),
    };
    let first = poll("keyed1", 2, None);
    let made = db.store.create_poll(&first, Some(&key("k1", "r1"))).await;
    assert_eq!(made.unwrap(), Creation::Created);
    // The retry, under a new id as a node would make it: answered with the first poll.
    let retry = poll("keyed2", 2, None);
    match db.store.create_poll(&retry, Some(&key("k1", "r1"))).await {
        Ok(Creation::Replayed(state)) => assert_eq!(state.poll.id, first.id),
        other => panic!("the retry must replay the first poll: {other:?}"),
    }
    assert_eq!(
        db.store.poll(&retry.id).await.unwrap_err(),
        votewire_server::store::StoreError::PollNotFound,
        "the retry made no poll"
    );
    let other = poll("keyed3", 2, None);
    let reused = db.store.create_poll(&other, Some(&key("k1", "r2"))).await;
    assert_eq!(reused.unwrap(), Creation::KeyReused);

    // Two nodes racing with one key: one poll.
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let store: Arc<dyn Store> = db.store.clone();
            let p = poll(&format!("race{i}"), 2, None);
            let k = key("k2", "r");
            tokio::spawn(async move { store.create_poll(&p, Some(&k)).await })
        })
        .collect();
    let mut created = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(Creation::Created) => created += 1,
            Ok(Creation::Replayed(_)) => {}
            // SQLite's writers may time out waiting for the lock; nothing is made then.
            Err(votewire_server::store::StoreError::Unavailable(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(created, 1, "one key, one poll");

    // A key past its retention is forgotten by a later creation.
    let old = IdempotencyKey {
        forget_before: now() + Duration::seconds(1),
        ..key("k3", "r")
    };
    let fresh = poll("keyed4", 2, None);
    assert_eq!(
        db.store.create_poll(&fresh, Some(&old)).await.unwrap(),
        Creation::Created
    );
    let again = poll("keyed5", 2, None);
    assert_eq!(
        db.store
            .create_poll(&again, Some(&key("k1", "r1")))
            .await
            .unwrap(),
        Creation::Created,
        "k1 was older than the retention: a new poll"
    );
    db.drop_database().await;
}
