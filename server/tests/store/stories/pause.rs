//! Pausing a poll: votes are refused, the version rises on pause and on resume so the
//! state travels with the tally, and a closed poll cannot be paused.

use super::*;

pub(crate) async fn a_paused_poll_refuses_votes_until_it_resumes_each_at_a_new_version(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let store = &db.store;
    let p = poll("paused", 2, None);
    store.create_poll(&p, None).await.unwrap();
    store.vote(vote(&p, "v1", Some(0), "n1")).await.unwrap();

    let paused = store.pause(&p.id, true, now()).await.unwrap();
    assert_eq!(paused.poll.status(now()), PollStatus::Paused);
    assert_eq!(
        (paused.tally.version, paused.tally.counts.clone()),
        (2, vec![1, 0])
    );
    assert_eq!(
        store.vote(vote(&p, "v2", Some(1), "n1")).await.unwrap_err(),
        StoreError::PollPaused
    );
    let again = store.pause(&p.id, true, now()).await.unwrap();
    assert_eq!(
        again.tally.version, 2,
        "pausing a paused poll changes nothing"
    );
    assert!(store.poll(&p.id).await.unwrap().poll.paused);

    let resumed = store.pause(&p.id, false, now()).await.unwrap();
    assert_eq!(
        (resumed.poll.status(now()), resumed.tally.version),
        (PollStatus::Open, 3)
    );
    let counted = store.vote(vote(&p, "v2", Some(1), "n1")).await.unwrap();
    assert_eq!(
        (counted.tally.version, counted.tally.counts),
        (4, vec![1, 1])
    );

    store.close(&p.id, now()).await.unwrap();
    assert_eq!(
        store.pause(&p.id, true, now()).await.unwrap_err(),
        StoreError::PollClosed
    );
    let missing = poll("missing", 2, None);
    assert_eq!(
        store.pause(&missing.id, true, now()).await.unwrap_err(),
        StoreError::PollNotFound
    );
    db.drop_database().await;
}
