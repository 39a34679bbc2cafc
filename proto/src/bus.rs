//! The event a node publishes after a commit, for every node to re-broadcast.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ErrorCode, NodeId, PollId, PollStatus, ResultsVisibility, Tally};

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
    /// Who sees the counts after the change; `live` when absent.
    #[serde(default, skip_serializing_if = "ResultsVisibility::is_live")]
    pub results: ResultsVisibility,
    /// What changed.
    pub kind: PollEventKind,
}

/// What changed in a [`PollEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PollEventKind {
    /// Votes committed together (one transaction of the node's group commit), in order.
    Votes {
        /// The latest votes' options, oldest first; `None` for a withdrawal. The first
        /// option of a vote that chose several.
        options: Vec<Option<u32>>,
        /// Every option of each vote of `options`, in the same order, when one of them
        /// chose several (a multiple-choice poll); empty otherwise.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        sets: Vec<Vec<u32>>,
        /// How many earlier votes of the same commit `options` leaves out.
        more: u64,
        /// The node that took each vote of `options`, in the same order, when a worker
        /// commits what nodes recorded (stream ingest); empty when the event's node took
        /// them all.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        recorded_by: Vec<NodeId>,
        /// Every voter of the commit whose vote now stands, when the poll's results
        /// show `after_vote`: their sockets start seeing the counts. Empty otherwise.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        voters: Vec<String>,
    },
    /// The poll closed.
    Closed,
    /// A fresh read of the poll (after a reconnect or a lag), not a vote.
    Resync,
    /// Its owner paused, resumed or reset it, or changed who sees its results: the
    /// status and the tally, at a new version.
    Changed,
    /// How many sockets on the event's node watch the poll: sent when it changes and as
    /// a beat; nodes add up the counts they heard lately. The tally is the node's.
    Watching {
        /// Sockets watching on that node.
        count: u64,
    },
    /// Votes nodes accepted (202) were refused when a worker came to count them (the
    /// poll closed meanwhile): each voter's sockets are told; the tally is a fresh read.
    Rejected {
        /// The refused votes.
        votes: Vec<RefusedVote>,
    },
}

/// A vote accepted into the ingest stream and refused when it was counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedVote {
    /// The voter whose vote it was: only their sockets hear of it.
    pub voter: String,
    /// The vote's receipt, [`crate::VoteAccepted::stream_id`].
    pub stream_id: String,
    /// Why it was refused.
    pub code: ErrorCode,
    /// Why, in words.
    pub message: String,
}
