//! The node: [`Node::build`] assembles its parts from the settings (the store, the
//! signing key, the fan-out over the bus, the services) and starts its background
//! tasks; [`Node::serve`] serves the routes on a listener the caller bound until the
//! shutdown the caller owns fires, then drains.
//!
//! The caller binding the listener and owning the shutdown (mini-redis's
//! `run(listener, shutdown)`) is what lets a test start a real node on port 0 and stop
//! it without sleeps.

mod accept;
mod linger;
mod starting;
mod tasks;
mod waiting;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};

use crate::abuse::Abuse;
use crate::fanout::{Bus, Fanout, FanoutStats, Hub, LocalBus, Pacer, RedisBus};
use crate::ingest::worker::{self, WorkerCounts};
use crate::ingest::{Ingest, IngestParts};
use crate::metrics::RouteLatencies;
use crate::presence::Presence;
use crate::sessions::Sessions;
use crate::settings::{IngestMode, Settings};
use crate::shutdown::Shutdown;
use crate::state::{App, AppState};
use crate::store::{self, Backend, ReplicatedStore, Store};
use crate::token::TokenKeys;
use crate::votes::Votes;
use crate::watch::Watch;
use accept::Connections;
pub use starting::answer_while_starting;
use tasks::{Tasks, log_end};

/// How long background tasks get to end after the drain before they are aborted.
const TASK_GRACE: Duration = Duration::from_secs(1);

/// Connections the kernel queues before the node accepts them. The default of 128 (the
/// standard library's) overflows when a proxy opens thousands of upstream sockets in a
/// second, and an overflow costs the client a one-second SYN retry. The kernel caps it
/// at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

/// Why a node could not start.
#[derive(Debug)]
pub struct StartError(String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// A node, built and ready to serve.
pub struct Node {
    state: AppState,
    tasks: Tasks,
    role: Role,
}

/// What a process built by [`Node::build`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `votewire serve`: the API, the WebSocket and the web client.
    Serve,
    /// `votewire worker`: commits the ingest streams' votes; serves health and metrics.
    Work,
}

impl Node {
    /// Opens the database (migrating it), loads the signing key, joins the other nodes
    /// (over Redis when `settings.redis_url` is set, else alone), and starts the
    /// background tasks, which end when `shutdown` fires.
    pub async fn build(settings: Settings, shutdown: Shutdown) -> Result<Self, StartError> {
        Self::build_as(Role::Serve, settings, shutdown).await
    }

    /// [`Node::build`] for `role`: a worker also starts a consumer per ingest stream.
    pub async fn build_as(
        role: Role,
        settings: Settings,
        shutdown: Shutdown,
    ) -> Result<Self, StartError> {
        let mut tasks = Tasks::default();
        let primary = waiting::open_database(&settings.database_url, &shutdown).await?;
        primary
            .migrate()
            .await
            .map_err(|e| StartError(format!("cannot migrate the database: {e}")))?;
        let replicas = open_replicas(&settings, &primary)?;
        let store: Arc<dyn Store> = match &replicas {
            Some(replicated) => {
                let until = shutdown.clone();
                let monitor = replicated
                    .clone()
                    .monitor(async move { until.wait().await });
                tasks.spawn("replica monitor", monitor);
                replicated.clone()
            }
            None => primary,
        };
        let keys = TokenKeys::load_or_create(&settings.key_file)
            .map_err(|e| StartError(format!("cannot load the signing key: {e}")))?;

        let node = settings.node_id.clone();
        let stats = Arc::new(FanoutStats::default());
        let pacer = Arc::new(Pacer::new(settings.tick, settings.max_tick));
        let hub = Arc::new(Hub::new(pacer.clone(), stats.clone()));
        let bus: Arc<dyn Bus> = match &settings.redis_url {
            Some(url) => {
                let ca_file = settings.redis_ca_file.as_deref();
                let (bus, receiving) =
                    RedisBus::connect(url, ca_file, node.clone(), hub.clone(), shutdown.clone())
                        .await
                        .map_err(|e| StartError(format!("cannot set up Redis: {e}")))?;
                tasks.spawn("redis bus", receiving);
                bus
            }
            None => Arc::new(LocalBus::alone(node.clone(), &hub)),
        };
        let fanout = Arc::new(Fanout::new(node.clone(), hub, bus, pacer, stats));

        let votes = Votes::new(
            node.clone(),
            store.clone(),
            fanout.clone(),
            settings.limits.vote_batch_max,
        );
        // A worker measures the backlog too: it is the worker's lag.
        let stream = settings.ingest.mode == IngestMode::Stream || role == Role::Work;
        let ingest = match &settings.redis_url {
            Some(url) if stream => {
                let (ingest, measuring) = Ingest::connect(
                    url,
                    settings.redis_ca_file.as_deref(),
                    node.clone(),
                    settings.ingest.clone(),
                    store.clone(),
                    shutdown.clone(),
                )
                .map_err(|e| StartError(format!("cannot set up the ingest stream: {e}")))?;
                tasks.spawn("ingest backlog", measuring);
                Some(ingest)
            }
            _ => None,
        };
        let worker = match role {
            Role::Serve => None,
            Role::Work => {
                let counts = Arc::new(WorkerCounts::default());
                let consumers =
                    worker::consumers(&settings, votes.clone(), counts.clone(), &shutdown)
                        .map_err(|e| StartError(format!("cannot set up the ingest worker: {e}")))?;
                for consumer in consumers {
                    tasks.spawn("ingest consumer", consumer);
                }
                Some(counts)
            }
        };
        let watch = Watch::new(store.clone(), fanout.clone());
        tasks.spawn("resync", watch.clone().resync_after_gaps(shutdown.clone()));
        if !settings.anti_entropy.is_zero() {
            let healing = watch
                .clone()
                .heal_every(settings.anti_entropy, shutdown.clone());
            tasks.spawn("anti-entropy", healing);
        }
        let sessions = Sessions::default();
        let ingest = IngestParts {
            stream: ingest,
            worker,
        };
        let presence = Presence::new(
            node,
            settings.listen,
            fanout.clone(),
            sessions.clone(),
            votes.clone(),
            replicas.clone(),
            ingest.clone(),
        );
        tasks.spawn(
            "presence",
            presence.clone().announce_until(shutdown.clone()),
        );

        let abuse = Arc::new(Abuse::new(settings.abuse.clone()));
        tasks.spawn(
            "abuse limits pruning",
            abuse.clone().prune_until(shutdown.clone()),
        );

        let state = AppState::new(App {
            settings,
            store,
            replicas,
            votes,
            ingest,
            watch,
            fanout,
            presence,
            keys,
            sessions,
            shutdown,
            requests: RouteLatencies::default(),
            abuse,
        });
        Ok(Self { state, tasks, role })
    }

