//! One vote through a [`Store`], for the stories that vote one at a time. The node
//! itself only commits batches ([`Store::vote_batch`]): this is a batch of one.

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use votewire_proto::{NodeId, PollId};
use votewire_server::store::{
    Admission, Ballot, Choice, Store, StoreError, VoteBatch, VoteOutcome,
};

/// "Set this voter's choice in this poll to `choice`" ([`Choice::None`] withdraws it).
#[derive(Debug, Clone)]
pub struct VoteCommand {
    /// The poll.
    pub poll: PollId,
    /// The voter.
    pub voter: String,
    /// The option or options, or none to withdraw.
    pub choice: Choice,
    /// The voter's sequence number, when the story sends one.
    pub seq: Option<u64>,
    /// The ballot's ingest stream entry, when the story sends one.
    pub entry: Option<u64>,
    /// What admits the voter to a poll that is not `open`.
    pub admission: Admission,
    /// The node handling the vote, kept with it for the audit.
    pub node: NodeId,
    /// The server's clock: votes at or after `closes_at` are refused.
    pub now: DateTime<Utc>,
}

impl VoteCommand {
    /// `voter` chooses `option` in `poll` now, on an `open` poll, without a `seq`,
    /// handled by `node`.
    pub fn now(poll: &str, voter: &str, option: u32, node: &str) -> VoteCommand {
        VoteCommand {
            poll: PollId::parse(poll).expect("a poll id"),
            voter: voter.to_owned(),
            choice: Choice::One(option),
            seq: None,
            entry: None,
            admission: Admission::default(),
            node: NodeId::parse(node).expect("a node id"),
            now: Utc::now(),
        }
    }
}

/// Voting one ballot at a time on any store.
pub trait VoteOne {
    /// Sets (or withdraws) one voter's choice: [`Store::vote_batch`] with one ballot.
    fn vote(&self, vote: VoteCommand) -> BoxFuture<'_, Result<VoteOutcome, StoreError>>;
}

impl<S: Store + ?Sized> VoteOne for S {
    fn vote(&self, vote: VoteCommand) -> BoxFuture<'_, Result<VoteOutcome, StoreError>> {
        Box::pin(async move {
            let batch = VoteBatch {
                poll: vote.poll,
                node: vote.node,
                now: vote.now,
                ballots: vec![Ballot {
                    voter: vote.voter,
                    choice: vote.choice,
                    seq: vote.seq,
                    entry: vote.entry,
                    admission: vote.admission,
                }],
            };
            let mut outcome = self.vote_batch(batch).await?;
            let ballot = outcome.results.pop().expect("one result per ballot")?;
            Ok(VoteOutcome {
                ballot,
                tally: outcome.tally,
                visibility: outcome.visibility,
            })
        })
    }
}
