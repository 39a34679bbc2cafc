//! Multiple choice: a ballot is a set of at most `max_choices` options; the tally counts
//! each option of each standing set once, `total` counts voters, and a recount of the
//! vote rows equals the tally through every change.

use votewire_server::store::Choice;

use super::*;

pub(crate) async fn a_multiple_choice_poll_counts_each_option_of_each_set_and_equals_a_recount(
    kind: Kind,
) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let store = &db.store;
    let p = PollRecord {
        max_choices: 2,
        ..poll("choices", 4, None)
    };
    store.create_poll(&p, None).await.unwrap();
    assert_eq!(store.poll(&p.id).await.unwrap().poll.max_choices, 2);
    let set = |voter: &str, options: &[u32]| VoteCommand {
        choice: Choice::of(options).unwrap(),
        ..vote(&p, voter, None, "n1")
    };
    let recount = || db.recount(p.id.as_str(), 4);

    let first = store.vote(set("v1", &[0, 2])).await.unwrap();
    assert_eq!(first.ballot.choice.options(), vec![0, 2]);
    store.vote(set("v2", &[2, 3])).await.unwrap();
    let single = store.vote(set("v3", &[1])).await.unwrap();
    assert_eq!(
        (single.tally.counts.clone(), single.tally.total),
        (vec![1, 1, 2, 1], 3)
    );
    assert_eq!(recount().await, single.tally.counts);

    // v1 changes its set: 0 out, 3 in; a repeat of the same set changes nothing.
    let moved = store.vote(set("v1", &[2, 3])).await.unwrap();
    assert_eq!(moved.tally.counts, vec![0, 1, 2, 2]);
    let again = store.vote(set("v1", &[3, 2])).await.unwrap();
    assert!(!again.ballot.changed);
    assert_eq!(again.tally.version, moved.tally.version);
    assert_eq!(
        store.vote(set("v4", &[0, 1, 2])).await.unwrap_err(),
        StoreError::TooManyChoices { max: 2 }
    );
    assert_eq!(
        store.vote(set("v4", &[0, 4])).await.unwrap_err(),
        StoreError::OptionOutOfRange { options: 4 }
    );
    let withdrawn = store.vote(vote(&p, "v2", None, "n1")).await.unwrap();
    assert_eq!(
        (withdrawn.tally.counts.clone(), withdrawn.tally.total),
        (vec![0, 1, 1, 1], 2)
    );
    assert_eq!(recount().await, withdrawn.tally.counts);

    // The export reads each voter's whole set.
    let page = store.votes_page(&p.id, "", 10).await.unwrap();
    let sets: Vec<(String, Vec<u32>)> = page
        .into_iter()
        .map(|v| (v.voter, v.choice.options()))
        .collect();
    assert_eq!(
        sets,
        vec![("v1".into(), vec![2, 3]), ("v3".into(), vec![1])]
    );

    // A single-choice poll takes one option only.
    let single_poll = poll("single", 3, None);
    store.create_poll(&single_poll, None).await.unwrap();
    let two = VoteCommand {
        choice: Choice::of(&[0, 1]).unwrap(),
        ..vote(&single_poll, "v1", None, "n1")
    };
    assert_eq!(
        store.vote(two).await.unwrap_err(),
        StoreError::TooManyChoices { max: 1 }
    );
    db.drop_database().await;
}

pub(crate) async fn concurrent_sets_from_two_nodes_equal_a_recount(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let p = std::sync::Arc::new(PollRecord {
        max_choices: 2,
        ..poll("race-sets", 4, None)
    });
    db.store.create_poll(&p, None).await.unwrap();
    let stores = [db.store.clone(), db.another_node().await];
    const VOTERS: u32 = 40;
    const TASKS: u32 = 8;
    // Voter v picks {v, v+1}, then moves to {v+1, v+2} (mod 4), from either node.
    let final_set = |v: u32| [(v + 1) % 4, (v + 2) % 4];
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (store, p) = (stores[task as usize % 2].clone(), p.clone());
        tasks.push(tokio::spawn(async move {
            for v in (task..VOTERS).step_by(TASKS as usize) {
                for set in [[v % 4, (v + 1) % 4], final_set(v)] {
                    let command = VoteCommand {
                        choice: Choice::of(&set).unwrap(),
                        ..vote(&p, &format!("voter{v}"), None, "n1")
                    };
                    super::batches::vote_until_done(&*store, command).await;
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let state = db.store.poll(&p.id).await.unwrap();
    let expected: Vec<u64> = (0..4)
        .map(|o| (0..VOTERS).filter(|&v| final_set(v).contains(&o)).count() as u64)
        .collect();
    assert_eq!(state.tally.version, 2 * VOTERS as u64);
    assert_eq!(state.tally.total, VOTERS as u64);
    assert_eq!(state.tally.counts, expected);
    assert_eq!(db.recount("race-sets", 4).await, expected);
    db.drop_database().await;
}
