//! The storage flow, once for every backend: each backend names its SQL in a
//! [`Statements`] and invokes [`sql_store!`] to implement [`super::Store`].
//!
//! A macro rather than generic functions over `sqlx::Database`: the generic version
//! needs a dozen higher-ranked trait bounds per function (executors, encoders and
//! decoders for every column type), which hid the flow it was meant to share.
//!
//! The vote transaction, on every backend, for a batch of ballots on one poll:
//! 1. lock the poll's row and its tally's (`FOR UPDATE`; SQLite's `BEGIN IMMEDIATE`
//!    locks the database), reading the tally, and check the poll is open at `now`;
//! 2. read the voters' current votes under that lock: on MySQL `rows_affected` cannot
//!    tell an insert from an unchanged upsert, so changes are derived from these rows;
//! 3. apply the ballots in order in Rust ([`super::batch::plan`]): per-ballot answers,
//!    the net rows to write and the net change of each option's count;
//! 4. write the vote rows, then move the tally with one atomic statement for every
//!    option that moved (`count = count + delta`), never read-then-write;
//! 5. raise the poll's version by the number of ballots that changed a choice, and
//!    commit; the tally read in step 1 plus the plan's changes is the new tally.
//!
//! Seven round trips per batch whatever its size (eight with withdrawals), all under
//! the poll's lock, which is what bounds the votes per second on one poll.

use super::batch::{BatchSql, Batched, Params};

/// The SQL of one backend, in its own placeholder syntax. Integer columns are 64-bit
/// everywhere, so one set of Rust types decodes them all.
pub(crate) struct Statements {
    pub insert_poll: &'static str,
    pub insert_tally_row: &'static str,
    pub select_poll: &'static str,
    pub select_counts: &'static str,
    pub select_open_page: &'static str,
    /// The poll's gate and tally, one row per option: `(option_count, closed_at,
    /// closes_at, version, total, count)`, locking the poll's and its tally's rows for
    /// the rest of the transaction.
    pub lock_poll: &'static str,
    /// How the batch templates below write parameters.
    pub params: Params,
    /// The choices of a list of voters (`{voters}`), as `(voter, option)` rows.
    pub select_previous: &'static str,
    /// Deletes the votes of a list of voters (`{voters}`).
    pub delete_votes: &'static str,
    /// Inserts or updates `{rows}` of `(poll, voter, option, node, at)`.
    pub upsert_votes: &'static str,
    /// Adds `{rows}` of `(poll, option, delta)` to the tally, atomically.
    pub add_to_counts: &'static str,
    pub bump_version: &'static str,
    pub close_poll: &'static str,
    pub select_audit: &'static str,
    pub ping: &'static str,
    /// Sets the one heartbeat row to the writer's clock, in ms (bound once).
    pub write_heartbeat: &'static str,
    /// The heartbeat, in ms since the epoch.
    pub select_heartbeat: &'static str,
}

impl Statements {
    /// The batch statements for every bucket size, built once per store.
    pub fn batch_sql(&self) -> BatchSql {
        BatchSql::new(
            self.params,
            [
                (Batched::SelectPrevious, self.select_previous),
                (Batched::Delete, self.delete_votes),
                (Batched::Upsert, self.upsert_votes),
                (Batched::AddToCounts, self.add_to_counts),
            ],
        )
    }
}

/// Tries at migrating before giving up (see the `migrate` of [`sql_store!`]).
pub(crate) const MIGRATION_ATTEMPTS: u32 = 3;

/// A poll row: id, question, options (JSON), created_at, closes_at, closed_at, version, total.
pub(crate) type PollRow = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
);

/// Turns a stored row into a record, its version and its total.
pub(crate) fn record(row: PollRow) -> Result<(super::PollRecord, i64, i64), super::StoreError> {
    use super::{PollRecord, StoreError, from_millis};
    let (id, question, options, created_at, closes_at, closed_at, version, total) = row;
    let id = votewire_proto::PollId::parse(id)
        .map_err(|e| StoreError::Other(format!("stored poll id: {e}")))?;
    let options: Vec<String> = serde_json::from_str(&options)
        .map_err(|e| StoreError::Other(format!("stored options of {id}: {e}")))?;
    let poll = PollRecord {
        id,
        question,
        options,
        created_at: from_millis(created_at),
        closes_at: closes_at.map(from_millis),
        closed_at: closed_at.map(from_millis),
    };
    Ok((poll, version, total))
}

