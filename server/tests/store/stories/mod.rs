//! The stories every backend must tell the same way; those of many votes at once are
//! in `batches.rs`.

mod batches;
mod choices;
mod codes;
mod export;
mod modes;
mod pause;
mod reopen;
mod reset;
mod results;
mod retries;

use chrono::{DateTime, Duration, Utc};
use votewire_proto::{NodeId, PollId, PollStatus};
use votewire_server::store::{Choice, ListCursor, PollRecord, StoreError};

use votewire_testkit::votes::{VoteCommand, VoteOne};
use votewire_testkit::{Kind, TestDatabase};

use batches::{
    a_batch_applies_its_ballots_in_order_in_one_commit, a_batch_on_a_closed_poll_is_refused_whole,
    concurrent_votes_from_two_nodes_equal_a_recount,
    nodes_starting_together_migrate_without_racing,
};
use choices::{
    a_multiple_choice_poll_counts_each_option_of_each_set_and_equals_a_recount,
    concurrent_sets_from_two_nodes_equal_a_recount,
};
use codes::a_join_code_names_one_poll_and_an_unlisted_poll_stays_off_the_list;
use export::a_polls_votes_read_in_pages_list_each_standing_vote_once;
use modes::invite_and_per_address_polls_admit_whom_they_should;
use pause::a_paused_poll_refuses_votes_until_it_resumes_each_at_a_new_version;
use reopen::a_closed_poll_reopens_at_a_new_version_until_its_closing_time;
use reset::a_reset_empties_the_tally_raises_the_version_and_keeps_old_retries_out;
use results::a_polls_results_visibility_is_kept_told_by_each_commit_and_changed_at_a_new_version;
use retries::{
    a_late_ballot_with_a_lower_seq_never_undoes_a_newer_choice,
    an_idempotency_key_makes_one_poll_whoever_retries_it,
    an_ingest_entry_applies_once_and_orders_ballots_without_a_seq,
};

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
        mode: votewire_proto::VotingMode::Open,
        join_code: None,
        listed: true,
        paused: false,
        results: Default::default(),
        max_choices: 1,
    }
}

pub(crate) fn vote(poll: &PollRecord, voter: &str, option: Option<u32>, node: &str) -> VoteCommand {
    VoteCommand {
        poll: poll.id.clone(),
        voter: voter.to_owned(),
        choice: option.map_or(Choice::None, Choice::One),
        seq: None,
        entry: None,
        admission: Default::default(),
        node: NodeId::parse(node).unwrap(),
        now: now(),
    }
}

