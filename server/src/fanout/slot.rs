//! A socket's outbox: at most one pending frame per watched poll.
//!
//! The room pushes the newest frame; if the socket has not taken the previous one for
//! that poll yet, the new one replaces it and the old one counts as skipped. A slow
//! reader therefore gets the latest tally and never costs more memory than one frame
//! per subscription (docs/architecture.md, invariant 4). Each frame carries its tally's
//! version, so the socket's writer can drop one that is older than what it already sent
//! (a frame made before a newer snapshot was read). A std mutex, not a tokio one: it is
//! held for a few instructions and never across an `.await`.
//!
//! Beside the tallies, an outbox takes notices meant for its voter alone (a vote of
//! theirs refused when it was counted): never replaced, at most [`NOTICES_MAX`] waiting.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::Notify;
use votewire_proto::PollId;

use super::flight::{Probe, Ticket};
use super::stats::FanoutStats;

/// Notices an outbox holds at most; later ones are dropped (a voter whose socket does
/// not read gets no more of them).
const NOTICES_MAX: usize = 16;

/// A frame waiting in an outbox.
pub struct Pending {
    /// The poll it is about.
    pub poll: PollId,
    /// The version of the tally it carries; `None` for a notice, which carries none.
    pub version: Option<u64>,
    /// The encoded message.
    pub frame: Utf8Bytes,
    /// The flush's ticket, dropped with the frame once it was written (or replaced):
    /// see [`super::flight`]. Notices have none.
    pub(crate) ticket: Option<Ticket>,
    /// When set, the writer pings after the frame and drops this with the pong.
    pub(crate) probe: Option<Probe>,
}

/// A frame's place in its flush's flight: its ticket, and a probe on a few.
pub(crate) struct Flown {
    pub(crate) ticket: Ticket,
    pub(crate) probe: Option<Probe>,
}

/// One socket's pending frames and the bell that wakes its writer.
pub struct Outbox {
    pending: Mutex<Vec<Pending>>,
    ready: Notify,
    stats: Arc<FanoutStats>,
    /// The voter whose cookie the socket carried, for notices meant for them alone.
    voter: Option<Box<str>>,
}

impl Outbox {
    /// An empty outbox that counts in `stats`.
    pub fn new(stats: Arc<FanoutStats>) -> Arc<Self> {
        Self::of_voter(stats, None)
    }

    /// An empty outbox of a socket that speaks for `voter`.
    pub fn of_voter(stats: Arc<FanoutStats>, voter: Option<String>) -> Arc<Self> {
        Arc::new(Self {
            pending: Mutex::new(Vec::new()),
            ready: Notify::new(),
            stats,
            voter: voter.map(String::into_boxed_str),
        })
    }

    /// The voter the socket speaks for, if its cookie named one.
    pub(crate) fn voter(&self) -> Option<&str> {
        self.voter.as_deref()
    }

    /// True when the socket speaks for `voter`.
    pub(crate) fn is_of(&self, voter: &str) -> bool {
        self.voter.as_deref() == Some(voter)
    }

    /// Queues a notice about `poll` for the socket's voter, after what waits.
    pub(crate) fn notify(&self, poll: &PollId, frame: Utf8Bytes) {
        {
            let mut pending = self.pending.lock().expect("outbox lock is never poisoned");
            if pending.iter().filter(|p| p.version.is_none()).count() >= NOTICES_MAX {
                tracing::debug!(%poll, "a notice dropped: the socket does not read its outbox");
                return;
            }
            pending.push(Pending {
                poll: poll.clone(),
                version: None,
                frame,
                ticket: None,
                probe: None,
            });
            self.stats.outbox_frames.fetch_add(1, Relaxed);
        }
        self.ready.notify_one();
    }

    /// Queues `frame` (a tally at `version`) for `poll`, replacing an untaken frame of
    /// the same poll (whose ticket and probe then count as delivered).
    pub(crate) fn push(&self, poll: &PollId, version: u64, frame: Utf8Bytes, flown: Flown) {
        {
            let mut pending = self.pending.lock().expect("outbox lock is never poisoned");
            match pending
                .iter_mut()
                .find(|p| p.poll == *poll && p.version.is_some())
            {
                Some(slot) => {
                    slot.version = Some(version);
                    slot.frame = frame;
                    slot.ticket = Some(flown.ticket);
                    slot.probe = flown.probe;
                    self.stats.updates_skipped.fetch_add(1, Relaxed);
                }
                None => {
                    // Room for this one frame only: a first push would make room for
                    // four, and an outbox mostly holds one.
                    pending.reserve_exact(1);
                    pending.push(Pending {
                        poll: poll.clone(),
                        version: Some(version),
                        frame,
                        ticket: Some(flown.ticket),
                        probe: flown.probe,
                    });
                    self.stats.outbox_frames.fetch_add(1, Relaxed);
                    self.stats
                        .outbox_peak
                        .fetch_max(pending.len() as i64, Relaxed);
                }
            }
        }
        self.ready.notify_one();
    }

