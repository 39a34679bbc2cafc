//! The vote transaction, on every backend, for a batch of ballots on one poll:
//! 1. lock the poll's row and its tally's (`FOR UPDATE`; SQLite's `BEGIN IMMEDIATE`
//!    locks the database), reading the tally, and check the poll is open at `now`;
//! 2. read the voters' current votes under that lock: on MySQL `rows_affected` cannot
//!    tell an insert from an unchanged upsert, so changes are derived from these rows;
//!    (and, when a ballot carries a `seq` or an ingest `entry`, where the voters'
//!    ballots stand: [`Sequence`]);
//! 3. apply the ballots in order in Rust ([`plan`]): per-ballot answers, the net rows
//!    to write and the net change of each option's count;
//! 4. write the vote rows, then move the tally with one atomic statement for every
//!    option that moved (`count = count + delta`), never read-then-write;
//! 5. raise the poll's version by the number of ballots that changed a choice, and
//!    commit; the tally read in step 1 plus the plan's changes is the new tally.
//!
//! Seven round trips per batch whatever its size (eight with withdrawals, two more
//! when ballots carry a `seq` or an `entry`), all under
//! the poll's lock, which is what bounds the votes per second on one poll. The lists
//! are cut and padded to powers of two ([`padded_chunks`]), so a connection prepares
//! a handful of statements, not one per batch size.

use std::collections::HashMap;

use sqlx::{ColumnIndex, Decode, Encode, Executor, Type};
use votewire_proto::Tally;

use super::batch::{Batched, Previous, Sequence, Shape, padded_chunks, plan};
use super::rows::{results_visibility, voting_mode};
use super::{Dialect, SqlStore};
use crate::store::{Ballot, BallotResult, BatchOutcome, Choice, StoreError, VoteBatch, to_millis};

/// `ballot_seqs.seq` of a voter who sent an ingest entry but no `seq` yet (the column
/// predates entries and is not nullable; a client's seq is never negative).
const NO_SEQ: i64 = -1;

/// One row per option: `(option_count, closed_at, closes_at, version, total, count,
/// mode, paused, results, max_choices)`.
type GateRow = (
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    i64,
    String,
    i64,
    String,
    i64,
);

