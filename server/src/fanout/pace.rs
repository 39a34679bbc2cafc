//! How long a busy room waits between flushes: the coalescing tick, from what the node
//! measures rather than from a budget set by hand.
//!
//! The first change after a quiet spell goes out at once (the leading edge). While
//! changes keep coming, a room flushes again [`PACE`] times as long after a flush as
//! that flush took to land ([`super::flight`]: to reach its sockets' kernel buffers),
//! and never sooner than `--tick-ms` nor later than `--max-tick-ms`. A flush that lands
//! quickly keeps the short tick; one that lands slowly, because the room is large, the
//! node is busy with other rooms or with votes, or the sockets downstream are full,
//! stretches the room's tick in proportion, so each room's frames take at most a
//! `1 / PACE` share of the time and the rest is left for the votes, the other rooms
//! and whatever shares the machine. Every socket's lag stays within one tick and one
//! flight.
//!
//! The rejected alternative, a frames-per-second budget per node (the tick stretched
//! to `busy watchers / budget`), needed the budget set for each machine: the right one
//! on a node of its own was four times too many for three nodes sharing two cores, and
//! a wrong one either starved the votes or delayed every frame.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// A busy room waits this many times as long as its last flush took to land.
const PACE: u32 = 2;

/// The node's bounds on the tick, and the last tick a room took.
#[derive(Debug)]
pub struct Pacer {
    base: Duration,
    max: Duration,
    /// The last tick [`Pacer::tick`] gave, for `/metrics`.
    current_micros: AtomicU64,
}

impl Pacer {
    /// A tick of at least `base` and at most `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max: max.max(base),
            current_micros: AtomicU64::new(base.as_micros() as u64),
        }
    }

    /// The tick a room took last.
    pub(crate) fn current_tick(&self) -> Duration {
        Duration::from_micros(self.current_micros.load(Relaxed))
    }

    /// The longest a room waits for a flush to land: the longest tick. A flush that
    /// has not landed by then (its sockets do not read) counts as that slow.
    pub(crate) fn longest(&self) -> Duration {
        self.max
    }

    /// The tick of a room whose flush to all its watchers took `flew` to land.
    pub(crate) fn tick(&self, flew: Duration) -> Duration {
        let tick = (flew * PACE).clamp(self.base, self.max);
        self.current_micros.store(tick.as_micros() as u64, Relaxed);
        tick
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tick_follows_how_long_flushes_take_to_land_within_its_bounds() {
        let ms = Duration::from_millis;
        let pacer = Pacer::new(ms(50), ms(200));
        assert_eq!(pacer.current_tick(), ms(50), "before any flush");
        assert_eq!(pacer.tick(ms(3)), ms(50), "a quick flight keeps the base");
        assert_eq!(pacer.tick(ms(40)), ms(80), "a slow one stretches the tick");
        assert_eq!(pacer.current_tick(), ms(80));
        assert_eq!(pacer.tick(ms(150)), ms(200), "the longest tick holds");
        assert_eq!(pacer.tick(ms(1)), ms(50), "and it comes back at once");
        assert_eq!(
            Pacer::new(ms(50), ms(10)).tick(ms(1)),
            ms(50),
            "max >= base"
        );
    }
}
