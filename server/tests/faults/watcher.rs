//! A browser-like WebSocket client watching one poll: it reads every message in the
//! background, records every version it sees, and when its socket drops it reconnects
//! (jittered backoff) and resubscribes with `since` = the highest version it has seen.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use votewire_proto::{ServerMessage, Tally};

use crate::api::show;

/// A reconnecting socket gives up after this long without a working connection.
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);
/// Longest a connect or the `hello` may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything one watcher saw.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// Every version received, in order, over all connections.
    pub versions: Vec<u64>,
    /// The tally with the highest version (what a client shows).
    pub last: Option<Tally>,
    /// The node of each connection's `hello`.
    pub nodes: Vec<String>,
    /// Connections that got their `hello` and sent `subscribe`.
    pub connections: u32,
    /// Whether the current connection is up.
    pub connected: bool,
    /// (shown, received) for every message with a lower version than one already seen.
    pub went_down: Vec<(u64, u64)>,
    /// Two tallies with the same version and different counts.
    pub conflicts: Vec<(Tally, Tally)>,
    /// The nodes named in updates' `recent` votes.
    pub recent_nodes: Vec<String>,
    /// `error` messages and connection failures, in words.
    pub errors: Vec<String>,
    /// Drops of an established connection.
    pub drops: u32,
    pub gave_up: bool,
}

impl Seen {
    pub fn node(&self) -> &str {
        self.nodes.last().map_or("", String::as_str)
    }

    pub fn version(&self) -> Option<u64> {
        self.last.as_ref().map(|t| t.version)
    }

    fn record(&mut self, tally: &Tally) {
        let v = tally.version;
        if let Some(shown) = &self.last {
            if v < shown.version {
                self.went_down.push((shown.version, v));
            } else if v == shown.version && tally != shown {
                self.conflicts.push((shown.clone(), tally.clone()));
            }
        }
        self.versions.push(v);
        if self.last.as_ref().is_none_or(|shown| v > shown.version) {
            self.last = Some(tally.clone());
        }
    }

    pub fn summary(&self) -> String {
        format!(
            "on {} after {} connection(s), {} message(s), shows {}, went down {:?}, errors {:?}",
            self.node(),
            self.connections,
            self.versions.len(),
            self.last.as_ref().map_or("nothing".into(), show),
            self.went_down,
            self.errors
        )
    }
}

/// One watching socket.
pub struct Watcher {
    pub label: String,
    seen: watch::Receiver<Seen>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    /// Connects to `base` (`http://host:port`, nginx or a node) and watches `poll`; waits
    /// for the first connection's snapshot.
    pub async fn start(label: impl Into<String>, base: &str, poll: &str) -> Watcher {
        let label = label.into();
        let url = format!("{}/ws", base.replacen("http://", "ws://", 1));
        let (tx, seen) = watch::channel(Seen::default());
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(url, poll.to_owned(), tx, stop_rx));
        let watcher = Watcher {
            label,
            seen,
            stop,
            task,
        };
        watcher
            .wait("its first snapshot", Duration::from_secs(10), |s| {
                s.last.is_some()
            })
            .await;
        watcher
    }

    pub fn seen(&self) -> Seen {
        self.seen.borrow().clone()
    }

    pub fn node(&self) -> String {
        self.seen.borrow().node().to_owned()
    }

    /// Waits until `done` holds, failing with `what` and what the socket saw.
    pub async fn wait(&self, what: &str, within: Duration, done: impl Fn(&Seen) -> bool) {
        let mut rx = self.seen.clone();
        if tokio::time::timeout(within, rx.wait_for(|s| done(s)))
            .await
            .is_err()
        {
            panic!(
                "socket {}: not {what} within {within:?}: {}",
                self.label,
                self.seen.borrow().summary()
            );
        }
    }

    /// Like [`Self::wait`] until `deadline`, returning whether it held.
    pub async fn wait_until(&self, deadline: Instant, done: impl Fn(&Seen) -> bool) -> bool {
        let mut rx = self.seen.clone();
        tokio::time::timeout_at(deadline.into(), rx.wait_for(|s| done(s)))
            .await
            .is_ok()
    }

    /// Closes the socket (a close frame, as a browser leaving) and returns what it saw.
    pub async fn close(self) -> Seen {
        let _ = self.stop.send(true);
        if tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .is_err()
        {
            panic!("socket {} did not close within 5 s", self.label);
        }
        self.seen.borrow().clone()
    }
}

