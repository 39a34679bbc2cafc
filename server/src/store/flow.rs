//! The storage flow, once for every backend: each backend names its SQL in a
//! [`Statements`] and invokes [`sql_store!`] to implement [`super::Store`].
//!
//! A macro rather than generic functions over `sqlx::Database`: the generic version
//! needs a dozen higher-ranked trait bounds per function (executors, encoders and
//! decoders for every column type), which hid the flow it was meant to share.
//!
//! The vote transaction, on every backend:
//! 1. lock the poll row (`FOR UPDATE`; SQLite's `BEGIN IMMEDIATE` locks the database)
//!    and check it is open at the server's `now` and the option exists;
//! 2. read the voter's current vote under that lock: on MySQL `rows_affected` cannot
//!    tell an insert from an unchanged upsert, so changes are derived from this row;
//! 3. write the vote row, then move the tally with one atomic statement per option
//!    (`count = count + ?`), never read-then-write;
//! 4. bump the poll's version and total, read the whole tally, commit.

/// The SQL of one backend, in its own placeholder syntax. Integer columns are 64-bit
/// everywhere, so one set of Rust types decodes them all.
pub(crate) struct Statements {
    pub insert_poll: &'static str,
    pub insert_tally_row: &'static str,
    pub select_poll: &'static str,
    pub select_counts: &'static str,
    pub select_open_page: &'static str,
    /// The poll's gate, locking its row for the rest of the transaction.
    pub lock_poll: &'static str,
    pub select_voter_option: &'static str,
    pub insert_vote: &'static str,
    pub update_vote: &'static str,
    pub delete_vote: &'static str,
    pub add_to_count: &'static str,
    pub bump_version: &'static str,
    pub select_version_total: &'static str,
    pub close_poll: &'static str,
    pub select_audit: &'static str,
    pub ping: &'static str,
    /// Sets the one heartbeat row to the writer's clock, in ms (bound once).
    pub write_heartbeat: &'static str,
    /// The heartbeat, in ms since the epoch.
    pub select_heartbeat: &'static str,
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
/// `$db`, whose `begin_write()` opens a write transaction, whose `lock_migrations()` and
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

            async fn add_to_count(
                conn: &mut <$db as sqlx::Database>::Connection,
                poll: &str,
                option: i64,
                delta: i64,
            ) -> Result<(), $crate::store::StoreError> {
                sqlx::query($sql.add_to_count)
                    .bind(delta)
                    .bind(poll)
                    .bind(option)
                    .execute(&mut *conn)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn vote_tx(
                &self,
                cmd: $crate::store::VoteCommand,
            ) -> Result<$crate::store::VoteOutcome, $crate::store::StoreError> {
                use $crate::store::{StoreError, VoteOutcome, to_millis};
                let mut tx = self.begin_write().await?;
                let id = cmd.poll.as_str();
                let gate: Option<(i64, Option<i64>, Option<i64>)> =
                    sqlx::query_as($sql.lock_poll).bind(id).fetch_optional(&mut *tx).await.map_err(map_err)?;
                let (option_count, closed_at, closes_at) = gate.ok_or(StoreError::PollNotFound)?;
                let now = to_millis(cmd.now);
                if closed_at.is_some() || closes_at.is_some_and(|at| at <= now) {
                    return Err(StoreError::PollClosed);
                }
                if cmd.option.is_some_and(|o| i64::from(o) >= option_count) {
                    return Err(StoreError::OptionOutOfRange { options: option_count as u32 });
                }
                let previous: Option<(i64,)> = sqlx::query_as($sql.select_voter_option)
                    .bind(id)
                    .bind(&cmd.voter)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let previous = previous.map(|(o,)| o);
                let wanted = cmd.option.map(i64::from);
                if previous == wanted {
                    // "Set my choice to X" when it already is X: nothing to write.
                    let state = Self::read_state(&mut tx, &cmd.poll).await?;
                    tx.commit().await.map_err(map_err)?;
                    return Ok(VoteOutcome { changed: false, tally: state.tally });
                }
                let write = match (previous, wanted) {
                    (None, Some(option)) => sqlx::query($sql.insert_vote)
                        .bind(id)
                        .bind(&cmd.voter)
                        .bind(option)
                        .bind(cmd.node.as_str())
                        .bind(now),
                    (Some(_), Some(option)) => sqlx::query($sql.update_vote)
                        .bind(option)
                        .bind(cmd.node.as_str())
                        .bind(now)
                        .bind(id)
                        .bind(&cmd.voter),
                    (Some(_), None) => sqlx::query($sql.delete_vote).bind(id).bind(&cmd.voter),
                    (None, None) => unreachable!("equal to `previous == wanted`"),
                };
                write.execute(&mut *tx).await.map_err(map_err)?;
                if let Some(option) = wanted {
                    Self::add_to_count(&mut tx, id, option, 1).await?;
                }
                if let Some(old) = previous {
                    Self::add_to_count(&mut tx, id, old, -1).await?;
                }
                let total_delta = i64::from(wanted.is_some()) - i64::from(previous.is_some());
                sqlx::query($sql.bump_version)
                    .bind(total_delta)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let (version, total): (i64, i64) = sqlx::query_as($sql.select_version_total)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let tally = Self::read_tally(&mut tx, &cmd.poll, version, total).await?;
                tx.commit().await.map_err(map_err)?;
                Ok(VoteOutcome { changed: true, tally })
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
                        .map_err(map_err)?;
                    for index in 0..poll.options.len() as i64 {
                        sqlx::query($sql.insert_tally_row)
                            .bind(poll.id.as_str())
                            .bind(index)
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                    }
                    tx.commit().await.map_err(map_err)
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

            fn vote(
                &self,
                vote: $crate::store::VoteCommand,
            ) -> $crate::BoxFuture<'_, Result<$crate::store::VoteOutcome, $crate::store::StoreError>> {
                Box::pin(self.vote_tx(vote))
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
                        .map_err(map_err)?
                        .rows_affected()
                        == 1;
                    let state = Self::read_state(&mut tx, id).await?;
                    tx.commit().await.map_err(map_err)?;
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
                        .map_err(map_err)?;
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