async fn a_poll_reads_back_and_votes_set_change_repeat_and_withdraw(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = poll("story", 3, None);
    db.store.create_poll(&p, None).await.unwrap();
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
    assert!(first.ballot.changed);
    assert_eq!(
        (
            first.tally.version,
            first.tally.counts.clone(),
            first.tally.total
        ),
        (1, vec![0, 0, 1], 1)
    );
    let repeat = db.store.vote(vote(&p, "v1", Some(2), "n2")).await.unwrap();
    assert!(!repeat.ballot.changed, "a repeated vote changes nothing");
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
    assert!(!again.ballot.changed, "withdrawing nothing changes nothing");
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
    db.store.create_poll(&p, None).await.unwrap();
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
    db.store.create_poll(&p, None).await.unwrap();
    let mut early = vote(&p, "v", Some(1), "n");
    early.now = closes_at - Duration::milliseconds(1);
    assert!(db.store.vote(early).await.unwrap().ballot.changed);
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
        db.store.create_poll(&p, None).await.unwrap();
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

async fn versions_of_many_polls_come_in_one_read(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let polls: Vec<PollRecord> = (0..3).map(|i| poll(&format!("ver{i}"), 2, None)).collect();
    for p in &polls {
        db.store.create_poll(p, None).await.unwrap();
    }
    db.store
        .vote(vote(&polls[1], "v1", Some(0), "n1"))
        .await
        .unwrap();
    db.store
        .vote(vote(&polls[1], "v2", Some(1), "n1"))
        .await
        .unwrap();
    db.store.close(&polls[2].id, now()).await.unwrap();
    let mut asked: Vec<PollId> = polls.iter().map(|p| p.id.clone()).collect();
    asked.push(PollId::parse("ver-missing").unwrap());
    let mut found = db.store.versions(&asked).await.unwrap();
    found.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let seen: Vec<_> = found
        .iter()
        .map(|v| (v.id.to_string(), v.version, v.closed))
        .collect();
    assert_eq!(
        seen,
        [
            ("ver0".to_owned(), 0, false),
            ("ver1".to_owned(), 2, false),
            ("ver2".to_owned(), 0, true),
        ],
        "a poll that does not exist is left out"
    );
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
            async fn a_join_code_names_one_poll_and_an_unlisted_poll_stays_off_the_list() {
                super::a_join_code_names_one_poll_and_an_unlisted_poll_stays_off_the_list($kind)
                    .await
            }

            #[tokio::test]
            async fn a_polls_votes_read_in_pages_list_each_standing_vote_once() {
                super::a_polls_votes_read_in_pages_list_each_standing_vote_once($kind).await
            }

            #[tokio::test]
            async fn a_reset_empties_the_tally_raises_the_version_and_keeps_old_retries_out() {
                super::a_reset_empties_the_tally_raises_the_version_and_keeps_old_retries_out($kind)
                    .await
            }

            #[tokio::test]
            async fn a_paused_poll_refuses_votes_until_it_resumes_each_at_a_new_version() {
                super::a_paused_poll_refuses_votes_until_it_resumes_each_at_a_new_version($kind)
                    .await
            }

            #[tokio::test]
            async fn a_polls_results_visibility_is_kept_told_by_each_commit_and_changed_at_a_new_version() {
                super::a_polls_results_visibility_is_kept_told_by_each_commit_and_changed_at_a_new_version($kind)
                    .await
            }

            #[tokio::test]
            async fn a_closed_poll_reopens_at_a_new_version_until_its_closing_time() {
                super::a_closed_poll_reopens_at_a_new_version_until_its_closing_time($kind).await
            }

            #[tokio::test]
            async fn a_multiple_choice_poll_counts_each_option_of_each_set_and_equals_a_recount() {
                super::a_multiple_choice_poll_counts_each_option_of_each_set_and_equals_a_recount(
                    $kind,
                )
                .await
            }

            #[tokio::test]
            async fn open_polls_list_newest_first_in_pages() {
                super::open_polls_list_newest_first_in_pages($kind).await
            }

            #[tokio::test]
            async fn versions_of_many_polls_come_in_one_read() {
                super::versions_of_many_polls_come_in_one_read($kind).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_votes_from_two_nodes_equal_a_recount() {
                super::concurrent_votes_from_two_nodes_equal_a_recount($kind).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_sets_from_two_nodes_equal_a_recount() {
                super::concurrent_sets_from_two_nodes_equal_a_recount($kind).await
            }

            #[tokio::test]
            async fn invite_and_per_address_polls_admit_whom_they_should() {
                super::invite_and_per_address_polls_admit_whom_they_should($kind).await
            }

            #[tokio::test]
            async fn a_late_ballot_with_a_lower_seq_never_undoes_a_newer_choice() {
                super::a_late_ballot_with_a_lower_seq_never_undoes_a_newer_choice($kind).await
            }

            #[tokio::test]
            async fn an_ingest_entry_applies_once_and_orders_ballots_without_a_seq() {
                super::an_ingest_entry_applies_once_and_orders_ballots_without_a_seq($kind).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn an_idempotency_key_makes_one_poll_whoever_retries_it() {
                super::an_idempotency_key_makes_one_poll_whoever_retries_it($kind).await
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
    db.store.create_poll(&p, None).await.unwrap();
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
            accepted.as_ref().is_ok_and(|o| o.ballot.changed),
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
