//! Where the parts meet: [`App`] owns the store, the fan-out, the keys and the
//! shutdown signal; [`run`] serves it on a listener the caller bound.
//!
//! The vote path lives here because it is the one place that needs both the store and
//! the fan-out: commit, then publish (DESIGN.md invariant 2). `commit` gathers the
//! votes of a poll into group commits; `snapshots` shares the reads of subscribers.

mod commit;
mod snapshots;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::serve::ListenerExt;
use chrono::Utc;
use tokio::net::{TcpListener, TcpStream};
use votewire_proto::{NodeInfo, PollEvent, PollEventKind, PollId, PollStatus, Tally};

use crate::fanout::local::{LocalBus, LocalNetwork};
use crate::fanout::redis::RedisBus;
use crate::fanout::{Bus, Fanout, Hub, Pacer, SocketId};
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::shutdown::{Sessions, Shutdown};
use crate::store::{self, PollState, ReplicatedStore, Store, StoreError};
use crate::token::TokenKeys;

/// Everything a request handler or a session needs.
pub struct App {
    /// The node's settings.
    pub settings: Settings,
    /// Polls, votes and tallies.
    pub store: Arc<dyn Store>,
    /// With `--replica`, the same store as `store`, for its replicas' health and
    /// fallbacks on `/metrics` and `/api/cluster`.
    pub replicas: Option<Arc<ReplicatedStore>>,
    /// Rooms and the bus.
    pub fanout: Fanout,
    /// The token signing key.
    pub keys: TokenKeys,
    /// The node's metrics.
    pub metrics: Arc<Metrics>,
    /// Fired on SIGTERM/SIGINT (or by a test).
    pub shutdown: Shutdown,
    /// Open WebSocket sessions.
    pub sessions: Sessions,
    /// Votes waiting for their poll's next group commit.
    votes: commit::VoteQueues,
    /// Snapshot reads in flight, shared by the subscribers of a poll.
    snapshot_reads: snapshots::SnapshotReads,
    /// The address `run` serves on, once it does.
    pub address: OnceLock<SocketAddr>,
    next_socket: AtomicU64,
}

/// The cheap-to-clone handle that axum passes to handlers.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// How often a node announces itself; peers forget it after three missed beats.
pub const PRESENCE_INTERVAL: Duration = Duration::from_secs(2);

/// Why a node could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl AppState {
    /// Opens the database (migrating it), loads the signing key, and joins the other
    /// nodes: over Redis when `settings.redis_url` is set, else through `network` (a
    /// fresh one of its own when `None`). Starts the presence and resync tasks (and,
    /// with replicas, their monitor), which end with the shutdown.
    pub async fn build(
        settings: Settings,
        network: Option<Arc<LocalNetwork>>,
    ) -> Result<Self, StartError> {
        let metrics = Arc::new(Metrics::default());
        let shutdown = Shutdown::new();
        let (store, replicas) = open_store(&settings, &shutdown).await?;
        let keys = TokenKeys::load_or_create(&settings.key_file)
            .map_err(|e| StartError(format!("cannot load the signing key: {e}")))?;
        let pacer = Arc::new(Pacer::new(
            settings.tick,
            settings.max_tick,
            settings.limits.max_frames_per_sec,
            metrics.clone(),
        ));
        let hub = Arc::new(Hub::new(pacer, metrics.clone()));
        let node = settings.node_id.clone();
        let bus: Arc<dyn Bus> = match &settings.redis_url {
            Some(url) => RedisBus::connect(url, node, hub.clone(), shutdown.clone())
                .await
                .map_err(|e| StartError(format!("cannot set up Redis: {e}")))?,
            None => Arc::new(LocalBus::join(network.unwrap_or_default(), node, &hub)),
        };
        let fanout = Fanout::new(hub, bus, metrics.clone());
        let votes = commit::VoteQueues::new(settings.limits.vote_batch_max);
        let app = Self(Arc::new(App {
            settings,
            store,
            replicas,
            fanout,
            keys,
            metrics,
            shutdown,
            sessions: Sessions::default(),
            votes,
            snapshot_reads: snapshots::SnapshotReads::default(),
            address: OnceLock::new(),
            next_socket: AtomicU64::new(1),
        }));
        tokio::spawn(app.clone().announce_presence());
        tokio::spawn(app.clone().resync_on_request());
        Ok(app)
    }

    /// This node as `/api/cluster` shows it.
    pub fn node_info(&self) -> NodeInfo {
        NodeInfo {
            id: self.settings.node_id.clone(),
            sockets: self.metrics.sockets.load(Relaxed).max(0) as u64,
            votes_handled: self.metrics.votes_handled(),
            last_seen: Utc::now(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            address: self
                .address
                .get()
                .map_or_else(|| self.settings.listen.to_string(), ToString::to_string),
            replica_lag_ms: self.replica_lag_ms(),
        }
    }

    /// Each read replica's lag in milliseconds, in `--replica` order.
    fn replica_lag_ms(&self) -> Vec<u64> {
        let health = self
            .replicas
            .as_ref()
            .map(|r| r.health())
            .unwrap_or_default();
        health
            .iter()
            .map(|h| h.lag.as_millis().try_into().unwrap_or(u64::MAX))
            .collect()
    }

    /// Announces the node on the bus every [`PRESENCE_INTERVAL`] until shutdown.
    async fn announce_presence(self) {
        let mut every = tokio::time::interval(PRESENCE_INTERVAL);
        loop {
            tokio::select! {
                _ = self.shutdown.wait() => break,
                _ = every.tick() => {
                    if let Err(e) = self.fanout.bus().announce(&self.node_info()).await {
                        tracing::debug!(error = %e, "presence announcement failed");
                    }
                }
            }
        }
        tracing::debug!("presence task ended: shutdown");
    }

    /// When the bus may have missed events (a reconnect, a lag), resubscribes every
    /// watched poll and pushes a fresh snapshot of each from the database.
    async fn resync_on_request(self) {
        let mut requests = self.fanout.bus().resyncs();
        loop {
            tokio::select! {
                _ = self.shutdown.wait() => break,
                changed = requests.changed() => if changed.is_err() { break },
            }
            let polls = self.fanout.hub().polls();
            tracing::info!(polls = polls.len(), "resyncing watched polls");
            for poll in polls {
                if let Err(e) = self.fanout.bus().subscribe(&poll).await {
                    tracing::warn!(%poll, error = %e, "resubscribe failed");
                }
                // Never older than what the room already showed, even from a replica.
                let shown = self
                    .fanout
                    .hub()
                    .room(&poll)
                    .and_then(|room| room.version())
                    .unwrap_or(0);
                match self.store.poll_at_least(&poll, shown).await {
                    Ok(state) => {
                        let status = state.poll.status(Utc::now());
                        self.fanout.hub().deliver(&self.event(
                            poll,
                            status,
                            state.tally,
                            PollEventKind::Resync,
                        ));
                    }
                    Err(e) => tracing::warn!(%poll, error = ?e, "resync read failed"),
                }
            }
        }
        tracing::debug!("resync task ended");
    }

    /// Closes a poll and tells its watchers, in a task of its own like a vote.
    pub async fn close_poll(&self, poll: PollId) -> Result<PollState, StoreError> {
        let app = self.clone();
        let task = tokio::spawn(async move {
            let (closed, state) = app.store.close(&poll, Utc::now()).await?;
            if closed {
                app.publish(
                    poll,
                    PollStatus::Closed,
                    state.tally.clone(),
                    PollEventKind::Closed,
                )
                .await;
            }
            Ok(state)
        });
        task.await
            .unwrap_or_else(|e| Err(StoreError::Other(format!("the close task failed: {e}"))))
    }

    async fn publish(&self, poll: PollId, status: PollStatus, tally: Tally, kind: PollEventKind) {
        self.fanout
            .publish(self.event(poll, status, tally, kind))
            .await;
    }

    fn event(
        &self,
        poll: PollId,
        status: PollStatus,
        tally: Tally,
        kind: PollEventKind,
    ) -> PollEvent {
        PollEvent {
            poll,
            node: self.settings.node_id.clone(),
            at: Utc::now(),
            status,
            tally,
            kind,
        }
    }

    /// A number for a new socket, unique on this node.
    pub fn next_socket_id(&self) -> SocketId {
        self.next_socket.fetch_add(1, Relaxed)
    }
}

