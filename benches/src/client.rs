//! The public contract, as a load generator uses it.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use votewire_proto::{CreatedPoll, ServerMessage, VoteResponse};

/// A socket connected to `/ws`.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a call failed, in words.
pub type Failure = String;

/// The HTTP side of the contract.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A client of the node (or proxy) at `base`, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a plain HTTP client builds");
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Creates a poll with `options` options.
    pub async fn create_poll(&self, options: usize) -> Result<CreatedPoll, Failure> {
        let options: Vec<String> = (0..options).map(|i| format!("option {i}")).collect();
        let body = json!({ "question": "loadgen", "options": options });
        let response = self
            .http
            .post(format!("{}/api/polls", self.base))
            .json(&body)
            .send()
            .await;
        let response = response.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("creating a poll: {}", response.status()));
        }
        response.json().await.map_err(|e| e.to_string())
    }

    /// One vote by a new voter (the node issues it): returns the acknowledged version
    /// and how long the request took.
    pub async fn vote_as_new_voter(
        &self,
        poll: &str,
        option: u32,
    ) -> Result<(u64, Duration), Failure> {
        self.vote(poll, None, option).await
    }

    /// One vote, as `voter` when given.
    pub async fn vote(
        &self,
        poll: &str,
        voter: Option<&str>,
        option: u32,
    ) -> Result<(u64, Duration), Failure> {
        let started = Instant::now();
        let mut request = self
            .http
            .post(format!("{}/api/polls/{poll}/votes", self.base))
            .json(&json!({ "option": option }));
        if let Some(voter) = voter {
            request = request.header("authorization", format!("Voter {voter}"));
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("vote answered {}", response.status()));
        }
        let body: VoteResponse = response.json().await.map_err(|e| e.to_string())?;
        Ok((body.vote.version, started.elapsed()))
    }

    /// The poll's total and version, as the API reads them.
    pub async fn tally(&self, poll: &str) -> Result<votewire_proto::Tally, Failure> {
        let response = self
            .http
            .get(format!("{}/api/polls/{poll}", self.base))
            .send()
            .await;
        let view: votewire_proto::PollView = response
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        Ok(view.tally)
    }

    /// Opens a socket and subscribes it to `poll`, returning once the snapshot arrived.
    pub async fn watch(&self, poll: &str) -> Result<(Socket, u64), Failure> {
        let url = format!("{}/ws", self.base.replacen("http", "ws", 1));
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| e.to_string())?;
        let subscribe = json!({ "type": "subscribe", "poll": poll }).to_string();
        socket
            .send(Message::text(subscribe))
            .await
            .map_err(|e| e.to_string())?;
        loop {
            match next_message(&mut socket).await? {
                ServerMessage::Snapshot { tally, .. } => return Ok((socket, tally.version)),
                ServerMessage::Error { code, message } => {
                    return Err(format!("{code:?}: {message}"));
                }
                _ => {}
            }
        }
    }
}

/// The next server message on a socket.
pub async fn next_message(socket: &mut Socket) -> Result<ServerMessage, Failure> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(&text).map_err(|e| e.to_string());
            }
            Some(Ok(Message::Close(_))) | None => return Err("the socket closed".into()),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
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
