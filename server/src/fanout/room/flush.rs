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

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::time::Instant;
use votewire_proto::{PollId, PollStatus, ServerMessage};

use super::{Room, RoomState, SLICES};
use crate::fanout::slot::Outbox;

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
    /// flusher calls it; it is public for the benchmarks.
    pub fn flush(&self) -> bool {
        self.flush_slices(0..SLICES)
    }

    /// Sends what is due to the watchers of `slices`, one serialization per distinct
    /// frame. False when nothing was due.
    pub(super) fn flush_slices(&self, slices: impl Iterator<Item = usize>) -> bool {
        let mut deliveries: Vec<(Utf8Bytes, Vec<Arc<Outbox>>)> = Vec::new();
        let mut oldest = None;
        // Every frame of one flush carries the room's latest tally.
        let (watchers, version) = {
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
            let version = state.tally.as_ref().map_or(0, |t| t.version);
            (state.watchers, version)
        };
        if deliveries.is_empty() {
            return false;
        }
        let mut sent = 0;
        for (frame, outboxes) in &deliveries {
            for outbox in outboxes {
                outbox.push(&self.poll, version, frame.clone());
            }
            sent += outboxes.len();
        }
        self.stats.updates_sent.fetch_add(sent as u64, Relaxed);
        self.pacer.flushed(&self.poll, watchers);
        if let Some(since) = oldest {
            self.stats.latency.observe(since.elapsed());
        }
        true
    }

    /// The room's flusher: leading edge at once, then at most one frame per watcher per
    /// tick (the pacer's, stretched under load) while changes keep coming. Ends when
    /// `stop` fires.
    pub(in crate::fanout) async fn run_flusher(self: Arc<Self>, stop: Arc<Notify>) {
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
            // Rounds of the slices in turn; a whole round with nothing due ends the burst.
            let mut next = 0;
            let mut idle = 0;
            loop {
                let tick = self.pacer.tick();
                let staggered = self.watchers() >= STAGGER_FROM;
                let wait = if staggered {
                    tick / SLICES as u32
                } else {
                    tick
                };
                tokio::select! {
                    _ = stop.notified() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
                let sent = if staggered {
                    next = (next + 1) % SLICES;
                    self.flush_slices(std::iter::once(next))
                } else {
                    self.flush()
                };
                idle = if sent { 0 } else { idle + 1 };
                if idle >= if staggered { SLICES } else { 1 } {
                    break;
                }
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
