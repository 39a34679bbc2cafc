//! The event a node publishes after a commit, for every node to re-broadcast.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{NodeId, PollId, PollStatus, Tally};

/// What happened to a poll. Carries the whole tally, so a node that missed earlier
/// events still shows the right state (docs/architecture.md, invariant 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollEvent {
    /// The poll.
    pub poll: PollId,
    /// The node that committed the change; nodes ignore their own echo.
    pub node: NodeId,
    /// When it was committed.
    pub at: DateTime<Utc>,
    /// The poll's status after the change.
    pub status: PollStatus,
    /// The whole tally after the change.
    pub tally: Tally,
    /// What changed.
    pub kind: PollEventKind,
}

/// What changed in a [`PollEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PollEventKind {
    /// Votes committed together (one transaction of the node's group commit), in order.
    Votes {
        /// The latest votes' options, oldest first; `None` for a withdrawal.
        options: Vec<Option<u32>>,
        /// How many earlier votes of the same commit `options` leaves out.
        more: u64,
    },
    /// The poll closed.
    Closed,
    /// A fresh read of the poll (after a reconnect or a lag), not a vote.
    Resync,
}
