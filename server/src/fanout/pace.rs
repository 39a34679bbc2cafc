//! The coalescing tick, stretched under load so the frames a node sends per second
//! stay within a budget (`--max-frames-per-sec`).
//!
//! A busy room sends each of its watchers one frame per tick, so a node sends about
//! `busy watchers / tick` frames per second: with 5,000 sockets on a viral poll and a
//! 50 ms tick, that is 100,000 frames a second through the node, the proxy and the
//! clients' machines, most of them a few milliseconds apart and none of them needed.
//! The pacer counts the watchers of the rooms that flushed lately (busy watchers) and
//! sets the tick to `busy watchers / budget`, between `--tick-ms` and `--max-tick-ms`:
//! a node under its budget keeps the short tick, a node over it stretches every busy
//! room's tick alike. The leading edge is untouched: the first change after a quiet
//! spell still goes out at once.
//!
//! Counting watchers rather than measuring frames per second needs no feedback loop:
//! the first flush of a viral room sets the right tick at once, and it does not wobble
//! with how many flushes happened to fall in a measuring window. The rejected
//! alternative, a tick per room from its own watchers, bounds each room but not the
//! node: a hundred busy rooms would each stay within the budget.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::Metrics;

/// The node's coalescing tick and the rooms that are busy.
pub struct Pacer {
    base: Duration,
    max: Duration,
    frames_per_sec: f64,
    busy: Mutex<Busy>,
    metrics: Arc<Metrics>,
}

/// Rooms that flushed within the horizon: their watchers and when they last flushed.
#[derive(Default)]
struct Busy {
    rooms: HashMap<usize, (usize, Instant)>,
    watchers: usize,
}

impl Pacer {
    /// A tick of at least `base` and at most `max`, aiming at `frames_per_sec`; the
    /// current tick is in `metrics`.
    pub fn new(base: Duration, max: Duration, frames_per_sec: u32, metrics: Arc<Metrics>) -> Self {
        metrics
            .fanout_tick_micros
            .store(base.as_micros() as u64, Relaxed);
        Self {
            base,
            max: max.max(base),
            frames_per_sec: f64::from(frames_per_sec.max(1)),
            busy: Mutex::new(Busy::default()),
            metrics,
        }
    }

    /// A room stays busy this long after its last flush: two of the longest ticks, so
    /// a busy room never drops out between two of its flushes.
    fn horizon(&self) -> Duration {
        self.max * 2
    }

    /// Records that `room` (any number that tells it from the node's other rooms)
    /// flushed to some of its `watchers`.
    pub fn flushed(&self, room: usize, watchers: usize) {
        let mut busy = self.busy.lock().expect("never poisoned");
        let before = busy
            .rooms
            .insert(room, (watchers, Instant::now()))
            .map_or(0, |(w, _)| w);
        busy.watchers = busy.watchers + watchers - before;
    }

    /// How long a busy room waits before its next flush.
    pub fn tick(&self) -> Duration {
        let horizon = self.horizon();
        let mut busy = self.busy.lock().expect("never poisoned");
        let mut gone = 0;
        busy.rooms.retain(|_, (watchers, at)| {
            let keep = at.elapsed() < horizon;
            if !keep {
                gone += *watchers;
            }
            keep
        });
        busy.watchers -= gone;
        let wanted = Duration::from_secs_f64(busy.watchers as f64 / self.frames_per_sec);
        let tick = wanted.clamp(self.base, self.max);
        self.metrics
            .fanout_tick_micros
            .store(tick.as_micros() as u64, Relaxed);
        tick
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_tick_stretches_with_the_busy_watchers_and_comes_back() {
        let metrics = Arc::new(Metrics::default());
        let (base, max) = (Duration::from_millis(50), Duration::from_millis(200));
        let pacer = Pacer::new(base, max, 10_000, metrics.clone());
        assert_eq!(pacer.tick(), base, "nothing busy");
        pacer.flushed(1, 300);
        assert_eq!(pacer.tick(), base, "300 watchers: 6,000 frames/s at 50 ms");
        // A viral room: 1,000 watchers need a 100 ms tick to stay within 10,000/s.
        pacer.flushed(2, 1_000);
        assert_eq!(
            pacer.tick(),
            Duration::from_millis(130),
            "1,300 / 10,000 per s"
        );
        assert_eq!(metrics.fanout_tick_micros.load(Relaxed), 130_000);
        // The same room flushing again counts once.
        pacer.flushed(2, 1_000);
        assert_eq!(pacer.tick(), Duration::from_millis(130));
        // More than the longest tick allows: the cap holds.
        pacer.flushed(3, 5_000);
        assert_eq!(pacer.tick(), max);
        // Quiet for longer than the horizon: back to the base tick.
        tokio::time::advance(max * 2).await;
        assert_eq!(pacer.tick(), base);
    }
}