/// Opens the primary (migrating it) and, with `--replica`, wraps it in a
/// [`ReplicatedStore`] (returned a second time, for its health) whose monitor
/// (heartbeat and replica probes) runs until the shutdown.
async fn open_store(
    settings: &Settings,
    shutdown: &Shutdown,
) -> Result<(Arc<dyn Store>, Option<Arc<ReplicatedStore>>), StartError> {
    let primary = store::connect(&settings.database_url)
        .await
        .map_err(|e| StartError(format!("cannot open the database: {e:?}")))?;
    primary
        .migrate()
        .await
        .map_err(|e| StartError(format!("{e:?}")))?;
    if settings.replica_urls.is_empty() {
        return Ok((primary, None));
    }
    let replicated = Arc::new(
        ReplicatedStore::with_urls(primary, &settings.replica_urls, settings.replica_max_lag)
            .map_err(|e| StartError(format!("cannot use the replicas: {e:?}")))?,
    );
    let shutdown = shutdown.clone();
    tokio::spawn(
        replicated
            .clone()
            .monitor(async move { shutdown.wait().await }),
    );
    Ok((replicated.clone(), Some(replicated)))
}

/// Serves `app` on `listener` until its shutdown fires, then drains: in-flight
/// requests finish, sessions close with 1001, and after `settings.drain` whatever is
/// left is abandoned.
pub async fn run(listener: TcpListener, app: AppState) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        let _ = app.address.set(address);
    }
    let router = crate::http::router(app.clone());
    let send_buffer = app.settings.limits.socket_send_buffer_bytes;
    let listener = listener.tap_io(move |tcp: &mut TcpStream| {
        // Updates are small frames that should leave at once, not wait for Nagle.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        if send_buffer > 0
            && let Err(e) = socket2::SockRef::from(&*tcp).set_send_buffer_size(send_buffer)
        {
            tracing::debug!(error = %e, "cannot set the send buffer size");
        }
    });
    let shutdown = app.shutdown.clone();
    let server =
        axum::serve(listener, router).with_graceful_shutdown(async move { shutdown.wait().await });
    let drained = async {
        server.await?;
        app.sessions.all_closed().await;
        Ok::<_, std::io::Error>(())
    };
    let deadline = async {
        app.shutdown.wait().await;
        tokio::time::sleep(app.settings.drain).await;
    };
    tokio::select! {
        result = drained => {
            tracing::info!("drained");
            result
        }
        _ = deadline => {
            tracing::warn!(sessions = app.sessions.count(), "drain time ran out; exiting anyway");
            Ok(())
        }
    }
}
