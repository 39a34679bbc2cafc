//! Reading a poll and its tally back: the row every poll query selects, the snapshot
//! read that [`SqlStore`]'s reads and `close` share, and the versions of many polls.

use sqlx::{ColumnIndex, Decode, Encode, Executor, Type};
use votewire_proto::{PollId, ResultsVisibility, Tally, VotingMode};

use super::batch::{Batched, padded_chunks};
use super::{Dialect, SqlStore, store_error};
use crate::store::{
    Choice, PollRecord, PollState, PollVersion, StoreError, StoredVote, from_millis,
};

/// A poll row: id, question, options (JSON), created_at, closes_at, closed_at, version,
/// total, mode, join_code, listed, paused, results, max_choices.
pub(super) type PollRow = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    String,
    Option<String>,
    i64,
    i64,
    String,
    i64,
);

/// Turns a stored row into a record, its version and its total.
pub(super) fn record(row: PollRow) -> Result<(PollRecord, i64, i64), StoreError> {
    let (
        id,
        question,
        options,
        created_at,
        closes_at,
        closed_at,
        version,
        total,
        mode,
        join_code,
        listed,
        paused,
        results,
        max_choices,
    ) = row;
    let id = PollId::parse(id).map_err(|e| StoreError::Other(format!("stored poll id: {e}")))?;
    let options: Vec<String> = serde_json::from_str(&options)
        .map_err(|e| StoreError::Other(format!("stored options of {id}: {e}")))?;
    let poll = PollRecord {
        id,
        question,
        options,
        created_at: from_millis(created_at),
        closes_at: closes_at.map(from_millis),
        closed_at: closed_at.map(from_millis),
        mode: voting_mode(&mode)?,
        join_code,
        listed: listed != 0,
        paused: paused != 0,
        results: results_visibility(&results)?,
        max_choices: max_choices as u32,
    };
    Ok((poll, version, total))
}

/// The mode of a stored name.
pub(super) fn voting_mode(name: &str) -> Result<VotingMode, StoreError> {
    VotingMode::parse(name).ok_or_else(|| StoreError::Other(format!("stored voting mode {name:?}")))
}

/// The results visibility of a stored name.
pub(super) fn results_visibility(name: &str) -> Result<ResultsVisibility, StoreError> {
    ResultsVisibility::parse(name)
        .ok_or_else(|| StoreError::Other(format!("stored results visibility {name:?}")))
}

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
    /// A page of the poll's votes after the voter id `after`.
    pub(super) async fn read_vote_page(
        &self,
        id: &PollId,
        after: &str,
        limit: u32,
    ) -> Result<Vec<StoredVote>, StoreError> {
        let rows: Vec<(String, i64, Option<i64>, String, i64)> =
            sqlx::query_as(DB::SQL.select_vote_page)
                .bind(id.as_str())
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(self.readers())
                .await
                .map_err(store_error::<DB>)?;
        Ok(rows
            .into_iter()
            .map(|(voter, option, bits, node, at)| StoredVote {
                voter,
                choice: Choice::from_row(option, bits),
                node,
                at: from_millis(at),
            })
            .collect())
    }

    /// The id of the poll with the join code `code`.
    pub(super) async fn read_poll_by_code(&self, code: &str) -> Result<PollId, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(DB::SQL.select_poll_by_code)
            .bind(code)
            .fetch_optional(self.readers())
            .await
            .map_err(store_error::<DB>)?;
        let (id,) = row.ok_or(StoreError::PollNotFound)?;
        PollId::parse(id).map_err(|e| StoreError::Other(format!("stored poll id: {e}")))
    }

    /// See [`crate::store::Store::has_vote`].
    pub(super) async fn read_has_vote(&self, id: &PollId, voter: &str) -> Result<bool, StoreError> {
        let (count,): (i64,) = sqlx::query_as(DB::SQL.select_has_vote)
            .bind(id.as_str())
            .bind(voter)
            .fetch_one(self.readers())
            .await
            .map_err(store_error::<DB>)?;
        Ok(count > 0)
    }

    /// A poll and its tally, read on `conn` (inside the caller's transaction, so the
    /// two are one snapshot).
    pub(super) async fn read_state(
        conn: &mut DB::Connection,
        id: &PollId,
    ) -> Result<PollState, StoreError> {
        let row: Option<PollRow> = sqlx::query_as(DB::SQL.select_poll)
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(store_error::<DB>)?;
        let (poll, version, total) = record(row.ok_or(StoreError::PollNotFound)?)?;
        let counts: Vec<(i64,)> = sqlx::query_as(DB::SQL.select_counts)
            .bind(id.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(store_error::<DB>)?;
        let tally = Tally {
            version: version as u64,
            counts: counts.into_iter().map(|(c,)| c as u64).collect(),
            total: total as u64,
        };
        Ok(PollState { poll, tally })
    }

    /// The version and closed state of each of `polls` that exists, on the readers:
    /// a statement per chunk of at most `MAX_ROWS` polls, padded like a vote batch.
    pub(super) async fn read_versions(
        &self,
        polls: &[PollId],
    ) -> Result<Vec<PollVersion>, StoreError> {
        let mut found = Vec::with_capacity(polls.len());
        for chunk in padded_chunks(polls) {
            let sql = self.batch_sql.get(Batched::SelectVersions, chunk.len());
            let mut query = sqlx::query_as::<_, (String, i64, Option<i64>)>(sql);
            for poll in &chunk {
                query = query.bind(poll.as_str());
            }
            let rows = query
                .fetch_all(self.readers())
                .await
                .map_err(store_error::<DB>)?;
            for (id, version, closed_at) in rows {
                let id = PollId::parse(id)
                    .map_err(|e| StoreError::Other(format!("stored poll id: {e}")))?;
                found.push(PollVersion {
                    id,
                    version: version as u64,
                    closed: closed_at.is_some(),
                });
            }
        }
        Ok(found)
    }
}
