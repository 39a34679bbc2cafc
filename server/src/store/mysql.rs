//! MySQL 8.0 and MariaDB 10.11: the cluster store. Votes of one poll serialize on its
//! row lock (`SELECT .. FOR UPDATE`), at the default REPEATABLE READ isolation, where a
//! locking read sees the latest committed row. The pool (one, for reads and writes) is
//! [`SqlStore::connect_server`](super::sql::SqlStore::connect_server)'s.

use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::mysql::MySqlDatabaseError;
use sqlx::pool::PoolConnection;
use sqlx::{MySql, Pool, Transaction};

use super::StoreError;
use super::sql::{Dialect, ErrorClass, Params, Statements, store_error};

const LOCK_MIGRATIONS: &str = "SELECT GET_LOCK('votewire_migrations', 60)";
const UNLOCK_MIGRATIONS: &str = "SELECT RELEASE_LOCK('votewire_migrations')";

/// A read-only server refused a write: `--read-only` (1290), a read-only transaction
/// (1792), `--super-read-only` (1836). After a failover, the demoted primary.
const READ_ONLY_ERRORS: [u16; 3] = [1290, 1792, 1836];
/// Another transaction won: a deadlock (1213) or a lock wait timeout (1205). The
/// transaction was rolled back, so the request can simply be retried.
const RETRYABLE_ERRORS: [u16; 2] = [1213, 1205];

impl Dialect for MySql {
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
        lock_poll: "SELECT p.option_count, p.closed_at, p.closes_at, p.version, p.total, t.count, p.mode, p.paused, p.results, p.max_choices \
            FROM polls p JOIN tallies t ON t.poll_id = p.id WHERE p.id = ? ORDER BY t.option_idx FOR UPDATE",
        params: Params::Question,
        select_previous: "SELECT voter_id, option_idx, choices FROM votes WHERE poll_id = ? AND voter_id IN ({voters})",
        delete_votes: "DELETE FROM votes WHERE poll_id = ? AND voter_id IN ({voters})",
        // VALUES(col) rather than MySQL 8's row alias, which MariaDB does not know.
        upsert_votes: "INSERT INTO votes (poll_id, voter_id, option_idx, choices, node, voted_at) VALUES {rows} \
            ON DUPLICATE KEY UPDATE \
            option_idx = VALUES(option_idx), choices = VALUES(choices), node = VALUES(node), voted_at = VALUES(voted_at)",
        // The rows exist (created with the poll, locked by `lock_poll`): the insert always
        // takes the update path, `count + delta` in one statement.
        add_to_counts: "INSERT INTO tallies (poll_id, option_idx, count) VALUES {rows} \
            ON DUPLICATE KEY UPDATE count = count + VALUES(count)",
        select_seqs: "SELECT voter_id, seq, entry FROM ballot_seqs WHERE poll_id = ? AND voter_id IN ({voters})",
        select_versions: "SELECT id, version, closed_at FROM polls WHERE id IN ({polls})",
        upsert_seqs: "INSERT INTO ballot_seqs (poll_id, voter_id, seq, entry) VALUES {rows} \
            ON DUPLICATE KEY UPDATE seq = VALUES(seq), entry = VALUES(entry)",
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

    const MIGRATOR: Migrator = sqlx::migrate!("./migrations/mysql");

    /// The connection that holds the `GET_LOCK`: the lock lives and dies with its session.
    type MigrationLock = PoolConnection<MySql>;

    async fn begin_write(writer: &Pool<MySql>) -> Result<Transaction<'static, MySql>, sqlx::Error> {
        writer.begin().await
    }

    /// Takes the database-wide `GET_LOCK` that keeps nodes starting together from
    /// migrating at once. sqlx's migrator asks for one too, but with a timeout of -1,
    /// which MariaDB does not take as "forever", and without checking the answer: two
    /// nodes then ran one migration together and the second found it half applied.
    async fn lock_migrations(writer: &Pool<MySql>) -> Result<PoolConnection<MySql>, StoreError> {
        let mut conn = writer.acquire().await.map_err(store_error::<MySql>)?;
        let (locked,): (Option<i64>,) = sqlx::query_as(LOCK_MIGRATIONS)
            .fetch_one(&mut *conn)
            .await
            .map_err(store_error::<MySql>)?;
        if locked != Some(1) {
            return Err(StoreError::Unavailable(
                "another node has been migrating for over a minute".into(),
            ));
        }
        Ok(conn)
    }

    async fn unlock_migrations(mut lock: PoolConnection<MySql>) {
        if let Err(e) = sqlx::query(UNLOCK_MIGRATIONS).execute(&mut *lock).await {
            // The lock dies with the session: make sure this one is not reused.
            tracing::warn!(error = %e, "cannot release the migration lock; closing its connection");
            let _ = lock.detach();
        }
    }

    /// By error number: a read-only server, or a lost lock race (transient); the rest
    /// are bugs.
    fn classify(error: &(dyn DatabaseError + 'static)) -> ErrorClass {
        let number = error
            .try_downcast_ref::<MySqlDatabaseError>()
            .map(MySqlDatabaseError::number);
        match number {
            Some(n) if READ_ONLY_ERRORS.contains(&n) => ErrorClass::ReadOnly,
            Some(n) if RETRYABLE_ERRORS.contains(&n) => ErrorClass::Transient,
            _ => ErrorClass::Fault,
        }
    }
}
