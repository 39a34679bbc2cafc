//! `spawn_app()`: a real node on port 0 with a fresh data folder, an HTTP client, and
//! typed helpers for what tests do over and over.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Value, json};
use votewire_proto::{CreatedPoll, PollView, VoterIssued};
use votewire_server::{Node, Settings, Shutdown};

use crate::db::recount_sqlite;
use crate::dirs::TempDir;
use crate::ws::WsClient;

/// A node running in this process.
pub struct TestApp {
    /// Where it listens.
    pub address: SocketAddr,
    /// Its settings.
    pub settings: Settings,
    /// Fires its shutdown.
    pub shutdown: Shutdown,
    /// A client for its REST API.
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Its data folder, shared with a node restarted on the same data.
    pub dir: Arc<TempDir>,
}

/// A node with default settings in a fresh folder.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A node whose settings `configure` adjusts.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_in(Arc::new(TempDir::new("api")), configure).await
}

/// A node on the data folder `dir` (to restart on the same data).
pub async fn spawn_app_in(dir: Arc<TempDir>, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::for_data_dir(&dir.0, "node-a");
    settings.web_dir = dir.0.join("no-web-client");
    configure(&mut settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("a bound address");
    let shutdown = Shutdown::new();
    let node = Node::build(settings.clone(), shutdown.clone())
        .await
        .expect("the node starts");
    let server = tokio::spawn(node.serve(listener));
    TestApp {
        address,
        settings,
        shutdown,
        http: reqwest::Client::new(),
        server,
        dir,
    }
}

impl TestApp {
    /// The URL of `path` on this node.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Fires the shutdown and waits for the server to finish draining.
    pub async fn stop(self) -> Arc<TempDir> {
        self.shutdown.fire();
        self.server
            .await
            .expect("the server task ends")
            .expect("the server drains cleanly");
        self.dir
    }

    /// POSTs `body` as JSON to `path`.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("the node answers")
    }

    /// Creates a poll; fails the test unless it is created.
    pub async fn create_poll(&self, question: &str, options: &[&str]) -> CreatedPoll {
        let response = self
            .post(
                "/api/polls",
                &json!({ "question": question, "options": options }),
            )
            .await;
        assert_eq!(response.status(), 201, "creating a poll");
        response.json().await.expect("a created poll")
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
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .expect("the node answers");
        response.json().await.expect("a JSON body")
    }

    /// GETs `/metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("the node answers")
            .text()
            .await
            .expect("a text body")
    }

    /// Closes a poll with an owner token.
    pub async fn close_poll(&self, poll: &str, owner_token: &str) -> reqwest::Response {
        let url = self.url(&format!("/api/polls/{poll}/close"));
        self.http
            .post(url)
            .bearer_auth(owner_token)
            .send()
            .await
            .expect("the node answers")
    }

    /// A new voter's token.
    pub async fn new_voter(&self) -> String {
        let response = self
            .http
            .post(self.url("/api/voters"))
            .send()
            .await
            .expect("the node answers");
        assert_eq!(response.status(), 201);
        response
            .json::<VoterIssued>()
            .await
            .expect("a voter")
            .voter_token
    }

    /// Votes for `option` as the voter of `voter` (a token).
    pub async fn vote(&self, poll: &str, voter: &str, option: u32) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/api/polls/{poll}/votes")))
            .header("authorization", format!("Voter {voter}"))
            .json(&json!({ "option": option }))
            .send()
            .await
            .expect("the node answers")
    }

    /// Reads a poll; fails the test unless it is found.
    pub async fn get_poll(&self, poll: &str) -> PollView {
        let response = self
            .http
            .get(self.url(&format!("/api/polls/{poll}")))
            .send()
            .await
            .expect("the node answers");
        assert_eq!(response.status(), 200);
        response.json().await.expect("a poll view")
    }

    /// Counts the votes table of this node's database, option by option.
    pub async fn recount(&self, poll: &str, options: usize) -> Vec<u64> {
        recount_sqlite(&self.dir.0.join("votewire.db"), poll, options).await
    }

    /// A WebSocket client, its `hello` already read.
    pub async fn ws(&self) -> WsClient {
        WsClient::connect(&self.url("/ws").replace("http://", "ws://")).await
    }
}
