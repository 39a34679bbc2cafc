//! A MariaDB of the test's own that requires secure transport: over TCP it takes
//! only TLS connections, so a node that connects was encrypted. (MySQL 8.0 cannot be
//! installed on the machines that run these tests; MariaDB speaks the same protocol
//! and the same `ssl-mode` parameters to the client.)

use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::{Certificates, run};
use crate::dirs::{TempDir, free_port};

/// A `mariadbd` with `require_secure_transport`, a `votewire` database and
/// `root@127.0.0.1` without a password; killed when dropped.
pub struct TlsMariadb {
    pub port: u16,
    _child: Child,
    _dir: TempDir,
}

impl TlsMariadb {
    pub async fn start(certificates: &Certificates) -> TlsMariadb {
        let dir = TempDir::new("tls-mariadb");
        let data = dir.0.join("data");
        let socket = dir.0.join("mariadb.sock");
        let port = free_port();
        // mariadbd runs as `mysql` when started by root: its files must be its own.
        let owner = is_root().then_some("mysql");
        let mut install = StdCommand::new("mariadb-install-db");
        install
            .args(["--no-defaults", "--skip-test-db"])
            .arg("--auth-root-authentication-method=normal")
            .arg(format!("--datadir={}", data.display()));
        if let Some(owner) = owner {
            install.arg(format!("--user={owner}"));
        }
        run(&mut install);
        for (file, target) in [
            (&certificates.ca, "ca.pem"),
            (&certificates.server_cert, "server.pem"),
            (&certificates.server_key, "server.key"),
        ] {
            std::fs::copy(file, dir.0.join(target)).expect("the folder is writable");
        }
        let config = dir.0.join("mariadb.cnf");
        std::fs::write(
            &config,
            format!(
                "[mariadbd]\ndatadir={data}\nport={port}\nbind-address=127.0.0.1\n\
                 socket={socket}\npid-file={dir}/mariadb.pid\nskip-name-resolve\n\
                 skip-log-bin\ninnodb-buffer-pool-size=32M\n\
                 ssl-ca={dir}/ca.pem\nssl-cert={dir}/server.pem\nssl-key={dir}/server.key\n\
                 require-secure-transport=ON\n",
                data = data.display(),
                socket = socket.display(),
                dir = dir.0.display(),
            ),
        )
        .expect("the folder is writable");
        if let Some(owner) = owner {
            run(StdCommand::new("chown")
                .arg("-R")
                .arg(format!("{owner}:"))
                .arg(&dir.0));
        }
        let mut server = Command::new("/usr/sbin/mariadbd");
        server.arg(format!("--defaults-file={}", config.display()));
        if let Some(owner) = owner {
            server.arg(format!("--user={owner}"));
        }
        let child = server
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("mariadbd is installed");
        // Over its socket (which needs no TLS) once it answers: the nodes' account and database.
        let sql = "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; \
                   GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1'; \
                   CREATE DATABASE IF NOT EXISTS votewire;";
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let output = StdCommand::new("mariadb")
                .args(["--no-defaults", "-uroot", "-e", sql])
                .arg(format!("--socket={}", socket.display()))
                .output()
                .expect("the mariadb client is installed");
            if output.status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd did not answer on its socket: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        TlsMariadb {
            port,
            _child: child,
            _dir: dir,
        }
    }

    /// A URL of its `votewire` database as root, with these parameters (`ssl-mode=...`).
    pub fn url(&self, parameters: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/votewire?{parameters}", self.port)
    }
}

fn is_root() -> bool {
    let output = StdCommand::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}
