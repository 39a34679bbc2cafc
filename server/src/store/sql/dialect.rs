//! What sets one SQL database apart, as [`super::SqlStore`] needs to know it: its
//! statements, its migrations and their lock, how a write transaction begins, and what
//! its errors mean. Each backend implements [`Dialect`] on sqlx's type for its
//! database, in its own file, which is the only place its SQL is written.
//!
//! A trait the compiler checks rather than a macro whose contract was a comment: a
//! backend that forgets an item, or gets a signature wrong, does not compile, and the
//! error points at its own file.

use std::future::Future;

use sqlx::IntoArguments;
use sqlx::error::DatabaseError;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::mysql::MySqlQueryResult;
use sqlx::postgres::PgQueryResult;
use sqlx::sqlite::SqliteQueryResult;
use sqlx::{Pool, Transaction};

use super::batch::{BatchSql, Batched, Params};
use crate::store::StoreError;

/// One SQL database's part of the store, implemented on sqlx's type for it
/// ([`sqlx::Sqlite`], [`sqlx::Postgres`], [`sqlx::MySql`]).
///
/// The bounds on its associated types (its connections run migrations, its bound
/// parameters can be sent, its results count rows) are the only kind the compiler
/// carries to every user of a `Dialect`; the rest are stated on the impl blocks of
/// [`super::SqlStore`] (see "The bounds" in `mod.rs`).
pub(crate) trait Dialect:
    sqlx::Database<Connection: Migrate, Arguments: IntoArguments<Self>, QueryResult: RowsAffected>
{
    /// Every statement, in this database's SQL and placeholder syntax.
    const SQL: Statements;

    /// The schema's migrations (`server/migrations/<backend>`).
    const MIGRATOR: Migrator;

    /// What keeps other nodes out while this one migrates, until it is given back to
    /// [`Dialect::unlock_migrations`].
    type MigrationLock: Send;

    /// Begins a transaction that writes. It must hold every lock the vote flow's first
    /// read relies on, or take them with that read (`FOR UPDATE`).
    fn begin_write(
        writer: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, sqlx::Error>> + Send;

    /// Keeps other nodes from migrating the same database at the same time.
    fn lock_migrations(
        writer: &Pool<Self>,
    ) -> impl Future<Output = Result<Self::MigrationLock, StoreError>> + Send;

    /// Lets other nodes migrate again.
    fn unlock_migrations(lock: Self::MigrationLock) -> impl Future<Output = ()> + Send;

    /// What an error the database itself raised means; connection, pool and TLS
    /// failures are the same on every backend ([`store_error`]).
    fn classify(error: &(dyn DatabaseError + 'static)) -> ErrorClass;
}

/// How many rows a statement changed. Every sqlx result has the method, but no sqlx
/// trait names it.
pub(crate) trait RowsAffected {
    /// The rows the statement inserted, updated or deleted.
    fn rows_affected(&self) -> u64;
}

impl RowsAffected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}

impl RowsAffected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}

impl RowsAffected for MySqlQueryResult {
    fn rows_affected(&self) -> u64 {
        MySqlQueryResult::rows_affected(self)
    }
}

/// What an error the database raised means to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// The server is read-only: a standby, such as the demoted primary after a
    /// failover. A write that meets one evicts the writer pool's connections
    /// ([`crate::store::failover`]).
    ReadOnly,
    /// Try again later: a lost lock race (rolled back, safe to retry), a server going
    /// down, a busy file.
    Transient,
    /// Anything else: a bug or a broken database.
    Fault,
}

/// `e` in the API's terms: "try again later" ([`StoreError::Unavailable`]) when the
/// database cannot be reached or refused for a passing reason, else
/// [`StoreError::Other`].
pub(crate) fn store_error<DB: Dialect>(e: sqlx::Error) -> StoreError {
    let transient = match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => DB::classify(&**db) != ErrorClass::Fault,
        _ => false,
    };
    if transient {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Other(e.to_string())
    }
}

/// Maps the error of a first connection: as [`store_error`], except that a TLS failure
/// is not worth waiting out. A certificate that does not verify, or a server that does
/// not speak TLS, is a setting to fix, not an outage.
pub(crate) fn connect_error<DB: Dialect>(e: sqlx::Error) -> StoreError {
    // A handshake that fails on the server's certificate comes back as an I/O error
    // around the rustls error.
    let handshake = match &e {
        sqlx::Error::Io(io) => io
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()),
        _ => false,
    };
    match e {
        sqlx::Error::Tls(e) => StoreError::Other(format!("TLS to the database failed: {e}")),
        sqlx::Error::Io(e) if handshake => {
            StoreError::Other(format!("TLS to the database failed: {e}"))
        }
        e => store_error::<DB>(e),
    }
}

/// True when `e` says the server is read-only.
pub(crate) fn is_read_only<DB: Dialect>(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if DB::classify(&**db) == ErrorClass::ReadOnly)
}

