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

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use votewire_proto::{NodeId, NodeVotes, PollId, Tally};

use super::{
    BoxFuture, ListCursor, PollRecord, PollState, Store, StoreError, VoteCommand, VoteOutcome,
    from_millis, to_millis,
};

/// How long a connection waits for SQLite's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
const READERS: u32 = 4;

const INSERT_POLL: &str = "INSERT INTO polls (id, question, options, option_count, created_at, closes_at) \
     VALUES (?, ?, ?, ?, ?, ?)";
const INSERT_TALLY_ROW: &str = "INSERT INTO tallies (poll_id, option_idx, count) VALUES (?, ?, 0)";
const SELECT_POLL: &str = "SELECT id, question, options, created_at, closes_at, closed_at, version, total \
     FROM polls WHERE id = ?";
const SELECT_COUNTS: &str = "SELECT count FROM tallies WHERE poll_id = ? ORDER BY option_idx";
const SELECT_OPEN_PAGE: &str = "SELECT id, question, options, created_at, closes_at, closed_at, version, total \
     FROM polls \
     WHERE closed_at IS NULL AND (closes_at IS NULL OR closes_at > ?) \
       AND (created_at < ? OR (created_at = ? AND id < ?)) \
     ORDER BY created_at DESC, id DESC LIMIT ?";
const SELECT_VOTE_GATE: &str = "SELECT option_count, closed_at, closes_at FROM polls WHERE id = ?";
const SELECT_VOTER_OPTION: &str = "SELECT option_idx FROM votes WHERE poll_id = ? AND voter_id = ?";
const UPSERT_VOTE: &str = "INSERT INTO votes (poll_id, voter_id, option_idx, node, voted_at) VALUES (?, ?, ?, ?, ?) \
     ON CONFLICT (poll_id, voter_id) DO UPDATE SET \
       option_idx = excluded.option_idx, node = excluded.node, voted_at = excluded.voted_at";
const DELETE_VOTE: &str = "DELETE FROM votes WHERE poll_id = ? AND voter_id = ?";
const ADD_TO_COUNT: &str =
    "UPDATE tallies SET count = count + ? WHERE poll_id = ? AND option_idx = ?";
const BUMP_VERSION: &str = "UPDATE polls SET version = version + 1, total = total + ? WHERE id = ? \
     RETURNING version, total";
const CLOSE_POLL: &str = "UPDATE polls SET closed_at = ? \
     WHERE id = ? AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > ?)";
const SELECT_AUDIT: &str = "SELECT node, COUNT(*) FROM votes WHERE poll_id = ? GROUP BY node \
     ORDER BY COUNT(*) DESC, node";
const PING: &str = "SELECT 1";

type PollRow = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
);

