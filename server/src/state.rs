//! The node's shared state: what every request handler and socket session needs.
//!
//! A plain container, cheap to clone (one `Arc`): the settings, the store for reads, and
//! the services that hold behaviour ([`Votes`] writes, [`Watch`] subscribes, [`Presence`]
//! describes the node). The server builds it; nothing here knows about routes.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;

use crate::abuse::Abuse;
use crate::fanout::Fanout;
use crate::ingest::IngestParts;
use crate::metrics::RouteLatencies;
use crate::presence::Presence;
use crate::sessions::Sessions;
use crate::settings::Settings;
use crate::shutdown::Shutdown;
use crate::store::{ReplicatedStore, Store};
use crate::token::TokenKeys;
use crate::votes::Votes;
use crate::watch::Watch;

/// Everything a request handler or a session needs.
pub(crate) struct App {
    /// The node's settings.
    pub(crate) settings: Settings,
    /// Polls, votes and tallies: reads and poll creation go here directly.
    pub(crate) store: Arc<dyn Store>,
    /// The read replicas' health, when there are replicas.
    pub(crate) replicas: Option<Arc<ReplicatedStore>>,
    /// Votes and closes: committed, then published.
    pub(crate) votes: Arc<Votes>,
    /// In `--ingest stream` mode, where votes are recorded instead of committed; in
    /// `votewire worker`, what its consumers did.
    pub(crate) ingest: IngestParts,
    /// Subscriptions of sockets to polls.
    pub(crate) watch: Arc<Watch>,
    /// Rooms and the bus.
    pub(crate) fanout: Arc<Fanout>,
    /// This node as the cluster sees it.
    pub(crate) presence: Arc<Presence>,
    /// The token signing key.
    pub(crate) keys: TokenKeys,
    /// Open WebSocket sessions.
    pub(crate) sessions: Sessions,
    /// Fired on SIGTERM/SIGINT (or by a test).
    pub(crate) shutdown: Shutdown,
    /// HTTP latencies by route.
    pub(crate) requests: RouteLatencies,
    /// What each client address may still do.
    pub(crate) abuse: Arc<Abuse>,
}

/// The cheap-to-clone handle that axum passes to handlers.
#[derive(Clone)]
pub(crate) struct AppState(Arc<App>);

impl AppState {
    /// Shares `app` with every handler and session.
    pub(crate) fn new(app: App) -> Self {
        Self(Arc::new(app))
    }
}

/// For the abuse extractors, which know the limits but not the state.
impl FromRef<AppState> for Arc<Abuse> {
    fn from_ref(app: &AppState) -> Self {
        app.abuse.clone()
    }
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}
