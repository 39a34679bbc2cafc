//! Creating a poll, once per Idempotency-Key: the key's record and the poll go in one
//! transaction, and the key is the record's primary key, so two requests with one key
//! (a retry racing its original, on two nodes) cannot both create: the second insert
//! waits for the first transaction and then fails as a duplicate, and the request
//! answers the poll the first one made. Keys past their retention are deleted by the
//! creations that follow, in the same transaction.

use sqlx::{ColumnIndex, Decode, Encode, Executor, Transaction, Type};
use votewire_proto::PollId;

use super::{Dialect, SqlStore, store_error};
use crate::store::{Creation, IdempotencyKey, PollRecord, StoreError, to_millis};

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
    /// Stores `poll`, unless `key` made a poll already (see the module docs).
    pub(super) async fn create(
        &self,
        poll: &PollRecord,
        key: Option<&IdempotencyKey>,
    ) -> Result<Creation, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(key) = key {
            let recorded = sqlx::query(DB::SQL.insert_idempotency_key)
                .bind(key.key.as_str())
                .bind(key.request_hash.as_str())
                .bind(poll.id.as_str())
                .bind(to_millis(poll.created_at))
                .execute(&mut *tx)
                .await;
            match recorded {
                Ok(_) => {}
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    tx.rollback().await.map_err(|e| self.write_error(e))?;
                    return self.replay(key).await;
                }
                Err(e) => return Err(self.write_error(e)),
            }
            sqlx::query(DB::SQL.forget_idempotency_keys)
                .bind(to_millis(key.forget_before))
                .execute(&mut *tx)
                .await
                .map_err(|e| self.write_error(e))?;
        }
        self.insert_poll(&mut tx, poll).await?;
        tx.commit().await.map_err(|e| self.write_error(e))?;
        Ok(Creation::Created)
    }

    /// The poll and its tally rows at zero.
    async fn insert_poll(
        &self,
        tx: &mut Transaction<'static, DB>,
        poll: &PollRecord,
    ) -> Result<(), StoreError> {
        let options = serde_json::to_string(&poll.options).expect("strings serialize");
        sqlx::query(DB::SQL.insert_poll)
            .bind(poll.id.as_str())
            .bind(poll.question.as_str())
            .bind(options.as_str())
            .bind(poll.options.len() as i64)
            .bind(to_millis(poll.created_at))
            .bind(poll.closes_at.map(to_millis))
            .bind(poll.mode.as_str())
            .bind(poll.join_code.as_deref())
            .bind(i64::from(poll.listed))
            .bind(poll.results.as_str())
            .bind(i64::from(poll.max_choices))
            .execute(&mut **tx)
            .await
            .map_err(|e| match e {
                // The id is random over 62 bits: the join code is what another poll has.
                sqlx::Error::Database(e) if e.is_unique_violation() => StoreError::Taken,
                e => self.write_error(e),
            })?;
        for index in 0..poll.options.len() as i64 {
            sqlx::query(DB::SQL.insert_tally_row)
                .bind(poll.id.as_str())
                .bind(index)
                .execute(&mut **tx)
                .await
                .map_err(|e| self.write_error(e))?;
        }
        Ok(())
    }

    /// What `key` made, read on the writer: a replica may not hold the poll yet.
    async fn replay(&self, key: &IdempotencyKey) -> Result<Creation, StoreError> {
        let mut tx = self.writer.begin().await.map_err(store_error::<DB>)?;
        let made: Option<(String, String)> = sqlx::query_as(DB::SQL.select_idempotency_key)
            .bind(key.key.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error::<DB>)?;
        let Some((request_hash, poll)) = made else {
            // Forgotten between the duplicate and this read: past its retention anyway.
            return Err(StoreError::Unavailable(
                "the Idempotency-Key's record expired while it was read; retry".into(),
            ));
        };
        if request_hash != key.request_hash {
            return Ok(Creation::KeyReused);
        }
        let id =
            PollId::parse(poll).map_err(|e| StoreError::Other(format!("stored poll id: {e}")))?;
        let state = Self::read_state(&mut tx, &id).await?;
        tx.rollback().await.map_err(store_error::<DB>)?;
        Ok(Creation::Replayed(state))
    }
}