/// Implements [`super::Store`] for `$store`, whose `writer` and `readers` are pools of
/// `$db`, whose `batch_sql` holds `$sql.batch_sql()`, whose `write_error` maps the
/// errors of writes (noting a read-only server, see [`super::failover`]), whose `begin_write()` opens a write transaction, whose `lock_migrations()` and
/// `unlock_migrations()` keep other nodes out while it migrates, and whose `map_err`
/// turns `sqlx::Error` into [`super::StoreError`].
macro_rules! sql_store {
    ($store:ty, $db:ty, $sql:expr, $migrations:literal) => {
        impl $store {
            async fn read_state(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: &votewire_proto::PollId,
            ) -> Result<$crate::store::PollState, $crate::store::StoreError> {
                let row: Option<$crate::store::flow::PollRow> = sqlx::query_as($sql.select_poll)
                    .bind(id.as_str())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(map_err)?;
                let row = row.ok_or($crate::store::StoreError::PollNotFound)?;
                let (poll, version, total) = $crate::store::flow::record(row)?;
                let tally = Self::read_tally(conn, id, version, total).await?;
                Ok($crate::store::PollState { poll, tally })
            }

            async fn read_tally(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: &votewire_proto::PollId,
                version: i64,
                total: i64,
            ) -> Result<votewire_proto::Tally, $crate::store::StoreError> {
                let counts: Vec<(i64,)> = sqlx::query_as($sql.select_counts)
                    .bind(id.as_str())
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(map_err)?;
                Ok(votewire_proto::Tally {
                    version: version as u64,
                    counts: counts.into_iter().map(|(c,)| c as u64).collect(),
                    total: total as u64,
                })
            }

            async fn vote_batch_tx(
                &self,
                batch: $crate::store::VoteBatch,
            ) -> Result<$crate::store::BatchOutcome, $crate::store::StoreError> {
                use $crate::store::batch::{Batched, padded_chunks, plan};
                use $crate::store::{BatchOutcome, StoreError, to_millis};
                let mut tx = self.begin_write().await?;
                let id = batch.poll.as_str();
                // Every row this transaction changes is locked here, so the tally read
                // now plus the plan's changes is the tally at the commit.
                let gate: Vec<(i64, Option<i64>, Option<i64>, i64, i64, i64)> = sqlx::query_as($sql.lock_poll)
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(|e| self.write_error(e))?;
                let Some(&(option_count, closed_at, closes_at, version, total, _)) = gate.first() else {
                    return Err(StoreError::PollNotFound);
                };
                let now = to_millis(batch.now);
                if closed_at.is_some() || closes_at.is_some_and(|at| at <= now) {
                    return Err(StoreError::PollClosed);
                }
                let before = votewire_proto::Tally {
                    version: version as u64,
                    counts: gate.iter().map(|row| row.5 as u64).collect(),
                    total: total as u64,
                };
                // The voters' choices, read under the poll's lock: on MySQL
                // `rows_affected` cannot tell an insert from an unchanged upsert, so
                // every change is derived from these rows.
                let mut voters: Vec<&str> = batch.ballots.iter().map(|b| b.voter.as_str()).collect();
                voters.sort_unstable();
                voters.dedup();
                let mut previous = std::collections::HashMap::new();
                for chunk in padded_chunks(&voters) {
                    let sql = self.batch_sql.get(Batched::SelectPrevious, chunk.len());
                    let mut query = sqlx::query_as::<_, (String, i64)>(sql).bind(id);
                    for voter in chunk {
                        query = query.bind(*voter);
                    }
                    previous.extend(query.fetch_all(&mut *tx).await.map_err(|e| self.write_error(e))?);
                }
                let plan = plan(option_count, &previous, &batch.ballots);
                if plan.changes == 0 {
                    // Repeats and refusals only: nothing to write.
                    tx.commit().await.map_err(|e| self.write_error(e))?;
                    return Ok(BatchOutcome { results: plan.results, tally: before });
                }
                for chunk in padded_chunks(&plan.deletes) {
                    let mut query = sqlx::query(self.batch_sql.get(Batched::Delete, chunk.len())).bind(id);
                    for voter in chunk {
                        query = query.bind(voter);
                    }
                    query.execute(&mut *tx).await.map_err(|e| self.write_error(e))?;
                }
                for chunk in padded_chunks(&plan.upserts) {
                    let mut query = sqlx::query(self.batch_sql.get(Batched::Upsert, chunk.len()));
                    for (voter, option) in chunk {
                        query = query.bind(id).bind(voter).bind(*option).bind(batch.node.as_str()).bind(now);
                    }
                    query.execute(&mut *tx).await.map_err(|e| self.write_error(e))?;
                }
                // One atomic statement for every option that moved, `count + delta`,
                // never read-then-write.
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
                    query.execute(&mut *tx).await.map_err(|e| self.write_error(e))?;
                }
                sqlx::query($sql.bump_version)
                    .bind(plan.changes as i64)
                    .bind(plan.total_delta)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.write_error(e))?;
                tx.commit().await.map_err(|e| self.write_error(e))?;
                Ok(BatchOutcome { tally: plan.tally_after(&before), results: plan.results })
            }
        }

        impl $crate::store::Store for $store {
            fn migrate(&self) -> $crate::BoxFuture<'_, Result<(), $crate::store::StoreError>> {
                Box::pin(async move {
                    let lock = self.lock_migrations().await?;
                    let mut attempt = 1;
                    let migrated = loop {
                        match sqlx::migrate!($migrations).run(&self.writer).await {
                            Ok(()) => break Ok(()),
                            // Where no lock keeps another process out (SQLite), the loser
                            // of a race fails as a whole, and finds the work done next time.
                            Err(e) if attempt < $crate::store::flow::MIGRATION_ATTEMPTS => {
                                tracing::info!(error = %e, attempt, "migration attempt failed; retrying");
                                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                                attempt += 1;
                            }
                            Err(e) => {
                                break Err($crate::store::StoreError::Other(format!("migration failed: {e}")));
                            }
                        }
                    };
                    self.unlock_migrations(lock).await;
                    migrated
                })
            }

            fn create_poll<'a>(
                &'a self,
                poll: &'a $crate::store::PollRecord,
            ) -> $crate::BoxFuture<'a, Result<(), $crate::store::StoreError>> {
                Box::pin(async move {
                    let options = serde_json::to_string(&poll.options).expect("strings serialize");
                    let mut tx = self.begin_write().await?;
                    sqlx::query($sql.insert_poll)
                        .bind(poll.id.as_str())
                        .bind(&poll.question)
                        .bind(options)
                        .bind(poll.options.len() as i64)
                        .bind($crate::store::to_millis(poll.created_at))
                        .bind(poll.closes_at.map($crate::store::to_millis))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.write_error(e))?;
                    for index in 0..poll.options.len() as i64 {
                        sqlx::query($sql.insert_tally_row)
                            .bind(poll.id.as_str())
                            .bind(index)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| self.write_error(e))?;
                    }
                    tx.commit().await.map_err(|e| self.write_error(e))
                })
            }

            fn poll<'a>(
                &'a self,
                id: &'a votewire_proto::PollId,
            ) -> $crate::BoxFuture<'a, Result<$crate::store::PollState, $crate::store::StoreError>> {
                Box::pin(async move {
                    // One read transaction: the poll row and its tally rows are one snapshot.
                    let mut tx = self.readers.begin().await.map_err(map_err)?;
                    let state = Self::read_state(&mut tx, id).await;
                    tx.rollback().await.map_err(map_err)?;
                    state
                })
            }

            fn list_open<'a>(
                &'a self,
                now: chrono::DateTime<chrono::Utc>,
                limit: u32,
                after: Option<&'a $crate::store::ListCursor>,
            ) -> $crate::BoxFuture<'a, Result<Vec<($crate::store::PollRecord, u64)>, $crate::store::StoreError>> {
                Box::pin(async move {
                    let (before_ms, before_id) = match after {
                        Some(c) => ($crate::store::to_millis(c.created_at), c.id.as_str().to_owned()),
                        None => (i64::MAX, String::new()),
                    };
                    let rows: Vec<$crate::store::flow::PollRow> = sqlx::query_as($sql.select_open_page)
                        .bind($crate::store::to_millis(now))
                        .bind(before_ms)
                        .bind(before_ms)
                        .bind(before_id)
                        .bind(i64::from(limit))
                        .fetch_all(&self.readers)
                        .await
                        .map_err(map_err)?;
                    rows.into_iter()
                        .map(|row| $crate::store::flow::record(row).map(|(poll, _, total)| (poll, total as u64)))
                        .collect()
                })
            }

            fn vote_batch(
                &self,
                batch: $crate::store::VoteBatch,
            ) -> $crate::BoxFuture<'_, Result<$crate::store::BatchOutcome, $crate::store::StoreError>> {
                Box::pin(self.vote_batch_tx(batch))
            }

            fn close<'a>(
                &'a self,
                id: &'a votewire_proto::PollId,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::BoxFuture<'a, Result<(bool, $crate::store::PollState), $crate::store::StoreError>> {
                Box::pin(async move {
                    let mut tx = self.begin_write().await?;
                    let now_ms = $crate::store::to_millis(now);
                    let closed = sqlx::query($sql.close_poll)
                        .bind(now_ms)
                        .bind(id.as_str())
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.write_error(e))?
                        .rows_affected()
                        == 1;
                    let state = Self::read_state(&mut tx, id).await?;
                    tx.commit().await.map_err(|e| self.write_error(e))?;
                    Ok((closed, state))
                })
            }

            fn audit<'a>(
                &'a self,
                id: &'a votewire_proto::PollId,
            ) -> $crate::BoxFuture<'a, Result<(votewire_proto::Tally, Vec<votewire_proto::NodeVotes>), $crate::store::StoreError>> {
                Box::pin(async move {
                    use $crate::store::StoreError;
                    let mut tx = self.readers.begin().await.map_err(map_err)?;
                    let state = Self::read_state(&mut tx, id).await?;
                    let rows: Vec<(String, i64)> = sqlx::query_as($sql.select_audit)
                        .bind(id.as_str())
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    tx.rollback().await.map_err(map_err)?;
                    let nodes = rows
                        .into_iter()
                        .map(|(node, votes)| {
                            let node = votewire_proto::NodeId::parse(node)
                                .map_err(|e| StoreError::Other(format!("stored node id: {e}")))?;
                            Ok(votewire_proto::NodeVotes { node, votes: votes as u64 })
                        })
                        .collect::<Result<_, StoreError>>()?;
                    Ok((state.tally, nodes))
                })
            }

            fn ping(&self) -> $crate::BoxFuture<'_, Result<(), $crate::store::StoreError>> {
                Box::pin(async move {
                    sqlx::query($sql.ping).execute(&self.writer).await.map_err(map_err)?;
                    Ok(())
                })
            }

            fn write_heartbeat(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::BoxFuture<'_, Result<(), $crate::store::StoreError>> {
                Box::pin(async move {
                    sqlx::query($sql.write_heartbeat)
                        .bind($crate::store::to_millis(now))
                        .execute(&self.writer)
                        .await
                        .map_err(|e| self.write_error(e))?;
                    Ok(())
                })
            }

            fn heartbeat(
                &self,
            ) -> $crate::BoxFuture<'_, Result<chrono::DateTime<chrono::Utc>, $crate::store::StoreError>> {
                Box::pin(async move {
                    let beat: Option<(i64,)> = sqlx::query_as($sql.select_heartbeat)
                        .fetch_optional(&self.readers)
                        .await
                        .map_err(map_err)?;
                    Ok($crate::store::from_millis(beat.map_or(0, |(ms,)| ms)))
                })
            }
        }
    };
}

pub(crate) use sql_store;
