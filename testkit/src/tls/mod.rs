//! Servers that speak only TLS, with certificates generated for the test: a CA and a
//! server certificate it signs (for `localhost` and 127.0.0.1), and a second CA that
//! signed nothing, for the certificate that must not verify. `openssl` makes them; the
//! servers are a `redis-server` with only a TLS port, a PostgreSQL of the test's own
//! that accepts only `hostssl` connections and a MariaDB that requires secure
//! transport, so a connection that works was encrypted.

use std::path::PathBuf;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::dirs::{TempDir, free_port};

mod mariadb;
mod postgres;

pub use mariadb::TlsMariadb;
pub use postgres::TlsPostgres;

/// Runs `command`, failing the test with its output when it fails.
pub(crate) fn run(command: &mut StdCommand) {
    let output = command.output().expect("the program runs");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The test's certificates, in a folder of their own.
pub struct Certificates {
    /// The CA that signed the server's certificate.
    pub ca: PathBuf,
    /// A CA that signed nothing here: trusting only it, no server verifies.
    pub other_ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub dir: TempDir,
}

impl Certificates {
    pub fn generate() -> Certificates {
        let dir = TempDir::new("tls");
        let path = |name: &str| dir.0.join(name);
        let ca = |name: &str, subject: &str| {
            run(StdCommand::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                ])
                .arg(subject)
                .arg("-keyout")
                .arg(path(&format!("{name}.key")))
                .arg("-out")
                .arg(path(&format!("{name}.pem"))));
        };
        ca("ca", "/CN=votewire test CA");
        ca("other-ca", "/CN=votewire other CA");
        run(StdCommand::new("openssl")
            .args([
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
            ])
            .arg(path("server.key"))
            .arg("-out")
            .arg(path("server.csr")));
        std::fs::write(
            path("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .expect("the folder is writable");
        run(StdCommand::new("openssl")
            .args(["x509", "-req", "-days", "2", "-CAcreateserial", "-in"])
            .arg(path("server.csr"))
            .arg("-CA")
            .arg(path("ca.pem"))
            .arg("-CAkey")
            .arg(path("ca.key"))
            .arg("-extfile")
            .arg(path("server.ext"))
            .arg("-out")
            .arg(path("server.pem")));
        Certificates {
            ca: path("ca.pem"),
            other_ca: path("other-ca.pem"),
            server_cert: path("server.pem"),
            server_key: path("server.key"),
            dir,
        }
    }
}

/// A `redis-server` listening only on a TLS port; killed when dropped.
pub struct TlsRedis {
    pub port: u16,
    _child: Child,
}

impl TlsRedis {
    pub async fn start(certificates: &Certificates) -> TlsRedis {
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(&certificates.server_cert)
            .arg("--tls-key-file")
            .arg(&certificates.server_key)
            .arg("--tls-ca-cert-file")
            .arg(&certificates.ca)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed");
        wait_for_port(port, "redis-server").await;
        TlsRedis {
            port,
            _child: child,
        }
    }

    /// `rediss://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }
}

/// Waits until something accepts connections on 127.0.0.1:`port` (bounded).
pub(crate) async fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on port {port}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
