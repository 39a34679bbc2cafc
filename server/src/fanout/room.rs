//! A room: one watched poll on this node, its latest state and its local watchers.
//!
//! Events fold into the room's state (the highest version wins, so duplicates and
//! reordering are harmless); the room's flusher then serializes one frame for all
//! watchers. Coalescing is leading edge, then tick: the first change after a quiet
//! period goes out at once, later ones at most once per tick, so the cost of a burst
//! follows the number of watchers, not votes x watchers (DESIGN.md invariant 4). The
//! tick is the node's [`Pacer`]'s, which stretches it when the node sends more frames
//! per second than its budget.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use votewire_proto::{
    PollEvent, PollEventKind, PollId, PollStatus, RecentVote, ServerMessage, Tally,
};

use super::pace::Pacer;
use super::slot::Outbox;
use crate::metrics::Metrics;

/// Votes listed in one update's `recent`; more are counted in `skipped`.
pub const RECENT_MAX: usize = 8;

/// A socket's number on this node, to find its outbox in rooms.
pub type SocketId = u64;

/// One watched poll.
pub struct Room {
    poll: PollId,
    state: Mutex<RoomState>,
    wake: Notify,
    bus_ready: watch::Sender<bool>,
    metrics: Arc<Metrics>,
    pacer: Arc<Pacer>,
}

#[derive(Default)]
struct RoomState {
    tally: Option<Tally>,
    status: Option<PollStatus>,
    closes_at: Option<DateTime<Utc>>,
    recent: VecDeque<RecentVote>,
    skipped: u64,
    /// An update is due.
    dirty: bool,
    /// A `closed` frame is due.
    closed_due: bool,
    /// When the oldest change not yet flushed reached the room.
    pending_since: Option<Instant>,
    watchers: HashMap<SocketId, Arc<Outbox>>,
}

/// What a subscriber read from the database, to bring the room up to date.
pub struct Seed {
    /// The poll's status.
    pub status: PollStatus,
    /// Its tally.
    pub tally: Tally,
    /// When it closes by itself.
    pub closes_at: Option<DateTime<Utc>>,
}

