//! What the fan-out counts as it works: frames sent and skipped, frames waiting in
//! outboxes, failed publishes, and how long an event takes to reach every outbox.
//!
//! The fan-out owns these (its rooms and outboxes bump them on the hot path, a few
//! atomics); `/metrics` reads them when it renders, and nothing decides anything from
//! them.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use votewire_proto::PollEventKind;

use crate::metrics::Histogram;

/// The fan-out's counters, shared by the hub, its rooms and the sockets' outboxes.
#[derive(Debug, Default)]
pub struct FanoutStats {
    /// Update, snapshot and closed frames handed to sockets.
    pub(crate) updates_sent: AtomicU64,
    /// Frames replaced in an outbox before the socket took them (a slow reader).
    pub(crate) updates_skipped: AtomicU64,
    /// Frames waiting in socket outboxes (at most one per socket and poll).
    pub(crate) outbox_frames: AtomicI64,
    /// The most frames one outbox has held at once since start: bounded by the number
    /// of polls a socket may watch, whatever the votes per second.
    pub(crate) outbox_peak: AtomicI64,
    /// Publishes to the bus that failed (the vote still counted).
    pub(crate) publish_errors: AtomicU64,
    /// Events this node published to the bus: a tally event per committed batch,
    /// whatever the number of votes in it, and its rooms' audience beats.
    pub(crate) bus_published: BusTraffic,
    /// Messages the bus handed this node, its own events included: Redis sends each
    /// event to every node with a watcher of its poll (what docs/scale.md predicts).
    pub(crate) bus_received: BusTraffic,
    /// From an event reaching the node's room to its frame being in every outbox.
    pub(crate) latency: Histogram,
}

/// Bus messages counted by what they carry.
#[derive(Debug, Default)]
pub(crate) struct BusTraffic {
    /// Votes and closes: a new tally or status.
    pub(crate) tally: AtomicU64,
    /// Presence beats: how many sockets a node has on the poll.
    pub(crate) audience: AtomicU64,
}

impl BusTraffic {
    /// Counts one message of `kind`.
    pub(crate) fn count(&self, kind: &PollEventKind) {
        let counter = match kind {
            PollEventKind::Watching { .. } => &self.audience,
            _ => &self.tally,
        };
        counter.fetch_add(1, Relaxed);
    }
}

impl FanoutStats {
    /// Counts frames handed to sockets outside a room flush (a subscriber's snapshot).
    pub(crate) fn sent(&self, frames: u64) {
        self.updates_sent.fetch_add(frames, Relaxed);
    }
}
