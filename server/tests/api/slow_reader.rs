//! A socket that stops reading costs one frame of memory per watched poll, and gets
//! the latest tally when it reads again.

use std::sync::Arc;

use serde_json::json;
use tokio_tungstenite::MaybeTlsStream;
use votewire_proto::{ErrorCode, ServerMessage, VoteResponse};

use votewire_testkit::{WsClient, exempt_loopback, spawn_app_with, version_of};

const VOTES: usize = 20_000;
const VOTERS: usize = 200;
/// Each task votes for its own voters, in order: concurrent requests of one voter
/// would commit in either order (or in one batch), and not every one would change it.
const TASKS: usize = 40;
const VOTERS_PER_TASK: usize = VOTERS / TASKS;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_socket_that_stops_reading_stays_bounded_and_ends_on_the_final_version() {
    // A 1 ms tick, never stretched (the room would otherwise wait for its frames to
    // reach the reader, up to the longest tick), makes the room flush as often as it
    // can, to outrun the reader; and a small kernel send buffer, so the server notices
    // the stalled reader early.
    let app = Arc::new(
        spawn_app_with(|s| {
            s.tick = std::time::Duration::from_millis(1);
            s.max_tick = s.tick;
            s.limits.socket_send_buffer_bytes = 16 * 1024;
            // Thousands of votes from one address: load, past the abuse limits.
            exempt_loopback(s);
        })
        .await,
    );
    let poll = app.new_poll("Viral", &["yes", "no"]).await;

    // A small receive buffer, so the kernel stops taking frames for the client early.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(app.address).await.unwrap();
    let url = app.url("/ws").replace("http://", "ws://");
    let (ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    let mut slow = WsClient::after_upgrade(ws).await;
    slow.subscribe(&poll, None).await;
    assert!(matches!(slow.recv().await, ServerMessage::Snapshot { .. }));

    // The client now reads nothing while every vote lands.
    let voters = Arc::new(app.new_voters(VOTERS).await);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (app, poll, voters) = (app.clone(), poll.clone(), voters.clone());
        tasks.push(tokio::spawn(async move {
            let mut highest = 0;
            for n in 0..VOTES / TASKS {
                // Each voter alternates between the options: every vote changes the tally.
                let voter = task * VOTERS_PER_TASK + n % VOTERS_PER_TASK;
                let option = ((n / VOTERS_PER_TASK) % 2) as u32;
                let response = app.vote(&poll, &voters[voter], option).await;
                assert_eq!(response.status(), 200);
                highest = highest.max(response.json::<VoteResponse>().await.unwrap().vote.version);
            }
            highest
        }));
    }
    let mut final_version = 0;
    for task in tasks {
        final_version = final_version.max(task.await.unwrap());
    }
    assert_eq!(final_version, VOTES as u64);

    let metrics = app.metrics().await;
    let reading = |series: &str| -> u64 {
        let line = metrics
            .lines()
            .find(|line| line.starts_with(&format!("{series} ")))
            .unwrap_or_else(|| panic!("no {series} in /metrics"));
        line[series.len() + 1..].parse().unwrap()
    };
    eprintln!(
        "sent {} skipped {}",
        reading("votewire_updates_sent_total"),
        reading("votewire_updates_skipped_total")
    );
    assert!(
        reading("votewire_updates_skipped_total") > 0,
        "the reader never fell behind, so the test proved nothing"
    );
    assert_eq!(
        reading("votewire_outbox_peak_frames"),
        1,
        "one poll watched: never more than one frame queued"
    );

    // Reading again: the frames buffered in the kernel, then the latest tally.
    let last = slow
        .recv_until(|m| version_of(m) == Some(final_version))
        .await;
    let ServerMessage::Update { tally, .. } = last else {
        panic!("expected an update")
    };
    assert_eq!(tally.counts.iter().sum::<u64>(), VOTERS as u64);
    // Nothing older follows the final version: the next message is the answer to this.
    slow.send_json(json!({ "type": "probe" })).await;
    assert!(matches!(
        slow.recv().await,
        ServerMessage::Error {
            code: ErrorCode::UnknownMessageType,
            ..
        }
    ));
}
