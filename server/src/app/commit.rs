//! Group commit, the node's half: votes on a poll that arrive while its previous batch
//! is being committed wait, and go together in the next transaction
//! ([`crate::store::Store::vote_batch`]). Every request still gets its own answer.
//!
//! There is no timer: a vote on a quiet poll commits at once, and under load a batch
//! is whatever arrived during the previous commit, so batches grow with the load and
//! the latency stays about one commit. (The rejected alternative, a fixed gathering
//! window, adds its length to every vote at low load.)
//!
//! One committer task runs per poll with waiting votes, spawned by the first vote and
//! ended when its queue is empty. It is the task, not the request, that commits and
//! publishes, so a client that disconnects (and makes axum drop its handler) cannot
//! cut a commit in half: a committed vote is always published.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::Ordering::Relaxed;

use chrono::Utc;
use tokio::sync::oneshot;
use votewire_proto::{PollEventKind, PollId, PollStatus};

use super::AppState;
use crate::fanout::room::RECENT_MAX;
use crate::store::{Ballot, StoreError, VoteBatch, VoteOutcome};

/// A ballot waiting for its poll's committer, and where its answer goes.
struct Waiting {
    ballot: Ballot,
    answer: oneshot::Sender<Result<VoteOutcome, StoreError>>,
}

/// The ballots waiting per poll. A poll has an entry exactly while its committer runs.
pub struct VoteQueues {
    max_batch: usize,
    waiting: Mutex<HashMap<PollId, VecDeque<Waiting>>>,
}

impl VoteQueues {
    /// Queues that hand out batches of at most `max_batch` ballots.
    pub fn new(max_batch: usize) -> Self {
        Self {
            max_batch: max_batch.max(1),
            waiting: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PollId, VecDeque<Waiting>>> {
        self.waiting
            .lock()
            .expect("the vote queues are never poisoned")
    }

    /// Queues a ballot; true when no committer runs for the poll: the caller starts one.
    fn push(&self, poll: &PollId, waiting: Waiting) -> bool {
        let mut queues = self.lock();
        match queues.get_mut(poll) {
            Some(queue) => {
                queue.push_back(waiting);
                false
            }
            None => {
                queues.insert(poll.clone(), VecDeque::from([waiting]));
                true
            }
        }
    }

    /// The next batch of the poll's committer, oldest first; `None` when nothing waits,
    /// and then the committer is over (the next ballot starts a new one).
    fn next_batch(&self, poll: &PollId) -> Option<Vec<Waiting>> {
        let mut queues = self.lock();
        let queue = queues.get_mut(poll)?;
        if queue.is_empty() {
            queues.remove(poll);
            return None;
        }
        let size = queue.len().min(self.max_batch);
        Some(queue.drain(..size).collect())
    }

    /// Drops the poll's queue (its waiting requests get an error): a committer that
    /// panicked must not leave the poll looking busy forever.
    fn abandon(&self, poll: &PollId) {
        self.lock().remove(poll);
    }
}

/// Removes the poll's queue if its committer unwinds.
struct CommitterGuard<'a> {
    queues: &'a VoteQueues,
    poll: &'a PollId,
}

impl Drop for CommitterGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.queues.abandon(self.poll);
        }
    }
}

