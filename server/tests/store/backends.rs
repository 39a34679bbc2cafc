//! A fresh database per test, on each backend.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor};
use votewire_server::store::{self, Store};

/// Which database a test runs against.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Sqlite,
    Postgres,
    MySql,
}

/// A fresh database and the store on it; dropped with the test.
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub url: String,
    kind: Kind,
    cleanup: Option<(String, String)>,
}

fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// False when the suite was told to skip PostgreSQL and MySQL.
pub fn external_enabled() -> bool {
    std::env::var("VOTEWIRE_TEST_EXTERNAL")
        .map(|v| v != "0")
        .unwrap_or(true)
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

impl Fixture {
    /// A fresh, migrated database of `kind`; `None` when external backends are skipped.
    pub async fn new(kind: Kind) -> Option<Fixture> {
        let fixture = Self::unmigrated(kind).await?;
        fixture.store.migrate().await.expect("migrations run");
        Some(fixture)
    }

    /// A fresh, empty database of `kind`, not migrated yet.
    pub async fn unmigrated(kind: Kind) -> Option<Fixture> {
        let (url, cleanup) = match kind {
            Kind::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique("votewire_store")));
                (format!("sqlite://{}", path.display()), None)
            }
            Kind::Postgres | Kind::MySql => {
                if !external_enabled() {
                    eprintln!("skipping {kind:?}: VOTEWIRE_TEST_EXTERNAL=0");
                    return None;
                }
                let admin = admin_url(kind);
                let name = unique("votewire_t");
                execute(kind, &admin, &format!("CREATE DATABASE {name}")).await;
                (with_database(&admin, &name), Some((admin, name)))
            }
        };
        let store = store::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e:?}"));
        Some(Fixture {
            store,
            url,
            kind,
            cleanup,
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
            "SELECT option_idx, COUNT(*) FROM votes WHERE poll_id = '{poll}' GROUP BY option_idx"
        );
        let rows: Vec<(i64, i64)> = match self.kind {
            Kind::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
            Kind::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
            Kind::MySql => {
                let mut c = sqlx::MySqlConnection::connect(&self.url).await.unwrap();
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            }
        };
        let mut counts = vec![0; options];
        for (option, count) in rows {
            counts[option as usize] = count as u64;
        }
        counts
    }

    /// Another store on the same database, as a second node would open it.
    pub async fn another_node(&self) -> Arc<dyn Store> {
        store::connect(&self.url)
            .await
            .expect("a second store opens")
    }

    /// Makes new sessions on this PostgreSQL database read-only, or writable again,
    /// as a failover would make the server behind a pooled connection: sessions
    /// already open keep what they had.
    pub async fn set_new_sessions_read_only(&self, read_only: bool) {
        let (admin, name) = self.cleanup.as_ref().expect("a server database");
        assert!(matches!(self.kind, Kind::Postgres), "PostgreSQL only");
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
        if let Some((admin, name)) = self.cleanup {
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
