//! Prometheus primitives: a latency [`Histogram`], latencies by HTTP route
//! ([`RouteLatencies`]), and the text format ([`Exposition`]).
//!
//! Hand-rolled rather than a metrics crate: a couple of dozen series, no labels beyond
//! the HTTP route and a few fixed words, and the hot path (a flush to thousands of
//! sockets) only bumps atomics. Each series belongs to the part that counts it (the
//! fan-out, the vote path, the sessions, the replicated store); `/metrics`
//! (`http/metrics.rs`) reads them all when it renders. Nothing decides anything from a
//! metric.

use std::collections::BTreeMap;
use std::fmt::{Display, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Latency buckets in seconds, from 100 µs to 10 s.
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub(crate) struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub(crate) fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(d.as_micros() as u64, Relaxed);
    }
}

/// HTTP request latencies by route pattern and status class.
#[derive(Debug, Default)]
pub(crate) struct RouteLatencies {
    /// A std mutex, held to find a route's histogram, never across an `.await`.
    routes: Mutex<BTreeMap<(String, &'static str), Histogram>>,
}

impl RouteLatencies {
    /// Records one request's latency under its route pattern and status class.
    pub(crate) fn observe(&self, route: &str, status: u16, d: Duration) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let mut routes = self.routes.lock().expect("never poisoned");
        routes
            .entry((route.to_owned(), class))
            .or_default()
            .observe(d);
    }
}

/// The Prometheus text format, written series by series.
#[derive(Debug, Default)]
pub(crate) struct Exposition {
    out: String,
}

impl Exposition {
    /// The `# HELP` and `# TYPE` lines of a family whose samples follow.
    pub(crate) fn family(&mut self, name: &str, kind: &str, help: &str) -> &mut Self {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        self
    }

    /// One sample of the family just opened; `labels` as `key="value"` pairs.
    pub(crate) fn sample(&mut self, name: &str, labels: &str, value: impl Display) -> &mut Self {
        if labels.is_empty() {
            let _ = writeln!(self.out, "{name} {value}");
        } else {
            let _ = writeln!(self.out, "{name}{{{labels}}} {value}");
        }
        self
    }

    /// A family of one unlabelled sample.
    pub(crate) fn single(&mut self, name: &str, kind: &str, help: &str, value: impl Display) {
        self.family(name, kind, help).sample(name, "", value);
    }

    /// A histogram's samples, in the family just opened.
    pub(crate) fn histogram(&mut self, name: &str, labels: &str, h: &Histogram) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += h.buckets[i].load(Relaxed);
            self.sample(
                &format!("{name}_bucket"),
                &format!("{labels}{sep}le=\"{bound}\""),
                cumulative,
            );
        }
        let count = h.count.load(Relaxed);
        self.sample(
            &format!("{name}_bucket"),
            &format!("{labels}{sep}le=\"+Inf\""),
            count,
        );
        let sum = h.sum_micros.load(Relaxed) as f64 / 1e6;
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, count);
    }

    /// Every route's histogram, labelled by route and status class.
    pub(crate) fn route_latencies(&mut self, name: &str, latencies: &RouteLatencies) {
        let routes = latencies.routes.lock().expect("never poisoned");
        for ((route, class), histogram) in routes.iter() {
            let labels = format!("route=\"{route}\",status=\"{class}\"");
            self.histogram(name, &labels, histogram);
        }
    }

    /// The text.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_millis(3));
        let mut out = Exposition::default();
        out.histogram("x", "", &h);
        let out = out.finish();
        assert!(out.contains("x_bucket{le=\"0.0001\"} 1"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.005\"} 2"), "{out}");
        assert!(out.contains("x_count 2"), "{out}");
    }

    #[test]
    fn routes_are_labelled_by_pattern_and_status_class() {
        let latencies = RouteLatencies::default();
        latencies.observe("/api/polls", 201, Duration::from_millis(1));
        latencies.observe("/api/polls", 422, Duration::from_millis(1));
        let mut out = Exposition::default();
        out.route_latencies("t", &latencies);
        let out = out.finish();
        assert!(
            out.contains("t_count{route=\"/api/polls\",status=\"2xx\"} 1"),
            "{out}"
        );
        assert!(
            out.contains("t_count{route=\"/api/polls\",status=\"4xx\"} 1"),
            "{out}"
        );
    }
}
