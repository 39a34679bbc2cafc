//! Reopening a poll its owner closed: at a new version (a close keeps the version, so
//! the reopen is newer everywhere), only before its closing time, and votes count again.

use super::*;

pub(crate) async fn a_closed_poll_reopens_at_a_new_version_until_its_closing_time(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let store = &db.store;
    let closes_at = now() + chrono::Duration::hours(1);
    let p = poll("reopened", 2, Some(closes_at));
    store.create_poll(&p, None).await.unwrap();
    store.vote(vote(&p, "v1", Some(0), "n1")).await.unwrap();
    let (_, closed) = store.close(&p.id, now()).await.unwrap();
    assert_eq!(
        (closed.poll.status(now()), closed.tally.version),
        (PollStatus::Closed, 1)
    );

    let reopened = store.reopen(&p.id, now()).await.unwrap();
    assert_eq!(
        (reopened.poll.status(now()), reopened.tally.version),
        (PollStatus::Open, 2)
    );
    assert_eq!(reopened.tally.counts, vec![1, 0], "the votes stay");
    let again = store.reopen(&p.id, now()).await.unwrap();
    assert_eq!(
        again.tally.version, 2,
        "reopening an open poll changes nothing"
    );
    let counted = store.vote(vote(&p, "v2", Some(1), "n1")).await.unwrap();
    assert_eq!(
        (counted.tally.version, counted.tally.counts),
        (3, vec![1, 1])
    );

    // Closed again, then asked after its closing time: it stays closed.
    store.close(&p.id, now()).await.unwrap();
    let late = closes_at + chrono::Duration::seconds(1);
    assert_eq!(
        store.reopen(&p.id, late).await.unwrap_err(),
        StoreError::PollClosed
    );
    assert_eq!(store.poll(&p.id).await.unwrap().tally.version, 3);
    let missing = poll("missing", 2, None);
    assert_eq!(
        store.reopen(&missing.id, now()).await.unwrap_err(),
        StoreError::PollNotFound
    );
    db.drop_database().await;
}
