//! One WebSocket session: a single `select!` loop over the client's messages, the
//! outbox, the ping timer and the shutdown signal.
//!
//! Written over `Sink + Stream` rather than axum's `WebSocket` alone so a test can
//! drive it with any transport. Frames for watched polls come through the socket's
//! [`Outbox`] (latest per poll); replies to the client's own messages (snapshot,
//! error) are written directly, in order.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, close_code};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use votewire_proto::{ClientMessage, ErrorCode, PROTOCOL_VERSION, PollId, Secret, ServerMessage};

use super::limits::RateLimit;
use super::probes::Probes;
use super::watching::Watching;
use crate::abuse::AddressGuard;
use crate::fanout::{Watcher, encode};
use crate::presence::PRESENCE_INTERVAL;
use crate::sessions::SessionGuard;
use crate::state::AppState;

/// Why a session ended, for the log and the close frame.
#[derive(Debug)]
enum End {
    /// The client sent a close frame: tungstenite queued the echo, sent on the way out.
    ClientClosed,
    Broken,
    WriteTimeout,
    Idle,
    TooLarge,
    /// A frame breaking RFC 6455 (reserved bits or opcodes, unmasked, a fragmented or
    /// oversized control frame, a continuation of nothing, ...): close 1002.
    Protocol,
    /// A text message (or close reason) that is not UTF-8: close 1007.
    InvalidPayload,
    Shutdown,
}

struct Session<S> {
    socket: S,
    app: AppState,
    /// This socket in the fan-out: its number and its outbox.
    watcher: Watcher,
    /// The polls watched, each with the highest version this socket was sent.
    watching: Watching,
    rate: RateLimit,
    /// Frames sent with a ping after them, until the pong says the client read them.
    probes: Probes,
    last_heard: Instant,
    /// Set once the client sent `watch_cluster`: when the next telemetry goes out.
    /// Boxed: nearly every socket never asks, and an interval would weigh on each.
    cluster_feed: Option<Box<tokio::time::Interval>>,
}

/// Builds the session of `socket` and returns the future that runs it until the client
/// leaves, the connection breaks, or the node shuts down. `place` (its admission) and
/// `address` (its address's place) are released when it ends. `voter` is the voter
/// whose cookie the socket carried: the notices meant for them reach this socket.
///
/// A plain function returning an `async move` block, not an `async fn`: an `async fn`
/// keeps its arguments beside the session built from them, a second copy of the socket.
/// This future is most of an idle socket's memory, so it holds the session once.
pub(super) fn run<S>(
    socket: S,
    app: AppState,
    place: SessionGuard,
    address: Option<AddressGuard>,
    voter: Option<String>,
) -> impl Future<Output = ()> + Send
where
    S: Stream<Item = Result<Message, axum::Error>>
        + Sink<Message, Error = axum::Error>
        + Unpin
        + Send,
{
    let outbox = app.fanout.outbox(voter);
    let mut session = Session {
        socket,
        watcher: Watcher {
            id: place.id,
            outbox,
        },
        watching: Watching::default(),
        rate: RateLimit::per_second(app.settings.limits.ws_messages_per_sec),
        probes: Probes::default(),
        last_heard: Instant::now(),
        cluster_feed: None,
        app,
    };
    async move {
        let end = session.serve().await;
        tracing::debug!(socket = place.id, ?end, "session ended");
        for poll in session.watching.drain() {
            session.app.watch.unsubscribe(&poll, &session.watcher).await;
        }
        drop(place);
        drop(address);
    }
}

