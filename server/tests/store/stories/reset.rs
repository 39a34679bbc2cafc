//! Resetting a poll: the votes go, the version rises, voters vote again, and a late
//! retry of a vote from before the reset does not come back.

use super::*;

pub(crate) async fn a_reset_empties_the_tally_raises_the_version_and_keeps_old_retries_out(
    kind: Kind,
) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let store = &db.store;
    let p = poll("reset", 2, None);
    store.create_poll(&p, None).await.unwrap();
    let with_seq = |voter: &str, option: u32, seq: u64| VoteCommand {
        seq: Some(seq),
        ..vote(&p, voter, Some(option), "n1")
    };
    store.vote(with_seq("v1", 0, 5)).await.unwrap();
    store.vote(vote(&p, "v2", Some(1), "n1")).await.unwrap();
    store.vote(vote(&p, "v3", Some(1), "n1")).await.unwrap();

    let state = store.reset(&p.id, now()).await.unwrap();
    assert_eq!(
        (
            state.tally.version,
            state.tally.counts.clone(),
            state.tally.total
        ),
        (4, vec![0, 0], 0)
    );
    assert_eq!(db.recount("reset", 2).await, vec![0, 0]);
    assert!(store.votes_page(&p.id, "", 10).await.unwrap().is_empty());

    let retry = store.vote(with_seq("v1", 0, 5)).await.unwrap();
    assert!(
        retry.ballot.superseded && !retry.ballot.changed,
        "a retry from before stays out"
    );
    let again = store.vote(with_seq("v1", 1, 6)).await.unwrap();
    assert!(again.ballot.changed);
    assert_eq!((again.tally.version, again.tally.counts), (5, vec![0, 1]));

    store.close(&p.id, now()).await.unwrap();
    assert_eq!(
        store.reset(&p.id, now()).await.unwrap_err(),
        StoreError::PollClosed
    );
    let missing = poll("missing", 2, None);
    assert_eq!(
        store.reset(&missing.id, now()).await.unwrap_err(),
        StoreError::PollNotFound
    );
    assert_eq!(
        db.recount("reset", 2).await,
        vec![0, 1],
        "the refused resets changed nothing"
    );
    db.drop_database().await;
}