/// The SQLite store.
pub struct SqliteStore {
    writer: SqlitePool,
    readers: SqlitePool,
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
        Ok(Self { writer, readers })
    }

    async fn begin_immediate(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
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

fn record(row: PollRow) -> Result<(PollRecord, i64, i64), StoreError> {
    let (id, question, options, created_at, closes_at, closed_at, version, total) = row;
    let id = PollId::parse(id).map_err(|e| StoreError::Other(format!("stored poll id: {e}")))?;
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

async fn read_state(
    conn: &mut sqlx::SqliteConnection,
    id: &PollId,
) -> Result<PollState, StoreError> {
    let row: Option<PollRow> = sqlx::query_as(SELECT_POLL)
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    let (poll, version, total) = record(row.ok_or(StoreError::PollNotFound)?)?;
    let tally = read_tally(conn, id, version, total).await?;
    Ok(PollState { poll, tally })
}

async fn read_tally(
    conn: &mut sqlx::SqliteConnection,
    id: &PollId,
    version: i64,
    total: i64,
) -> Result<Tally, StoreError> {
    let counts: Vec<(i64,)> = sqlx::query_as(SELECT_COUNTS)
        .bind(id.as_str())
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(Tally {
        version: version as u64,
        counts: counts.into_iter().map(|(c,)| c as u64).collect(),
        total: total as u64,
    })
}

impl SqliteStore {
    async fn vote_tx(&self, cmd: VoteCommand) -> Result<VoteOutcome, StoreError> {
        let mut tx = self.begin_immediate().await?;
        let id = cmd.poll.as_str();
        let gate: Option<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(SELECT_VOTE_GATE)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        let (option_count, closed_at, closes_at) = gate.ok_or(StoreError::PollNotFound)?;
        let now = to_millis(cmd.now);
        if closed_at.is_some() || closes_at.is_some_and(|at| at <= now) {
            return Err(StoreError::PollClosed);
        }
        if cmd.option.is_some_and(|o| i64::from(o) >= option_count) {
            return Err(StoreError::OptionOutOfRange {
                options: option_count as u32,
            });
        }
        let previous: Option<(i64,)> = sqlx::query_as(SELECT_VOTER_OPTION)
            .bind(id)
            .bind(&cmd.voter)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        let previous = previous.map(|(o,)| o);
        let wanted = cmd.option.map(i64::from);
        if previous == wanted {
            // "Set my choice to X" when it already is X: nothing to write, same version.
            let state = read_state(&mut tx, &cmd.poll).await?;
            tx.commit().await.map_err(map_err)?;
            return Ok(VoteOutcome {
                changed: false,
                tally: state.tally,
            });
        }
        match wanted {
            Some(option) => {
                sqlx::query(UPSERT_VOTE)
                    .bind(id)
                    .bind(&cmd.voter)
                    .bind(option)
                    .bind(cmd.node.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                add_to_count(&mut tx, id, option, 1).await?;
            }
            None => {
                sqlx::query(DELETE_VOTE)
                    .bind(id)
                    .bind(&cmd.voter)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
        }
        if let Some(old) = previous {
            add_to_count(&mut tx, id, old, -1).await?;
        }
        let total_delta = i64::from(wanted.is_some()) - i64::from(previous.is_some());
        let (version, total): (i64, i64) = sqlx::query_as(BUMP_VERSION)
            .bind(total_delta)
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        let tally = read_tally(&mut tx, &cmd.poll, version, total).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(VoteOutcome {
            changed: true,
            tally,
        })
    }
}

async fn add_to_count(
    tx: &mut Transaction<'static, Sqlite>,
    poll: &str,
    option: i64,
    delta: i64,
) -> Result<(), StoreError> {
    sqlx::query(ADD_TO_COUNT)
        .bind(delta)
        .bind(poll)
        .bind(option)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

impl Store for SqliteStore {
    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::migrate!("./migrations/sqlite")
                .run(&self.writer)
                .await
                .map_err(|e| StoreError::Other(format!("migration failed: {e}")))
        })
    }

    fn create_poll<'a>(&'a self, poll: &'a PollRecord) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let options = serde_json::to_string(&poll.options).expect("strings serialize");
            let mut tx = self.begin_immediate().await?;
            sqlx::query(INSERT_POLL)
                .bind(poll.id.as_str())
                .bind(&poll.question)
                .bind(options)
                .bind(poll.options.len() as i64)
                .bind(to_millis(poll.created_at))
                .bind(poll.closes_at.map(to_millis))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            for index in 0..poll.options.len() as i64 {
                sqlx::query(INSERT_TALLY_ROW)
                    .bind(poll.id.as_str())
                    .bind(index)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
            tx.commit().await.map_err(map_err)
        })
    }

    fn poll<'a>(&'a self, id: &'a PollId) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(async move {
            // One read transaction, so the poll row and its tally rows are one snapshot.
            let mut tx = self.readers.begin().await.map_err(map_err)?;
            let state = read_state(&mut tx, id).await;
            tx.rollback().await.map_err(map_err)?;
            state
        })
    }

    fn list_open<'a>(
        &'a self,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<&'a ListCursor>,
    ) -> BoxFuture<'a, Result<Vec<(PollRecord, u64)>, StoreError>> {
        Box::pin(async move {
            let (before_ms, before_id) = match after {
                Some(c) => (to_millis(c.created_at), c.id.as_str().to_owned()),
                None => (i64::MAX, String::new()),
            };
            let rows: Vec<PollRow> = sqlx::query_as(SELECT_OPEN_PAGE)
                .bind(to_millis(now))
                .bind(before_ms)
                .bind(before_ms)
                .bind(before_id)
                .bind(i64::from(limit))
                .fetch_all(&self.readers)
                .await
                .map_err(map_err)?;
            rows.into_iter()
                .map(|row| record(row).map(|(poll, _, total)| (poll, total as u64)))
                .collect()
        })
    }

    fn vote(&self, vote: VoteCommand) -> BoxFuture<'_, Result<VoteOutcome, StoreError>> {
        Box::pin(self.vote_tx(vote))
    }

    fn close<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<(bool, PollState), StoreError>> {
        Box::pin(async move {
            let mut tx = self.begin_immediate().await?;
            let now_ms = to_millis(now);
            let closed = sqlx::query(CLOSE_POLL)
                .bind(now_ms)
                .bind(id.as_str())
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected()
                == 1;
            let state = read_state(&mut tx, id).await?;
            tx.commit().await.map_err(map_err)?;
            Ok((closed, state))
        })
    }

    fn audit<'a>(
        &'a self,
        id: &'a PollId,
    ) -> BoxFuture<'a, Result<(Tally, Vec<NodeVotes>), StoreError>> {
        Box::pin(async move {
            let mut tx = self.readers.begin().await.map_err(map_err)?;
            let state = read_state(&mut tx, id).await?;
            let rows: Vec<(String, i64)> = sqlx::query_as(SELECT_AUDIT)
                .bind(id.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            tx.rollback().await.map_err(map_err)?;
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
            sqlx::query(PING)
                .execute(&self.writer)
                .await
                .map_err(map_err)?;
            Ok(())
        })
    }
}
