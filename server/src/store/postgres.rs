//! PostgreSQL: the cluster store. Votes of one poll serialize on its row lock
//! (`SELECT .. FOR UPDATE`), at the default READ COMMITTED isolation.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};

use super::StoreError;
use super::batch::{BatchSql, Params};
use super::failover::{StaleConnections, evicting_stale};
use super::flow::{Statements, sql_store};

/// Connections per node: writes are short transactions, so a few go a long way.
const MAX_CONNECTIONS: u32 = 16;
/// How long a request waits for a connection before answering 503: short, because sqlx
/// keeps retrying a refused connection until then, and a primary that is down must fail
/// votes fast. Healthy writes hold a connection for milliseconds.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

const SQL: Statements = Statements {
    insert_poll: "INSERT INTO polls (id, question, options, option_count, created_at, closes_at) VALUES ($1, $2, $3, $4, $5, $6)",
    insert_tally_row: "INSERT INTO tallies (poll_id, option_idx, count) VALUES ($1, $2, 0)",
    select_poll: "SELECT id, question, options, created_at, closes_at, closed_at, version, total FROM polls WHERE id = $1",
    select_counts: "SELECT count FROM tallies WHERE poll_id = $1 ORDER BY option_idx",
    select_open_page: "SELECT id, question, options, created_at, closes_at, closed_at, version, total FROM polls \
        WHERE closed_at IS NULL AND (closes_at IS NULL OR closes_at > $1) \
          AND (created_at < $2 OR (created_at = $3 AND id < $4)) \
        ORDER BY created_at DESC, id DESC LIMIT $5",
    lock_poll: "SELECT p.option_count, p.closed_at, p.closes_at, p.version, p.total, t.count \
        FROM polls p JOIN tallies t ON t.poll_id = p.id WHERE p.id = $1 ORDER BY t.option_idx FOR UPDATE",
    params: Params::Numbered,
    select_previous: "SELECT voter_id, option_idx FROM votes WHERE poll_id = $1 AND voter_id IN ({voters})",
    delete_votes: "DELETE FROM votes WHERE poll_id = $1 AND voter_id IN ({voters})",
    // DISTINCT ON drops the repeated rows that pad a list: PostgreSQL refuses an
    // upsert that touches a row twice.
    upsert_votes: "INSERT INTO votes (poll_id, voter_id, option_idx, node, voted_at) \
        SELECT DISTINCT ON (voter_id) * FROM (VALUES {rows}) AS v (poll_id, voter_id, option_idx, node, voted_at) \
        ON CONFLICT (poll_id, voter_id) DO UPDATE \
        SET option_idx = excluded.option_idx, node = excluded.node, voted_at = excluded.voted_at",
    // The rows exist (created with the poll, locked by `lock_poll`): the insert always
    // takes the update path, `count + delta` in one statement.
    add_to_counts: "INSERT INTO tallies (poll_id, option_idx, count) VALUES {rows} \
        ON CONFLICT (poll_id, option_idx) DO UPDATE SET count = tallies.count + excluded.count",
    bump_version: "UPDATE polls SET version = version + $1, total = total + $2 WHERE id = $3",
    close_poll: "UPDATE polls SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > $3)",
    select_audit: "SELECT node, COUNT(*) FROM votes WHERE poll_id = $1 GROUP BY node ORDER BY COUNT(*) DESC, node",
    ping: "SELECT 1",
    write_heartbeat: "UPDATE heartbeat SET beat_at = $1 WHERE id = 1",
    select_heartbeat: "SELECT beat_at FROM heartbeat WHERE id = 1",
};

/// The PostgreSQL store.
pub struct PostgresStore {
    writer: PgPool,
    readers: PgPool,
    batch_sql: BatchSql,
    stale: Arc<StaleConnections>,
}

impl PostgresStore {
    /// Connects to the primary at `url`, e.g. `postgres://postgres@127.0.0.1/votewire`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let stale = Arc::new(StaleConnections::default());
        let options = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT);
        let writer = evicting_stale(options, &stale)
            .connect(url)
            .await
            .map_err(map_err)?;
        Ok(Self {
            readers: writer.clone(),
            writer,
            batch_sql: SQL.batch_sql(),
            stale,
        })
    }

    /// sqlx's migrator takes a PostgreSQL advisory lock itself.
    async fn lock_migrations(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn unlock_migrations(&self, _lock: ()) {}

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.writer.begin().await.map_err(map_err)
    }

    fn write_error(&self, e: sqlx::Error) -> StoreError {
        if sqlstate(&e).as_deref() == Some(READ_ONLY) {
            self.stale.mark();
        }
        map_err(e)
    }
}

/// "read-only SQL transaction": the server is a standby, e.g. the demoted primary
/// after a failover.
const READ_ONLY: &str = "25006";

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Connection failures (class 08), a server shutting down (57P), a read-only server
/// and a lost lock race (a deadlock 40P01 or a serialization failure 40001, rolled
/// back and safe to retry) mean "try again later"; the rest are bugs.
fn map_err(e: sqlx::Error) -> StoreError {
    let transient = sqlstate(&e).is_some_and(|c| {
        c == READ_ONLY || c.starts_with("08") || c.starts_with("57P") || c.starts_with("40")
    });
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        _ if transient => StoreError::Unavailable(e.to_string()),
        other => StoreError::Other(other.to_string()),
    }
}

sql_store!(PostgresStore, Postgres, SQL, "./migrations/postgres");
