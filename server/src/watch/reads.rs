//! Database reads shared by the subscribers of a poll: a subscriber that finds a read
//! of its poll in flight (asked for at least the version it needs) waits for that one
//! instead of starting its own, so a viral poll's ten thousand subscribers cost one
//! read, not ten thousand (four round trips each on a replica).
//!
//! Sharing a read that started before this subscriber joined the room is safe because
//! the snapshot shown is the newer of the read and the room's own state
//! ([`crate::fanout::Fanout::seed`]): an event committed after the read started was
//! either delivered to the room before the subscriber joined (so it is in the room's
//! state) or after (so it reaches the subscriber's outbox).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use votewire_proto::PollId;

use crate::store::{PollState, Store, StoreError};

type Read = Shared<BoxFuture<'static, Result<PollState, StoreError>>>;

/// The reads in flight, per poll, with the version each was asked to reach.
#[derive(Default)]
pub(super) struct SharedReads {
    /// A std mutex: held to find or insert a read, never across an `.await`.
    in_flight: Mutex<HashMap<PollId, (u64, Read)>>,
}

impl SharedReads {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PollId, (u64, Read)>> {
        self.in_flight.lock().expect("never poisoned")
    }

    /// The poll and its tally at `min_version` or later (a replica behind it is not
    /// used), joining a read of the same poll already in flight when that one asked
    /// for at least as much.
    pub(super) async fn read(
        &self,
        store: &Arc<dyn Store>,
        poll: &PollId,
        min_version: u64,
    ) -> Result<PollState, StoreError> {
        let read = {
            let mut reads = self.lock();
            match reads.get(poll) {
                Some((asked, read)) if *asked >= min_version => read.clone(),
                _ => {
                    let (store, id) = (store.clone(), poll.clone());
                    let read = async move { store.poll_at_least(&id, min_version).await }
                        .boxed()
                        .shared();
                    reads.insert(poll.clone(), (min_version, read.clone()));
                    read
                }
            }
        };
        let state = read.clone().await;
        let mut reads = self.lock();
        if reads
            .get(poll)
            .is_some_and(|(_, current)| current.ptr_eq(&read))
        {
            reads.remove(poll);
        }
        state
    }
}
