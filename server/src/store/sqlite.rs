//! SQLite: the single-node store. WAL journal, a busy timeout, and writes through a
//! pool of one connection whose transactions begin IMMEDIATE.
//!
//! One writer connection rather than several: SQLite runs one write transaction at a
//! time anyway, and several writers would only trade queueing in the pool for
//! SQLITE_BUSY retries. IMMEDIATE takes the write lock at BEGIN, so a transaction that
//! read the tally can never fail to upgrade its lock half-way. Reads use their own
//! pool of read-only connections and see committed snapshots thanks to WAL.
//!
//! `synchronous = NORMAL`: a commit survives the process being killed (SIGKILL), but
//! not a power cut of the machine; FULL would fsync every commit.

use std::str::FromStr;
use std::time::Duration;

use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite, Transaction};

use super::StoreError;
use super::sql::{Dialect, Params, Refusal, SqlStore, Statements, store_error};

/// How long a connection waits for SQLite's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Read-only connections beside the writer.
const READERS: u32 = 4;

impl Dialect for Sqlite {
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

    const MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

    /// One node owns a SQLite file: nothing to keep out. Several stores of one process
    /// may still race; the loser retries (see `migrate` in `sql/mod.rs`).
    type MigrationLock = ();

    async fn begin_write(
        writer: &Pool<Sqlite>,
    ) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        writer.begin_with("BEGIN IMMEDIATE").await
    }

    async fn lock_migrations(_writer: &Pool<Sqlite>) -> Result<(), StoreError> {
        Ok(())
    }

    async fn unlock_migrations(_lock: ()) {}

    /// A busy database (another process holding the lock past the busy timeout) is
    /// worth retrying; one process owns the file, so there is no failover to notice.
    fn refusal(error: &(dyn DatabaseError + 'static)) -> Refusal {
        if error.message().contains("database is locked") {
            Refusal::Transient
        } else {
            Refusal::Fault
        }
    }
}

/// Opens (creating when missing) the database at `url`, e.g. `sqlite://data/votewire.db`,
/// and its folder.
pub(crate) async fn open(url: &str) -> Result<SqlStore<Sqlite>, StoreError> {
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
        .map_err(store_error::<Sqlite>)?;
    let readers = SqlitePoolOptions::new()
        .max_connections(READERS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.read_only(true))
        .await
        .map_err(store_error::<Sqlite>)?;
    Ok(SqlStore::with_readers(writer, readers))
}
