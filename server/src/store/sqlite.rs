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
use super::sql::{Dialect, ErrorClass, Params, SqlStore, Statements, store_error};

/// How long a connection waits for SQLite's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Read-only connections beside the writer.
const READERS: u32 = 4;

impl Dialect for Sqlite {
    const SQL: Statements = Statements {
        insert_poll: "INSERT INTO polls (id, question, options, option_count, created_at, closes_at, mode, join_code, listed, results, max_choices) \
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        insert_tally_row: "INSERT INTO tallies (poll_id, option_idx, count) VALUES (?, ?, 0)",
        select_poll: "SELECT id, question, options, created_at, closes_at, closed_at, version, total, mode, join_code, listed, paused, results, max_choices \
            FROM polls WHERE id = ?",
        select_poll_by_code: "SELECT id FROM polls WHERE join_code = ?",
        select_counts: "SELECT count FROM tallies WHERE poll_id = ? ORDER BY option_idx",
        select_open_page: "SELECT id, question, options, created_at, closes_at, closed_at, version, total, mode, join_code, listed, paused, results, max_choices \
            FROM polls WHERE listed = 1 AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > ?) \
              AND (created_at < ? OR (created_at = ? AND id < ?)) \
            ORDER BY created_at DESC, id DESC LIMIT ?",
        // BEGIN IMMEDIATE already holds the database's write lock: no FOR UPDATE in SQLite.
        lock_poll: "SELECT p.option_count, p.closed_at, p.closes_at, p.version, p.total, t.count, p.mode, p.paused, p.results, p.max_choices \
            FROM polls p JOIN tallies t ON t.poll_id = p.id WHERE p.id = ? ORDER BY t.option_idx",
        params: Params::Question,
        select_previous: "SELECT voter_id, option_idx, choices FROM votes WHERE poll_id = ? AND voter_id IN ({voters})",
        delete_votes: "DELETE FROM votes WHERE poll_id = ? AND voter_id IN ({voters})",
        upsert_votes: "INSERT INTO votes (poll_id, voter_id, option_idx, choices, node, voted_at) VALUES {rows} \
            ON CONFLICT (poll_id, voter_id) DO UPDATE \
            SET option_idx = excluded.option_idx, choices = excluded.choices, node = excluded.node, voted_at = excluded.voted_at",
        // The rows exist (created with the poll): the insert always takes the update path,
        // `count + delta` in one statement.
        add_to_counts: "INSERT INTO tallies (poll_id, option_idx, count) VALUES {rows} \
            ON CONFLICT (poll_id, option_idx) DO UPDATE SET count = count + excluded.count",
        select_seqs: "SELECT voter_id, seq, entry FROM ballot_seqs WHERE poll_id = ? AND voter_id IN ({voters})",
        select_versions: "SELECT id, version, closed_at FROM polls WHERE id IN ({polls})",
        upsert_seqs: "INSERT INTO ballot_seqs (poll_id, voter_id, seq, entry) VALUES {rows} \
            ON CONFLICT (poll_id, voter_id) DO UPDATE SET seq = excluded.seq, entry = excluded.entry",
        bump_version: "UPDATE polls SET version = version + ?, total = total + ? WHERE id = ?",
        close_poll: "UPDATE polls SET closed_at = ? WHERE id = ? AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > ?)",
        reopen_poll: "UPDATE polls SET closed_at = NULL, version = version + 1 \
            WHERE id = ? AND closed_at IS NOT NULL AND (closes_at IS NULL OR closes_at > ?)",
        reset_poll: "UPDATE polls SET total = 0, version = version + 1 \
            WHERE id = ? AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > ?)",
        reset_counts: "UPDATE tallies SET count = 0 WHERE poll_id = ?",
        set_paused: "UPDATE polls SET paused = ?, version = version + 1 \
            WHERE id = ? AND paused <> ? AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > ?)",
        set_results: "UPDATE polls SET results = ?, version = version + 1 WHERE id = ? AND results <> ?",
        select_has_vote: "SELECT COUNT(*) FROM votes WHERE poll_id = ? AND voter_id = ?",
        reset_votes: "DELETE FROM votes WHERE poll_id = ?",
        select_audit: "SELECT node, COUNT(*) FROM votes WHERE poll_id = ? GROUP BY node ORDER BY COUNT(*) DESC, node",
        select_vote_page: "SELECT voter_id, option_idx, choices, node, voted_at FROM votes \
            WHERE poll_id = ? AND voter_id > ? ORDER BY voter_id LIMIT ?",
        select_address_voter: "SELECT voter_id FROM address_voters WHERE poll_id = ? AND address = ?",
        insert_address_voter: "INSERT INTO address_voters (poll_id, address, voter_id) VALUES (?, ?, ?)",
        select_invited: "SELECT code_hash FROM invites WHERE poll_id = ? AND voter_id = ?",
        redeem_invite: "UPDATE invites SET voter_id = ? WHERE poll_id = ? AND code_hash = ? AND voter_id IS NULL",
        insert_invite: "INSERT INTO invites (poll_id, code_hash) VALUES (?, ?)",
        insert_idempotency_key: "INSERT INTO idempotency_keys (idem_key, request_hash, poll_id, created_at) VALUES (?, ?, ?, ?)",
        select_idempotency_key: "SELECT request_hash, poll_id FROM idempotency_keys WHERE idem_key = ?",
        forget_idempotency_keys: "DELETE FROM idempotency_keys WHERE created_at < ?",
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
    fn classify(error: &(dyn DatabaseError + 'static)) -> ErrorClass {
        if error.message().contains("database is locked") {
            ErrorClass::Transient
        } else {
            ErrorClass::Fault
        }
    }
}

/// Opens (creating when missing) the database at `url`, e.g. `sqlite://data/votewire.db`,
/// and its folder.
pub(crate) async fn open(url: &str) -> Result<SqlStore<Sqlite>, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| {
            let url = crate::redact::url(url);
            StoreError::Other(format!("invalid SQLite URL {url:?}: {e}"))
        })?
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

/// SQLite's guarantees, each checked where it shows: the WAL journal in the file, the
/// busy timeout as a vote that waits out another writer, BEGIN IMMEDIATE as the write
/// lock held from the first statement. Each fails when its setting is removed.
#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use chrono::Utc;
    use sqlx::{ConnectOptions, Connection, SqliteConnection};
    use votewire_proto::{NodeId, PollId};

