//! Sending a room's state to its watchers: frames, slices and the flusher's timing.
//!
//! A flush serializes one frame per distinct "what was sent last" among the slices it
//! covers (nearly always one), and a second one without the counts when some watchers
//! may not see them ([`super::seats`]), and puts it in every watcher's outbox. The flusher sends
//! on the leading edge to every slice at once; while changes keep coming, a small room
//! then flushes every slice once per tick, and a large one (at least
//! [`STAGGER_FROM`] watchers) flushes one slice every tick / [`SLICES`], so each watcher
//! still gets at most one frame per tick, but the node, the proxy and the clients get a
//! steady stream instead of every watcher's frame at the same instant. Measured on a
//! 2-core machine with 5,000 sockets behind nginx, those bursts were what made votes
//! wait: requests queued behind thousands of frames in nginx and in the clients.
//!
//! The tick is the room's own: each flush returns the [`Flight`] of its frames, and the
//! flusher waits for it to land before it sets the next turn ([`crate::fanout::pace`]).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::time::Instant;
use votewire_proto::{PollId, PollStatus, ServerMessage};

use super::{Room, RoomState, SLICES};
use crate::fanout::flight::{Flight, PROBES};
use crate::fanout::slot::{Flown, Outbox};

/// Rooms with at least this many watchers send their slices in turn.
const STAGGER_FROM: usize = 256;

/// Serializes a server message into a frame that sockets share (cloning is a refcount).
pub fn encode(message: &ServerMessage) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(message).expect("server messages serialize"))
}

/// The frame `slice` is owed: `closed` once the poll is, else an update whose `recent`
/// lists the votes since the slice's last frame (none when only the audience moved).
/// Without `sees` (the counts), the tally has none and `recent` is empty: each vote's
/// option would tell them.
fn message_for(state: &RoomState, poll: &PollId, slice: usize, sees: bool) -> ServerMessage {
    let tally = state.tally.as_ref().expect("a due slice has a tally");
    let tally = if sees {
        tally.clone()
    } else {
        tally.without_counts()
    };
    if state.is_closed() {
        return ServerMessage::Closed {
            poll: poll.clone(),
            tally,
        };
    }
    let sent_votes = state.slices[slice].sent_votes;
    let recent: Vec<_> = state
        .recent
        .iter()
        .filter(|(seq, _)| sees && *seq > sent_votes)
        .map(|(_, vote)| vote.clone())
        .collect();
    let skipped = (state.votes_seen - sent_votes).saturating_sub(recent.len() as u64);
    let paused = state.status == Some(PollStatus::Paused);
    ServerMessage::Update {
        poll: poll.clone(),
        status: paused.then_some(PollStatus::Paused),
        tally,
        results: (!state.results.is_live()).then_some(state.results),
        recent,
        skipped,
        watching: Some(state.audience.shown),
    }
}

/// Records that `slice` was sent the room's state.
fn mark_sent(state: &mut RoomState, slice: usize) {
    let version = state.tally.as_ref().map(|t| t.version);
    let (votes_seen, closed, watching) =
        (state.votes_seen, state.is_closed(), state.audience.shown);
    let sent = &mut state.slices[slice];
    sent.sent_version = version;
    sent.sent_votes = votes_seen;
    sent.sent_closed = closed;
    sent.sent_watching = watching;
}

impl Room {
    /// Sends what is due to every watcher. False when nothing was due. The room's
    /// flusher calls [`Room::flush_slices`]; this is for the benchmarks and tests.
    pub fn flush(&self) -> bool {
        self.flush_slices(0..SLICES).is_some()
    }