/// The SQL of one backend, in its own placeholder syntax. Integer columns are 64-bit
/// everywhere, so one set of Rust types decodes them all.
pub(crate) struct Statements {
    /// Inserts a poll: `(id, question, options, option_count, created_at, closes_at, mode,
    /// join_code, listed, results, max_choices)`.
    pub(crate) insert_poll: &'static str,
    /// Inserts one option's tally row at 0: `(poll, option)`.
    pub(crate) insert_tally_row: &'static str,
    /// A poll's row ([`super::rows::PollRow`]) by id.
    pub(crate) select_poll: &'static str,
    /// The id of the poll with a join code.
    pub(crate) select_poll_by_code: &'static str,
    /// A poll's counts, in option order.
    pub(crate) select_counts: &'static str,
    /// A page of open listed polls, newest first: `(now, before, before, before_id, limit)`.
    pub(crate) select_open_page: &'static str,
    /// The poll's gate and tally, one row per option: `(option_count, closed_at,
    /// closes_at, version, total, count, mode, paused, results, max_choices)`, locking the
    /// poll's and its tally's rows for the rest of the transaction.
    pub(crate) lock_poll: &'static str,
    /// How the batch templates below write parameters.
    pub(crate) params: Params,
    /// The choices of a list of voters (`{voters}`), as `(voter, option, choices)` rows.
    pub(crate) select_previous: &'static str,
    /// Deletes the votes of a list of voters (`{voters}`).
    pub(crate) delete_votes: &'static str,
    /// Inserts or updates `{rows}` of `(poll, voter, option, choices, node, at)`.
    pub(crate) upsert_votes: &'static str,
    /// Adds `{rows}` of `(poll, option, delta)` to the tally, atomically.
    pub(crate) add_to_counts: &'static str,
    /// The last `seq` applied of a list of voters (`{voters}`), as `(voter, seq)` rows.
    pub(crate) select_seqs: &'static str,
    /// `(id, version, closed_at)` of the polls in `{polls}`.
    pub(crate) select_versions: &'static str,
    /// Inserts or updates `{rows}` of `(poll, voter, seq)`.
    pub(crate) upsert_seqs: &'static str,
    /// Raises a poll's version and total: `(changes, total_delta, poll)`.
    pub(crate) bump_version: &'static str,
    /// Closes a poll still open at `now`: `(now, poll, now)`.
    pub(crate) close_poll: &'static str,
    /// Opens a poll its owner closed again, before its closing time, raising its
    /// version: `(poll, now)`; 0 rows when it is open, past its closing time or missing.
    pub(crate) reopen_poll: &'static str,
    /// Empties an open poll's tally and raises its version: `(id, now)`; 0 rows when it
    /// is closed or missing. Then its counts and its votes: `(id)` each.
    pub(crate) reset_poll: &'static str,
    pub(crate) reset_counts: &'static str,
    pub(crate) reset_votes: &'static str,
    /// Pauses (1) or resumes (0) an open poll and raises its version: `(paused, id,
    /// paused, now)`; 0 rows when it is so already, closed or missing.
    pub(crate) set_paused: &'static str,
    /// Sets who sees a poll's counts and raises its version: `(results, id, results)`;
    /// 0 rows when it is so already or missing.
    pub(crate) set_results: &'static str,
    /// Whether a voter has a standing vote in a poll: `(poll, voter)` -> a count.
    pub(crate) select_has_vote: &'static str,
    /// A poll's current votes counted per node: `(node, votes)` rows.
    pub(crate) select_audit: &'static str,
    /// A page of a poll's votes after a voter id, by voter id (the primary key's order):
    /// `(poll, after, limit)` -> `(voter, option, choices, node, voted_at)`.
    pub(crate) select_vote_page: &'static str,
    /// The voter admitted from an address: `(voter)` by `(poll, address)`.
    pub(crate) select_address_voter: &'static str,
    /// Admits a voter from an address: `(poll, address, voter)`.
    pub(crate) insert_address_voter: &'static str,
    /// Whether a voter holds an invite: `(code_hash)` rows by `(poll, voter)`.
    pub(crate) select_invited: &'static str,
    /// Binds an unused code to a voter: `(voter, poll, code_hash)`; one row when it did.
    pub(crate) redeem_invite: &'static str,
    /// Adds an unused code: `(poll, code_hash)`.
    pub(crate) insert_invite: &'static str,
    /// Records the poll an Idempotency-Key made: `(key, request_hash, poll, at)`.
    pub(crate) insert_idempotency_key: &'static str,
    /// What a key made: `(request_hash, poll)` by `(key)`.
    pub(crate) select_idempotency_key: &'static str,
    /// Deletes the keys recorded before a time: `(before)`.
    pub(crate) forget_idempotency_keys: &'static str,
    /// The cheapest statement the server answers.
    pub(crate) ping: &'static str,
    /// Sets the one heartbeat row to the writer's clock, in ms (bound once).
    pub(crate) write_heartbeat: &'static str,
    /// The heartbeat, in ms since the epoch.
    pub(crate) select_heartbeat: &'static str,
}

impl Statements {
    /// The batch statements for every bucket size, built once per store.
    pub(crate) fn batch_sql(&self) -> BatchSql {
        BatchSql::new(
            self.params,
            [
                (Batched::SelectPrevious, self.select_previous),
                (Batched::Delete, self.delete_votes),
                (Batched::Upsert, self.upsert_votes),
                (Batched::AddToCounts, self.add_to_counts),
                (Batched::SelectSeqs, self.select_seqs),
                (Batched::UpsertSeqs, self.upsert_seqs),
                (Batched::SelectVersions, self.select_versions),
            ],
        )
    }
}