impl AppState {
    /// Sets (or withdraws, with `option: None`) a voter's choice: queues the ballot for
    /// its poll's next group commit and waits for the answer.
    pub async fn cast_vote(&self, poll: PollId, ballot: Ballot) -> Result<VoteOutcome, StoreError> {
        let (answer, answered) = oneshot::channel();
        if self.votes.push(&poll, Waiting { ballot, answer }) {
            tokio::spawn(self.clone().commit_batches(poll));
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Other(
                "the vote's commit task ended without an answer".into(),
            ))
        })
    }

    /// The committer of one poll: batch after batch until no ballot waits.
    async fn commit_batches(self, poll: PollId) {
        let _guard = CommitterGuard {
            queues: &self.votes,
            poll: &poll,
        };
        while let Some(batch) = self.votes.next_batch(&poll) {
            self.commit(&poll, batch).await;
        }
    }

    /// Commits one batch, publishes what it changed, then answers every request.
    async fn commit(&self, poll: &PollId, waiting: Vec<Waiting>) {
        let (ballots, answers): (Vec<Ballot>, Vec<_>) =
            waiting.into_iter().map(|w| (w.ballot, w.answer)).unzip();
        let options: Vec<Option<u32>> = ballots.iter().map(|b| b.option).collect();
        let batch = VoteBatch {
            poll: poll.clone(),
            node: self.settings.node_id.clone(),
            now: Utc::now(),
            ballots,
        };
        let outcome = match self.store.vote_batch(batch).await {
            Ok(outcome) => outcome,
            Err(e) => {
                self.metrics
                    .votes_rejected
                    .fetch_add(answers.len() as u64, Relaxed);
                for answer in answers {
                    let _ = answer.send(Err(e.clone()));
                }
                return;
            }
        };
        let changed: Vec<Option<u32>> = options
            .iter()
            .zip(&outcome.results)
            .filter(|(_, result)| matches!(result, Ok(true)))
            .map(|(option, _)| *option)
            .collect();
        let unchanged = outcome
            .results
            .iter()
            .filter(|r| matches!(r, Ok(false)))
            .count();
        let rejected = outcome.results.len() - changed.len() - unchanged;
        self.metrics
            .votes_changed
            .fetch_add(changed.len() as u64, Relaxed);
        self.metrics
            .votes_unchanged
            .fetch_add(unchanged as u64, Relaxed);
        self.metrics
            .votes_rejected
            .fetch_add(rejected as u64, Relaxed);
        if !changed.is_empty() {
            let listed = changed.len().min(RECENT_MAX);
            let kind = PollEventKind::Votes {
                more: (changed.len() - listed) as u64,
                options: changed[changed.len() - listed..].to_vec(),
            };
            self.publish(poll.clone(), PollStatus::Open, outcome.tally.clone(), kind)
                .await;
        } else if unchanged > 0 {
            // A repeat is often a retry (nginx, a client) of a vote whose node
            // committed it and died before publishing: publish the current tally,
            // which watchers that already have it ignore.
            self.publish(
                poll.clone(),
                PollStatus::Open,
                outcome.tally.clone(),
                PollEventKind::Resync,
            )
            .await;
        }
        for (answer, result) in answers.into_iter().zip(outcome.results) {
            let _ = answer.send(result.map(|changed| VoteOutcome {
                changed,
                tally: outcome.tally.clone(),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(voter: &str) -> (Waiting, oneshot::Receiver<Result<VoteOutcome, StoreError>>) {
        let (answer, answered) = oneshot::channel();
        let ballot = Ballot {
            voter: voter.to_owned(),
            option: Some(0),
        };
        (Waiting { ballot, answer }, answered)
    }

    #[test]
    fn the_first_ballot_starts_a_committer_and_later_ones_wait_for_its_next_batch() {
        let queues = VoteQueues::new(2);
        let poll = PollId::parse("p").unwrap();
        assert!(
            queues.push(&poll, waiting("a").0),
            "first: start a committer"
        );
        assert!(!queues.push(&poll, waiting("b").0));
        assert!(!queues.push(&poll, waiting("c").0));
        let voters = |batch: Vec<Waiting>| -> Vec<String> {
            batch.into_iter().map(|w| w.ballot.voter).collect()
        };
        assert_eq!(voters(queues.next_batch(&poll).unwrap()), ["a", "b"]);
        assert_eq!(voters(queues.next_batch(&poll).unwrap()), ["c"]);
        assert!(
            queues.next_batch(&poll).is_none(),
            "empty: the committer ends"
        );
        assert!(
            queues.push(&poll, waiting("d").0),
            "and the next ballot starts one"
        );
    }

    #[test]
    fn an_abandoned_queue_answers_its_waiting_requests_with_an_error() {
        let queues = VoteQueues::new(8);
        let poll = PollId::parse("p").unwrap();
        let (w, mut answered) = waiting("a");
        queues.push(&poll, w);
        queues.abandon(&poll);
        assert!(answered.try_recv().is_err(), "the sender was dropped");
        assert!(
            queues.push(&poll, waiting("b").0),
            "a new committer may start"
        );
    }
}