    /// Sends what is due to the watchers of `slices`, one serialization per distinct
    /// frame: the flight of its frames, or `None` when nothing was due.
    pub(super) fn flush_slices(&self, slices: impl Iterator<Item = usize>) -> Option<Arc<Flight>> {
        let mut deliveries: Vec<(Utf8Bytes, Vec<Arc<Outbox>>)> = Vec::new();
        let mut oldest = None;
        // Every frame of one flush carries the room's latest tally.
        let version = {
            let mut state = self.lock();
            // Slices that were sent the same votes last get the same frame (one with the
            // counts, one without).
            let mut encoded: Vec<((u64, bool), Utf8Bytes)> = Vec::new();
            for index in slices {
                if !state.is_due(index) {
                    continue;
                }
                let slice = &mut state.slices[index];
                if let Some(since) = slice.pending_since.take() {
                    oldest = Some(oldest.map_or(since, |o: Instant| o.min(since)));
                }
                let sent_votes = slice.sent_votes;
                let audiences = state.audiences(index);
                for (sees, outboxes) in [(true, audiences.seeing), (false, audiences.not_seeing)] {
                    if outboxes.is_empty() {
                        continue;
                    }
                    let key = (sent_votes, sees);
                    let frame = match encoded.iter().find(|(k, _)| *k == key) {
                        Some((_, frame)) => frame.clone(),
                        None => {
                            let frame = encode(&message_for(&state, &self.poll, index, sees));
                            encoded.push((key, frame.clone()));
                            frame
                        }
                    };
                    deliveries.push((frame, outboxes));
                }
                mark_sent(&mut state, index);
            }
            state.tally.as_ref().map_or(0, |t| t.version)
        };
        if deliveries.is_empty() {
            return None;
        }
        let sent: usize = deliveries.iter().map(|(_, outboxes)| outboxes.len()).sum();
        let flight = Flight::new(sent);
        // The probes go to watchers spread over the flush, a different few each time.
        let stride = (sent / PROBES).max(1);
        let probed = self.flushes.fetch_add(1, Relaxed) as usize % stride;
        let watchers = deliveries
            .iter()
            .flat_map(|(frame, outboxes)| outboxes.iter().map(move |o| (frame, o)));
        for (i, (frame, outbox)) in watchers.enumerate() {
            let probe = (i % stride == probed && i / stride < PROBES).then(|| flight.probe());
            let flown = Flown {
                ticket: flight.ticket(),
                probe,
            };
            outbox.push(&self.poll, version, frame.clone(), flown);
        }
        self.stats.updates_sent.fetch_add(sent as u64, Relaxed);
        if let Some(since) = oldest {
            self.stats.latency.observe(since.elapsed());
        }
        Some(flight)
    }

    /// The room's flusher: the leading edge at once, then, while changes keep coming, a
    /// flush every tick, the tick following how long the flushes take to land
    /// ([`Pacer::tick`](crate::fanout::Pacer::tick)). A large room sends one slice
    /// every tick / [`SLICES`]. Ends when `stop` fires.
    pub(in crate::fanout) async fn run_flusher(self: Arc<Self>, stop: Arc<Notify>) {
        let stopped = stop.notified();
        let mut stopped = std::pin::pin!(stopped);
        loop {
            let deadline = self.close_deadline();
            tokio::select! {
                _ = &mut stopped => return,
                _ = self.wake.notified() => {}
                _ = sleep_until_utc(deadline) => self.close_by_time(),
            }
            let mut turn = Instant::now();
            let Some(flight) = self.flush_slices(0..SLICES) else {
                continue;
            };
            let mut flew = tokio::select! {
                _ = &mut stopped => return,
                flew = flight.landing(self.pacer.longest()) => flew,
            };
            // Turns until a whole round with nothing due ends the burst.
            let (mut next, mut idle) = (0, 0);
            loop {
                let tick = self.pacer.tick(flew);
                let staggered = self.watchers() >= STAGGER_FROM;
                let slices = if staggered { SLICES } else { 1 };
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep_until(turn + tick / slices as u32) => {}
                }
                turn = Instant::now();
                let flight = if staggered {
                    next = (next + 1) % SLICES;
                    self.flush_slices(std::iter::once(next))
                } else {
                    self.flush_slices(0..SLICES)
                };
                let Some(flight) = flight else {
                    idle += 1;
                    if idle >= slices {
                        break;
                    }
                    continue;
                };
                idle = 0;
                // One slice's flight, scaled to the whole room's.
                flew = tokio::select! {
                    _ = &mut stopped => return,
                    flew = flight.landing(self.pacer.longest()) => flew * slices as u32,
                };
            }
        }
    }
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
