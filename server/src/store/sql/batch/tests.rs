//! The plan and the padded statements, case by case.
use super::*;

/// A single-choice poll of `options` options.
fn single(options: u32) -> Shape {
    Shape {
        options,
        max_choices: 1,
    }
}

fn one(option: Option<u32>) -> Choice {
    option.map_or(Choice::None, Choice::One)
}

fn ballot(voter: &str, option: Option<u32>) -> Ballot {
    Ballot {
        voter: voter.to_owned(),
        choice: one(option),
        seq: None,
        entry: None,
        admission: Default::default(),
    }
}

fn numbered(voter: &str, option: Option<u32>, seq: u64) -> Ballot {
    Ballot {
        seq: Some(seq),
        ..ballot(voter, option)
    }
}

fn entered(voter: &str, option: Option<u32>, entry: u64) -> Ballot {
    Ballot {
        entry: Some(entry),
        ..ballot(voter, option)
    }
}

/// A stored [`Sequence`] with a `seq` and no entry.
fn at_seq(seq: i64) -> Sequence {
    Sequence {
        seq: Some(seq),
        entry: 0,
    }
}

fn did(changed: bool, choice: Option<u32>) -> Result<BallotResult, StoreError> {
    Ok(BallotResult {
        changed,
        superseded: false,
        choice: one(choice),
    })
}

fn superseded(choice: Option<u32>) -> Result<BallotResult, StoreError> {
    Ok(BallotResult {
        changed: false,
        superseded: true,
        choice: one(choice),
    })
}

#[test]
fn ballots_apply_in_order_and_only_the_net_change_is_written() {
    let previous = Previous {
        choices: HashMap::from([
            ("old".to_owned(), Choice::One(0)),
            ("leaver".to_owned(), Choice::One(1)),
        ]),
        seqs: HashMap::new(),
    };
    let ballots = [
        ballot("new", Some(2)),
        ballot("old", Some(0)),   // unchanged
        ballot("old", Some(1)),   // moves
        ballot("twice", Some(0)), // votes, then changes its mind
        ballot("twice", Some(1)),
        ballot("leaver", None),  // withdraws
        ballot("bad", Some(3)),  // out of range
        ballot("nobody", None),  // withdraws nothing
        ballot("back", Some(0)), // votes and withdraws again: nothing to write
        ballot("back", None),
    ];
    let plan = plan(single(3), &previous, &ballots);
    assert_eq!(
        plan.results,
        vec![
            did(true, Some(2)),
            did(false, Some(0)),
            did(true, Some(1)),
            did(true, Some(0)),
            did(true, Some(1)),
            did(true, None),
            Err(StoreError::OptionOutOfRange { options: 3 }),
            did(false, None),
            did(true, Some(0)),
            did(true, None),
        ]
    );
    assert_eq!(plan.changes, 7);
    assert_eq!(
        plan.upserts,
        vec![
            ("new".to_owned(), Choice::One(2)),
            ("old".to_owned(), Choice::One(1)),
            ("twice".to_owned(), Choice::One(1))
        ]
    );
    assert_eq!(plan.deletes, vec!["leaver".to_owned()]);
    // old: 0 -> 1, leaver: 1 -> gone, new: +2, twice: +1.
    assert_eq!(plan.deltas, vec![-1, 1, 1]);
    assert_eq!(plan.total_delta, 1);
    assert!(plan.seqs.is_empty(), "no ballot sent a seq");
}

