//! A real `votewire` process whose database does not answer: it waits instead of
//! exiting, says where it waits (never the password), answers `/livez` 200 and
//! `/readyz` 503 `starting` meanwhile, refuses other requests with a JSON 503, and a
//! SIGTERM ends the wait with a clear message.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

use votewire_proto::{ErrorBody, ErrorCode, HealthReport};
use votewire_testkit::TempDir;

#[tokio::test]
async fn a_node_waiting_for_its_database_answers_as_starting_and_stops_on_sigterm() {
    let dir = TempDir::new("starting");
    // Port 1: nothing listens there, and nothing may.
    let database = "postgres://votewire:pw-4b7e@127.0.0.1:1/votewire";
    let mut node = Command::new(env!("CARGO_BIN_EXE_votewire"))
        .args(["serve", "--listen", "127.0.0.1:0", "--node-id", "waiting"])
        .arg("--data-dir")
        .arg(&dir.0)
        .env("VOTEWIRE_DATABASE_URL", database)
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the votewire binary runs");
    let mut stderr = BufReader::new(node.stderr.take().unwrap());
    let mut said = String::new();
    let mut base = None;
    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).await.unwrap() > 0,
                "the node exited: {said}"
            );
            said.push_str(&line);
            if let Some(at) = line.find("votewire starting on ") {
                let rest = &line[at + "votewire starting on ".len()..];
                base = rest.split_whitespace().next().map(str::to_owned);
            }
            if line.contains("waiting for the database at") {
                return;
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "the node never said it waits: {said}");
    assert!(said.contains("127.0.0.1:1"), "where it waits: {said}");
    assert!(!said.contains("pw-4b7e"), "no password: {said}");
    let base = base.expect("the node said where it listens");

    let http = reqwest::Client::new();
    let live = http.get(format!("{base}/livez")).send().await.unwrap();
    assert_eq!(live.status(), 200);
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let report: HealthReport = ready.json().await.unwrap();
    assert_eq!(report.status, "starting");
    let refused = http.get(format!("{base}/api/polls")).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    let body: ErrorBody = refused.json().await.unwrap();
    assert_eq!(body.error.code, ErrorCode::DatabaseUnavailable);

    let pid = node.id().expect("the node runs").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(20), node.wait())
        .await
        .expect("the node stops on SIGTERM")
        .unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).await.unwrap();
    assert!(
        !status.success(),
        "a start that never happened is a failure"
    );
    assert!(
        rest.contains("stopped while waiting for the database"),
        "{rest}"
    );
    assert!(!rest.contains("pw-4b7e"), "{rest}");
}
