//! A compact latency histogram, log-linear like HdrHistogram.
//!
//! Why not one bucket per 0.1 ms: a fan-out run records tens of millions of (vote, socket)
//! latencies and the `write` scenario keeps one histogram per voter, so a histogram must
//! be small (here at most 2,688 buckets, 21 KB, allocated on the first sample) while still
//! telling 0.05 ms from 0.06 ms on loopback and covering a 10-minute stall.
//!
//! Values are counted in units of 10 µs. Below 128 units (1.28 ms) each unit has its own
//! bucket; above, each power of two is split into 128 buckets, so a bucket is at most 1/128
//! (0.8 %) of its values wide. Values from 2^27 units (about 22 minutes) on share the last
//! bucket, whose percentiles report the exact largest value.

use std::time::Duration;

use super::Percentiles;

/// The width of the linear buckets, the resolution for small values.
const UNIT_MICROS: u64 = 10;
/// log2 of the buckets per power of two.
const SUB_BITS: u32 = 7;
/// Buckets per power of two, and the number of linear buckets.
const SUB: u64 = 1 << SUB_BITS;
/// Powers of two above the linear range.
const OCTAVES: u64 = 20;
const BUCKETS: usize = (SUB + OCTAVES * SUB) as usize;
/// The first value, in units, that only the last bucket holds.
const LAST_UNITS: u64 = SUB << OCTAVES;
const _: () = assert!(
    LAST_UNITS * UNIT_MICROS > 600 * 1_000_000,
    "covers 10 minutes"
);

/// A latency histogram: 10 µs resolution up to 1.28 ms, 0.8 % relative precision above.
#[derive(Clone, Default)]
pub struct Histogram {
    /// Empty until the first sample, so idle histograms cost nothing.
    counts: Vec<u64>,
    total: u64,
    /// The exact largest sample, in microseconds.
    max_micros: u64,
}

/// The bucket of a value given in units.
fn index(units: u64) -> usize {
    if units < SUB {
        return units as usize;
    }
    let units = units.min(LAST_UNITS - 1);
    let shift = u64::from(63 - units.leading_zeros() - SUB_BITS);
    let sub = (units >> shift) - SUB;
    (SUB + shift * SUB + sub) as usize
}

/// The exclusive upper edge of bucket `i`, in units.
fn upper_edge(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i + 1;
    }
    let (shift, sub) = ((i - SUB) / SUB, (i - SUB) % SUB);
    (SUB + sub + 1) << shift
}

impl Histogram {
    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        self.record_micros(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    /// Records one latency given in microseconds (the fan-out inner loop works in them).
    pub fn record_micros(&mut self, micros: u64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        self.counts[index(micros / UNIT_MICROS)] += 1;
        self.total += 1;
        self.max_micros = self.max_micros.max(micros);
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &Histogram) {
        if other.total == 0 {
            return;
        }
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS];
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max_micros = self.max_micros.max(other.max_micros);
    }

    /// How many latencies were recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The nearest-rank `q` quantile (0 to 1) in milliseconds: the upper edge of its
    /// bucket, so never below the true sample, and never above the largest sample.
    /// 0 when the histogram is empty.
    pub fn value_at(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((self.total as f64 * q).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (bucket, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let micros = if bucket == BUCKETS - 1 {
                    self.max_micros
                } else {
                    (upper_edge(bucket) * UNIT_MICROS).min(self.max_micros)
                };
                return micros as f64 / 1000.0;
            }
        }
        unreachable!("the ranks add up to the total")
    }

    /// p50, p90, p99 and the largest sample.
    pub fn percentiles(&self) -> Percentiles {
        Percentiles {
            count: self.total as usize,
            p50: self.value_at(0.50),
            p90: self.value_at(0.90),
            p99: self.value_at(0.99),
            max: self.max_micros as f64 / 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_within_a_128th_of_their_values() {
        let mut lower = 0;
        for i in 0..BUCKETS {
            assert_eq!(index(lower), i, "bucket {i} starts at {lower}");
            let upper = upper_edge(i);
            assert_eq!(index(upper - 1), i, "bucket {i} ends before {upper}");
            assert!(
                lower < SUB || (upper - lower) * SUB <= lower,
                "bucket {i} too wide"
            );
            lower = upper;
        }
        assert_eq!(lower, LAST_UNITS);
    }

    #[test]
    fn small_values_keep_their_hundredth_of_a_millisecond() {
        let mut histogram = Histogram::default();
        // 0.005, 0.015, ..., 0.995 ms: bucket k holds (k + 0.5) units.
        for k in 0..100 {
            histogram.record_micros(k * 10 + 5);
        }
        let p = histogram.percentiles();
        assert_eq!(
            (p.count, p.p50, p.p90, p.p99, p.max),
            (100, 0.50, 0.90, 0.99, 0.995)
        );
        assert_eq!(Histogram::default().percentiles(), Percentiles::default());
    }

    #[test]
    fn percentiles_of_a_wide_distribution_are_within_a_128th() {
        // 100,000 samples from 0.02 ms to about 20 s, log-uniform, from a fixed LCG.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut samples = Vec::new();
        let mut halves = (Histogram::default(), Histogram::default());
        for i in 0..100_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let exponent = (state >> 11) as f64 / (1u64 << 53) as f64 * 6.0;
            let micros = (20.0 * 10f64.powf(exponent)) as u64;
            samples.push(micros);
            let half = if i % 2 == 0 {
                &mut halves.0
            } else {
                &mut halves.1
            };
            half.record(Duration::from_micros(micros));
        }
        let (mut histogram, other) = halves;
        histogram.merge(&other);
        samples.sort_unstable();
        assert_eq!(histogram.count(), 100_000);
        for q in [0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            let rank = ((samples.len() as f64 * q).ceil() as usize).max(1);
            let exact = samples[rank - 1] as f64 / 1000.0;
            let got = histogram.value_at(q);
            assert!(
                got >= exact && got <= exact * (1.0 + 1.0 / 128.0) + 0.01,
                "q={q}: {got} ms for an exact {exact} ms"
            );
        }
        assert_eq!(
            histogram.percentiles().max,
            *samples.last().unwrap() as f64 / 1000.0
        );
    }

    #[test]
    fn values_past_the_range_report_the_exact_maximum() {
        let mut histogram = Histogram::default();
        histogram.record(Duration::from_secs(1));
        histogram.record(Duration::from_secs(3600));
        let p = histogram.percentiles();
        assert!((p.p50 - 1000.0).abs() <= 1000.0 / 128.0, "{}", p.p50);
        assert_eq!((p.p99, p.max), (3_600_000.0, 3_600_000.0));
    }
}
