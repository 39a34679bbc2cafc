//! SQLite: the single-node store. WAL journal, a busy timeout, and writes through a
//! pool of one connection whose transactions begin IMMEDIATE.
//!
//! One writer connection rather than several: SQLite runs one write transaction at a
//! time anyway, and several writers would only trade queueing in the pool for
//! SQLITE_BUSY retries. IMMEDIATE takes the write lock at BEGIN, so a transaction that
//! read the tally can never fail to upgrade its lock half-way. Reads use their own
//! pool and see committed snapshots thanks to WAL.
//!
//! `synchronous = NORMAL`: a commit survives the process being killed (SIGKILL), but
//! not a power cut of the machine; FULL would fsync every commit.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::StoreError;
use super::batch::{BatchSql, Params};
use super::flow::{Statements, sql_store};

/// How long a connection waits for SQLite's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
const READERS: u32 = 4;

const SQL: Statements = Statements {
    insert_poll: "INSERT INTO polls (id, question, options, option_count, created_at, closes_at) VALUES (?, ?, ?, ?, ?, ?)",
    insert_tally_row: "INSERT INTO tallies (poll_id, option_idx, count) VALUES (?, ?, 0)",
    select_poll: "SELECT id, question, options, created_at, closes_at, closed_at, version, total FROM polls WHERE id = ?",
    select_counts: "SELECT count FROM tallies WHERE poll_id = ? ORDER BY option_idx",
    select_open_page: "SELECT id, question, options, created_at, closes_at, closed_at, version, total FROM polls \
        WHERE closed_at IS NULL AND (closes_at IS NULL OR closes_at > ?) \
          AND (created_at < ? OR (created_at = ? AND id < ?)) \
        ORDER BY created_at DESC, id DESC LIMIT ?",
    // BEGIN IMMEDIATE already holds the database's write lock: no FOR UPDATE in SQLite.
    lock_poll: "SELECT p.option_count, p.closed_at, p.closes_at, p.version, p.total, t.count \
        FROM polls p JOIN tallies t ON t.poll_id = p.id WHERE p.id = ? ORDER BY t.option_idx",
    params: Params::Question,
    select_previous: "SELECT voter_id, option_idx FROM votes WHERE poll_id = ? AND voter_id IN ({voters})",
    delete_votes: "DELETE FROM votes WHERE poll_id = ? AND voter_id IN ({voters})",
    upsert_votes: "INSERT INTO votes (poll_id, voter_id, option_idx, node, voted_at) VALUES {rows} \
        ON CONFLICT (poll_id, voter_id) DO UPDATE \
        SET option_idx = excluded.option_idx, node = excluded.node, voted_at = excluded.voted_at",
    // The rows exist (created with the poll): the insert always takes the update path,
    // `count + delta` in one statement.
    add_to_counts: "INSERT INTO tallies (poll_id, option_idx, count) VALUES {rows} \
        ON CONFLICT (poll_id, option_idx) DO UPDATE SET count = count + excluded.count",
    bump_version: "UPDATE polls SET version = version + ?, total = total + ? WHERE id = ?",
    close_poll: "UPDATE polls SET closed_at = ? WHERE id = ? AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > ?)",
    select_audit: "SELECT node, COUNT(*) FROM votes WHERE poll_id = ? GROUP BY node ORDER BY COUNT(*) DESC, node",
    ping: "SELECT 1",
    write_heartbeat: "UPDATE heartbeat SET beat_at = ? WHERE id = 1",
    select_heartbeat: "SELECT beat_at FROM heartbeat WHERE id = 1",
};

/// The SQLite store.
pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
    batch_sql: BatchSql,
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url`, e.g. `sqlite://data/votewire.db`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("invalid SQLite URL {url:?}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        if let Some(dir) = options
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Other(format!(
                    "cannot create the data folder {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.read_only(true))
            .await
            .map_err(map_err)?;
        Ok(Self {
            writer,
            readers,
            batch_sql: SQL.batch_sql(),
        })
    }

    /// One node owns a SQLite file: nothing to keep out.
    async fn lock_migrations(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn unlock_migrations(&self, _lock: ()) {}

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
    }

    /// One process owns the file: no failover to notice.
    fn write_error(&self, e: sqlx::Error) -> StoreError {
        map_err(e)
    }
}

/// Connection-level failures mean "try again later"; the rest are bugs.
fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Database(ref db) if db.message().contains("database is locked") => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

sql_store!(SqliteStore, Sqlite, SQL, "./migrations/sqlite");