impl<S> Session<S>
where
    S: Stream<Item = Result<Message, axum::Error>>
        + Sink<Message, Error = axum::Error>
        + Unpin
        + Send,
{
    async fn serve(&mut self) -> End {
        let hello = ServerMessage::Hello {
            node: self.app.settings.node_id.clone(),
            protocol: PROTOCOL_VERSION,
        };
        if let Err(end) = self.send(Message::Text(encode(&hello))).await {
            return end;
        }
        let idle_after = self.app.settings.limits.ws_idle;
        let mut ping = tokio::time::interval(self.app.settings.limits.ws_ping);
        ping.reset(); // the first tick would fire at once
        let shutdown = self.app.shutdown.clone();
        // One wait for the whole session, not a fresh one on every turn of the loop.
        let mut shutting_down = std::pin::pin!(shutdown.wait());
        let end = loop {
            let step = tokio::select! {
                _ = &mut shutting_down => Err(End::Shutdown),
                // Boxed: a client message is rare, and its handling (a subscribe reads
                // the database) would otherwise make every idle session's future as large.
                message = self.socket.next() => Box::pin(self.receive(message)).await,
                // Boxed too: its frame and write would otherwise weigh on every idle
                // session, and an allocation per flush is little beside the write.
                _ = self.watcher.outbox.ready() => Box::pin(self.flush_outbox()).await,
                () = next_telemetry(&mut self.cluster_feed) => Box::pin(self.send_cluster()).await,
                _ = ping.tick() => {
                    if self.last_heard.elapsed() > idle_after {
                        Err(End::Idle)
                    } else {
                        self.send(Message::Ping(Default::default())).await
                    }
                }
            };
            if let Err(end) = step {
                break end;
            }
        };
        // Boxed: once per session, and its timers would weigh on every idle one.
        Box::pin(self.close(&end)).await;
        end
    }

    /// Tells the client why the session ends, when there is someone to tell, within a
    /// second.
    async fn close(&mut self, end: &End) {
        let close = match end {
            End::Shutdown => Some((close_code::AWAY, "server shutting down")),
            End::Idle => Some((close_code::NORMAL, "idle timeout")),
            End::TooLarge => Some((close_code::SIZE, "message too large")),
            End::Protocol => Some((close_code::PROTOCOL, "protocol error")),
            End::InvalidPayload => Some((close_code::INVALID, "text must be UTF-8")),
            End::ClientClosed => {
                // Flushes the echo of the client's close frame that tungstenite queued
                // when it read it (RFC 6455 5.5.1); the connection then closes lingering.
                let flush = self.socket.close();
                let _ = tokio::time::timeout(std::time::Duration::from_secs(1), flush).await;
                None
            }
            End::Broken | End::WriteTimeout => None,
        };
        if let Some((code, reason)) = close {
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            };
            let write = self.socket.send(Message::Close(Some(frame)));
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), write).await;
        }
    }

    /// Writes one message, giving up after the write timeout or on shutdown.
    ///
    /// A write to a socket whose kernel buffer has room completes at once, which is
    /// nearly every write: only one that has to wait arms the timer and the shutdown
    /// watch, instead of a timer registration and a watch subscription per frame. That
    /// wait is boxed, so its timer does not weigh on every idle session's future.
    async fn send(&mut self, message: Message) -> Result<(), End> {
        let timeout = self.app.settings.limits.ws_write_timeout;
        let shutdown = &self.app.shutdown;
        let mut write = self.socket.send(message);
        let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut write).poll(cx))).await;
        let result = match first {
            Poll::Ready(result) => result,
            Poll::Pending => {
                Box::pin(async move {
                    tokio::select! {
                        result = tokio::time::timeout(timeout, write) => match result {
                            Ok(result) => Ok(result),
                            Err(_) => Err(End::WriteTimeout),
                        },
                        _ = shutdown.wait() => Err(End::Shutdown),
                    }
                })
                .await?
            }
        };
        result.map_err(|_| End::Broken)
    }

    async fn send_message(&mut self, message: &ServerMessage) -> Result<(), End> {
        self.send(Message::Text(encode(message))).await
    }

    async fn send_error(&mut self, code: ErrorCode, message: impl Into<String>) -> Result<(), End> {
        self.send_message(&ServerMessage::Error {
            code,
            message: message.into(),
        })
        .await
    }

    /// Sends the pending frames, except one older than what the socket was already sent
    /// for its poll (made before a newer snapshot was read) or for a poll no longer
    /// watched: a socket's versions never go down. Notices carry no version.
    async fn flush_outbox(&mut self) -> Result<(), End> {
        for pending in self.watcher.outbox.take() {
            let send = match pending.version {
                Some(version) => self.watching.admit(&pending.poll, version),
                None => self.watching.contains(&pending.poll),
            };
            if send {
                self.send(Message::Text(pending.frame)).await?;
                if let Some(probe) = pending.probe {
                    let payload = self.probes.ping(probe);
                    self.send(Message::Ping(payload)).await?;
                }
            }
        }
        Ok(())
    }

    async fn receive(&mut self, message: Option<Result<Message, axum::Error>>) -> Result<(), End> {
        let message = match message {
            None => return Err(End::Broken),
            Some(Ok(Message::Close(_))) => return Err(End::ClientClosed),
            Some(Err(e)) => {
                let end = refused(e);
                if let End::TooLarge = end {
                    let limit = self.app.settings.limits.ws_max_message_bytes;
                    let _ = self
                        .send_error(
                            ErrorCode::MessageTooLarge,
                            format!("messages may have at most {limit} bytes"),
                        )
                        .await;
                }
                return Err(end);
            }
            Some(Ok(message)) => message,
        };
        self.last_heard = Instant::now();
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                return self
                    .send_error(
                        ErrorCode::MalformedMessage,
                        "send JSON text frames, not binary",
                    )
                    .await;
            }
            Message::Pong(payload) => {
                self.probes.pong(&payload);
                return Ok(());
            }
            Message::Ping(_) | Message::Close(_) => return Ok(()),
        };
        if !self.rate.allow(self.last_heard) {
            let rate = self.app.settings.limits.ws_messages_per_sec;
            return self
                .send_error(
                    ErrorCode::RateLimited,
                    format!("at most {rate} messages per second"),
                )
                .await;
        }
        match ClientMessage::parse(&text) {
            Ok(ClientMessage::Subscribe {
                poll,
                since,
                owner_token,
            }) => self.subscribe(poll, since, owner_token).await,
            Ok(ClientMessage::Unsubscribe { poll }) => self.unsubscribe(poll).await,
            Ok(ClientMessage::WatchCluster) => {
                // The first tick is at once: the feed starts with this answer.
                self.cluster_feed
                    .get_or_insert_with(|| Box::new(tokio::time::interval(PRESENCE_INTERVAL)));
                Ok(())
            }
            Ok(ClientMessage::UnwatchCluster) => {
                self.cluster_feed = None;
                Ok(())
            }
            Err((code, why)) => self.send_error(code, why).await,
        }
    }

    async fn subscribe(
        &mut self,
        poll: PollId,
        since: Option<u64>,
        owner_token: Option<Secret>,
    ) -> Result<(), End> {
        let owner = owner_token.is_some();
        if owner_token.is_some_and(|token| !self.app.keys.verify_owner(&poll, token.expose())) {
            return self
                .send_error(
                    ErrorCode::InvalidOwnerToken,
                    format!("this owner token does not belong to poll {poll}"),
                )
                .await;
        }
        let max = self.app.settings.limits.ws_max_subscriptions;
        let new = !self.watching.contains(&poll);
        if new && self.watching.len() >= max {
            return self
                .send_error(
                    ErrorCode::TooManySubscriptions,
                    format!("a socket may watch at most {max} polls"),
                )
                .await;
        }
        let subscribed = self.app.watch.subscribe(&poll, &self.watcher, since, owner);
        match subscribed.await {
            Ok(snapshot) => {
                self.watching.add(&poll);
                let shown = snapshot.as_ref().map(|s| s.tally.version).or(since);
                self.watching.shown(&poll, shown.unwrap_or(0));
                let Some(snapshot) = snapshot else {
                    return Ok(()); // the client is up to date
                };
                let watching = Some(self.app.fanout.audience(&poll));
                self.send_message(&ServerMessage::Snapshot {
                    poll,
                    status: snapshot.status,
                    tally: snapshot.tally,
                    results: (!snapshot.results.is_live()).then_some(snapshot.results),
                    watching,
                })
                .await
            }
            Err(refusal) => self.send_message(&refusal.into_message()).await,
        }
    }

    /// The cluster's telemetry, as `/api/cluster` answers it but for the nodes'
    /// addresses: the socket is public, `/api/cluster` is internal (`--admin-listen`).
    async fn send_cluster(&mut self) -> Result<(), End> {
        let mut view = self.app.presence.cluster_view().await;
        for node in &mut view.nodes {
            node.address.clear();
        }
        self.send_message(&ServerMessage::Cluster { view }).await
    }

    async fn unsubscribe(&mut self, poll: PollId) -> Result<(), End> {
        if self.watching.remove(&poll) {
            self.app.watch.unsubscribe(&poll, &self.watcher).await;
        }
        Ok(())
    }
}

/// Resolves at the next tick of the cluster feed; never when the client did not ask
/// for it.
async fn next_telemetry(feed: &mut Option<Box<tokio::time::Interval>>) {
    match feed {
        Some(every) => {
            every.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// How a read error ends the session. axum wraps tungstenite's error, whose kind says
/// what the client broke; its stream then ends for good, but its sink still takes the
/// close frame that says why.
fn refused(error: axum::Error) -> End {
    use tokio_tungstenite::tungstenite::Error;
    match error.into_inner().downcast_ref::<Error>() {
        Some(Error::Capacity(_)) => End::TooLarge,
        Some(Error::Protocol(_)) => End::Protocol,
        Some(Error::Utf8(_)) => End::InvalidPayload,
        _ => End::Broken,
    }
}
