//! What the store keeps and answers with: polls, ballots, batches and their outcomes,
//! in backend-neutral Rust types (times are `chrono`, ids are `votewire_proto`'s).

use chrono::{DateTime, Utc};
use votewire_proto::{NodeId, Poll, PollId, PollStatus, ResultsVisibility, Tally, VotingMode};

use super::{Choice, StoreError};

/// A poll as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRecord {
    /// Its id.
    pub id: PollId,
    /// The question.
    pub question: String,
    /// The options, in index order.
    pub options: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it closes by itself.
    pub closes_at: Option<DateTime<Utc>>,
    /// When its owner closed it.
    pub closed_at: Option<DateTime<Utc>>,
    /// Who may vote.
    pub mode: VotingMode,
    /// The code people type to reach it; `None` for a poll made before codes.
    pub join_code: Option<String>,
    /// Listed among the open polls.
    pub listed: bool,
    /// Its owner paused voting.
    pub paused: bool,
    /// How many options a voter may choose: 1, or more for a multiple-choice poll.
    pub max_choices: u32,
    /// Who sees its counts.
    pub results: ResultsVisibility,
}

impl PollRecord {
    /// Open, paused or closed at `now`: the server's clock decides when `closes_at` has
    /// passed.
    pub fn status(&self, now: DateTime<Utc>) -> PollStatus {
        if self.closed_at(now).is_some() {
            PollStatus::Closed
        } else if self.paused {
            PollStatus::Paused
        } else {
            PollStatus::Open
        }
    }

    /// When the poll closed, if it has by `now`.
    pub(crate) fn closed_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.closed_at.or(self.closes_at.filter(|at| *at <= now))
    }

    /// The poll as the API shows it at `now`.
    pub(crate) fn to_poll(&self, now: DateTime<Utc>) -> Poll {
        Poll {
            id: self.id.clone(),
            question: self.question.clone(),
            options: self.options.clone(),
            created_at: self.created_at,
            closes_at: self.closes_at,
            closed_at: self.closed_at(now),
            status: self.status(now),
            mode: self.mode,
            join_code: self.join_code.clone(),
            listed: self.listed,
            max_choices: self.max_choices,
            results: self.results,
        }
    }
}

/// A poll and its tally, read together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollState {
    /// The poll.
    pub poll: PollRecord,
    /// Its tally.
    pub tally: Tally,
}

/// Where a poll stands, without its tally: what the anti-entropy loop compares a room
/// with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollVersion {
    /// The poll.
    pub id: PollId,
    /// Its tally's version.
    pub version: u64,
    /// Whether it was closed (by its owner; a closing time is the reader's to apply).
    pub closed: bool,
}

/// One voter's "set my choice to this" ([`Choice::None`] withdraws it) in a
/// [`VoteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    /// The voter, from a verified token.
    pub voter: String,
    /// The option or options chosen, or none to withdraw.
    pub choice: Choice,
    /// The voter's sequence number for this ballot, when the client sends one: it
    /// applies only if higher than the voter's last on this poll, so a late retry of an
    /// older choice never undoes a newer one. Without it the ballot always applies.
    pub seq: Option<u64>,
    /// The ballot's place in the poll's ingest stream, when it came through one (a
    /// Redis Streams entry id `ms-n` as `ms * 2^20 + n`). A ballot without a `seq`
    /// applies only if its entry is later than every entry already handled for this
    /// voter, so an entry committed twice (a worker killed between its commit and its
    /// acknowledgement) or claimed after a later one changes nothing.
    pub entry: Option<u64>,
    /// What admits the voter to a poll that is not `open`.
    pub admission: Admission,
}

/// What a ballot brings to be admitted to a `per_address` or `invite` poll; an `open`
/// poll reads neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admission {
    /// A keyed digest of the client's address (never the address itself).
    pub address: Option<String>,
    /// The SHA-256 of the invite code the vote carries (never the code itself).
    pub invite: Option<String>,
}

/// What one ballot of a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BallotResult {
    /// It changed the voter's choice (false for a repeat or a superseded ballot, which
    /// wrote nothing).
    pub changed: bool,
    /// A ballot of this voter with a higher or equal `seq` was already stored: this one
    /// was not applied.
    pub superseded: bool,
    /// The voter's choice that stands after this ballot (`None`: no vote).
    pub choice: Choice,
}

/// Ballots on one poll, handled by one node, committed in one transaction (group
/// commit). They apply in order, as if committed one by one.
#[derive(Debug, Clone)]
pub struct VoteBatch {
    /// The poll.
    pub poll: PollId,
    /// The node handling the ballots, kept with each vote for the audit.
    pub node: NodeId,
    /// The server's clock: ballots at or after `closes_at` are refused.
    pub now: DateTime<Utc>,
    /// The ballots, in the order they arrived.
    pub ballots: Vec<Ballot>,
}

/// What a committed batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Per ballot, in order: what it did, or why it alone was refused (an option out
    /// of range).
    pub results: Vec<Result<BallotResult, StoreError>>,
    /// The tally after the commit.
    pub tally: Tally,
    /// Who sees the poll's counts, as the commit read it: the published event carries
    /// it, and for `after_vote` the voters whose votes now stand.
    pub visibility: ResultsVisibility,
}

/// What a committed vote did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteOutcome {
    /// What the ballot did: a repeat or a superseded ballot wrote nothing and the
    /// version did not move.
    pub ballot: BallotResult,
    /// The tally after the commit.
    pub tally: Tally,
    /// Who sees the poll's counts, as the commit read it.
    pub visibility: ResultsVisibility,
}

/// A page of the open-poll list starts after this poll (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    /// The last listed poll's creation time.
    pub created_at: DateTime<Utc>,
    /// The last listed poll's id.
    pub id: PollId,
}

/// The `Idempotency-Key` of a poll creation, as the store records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key, as the client sent it.
    pub key: String,
    /// A digest of the request: the same key with another request is refused.
    pub request_hash: String,
    /// Keys recorded before this time may be forgotten (the retention).
    pub forget_before: DateTime<Utc>,
}

/// What a poll creation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Creation {
    /// The poll was stored.
    Created,
    /// The key had already made a poll, for the same request: this one, as it is now.
    Replayed(PollState),
    /// The key had already made a poll for another request.
    KeyReused,
}

/// A voter's standing vote, as a poll's export lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVote {
    /// The voter's id: the export shows a pseudonym of it, never the id.
    pub voter: String,
    /// The option or options chosen.
    pub choice: Choice,
    /// The node that handled the vote.
    pub node: String,
    /// When it was cast (its latest change).
    pub at: DateTime<Utc>,
}
