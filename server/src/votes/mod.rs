//! The vote path: votes and closes committed to the store, then published (docs/architecture.md,
//! invariant 2: committed before published). The one service that needs both the
//! store and the fan-out to write.
//!
//! Group commit: votes on a poll that arrive while its previous batch is being
//! committed wait, and go together in the next transaction
//! ([`crate::store::Store::vote_batch`]). Every request still gets its own answer.
//! There is no timer: a vote on a quiet poll commits at once, and under load a batch is
//! whatever arrived during the previous commit, so batches grow with the load and the
//! latency stays about one commit. (The rejected alternative, a fixed gathering window,
//! adds its length to every vote at low load.)
//!
//! One committer task runs per poll with waiting votes ([`queues`]), started by the
//! first vote and ended when its queue is empty. It is the task, not the request, that
//! commits and publishes, so a client that disconnects (and makes axum drop its
//! handler) cannot cut a commit in half: a committed vote is always published. The
//! tasks belong to [`writers::Writers`], which logs how each ended and which the node
//! waits for when it drains.

mod owner;
mod queues;
mod timing;
mod writers;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use chrono::Utc;
use tokio::sync::oneshot;
use votewire_proto::{NodeId, PollEventKind, PollId, PollStatus, RefusedVote, ResultsVisibility};

use crate::error::Refusal;
use crate::fanout::{Fanout, PollNow, RECENT_MAX};
use crate::store::{
    Ballot, BallotResult, Choice, PollState, Store, StoreError, VoteBatch, VoteOutcome,
};
use queues::{VoteQueues, Waiting};
use timing::CommitTiming;
use writers::Writers;

/// How many votes this node handled, by what they did.
#[derive(Debug, Default)]
pub(crate) struct VoteCounts {
    /// Votes that changed a tally.
    pub(crate) changed: AtomicU64,
    /// Votes that repeated the voter's current choice, or were superseded by a newer
    /// one (a higher `seq`).
    pub(crate) unchanged: AtomicU64,
    /// Votes refused (closed poll, bad option, database down).
    pub(crate) rejected: AtomicU64,
}

impl VoteCounts {
    /// Votes this node handled (changed or unchanged), for `/api/cluster`.
    pub(crate) fn handled(&self) -> u64 {
        self.changed.load(Relaxed) + self.unchanged.load(Relaxed)
    }
}

/// Commits votes and closes, then publishes them.
pub(crate) struct Votes {
    node: NodeId,
    store: Arc<dyn Store>,
    fanout: Arc<Fanout>,
    queues: VoteQueues,
    writers: Writers,
    counts: VoteCounts,
    timing: CommitTiming,
}

impl Votes {
    /// The vote path of `node`, committing batches of at most `max_batch` ballots.
    pub(crate) fn new(
        node: NodeId,
        store: Arc<dyn Store>,
        fanout: Arc<Fanout>,
        max_batch: usize,
    ) -> Arc<Self> {
        Arc::new(Self {
            node,
            store,
            fanout,
            queues: VoteQueues::new(max_batch),
            writers: Writers::default(),
            counts: VoteCounts::default(),
            timing: CommitTiming::default(),
        })
    }

    /// What this node's votes did so far.
    pub(crate) fn counts(&self) -> &VoteCounts {
        &self.counts
    }

    /// How long its commits take, for the telemetry.
    pub(crate) fn timing(&self) -> &CommitTiming {
        &self.timing
    }

