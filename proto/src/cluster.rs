//! The nodes of a deployment and their health.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::NodeId;

/// One live node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct NodeInfo {
    /// The node's identifier.
    pub id: NodeId,
    /// WebSocket connections open on the node now.
    pub sockets: u64,
    /// Votes the node has handled since it started.
    pub votes_handled: u64,
    /// When the node last announced itself.
    pub last_seen: DateTime<Utc>,
    /// The node's software version.
    pub version: String,
    /// The address the node listens on.
    pub address: String,
    /// How far each of its read replicas lags behind the primary, in milliseconds,
    /// when it reads from replicas.
    pub replica_lag_ms: Vec<u64>,
    /// What it does. Absent from nodes older than the field: `node`.
    #[serde(default)]
    pub role: NodeRole,
    /// With `--ingest stream`, and on workers: the votes waiting in the ingest streams
    /// when it last measured.
    #[serde(default)]
    pub ingest_backlog: Option<u64>,
    /// On a worker: from the oldest vote of its last batch being recorded to its commit,
    /// in milliseconds.
    #[serde(default)]
    pub ingest_lag_ms: Option<u64>,
    /// Frames its fan-out has put in sockets' outboxes since it started: over two
    /// announcements, its frames per second.
    #[serde(default)]
    pub frames_sent: u64,
    /// The median and 99th percentile of its commits' durations over its last
    /// announcement interval, in milliseconds; absent when it committed nothing.
    #[serde(default)]
    pub commit_ms: Option<CommitTimes>,
    /// Whether its Redis bus is connected (always true on a single node).
    #[serde(default = "connected")]
    pub bus_connected: bool,
}

fn connected() -> bool {
    true
}

/// How long a node's commits took over an interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct CommitTimes {
    /// The median, in milliseconds.
    pub p50: f64,
    /// The 99th percentile, in milliseconds.
    pub p99: f64,
    /// How many commits it measured.
    pub commits: u64,
}

/// What a process of the deployment does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// `votewire serve`: serves the API, the WebSocket and the pages. Its
    /// `votes_handled` are the votes it committed or, with `--ingest stream`, recorded.
    #[default]
    Node,
    /// `votewire worker`: commits the votes of the ingest streams; its `votes_handled`
    /// are the votes it committed.
    Worker,
}

/// `GET /api/cluster`: the live nodes. A single node lists itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
pub struct ClusterView {
    /// The node that answered.
    pub node: NodeId,
    /// Every live node, the answering one included.
    pub nodes: Vec<NodeInfo>,
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct HealthReport {
    /// `ok`, `ready`, `draining` or `unavailable`.
    pub status: String,
    /// The node that answered.
    pub node: NodeId,
    /// Each dependency checked, with `ok` or what is wrong with it.
    pub checks: BTreeMap<String, String>,
}
