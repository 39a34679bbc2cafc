//! Restarts and shutdown: data survives, SIGTERM drains without losing an
//! acknowledged vote, sockets are told 1001.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use votewire_proto::VoteResponse;

use votewire_testkit::db::recount_sqlite as recount;
use votewire_testkit::{Client, EVENT_TIMEOUT, TempDir, spawn_app, spawn_app_in};

#[tokio::test]
async fn polls_votes_and_voter_tokens_survive_a_restart() {
    let app = spawn_app().await;
    let poll = app.new_poll("Durable?", &["yes", "no"]).await;
    let voter = app.new_voter().await;
    let before: VoteResponse = app.vote(&poll, &voter, 0).await.json().await.unwrap();
    let dir = app.stop().await;

    let app = spawn_app_in(dir, |_| {}).await;
    let after = app.get_poll(&poll).await;
    assert_eq!(after.tally, before.tally);
    let again: VoteResponse = app.vote(&poll, &voter, 0).await.json().await.unwrap();
    assert_eq!(
        again.tally, before.tally,
        "the same voter (same key) repeating its vote changes nothing"
    );
}

/// The `votewire` binary, started on a free port.
struct Node {
    child: Child,
    client: Client,
}

impl Node {
    async fn start(dir: &Path) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_votewire"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--node-id",
                "node-sig",
                "--drain-secs",
                "10",
            ])
            .arg("--data-dir")
            .arg(dir)
            .arg("--web-dir")
            .arg(dir.join("none"))
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let base = tokio::time::timeout(EVENT_TIMEOUT, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                eprintln!("node: {line}");
                if let Some(at) = line.find("serving on http://") {
                    let rest = &line[at + "serving on ".len()..];
                    return rest.split_whitespace().next().unwrap().to_owned();
                }
            }
            panic!("the node exited before serving");
        })
        .await
        .expect("the node serves within the timeout");
        // Keep draining its log so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Node {
            child,
            client: Client::new(base),
        }
    }

    fn sigterm(&self) {
        let pid = self.child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// Each voter votes one after another; what it tried and what was acknowledged.
#[derive(Default)]
struct VoterLog {
    acknowledged: Option<u32>,
    attempted_after_ack: Vec<u32>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_while_votes_are_in_flight_loses_no_acknowledged_vote_and_closes_sockets_with_1001()
{
    let dir = TempDir::new("sigterm");
    let mut node = Node::start(&dir.0).await;
    let poll = node.client.new_poll("Drain?", &["a", "b", "c"]).await;
    let mut sockets = Vec::new();
    for _ in 0..2 {
        let mut socket = node.client.ws().await;
        socket.subscribe(&poll, None).await;
        socket.recv().await;
        sockets.push(socket);
    }

    let acknowledged = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(tokio::sync::Notify::new());
    let mut voters = Vec::new();
    for _ in 0..8 {
        let token = node.client.new_voter().await;
        let (client, poll) = (node.client.clone(), poll.clone());
        let (acknowledged, enough) = (acknowledged.clone(), enough.clone());
        voters.push(tokio::spawn(async move {
            let mut log = VoterLog::default();
            for n in 0..5_000u32 {
                let option = n % 3;
                let sent = client
                    .http
                    .post(client.url(&format!("/api/polls/{poll}/votes")))
                    .header("authorization", format!("Voter {token}"))
                    .json(&serde_json::json!({ "option": option }))
                    .send()
                    .await;
                let acked = match sent {
                    Ok(response) if response.status() == 200 => {
                        response.json::<VoteResponse>().await.is_ok()
                    }
                    _ => false,
                };
                match acked {
                    true => {
                        log.acknowledged = Some(option);
                        log.attempted_after_ack.clear();
                        if acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == 200 {
                            enough.notify_one();
                        }
                    }
                    _ => {
                        // Not acknowledged: it may or may not have committed. The node is going.
                        log.attempted_after_ack.push(option);
                        break;
                    }
                }
            }
            (token, log)
        }));
    }
    tokio::time::timeout(EVENT_TIMEOUT, enough.notified())
        .await
        .expect("200 votes acknowledged");
    node.sigterm();
    for socket in &mut sockets {
        assert_eq!(
            socket.recv_close().await,
            1001,
            "sockets are told the server is going away"
        );
    }
    let status = tokio::time::timeout(EVENT_TIMEOUT, node.child.wait())
        .await
        .expect("the node exits in time")
        .unwrap();
    assert!(status.success(), "a drained node exits cleanly: {status}");
    let mut logs = HashMap::new();
    for voter in voters {
        let (token, log) = voter.await.unwrap();
        logs.insert(token.split_once('.').unwrap().0.to_owned(), log);
    }

    let node = Node::start(&dir.0).await;
    let view = node.client.get_poll(&poll).await;
    let db = dir.0.join("votewire.db");
    assert_eq!(
        view.tally.counts,
        recount(&db, &poll, 3).await,
        "the tally equals a recount"
    );
    let stored = stored_votes(&db, &poll).await;
    for (voter, log) in &logs {
        let Some(acked) = log.acknowledged else {
            continue;
        };
        let in_db = stored
            .get(voter)
            .copied()
            .expect("an acknowledged voter has a vote");
        assert!(
            in_db == acked || log.attempted_after_ack.contains(&in_db),
            "voter {voter}: acknowledged {acked}, stored {in_db}"
        );
    }
    node.sigterm();
}

async fn stored_votes(db: &Path, poll: &str) -> HashMap<String, u32> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT voter_id, option_idx FROM votes WHERE poll_id = ?")
            .bind(poll)
            .fetch_all(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    rows.into_iter()
        .map(|(voter, option)| (voter, option as u32))
        .collect()
}
