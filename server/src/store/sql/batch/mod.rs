//! Group commit, the storage half: what a batch of ballots on one poll writes, worked
//! out once in Rust ([`plan`]), and the SQL for batches of any size ([`BatchSql`]).
//!
//! A batch is one transaction however many ballots it holds, so a poll's row lock is
//! taken once and the database syncs its log once: on a busy poll that is the
//! difference between hundreds and thousands of votes per second.
//!
//! Ballots apply in order, as if committed one by one: a voter who votes twice in one
//! batch ends on the second choice, and the version rises by one for every ballot that
//! changed the voter's choice at its turn. A ballot with a `seq` no higher than the
//! voter's last applies nothing (a late retry of an older choice); so does a ballot
//! without a `seq` whose ingest `entry` is no later than the voter's last (an entry
//! committed twice, or claimed after a later one). Only the net change is written: one
//! row per voter, one statement per option whose count moved, one sequence row per
//! voter whose `seq` or `entry` rose.

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use votewire_proto::Tally;

use crate::store::{Ballot, BallotResult, Choice, StoreError};

/// What a batch writes, and what each of its ballots did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Per ballot, in order: what it did, or why it was refused.
    pub(crate) results: Vec<Result<BallotResult, StoreError>>,
    /// Voters whose row must now hold this choice (inserted or updated).
    pub(crate) upserts: Vec<(String, Choice)>,
    /// Voters whose row must go (withdrawn).
    pub(crate) deletes: Vec<String>,
    /// Voters whose last `seq` or `entry` rose, with both as they now stand.
    pub(crate) seqs: Vec<(String, Sequence)>,
    /// Net change of each option's count, indexed by option.
    pub(crate) deltas: Vec<i64>,
    /// Net change of the number of voters with a vote.
    pub(crate) total_delta: i64,
    /// Ballots that changed a choice: the version rises by this much.
    pub(crate) changes: u64,
}

impl Plan {
    /// The tally once the plan is written, from `before`, read under the poll's lock:
    /// nothing else changes the poll until the commit.
    pub(crate) fn tally_after(&self, before: &Tally) -> Tally {
        Tally {
            version: before.version + self.changes,
            counts: before
                .counts
                .iter()
                .zip(&self.deltas)
                .map(|(count, delta)| count.saturating_add_signed(*delta))
                .collect(),
            total: before.total.saturating_add_signed(self.total_delta),
        }
    }
}

/// What the database holds for the voters of a batch, read under the poll's lock.
#[derive(Debug, Default)]
pub(crate) struct Previous {
    /// Voter -> choice, for the voters that have a vote.
    pub(crate) choices: HashMap<String, Choice>,
    /// Voter -> the last `seq` applied and `entry` handled, for the voters that sent
    /// either.
    pub(crate) seqs: HashMap<String, Sequence>,
}

/// Where a voter's ballots on a poll stand: the last `seq` applied (`None`: none sent
/// yet) and the latest ingest `entry` handled (0: none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sequence {
    pub(crate) seq: Option<i64>,
    pub(crate) entry: i64,
}

/// One voter's state while the ballots apply.
#[derive(Clone, Copy)]
struct Current {
    choice: Choice,
    sequence: Sequence,
}

/// The shape of the poll a batch votes in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// Its number of options.
    pub(crate) options: u32,
    /// How many of them a voter may choose.
    pub(crate) max_choices: u32,
}

/// Applies `ballots` in order to what the database holds (`previous`), on a poll of
/// this `shape`.
pub(crate) fn plan(shape: Shape, previous: &Previous, ballots: &[Ballot]) -> Plan {
    let mut current: HashMap<&str, Current> = HashMap::new();
    let mut touched: Vec<&str> = Vec::new();
    let mut plan = Plan {
        deltas: vec![0; shape.options as usize],
        ..Plan::default()
    };
    for ballot in ballots {
        let wanted = match ballot.choice.for_poll(shape.options, shape.max_choices) {
            Ok(wanted) => wanted,
            Err(refused) => {
                plan.results.push(Err(refused));
                continue;
            }
        };
        let voter = ballot.voter.as_str();
        let now = current.entry(voter).or_insert_with(|| Current {
            choice: previous.choices.get(voter).copied().unwrap_or_default(),
            sequence: previous.seqs.get(voter).copied().unwrap_or_default(),
        });
        let seq = ballot.seq.map(|s| i64::try_from(s).unwrap_or(i64::MAX));
        let entry = ballot.entry.map(|e| i64::try_from(e).unwrap_or(i64::MAX));
        let before = now.sequence;
        // The client's seq orders its ballots; without one, the stream's order does.
        let superseded = match (seq, entry) {
            (Some(seq), _) => before.seq.is_some_and(|last| last >= seq),
            (None, Some(entry)) => before.entry >= entry,
            (None, None) => false,
        };
        let changed = !superseded && now.choice != wanted;
        if !superseded {
            now.sequence.seq = seq.or(before.seq);
            now.choice = wanted;
        }
        // An entry handled, applied or not, is never applied later.
        now.sequence.entry = before.entry.max(entry.unwrap_or(0));
        if (changed || now.sequence != before) && !touched.contains(&voter) {
            touched.push(voter);
        }
        plan.changes += u64::from(changed);
        plan.results.push(Ok(BallotResult {
            changed,
            superseded,
            choice: now.choice,
        }));
    }
    for voter in touched {
        let now = current[voter];
        if now.sequence != previous.seqs.get(voter).copied().unwrap_or_default() {
            plan.seqs.push((voter.to_owned(), now.sequence));
        }
        let before = previous.choices.get(voter).copied().unwrap_or_default();
        let after = now.choice;
        if before == after {
            continue; // unchanged, or changed and changed back within the batch
        }
        for old in before.options() {
            plan.deltas[old as usize] -= 1;
        }
        for new in after.options() {
            plan.deltas[new as usize] += 1;
        }
        if after.is_some() {
            plan.upserts.push((voter.to_owned(), after));
        } else {
            plan.deletes.push(voter.to_owned());
        }
        plan.total_delta += i64::from(after.is_some()) - i64::from(before.is_some());
    }
    plan
}