    /// Sets (or withdraws, with `option: None`) a voter's choice: queues the ballot for
    /// its poll's next group commit and waits for the answer. `recorded_by` is the node
    /// that took the vote when it is not this one (a worker committing what a node
    /// recorded in the ingest stream), for the watchers' feed.
    pub(crate) async fn cast(
        self: &Arc<Self>,
        poll: PollId,
        ballot: Ballot,
        recorded_by: Option<NodeId>,
    ) -> Result<VoteOutcome, StoreError> {
        let (answer, answered) = oneshot::channel();
        let waiting = Waiting {
            ballot,
            recorded_by,
            answer,
        };
        if self.queues.push(&poll, waiting) {
            self.writers.spawn(self.clone().commit_batches(poll));
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Other(
                "the vote's commit task ended without an answer".into(),
            ))
        })
    }

    /// Tells the voters of `refused` (each a voter, its vote's receipt and why), on
    /// every node whose sockets watch `poll`, that votes accepted into the ingest stream
    /// were refused when a worker came to count them. The event carries a fresh read of
    /// the poll, like any event; a poll that cannot be read has nobody to tell.
    pub(crate) async fn report_refused(
        &self,
        poll: PollId,
        refused: Vec<(String, String, StoreError)>,
    ) {
        let state = match self.store.poll(&poll).await {
            Ok(state) => state,
            Err(e) => {
                tracing::debug!(%poll, error = %e, "a refused vote's poll cannot be read");
                return;
            }
        };
        let votes = refused
            .into_iter()
            .map(|(voter, stream_id, why)| {
                let refusal = Refusal::from(why).naming(&poll);
                RefusedVote {
                    voter,
                    stream_id,
                    code: refusal.code,
                    message: refusal.message,
                }
            })
            .collect();
        let kind = PollEventKind::Rejected { votes };
        self.fanout.publish(poll, poll_now(&state), kind).await;
    }

    /// Resolves once every commit and close in flight has finished (and published).
    pub(crate) async fn drain(&self) {
        self.writers.drain().await;
    }

    /// The committer of one poll: batch after batch until no ballot waits.
    async fn commit_batches(self: Arc<Self>, poll: PollId) {
        let _guard = self.queues.committer(&poll);
        while let Some(batch) = self.queues.next_batch(&poll) {
            self.commit(&poll, batch).await;
        }
    }

    /// Commits one batch, publishes what it changed, then answers every request.
    async fn commit(&self, poll: &PollId, waiting: Vec<Waiting>) {
        let mut ballots = Vec::with_capacity(waiting.len());
        let mut answers = Vec::with_capacity(waiting.len());
        let mut takers = Vec::with_capacity(waiting.len());
        for w in waiting {
            ballots.push(w.ballot);
            answers.push(w.answer);
            takers.push(w.recorded_by);
        }
        let choices: Vec<Choice> = ballots.iter().map(|b| b.choice).collect();
        let voters: Vec<String> = ballots.iter().map(|b| b.voter.clone()).collect();
        let batch = VoteBatch {
            poll: poll.clone(),
            node: self.node.clone(),
            now: Utc::now(),
            ballots,
        };
        let started = std::time::Instant::now();
        let committed = self.store.vote_batch(batch).await;
        self.timing.record(started.elapsed());
        let outcome = match committed {
            Ok(outcome) => outcome,
            Err(e) => {
                self.counts
                    .rejected
                    .fetch_add(answers.len() as u64, Relaxed);
                for answer in answers {
                    let _ = answer.send(Err(e.clone()));
                }
                return;
            }
        };
        let (changed, changed_by): (Vec<Choice>, Vec<Option<NodeId>>) = choices
            .iter()
            .zip(takers)
            .zip(&outcome.results)
            .filter(|(_, result)| result.as_ref().is_ok_and(|r| r.changed))
            .map(|((choice, taker), _)| (*choice, taker))
            .unzip();
        let voters = match outcome.visibility {
            ResultsVisibility::AfterVote => standing_voters(&voters, &outcome.results),
            _ => Vec::new(),
        };
        let unchanged = outcome
            .results
            .iter()
            .filter(|r| r.as_ref().is_ok_and(|r| !r.changed))
            .count();
        let rejected = outcome.results.len() - changed.len() - unchanged;
        self.counts.changed.fetch_add(changed.len() as u64, Relaxed);
        self.counts.unchanged.fetch_add(unchanged as u64, Relaxed);
        self.counts.rejected.fetch_add(rejected as u64, Relaxed);
        let state = PollNow {
            status: PollStatus::Open,
            results: outcome.visibility,
            tally: outcome.tally.clone(),
        };
        if !changed.is_empty() {
            let listed = changed.len().min(RECENT_MAX);
            let from = changed.len() - listed;
            let listed = &changed[from..];
            let kind = PollEventKind::Votes {
                more: from as u64,
                options: listed.iter().map(|choice| choice.lowest()).collect(),
                sets: sets_of(listed),
                recorded_by: recorded_by(&self.node, &changed_by[from..]),
                voters,
            };
            self.fanout.publish(poll.clone(), state, kind).await;
        } else if unchanged > 0 {
            // A repeat (or a superseded ballot) is often a retry (nginx, a client) of a vote whose node
            // committed it and died before publishing: publish the current tally,
            // which watchers that already have it ignore.
            self.fanout
                .publish(poll.clone(), state, PollEventKind::Resync)
                .await;
        }
        for (answer, result) in answers.into_iter().zip(outcome.results) {
            let _ = answer.send(result.map(|ballot| VoteOutcome {
                ballot,
                tally: outcome.tally.clone(),
                visibility: outcome.visibility,
            }));
        }
    }
}

/// The nodes that took `votes` for [`PollEventKind::Votes::recorded_by`]: empty when
/// `node`, the committer, took them all.
fn recorded_by(node: &NodeId, votes: &[Option<NodeId>]) -> Vec<NodeId> {
    if votes
        .iter()
        .all(|taker| taker.as_ref().is_none_or(|t| t == node))
    {
        return Vec::new();
    }
    votes
        .iter()
        .map(|taker| taker.clone().unwrap_or_else(|| node.clone()))
        .collect()
}

/// The voters of a batch whose vote stands after it (each once): on an `after_vote`
/// poll, their sockets start seeing the counts.
fn standing_voters(voters: &[String], results: &[Result<BallotResult, StoreError>]) -> Vec<String> {
    let mut standing: Vec<String> = voters
        .iter()
        .zip(results)
        .filter(|(_, result)| result.as_ref().is_ok_and(|r| r.choice.is_some()))
        .map(|(voter, _)| voter.clone())
        .collect();
    standing.sort_unstable();
    standing.dedup();
    standing
}

/// Every option of each of `choices`, for [`PollEventKind::Votes::sets`]: empty when
/// none chose more than one (a single-choice poll's votes travel as they always did).
fn sets_of(choices: &[Choice]) -> Vec<Vec<u32>> {
    if choices.iter().all(|choice| choice.options().len() <= 1) {
        return Vec::new();
    }
    choices.iter().map(|choice| choice.options()).collect()
}

/// The poll as an event carries it, from a read of the store.
pub(crate) fn poll_now(state: &PollState) -> PollNow {
    PollNow {
        status: state.poll.status(Utc::now()),
        results: state.poll.results,
        tally: state.tally.clone(),
    }
}