async fn run(url: String, poll: String, tx: watch::Sender<Seen>, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(100);
    let mut down_since = Instant::now();
    loop {
        if *stop.borrow() {
            return;
        }
        let attempt = tokio::select! {
            _ = stop.changed() => return,
            r = tokio::time::timeout(CONNECT_TIMEOUT, connect(&url)) => r,
        };
        let mut stream = match attempt {
            Ok(Ok((stream, node))) => {
                // Resubscribe from what the client shows, as the web client does.
                let since = tx.borrow().version();
                let mut message = json!({ "type": "subscribe", "poll": poll });
                if let Some(since) = since {
                    message["since"] = json!(since);
                }
                let mut stream = stream;
                if let Err(e) = stream.send(Message::text(message.to_string())).await {
                    tx.send_modify(|s| s.errors.push(format!("subscribe on {node}: {e}")));
                    if !retry(&tx, &mut stop, &mut backoff, down_since).await {
                        return;
                    }
                    continue;
                }
                tx.send_modify(|s| {
                    s.nodes.push(node);
                    s.connections += 1;
                    s.connected = true;
                });
                backoff = Duration::from_millis(100);
                stream
            }
            Ok(Err(e)) => {
                if tx.borrow().errors.len() < 20 {
                    tx.send_modify(|s| s.errors.push(e));
                }
                if !retry(&tx, &mut stop, &mut backoff, down_since).await {
                    return;
                }
                continue;
            }
            Err(_) => {
                tx.send_modify(|s| {
                    s.errors
                        .push(format!("connect timed out ({CONNECT_TIMEOUT:?})"))
                });
                if !retry(&tx, &mut stop, &mut backoff, down_since).await {
                    return;
                }
                continue;
            }
        };
        loop {
            let frame = tokio::select! {
                _ = stop.changed() => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), stream.close(None)).await;
                    // Read until the server's close answer, so it has seen ours.
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        while let Some(Ok(_)) = stream.next().await {}
                    }).await;
                    return;
                }
                frame = stream.next() => frame,
            };
            match frame {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMessage>(&text)
                {
                    Ok(
                        ServerMessage::Snapshot { tally, .. } | ServerMessage::Closed { tally, .. },
                    ) => tx.send_modify(|s| s.record(&tally)),
                    Ok(ServerMessage::Update { tally, recent, .. }) => tx.send_modify(|s| {
                        s.record(&tally);
                        s.recent_nodes
                            .extend(recent.iter().map(|r| r.node.to_string()));
                    }),
                    Ok(ServerMessage::Error { code, message }) => tx.send_modify(|s| {
                        s.errors
                            .push(format!("error message {}: {message}", code.as_str()))
                    }),
                    Ok(ServerMessage::Hello { .. }) => {
                        tx.send_modify(|s| s.errors.push("a second hello".into()))
                    }
                    // Watchers carry no voter cookie and ask for no telemetry.
                    Ok(ServerMessage::Rejected { .. } | ServerMessage::Cluster { .. }) => tx
                        .send_modify(|s| {
                            s.errors
                                .push(format!("a message not meant for a watcher: {text}"))
                        }),
                    Err(e) => tx.send_modify(|s| s.errors.push(format!("bad message {text}: {e}"))),
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
        tx.send_modify(|s| {
            s.connected = false;
            s.drops += 1;
        });
        down_since = Instant::now();
        if !retry(&tx, &mut stop, &mut backoff, down_since).await {
            return;
        }
    }
}

/// Connects and reads the `hello`: the stream and the node it names.
async fn connect(
    url: &str,
) -> Result<
    (
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        String,
    ),
    String,
> {
    let (mut stream, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| format!("connect {url}: {e}"))?;
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(text))) => {
                return match serde_json::from_str::<ServerMessage>(&text) {
                    Ok(ServerMessage::Hello { node, protocol: 1 }) => {
                        Ok((stream, node.to_string()))
                    }
                    other => Err(format!("expected hello, got {other:?}")),
                };
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => return Err(format!("expected hello, got {other:?}")),
        }
    }
}

/// Sleeps a jittered backoff (doubling up to 2 s); false when stopped or given up.
async fn retry(
    tx: &watch::Sender<Seen>,
    stop: &mut watch::Receiver<bool>,
    backoff: &mut Duration,
    down_since: Instant,
) -> bool {
    if down_since.elapsed() > GIVE_UP_AFTER {
        tx.send_modify(|s| s.gave_up = true);
        return false;
    }
    let jitter = jitter(backoff.as_millis() as u64);
    let pause = *backoff + Duration::from_millis(jitter);
    *backoff = (*backoff * 2).min(Duration::from_secs(2));
    tokio::select! {
        _ = stop.changed() => false,
        _ = tokio::time::sleep(pause) => true,
    }
}

/// 0..n, from the clock: spreads reconnects without a random-number dependency.
fn jitter(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    if n == 0 {
        0
    } else {
        nanos.wrapping_mul(0x9E37_79B9) % n
    }
}
