//! Watching polls: a socket subscribes to a poll in one call (join its room, then get
//! its snapshot); after a bus gap the node brings every watched poll up to date, and at
//! an interval it checks every watched poll against the database ([`heal`]).
//!
//! Watch first, read second: once the socket is in the room (and the node subscribed
//! on the bus), every event committed afterwards reaches its outbox, so a snapshot read
//! afterwards can only be older than what follows, never miss something. Clients order
//! frames by version, so an older snapshot followed by a newer update is harmless.
//!
//! When a poll goes viral, thousands of sockets subscribe within a second, and each one
//! reading the database would make the subscribe, not the socket, what limits how fast
//! a node takes them. So the snapshot is the room's own state when it is current, and
//! otherwise one read shared by every subscriber of the poll ([`reads`]).

mod heal;
mod reads;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use chrono::Utc;
use tokio::sync::watch;
use votewire_proto::{PollId, PollStatus};

use crate::error::Refusal;
use crate::fanout::{Fanout, PollNow, Seed, Watcher};
use crate::results::{Reader, asks_whether_voted, shown};
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::votes::poll_now;
use reads::SharedReads;

/// Subscriptions and resyncs.
pub(crate) struct Watch {
    store: Arc<dyn Store>,
    fanout: Arc<Fanout>,
    reads: SharedReads,
    /// Rooms the anti-entropy loop found behind and refreshed.
    repairs: AtomicU64,
}

impl Watch {
    /// Watching over `store` and `fanout`.
    pub(crate) fn new(store: Arc<dyn Store>, fanout: Arc<Fanout>) -> Arc<Self> {
        Arc::new(Self {
            store,
            fanout,
            reads: SharedReads::default(),
            repairs: AtomicU64::new(0),
        })
    }

    /// Makes `watcher` receive the updates of `poll` and returns what it must be shown
    /// first, at least at version `since` (what the client showed before it
    /// resubscribed) — or `None` when the client shows the current version of an open
    /// poll already (a client that missed a close still learns of it). On a refusal
    /// (no such poll, the database down) a socket that was not watching the poll is
    /// not left in its room.
    ///
    /// `owner`: the socket sent the poll's owner token. Otherwise, on an `after_vote`
    /// poll, the socket's voter is looked up: one who voted sees the counts. The
    /// snapshot shows them only to a socket that may see them.
    pub(crate) async fn subscribe(
        &self,
        poll: &PollId,
        watcher: &Watcher,
        since: Option<u64>,
        owner: bool,
    ) -> Result<Option<PollNow>, Refusal> {
        let mut reader = if owner { Reader::Owner } else { Reader::Anyone };
        let added = self.fanout.watch(poll, watcher, reader).await;
        let snapshot = match self.snapshot(poll, since).await {
            Ok(snapshot) => snapshot,
            Err(refusal) => {
                if added {
                    self.fanout.unwatch(poll, watcher).await;
                }
                return Err(refusal);
            }
        };
        // A client at the current version knows an open or paused status (both come with
        // a version of their own), not a close (which keeps the version of its last vote).
        if reader == Reader::Anyone
            && asks_whether_voted(snapshot.results, snapshot.status)
            && let Some(voter) = watcher.outbox.voter()
            && self.has_voted(poll, voter).await
        {
            reader = Reader::Voted;
            self.fanout.seat_as(poll, watcher, reader);
        }
        if since == Some(snapshot.tally.version) && snapshot.status != PollStatus::Closed {
            return Ok(None);
        }
        self.fanout.stats().sent(1);
        let tally = shown(snapshot.tally, snapshot.results, reader, snapshot.status);
        Ok(Some(PollNow { tally, ..snapshot }))
    }

    /// Whether `voter` has a vote in `poll`; a failed read counts as no (the socket
    /// then waits for its vote, or the close, to see the counts).
    async fn has_voted(&self, poll: &PollId, voter: &str) -> bool {
        self.store.has_vote(poll, voter).await.unwrap_or_else(|e| {
            tracing::debug!(%poll, error = %e, "cannot tell whether a watcher voted");
            false
        })
    }

    /// Stops sending the updates of `poll` to `watcher`.
    pub(crate) async fn unsubscribe(&self, poll: &PollId, watcher: &Watcher) {
        self.fanout.unwatch(poll, watcher).await;
    }

    /// The room's state when it is current and not older than `since`; otherwise a read
    /// (shared with the other subscribers of the poll) folded into the room.
    async fn snapshot(&self, poll: &PollId, since: Option<u64>) -> Result<PollNow, Refusal> {
        if let Some(held) = self.fanout.current(poll)
            && since.is_none_or(|seen| seen <= held.tally.version)
        {
            return Ok(held);
        }
        // A replica must not answer with anything older than the client or the room saw.
        let known = since.max(self.fanout.shown_version(poll)).unwrap_or(0);
        let state = self
            .reads
            .read(&self.store, poll, known)
            .await
            .map_err(|e| Refusal::from(e).naming(poll))?;
        Ok(self.fanout.seed(
            poll,
            Seed {
                status: state.poll.status(Utc::now()),
                results: state.poll.results,
                tally: state.tally,
                closes_at: state.poll.closes_at,
            },
        ))
    }

    /// Whenever the bus may have missed events (a reconnect, a lag), resubscribes every
    /// watched poll and brings its watchers up to a fresh read, until `shutdown`.
    pub(crate) async fn resync_after_gaps(self: Arc<Self>, shutdown: Shutdown) {
        let mut gaps: watch::Receiver<u64> = self.fanout.bus_gaps();
        loop {
            tokio::select! {
                _ = shutdown.wait() => break,
                changed = gaps.changed() => if changed.is_err() { break },
            }
            self.resync().await;
        }
    }

    async fn resync(&self) {
        let polls = self.fanout.watched_polls();
        tracing::info!(polls = polls.len(), "resyncing watched polls");
        for poll in polls {
            self.fanout.resubscribe(&poll).await;
            // Never older than what the room already showed, even from a replica.
            let shown = self.fanout.shown_version(&poll).unwrap_or(0);
            match self.store.poll_at_least(&poll, shown).await {
                Ok(state) => self.fanout.refresh(poll, poll_now(&state)),
                Err(e) => tracing::warn!(%poll, error = ?e, "resync read failed"),
            }
        }
    }
}
