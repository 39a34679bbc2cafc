//! A fresh database per test, on each backend, and what tests ask of it directly.
//!
//! PostgreSQL and MariaDB are the machine's own servers (127.0.0.1:5432 and :3306), or
//! `VOTEWIRE_TEST_POSTGRES_URL` / `VOTEWIRE_TEST_MYSQL_URL` (a URL to an admin database
//! in which tests may create and drop databases). SQLite is a file in the temp dir.

use std::path::Path;
use std::sync::Arc;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};
use votewire_server::store::{self, Backend, Choice};

use crate::dirs::unique_name;
use crate::external::external_enabled;

/// Which database a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A file of its own.
    Sqlite,
    /// A database on the machine's PostgreSQL.
    Postgres,
    /// A database on the machine's MariaDB (or MySQL).
    MySql,
}

/// A fresh database and a store on it; dropped by [`TestDatabase::drop_database`].
pub struct TestDatabase {
    /// A store opened on it (a [`Backend`]: a `Store` with the replica heartbeat).
    pub store: Arc<dyn Backend>,
    /// Its URL, as a node's `--database`.
    pub url: String,
    kind: Kind,
    /// The admin URL and the database's name, on a server.
    server: Option<(String, String)>,
}

fn admin_url(kind: Kind) -> String {
    match kind {
        Kind::Postgres => std::env::var("VOTEWIRE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        Kind::MySql => std::env::var("VOTEWIRE_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into()),
        Kind::Sqlite => unreachable!("SQLite needs no server"),
    }
}

/// Replaces the database name (the URL's last path segment).
fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{database}")
}

impl TestDatabase {
    /// A fresh, migrated database of `kind`; `None` when external backends are skipped.
    pub async fn new(kind: Kind) -> Option<TestDatabase> {
        let db = Self::unmigrated(kind).await?;
        db.store.migrate().await.expect("migrations run");
        Some(db)
    }

    /// A fresh, empty database of `kind`, not migrated yet.
    pub async fn unmigrated(kind: Kind) -> Option<TestDatabase> {
        let (url, server) = match kind {
            Kind::Sqlite => {
                let path =
                    std::env::temp_dir().join(format!("{}.db", unique_name("votewire_store")));
                (format!("sqlite://{}", path.display()), None)
            }
            Kind::Postgres | Kind::MySql => {
                if !external_enabled(&format!("{kind:?}")) {
                    return None;
                }
                let admin = admin_url(kind);
                let name = unique_name("votewire_t");
                execute(kind, &admin, &format!("CREATE DATABASE {name}")).await;
                (with_database(&admin, &name), Some((admin, name)))
            }
        };
        let store = store::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e:?}"));
        Some(TestDatabase {
            store,
            url,
            kind,
            server,
        })
    }

    /// Counts the votes table, option by option.
    pub async fn recount(&self, poll: &str, options: usize) -> Vec<u64> {
        // Poll ids are [0-9a-z-_]: safe to inline, which keeps one query for all backends.
        assert!(
            poll.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let sql = format!(
            "SELECT option_idx, choices, COUNT(*) FROM votes WHERE poll_id = '{poll}' \
             GROUP BY option_idx, choices"
        );
        let sql = sqlx::AssertSqlSafe(sql);
        let rows: Vec<(i64, Option<i64>, i64)> = match self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
            }
            Kind::MySql => {
                let mut c = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
            }
        };
        counts_by_option(rows, options)
    }

    /// Another store on the same database, as a second node would open it.
    pub async fn another_node(&self) -> Arc<dyn Backend> {
        store::connect(&self.url)
            .await
            .expect("a second store opens")
    }

    /// Makes new sessions on this PostgreSQL database read-only, or writable again,
    /// as a failover would make the server behind a pooled connection: sessions
    /// already open keep what they had.
    pub async fn set_new_sessions_read_only(&self, read_only: bool) {
        let (admin, name) = self.server.as_ref().expect("a server database");
        assert_eq!(self.kind, Kind::Postgres, "PostgreSQL only");
        let sql = if read_only {
            format!("ALTER DATABASE {name} SET default_transaction_read_only = on")
        } else {
            format!("ALTER DATABASE {name} RESET default_transaction_read_only")
        };
        execute(self.kind, admin, &sql).await;
    }

    /// Drops the database.
    pub async fn drop_database(self) {
        drop(self.store);
        if let Some((admin, name)) = self.server {
            let sql = match self.kind {
                Kind::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                _ => format!("DROP DATABASE IF EXISTS {name}"),
            };
            execute(self.kind, &admin, &sql).await;
        }
    }
}

async fn execute(kind: Kind, url: &str, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    let result = match kind {
        Kind::Postgres => match sqlx::PgConnection::connect(url).await {
            Ok(mut c) => c.execute(sql).await.map(|_| ()),
            Err(e) => Err(e),
        },
        Kind::MySql => match sqlx::MySqlConnection::connect(url).await {
            Ok(mut c) => c.execute(sql).await.map(|_| ()),
            Err(e) => Err(e),
        },
        Kind::Sqlite => Ok(()),
    };
    if let Err(e) = result {
        panic!("{kind:?} at {url}: {e} (set VOTEWIRE_TEST_EXTERNAL=0 to skip this backend)");
    }
}

/// Counts the votes of `poll` in the SQLite file at `db`, without a store (a node may
/// be running on it).
pub async fn recount_sqlite(db: &Path, poll: &str, options: usize) -> Vec<u64> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .expect("the node's SQLite file opens");
    let rows: Vec<(i64, Option<i64>, i64)> = sqlx::query_as(
        "SELECT option_idx, choices, COUNT(*) FROM votes WHERE poll_id = ? \
         GROUP BY option_idx, choices",
    )
    .bind(poll)
    .fetch_all(&mut conn)
    .await
    .expect("the votes table reads");
    conn.close().await.expect("the connection closes");
    counts_by_option(rows, options)
}

/// Votes per option from `(option_idx, choices, votes)` rows: a multiple-choice vote
/// counts once for each option of its set.
fn counts_by_option(rows: Vec<(i64, Option<i64>, i64)>, options: usize) -> Vec<u64> {
    let mut counts = vec![0; options];
    for (option, bits, votes) in rows {
        for chosen in Choice::from_row(option, bits).options() {
            counts[chosen as usize] += votes as u64;
        }
    }
    counts
}
