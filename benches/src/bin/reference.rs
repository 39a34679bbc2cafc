//! The reference server for the fan-out ratios in BENCHMARKS.md: the least a server
//! must do to show every watcher a live tally, and nothing more. Votes are counted in
//! memory (no database, no Redis, no voters checked), and a 50 ms tick sends every
//! socket one frame with the tally when it changed. It speaks as much of votewire's
//! contract as loadgen's `fanout` scenario uses, in the same frames, so votewire's
//! latency over the reference's is what durability, the bus and the rest cost.
//!
//!   reference --listen 127.0.0.1:28090

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use serde_json::{Value, json};
use tokio::sync::watch;
use votewire_proto::{PollId, PollStatus, ServerMessage, Tally};

/// The one poll's counts, and the frame every socket is sent next.
struct Poll {
    counts: Vec<AtomicU64>,
    version: AtomicU64,
    frames: watch::Sender<Utf8Bytes>,
}

const POLL: &str = "reference";
const TICK: Duration = Duration::from_millis(50);

#[derive(Parser)]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:28090")]
    listen: SocketAddr,
}

impl Poll {
    fn tally(&self) -> Tally {
        let counts: Vec<u64> = self.counts.iter().map(|c| c.load(Relaxed)).collect();
        let total = counts.iter().sum();
        let version = self.version.load(Relaxed);
        Tally {
            version,
            counts,
            total,
        }
    }

    fn frame(&self, message: ServerMessage) -> Utf8Bytes {
        Utf8Bytes::from(serde_json::to_string(&message).expect("messages serialize"))
    }

    fn update(&self) -> Utf8Bytes {
        let (poll, tally) = (PollId::parse(POLL).expect("a valid id"), self.tally());
        let (recent, skipped, status, results, watching) = (Vec::new(), 0, None, None, None);
        self.frame(ServerMessage::Update {
            poll,
            status,
            tally,
            results,
            recent,
            skipped,
            watching,
        })
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let (frames, _) = watch::channel(Utf8Bytes::from_static(""));
    let poll = Arc::new(Poll {
        counts: (0..4).map(|_| AtomicU64::new(0)).collect(),
        version: AtomicU64::new(0),
        frames,
    });
    tokio::spawn(tick(poll.clone()));
    let app =
        Router::new()
            .route(
                "/api/polls",
                post(|| async { Json(json!({ "poll": { "id": POLL }, "owner_token": "" })) }),
            )
            .route(
                "/api/voters",
                post(|| async { Json(json!({ "voter_token": "anyone" })) }),
            )
            .route(
                "/api/polls/{id}",
                get(|State(poll): State<Arc<Poll>>| async move {
                    Json(json!({ "tally": poll.tally() }))
                }),
            )
            .route("/api/polls/{id}/votes", post(vote))
            .route(
                "/ws",
                get(
                    |ws: WebSocketUpgrade, State(poll): State<Arc<Poll>>| async move {
                        ws.on_upgrade(|socket| watch_poll(socket, poll))
                    },
                ),
            )
            .with_state(poll);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!("reference server on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

/// Every tick, the frame of a changed tally goes to every socket.
async fn tick(poll: Arc<Poll>) {
    let mut every = tokio::time::interval(TICK);
    let mut sent = 0;
    loop {
        every.tick().await;
        if poll.version.load(Relaxed) != sent {
            sent = poll.version.load(Relaxed);
            poll.frames.send_replace(poll.update());
        }
    }
}

async fn vote(
    State(poll): State<Arc<Poll>>,
    Path(_): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let option = body["option"].as_u64().unwrap_or(0) as usize % poll.counts.len();
    poll.counts[option].fetch_add(1, Relaxed);
    let version = poll.version.fetch_add(1, Relaxed) + 1;
    Json(json!({ "vote": { "version": version }, "tally": poll.tally() }))
}

/// A socket: the snapshot once it subscribes, then the newest frame after each tick.
async fn watch_poll(mut socket: WebSocket, poll: Arc<Poll>) {
    let mut frames = poll.frames.subscribe();
    let Some(Ok(Message::Text(_subscribe))) = socket.recv().await else {
        return;
    };
    let (id, tally) = (PollId::parse(POLL).expect("a valid id"), poll.tally());
    let snapshot = ServerMessage::Snapshot {
        poll: id,
        status: PollStatus::Open,
        tally,
        results: None,
        watching: None,
    };
    if socket
        .send(Message::Text(poll.frame(snapshot)))
        .await
        .is_err()
    {
        return;
    }
    frames.mark_unchanged();
    loop {
        tokio::select! {
            changed = frames.changed() => {
                let frame = frames.borrow_and_update().clone();
                if changed.is_err() || socket.send(Message::Text(frame)).await.is_err() {
                    return;
                }
            }
            message = socket.recv() => if !matches!(message, Some(Ok(_))) { return },
        }
    }
}
