//! A PostgreSQL of the test's own that takes only TLS connections.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use super::{Certificates, run};
use crate::dirs::{TempDir, free_port};

/// Where PostgreSQL's programs are (`VOTEWIRE_PG_BIN` moves it).
fn pg_bin(program: &str) -> PathBuf {
    let dir =
        std::env::var("VOTEWIRE_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
    Path::new(&dir).join(program)
}

/// A PostgreSQL server of the test's own that takes only TLS connections (`hostssl`
/// lines alone in `pg_hba.conf`), trusting user `postgres`; stopped when dropped.
pub struct TlsPostgres {
    pub port: u16,
    data: PathBuf,
    _dir: TempDir,
}

impl TlsPostgres {
    pub async fn start(certificates: &Certificates) -> TlsPostgres {
        let dir = TempDir::new("tls-postgres");
        let data = dir.0.join("data");
        let port = free_port();
        // PostgreSQL refuses to run as root: its files and process belong to `postgres`.
        let as_postgres = |program: &str| {
            let mut command = StdCommand::new("setpriv");
            command.args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ]);
            command.arg(pg_bin(program));
            command
        };
        run(StdCommand::new("chown")
            .arg("postgres:postgres")
            .arg(&dir.0));
        run(as_postgres("initdb")
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-D"])
            .arg(&data));
        for (file, target) in [
            (&certificates.server_cert, "server.crt"),
            (&certificates.server_key, "server.key"),
        ] {
            std::fs::copy(file, data.join(target)).expect("the data folder is writable");
        }
        run(StdCommand::new("chown")
            .arg("postgres:postgres")
            .arg(data.join("server.crt"))
            .arg(data.join("server.key")));
        run(StdCommand::new("chmod")
            .arg("600")
            .arg(data.join("server.key")));
        std::fs::write(
            data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\nlocal all all trust\n",
        )
        .expect("the data folder is writable");
        run(as_postgres("pg_ctl")
            .args(["-w", "-t", "30", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(dir.0.join("postgres.log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -c listen_addresses=127.0.0.1 -c ssl=on -c unix_socket_directories={}",
                dir.0.display()
            ))
            .arg("start"));
        TlsPostgres {
            port,
            data,
            _dir: dir,
        }
    }

    /// A URL of its `postgres` database with these parameters (`sslmode=...`).
    pub fn url(&self, parameters: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?{parameters}",
            self.port
        )
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let _ = StdCommand::new("setpriv")
            .args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ])
            .arg(pg_bin("pg_ctl"))
            .args(["-w", "-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .output();
    }
}
