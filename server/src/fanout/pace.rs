//! The coalescing tick, stretched under load so the frames a node sends per second
//! stay within a budget (`--max-frames-per-sec`).
//!
//! A busy room flushes once per tick to every watcher, so a node sends about
//! `busy watchers / tick` frames per second: with 5,000 sockets on a viral poll and a
//! 50 ms tick, that is 100,000 frames a second through the node, the proxy and the
//! clients' machines, most of them a few milliseconds apart and none of them needed.
//! Each window the pacer measures the frames sent and sets the tick to
//! `busy watchers / budget`, between `--tick-ms` and `--max-tick-ms`: a node that
//! sends fewer frames than its budget keeps the short tick, a node over it stretches
//! every busy room's tick alike. The leading edge is untouched: the first change after
//! a quiet spell still goes out at once.
//!
//! The rejected alternative, a tick per room from its own watchers, bounds each room
//! but not the node: a hundred busy rooms would each stay within the budget.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::Metrics;

/// How often the tick is recomputed from the frames sent.
const WINDOW: Duration = Duration::from_millis(250);

/// The node's coalescing tick and what it sent lately.
pub struct Pacer {
    base: Duration,
    max: Duration,
    frames_per_sec: f64,
    window: Mutex<Window>,
    metrics: Arc<Metrics>,
}

struct Window {
    started: Instant,
    frames: u64,
    tick: Duration,
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
            window: Mutex::new(Window {
                started: Instant::now(),
                frames: 0,
                tick: base,
            }),
            metrics,
        }
    }

    /// Records the frames one flush handed to sockets.
    pub fn sent(&self, frames: usize) {
        self.window.lock().expect("never poisoned").frames += frames as u64;
    }

    /// How long a busy room waits before its next flush.
    pub fn tick(&self) -> Duration {
        let mut window = self.window.lock().expect("never poisoned");
        let elapsed = window.started.elapsed();
        if elapsed >= WINDOW {
            // Frames per second at the current tick = busy watchers / tick, so the
            // tick that meets the budget is the current one scaled by the overshoot.
            let rate = window.frames as f64 / elapsed.as_secs_f64();
            let wanted = window.tick.mul_f64(rate / self.frames_per_sec);
            window.tick = wanted.clamp(self.base, self.max);
            window.frames = 0;
            window.started = Instant::now();
            self.metrics
                .fanout_tick_micros
                .store(window.tick.as_micros() as u64, Relaxed);
        }
        window.tick
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_tick_stretches_to_the_budget_and_comes_back() {
        let metrics = Arc::new(Metrics::default());
        let (base, max) = (Duration::from_millis(50), Duration::from_millis(200));
        let pacer = Pacer::new(base, max, 10_000, metrics.clone());
        assert_eq!(pacer.tick(), Duration::from_millis(50));
        // 1,000 busy watchers flushed every 50 ms: 20,000 frames a second.
        for _ in 0..5 {
            pacer.sent(1_000);
        }
        tokio::time::advance(WINDOW).await;
        assert_eq!(
            pacer.tick(),
            Duration::from_millis(100),
            "1,000 / 10,000 per s"
        );
        assert_eq!(metrics.fanout_tick_micros.load(Relaxed), 100_000);
        // 5,000 busy watchers: the tick would be 500 ms, the cap holds it at 200.
        for _ in 0..3 {
            pacer.sent(5_000);
        }
        tokio::time::advance(WINDOW).await;
        assert_eq!(pacer.tick(), Duration::from_millis(200));
        // Quiet: back to the base tick.
        tokio::time::advance(WINDOW).await;
        assert_eq!(pacer.tick(), Duration::from_millis(50));
    }
}