/// The most voters or rows one statement takes; longer lists are cut.
pub(crate) const MAX_ROWS: usize = 512;

/// How a backend writes bind parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Params {
    /// `?` (MySQL, SQLite).
    Question,
    /// `$1`, `$2`, .. (PostgreSQL). The poll id is always `$1` in a voter list.
    Numbered,
}

/// The batch statements, whose length depends on the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Batched {
    /// `(voter, option, choices)` of a list of voters who have a vote.
    SelectPrevious,
    /// Deletes the votes of a list of voters.
    Delete,
    /// Inserts or updates rows of `(poll, voter, option, choices, node, at)`; a repeated
    /// row is harmless.
    Upsert,
    /// Adds rows of `(poll, option, delta)` to the counts; no option twice.
    AddToCounts,
    /// `(voter, seq, entry)` of a list of voters who sent a `seq` or an `entry` before.
    SelectSeqs,
    /// Inserts or updates rows of `(poll, voter, seq, entry)`; a repeated row is
    /// harmless.
    UpsertSeqs,
    /// `(id, version, closed_at)` of a list of polls.
    SelectVersions,
}

/// The templates of a backend's batch statements and their expansions so far:
/// `{voters}` becomes a list of voter parameters after the poll id, `{rows}` a list of
/// rows. Lists are padded to powers of two (see [`padded_chunks`]), so a connection
/// prepares a handful of statements, not one per batch size.
pub(crate) struct BatchSql {
    params: Params,
    templates: [(Batched, &'static str); 7],
    expanded: Mutex<HashMap<(Batched, usize), SqlStr>>,
}

impl BatchSql {
    /// A backend's templates, in its parameter style.
    pub(crate) fn new(params: Params, templates: [(Batched, &'static str); 7]) -> Self {
        Self {
            params,
            templates,
            expanded: Mutex::new(HashMap::new()),
        }
    }

    /// The statement `which` for `n` voters or rows.
    pub(crate) fn get(&self, which: Batched, n: usize) -> SqlStr {
        let mut expanded = self.expanded.lock().expect("never poisoned");
        expanded
            .entry((which, n))
            .or_insert_with(|| {
                let template = self
                    .templates
                    .iter()
                    .find(|(kind, _)| *kind == which)
                    .map(|(_, template)| *template)
                    .expect("a template for every statement");
                let sql = match which {
                    Batched::SelectPrevious | Batched::Delete | Batched::SelectSeqs => {
                        template.replace("{voters}", &placeholders(self.params, 2, n, 1))
                    }
                    Batched::SelectVersions => {
                        template.replace("{polls}", &placeholders(self.params, 1, n, 1))
                    }
                    Batched::Upsert => {
                        template.replace("{rows}", &placeholders(self.params, 1, n, 6))
                    }
                    Batched::AddToCounts => {
                        template.replace("{rows}", &placeholders(self.params, 1, n, 3))
                    }
                    Batched::UpsertSeqs => {
                        template.replace("{rows}", &placeholders(self.params, 1, n, 4))
                    }
                };
                AssertSqlSafe(sql).into_sql_str()
            })
            .clone()
    }
}

/// `count` groups of `width` parameters, numbered from `first` when numbered:
/// `?, ?` or `($1, $2), ($3, $4)`.
fn placeholders(params: Params, first: usize, count: usize, width: usize) -> String {
    let mut next = first;
    let mut param = || {
        let p = match params {
            Params::Question => "?".to_owned(),
            Params::Numbered => format!("${next}"),
        };
        next += 1;
        p
    };
    (0..count)
        .map(|_| {
            let group: Vec<String> = (0..width).map(|_| param()).collect();
            if width == 1 {
                group.join(", ")
            } else {
                format!("({})", group.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cuts `items` into chunks of at most [`MAX_ROWS`], each padded up to a power of two
/// with repeats of its first item: a repeated voter in an `IN (..)` list matches
/// nothing more, and a repeated vote row sets the same choice again.
pub(crate) fn padded_chunks<T>(items: &[T]) -> impl Iterator<Item = Vec<&T>> {
    items.chunks(MAX_ROWS).map(|chunk| {
        let mut padded: Vec<&T> = chunk.iter().collect();
        padded.resize(chunk.len().next_power_of_two(), &chunk[0]);
        padded
    })
}

#[cfg(test)]
mod tests;
