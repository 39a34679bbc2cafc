//! How long this node's commits take, for the cluster's telemetry: the durations of the
//! current interval (the latest [`SAMPLES`] of them), turned into a median and a 99th
//! percentile when the presence beat rolls the interval over. Bounded whatever the load.

use std::sync::Mutex;
use std::time::Duration;

use votewire_proto::CommitTimes;

/// Durations kept per interval: the latest ones when there are more.
const SAMPLES: usize = 2048;

/// The current interval's commit durations, and the last interval's summary.
#[derive(Default)]
pub(crate) struct CommitTiming {
    current: Mutex<Interval>,
    last: Mutex<Option<CommitTimes>>,
}

#[derive(Default)]
struct Interval {
    samples: Vec<Duration>,
    commits: u64,
}

impl CommitTiming {
    /// Notes a commit that took `took`.
    pub(super) fn record(&self, took: Duration) {
        let mut interval = self.current.lock().expect("never poisoned");
        let slot = interval.commits as usize % SAMPLES;
        if interval.samples.len() < SAMPLES {
            interval.samples.push(took);
        } else {
            interval.samples[slot] = took;
        }
        interval.commits += 1;
    }

    /// Ends the interval: its summary becomes [`CommitTiming::last`].
    pub(crate) fn roll(&self) {
        let Interval {
            mut samples,
            commits,
        } = std::mem::take(&mut *self.current.lock().expect("never poisoned"));
        samples.sort_unstable();
        let at = |q: f64| {
            let index = ((samples.len() - 1) as f64 * q).round() as usize;
            samples[index].as_secs_f64() * 1000.0
        };
        let summary = (!samples.is_empty()).then(|| CommitTimes {
            p50: at(0.5),
            p99: at(0.99),
            commits,
        });
        *self.last.lock().expect("never poisoned") = summary;
    }

    /// The last interval's median and 99th percentile; `None` when it had no commit.
    pub(crate) fn last(&self) -> Option<CommitTimes> {
        *self.last.lock().expect("never poisoned")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_summarizes_its_commits_and_the_next_starts_empty() {
        let timing = CommitTiming::default();
        timing.roll();
        assert_eq!(timing.last(), None, "no commit, no figure");
        for ms in 1..=100 {
            timing.record(Duration::from_millis(ms));
        }
        timing.roll();
        let last = timing.last().unwrap();
        assert_eq!(
            (last.commits, last.p50.round(), last.p99.round()),
            (100, 51.0, 99.0)
        );
        timing.roll();
        assert_eq!(timing.last(), None);
    }

    #[test]
    fn a_busy_interval_keeps_the_latest_samples_and_counts_them_all() {
        let timing = CommitTiming::default();
        for _ in 0..SAMPLES {
            timing.record(Duration::from_millis(100));
        }
        for _ in 0..SAMPLES {
            timing.record(Duration::from_millis(1));
        }
        timing.roll();
        let last = timing.last().unwrap();
        assert_eq!((last.commits, last.p99), (2 * SAMPLES as u64, 1.0));
    }
}
