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
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use tokio::time::Instant;
use votewire_proto::PollId;

/// The node's coalescing tick and the rooms that are busy.
#[derive(Debug)]
pub struct Pacer {
    base: Duration,
    max: Duration,
    frames_per_sec: f64,
    busy: Mutex<Busy>,
    /// The tick the last [`Pacer::tick`] gave, for `/metrics`.
    current_micros: AtomicU64,
}

/// Rooms that flushed within the horizon, by poll: their watchers and when they last
/// flushed.
#[derive(Debug, Default)]
struct Busy {
    rooms: HashMap<PollId, (usize, Instant)>,
    watchers: usize,
}

impl Pacer {
    /// A tick of at least `base` and at most `max`, aiming at `frames_per_sec`.
    pub fn new(base: Duration, max: Duration, frames_per_sec: u32) -> Self {
        Self {
            base,
            max: max.max(base),
            frames_per_sec: f64::from(frames_per_sec.max(1)),
            busy: Mutex::new(Busy::default()),
            current_micros: AtomicU64::new(base.as_micros() as u64),
        }
    }

    /// The tick now (the last one a room asked for), stretched under load.
    pub(crate) fn current_tick(&self) -> Duration {
        Duration::from_micros(self.current_micros.load(Relaxed))
    }

    /// A room stays busy this long after its last flush: two of the longest ticks, so
    /// a busy room never drops out between two of its flushes.
    fn horizon(&self) -> Duration {
        self.max * 2
    }

    /// Records that the room of `poll` flushed to some of its `watchers`.
    pub(crate) fn flushed(&self, poll: &PollId, watchers: usize) {
        let mut busy = self.busy.lock().expect("never poisoned");
        let now = Instant::now();
        let before = match busy.rooms.get_mut(poll) {
            Some(room) => std::mem::replace(room, (watchers, now)).0,
            None => {
                busy.rooms.insert(poll.clone(), (watchers, now));
                0
            }
        };
        busy.watchers = busy.watchers + watchers - before;
    }

    /// How long a busy room waits before its next flush.
    pub(crate) fn tick(&self) -> Duration {
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
        self.current_micros.store(tick.as_micros() as u64, Relaxed);
        tick
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_tick_stretches_with_the_busy_watchers_and_comes_back() {
        let (base, max) = (Duration::from_millis(50), Duration::from_millis(200));
        let pacer = Pacer::new(base, max, 10_000);
        let poll = |id: &str| PollId::parse(id).unwrap();
        assert_eq!(pacer.tick(), base, "nothing busy");
        pacer.flushed(&poll("a"), 300);
        assert_eq!(pacer.tick(), base, "300 watchers: 6,000 frames/s at 50 ms");
        // A viral room: 1,000 watchers need a 100 ms tick to stay within 10,000/s.
        pacer.flushed(&poll("b"), 1_000);
        assert_eq!(
            pacer.tick(),
            Duration::from_millis(130),
            "1,300 / 10,000 per s"
        );
        assert_eq!(pacer.current_tick(), Duration::from_millis(130));
        // The same room flushing again counts once.
        pacer.flushed(&poll("b"), 1_000);
        assert_eq!(pacer.tick(), Duration::from_millis(130));
        // More than the longest tick allows: the cap holds.
        pacer.flushed(&poll("c"), 5_000);
        assert_eq!(pacer.tick(), max);
        // Quiet for longer than the horizon: back to the base tick.
        tokio::time::advance(max * 2).await;
        assert_eq!(pacer.tick(), base);
    }
}
