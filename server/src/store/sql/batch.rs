//! Group commit, the storage half: what a batch of ballots on one poll writes, worked
//! out once in Rust ([`plan`]), and the SQL for batches of any size ([`BatchSql`]).
//!
//! A batch is one transaction however many ballots it holds, so a poll's row lock is
//! taken once and the database syncs its log once: on a busy poll that is the
//! difference between hundreds and thousands of votes per second.
//!
//! Ballots apply in order, as if committed one by one: a voter who votes twice in one
//! batch ends on the second choice, and the version rises by one for every ballot that
//! changed the voter's choice at its turn. Only the net change is written: one row per
//! voter, one statement per option whose count moved.

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use votewire_proto::Tally;

use crate::store::{Ballot, StoreError};

/// What a batch writes, and what each of its ballots did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Per ballot, in order: whether it changed the voter's choice, or why it was refused.
    pub(crate) results: Vec<Result<bool, StoreError>>,
    /// Voters whose row must now hold this option (inserted or updated).
    pub(crate) upserts: Vec<(String, i64)>,
    /// Voters whose row must go (withdrawn).
    pub(crate) deletes: Vec<String>,
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

/// Applies `ballots` in order to the choices the database holds (`previous`: voter ->
/// option, for the batch's voters that have a vote), on a poll of `option_count`
/// options.
pub(crate) fn plan(option_count: i64, previous: &HashMap<String, i64>, ballots: &[Ballot]) -> Plan {
    let mut current: HashMap<&str, Option<i64>> = HashMap::new();
    let mut touched: Vec<&str> = Vec::new();
    let mut plan = Plan {
        deltas: vec![0; option_count.max(0) as usize],
        ..Plan::default()
    };
    for ballot in ballots {
        let wanted = ballot.option.map(i64::from);
        if wanted.is_some_and(|o| o >= option_count) {
            plan.results.push(Err(StoreError::OptionOutOfRange {
                options: option_count as u32,
            }));
            continue;
        }
        let voter = ballot.voter.as_str();
        let choice = current
            .entry(voter)
            .or_insert_with(|| previous.get(voter).copied());
        if *choice == wanted {
            plan.results.push(Ok(false));
            continue;
        }
        if !touched.contains(&voter) {
            touched.push(voter);
        }
        *choice = wanted;
        plan.changes += 1;
        plan.results.push(Ok(true));
    }
    for voter in touched {
        let before = previous.get(voter).copied();
        let after = current[voter];
        if before == after {
            continue; // changed and changed back within the batch
        }
        if let Some(old) = before {
            plan.deltas[old as usize] -= 1;
        }
        match after {
            Some(new) => {
                plan.deltas[new as usize] += 1;
                plan.upserts.push((voter.to_owned(), new));
            }
            None => plan.deletes.push(voter.to_owned()),
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
    /// `(voter, option)` of a list of voters who have a vote.
    SelectPrevious,
    /// Deletes the votes of a list of voters.
    Delete,
    /// Inserts or updates rows of `(poll, voter, option, node, at)`; a repeated row is
    /// harmless.
    Upsert,
    /// Adds rows of `(poll, option, delta)` to the counts; no option twice.
    AddToCounts,
}

/// The templates of a backend's batch statements and their expansions so far:
/// `{voters}` becomes a list of voter parameters after the poll id, `{rows}` a list of
/// rows. Lists are padded to powers of two (see [`padded_chunks`]), so a connection
/// prepares a handful of statements, not one per batch size.
pub(crate) struct BatchSql {
    params: Params,
    templates: [(Batched, &'static str); 4],
    expanded: Mutex<HashMap<(Batched, usize), SqlStr>>,
}

impl BatchSql {
    /// A backend's templates, in its parameter style.
    pub(crate) fn new(params: Params, templates: [(Batched, &'static str); 4]) -> Self {
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
                    Batched::SelectPrevious | Batched::Delete => {
                        template.replace("{voters}", &placeholders(self.params, 2, n, 1))
                    }
                    Batched::Upsert => {
                        template.replace("{rows}", &placeholders(self.params, 1, n, 5))
                    }
                    Batched::AddToCounts => {
                        template.replace("{rows}", &placeholders(self.params, 1, n, 3))
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
mod tests {
    use super::*;

    fn ballot(voter: &str, option: Option<u32>) -> Ballot {
        Ballot {
            voter: voter.to_owned(),
            option,
        }
    }

    #[test]
    fn ballots_apply_in_order_and_only_the_net_change_is_written() {
        let previous = HashMap::from([("old".to_owned(), 0), ("leaver".to_owned(), 1)]);
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
        let plan = plan(3, &previous, &ballots);
        assert_eq!(
            plan.results,
            vec![
                Ok(true),
                Ok(false),
                Ok(true),
                Ok(true),
                Ok(true),
                Ok(true),
                Err(StoreError::OptionOutOfRange { options: 3 }),
                Ok(false),
                Ok(true),
                Ok(true),
            ]
        );
        assert_eq!(plan.changes, 7);
        assert_eq!(
            plan.upserts,
            vec![
                ("new".to_owned(), 2),
                ("old".to_owned(), 1),
                ("twice".to_owned(), 1)
            ]
        );
        assert_eq!(plan.deletes, vec!["leaver".to_owned()]);
        // old: 0 -> 1, leaver: 1 -> gone, new: +2, twice: +1.
        assert_eq!(plan.deltas, vec![-1, 1, 1]);
        assert_eq!(plan.total_delta, 1);
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
            ],
        );
        assert_eq!(
            sql.get(Batched::SelectPrevious, 4).as_str(),
            "IN ($2, $3, $4, $5)"
        );
        assert_eq!(
            sql.get(Batched::Upsert, 1).as_str(),
            "VALUES ($1, $2, $3, $4, $5)"
        );
        assert_eq!(
            sql.get(Batched::AddToCounts, 2).as_str(),
            "COUNTS ($1, $2, $3), ($4, $5, $6)"
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
}
