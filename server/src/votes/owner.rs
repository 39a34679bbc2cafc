//! The owner's changes to a poll: close, reopen, reset, pause and resume, and who sees
//! its results. Each runs in a task of its own, as a vote's commit does, and is
//! published after it is committed.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::oneshot;
use votewire_proto::{PollEventKind, PollId, PollStatus, ResultsVisibility};

use super::{Votes, poll_now};
use crate::fanout::PollNow;
use crate::store::{PollState, Store, StoreError};

impl Votes {
    /// Closes a poll and tells its watchers.
    pub(crate) async fn close(self: &Arc<Self>, poll: PollId) -> Result<PollState, StoreError> {
        self.in_task("close", move |votes| async move {
            let (closed, state) = votes.store.close(&poll, Utc::now()).await?;
            if closed {
                let closed = PollNow {
                    status: PollStatus::Closed,
                    ..poll_now(&state)
                };
                votes
                    .fanout
                    .publish(poll, closed, PollEventKind::Closed)
                    .await;
            }
            Ok(state)
        })
        .await
    }

    /// Opens a poll its owner closed again, before its closing time, and tells the
    /// watchers: the reopen raises the version, so it is newer than the close.
    pub(crate) async fn reopen(self: &Arc<Self>, poll: PollId) -> Result<PollState, StoreError> {
        self.change("reopen", poll, move |store, poll| async move {
            store.reopen(&poll, Utc::now()).await
        })
        .await
    }

    /// Takes every vote out of an open poll and tells its watchers.
    pub(crate) async fn reset(self: &Arc<Self>, poll: PollId) -> Result<PollState, StoreError> {
        self.change("reset", poll, move |store, poll| async move {
            store.reset(&poll, Utc::now()).await
        })
        .await
    }

    /// Pauses (`true`) or resumes voting and tells the watchers.
    pub(crate) async fn pause(
        self: &Arc<Self>,
        poll: PollId,
        paused: bool,
    ) -> Result<PollState, StoreError> {
        self.change("pause", poll, move |store, poll| async move {
            store.pause(&poll, paused, Utc::now()).await
        })
        .await
    }

    /// Sets who sees the poll's counts and tells the watchers, who each get the
    /// counts or not under the new visibility.
    pub(crate) async fn set_results(
        self: &Arc<Self>,
        poll: PollId,
        results: ResultsVisibility,
    ) -> Result<PollState, StoreError> {
        self.change("results", poll, move |store, poll| async move {
            store.set_results(&poll, results).await
        })
        .await
    }

    /// An owner's change that raises the version (`write`, given the store and the
    /// poll), in a task of its own, then told to every node's watchers.
    async fn change<F>(
        self: &Arc<Self>,
        what: &'static str,
        poll: PollId,
        write: impl FnOnce(Arc<dyn Store>, PollId) -> F + Send + 'static,
    ) -> Result<PollState, StoreError>
    where
        F: Future<Output = Result<PollState, StoreError>> + Send + 'static,
    {
        self.in_task(what, move |votes| async move {
            let state = write(votes.store.clone(), poll.clone()).await?;
            votes.publish_change(poll, &state).await;
            Ok(state)
        })
        .await
    }

    /// Runs an owner's change in a task of its own, as a vote's commit runs: a client
    /// that hangs up cannot cut it between the store and the publish.
    async fn in_task<F>(
        self: &Arc<Self>,
        what: &'static str,
        change: impl FnOnce(Arc<Self>) -> F + Send + 'static,
    ) -> Result<PollState, StoreError>
    where
        F: Future<Output = Result<PollState, StoreError>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let votes = self.clone();
        self.writers.spawn(async move {
            let _ = answer.send(change(votes).await);
        });
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Other(format!(
                "the {what} task ended without an answer"
            )))
        })
    }

    /// Tells every node's watchers of an owner's change (pause, resume, reset, who
    /// sees the results): the poll at its new version.
    async fn publish_change(&self, poll: PollId, state: &PollState) {
        self.fanout
            .publish(poll, poll_now(state), PollEventKind::Changed)
            .await;
    }
}
