//! A room: one watched poll on this node, its latest state and its local watchers.
//!
//! Events fold into the room's state (the highest version wins, so duplicates and
//! reordering are harmless); the room's flusher ([`flush`]) then serializes frames
//! shared by the watchers. Coalescing is leading edge, then tick: the first change
//! after a quiet period goes out at once, later ones at most once per tick, so the cost
//! of a burst follows the number of watchers, not votes x watchers (docs/architecture.md,
//! invariant 4). The tick follows how long the room's flushes take to reach its
//! clients ([`Pacer`], [`super::flight`]).
//!
//! Watchers are kept in slices, each with what it was last sent: a large room sends
//! its slices in turn across the tick instead of all at once (see [`flush`]). Each
//! watcher has a seat that says whether it sees the poll's counts ([`seats`]).

mod audience;
mod flush;
mod seats;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use votewire_proto::{
    PollEvent, PollEventKind, PollId, PollStatus, RecentVote, RefusedVote, ResultsVisibility,
    ServerMessage, Tally,
};

use audience::Audience;
pub use flush::encode;
use seats::Seat;

use super::pace::Pacer;
use super::slot::Outbox;
use super::stats::FanoutStats;
use crate::results::Reader;

/// Votes listed in one update's `recent`; more are counted in `skipped`.
pub(crate) const RECENT_MAX: usize = 8;

/// Slices of a room's watchers (a socket's slice is its number modulo this).
const SLICES: usize = 8;

/// A socket's number on this node, to find its outbox in rooms.
pub type SocketId = u64;

/// One watched poll.
pub struct Room {
    poll: PollId,
    state: Mutex<RoomState>,
    wake: Notify,
    bus_ready: watch::Sender<bool>,
    stats: Arc<FanoutStats>,
    pacer: Arc<Pacer>,
    /// Flushes so far, to probe different watchers each time.
    flushes: AtomicU64,
}

#[derive(Default)]
struct RoomState {
    tally: Option<Tally>,
    status: Option<PollStatus>,
    /// Who sees the counts, as of `tally`'s version.
    results: ResultsVisibility,
    closes_at: Option<DateTime<Utc>>,
    /// Votes folded into the room so far: the sequence numbers of `recent`.
    votes_seen: u64,
    /// The latest votes, with their sequence numbers, oldest first.
    recent: VecDeque<(u64, RecentVote)>,
    slices: [Slice; SLICES],
    watchers: usize,
    /// Sockets watching over every node.
    audience: Audience,
}

/// Some of a room's watchers, and what they were last sent.
#[derive(Default)]
struct Slice {
    watchers: HashMap<SocketId, Seat>,
    /// The version of the last frame, `None` before the first.
    sent_version: Option<u64>,
    /// `votes_seen` when the last frame was made: later votes go in the next `recent`.
    sent_votes: u64,
    /// The last frame was a `closed`.
    sent_closed: bool,
    /// The audience the last frame told.
    sent_watching: u64,
    /// When the oldest change this slice was not sent yet reached the room.
    pending_since: Option<Instant>,
}

impl RoomState {
    /// The poll as the room holds it, once it holds a tally.
    fn now(&self) -> Option<PollNow> {
        Some(PollNow {
            status: self.status.unwrap_or(PollStatus::Open),
            results: self.results,
            tally: self.tally.clone()?,
        })
    }

    fn is_closed(&self) -> bool {
        self.status == Some(PollStatus::Closed)
    }

    /// Whether a newer state that says open may reopen the closed poll: its owner
    /// reopened it, which a close never outversions (a close keeps the version of the
    /// last vote). Not past its closing time: a vote committed just before that time
    /// may arrive after the room closed by it, newer and saying open.
    fn may_reopen(&self) -> bool {
        self.closes_at.is_none_or(|at| at > Utc::now())
    }

    /// True when `slice` was not sent the room's state yet.
    fn is_due(&self, slice: usize) -> bool {
        let Some(tally) = &self.tally else {
            return false;
        };
        let slice = &self.slices[slice];
        // A close does not move the version: it is due on its own.
        slice.sent_version.is_none_or(|sent| sent < tally.version)
            || (self.is_closed() && !slice.sent_closed)
            || (!self.is_closed() && slice.sent_watching != self.audience.shown)
    }

