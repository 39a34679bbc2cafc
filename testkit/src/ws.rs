//! A WebSocket client that awaits messages with a timeout, never sleeping.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use votewire_proto::ServerMessage;

/// How long a test waits for an event before failing.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

/// A WebSocket client of a node, its `hello` read.
pub struct WsClient {
    /// The socket, for tests that write raw frames.
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The node that said `hello`.
    pub node: String,
    /// The highest tally version received per poll, to tell an update that only
    /// recounts the audience (every two seconds or so) from one a test waits for.
    versions: HashMap<String, u64>,
}

impl WsClient {
    /// Connects to `url` (`ws://host:port/ws`) and reads the `hello`.
    pub async fn connect(url: &str) -> Self {
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the upgrade succeeds");
        Self::after_upgrade(stream).await
    }

    /// A client of a socket upgraded elsewhere, nothing read yet.
    pub fn upgraded(stream: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Self {
        Self {
            stream,
            node: String::new(),
            versions: HashMap::new(),
        }
    }

    /// Reads the `hello` of a socket upgraded elsewhere (with custom headers).
    pub async fn after_upgrade(stream: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Self {
        let mut client = Self::upgraded(stream);
        match client.recv().await {
            ServerMessage::Hello { node, protocol } => {
                assert_eq!(protocol, 1);
                client.node = node.to_string();
            }
            other => panic!("expected hello, got {other:?}"),
        }
        client
    }

    /// Sends a JSON text frame.
    pub async fn send_json(&mut self, value: Value) {
        self.stream
            .send(Message::text(value.to_string()))
            .await
            .expect("the socket takes the frame");
    }

    /// Subscribes to `poll`, with `since` when given.
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

    /// The next server message but the updates that only recount the audience (no
    /// newer tally, no votes): they come on the node's own beat, whatever a test does.
    pub async fn recv(&mut self) -> ServerMessage {
        loop {
            let message = self.read().await;
            let recount = matches!(&message, ServerMessage::Update { poll, tally, recent, skipped: 0, .. }
                if recent.is_empty() && self.versions.get(poll.as_str()) == Some(&tally.version));
            self.note(&message);
            if !recount {
                return message;
            }
        }
    }

    /// The next server message, whatever it is.
    pub async fn recv_any(&mut self) -> ServerMessage {
        let message = self.read().await;
        self.note(&message);
        message
    }

    async fn read(&mut self) -> ServerMessage {
        match self.next_frame().await {
            Message::Text(text) => serde_json::from_str(&text).expect("a valid server message"),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Notes the tally version a message carries.
    fn note(&mut self, message: &ServerMessage) {
        if let ServerMessage::Snapshot { poll, tally, .. }
        | ServerMessage::Update { poll, tally, .. }
        | ServerMessage::Closed { poll, tally } = message
        {
            let seen = self.versions.entry(poll.to_string()).or_default();
            *seen = (*seen).max(tally.version);
        }
    }

    /// Reads until a message matches, returning it, the audience's recounts included.
    pub async fn recv_until_any(
        &mut self,
        wanted: impl FnMut(&ServerMessage) -> bool,
    ) -> ServerMessage {
        self.read_until(true, wanted).await
    }

    /// Reads until a message matches, returning it.
    pub async fn recv_until(
        &mut self,
        wanted: impl FnMut(&ServerMessage) -> bool,
    ) -> ServerMessage {
        self.read_until(false, wanted).await
    }

    /// Reads (every message with `any`, else as [`WsClient::recv`]) until one matches.
    async fn read_until(
        &mut self,
        any: bool,
        mut wanted: impl FnMut(&ServerMessage) -> bool,
    ) -> ServerMessage {
        loop {
            let message = if any {
                self.recv_any().await
            } else {
                self.recv().await
            };
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
    message.tally().map(|tally| tally.version)
}
