//! A REST and WebSocket client of one node (or of the proxy in front of several), with
//! typed helpers for what tests do over and over. Each helper fails the test when the
//! node does not answer as it must.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use votewire_proto::{CreatedPoll, PollView, VoterIssued};

use crate::ws::WsClient;

/// Where to send requests, and the HTTP client that sends them.
#[derive(Debug, Clone)]
pub struct Client {
    /// `http://host:port`, no trailing slash.
    pub base: String,
    /// The HTTP client, for requests no helper makes.
    pub http: reqwest::Client,
}

impl Client {
    /// A client of the node (or proxy) at `base`, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: impl Into<String>) -> Self {
        Self::with_http(base, reqwest::Client::new())
    }

    /// The same, sending through `http` (with its own timeouts, say).
    pub fn with_http(base: impl Into<String>, http: reqwest::Client) -> Self {
        Self {
            base: base.into(),
            http,
        }
    }

    /// The URL of `path` there.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `request`; fails the test when the node does not answer at all.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        request.send().await.expect("the node answers")
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(self.http.get(self.url(path))).await
    }

    /// POSTs `body` as JSON to `path`.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    /// Creates a poll; fails the test unless it is created.
    pub async fn create_poll(&self, question: &str, options: &[&str]) -> CreatedPoll {
        let body = json!({ "question": question, "options": options });
        let response = self.post("/api/polls", &body).await;
        assert_eq!(response.status(), 201, "creating a poll");
        response.json().await.expect("a created poll")
    }

    /// Creates a poll and returns its id.
    pub async fn new_poll(&self, question: &str, options: &[&str]) -> String {
        let created = self.create_poll(question, options).await;
        created.poll.id.to_string()
    }

    /// GETs `path` and decodes its JSON body, whatever the status.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.get(path).await.json().await.expect("a JSON body")
    }

    /// GETs `/metrics`.
    pub async fn metrics(&self) -> String {
        let response = self.get("/metrics").await;
        assert_eq!(response.status(), 200, "/metrics of {}", self.base);
        response.text().await.expect("a text body")
    }

    /// Closes a poll with an owner token.
    pub async fn close_poll(&self, poll: &str, owner_token: &str) -> reqwest::Response {
        let url = self.url(&format!("/api/polls/{poll}/close"));
        self.send(self.http.post(url).bearer_auth(owner_token))
            .await
    }

    /// A new voter's token.
    pub async fn new_voter(&self) -> String {
        let response = self.send(self.http.post(self.url("/api/voters"))).await;
        assert_eq!(response.status(), 201);
        let issued: VoterIssued = response.json().await.expect("a voter");
        issued.voter_token
    }

    /// `count` new voters' tokens.
    pub async fn new_voters(&self, count: usize) -> Vec<String> {
        let mut voters = Vec::with_capacity(count);
        for _ in 0..count {
            voters.push(self.new_voter().await);
        }
        voters
    }

    /// Votes for `option` as the voter of `voter` (a token).
    pub async fn vote(&self, poll: &str, voter: &str, option: u32) -> reqwest::Response {
        self.vote_with(poll, voter, &json!({ "option": option }))
            .await
    }

    /// Sends `body` as a vote of the voter of `voter` (a token), whatever it holds.
    pub async fn vote_with(&self, poll: &str, voter: &str, body: &Value) -> reqwest::Response {
        let request = self
            .http
            .post(self.url(&format!("/api/polls/{poll}/votes")))
            .header("authorization", format!("Voter {voter}"))
            .json(body);
        self.send(request).await
    }

    /// Reads a poll; fails the test unless it is found.
    pub async fn get_poll(&self, poll: &str) -> PollView {
        let response = self.get(&format!("/api/polls/{poll}")).await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("a poll view")
    }

    /// A WebSocket client, its `hello` already read.
    pub async fn ws(&self) -> WsClient {
        WsClient::connect(&self.url("/ws").replace("http://", "ws://")).await
    }

    /// A WebSocket client that carries `voter`'s cookie, as a browser's does.
    pub async fn ws_as(&self, voter: &str) -> WsClient {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = self.url("/ws").replace("http://", "ws://");
        let mut request = url.into_client_request().expect("a WebSocket URL");
        let cookie = format!("votewire_voter={voter}")
            .parse()
            .expect("a token is ASCII");
        request.headers_mut().insert("cookie", cookie);
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the upgrade succeeds");
        WsClient::after_upgrade(stream).await
    }
}

/// Asks `check` until it answers `Ok`, every 20 ms, for what announces itself with no
/// event to await (a heartbeat, a probe): fails the test after `within` with the last
/// `Err`, which says what was seen instead.
pub async fn eventually<T, F, Fut>(within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + within;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => {
                panic!("not within {within:?}: {seen}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}