    /// Takes every pending frame, oldest poll first.
    pub fn take(&self) -> Vec<Pending> {
        let taken =
            std::mem::take(&mut *self.pending.lock().expect("outbox lock is never poisoned"));
        self.stats
            .outbox_frames
            .fetch_sub(taken.len() as i64, Relaxed);
        taken
    }

    /// Drops the pending frame of `poll`, when the socket stops watching it.
    pub(crate) fn forget(&self, poll: &PollId) {
        let mut pending = self.pending.lock().expect("outbox lock is never poisoned");
        let before = pending.len();
        pending.retain(|p| p.poll != *poll);
        self.stats
            .outbox_frames
            .fetch_sub((before - pending.len()) as i64, Relaxed);
    }

    /// How many frames wait.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pending
            .lock()
            .expect("outbox lock is never poisoned")
            .len()
    }

    /// True when no frame waits.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Resolves once a frame has been pushed since the last wake-up.
    pub async fn ready(&self) {
        self.ready.notified().await
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let left = self.pending.get_mut().map(|p| p.len()).unwrap_or(0);
        self.stats.outbox_frames.fetch_sub(left as i64, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fanout::flight::Flight;

    fn poll(id: &str) -> PollId {
        PollId::parse(id).unwrap()
    }

    fn ticket() -> Flown {
        flown(&Flight::new(1))
    }

    fn flown(flight: &Arc<Flight>) -> Flown {
        Flown {
            ticket: flight.ticket(),
            probe: None,
        }
    }

    #[test]
    fn a_newer_frame_replaces_the_untaken_one_and_counts_as_skipped() {
        let stats = Arc::new(FanoutStats::default());
        let outbox = Outbox::new(stats.clone());
        let flight = Flight::new(1000);
        for i in 0..1000 {
            outbox.push(
                &poll("a"),
                i,
                Utf8Bytes::from(format!("v{i}")),
                flown(&flight),
            );
        }
        assert_eq!(flight.left(), 1, "a replaced frame is done with");
        outbox.push(&poll("b"), 1, Utf8Bytes::from("b1"), ticket());
        assert_eq!(outbox.len(), 2);
        assert_eq!(stats.outbox_frames.load(Relaxed), 2);
        assert_eq!(stats.updates_skipped.load(Relaxed), 999);
        let frames = outbox.take();
        assert_eq!(
            (frames[0].version, frames[0].frame.as_str()),
            (Some(999), "v999")
        );
        assert_eq!(frames[1].frame.as_str(), "b1");
        assert_eq!(stats.outbox_frames.load(Relaxed), 0);
    }

    #[test]
    fn notices_are_kept_in_order_beside_the_tally_and_bounded() {
        let stats = Arc::new(FanoutStats::default());
        let outbox = Outbox::of_voter(stats.clone(), Some("v1".into()));
        assert!(outbox.is_of("v1") && !outbox.is_of("v2"));
        outbox.push(&poll("a"), 1, Utf8Bytes::from("t1"), ticket());
        for i in 0..NOTICES_MAX + 3 {
            outbox.notify(&poll("a"), Utf8Bytes::from(format!("n{i}")));
        }
        outbox.push(&poll("a"), 2, Utf8Bytes::from("t2"), ticket());
        let frames = outbox.take();
        assert_eq!(frames.len(), 1 + NOTICES_MAX);
        assert_eq!(
            (frames[0].version, frames[0].frame.as_str()),
            (Some(2), "t2")
        );
        assert_eq!((frames[1].version, frames[1].frame.as_str()), (None, "n0"));
        assert_eq!(
            frames[NOTICES_MAX].frame.as_str(),
            format!("n{}", NOTICES_MAX - 1)
        );
        assert_eq!(stats.outbox_frames.load(Relaxed), 0);
    }

    #[test]
    fn dropping_an_outbox_releases_its_frames_from_the_gauge() {
        let stats = Arc::new(FanoutStats::default());
        let outbox = Outbox::new(stats.clone());
        outbox.push(&poll("a"), 1, Utf8Bytes::from("x"), ticket());
        drop(outbox);
        assert_eq!(stats.outbox_frames.load(Relaxed), 0);
    }
}
