//! # votewire-testkit: what votewire's tests share
//!
//! Every test binary of the workspace (the node's `api`, `store`, `bus`, `cluster` and
//! `faults` suites) starts real parts and talks to them the way a user would; the
//! pieces they all need live here once instead of in `#[path]` includes and copies:
//!
//! - [`app`]: [`spawn_app`] starts a real node on a free port with a fresh data folder
//!   and returns a [`TestApp`] ([`exempt_loopback`] lifts the abuse limits for load
//!   tests); [`client`]: a [`Client`] of any node or proxy, with
//!   typed helpers (`create_poll`, `vote`, `metrics`, `ws`, ..).
//! - [`ws`]: [`WsClient`], a WebSocket client that awaits messages (never sleeps) and
//!   [`version_of`], the tally version a server message carries.
//! - [`db`]: a fresh SQLite, PostgreSQL or MySQL/MariaDB database per test
//!   ([`TestDatabase`]), its recount, and a store on it.
//! - [`redis`]: a `redis-server` of the test's own on a free port, to stop and start.
//! - [`proxy`]: a chaos proxy that cuts a TCP path (to a database) on demand.
//! - [`votes`]: casting one vote through a [`votewire_server::store::Store`].
//! - [`dirs`]: [`TempDir`], a fresh folder removed when dropped.
//! - [`external`]: the switch that skips what needs servers outside the process.

pub mod app;
pub mod client;
pub mod cluster_nodes;
pub mod db;
pub mod dirs;
pub mod external;
pub mod lossy;
pub mod proxy;
pub mod redis;
pub mod redis_cluster;
pub mod tls;
pub mod votes;
pub mod ws;

pub use app::{TestApp, exempt_loopback, spawn_app, spawn_app_in, spawn_app_with, spawn_worker};
pub use client::Client;
pub use db::{Kind, TestDatabase};
pub use dirs::TempDir;
pub use external::external_enabled;
pub use ws::{EVENT_TIMEOUT, WsClient, version_of};