    /// Notes when the slices that now owe a frame started owing it.
    fn mark_pending(&mut self) {
        let now = Instant::now();
        for index in 0..SLICES {
            if self.is_due(index) {
                self.slices[index].pending_since.get_or_insert(now);
            }
        }
    }
}

/// What removing a watcher did.
pub(super) struct Removed {
    /// The socket was watching the room.
    pub(super) was_watching: bool,
    /// No watcher is left: the room can go.
    pub(super) empty: bool,
}

/// A poll at one version: what a room holds of it, what an event carries, what a
/// subscriber's snapshot shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PollNow {
    /// Open, paused or closed.
    pub(crate) status: PollStatus,
    /// Who sees the counts.
    pub(crate) results: ResultsVisibility,
    /// The whole tally.
    pub(crate) tally: Tally,
}

/// What a subscriber read from the database, to bring the room up to date.
pub(crate) struct Seed {
    /// The poll's status.
    pub(crate) status: PollStatus,
    /// Who sees its counts.
    pub(crate) results: ResultsVisibility,
    /// Its tally.
    pub(crate) tally: Tally,
    /// When it closes by itself.
    pub(crate) closes_at: Option<DateTime<Utc>>,
}

impl Room {
    pub(super) fn new(poll: PollId, stats: Arc<FanoutStats>, pacer: Arc<Pacer>) -> Arc<Self> {
        Arc::new(Self {
            poll,
            state: Mutex::new(RoomState::default()),
            wake: Notify::new(),
            bus_ready: watch::Sender::new(false),
            stats,
            pacer,
            flushes: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RoomState> {
        self.state.lock().expect("room lock is never poisoned")
    }

    /// Adds a watcher, who is `reader` to the poll's results; false when it was
    /// watching already (its seat is then as it was).
    pub(super) fn add_watcher(
        &self,
        socket: SocketId,
        outbox: Arc<Outbox>,
        reader: Reader,
    ) -> bool {
        let mut state = self.lock();
        let slice = &mut state.slices[socket as usize % SLICES];
        let added = match slice.watchers.entry(socket) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(seat) => {
                seat.insert(Seat { outbox, reader });
                true
            }
        };
        if added {
            state.watchers += 1;
        }
        added
    }

    /// Removes a watcher: whether it was one, and whether none is left.
    pub(super) fn remove_watcher(&self, socket: SocketId) -> Removed {
        let mut state = self.lock();
        let slice = &mut state.slices[socket as usize % SLICES];
        let was_watching = slice.watchers.remove(&socket).is_some();
        if was_watching {
            state.watchers -= 1;
        }
        Removed {
            was_watching,
            empty: state.watchers == 0,
        }
    }

    /// The poll as the room holds it, once it was seeded.
    pub(super) fn state(&self) -> Option<PollNow> {
        self.lock().now()
    }

    /// The version of the latest tally the room holds, if it holds one yet.
    pub(super) fn version(&self) -> Option<u64> {
        self.lock().tally.as_ref().map(|t| t.version)
    }

    /// How many sockets watch this poll here.
    pub(super) fn watchers(&self) -> usize {
        self.lock().watchers
    }

    /// Marks the bus subscription of this poll as confirmed.
    pub(super) fn set_bus_ready(&self) {
        self.bus_ready.send_replace(true);
    }

    /// Resolves once the bus subscription of this poll is confirmed.
    pub(super) async fn bus_ready(&self) {
        let mut ready = self.bus_ready.subscribe();
        // The sender lives as long as the room, which the caller holds.
        let _ = ready.wait_for(|ready| *ready).await;
    }

    /// Folds an event into the room and wakes the flusher.
    pub fn deliver(&self, event: &PollEvent) {
        if let PollEventKind::Rejected { votes } = &event.kind {
            self.tell_voters(votes);
        }
        {
            let mut state = self.lock();
            if let PollEventKind::Watching { count } = &event.kind {
                state.audience.heard(&event.node, *count, Instant::now());
            }
            let newer = state
                .tally
                .as_ref()
                .is_none_or(|t| event.tally.supersedes(t));
            if newer {
                state.tally = Some(event.tally.clone());
                state.results = event.results;
            }
            let closing = event.status == PollStatus::Closed || event.kind == PollEventKind::Closed;
            if closing && !state.is_closed() {
                state.status = Some(PollStatus::Closed);
            } else if !newer {
                return;
            } else if !state.is_closed() || state.may_reopen() {
                state.status = Some(event.status);
                if let PollEventKind::Votes {
                    options,
                    sets,
                    more,
                    recorded_by,
                    voters,
                } = &event.kind
                {
                    state.seat_voters(voters);
                    state.votes_seen += more;
                    for (i, option) in options.iter().enumerate() {
                        if state.recent.len() == RECENT_MAX {
                            state.recent.pop_front();
                        }
                        state.votes_seen += 1;
                        let seq = state.votes_seen;
                        let vote = RecentVote {
                            option: *option,
                            options: sets.get(i).cloned().unwrap_or_default(),
                            node: recorded_by.get(i).unwrap_or(&event.node).clone(),
                            at: event.at,
                        };
                        state.recent.push_back((seq, vote));
                    }
                }
            }
            // (Newer but the poll already closed by its time: a vote committed just before
            // that time that arrived after it. Its tally goes out as a new `closed`, which
            // clients order by version.)
            state.mark_pending();
        }
        self.wake.notify_one();
    }

    /// Tells each refused vote's voter, on the sockets here that speak for them, that it
    /// was not counted. Rare (a poll closing on votes still in the ingest stream), so
    /// the watchers are searched, not indexed by voter.
    fn tell_voters(&self, votes: &[RefusedVote]) {
        let state = self.lock();
        for vote in votes {
            let notice = encode(&ServerMessage::Rejected {
                poll: self.poll.clone(),
                stream_id: vote.stream_id.clone(),
                code: vote.code,
                message: vote.message.clone(),
            });
            let outboxes = state
                .slices
                .iter()
                .flat_map(|slice| slice.watchers.values().map(|seat| &seat.outbox));
            for outbox in outboxes.filter(|outbox| outbox.is_of(&vote.voter)) {
                outbox.notify(&self.poll, notice.clone());
            }
        }
    }

    /// Brings the room up to a state read from the database by a new watcher. Other
    /// watchers get an update when the seed is newer than what the room had sent.
    /// Returns the room's state after the seed, the newer of the two: what the new
    /// watcher's snapshot must show.
    pub(super) fn seed(&self, seed: Seed) -> PollNow {
        let mut state = self.lock();
        state.closes_at = seed.closes_at;
        let had_state = state.tally.is_some();
        let newer = state
            .tally
            .as_ref()
            .is_none_or(|t| seed.tally.supersedes(t));
        if newer {
            state.tally = Some(seed.tally);
            state.results = seed.results;
        }
        // A pause, a resume or a reopen comes with a newer version; a close may not.
        if seed.status == PollStatus::Closed
            || (newer && (!state.is_closed() || state.may_reopen()))
            || state.status.is_none()
        {
            state.status = Some(seed.status);
        }
        if !had_state {
            // The room's first state: every watcher gets it as its snapshot.
            let version = state.tally.as_ref().map(|t| t.version);
            let (votes_seen, closed) = (state.votes_seen, state.is_closed());
            let watching = state.audience.shown;
            for slice in &mut state.slices {
                slice.sent_version = version;
                slice.sent_votes = votes_seen;
                slice.sent_closed = closed;
                slice.sent_watching = watching;
            }
        } else {
            state.mark_pending();
        }
        let shown = state.now().expect("seeded above");
        drop(state);
        // Wake the flusher also to re-arm its closing timer.
        self.wake.notify_one();
        shown
    }

    /// The poll's closing time, when it is still open and has one.
    fn close_deadline(&self) -> Option<DateTime<Utc>> {
        let state = self.lock();
        state.closes_at.filter(|_| !state.is_closed())
    }

    /// Closes the room's poll because its closing time has passed.
    fn close_by_time(&self) {
        let mut state = self.lock();
        if !state.is_closed() && state.tally.is_some() {
            state.status = Some(PollStatus::Closed);
            state.mark_pending();
        }
    }
}
