//! Snapshots for subscribers. When a poll goes viral, thousands of sockets subscribe
//! to it within a second, and each one reading the database (four round trips on a
//! replica) made the subscribe, not the socket, what limited how fast a node takes
//! them. So the database is read once per room, not once per subscriber:
//!
//! - A room that holds the poll's state while the bus is connected is current: every
//!   committed event reaches it, and an event the bus lost (a reconnect, a lag) makes
//!   the node resync every room from the database. Its state is the snapshot, unless
//!   the subscriber has seen a newer version (`since`) elsewhere.
//! - Otherwise the subscriber reads, and a subscriber that finds a read of its poll in
//!   flight waits for that one instead of starting its own.
//!
//! Sharing a read that started before this subscriber joined the room is safe because
//! the snapshot sent is the newer of the read and the room's own state
//! ([`crate::fanout::Room::seed`]): an event committed after the read started was either
//! delivered to the room before the subscriber joined (so it is in the room's state) or
//! after (so it reaches the subscriber's outbox).

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use votewire_proto::{PollId, PollStatus, Tally};

use super::AppState;
use crate::fanout::{Room, Seed};
use crate::store::{PollState, StoreError};

type Read = Shared<BoxFuture<'static, Result<PollState, StoreError>>>;

/// The reads in flight, per poll, with the version each was asked to reach.
#[derive(Default)]
pub struct SnapshotReads {
    in_flight: Mutex<HashMap<PollId, (u64, Read)>>,
}

impl SnapshotReads {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PollId, (u64, Read)>> {
        self.in_flight.lock().expect("never poisoned")
    }
}

impl AppState {
    /// What a socket that just joined `room` is shown: the poll's status and tally, at
    /// least at version `since` (what the client showed before it resubscribed).
    pub async fn snapshot(
        &self,
        room: &Room,
        since: Option<u64>,
    ) -> Result<(PollStatus, Tally), StoreError> {
        if self.fanout.bus().is_connected()
            && let Some((status, tally)) = room.state()
            && since.is_none_or(|seen| seen <= tally.version)
        {
            return Ok((status, tally));
        }
        // A replica must not answer with anything older than the client or the room saw.
        let known = since.max(room.version()).unwrap_or(0);
        let state = self.read_snapshot(room.poll(), known).await?;
        Ok(room.seed(Seed {
            status: state.poll.status(chrono::Utc::now()),
            tally: state.tally,
            closes_at: state.poll.closes_at,
        }))
    }

    /// The poll and its tally at `min_version` or later (a replica behind it is not
    /// used), joining a read of the same poll already in flight when that one asked
    /// for at least as much.
    async fn read_snapshot(
        &self,
        poll: &PollId,
        min_version: u64,
    ) -> Result<PollState, StoreError> {
        let read = {
            let mut reads = self.snapshot_reads.lock();
            match reads.get(poll) {
                Some((asked, read)) if *asked >= min_version => read.clone(),
                _ => {
                    let (store, id) = (self.store.clone(), poll.clone());
                    let read = async move { store.poll_at_least(&id, min_version).await }
                        .boxed()
                        .shared();
                    reads.insert(poll.clone(), (min_version, read.clone()));
                    read
                }
            }
        };
        let state = read.clone().await;
        let mut reads = self.snapshot_reads.lock();
        if reads
            .get(poll)
            .is_some_and(|(_, current)| current.ptr_eq(&read))
        {
            reads.remove(poll);
        }
        state
    }
}