    use super::*;
    use crate::store::{Ballot, PollRecord, Store, VoteBatch};

    /// SQLite's primary result code for "the database is locked by another connection".
    const SQLITE_BUSY: &str = "5";

    /// A folder of the test's own (created by the store, as a node's data folder is),
    /// removed when dropped.
    struct Folder(PathBuf);

    impl Folder {
        fn new(test: &str) -> Self {
            let name = format!("votewire-sqlite-{test}-{}", std::process::id());
            Self(std::env::temp_dir().join(name))
        }

        fn database(&self) -> PathBuf {
            self.0.join("votewire.db")
        }

        fn url(&self) -> String {
            format!("sqlite://{}", self.database().display())
        }

        /// A connection of the test's own, with SQLite's defaults but a busy timeout of
        /// `busy`: it sets no journal mode.
        async fn connect(&self, busy: Duration) -> SqliteConnection {
            SqliteConnectOptions::new()
                .filename(self.database())
                .busy_timeout(busy)
                .connect()
                .await
                .expect("the test's own connection opens")
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    async fn migrated(folder: &Folder) -> SqlStore<Sqlite> {
        let store = open(&folder.url()).await.expect("the store opens");
        store.migrate().await.expect("migrations run");
        store
    }

    #[tokio::test]
    async fn the_store_puts_the_file_in_wal_mode() {
        let folder = Folder::new("wal");
        let _store = migrated(&folder).await;
        let mut other = folder.connect(Duration::from_secs(5)).await;
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut other)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_vote_waits_for_another_writer_instead_of_failing() {
        let folder = Folder::new("busy");
        let store = Arc::new(migrated(&folder).await);
        let poll = PollRecord {
            id: PollId::parse("busy").unwrap(),
            question: "Wait?".into(),
            options: vec!["yes".into(), "no".into()],
            created_at: Utc::now(),
            closes_at: None,
            closed_at: None,
            mode: votewire_proto::VotingMode::Open,
            join_code: None,
            listed: true,
            paused: false,
            results: Default::default(),
            max_choices: 1,
        };
        store.create_poll(&poll, None).await.unwrap();

        // Another process, as far as SQLite can tell, takes the write lock.
        let mut other = folder.connect(Duration::from_secs(5)).await;
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .unwrap();
        let vote = store.vote_batch(VoteBatch {
            poll: poll.id.clone(),
            node: NodeId::parse("n1").unwrap(),
            now: Utc::now(),
            ballots: vec![Ballot {
                voter: "v1".into(),
                choice: crate::store::Choice::One(0),
                seq: None,
                entry: None,
                admission: Default::default(),
            }],
        });
        tokio::pin!(vote);
        // The vote runs while the lock is held, and must neither fail nor finish.
        tokio::select! {
            early = &mut vote => panic!("the vote did not wait for the lock: {early:?}"),
            () = tokio::time::sleep(Duration::from_millis(300)) => {}
        }
        sqlx::raw_sql("COMMIT").execute(&mut other).await.unwrap();
        let outcome = vote.await.expect("the vote commits once the lock is free");
        assert!(outcome.results[0].as_ref().is_ok_and(|b| b.changed));
        assert_eq!(outcome.tally.counts, [1, 0]);
    }

    #[tokio::test]
    async fn a_write_transaction_holds_the_write_lock_from_its_begin() {
        let folder = Folder::new("immediate");
        let store = migrated(&folder).await;
        let mut other = folder.connect(Duration::ZERO).await;

        let tx = store.begin_write().await.unwrap();
        // Nothing written yet: a deferred BEGIN would hold no lock at this point.
        let started = Instant::now();
        let refused = sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .expect_err("a second writer gets no write lock");
        let code = match &refused {
            sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
            _ => None,
        };
        assert_eq!(code.as_deref(), Some(SQLITE_BUSY), "{refused}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "refused at once"
        );

        tx.rollback().await.unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE")
            .execute(&mut other)
            .await
            .expect("the lock is free once the transaction ends");
        other.close().await.unwrap();
    }
}
