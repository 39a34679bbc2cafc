//! Who sees a poll's counts: kept with the poll, read under the vote's lock (the
//! commit tells who voted on an `after_vote` poll), changed by the owner at a new
//! version, open or closed.

use votewire_proto::ResultsVisibility;

use super::*;

pub(crate) async fn a_polls_results_visibility_is_kept_told_by_each_commit_and_changed_at_a_new_version(
    kind: Kind,
) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let store = &db.store;
    let mut p = poll("visibility", 2, None);
    p.results = ResultsVisibility::AfterVote;
    store.create_poll(&p, None).await.unwrap();
    assert_eq!(store.poll(&p.id).await.unwrap().poll, p);

    assert!(!store.has_vote(&p.id, "v1").await.unwrap());
    let voted = store.vote(vote(&p, "v1", Some(1), "n1")).await.unwrap();
    assert_eq!(voted.visibility, ResultsVisibility::AfterVote);
    assert!(store.has_vote(&p.id, "v1").await.unwrap());
    assert!(!store.has_vote(&p.id, "v2").await.unwrap());
    store.vote(vote(&p, "v1", None, "n1")).await.unwrap();
    assert!(
        !store.has_vote(&p.id, "v1").await.unwrap(),
        "a withdrawn vote does not stand"
    );

    let live = store
        .set_results(&p.id, ResultsVisibility::Live)
        .await
        .unwrap();
    assert_eq!(
        (live.poll.results, live.tally.version),
        (ResultsVisibility::Live, 3)
    );
    let again = store
        .set_results(&p.id, ResultsVisibility::Live)
        .await
        .unwrap();
    assert_eq!(
        again.tally.version, 3,
        "the same visibility changes nothing"
    );

    // A closed poll's results can still be hidden or revealed.
    store.close(&p.id, now()).await.unwrap();
    let hidden = store
        .set_results(&p.id, ResultsVisibility::Hidden)
        .await
        .unwrap();
    assert_eq!(
        (hidden.poll.results, hidden.tally.version),
        (ResultsVisibility::Hidden, 4)
    );
    assert_eq!(
        store.poll(&p.id).await.unwrap().poll.results,
        ResultsVisibility::Hidden
    );
    let missing = poll("missing", 2, None);
    assert_eq!(
        store
            .set_results(&missing.id, ResultsVisibility::Live)
            .await
            .unwrap_err(),
        StoreError::PollNotFound
    );
    db.drop_database().await;
}
