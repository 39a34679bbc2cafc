//! [`Store`] for [`ReplicatedStore`]: writes and owner's changes go to the primary
//! (noting the versions they leave), reads to a replica of the rotation with the
//! primary behind it (see the module docs of `super`).

use std::sync::atomic::Ordering::Relaxed;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use votewire_proto::{NodeVotes, PollId, ResultsVisibility, Tally};

use super::ReplicatedStore;
use crate::store::{
    BatchOutcome, Creation, IdempotencyKey, ListCursor, PollRecord, PollState, PollVersion, Store,
    StoreError, StoredVote, VoteBatch,
};

impl Store for ReplicatedStore {
    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        // Replicas get the schema through replication: they are read-only.
        self.primary.migrate()
    }

    fn create_poll<'a>(
        &'a self,
        poll: &'a PollRecord,
        key: Option<&'a IdempotencyKey>,
    ) -> BoxFuture<'a, Result<Creation, StoreError>> {
        self.primary.create_poll(poll, key)
    }

    fn add_invites<'a>(
        &'a self,
        id: &'a PollId,
        code_hashes: &'a [String],
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.primary.add_invites(id, code_hashes)
    }

    fn poll<'a>(&'a self, id: &'a PollId) -> BoxFuture<'a, Result<PollState, StoreError>> {
        self.poll_at_least(id, 0)
    }

    fn poll_at_least<'a>(
        &'a self,
        id: &'a PollId,
        min_version: u64,
    ) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(async move {
            let need = self.need(id, min_version);
            if let Some((index, replica)) = self.pick()
                && let Some(state) = self.try_replica(index, replica.poll(id)).await
            {
                let closed = state.poll.closed_at.is_some();
                if need.shown_by(&state.tally, closed) {
                    self.observe(id, &state.tally, closed);
                    return Ok(state);
                }
                self.fallbacks.behind.fetch_add(1, Relaxed);
            }
            let state = self.primary.poll(id).await?;
            self.observe(id, &state.tally, state.poll.closed_at.is_some());
            Ok(state)
        })
    }

    fn poll_by_code<'a>(&'a self, code: &'a str) -> BoxFuture<'a, Result<PollId, StoreError>> {
        // A code a replica does not know yet may be a poll made a moment ago.
        Box::pin(
            self.replica_or_primary(move |store| async move { store.poll_by_code(code).await }),
        )
    }

    fn votes_page<'a>(
        &'a self,
        id: &'a PollId,
        after: &'a str,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<StoredVote>, StoreError>> {
        // An export within the lag bound is as fresh as one can ask of a live poll.
        Box::pin(self.replica_or_primary(move |store| async move {
            store.votes_page(id, after, limit).await
        }))
    }

    fn list_open<'a>(
        &'a self,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<&'a ListCursor>,
    ) -> BoxFuture<'a, Result<Vec<(PollRecord, u64)>, StoreError>> {
        // The list has no version to check: within the lag bound is fresh enough.
        Box::pin(self.replica_or_primary(move |store| async move {
            store.list_open(now, limit, after).await
        }))
    }

    fn versions<'a>(
        &'a self,
        polls: &'a [PollId],
    ) -> BoxFuture<'a, Result<Vec<PollVersion>, StoreError>> {
        // A replica behind only delays a repair to the next round; with the primary
        // down, the replicas are what keeps the rooms converging.
        Box::pin(self.replica_or_primary(move |store| async move { store.versions(polls).await }))
    }

    fn vote_batch(&self, batch: VoteBatch) -> BoxFuture<'_, Result<BatchOutcome, StoreError>> {
        Box::pin(async move {
            let poll = batch.poll.clone();
            let outcome = self.primary.vote_batch(batch).await?;
            self.observe(&poll, &outcome.tally, false);
            Ok(outcome)
        })
    }

    fn close<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<(bool, PollState), StoreError>> {
        Box::pin(async move {
            let (closed, state) = self.primary.close(id, now).await?;
            self.observe(id, &state.tally, state.poll.closed_at.is_some());
            Ok((closed, state))
        })
    }

    fn reopen<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(async move {
            let state = self.primary.reopen(id, now).await?;
            self.observe(id, &state.tally, state.poll.closed_at(now).is_some());
            Ok(state)
        })
    }

    fn pause<'a>(
        &'a self,
        id: &'a PollId,
        paused: bool,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(async move {
            let state = self.primary.pause(id, paused, now).await?;
            self.observe(id, &state.tally, false);
            Ok(state)
        })
    }

    fn set_results<'a>(
        &'a self,
        id: &'a PollId,
        results: ResultsVisibility,
    ) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(async move {
            let state = self.primary.set_results(id, results).await?;
            self.observe(id, &state.tally, false);
            Ok(state)
        })
    }

    fn has_vote<'a>(
        &'a self,
        id: &'a PollId,
        voter: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        // A replica may not have a vote of a moment ago yet: only its "yes" is taken.
        Box::pin(async move {
            let on_replica = self
                .replica_or_primary(move |store| async move { store.has_vote(id, voter).await })
                .await;
            match on_replica {
                Ok(true) => Ok(true),
                _ => self.primary.has_vote(id, voter).await,
            }
        })
    }

    fn reset<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PollState, StoreError>> {
        Box::pin(async move {
            let state = self.primary.reset(id, now).await?;
            self.observe(id, &state.tally, false);
            Ok(state)
        })
    }

    fn audit<'a>(
        &'a self,
        id: &'a PollId,
    ) -> BoxFuture<'a, Result<(Tally, Vec<NodeVotes>), StoreError>> {
        Box::pin(async move {
            let need = self.need(id, 0);
            if let Some((index, replica)) = self.pick()
                && let Some((tally, nodes)) = self.try_replica(index, replica.audit(id)).await
            {
                if tally.version >= need.version {
                    self.observe(id, &tally, false);
                    return Ok((tally, nodes));
                }
                self.fallbacks.behind.fetch_add(1, Relaxed);
            }
            let (tally, nodes) = self.primary.audit(id).await?;
            self.observe(id, &tally, false);
            Ok((tally, nodes))
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        // Ready means writes can commit; replicas only make reads cheaper.
        self.primary.ping()
    }
}
