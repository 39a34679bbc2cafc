//! Votes: "set my choice to X", and withdrawing it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{NodeId, PollId, Tally};

/// `POST /api/polls/{id}/votes`: the option chosen, by index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CastVote {
    /// The index of the chosen option in `poll.options`.
    pub option: u32,
}

/// What a node committed for one vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct VoteReceipt {
    /// The poll voted in.
    pub poll: PollId,
    /// The option the voter's vote is now on.
    pub option: u32,
    /// The poll's version once this vote is counted. A repeated vote changes nothing
    /// and answers the current version.
    pub version: u64,
    /// The node that handled the vote.
    pub node: NodeId,
}

/// `200` answer to a vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct VoteResponse {
    /// The vote as committed.
    pub vote: VoteReceipt,
    /// The tally right after the commit.
    pub tally: Tally,
}

/// `200` answer to `DELETE /api/polls/{id}/votes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct WithdrawResponse {
    /// The poll.
    pub poll: PollId,
    /// False when the voter had no vote to withdraw (nothing changed).
    pub withdrawn: bool,
    /// The node that handled the request.
    pub node: NodeId,
    /// The tally right after the commit.
    pub tally: Tally,
}
