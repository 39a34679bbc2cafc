//! Percentiles, and the two ways a run is reported: a table and one JSON line.

use std::time::Duration;

use serde_json::{Map, Value};

/// Latency percentiles of a set of samples, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    /// How many samples.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// Buckets of 0.1 ms up to a minute: a fan-out run records tens of millions of
/// (vote, socket) latencies, which would not fit in memory one by one.
const BUCKET_MICROS: u64 = 100;
const BUCKETS: usize = 600_000;

/// A latency histogram with 0.1 ms resolution; the last bucket holds everything longer.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

impl Histogram {
    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        let bucket = (latency.as_micros() as u64 / BUCKET_MICROS).min(BUCKETS as u64 - 1);
        self.counts[bucket as usize] += 1;
        self.total += 1;
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
    }

    /// How many latencies were recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The nearest-rank percentiles, each the upper edge of its bucket.
    pub fn percentiles(&self) -> Percentiles {
        if self.total == 0 {
            return Percentiles::default();
        }
        let at = |q: f64| {
            let rank = ((self.total as f64 * q).ceil() as u64).clamp(1, self.total);
            let mut seen = 0;
            for (bucket, count) in self.counts.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return ((bucket as u64 + 1) * BUCKET_MICROS) as f64 / 1000.0;
                }
            }
            unreachable!("the ranks add up to the total")
        };
        Percentiles {
            count: self.total as usize,
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

impl Percentiles {
    fn to_json(self) -> Value {
        serde_json::json!({ "count": self.count, "p50_ms": self.p50, "p90_ms": self.p90, "p99_ms": self.p99, "max_ms": self.max })
    }
}

/// One run's figures, in the order they were added.
#[derive(Default)]
pub struct Report {
    rows: Vec<(String, Value)>,
}

impl Report {
    /// Adds a plain figure.
    pub fn add(&mut self, name: &str, value: impl Into<Value>) {
        self.rows.push((name.to_owned(), value.into()));
    }

    /// Adds a latency distribution.
    pub fn add_latency(&mut self, name: &str, percentiles: Percentiles) {
        self.rows.push((name.to_owned(), percentiles.to_json()));
    }

    /// The table for people.
    pub fn table(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (name, value) in &self.rows {
            let shown = match value {
                Value::Object(fields) => fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", format_number(v)))
                    .collect::<Vec<_>>()
                    .join("  "),
                other => format_number(other),
            };
            out.push_str(&format!("{name:<width$}  {shown}\n"));
        }
        out
    }

    /// The JSON line for machines.
    pub fn json(&self) -> String {
        let map: Map<String, Value> = self.rows.iter().cloned().collect();
        Value::Object(map).to_string()
    }
}

fn format_number(value: &Value) -> String {
    match value.as_f64() {
        Some(f) if value.is_f64() => format!("{f:.2}"),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank_to_a_tenth_of_a_millisecond() {
        let mut histogram = Histogram::default();
        for ms in 1..=100 {
            histogram.record(Duration::from_micros(ms * 1000 - 50));
        }
        let p = histogram.percentiles();
        assert_eq!(
            (p.count, p.p50, p.p90, p.p99, p.max),
            (100, 50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(Histogram::default().percentiles().count, 0);
    }

    #[test]
    fn the_json_line_keeps_every_figure() {
        let mut report = Report::default();
        report.add("votes", 3);
        let mut histogram = Histogram::default();
        histogram.record(Duration::from_micros(1_950));
        report.add_latency("latency", histogram.percentiles());
        let line: Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(line["votes"], 3);
        assert_eq!(line["latency"]["p99_ms"], 2.0);
        assert!(report.table().contains("p99_ms=2.00"));
    }
}