impl Room {
    pub(super) fn new(poll: PollId, metrics: Arc<Metrics>, pacer: Arc<Pacer>) -> Arc<Self> {
        Arc::new(Self {
            poll,
            state: Mutex::new(RoomState::default()),
            wake: Notify::new(),
            bus_ready: watch::Sender::new(false),
            metrics,
            pacer,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RoomState> {
        self.state.lock().expect("room lock is never poisoned")
    }

    /// The poll this room is for.
    pub fn poll(&self) -> &PollId {
        &self.poll
    }

    pub(super) fn add_watcher(&self, socket: SocketId, outbox: Arc<Outbox>) {
        self.lock().watchers.insert(socket, outbox);
    }

    /// Removes a watcher; true when none is left.
    pub(super) fn remove_watcher(&self, socket: SocketId) -> bool {
        let mut state = self.lock();
        state.watchers.remove(&socket);
        state.watchers.is_empty()
    }

    /// The poll's status and latest tally as the room holds them, once it was seeded.
    pub fn state(&self) -> Option<(PollStatus, Tally)> {
        let state = self.lock();
        let tally = state.tally.clone()?;
        Some((state.status.unwrap_or(PollStatus::Open), tally))
    }

    /// The version of the latest tally the room holds, if it holds one yet.
    pub fn version(&self) -> Option<u64> {
        self.lock().tally.as_ref().map(|t| t.version)
    }

    /// How many sockets watch this poll here.
    pub fn watchers(&self) -> usize {
        self.lock().watchers.len()
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
        {
            let mut state = self.lock();
            let newer = state
                .tally
                .as_ref()
                .is_none_or(|t| event.tally.supersedes(t));
            if newer {
                state.tally = Some(event.tally.clone());
            }
            let closing = event.status == PollStatus::Closed || event.kind == PollEventKind::Closed;
            let was_closed = state.status == Some(PollStatus::Closed);
            if closing && !was_closed || was_closed && newer {
                // A vote committed just before the close may arrive after it: its
                // tally goes out as a new `closed`, which clients order by version.
                state.status = Some(PollStatus::Closed);
                state.closed_due = true;
            } else if newer {
                state.status = Some(event.status);
                state.dirty = true;
                if let PollEventKind::Votes { options, more } = &event.kind {
                    state.skipped += more;
                    for option in options {
                        if state.recent.len() == RECENT_MAX {
                            state.recent.pop_front();
                            state.skipped += 1;
                        }
                        state.recent.push_back(RecentVote {
                            option: *option,
                            node: event.node.clone(),
                            at: event.at,
                        });
                    }
                }
            } else {
                return;
            }
            state.pending_since.get_or_insert_with(Instant::now);
        }
        self.wake.notify_one();
    }

    /// Brings the room up to a state read from the database by a new watcher. Other
    /// watchers get an update when the seed is newer than what the room had sent.
    /// Returns the room's state after the seed, the newer of the two: what the new
    /// watcher's snapshot must show.
    pub fn seed(&self, seed: Seed) -> (PollStatus, Tally) {
        let mut state = self.lock();
        state.closes_at = seed.closes_at;
        let had_state = state.tally.is_some();
        if state
            .tally
            .as_ref()
            .is_none_or(|t| seed.tally.supersedes(t))
        {
            state.tally = Some(seed.tally);
            state.dirty |= had_state;
        }
        if seed.status == PollStatus::Closed {
            state.closed_due |= had_state && state.status != Some(PollStatus::Closed);
            state.status = Some(PollStatus::Closed);
        } else if state.status.is_none() {
            state.status = Some(PollStatus::Open);
        }
        let due = state.dirty || state.closed_due;
        if due {
            state.pending_since.get_or_insert_with(Instant::now);
        }
        let shown = (
            state.status.unwrap_or(PollStatus::Open),
            state.tally.clone().expect("seeded above"),
        );
        drop(state);
        // Wake the flusher also to re-arm its closing timer.
        self.wake.notify_one();
        shown
    }

    /// The poll's closing time, when it is still open and has one.
    fn close_deadline(&self) -> Option<DateTime<Utc>> {
        let state = self.lock();
        state
            .closes_at
            .filter(|_| state.status != Some(PollStatus::Closed))
    }

    /// Closes the room's poll because its closing time has passed.
    fn close_by_time(&self) {
        let mut state = self.lock();
        if state.status != Some(PollStatus::Closed) && state.tally.is_some() {
            state.status = Some(PollStatus::Closed);
            state.closed_due = true;
            state.pending_since.get_or_insert_with(Instant::now);
        }
    }

    /// Sends what is due to every watcher, serialized once. False when nothing was due.
    /// The room's flusher calls it; it is public for the benchmarks.
    pub fn flush(&self) -> bool {
        let (frame, watchers, since) = {
            let mut state = self.lock();
            let Some(tally) = state.tally.clone() else {
                return false;
            };
            let message = if state.closed_due {
                state.recent.clear();
                state.skipped = 0;
                ServerMessage::Closed {
                    poll: self.poll.clone(),
                    tally,
                }
            } else if state.dirty {
                ServerMessage::Update {
                    poll: self.poll.clone(),
                    tally,
                    recent: state.recent.drain(..).collect(),
                    skipped: std::mem::take(&mut state.skipped),
                }
            } else {
                return false;
            };
            state.dirty = false;
            state.closed_due = false;
            let watchers: Vec<Arc<Outbox>> = state.watchers.values().cloned().collect();
            (encode(&message), watchers, state.pending_since.take())
        };
        for outbox in &watchers {
            outbox.push(&self.poll, frame.clone());
        }
        self.metrics
            .updates_sent
            .fetch_add(watchers.len() as u64, Relaxed);
        self.pacer.sent(watchers.len());
        if let Some(since) = since {
            self.metrics.fanout_latency.observe(since.elapsed());
        }
        true
    }

    /// The room's flusher: leading edge at once, then at most one flush per tick (the
    /// pacer's, stretched under load) while changes keep coming. Ends when `stop` fires.
    pub(super) async fn run_flusher(self: Arc<Self>, stop: Arc<Notify>) {
        loop {
            let deadline = self.close_deadline();
            tokio::select! {
                _ = stop.notified() => return,
                _ = self.wake.notified() => {}
                _ = sleep_until_utc(deadline) => self.close_by_time(),
            }
            if !self.flush() {
                continue;
            }
            loop {
                tokio::select! {
                    _ = stop.notified() => return,
                    _ = tokio::time::sleep(self.pacer.tick()) => {}
                }
                if !self.flush() {
                    break;
                }
            }
        }
    }
}

/// Serializes a server message into a frame that sockets share (cloning is a refcount).
pub fn encode(message: &ServerMessage) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(message).expect("server messages serialize"))
}

/// Sleeps until a wall-clock time, or forever when there is none.
async fn sleep_until_utc(deadline: Option<DateTime<Utc>>) {
    match deadline {
        Some(at) => {
            let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tokio::time::sleep(wait).await
        }
        None => std::future::pending().await,
    }
}
