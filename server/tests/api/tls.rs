//! TLS to PostgreSQL, MariaDB and Redis, against servers of the test's own that speak nothing
//! else (so a connection that works was encrypted), with certificates made for the
//! test: the CA that signed the server's certificate connects, a CA that signed
//! nothing is refused, in words that say it is the certificate.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use votewire_proto::HealthReport;
use votewire_server::{Node, Settings, Shutdown};
use votewire_testkit::client::eventually;
use votewire_testkit::tls::{Certificates, TlsMariadb, TlsPostgres, TlsRedis};
use votewire_testkit::{EVENT_TIMEOUT, TempDir, external_enabled, spawn_app_with};

#[tokio::test]
async fn postgres_over_tls_connects_encrypted_and_refuses_a_certificate_it_cannot_verify() {
    if !external_enabled("the PostgreSQL TLS test") {
        return;
    }
    let certificates = Certificates::generate();
    let postgres = TlsPostgres::start(&certificates).await;
    // The server takes nothing but TLS.
    let modes = TlsModes {
        encrypt: "sslmode=require",
        verify: |ca| format!("sslmode=verify-full&sslrootcert={ca}"),
        plaintext: ("sslmode=disable", "no encryption"),
    };
    database_over_tls(&certificates, |p| postgres.url(p), modes).await;
}

#[tokio::test]
async fn mariadb_over_tls_connects_encrypted_and_refuses_a_certificate_it_cannot_verify() {
    if !external_enabled("the MariaDB TLS test") {
        return;
    }
    let certificates = Certificates::generate();
    let mariadb = TlsMariadb::start(&certificates).await;
    // The server requires secure transport, and refuses a plaintext login as it would a
    // wrong password.
    let modes = TlsModes {
        encrypt: "ssl-mode=REQUIRED",
        verify: |ca| format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
        plaintext: ("ssl-mode=DISABLED", "Access denied"),
    };
    database_over_tls(&certificates, |p| mariadb.url(p), modes).await;
}

/// A database's URL parameters for TLS.
struct TlsModes {
    /// Encrypted, the certificate unchecked.
    encrypt: &'static str,
    /// Encrypted, the certificate checked against the CA file given.
    verify: fn(&str) -> String,
    /// No TLS, and the words of the server's refusal.
    plaintext: (&'static str, &'static str),
}

/// Against a database that takes TLS connections only: a node votes through it with
/// either TLS mode, is refused at once in words about the certificate when it trusts a
/// CA that signed nothing, and without TLS is refused by the server (so what connected
/// was encrypted).
async fn database_over_tls(
    certificates: &Certificates,
    url: impl Fn(&str) -> String,
    modes: TlsModes,
) {
    let ca = certificates.ca.display().to_string();
    for parameters in [modes.encrypt.to_owned(), (modes.verify)(&ca)] {
        let database_url = url(&parameters);
        let app = spawn_app_with(|s| s.database_url = database_url).await;
        let poll = app.new_poll("over TLS?", &["yes", "no"]).await;
        let voter = app.new_voter().await;
        assert_eq!(
            app.vote(&poll, &voter, 1).await.status(),
            200,
            "{parameters}"
        );
        assert_eq!(app.get_poll(&poll).await.tally.counts, vec![0, 1]);
        app.stop().await;
    }

    let other = certificates.other_ca.display().to_string();
    let refused = refusal(url(&(modes.verify)(&other))).await;
    assert!(refused.contains("TLS"), "{refused}");
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");
    let (parameters, words) = modes.plaintext;
    let plaintext = refusal(url(parameters)).await;
    assert!(plaintext.contains(words), "{plaintext}");
}

/// Why a node on `database_url` does not start: at once, not after waiting.
async fn refusal(database_url: String) -> String {
    let dir = TempDir::new("tls-refused");
    let mut settings = Settings::for_data_dir(&dir.0, "node-a");
    settings.database_url = database_url;
    let build = Node::build(settings, Shutdown::new());
    match tokio::time::timeout(EVENT_TIMEOUT, build).await {
        Ok(Ok(_)) => panic!("the node started"),
        Ok(Err(refused)) => refused.to_string(),
        Err(_) => panic!("the node waited instead of refusing"),
    }
}

#[tokio::test]
async fn redis_over_tls_connects_encrypted_and_refuses_a_certificate_it_cannot_verify() {
    if !external_enabled("the Redis TLS test") {
        return;
    }
    let certificates = Certificates::generate();
    let redis = TlsRedis::start(&certificates).await;
    let (url, ca) = (redis.url(), certificates.ca.clone());
    let app = spawn_app_with(|s| {
        s.redis_url = Some(url);
        s.redis_ca_file = Some(ca);
    })
    .await;
    // Redis listens on its TLS port alone: a bus that connects is encrypted.
    eventually(EVENT_TIMEOUT, || async {
        let report: HealthReport = app.get("/readyz").await.json().await.unwrap();
        (report.checks["bus"] == "ok")
            .then_some(())
            .ok_or(format!("{report:?}"))
    })
    .await;
    app.stop().await;

    // A CA that signed nothing: the node says which certificate failed, without the URL.
    let dir = TempDir::new("tls-redis-refused");
    let mut node = Command::new(env!("CARGO_BIN_EXE_votewire"))
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--node-id", "tls-check"])
        .arg("--data-dir")
        .arg(&dir.0)
        .arg("--redis-ca-file")
        .arg(&certificates.other_ca)
        .env(
            "VOTEWIRE_REDIS_URL",
            format!("rediss://:tls-pw-5e1@127.0.0.1:{}", redis.port),
        )
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the votewire binary runs");
    let mut lines = BufReader::new(node.stderr.take().unwrap()).lines();
    let said = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("Redis is not reachable") {
                return line;
            }
        }
        panic!("the node ended without saying why Redis is unreachable");
    })
    .await
    .expect("the node says Redis is unreachable");
    node.kill().await.unwrap();
    assert!(said.to_lowercase().contains("certificate"), "{said}");
    assert!(!said.contains("tls-pw-5e1"), "{said}");
}
