//! # votewire-server: the `votewire` node
//!
//! One axum process that serves the REST API, the WebSocket and the web client.
//!
//! - [`cli`], [`settings`]: flags and `VOTEWIRE_*` variables, validated once.
//! - [`app`]: the [`app::App`] state, the vote path, and [`app::run`].
//! - [`http`]: REST routes, one module per resource, layers applied once.
//! - [`ws`]: one WebSocket session: subscribe/unsubscribe, bounded send, ping.
//! - [`fanout`]: rooms per poll, coalescing, outboxes, the [`fanout::Bus`] seam.
//! - [`store`]: the [`store::Store`] seam; one SQL flow over a dialect per database
//!   (SQLite, PostgreSQL, MySQL/MariaDB, the only files with SQL); and
//!   [`store::ReplicatedStore`]: writes to the primary, reads from read replicas,
//!   whose health and fallbacks it keeps for `/metrics` and `/api/cluster`.
//! - [`token`]: signed voter and owner tokens. [`metrics`]: Prometheus.
//! - [`shutdown`]: the shutdown signal and the count of open sessions.
//!
//! ## A vote going in
//! `POST /api/polls/{id}/votes` -> [`http`] parses and authenticates ->
//! [`app::AppState::cast_vote`] queues it for its poll's group commit:
//! [`store::Store::vote_batch`] (one transaction for the votes that arrived meanwhile:
//! vote rows, tally rows, version) -> [`fanout::Fanout::publish`]: the local room at
//! once, then the bus to the other nodes.
//!
//! ## An update going out
//! A [`fanout::Room`] folds events (highest version wins) -> its flusher coalesces
//! (leading edge, then one per tick) -> serializes once -> pushes the frame into each
//! watcher's [`fanout::Outbox`] (one slot per poll) -> the [`ws`] session writes it.
//!
//! `store` and `fanout` never import each other, `http` or `ws`; `app` is where they meet.

pub mod app;
pub mod cli;
pub mod error;
pub mod fanout;
pub mod http;
pub mod metrics;
pub mod settings;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod token;
pub mod ws;

pub use app::{AppState, run};
pub use settings::Settings;

/// A boxed future, so the [`fanout::Bus`] seam can be used as a trait object (`store`
/// uses `futures_util`'s, the same type).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