#[test]
fn a_ballot_with_a_seq_no_higher_than_the_last_applies_nothing_and_says_what_stands() {
    let previous = Previous {
        choices: HashMap::from([
            ("late".to_owned(), Choice::One(1)),
            ("withdrew".to_owned(), Choice::One(0)),
        ]),
        seqs: HashMap::from([("late".to_owned(), at_seq(7))]),
    };
    let ballots = [
        numbered("late", Some(0), 5), // the retry of an older choice: too late
        numbered("late", Some(0), 7), // the same seq again: a repeat, not applied
        numbered("fresh", Some(0), 1),
        numbered("fresh", Some(1), 3),
        numbered("fresh", Some(0), 2), // reordered behind seq 3
        numbered("withdrew", None, 4),
        numbered("withdrew", Some(0), 2), // an older vote after the withdrawal
        numbered("same", Some(2), 9),     // no vote before: counts, seq stored
        ballot("unnumbered", Some(1)),
    ];
    let plan = plan(single(3), &previous, &ballots);
    assert_eq!(
        plan.results,
        vec![
            superseded(Some(1)),
            superseded(Some(1)),
            did(true, Some(0)),
            did(true, Some(1)),
            superseded(Some(1)),
            did(true, None),
            superseded(None),
            did(true, Some(2)),
            did(true, Some(1)),
        ]
    );
    assert_eq!(plan.changes, 5);
    let mut seqs = plan.seqs.clone();
    seqs.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seqs,
        vec![
            ("fresh".to_owned(), at_seq(3)),
            ("same".to_owned(), at_seq(9)),
            ("withdrew".to_owned(), at_seq(4))
        ]
    );
    assert_eq!(plan.deletes, vec!["withdrew".to_owned()]);
    assert_eq!(plan.deltas, vec![-1, 2, 1]);
}

#[test]
fn a_higher_seq_that_repeats_the_choice_still_raises_the_stored_seq() {
    let previous = Previous {
        choices: HashMap::from([("v".to_owned(), Choice::One(1))]),
        seqs: HashMap::from([("v".to_owned(), at_seq(2))]),
    };
    let plan = plan(single(2), &previous, &[numbered("v", Some(1), 6)]);
    assert_eq!(plan.results, vec![did(false, Some(1))]);
    assert_eq!(
        (plan.changes, plan.seqs.clone()),
        (0, vec![("v".to_owned(), at_seq(6))])
    );
    assert!(plan.upserts.is_empty() && plan.deletes.is_empty());
}

#[test]
fn without_a_seq_the_stream_orders_a_voters_ballots_and_an_entry_applies_once() {
    let previous = Previous {
        choices: HashMap::from([("again".to_owned(), Choice::One(2))]),
        seqs: HashMap::from([(
            "again".to_owned(),
            Sequence {
                seq: None,
                entry: 40,
            },
        )]),
    };
    let ballots = [
        entered("again", Some(0), 40), // committed before, its ack lost: no-op
        entered("again", Some(1), 30), // claimed after a later one: too late
        entered("abc", Some(0), 10),
        entered("abc", Some(2), 30), // a second worker committed C first
        entered("abc", Some(1), 20), // then B, claimed late: C stands
    ];
    let plan = plan(single(3), &previous, &ballots);
    assert_eq!(
        plan.results,
        vec![
            superseded(Some(2)),
            superseded(Some(2)),
            did(true, Some(0)),
            did(true, Some(2)),
            superseded(Some(2)),
        ]
    );
    let stored = Sequence {
        seq: None,
        entry: 30,
    };
    assert_eq!(plan.seqs, vec![("abc".to_owned(), stored)]);
    assert_eq!(plan.upserts, vec![("abc".to_owned(), Choice::One(2))]);
}

#[test]
fn a_seq_orders_ballots_whatever_their_entries_and_entries_are_kept_beside_it() {
    let previous = Previous {
        choices: HashMap::new(),
        seqs: HashMap::from([("v".to_owned(), at_seq(5))]),
    };
    let ballots = [
        // Appended later by a slower node, but the client's newer choice.
        Ballot {
            seq: Some(7),
            ..entered("v", Some(1), 50)
        },
        // The client's older choice, appended earlier: its seq is lower.
        Ballot {
            seq: Some(6),
            ..entered("v", Some(0), 60)
        },
        // A script's ballot without a seq, older than an entry handled: too late.
        entered("v", Some(2), 55),
    ];
    let plan = plan(single(3), &previous, &ballots);
    assert_eq!(
        plan.results,
        vec![did(true, Some(1)), superseded(Some(1)), superseded(Some(1))]
    );
    let stored = Sequence {
        seq: Some(7),
        entry: 60,
    };
    assert_eq!(plan.seqs, vec![("v".to_owned(), stored)]);
}

