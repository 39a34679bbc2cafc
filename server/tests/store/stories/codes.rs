//! Join codes and unlisted polls: a code names one poll, a taken code is refused so the
//! creation can draw another, and an unlisted poll stays off the list but not out of
//! reach.

use super::*;

pub(crate) async fn a_join_code_names_one_poll_and_an_unlisted_poll_stays_off_the_list(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let store = &db.store;
    let coded = PollRecord {
        join_code: Some("K7P2QX".into()),
        ..poll("coded", 2, None)
    };
    store.create_poll(&coded, None).await.unwrap();
    assert_eq!(store.poll_by_code("K7P2QX").await.unwrap(), coded.id);
    assert_eq!(
        store.poll_by_code("K7P2QY").await.unwrap_err(),
        StoreError::PollNotFound
    );
    let read = store.poll(&coded.id).await.unwrap().poll;
    assert_eq!(
        (read.join_code.as_deref(), read.listed),
        (Some("K7P2QX"), true)
    );

    let same_code = PollRecord {
        join_code: Some("K7P2QX".into()),
        ..poll("again", 2, None)
    };
    assert_eq!(
        store.create_poll(&same_code, None).await.unwrap_err(),
        StoreError::Taken
    );
    assert_eq!(
        store.poll(&same_code.id).await.unwrap_err(),
        StoreError::PollNotFound,
        "nothing of the refused poll was kept"
    );

    let unlisted = PollRecord {
        join_code: Some("M4N8RT".into()),
        listed: false,
        ..poll("unlisted", 2, None)
    };
    store.create_poll(&unlisted, None).await.unwrap();
    // Polls made before codes (no code) stay apart: NULLs are never equal.
    store
        .create_poll(&poll("old1", 2, None), None)
        .await
        .unwrap();
    store
        .create_poll(&poll("old2", 2, None), None)
        .await
        .unwrap();
    let listed: Vec<String> = store
        .list_open(now(), 10, None)
        .await
        .unwrap()
        .into_iter()
        .map(|(p, _)| p.id.to_string())
        .collect();
    assert!(!listed.contains(&"unlisted".to_owned()), "{listed:?}");
    assert!(listed.contains(&"coded".to_owned()) && listed.contains(&"old2".to_owned()));
    assert_eq!(store.poll_by_code("M4N8RT").await.unwrap(), unlisted.id);
    assert!(!store.poll(&unlisted.id).await.unwrap().poll.listed);
    db.drop_database().await;
}
