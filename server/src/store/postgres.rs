//! PostgreSQL: the cluster store. Votes of one poll serialize on its row lock
//! (`SELECT .. FOR UPDATE`), at the default READ COMMITTED isolation.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};

use super::StoreError;
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
    lock_poll: "SELECT option_count, closed_at, closes_at FROM polls WHERE id = $1 FOR UPDATE",
    select_voter_option: "SELECT option_idx FROM votes WHERE poll_id = $1 AND voter_id = $2",
    insert_vote: "INSERT INTO votes (poll_id, voter_id, option_idx, node, voted_at) VALUES ($1, $2, $3, $4, $5)",
    update_vote: "UPDATE votes SET option_idx = $1, node = $2, voted_at = $3 WHERE poll_id = $4 AND voter_id = $5",
    delete_vote: "DELETE FROM votes WHERE poll_id = $1 AND voter_id = $2",
    add_to_count: "UPDATE tallies SET count = count + $1 WHERE poll_id = $2 AND option_idx = $3",
    bump_version: "UPDATE polls SET version = version + 1, total = total + $1 WHERE id = $2",
    select_version_total: "SELECT version, total FROM polls WHERE id = $1",
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
}

impl PostgresStore {
    /// Connects to the primary at `url`, e.g. `postgres://postgres@127.0.0.1/votewire`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let writer = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(map_err)?;
        Ok(Self {
            readers: writer.clone(),
            writer,
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
}

/// Connection failures and a read-only server (a demoted primary after a failover,
/// SQLSTATE 25006) mean "try again later"; the rest are bugs.
fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(ref db)
            if db
                .code()
                .is_some_and(|c| c == "25006" || c.starts_with("08") || c.starts_with("57P")) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Other(other.to_string()),
    }
}

sql_store!(PostgresStore, Postgres, SQL, "./migrations/postgres");
