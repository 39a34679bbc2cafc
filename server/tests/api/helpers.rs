//! `spawn_app()` and typed helpers: a real node on port 0 with a fresh data folder,
//! an HTTP client, and a WebSocket client that awaits messages (never sleeps).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use votewire_proto::{CreatedPoll, PollView, ServerMessage, VoterIssued};
use votewire_server::{AppState, Settings};

/// How long a test waits for an event before failing.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

/// A fresh folder under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("votewire-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A node running in this process.
pub struct TestApp {
    pub address: SocketAddr,
    pub app: AppState,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    pub dir: std::sync::Arc<TempDir>,
}

/// A node with default settings in a fresh folder.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A node whose settings `configure` adjusts.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_in(std::sync::Arc::new(TempDir::new("api")), configure).await
}

/// A node on the data folder `dir` (to restart on the same data).
pub async fn spawn_app_in(
    dir: std::sync::Arc<TempDir>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings::for_data_dir(&dir.0, "node-a");
    settings.web_dir = dir.0.join("no-web-client");
    configure(&mut settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = AppState::build(settings, None)
        .await
        .expect("the node starts");
    let server = tokio::spawn(votewire_server::run(listener, app.clone()));
    TestApp {
        address,
        app,
        http: reqwest::Client::new(),
        server,
        dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Fires the shutdown and waits for the server to finish draining.
    pub async fn stop(self) -> std::sync::Arc<TempDir> {
        self.app.shutdown.fire();
        self.server.await.unwrap().unwrap();
        self.dir
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn create_poll(&self, question: &str, options: &[&str]) -> CreatedPoll {
        let response = self
            .post(
                "/api/polls",
                &json!({ "question": question, "options": options }),
            )
            .await;
        assert_eq!(response.status(), 201, "creating a poll");
        response.json().await.unwrap()
    }

    /// Creates a poll and returns its id.
    pub async fn new_poll(&self, question: &str, options: &[&str]) -> String {
        self.create_poll(question, options)
            .await
            .poll
            .id
            .to_string()
    }

    /// GETs `path` and decodes its JSON body, whatever the status.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        response.json().await.unwrap()
    }

    /// Closes a poll with an owner token.
    pub async fn close_poll(&self, poll: &str, owner_token: &str) -> reqwest::Response {
        let url = self.url(&format!("/api/polls/{poll}/close"));
        self.http
            .post(url)
            .bearer_auth(owner_token)
            .send()
            .await
            .unwrap()
    }

    pub async fn new_voter(&self) -> String {
        let response = self
            .http
            .post(self.url("/api/voters"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json::<VoterIssued>().await.unwrap().voter_token
    }

    pub async fn vote(&self, poll: &str, voter: &str, option: u32) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/api/polls/{poll}/votes")))
            .header("authorization", format!("Voter {voter}"))
            .json(&json!({ "option": option }))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_poll(&self, poll: &str) -> PollView {
        let response = self
            .http
            .get(self.url(&format!("/api/polls/{poll}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Counts the votes table of this node's database, option by option.
    pub async fn recount(&self, poll: &str, options: usize) -> Vec<u64> {
        recount(&self.dir.0.join("votewire.db"), poll, options).await
    }

    /// A WebSocket client, its `hello` already read.
    pub async fn ws(&self) -> WsClient {
        WsClient::connect(&self.url("/ws").replace("http://", "ws://")).await
    }
}

/// Counts the votes of `poll` in the SQLite file at `db`.
pub async fn recount(db: &Path, poll: &str, options: usize) -> Vec<u64> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT option_idx, COUNT(*) FROM votes WHERE poll_id = ? GROUP BY option_idx",
    )
    .bind(poll)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let mut counts = vec![0; options];
    for (option, count) in rows {
        counts[option as usize] = count as u64;
    }
    counts
}

/// A WebSocket client that awaits messages with a timeout.
pub struct WsClient {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub node: String,
}

impl WsClient {
    pub async fn connect(url: &str) -> Self {
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the upgrade succeeds");
        Self::after_upgrade(stream).await
    }

    pub async fn after_upgrade(stream: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Self {
        let mut client = Self {
            stream,
            node: String::new(),
        };
        match client.recv().await {
            ServerMessage::Hello { node, protocol } => {
                assert_eq!(protocol, 1);
                client.node = node.to_string();
            }
            other => panic!("expected hello, got {other:?}"),
        }
        client
    }

    pub async fn send_json(&mut self, value: Value) {
        self.stream
            .send(Message::text(value.to_string()))
            .await
            .unwrap();
    }

    pub async fn subscribe(&mut self, poll: &str, since: Option<u64>) {
        let mut message = json!({ "type": "subscribe", "poll": poll });
        if let Some(since) = since {
            message["since"] = json!(since);
        }
        self.send_json(message).await;
    }

    /// The next raw frame (pings and pongs skipped).
    pub async fn next_frame(&mut self) -> Message {
        loop {
            let frame = tokio::time::timeout(EVENT_TIMEOUT, self.stream.next())
                .await
                .expect("a frame within the timeout")
                .expect("the socket is open")
                .expect("a valid frame");
            if !matches!(frame, Message::Ping(_) | Message::Pong(_)) {
                return frame;
            }
        }
    }

    /// The next server message.
    pub async fn recv(&mut self) -> ServerMessage {
        match self.next_frame().await {
            Message::Text(text) => serde_json::from_str(&text).expect("a valid server message"),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Reads until a message matches, returning it.
    pub async fn recv_until(
        &mut self,
        mut wanted: impl FnMut(&ServerMessage) -> bool,
    ) -> ServerMessage {
        loop {
            let message = self.recv().await;
            if wanted(&message) {
                return message;
            }
        }
    }

    /// Reads until the close frame, returning its code.
    pub async fn recv_close(&mut self) -> u16 {
        loop {
            match self.next_frame().await {
                Message::Close(Some(frame)) => return frame.code.into(),
                Message::Close(None) => return 1005,
                _ => {}
            }
        }
    }
}

/// The version a message carries, if it carries a tally.
pub fn version_of(message: &ServerMessage) -> Option<u64> {
    match message {
        ServerMessage::Snapshot { tally, .. }
        | ServerMessage::Update { tally, .. }
        | ServerMessage::Closed { tally, .. } => Some(tally.version),
        _ => None,
    }
}
