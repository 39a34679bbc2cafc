//! # votewire-server: the `votewire` node
//!
//! One axum process that serves the REST API, the WebSocket and the web client, alone
//! (SQLite, in-process fan-out) or as one of several nodes (PostgreSQL or MySQL with
//! read replicas, Redis between the nodes).
//!
//! ## The map
//! - [`cli`], [`settings`]: flags and `VOTEWIRE_*` variables, validated once.
//! - [`server`]: [`Node::build`] assembles the parts, [`Node::serve`] serves them on a
//!   listener the caller bound until the [`Shutdown`] the caller owns fires; it owns
//!   every background task.
//! - `state`: [`AppState`](state), the plain container handlers and sessions share.
//! - `votes`: the vote path (group commit, then publish) and closing a poll.
//! - `watch`: a socket subscribes to a poll in one call (join its room, get its
//!   snapshot); the resync after a bus gap.
//! - `presence`: this node as the cluster sees it; `readiness`: what it can serve now
//!   (ready, degraded without Redis or the primary, unavailable, draining).
//! - `http`: REST routes, one module per resource, layers applied once; `ws`: one
//!   WebSocket session; `error`: one vocabulary of refusals for both.
//! - [`fanout`]: rooms per poll, coalescing, outboxes, the [`fanout::Bus`] seam
//!   (in-process and Redis).
//! - [`store`]: the [`store::Store`] seam, its SQLite, PostgreSQL and MySQL backends,
//!   and [`store::ReplicatedStore`]: writes to the primary, reads from read replicas.
//! - `abuse`: per-client-address limits (token buckets for new voters, votes, new
//!   polls and WebSocket connections; caps on sockets and on HTTP connections per
//!   address), the client's
//!   address behind trusted proxies, and the extractors the routes take them through.
//! - `results`: who sees a poll's counts (its results visibility), one rule for every path.
//! - `sessions`, `shutdown`, `token` (signed voter and owner tokens), `metrics`
//!   (Prometheus primitives; each series is owned by the part that counts it), `redact`
//!   (URLs without their passwords, for logs and errors).
//!
//! ## A vote going in
//! `POST /api/polls/{id}/votes` -> `http` parses and authenticates -> `Votes::cast`
//! queues the ballot for its poll's committer task -> [`store::Store::vote_batch`]
//! (one transaction for every ballot that arrived meanwhile: vote rows, tally rows,
//! version) -> `Fanout::publish`: the local room at once, then the bus to the other
//! nodes -> each request gets its own answer.
//!
//! ## An update going out
//! A [`fanout::Room`] folds events (highest version wins) -> its flusher coalesces
//! (leading edge, then one per tick) -> serializes once -> pushes the frame into each
//! watcher's [`fanout::Outbox`] (one slot per poll) -> the `ws` session writes it.
//!
//! ## Who may import whom
//! `store` and `fanout` import neither each other nor any service, `http`, `ws` or
//! `state`; the services (`votes`, `watch`, `presence`) are where they meet; `state`
//! holds the services and imports neither `http` nor `ws`; only `server` builds the
//! router. `tests/architecture.rs` checks that no module imports in a circle.

mod abuse;
pub mod cli;
mod credentials;
mod error;
pub mod fanout;
mod http;
mod ingest;
mod metrics;
mod presence;
mod readiness;
mod redact;
mod redis_client;
mod results;
pub mod seed;
pub mod server;
mod sessions;
pub mod settings;
mod shutdown;
mod state;
pub mod store;
pub mod telemetry;
mod token;
mod votes;
mod watch;
mod ws;

/// The pure ways untrusted bytes come in, for the fuzz targets (`fuzz/`); not an API.
#[doc(hidden)]
pub use http::fuzzing;
pub use server::{Node, Role, StartError};
pub use settings::{Limits, Settings};
pub use shutdown::{Shutdown, os_signal};
