//! The owner's changes to a poll: close, reopen, reset, pause and resume, and who sees
//! its results. Each is one write transaction that takes the poll's row first, as a vote's
//! does; all but close raise the version, so the change travels with the tally
//! (docs/architecture.md).

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Encode, Executor, Transaction, Type};
use votewire_proto::{PollId, ResultsVisibility};

use super::dialect::RowsAffected;
use super::{Dialect, SqlStore};
use crate::store::{PollState, StoreError, to_millis};

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
    /// See [`crate::store::Store::close`].
    pub(super) async fn close_poll(
        &self,
        id: &PollId,
        now: DateTime<Utc>,
    ) -> Result<(bool, PollState), StoreError> {
        let mut tx = self.begin_write().await?;
        let now_ms = to_millis(now);
        let closed = sqlx::query(DB::SQL.close_poll)
            .bind(now_ms)
            .bind(id.as_str())
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.write_error(e))?;
        let closed = closed.rows_affected() == 1;
        let state = Self::read_state(&mut tx, id).await?;
        tx.commit().await.map_err(|e| self.write_error(e))?;
        Ok((closed, state))
    }

    /// See [`crate::store::Store::reopen`].
    pub(super) async fn reopen_poll(
        &self,
        id: &PollId,
        now: DateTime<Utc>,
    ) -> Result<PollState, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(DB::SQL.reopen_poll)
            .bind(id.as_str())
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.write_error(e))?;
        // Reopened or open already (answered as it is); still closed: past its time.
        still_open(self.read_and_commit(tx, id).await?, now)
    }

    /// See [`crate::store::Store::reset`].
    pub(super) async fn reset_poll(
        &self,
        id: &PollId,
        now: DateTime<Utc>,
    ) -> Result<PollState, StoreError> {
        let mut tx = self.begin_write().await?;
        let reset = sqlx::query(DB::SQL.reset_poll)
            .bind(id.as_str())
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.write_error(e))?;
        if reset.rows_affected() == 0 {
            // Missing (the read says so) or closed.
            let state = Self::read_state(&mut tx, id).await?;
            let closed = state.poll.closed_at(now).is_some();
            return Err(if closed {
                StoreError::PollClosed
            } else {
                StoreError::Other(format!("poll {id} was not reset"))
            });
        }
        for statement in [DB::SQL.reset_counts, DB::SQL.reset_votes] {
            sqlx::query(statement)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| self.write_error(e))?;
        }
        self.read_and_commit(tx, id).await
    }

    /// See [`crate::store::Store::pause`].
    pub(super) async fn pause_poll(
        &self,
        id: &PollId,
        paused: bool,
        now: DateTime<Utc>,
    ) -> Result<PollState, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(DB::SQL.set_paused)
            .bind(i64::from(paused))
            .bind(id.as_str())
            .bind(i64::from(paused))
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.write_error(e))?;
        // Changed or not (it was so already), the poll as it is now; closed refuses.
        still_open(self.read_and_commit(tx, id).await?, now)
    }

    /// See [`crate::store::Store::set_results`].
    pub(super) async fn set_poll_results(
        &self,
        id: &PollId,
        results: ResultsVisibility,
    ) -> Result<PollState, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(DB::SQL.set_results)
            .bind(results.as_str())
            .bind(id.as_str())
            .bind(results.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.write_error(e))?;
        // Changed or not (it was so already), the poll as it is now.
        self.read_and_commit(tx, id).await
    }

    /// Reads the poll as the transaction leaves it, then commits: what an owner's
    /// change answers.
    async fn read_and_commit(
        &self,
        mut tx: Transaction<'static, DB>,
        id: &PollId,
    ) -> Result<PollState, StoreError> {
        let state = Self::read_state(&mut tx, id).await?;
        tx.commit().await.map_err(|e| self.write_error(e))?;
        Ok(state)
    }
}

/// `state` when its poll is still open at `now`; a closed poll refuses the change.
fn still_open(state: PollState, now: DateTime<Utc>) -> Result<PollState, StoreError> {
    match state.poll.closed_at(now) {
        Some(_) => Err(StoreError::PollClosed),
        None => Ok(state),
    }
}