    /// Serves the node on `listener` until its shutdown fires, then drains: in-flight
    /// requests finish, sessions close with 1001, commits in flight publish, and after
    /// `settings.drain` whatever is left is abandoned. A background task that ends
    /// before the shutdown is logged as an error as it happens. `/metrics` and
    /// `/api/cluster` are served there too.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        self.serve_with_admin(listener, None).await
    }

    /// [`Node::serve`], with `/metrics` and `/api/cluster` on `admin` only when given
    /// (`--admin-listen`): they show the node's internals, so a deployment keeps them
    /// off the listener its proxy exposes. Both listeners drain together.
    pub async fn serve_with_admin(
        self,
        listener: TcpListener,
        admin: Option<TcpListener>,
    ) -> std::io::Result<()> {
        let Self {
            state,
            mut tasks,
            role,
        } = self;
        if let Ok(address) = listener.local_addr() {
            state.presence.serving_on(address);
        }
        let limits = &state.settings.limits;
        let connections = Connections {
            header_read_timeout: limits.header_read_timeout,
            send_buffer_bytes: limits.socket_send_buffer_bytes,
            capped_by: None,
        };
        let shutdown = state.shutdown.clone();
        let router = match role {
            Role::Serve => crate::http::router(state.clone(), admin.is_none()),
            Role::Work => crate::http::worker_router(state.clone()),
        };
        let capped = Connections {
            capped_by: Some(state.abuse.clone()),
            ..connections.clone()
        };
        let public = accept::serve(listener, router, capped, shutdown.clone());
        let admin = admin.map(|admin| {
            let router = crate::http::admin_router(state.clone());
            accept::serve(admin, router, connections, shutdown)
        });
        let server = async {
            match admin {
                Some(admin) => _ = tokio::join!(public, admin),
                None => public.await,
            }
        };
        let drained = async {
            server.await;
            state.sessions.all_closed().await;
            state.votes.drain().await;
            Ok::<_, std::io::Error>(())
        };
        let deadline = async {
            state.shutdown.wait().await;
            tokio::time::sleep(state.settings.drain).await;
        };
        tokio::pin!(drained, deadline);
        let result = loop {
            tokio::select! {
                result = &mut drained => {
                    tracing::info!("drained");
                    break result;
                }
                _ = &mut deadline => {
                    let sessions = state.sessions.count();
                    tracing::warn!(sessions, "drain time ran out; exiting anyway");
                    break Ok(());
                }
                Some(ended) = tasks.next_ended() => log_end(ended, state.shutdown.is_draining()),
            }
        };
        tasks.stop(TASK_GRACE).await;
        result
    }
}

/// With `--replica`, the primary wrapped in a [`ReplicatedStore`]; replicas connect
/// lazily in its monitor, so one that is down does not stop the node.
fn open_replicas(
    settings: &Settings,
    primary: &Arc<dyn Backend>,
) -> Result<Option<Arc<ReplicatedStore>>, StartError> {
    if settings.replica_urls.is_empty() {
        return Ok(None);
    }
    let replicated = ReplicatedStore::with_urls(
        primary.clone(),
        &settings.replica_urls,
        settings.replica_max_lag,
    )
    .map_err(|e| StartError(format!("cannot use the replicas: {e:?}")))?;
    Ok(Some(Arc::new(replicated)))
}

/// Binds `address` with a listen backlog fit for a proxy's bursts of connections.
pub fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// `votewire migrate`: creates or upgrades the schema of the database at `url`.
pub async fn migrate(url: &str) -> Result<(), String> {
    let store = store::connect(url).await.map_err(|e| {
        let url = crate::redact::url(url);
        format!("cannot open the database at {url}: {e}")
    })?;
    store
        .migrate()
        .await
        .map_err(|e| format!("cannot migrate the database: {e}"))
}
