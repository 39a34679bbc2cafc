//! The log a real `votewire` process writes with `--log-format json --access-log`:
//! one JSON object per line, an access line per request with its path (never its
//! query) and status, carrying the request id the proxy sent, which the response
//! returns; a request without one gets an id of the node's own.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStderr, Command};

use votewire_testkit::TempDir;

/// The next JSON log line `wanted` accepts (every line must be JSON).
async fn next_line(
    lines: &mut Lines<BufReader<ChildStderr>>,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let found = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
            if wanted(&value) {
                return value;
            }
        }
        panic!("the node ended before the line looked for");
    })
    .await;
    found.expect("the line looked for is logged")
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_an_access_line_per_request() {
    let dir = TempDir::new("logs");
    let mut node = Command::new(env!("CARGO_BIN_EXE_votewire"))
        .args(["serve", "--listen", "127.0.0.1:0", "--node-id", "log-check"])
        .args(["--log-format", "json", "--access-log"])
        .arg("--data-dir")
        .arg(&dir.0)
        .arg("--web-dir")
        .arg(dir.0.join("no-web-client"))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the votewire binary runs");
    let mut lines = BufReader::new(node.stderr.take().unwrap()).lines();
    let serving = next_line(&mut lines, |v| {
        v["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("votewire serving on"))
    })
    .await;
    let message = serving["fields"]["message"].as_str().unwrap();
    let base = message
        .trim_start_matches("votewire serving on ")
        .to_owned();

    let http = reqwest::Client::new();
    let given = http
        .get(format!("{base}/livez?invite=ABC123"))
        .header("x-request-id", "0f8e6b2c5d4a49e0")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "0f8e6b2c5d4a49e0");
    let access = next_line(&mut lines, |v| v["target"] == "access").await;
    assert_eq!(access["span"]["id"], "0f8e6b2c5d4a49e0", "{access}");
    assert_eq!(access["fields"]["path"], "/livez", "{access}");
    assert_eq!(access["fields"]["status"], 200, "{access}");
    assert!(
        !access.to_string().contains("ABC123"),
        "the query is not logged: {access}"
    );

    let own = http.get(format!("{base}/api/polls")).send().await.unwrap();
    let id = own.headers()["x-request-id"].to_str().unwrap().to_owned();
    let access = next_line(&mut lines, |v| v["target"] == "access").await;
    assert_eq!(access["span"]["id"], id.as_str(), "{access}");
    assert_eq!(access["fields"]["path"], "/api/polls", "{access}");
    node.kill().await.unwrap();
}
