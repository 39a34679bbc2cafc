//! The ballots waiting per poll for its committer: a poll has a queue exactly while
//! its committer runs, and each batch the committer takes is what arrived meanwhile.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::oneshot;
use votewire_proto::{NodeId, PollId};

use crate::store::{Ballot, StoreError, VoteOutcome};

/// A ballot waiting for its poll's committer, and where its answer goes.
pub(super) struct Waiting {
    pub(super) ballot: Ballot,
    /// The node that took the vote, when it is not the one committing it.
    pub(super) recorded_by: Option<NodeId>,
    pub(super) answer: oneshot::Sender<Result<VoteOutcome, StoreError>>,
}

/// The ballots waiting per poll. A poll has an entry exactly while its committer runs.
pub(super) struct VoteQueues {
    max_batch: usize,
    waiting: Mutex<HashMap<PollId, VecDeque<Waiting>>>,
}

impl VoteQueues {
    /// Queues that hand out batches of at most `max_batch` ballots.
    pub(super) fn new(max_batch: usize) -> Self {
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
    pub(super) fn push(&self, poll: &PollId, waiting: Waiting) -> bool {
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
    pub(super) fn next_batch(&self, poll: &PollId) -> Option<Vec<Waiting>> {
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

    /// Held by the committer of `poll` while it runs: abandons the queue if the
    /// committer unwinds.
    pub(super) fn committer<'a>(&'a self, poll: &'a PollId) -> CommitterGuard<'a> {
        CommitterGuard { queues: self, poll }
    }
}

/// Removes the poll's queue if its committer unwinds.
pub(super) struct CommitterGuard<'a> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(voter: &str) -> (Waiting, oneshot::Receiver<Result<VoteOutcome, StoreError>>) {
        let (answer, answered) = oneshot::channel();
        let ballot = Ballot {
            voter: voter.to_owned(),
            choice: crate::store::Choice::One(0),
            seq: None,
            entry: None,
            admission: Default::default(),
        };
        (
            Waiting {
                ballot,
                recorded_by: None,
                answer,
            },
            answered,
        )
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
