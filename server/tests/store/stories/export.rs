//! Reading a poll's votes page by page, as an export does: by voter id, each standing
//! vote once, a withdrawn one not at all.

use super::*;

pub(crate) async fn a_polls_votes_read_in_pages_list_each_standing_vote_once(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = poll("pages", 3, None);
    db.store.create_poll(&p, None).await.unwrap();
    for (voter, option) in [("v3", 2), ("v1", 0), ("v5", 1), ("v2", 2), ("v4", 0)] {
        db.store
            .vote(vote(&p, voter, Some(option), "n1"))
            .await
            .unwrap();
    }
    db.store.vote(vote(&p, "v4", None, "n1")).await.unwrap();
    db.store.vote(vote(&p, "v1", Some(1), "n2")).await.unwrap();

    let mut read = Vec::new();
    let mut after = String::new();
    loop {
        let page = db.store.votes_page(&p.id, &after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = last.voter.clone();
        read.extend(
            page.into_iter()
                .map(|v| (v.voter, v.choice.lowest().unwrap(), v.node)),
        );
    }
    let expected = [
        ("v1", 1, "n2"),
        ("v2", 2, "n1"),
        ("v3", 2, "n1"),
        ("v5", 1, "n1"),
    ]
    .map(|(voter, option, node)| (voter.to_owned(), option, node.to_owned()));
    assert_eq!(read, expected);
    let other = db
        .store
        .votes_page(&poll("none", 2, None).id, "", 10)
        .await
        .unwrap();
    assert!(other.is_empty());
    db.drop_database().await;
}