/// The bounds of the `Store` impl in `mod.rs` (see "The bounds" there).
impl<DB: Dialect> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    for<'v> i64: Type<DB> + Encode<'v, DB> + Decode<'v, DB>,
    for<'v> Option<i64>: Encode<'v, DB>,
    for<'v> Option<&'v str>: Encode<'v, DB>,
    for<'v> &'v str: Type<DB> + Encode<'v, DB>,
    for<'v> String: Type<DB> + Decode<'v, DB>,
{
    /// Commits `batch` in one transaction (see the module docs).
    pub(super) async fn commit_batch(&self, batch: VoteBatch) -> Result<BatchOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = batch.poll.as_str();
        // Every row this transaction changes is locked here, so the tally read now plus
        // the plan's changes is the tally at the commit.
        let gate: Vec<GateRow> = sqlx::query_as(DB::SQL.lock_poll)
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| self.write_error(e))?;
        let Some(first) = gate.first() else {
            return Err(StoreError::PollNotFound);
        };
        let (
            option_count,
            closed_at,
            closes_at,
            version,
            total,
            _,
            mode,
            paused,
            results,
            max_choices,
        ) = first;
        let visibility = results_visibility(results)?;
        let (version, total) = (*version, *total);
        let shape = Shape {
            options: *option_count as u32,
            max_choices: *max_choices as u32,
        };
        let now = to_millis(batch.now);
        if closed_at.is_some() || closes_at.is_some_and(|at| at <= now) {
            return Err(StoreError::PollClosed);
        }
        if *paused != 0 {
            return Err(StoreError::PollPaused);
        }
        let before = Tally {
            version: version as u64,
            counts: gate.iter().map(|row| row.5 as u64).collect(),
            total: total as u64,
        };
        // Who may vote, where the poll is not open (admission.rs): the refused ballots
        // stay out of the plan, and keep their place among the answers.
        let refusals = self
            .admit(&mut tx, id, voting_mode(mode)?, &batch.ballots)
            .await?;
        let admitted: Vec<Ballot> = batch
            .ballots
            .iter()
            .zip(&refusals)
            .filter(|(_, refusal)| refusal.is_none())
            .map(|(ballot, _)| ballot.clone())
            .collect();
        // The voters' choices, read under the poll's lock: on MySQL `rows_affected`
        // cannot tell an insert from an unchanged upsert, so every change is derived
        // from these rows.
        let mut voters: Vec<&str> = admitted.iter().map(|b| b.voter.as_str()).collect();
        voters.sort_unstable();
        voters.dedup();
        let rows: Vec<(String, i64, Option<i64>)> = self
            .select_by_voter(&mut tx, Batched::SelectPrevious, id, &voters)
            .await?;
        let choices: HashMap<String, Choice> = rows
            .into_iter()
            .map(|(voter, option, bits)| (voter, Choice::from_row(option, bits)))
            .collect();
        let seqs = if admitted
            .iter()
            .any(|b| b.seq.is_some() || b.entry.is_some())
        {
            let rows: Vec<(String, i64, i64)> = self
                .select_by_voter(&mut tx, Batched::SelectSeqs, id, &voters)
                .await?;
            rows.into_iter()
                .map(|(voter, seq, entry)| {
                    let seq = (seq != NO_SEQ).then_some(seq);
                    (voter, Sequence { seq, entry })
                })
                .collect()
        } else {
            HashMap::new()
        };
        let previous = Previous { choices, seqs };
        let mut plan = plan(shape, &previous, &admitted);
        plan.results = with_refusals(plan.results, refusals);
        if plan.changes == 0 && plan.seqs.is_empty() {
            // Repeats, superseded ballots and refusals only: nothing to write.
            tx.commit().await.map_err(|e| self.write_error(e))?;
            return Ok(BatchOutcome {
                results: plan.results,
                tally: before,
                visibility,
            });
        }
        for chunk in padded_chunks(&plan.seqs) {
            let mut query = sqlx::query(self.batch_sql.get(Batched::UpsertSeqs, chunk.len()));
            for (voter, sequence) in chunk {
                query = query
                    .bind(id)
                    .bind(voter.as_str())
                    .bind(sequence.seq.unwrap_or(NO_SEQ))
                    .bind(sequence.entry);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(|e| self.write_error(e))?;
        }
        for chunk in padded_chunks(&plan.deletes) {
            let mut query = sqlx::query(self.batch_sql.get(Batched::Delete, chunk.len())).bind(id);
            for voter in chunk {
                query = query.bind(voter.as_str());
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(|e| self.write_error(e))?;
        }
        for chunk in padded_chunks(&plan.upserts) {
            let mut query = sqlx::query(self.batch_sql.get(Batched::Upsert, chunk.len()));
            for (voter, choice) in chunk {
                let (option, bits) = choice.to_row().expect("an upsert holds a vote");
                query = query
                    .bind(id)
                    .bind(voter.as_str())
                    .bind(option)
                    .bind(bits)
                    .bind(batch.node.as_str())
                    .bind(now);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(|e| self.write_error(e))?;
        }
        // One atomic statement for every option that moved, `count + delta`, never
        // read-then-write.
        let moved: Vec<(i64, i64)> = plan
            .deltas
            .iter()
            .enumerate()
            .filter(|(_, delta)| **delta != 0)
            .map(|(option, delta)| (option as i64, *delta))
            .collect();
        if !moved.is_empty() {
            let mut query = sqlx::query(self.batch_sql.get(Batched::AddToCounts, moved.len()));
            for (option, delta) in moved {
                query = query.bind(id).bind(option).bind(delta);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(|e| self.write_error(e))?;
        }
        sqlx::query(DB::SQL.bump_version)
            .bind(plan.changes as i64)
            .bind(plan.total_delta)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.write_error(e))?;
        tx.commit().await.map_err(|e| self.write_error(e))?;
        Ok(BatchOutcome {
            tally: plan.tally_after(&before),
            results: plan.results,
            visibility,
        })
    }

    /// The rows of `which` (a per-voter select) for `voters` of poll `id`.
    async fn select_by_voter<Row>(
        &self,
        tx: &mut sqlx::Transaction<'static, DB>,
        which: Batched,
        id: &str,
        voters: &[&str],
    ) -> Result<Vec<Row>, StoreError>
    where
        Row: for<'r> sqlx::FromRow<'r, DB::Row> + Send + Unpin,
    {
        let mut found = Vec::new();
        for chunk in padded_chunks(voters) {
            let sql = self.batch_sql.get(which, chunk.len());
            let mut query = sqlx::query_as::<_, Row>(sql).bind(id);
            for voter in chunk {
                query = query.bind(*voter);
            }
            let rows = query
                .fetch_all(&mut **tx)
                .await
                .map_err(|e| self.write_error(e))?;
            found.extend(rows);
        }
        Ok(found)
    }
}

/// The answers of every ballot in order: the plan's for the admitted ones, the refusal
/// for the others.
fn with_refusals(
    planned: Vec<Result<BallotResult, StoreError>>,
    refusals: Vec<Option<StoreError>>,
) -> Vec<Result<BallotResult, StoreError>> {
    let mut planned = planned.into_iter();
    refusals
        .into_iter()
        .map(|refusal| match refusal {
            Some(refusal) => Err(refusal),
            None => planned
                .next()
                .expect("one planned answer per admitted ballot"),
        })
        .collect()
}
