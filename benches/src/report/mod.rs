//! Percentiles, and the two ways a run is reported: a table and one JSON line.

use serde_json::{Map, Value};

mod histogram;

pub use histogram::Histogram;

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

impl Percentiles {
    /// `{"count", "p50_ms", "p90_ms", "p99_ms", "max_ms"}`.
    pub fn to_json(self) -> Value {
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
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_json_line_keeps_every_figure() {
        let mut report = Report::default();
        report.add("votes", 3);
        let mut histogram = Histogram::default();
        histogram.record(Duration::from_micros(1_950));
        report.add_latency("latency", histogram.percentiles());
        let line: Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(line["votes"], 3);
        assert_eq!(line["latency"]["p99_ms"], 1.95);
        assert!(report.table().contains("p99_ms=1.95"));
    }
}
