//! The storage flow, written once for every SQL backend: [`SqlStore`] implements
//! [`Store`] and [`Heartbeat`] over a [`Dialect`], which says what sets its database
//! apart (its SQL, its migrations and their lock, how a write begins, what its errors
//! mean). SQL lives only in the dialects' files (`sqlite.rs`, `postgres.rs`,
//! `mysql.rs`); the one store type replaces three that a `macro_rules!` stamped out
//! from a contract written in a comment.
//!
//! - this file: the store, its pools, and the short transactions (create, close) and
//!   reads;
//! - `rows.rs`: the poll row and the snapshot read of a poll with its tally;
//! - `create.rs`: poll creation, once per Idempotency-Key;
//! - `admission.rs`: who may vote in a `per_address` or `invite` poll;
//! - `vote.rs`: the vote batch, the one transaction that must be fast;
//! - `batch.rs`: what a batch writes, planned in Rust, and its padded statements;
//! - `dialect.rs`: the [`Dialect`] trait, the [`Statements`], and error mapping.
//!
//! ## The bounds
//! The flow is generic over the sqlx database, and sqlx states what a database can do
//! as bounds on other types: a connection is an executor (`&mut Connection:
//! Executor`), a column can be read by index (`usize: ColumnIndex<Row>`), a Rust type
//! can be bound or decoded (`i64: Encode + Decode`). Rust carries only a trait's
//! bounds on `Self` and its associated types to the trait's users, not bounds on other
//! types (rust-lang/rust#20671): those of the first kind are folded into [`Dialect`]'s
//! declaration; these cannot be, nor named once as a trait alias (stable Rust has none,
//! and a blanket-implemented stand-in would not carry them either). So they are written
//! out, the same seven lines on each of the generic impl blocks: `Store` and
//! `Heartbeat` here, `rows.rs`, `create.rs`, `owner.rs`, `admission.rs` and `vote.rs`.
//! Rejected: an executor type on the dialect (it would lift one line, for a conversion
//! at every query), and a trait that each backend implements with its own copy of the
//! queries (the flow three times over).

mod admission;
mod batch;
mod create;
mod dialect;
mod owner;
mod rows;
mod vote;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sqlx::pool::PoolOptions;
use sqlx::{ColumnIndex, Connection, Decode, Encode, Executor, Pool, Transaction, Type};
use votewire_proto::{NodeId, NodeVotes, PollId, ResultsVisibility, Tally};

pub(crate) use batch::Params;
pub(crate) use dialect::{Dialect, ErrorClass, Statements, store_error};

use super::failover::{StaleConnections, evicting_stale};
use super::{
    BatchOutcome, Creation, Heartbeat, IdempotencyKey, ListCursor, PollRecord, PollState,
    PollVersion, Store, StoreError, StoredVote, VoteBatch, from_millis, to_millis,
};
use batch::BatchSql;
use dialect::{connect_error, is_read_only};
use rows::{PollRow, record};

/// Connections per node on a database server: writes are short transactions, so a
/// few go a long way.
const SERVER_CONNECTIONS: u32 = 16;
/// How long a request waits for a server connection before answering 503: short,
/// because sqlx keeps retrying a refused connection until then, and a primary that is
/// down must fail votes fast. Healthy writes hold a connection for milliseconds.
const SERVER_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest the first connection to a database server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Tries at migrating before giving up (see [`Store::migrate`] below).
const MIGRATION_ATTEMPTS: u32 = 3;

/// The [`Store`] on one SQL database.
pub(crate) struct SqlStore<DB: Dialect> {
    /// Every write, and the reads too when there is no `readers` pool.
    writer: Pool<DB>,
    /// Read-only connections beside the writer, where the backend has them (SQLite).
    readers: Option<Pool<DB>>,
    /// Marks the writer's connections stale when a write meets a read-only server;
    /// `None` where there is no failover to notice (SQLite: one process owns the file).
    stale: Option<Arc<StaleConnections>>,
    /// The vote batch's statements, expanded once per size.
    batch_sql: BatchSql,
}

impl<DB: Dialect> SqlStore<DB> {
    /// A store that writes through `writer` and reads through `readers`.
    pub(crate) fn with_readers(writer: Pool<DB>, readers: Pool<DB>) -> Self {
        Self {
            writer,
            readers: Some(readers),
            stale: None,
            batch_sql: DB::SQL.batch_sql(),
        }
    }

