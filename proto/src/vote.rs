//! Votes: "set my choice to X" (one option, or a set of them on a multiple-choice
//! poll), and withdrawing it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{NodeId, PollId, Tally};

/// `POST /api/polls/{id}/votes`: the option chosen, by index, or the options chosen on
/// a multiple-choice poll. Exactly one of `option` and `options`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CastVote {
    /// The index of the chosen option in `poll.options`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub option: Option<u32>,
    /// The indexes of the chosen options, at most the poll's `max_choices`, none twice:
    /// the voter's whole choice, which replaces the one before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub options: Option<Vec<u32>>,
    /// The voter's sequence number for this choice, higher for every later choice (a
    /// client may use its clock in milliseconds). The vote applies only if it is
    /// higher than the last one applied for this voter and poll, so a retry of an
    /// older choice that arrives late never undoes a newer one. Without it the vote
    /// always applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub seq: Option<u64>,
    /// In an `invite` poll, the invite code, needed on the voter's first vote only: it
    /// binds the code to the voter, and the code admits no other voter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub invite: Option<String>,
}

/// What a node committed for one vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct VoteReceipt {
    /// The poll voted in.
    pub poll: PollId,
    /// The option this vote asked for (the first of them, for a set).
    pub option: u32,
    /// Every option this vote asked for, in index order.
    pub options: Vec<u32>,
    /// The `seq` this vote carried.
    pub seq: Option<u64>,
    /// True when a choice of this voter with an equal or higher `seq` was already
    /// applied: this vote changed nothing, and `choice` is the newer choice that stands.
    pub superseded: bool,
    /// The voter's choice that stands after this vote (`null`: none, withdrawn by a
    /// newer request); the first of `choices`.
    pub choice: Option<u32>,
    /// Every option of the voter's choice that stands, in index order.
    pub choices: Vec<u32>,
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

/// `202` answer to a vote or a withdrawal on a node in stream ingest mode: the vote
/// is recorded (in a Redis Stream that Redis keeps on disk) and a worker will count
/// it. An update of the poll carries it once it is counted; a vote the database
/// refuses then (the poll closed meanwhile) reaches the voter's sockets as a
/// `rejected` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct VoteAccepted {
    /// The vote's entry in the ingest stream, `<milliseconds>-<n>`: later entries of a
    /// poll are counted after earlier ones.
    pub stream_id: String,
    /// The poll voted in.
    pub poll: PollId,
    /// The option asked for (the first, for a set); `null` for a withdrawal.
    pub option: Option<u32>,
    /// Every option asked for, in index order; empty for a withdrawal.
    pub options: Vec<u32>,
    /// The `seq` the request carried.
    pub seq: Option<u64>,
    /// The node that recorded the vote.
    pub node: NodeId,
}

/// `200` answer to `DELETE /api/polls/{id}/votes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct WithdrawResponse {
    /// The poll.
    pub poll: PollId,
    /// False when nothing changed: the voter had no vote, or a newer choice (an equal
    /// or higher `seq`) was already applied.
    pub withdrawn: bool,
    /// True when a choice of this voter with an equal or higher `seq` was already
    /// applied: this withdrawal changed nothing.
    pub superseded: bool,
    /// The voter's choice that stands after this request (`null`: no vote); the first
    /// of `choices`.
    pub choice: Option<u32>,
    /// Every option of the voter's choice that stands, in index order.
    pub choices: Vec<u32>,
    /// The node that handled the request.
    pub node: NodeId,
    /// The tally right after the commit.
    pub tally: Tally,
}