#[test]
fn placeholders_follow_the_backend() {
    assert_eq!(placeholders(Params::Question, 2, 3, 1), "?, ?, ?");
    assert_eq!(placeholders(Params::Numbered, 2, 3, 1), "$2, $3, $4");
    assert_eq!(
        placeholders(Params::Numbered, 1, 2, 2),
        "($1, $2), ($3, $4)"
    );
    let sql = BatchSql::new(
        Params::Numbered,
        [
            (Batched::SelectPrevious, "IN ({voters})"),
            (Batched::Delete, "DELETE ({voters})"),
            (Batched::Upsert, "VALUES {rows}"),
            (Batched::AddToCounts, "COUNTS {rows}"),
            (Batched::SelectSeqs, "SEQS ({voters})"),
            (Batched::UpsertSeqs, "SET SEQS {rows}"),
            (Batched::SelectVersions, "VERSIONS ({polls})"),
        ],
    );
    assert_eq!(
        sql.get(Batched::SelectPrevious, 4).as_str(),
        "IN ($2, $3, $4, $5)"
    );
    assert_eq!(
        sql.get(Batched::Upsert, 1).as_str(),
        "VALUES ($1, $2, $3, $4, $5, $6)"
    );
    assert_eq!(
        sql.get(Batched::AddToCounts, 2).as_str(),
        "COUNTS ($1, $2, $3), ($4, $5, $6)"
    );
    assert_eq!(
        sql.get(Batched::SelectVersions, 2).as_str(),
        "VERSIONS ($1, $2)"
    );
}

#[test]
fn chunks_are_padded_to_powers_of_two() {
    let items: Vec<u32> = (0..(MAX_ROWS + 37) as u32).collect();
    let chunks: Vec<Vec<&u32>> = padded_chunks(&items).collect();
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].len(), MAX_ROWS);
    assert_eq!(chunks[1].len(), 64);
    let first = MAX_ROWS as u32;
    assert_eq!(*chunks[1][36], first + 36);
    assert!(
        chunks[1][37..].iter().all(|item| **item == first),
        "padded with the first"
    );
}

#[test]
fn a_multiple_choice_ballot_moves_each_option_of_its_set() {
    let shape = Shape {
        options: 4,
        max_choices: 2,
    };
    let previous = Previous {
        choices: HashMap::from([
            ("mover".to_owned(), Choice::Set(0b0011)),
            ("leaver".to_owned(), Choice::Set(0b1000)),
        ]),
        seqs: HashMap::new(),
    };
    let ballots = [
        Ballot {
            choice: Choice::Set(0b0110),
            ..ballot("mover", None)
        },
        ballot("leaver", None),
        Ballot {
            choice: Choice::Set(0b1001),
            ..ballot("new", None)
        },
        ballot("single", Some(2)), // one option of a multiple-choice poll: a set of one
        Ballot {
            choice: Choice::Set(0b0111),
            ..ballot("greedy", None)
        },
    ];
    let plan = plan(shape, &previous, &ballots);
    assert_eq!(plan.results[4], Err(StoreError::TooManyChoices { max: 2 }));
    assert_eq!(
        plan.results[3],
        Ok(BallotResult {
            changed: true,
            superseded: false,
            choice: Choice::Set(0b0100),
        })
    );
    // mover: {0,1} -> {1,2}; leaver: -{3}; new: +{0,3}; single: +{2}.
    assert_eq!(plan.deltas, vec![0, 0, 2, 0]);
    assert_eq!(plan.total_delta, 1, "new and single in, leaver out");
    assert_eq!(plan.changes, 4);
    assert_eq!(
        plan.upserts,
        vec![
            ("mover".to_owned(), Choice::Set(0b0110)),
            ("new".to_owned(), Choice::Set(0b1001)),
            ("single".to_owned(), Choice::Set(0b0100)),
        ]
    );
    assert_eq!(plan.deletes, vec!["leaver".to_owned()]);
}