    /// Connects to a database server (PostgreSQL, MySQL) at `url`: one pool for reads
    /// and writes, whose connections are closed after a write meets a read-only
    /// server ([`crate::store::failover`]).
    pub(crate) async fn connect_server(url: &str) -> Result<Self, StoreError> {
        // One connection first, for its error: a pool that cannot connect only says it
        // timed out, where this says "connection refused" or which certificate failed.
        let probe = tokio::time::timeout(CONNECT_TIMEOUT, DB::Connection::connect(url))
            .await
            .map_err(|_| StoreError::Unavailable(format!("no answer within {CONNECT_TIMEOUT:?}")))?
            .map_err(connect_error::<DB>)?;
        let _ = probe.close().await;
        let stale = Arc::new(StaleConnections::default());
        let options = PoolOptions::new()
            .max_connections(SERVER_CONNECTIONS)
            .acquire_timeout(SERVER_ACQUIRE_TIMEOUT);
        let writer = evicting_stale(options, &stale)
            .connect(url)
            .await
            .map_err(store_error::<DB>)?;
        Ok(Self {
            writer,
            readers: None,
            stale: Some(stale),
            batch_sql: DB::SQL.batch_sql(),
        })
    }

    /// Where reads go.
    fn readers(&self) -> &Pool<DB> {
        self.readers.as_ref().unwrap_or(&self.writer)
    }

    /// Begins a write transaction the dialect's way.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, DB>, StoreError> {
        DB::begin_write(&self.writer)
            .await
            .map_err(store_error::<DB>)
    }

    /// Maps the error of a write, noting a read-only server (see
    /// [`crate::store::failover`]).
    fn write_error(&self, e: sqlx::Error) -> StoreError {
        if let Some(stale) = &self.stale
            && is_read_only::<DB>(&e)
        {
            stale.mark();
        }
        store_error::<DB>(e)
    }
}

