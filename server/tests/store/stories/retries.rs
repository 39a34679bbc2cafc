//! Stories of retried and reordered requests: a ballot's `seq`, and a creation's
//! Idempotency-Key, each on every backend.

use std::sync::Arc;

use chrono::Duration;
use votewire_server::store::{Creation, IdempotencyKey, Store};
use votewire_testkit::votes::VoteOne;
use votewire_testkit::{Kind, TestDatabase};

use super::{now, poll, vote};

/// `voter`'s ballot for `option` (`None`: withdraw) with sequence number `seq`:
/// (changed, superseded, the choice that stands).
async fn ballot(
    store: &dyn Store,
    p: &votewire_server::store::PollRecord,
    voter: &str,
    option: Option<u32>,
    seq: u64,
) -> (bool, bool, Option<u32>) {
    let mut command = vote(p, voter, option, "n1");
    command.seq = Some(seq);
    let outcome = store.vote(command).await.expect("the ballot commits");
    let b = outcome.ballot;
    (b.changed, b.superseded, b.choice)
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
