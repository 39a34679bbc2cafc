//! PostgreSQL: the cluster store. Votes of one poll serialize on its row lock
//! (`SELECT .. FOR UPDATE`), at the default READ COMMITTED isolation. The pool (one,
//! for reads and writes) is [`SqlStore::connect_server`](super::sql::SqlStore::connect_server)'s.

use sqlx::error::DatabaseError;
use sqlx::migrate::Migrator;
use sqlx::{Pool, Postgres, Transaction};

use super::StoreError;
use super::sql::{Dialect, ErrorClass, Params, Statements};

/// "read-only SQL transaction": the server is a standby, e.g. the demoted primary
/// after a failover.
const READ_ONLY: &str = "25006";

impl Dialect for Postgres {
    const SQL: Statements = Statements {
        insert_poll: "INSERT INTO polls (id, question, options, option_count, created_at, closes_at, mode, join_code, listed, results, max_choices) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        insert_tally_row: "INSERT INTO tallies (poll_id, option_idx, count) VALUES ($1, $2, 0)",
        select_poll: "SELECT id, question, options, created_at, closes_at, closed_at, version, total, mode, join_code, listed, paused, results, max_choices \
            FROM polls WHERE id = $1",
        select_poll_by_code: "SELECT id FROM polls WHERE join_code = $1",
        select_counts: "SELECT count FROM tallies WHERE poll_id = $1 ORDER BY option_idx",
        select_open_page: "SELECT id, question, options, created_at, closes_at, closed_at, version, total, mode, join_code, listed, paused, results, max_choices \
            FROM polls WHERE listed = 1 AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > $1) \
              AND (created_at < $2 OR (created_at = $3 AND id < $4)) \
            ORDER BY created_at DESC, id DESC LIMIT $5",
        lock_poll: "SELECT p.option_count, p.closed_at, p.closes_at, p.version, p.total, t.count, p.mode, p.paused, p.results, p.max_choices \
            FROM polls p JOIN tallies t ON t.poll_id = p.id WHERE p.id = $1 ORDER BY t.option_idx FOR UPDATE",
        params: Params::Numbered,
        select_previous: "SELECT voter_id, option_idx, choices FROM votes WHERE poll_id = $1 AND voter_id IN ({voters})",
        delete_votes: "DELETE FROM votes WHERE poll_id = $1 AND voter_id IN ({voters})",
        // DISTINCT ON drops the repeated rows that pad a list: PostgreSQL refuses an
        // upsert that touches a row twice.
        upsert_votes: "INSERT INTO votes (poll_id, voter_id, option_idx, choices, node, voted_at) \
            SELECT DISTINCT ON (voter_id) * FROM (VALUES {rows}) AS v (poll_id, voter_id, option_idx, choices, node, voted_at) \
            ON CONFLICT (poll_id, voter_id) DO UPDATE \
            SET option_idx = excluded.option_idx, choices = excluded.choices, node = excluded.node, voted_at = excluded.voted_at",
        // The rows exist (created with the poll, locked by `lock_poll`): the insert always
        // takes the update path, `count + delta` in one statement.
        add_to_counts: "INSERT INTO tallies (poll_id, option_idx, count) VALUES {rows} \
            ON CONFLICT (poll_id, option_idx) DO UPDATE SET count = tallies.count + excluded.count",
        select_seqs: "SELECT voter_id, seq, entry FROM ballot_seqs WHERE poll_id = $1 AND voter_id IN ({voters})",
        select_versions: "SELECT id, version, closed_at FROM polls WHERE id IN ({polls})",
        upsert_seqs: "INSERT INTO ballot_seqs (poll_id, voter_id, seq, entry) \
            SELECT DISTINCT ON (voter_id) * FROM (VALUES {rows}) AS s (poll_id, voter_id, seq, entry) \
            ON CONFLICT (poll_id, voter_id) DO UPDATE SET seq = excluded.seq, entry = excluded.entry",
        bump_version: "UPDATE polls SET version = version + $1, total = total + $2 WHERE id = $3",
        close_poll: "UPDATE polls SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > $3)",
        reopen_poll: "UPDATE polls SET closed_at = NULL, version = version + 1 \
            WHERE id = $1 AND closed_at IS NOT NULL AND (closes_at IS NULL OR closes_at > $2)",
        reset_poll: "UPDATE polls SET total = 0, version = version + 1 \
            WHERE id = $1 AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > $2)",
        reset_counts: "UPDATE tallies SET count = 0 WHERE poll_id = $1",
        set_paused: "UPDATE polls SET paused = $1, version = version + 1 \
            WHERE id = $2 AND paused <> $3 AND closed_at IS NULL AND (closes_at IS NULL OR closes_at > $4)",
        set_results: "UPDATE polls SET results = $1, version = version + 1 WHERE id = $2 AND results <> $3",
        select_has_vote: "SELECT COUNT(*) FROM votes WHERE poll_id = $1 AND voter_id = $2",
        reset_votes: "DELETE FROM votes WHERE poll_id = $1",
        select_audit: "SELECT node, COUNT(*) FROM votes WHERE poll_id = $1 GROUP BY node ORDER BY COUNT(*) DESC, node",
        select_vote_page: "SELECT voter_id, option_idx, choices, node, voted_at FROM votes \
            WHERE poll_id = $1 AND voter_id > $2 ORDER BY voter_id LIMIT $3",
        select_address_voter: "SELECT voter_id FROM address_voters WHERE poll_id = $1 AND address = $2",
        insert_address_voter: "INSERT INTO address_voters (poll_id, address, voter_id) VALUES ($1, $2, $3)",
        select_invited: "SELECT code_hash FROM invites WHERE poll_id = $1 AND voter_id = $2",
        redeem_invite: "UPDATE invites SET voter_id = $1 WHERE poll_id = $2 AND code_hash = $3 AND voter_id IS NULL",
        insert_invite: "INSERT INTO invites (poll_id, code_hash) VALUES ($1, $2)",
        insert_idempotency_key: "INSERT INTO idempotency_keys (idem_key, request_hash, poll_id, created_at) VALUES ($1, $2, $3, $4)",
        select_idempotency_key: "SELECT request_hash, poll_id FROM idempotency_keys WHERE idem_key = $1",
        forget_idempotency_keys: "DELETE FROM idempotency_keys WHERE created_at < $1",
        ping: "SELECT 1",
        write_heartbeat: "UPDATE heartbeat SET beat_at = $1 WHERE id = 1",
        select_heartbeat: "SELECT beat_at FROM heartbeat WHERE id = 1",
    };

    const MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

    /// sqlx's migrator takes a PostgreSQL advisory lock itself.
    type MigrationLock = ();

    async fn begin_write(
        writer: &Pool<Postgres>,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        writer.begin().await
    }

    async fn lock_migrations(_writer: &Pool<Postgres>) -> Result<(), StoreError> {
        Ok(())
    }

    async fn unlock_migrations(_lock: ()) {}

    /// By SQLSTATE: a read-only server (25006); connection failures (class 08), a
    /// server shutting down (57P) and a lost lock race (class 40: a deadlock 40P01 or
    /// a serialization failure 40001, rolled back and safe to retry) are transient;
    /// the rest are bugs.
    fn classify(error: &(dyn DatabaseError + 'static)) -> ErrorClass {
        match error.code().as_deref() {
            Some(READ_ONLY) => ErrorClass::ReadOnly,
            Some(c) if c.starts_with("08") || c.starts_with("57P") || c.starts_with("40") => {
                ErrorClass::Transient
            }
            _ => ErrorClass::Fault,
        }
    }
}