/// The bounds name what the flow asks of sqlx: see "The bounds" above.
impl<DB: Dialect> Store for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    for<'v> i64: Type<DB> + Encode<'v, DB> + Decode<'v, DB>,
    for<'v> Option<i64>: Encode<'v, DB>,
    for<'v> Option<&'v str>: Encode<'v, DB>,
    for<'v> &'v str: Type<DB> + Encode<'v, DB>,
    for<'v> String: Type<DB> + Decode<'v, DB>,
{
    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let lock = DB::lock_migrations(&self.writer).await?;
            let mut attempt = 1;
            let migrated = loop {
                match DB::MIGRATOR.run(&self.writer).await {
                    Ok(()) => break Ok(()),
                    // Where no lock keeps another process out (SQLite), the loser of a
                    // race fails as a whole, and finds the work done next time.
                    Err(e) if attempt < MIGRATION_ATTEMPTS => {
                        tracing::info!(error = %e, attempt, "migration attempt failed; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        attempt += 1;
                    }
                    Err(e) => break Err(StoreError::Other(format!("migration failed: {e}"))),
                }
            };
            DB::unlock_migrations(lock).await;
            migrated
        })
    }

    fn create_poll<'a>(
        &'a self,
        poll: &'a PollRecord,
        key: Option<&'a IdempotencyKey>,
    ) -> BoxFuture<'a, Result<Creation, StoreError>> {
        Box::pin(self.create(poll, key))
    }

    fn poll<'a>(&'a self, id: &'a PollId) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(async move {
            // One read transaction: the poll row and its tally rows are one snapshot.
            let mut tx = self.readers().begin().await.map_err(store_error::<DB>)?;
            let state = Self::read_state(&mut tx, id).await;
            tx.rollback().await.map_err(store_error::<DB>)?;
            state
        })
    }

    fn poll_by_code<'a>(&'a self, code: &'a str) -> BoxFuture<'a, Result<PollId, StoreError>> {
        Box::pin(self.read_poll_by_code(code))
    }

    fn votes_page<'a>(
        &'a self,
        id: &'a PollId,
        after: &'a str,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<StoredVote>, StoreError>> {
        Box::pin(self.read_vote_page(id, after, limit))
    }

    fn versions<'a>(
        &'a self,
        polls: &'a [PollId],
    ) -> BoxFuture<'a, Result<Vec<PollVersion>, StoreError>> {
        Box::pin(self.read_versions(polls))
    }

    fn list_open<'a>(
        &'a self,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<&'a ListCursor>,
    ) -> BoxFuture<'a, Result<Vec<(PollRecord, u64)>, StoreError>> {
        Box::pin(async move {
            let (before_ms, before_id) = match after {
                Some(c) => (to_millis(c.created_at), c.id.as_str()),
                None => (i64::MAX, ""),
            };
            let rows: Vec<PollRow> = sqlx::query_as(DB::SQL.select_open_page)
                .bind(to_millis(now))
                .bind(before_ms)
                .bind(before_ms)
                .bind(before_id)
                .bind(i64::from(limit))
                .fetch_all(self.readers())
                .await
                .map_err(store_error::<DB>)?;
            rows.into_iter()
                .map(|row| record(row).map(|(poll, _, total)| (poll, total as u64)))
                .collect()
        })
    }

    fn vote_batch(&self, batch: VoteBatch) -> BoxFuture<'_, Result<BatchOutcome, StoreError>> {
        Box::pin(self.commit_batch(batch))
    }

    fn add_invites<'a>(
        &'a self,
        id: &'a PollId,
        code_hashes: &'a [String],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.insert_invites(id, code_hashes))
    }

    fn close<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<(bool, PollState), StoreError>> {
        Box::pin(self.close_poll(id, now))
    }

    fn reopen<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(self.reopen_poll(id, now))
    }

    fn reset<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(self.reset_poll(id, now))
    }

    fn pause<'a>(
        &'a self,
        id: &'a PollId,
        paused: bool,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(self.pause_poll(id, paused, now))
    }

    fn set_results<'a>(
        &'a self,
        id: &'a PollId,
        results: ResultsVisibility,
    ) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(self.set_poll_results(id, results))
    }

    fn has_vote<'a>(
        &'a self,
        id: &'a PollId,
        voter: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.read_has_vote(id, voter))
    }

    fn audit<'a>(
        &'a self,
        id: &'a PollId,
    ) -> BoxFuture<'a, Result<(Tally, Vec<NodeVotes>), StoreError>> {
        Box::pin(async move {
            let mut tx = self.readers().begin().await.map_err(store_error::<DB>)?;
            let state = Self::read_state(&mut tx, id).await?;
            let rows: Vec<(String, i64)> = sqlx::query_as(DB::SQL.select_audit)
                .bind(id.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(store_error::<DB>)?;
            tx.rollback().await.map_err(store_error::<DB>)?;
            let nodes = rows
                .into_iter()
                .map(|(node, votes)| {
                    let node = NodeId::parse(node)
                        .map_err(|e| StoreError::Other(format!("stored node id: {e}")))?;
                    Ok(NodeVotes {
                        node,
                        votes: votes as u64,
                    })
                })
                .collect::<Result<_, StoreError>>()?;
            Ok((state.tally, nodes))
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query(DB::SQL.ping)
                .execute(&self.writer)
                .await
                .map_err(store_error::<DB>)?;
            Ok(())
        })
    }
}

/// The bounds: see "The bounds" above.
impl<DB: Dialect> Heartbeat for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    for<'v> i64: Type<DB> + Encode<'v, DB> + Decode<'v, DB>,
    for<'v> Option<i64>: Encode<'v, DB>,
    for<'v> Option<&'v str>: Encode<'v, DB>,
    for<'v> &'v str: Type<DB> + Encode<'v, DB>,
    for<'v> String: Type<DB> + Decode<'v, DB>,
{
    fn write_heartbeat(&self, now: DateTime<Utc>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query(DB::SQL.write_heartbeat)
                .bind(to_millis(now))
                .execute(&self.writer)
                .await
                .map_err(|e| self.write_error(e))?;
            Ok(())
        })
    }

    fn heartbeat(&self) -> BoxFuture<'_, Result<DateTime<Utc>, StoreError>> {
        Box::pin(async move {
            let beat: Option<(i64,)> = sqlx::query_as(DB::SQL.select_heartbeat)
                .fetch_optional(self.readers())
                .await
                .map_err(store_error::<DB>)?;
            Ok(from_millis(beat.map_or(0, |(ms,)| ms)))
        })
    }
}
