//! Prometheus primitives over the `prometheus-client` crate: a latency [`Histogram`],
//! latencies by HTTP route ([`RouteLatencies`]), and the exposition of one scrape
//! ([`Exposition`]).
//!
//! Each series belongs to the part that counts it (the fan-out, the vote path, the
//! sessions, the replicated store): the histograms live there; counters and gauges are
//! plain atomics or state the owner already keeps. `/metrics` (`http/metrics.rs`) reads
//! them all into a fresh registry when it renders, and the crate writes the text
//! (OpenMetrics). Nothing decides anything from a metric.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram;
use prometheus_client::registry::Registry;

/// Latency buckets in seconds, from 100 µs to 10 s.
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// A latency histogram with [`BUCKETS`]; clones share their counts.
#[derive(Debug, Clone)]
pub(crate) struct Histogram(histogram::Histogram);

impl Default for Histogram {
    fn default() -> Self {
        Self(histogram::Histogram::new(BUCKETS))
    }
}

impl Histogram {
    /// Records one observation.
    pub(crate) fn observe(&self, d: Duration) {
        self.0.observe(d.as_secs_f64());
    }
}

/// The labels of an HTTP latency: the route's pattern and the status class.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    status: &'static str,
}

/// HTTP request latencies by route pattern and status class.
#[derive(Debug, Clone)]
pub(crate) struct RouteLatencies(Family<RouteLabels, histogram::Histogram>);

impl Default for RouteLatencies {
    fn default() -> Self {
        Self(Family::new_with_constructor(|| {
            histogram::Histogram::new(BUCKETS)
        }))
    }
}

impl RouteLatencies {
    /// Records one request's latency under its route pattern and status class.
    pub(crate) fn observe(&self, route: &str, status: u16, d: Duration) {
        let status = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let labels = RouteLabels {
            route: route.to_owned(),
            status,
        };
        self.0.get_or_create(&labels).observe(d.as_secs_f64());
    }
}

/// A help text as the registry wants it: without its final period, which
/// prometheus-client adds (a help text written as a sentence would end in "..").
fn sentence(help: &str) -> &str {
    help.strip_suffix('.').unwrap_or(help)
}

/// Labels of a sample as `(name, value)` pairs.
type Labels = Vec<(&'static str, String)>;

/// One scrape: every series registered with its value now, then written out.
#[derive(Debug, Default)]
pub(crate) struct Exposition {
    registry: Registry,
}

impl Exposition {
    /// A gauge of one unlabelled sample.
    pub(crate) fn gauge(&mut self, name: &str, help: &str, value: i64) {
        let gauge = Gauge::<i64>::default();
        gauge.set(value);
        self.registry.register(name, sentence(help), gauge);
    }

    /// A gauge of one unlabelled sample, in seconds, bytes or another unit with a
    /// fraction.
    pub(crate) fn gauge_f64(&mut self, name: &str, help: &str, value: f64) {
        let gauge = Gauge::<f64, AtomicU64>::default();
        gauge.set(value);
        self.registry.register(name, sentence(help), gauge);
    }

    /// A gauge family: one sample per set of labels.
    pub(crate) fn gauges(&mut self, name: &str, help: &str, samples: Vec<(Labels, f64)>) {
        let family = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        for (labels, value) in samples {
            family.get_or_create(&labels).set(value);
        }
        self.registry.register(name, sentence(help), family);
    }

    /// A counter of one unlabelled sample; `name` without `_total`, which the format adds.
    pub(crate) fn counter(&mut self, name: &str, help: &str, value: u64) {
        let counter = Counter::<u64>::default();
        counter.inc_by(value);
        self.registry.register(name, sentence(help), counter);
    }

    /// A counter whose value has a fraction (CPU seconds).
    pub(crate) fn counter_f64(&mut self, name: &str, help: &str, value: f64) {
        let counter = Counter::<f64, AtomicU64>::default();
        counter.inc_by(value);
        self.registry.register(name, sentence(help), counter);
    }

    /// A counter family: one sample per set of labels; `name` without `_total`.
    pub(crate) fn counters(&mut self, name: &str, help: &str, samples: Vec<(Labels, u64)>) {
        let family = Family::<Labels, Counter<u64>>::default();
        for (labels, value) in samples {
            family.get_or_create(&labels).inc_by(value);
        }
        self.registry.register(name, sentence(help), family);
    }

    /// A histogram its owner keeps.
    pub(crate) fn histogram(&mut self, name: &str, help: &str, histogram: &Histogram) {
        self.registry
            .register(name, sentence(help), histogram.0.clone());
    }

    /// Every route's latency histogram, labelled by route and status class.
    pub(crate) fn route_latencies(&mut self, name: &str, help: &str, latencies: &RouteLatencies) {
        self.registry
            .register(name, sentence(help), latencies.0.clone());
    }

    /// The text, in the OpenMetrics format.
    pub(crate) fn finish(self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// The `Content-Type` of [`Exposition::finish`]'s text.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_millis(3));
        let mut out = Exposition::default();
        out.histogram("x", "help", &h);
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
        out.route_latencies("t", "help", &latencies);
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

    #[test]
    fn counters_get_their_total_suffix_and_gauges_keep_their_name() {
        let mut out = Exposition::default();
        out.counter("votes", "help", 3);
        out.gauge("sockets", "help", 2);
        out.gauges("ready", "help", vec![(vec![("state", "ok".into())], 1.0)]);
        let out = out.finish();
        for line in [
            "votes_total 3",
            "sockets 2",
            "ready{state=\"ok\"} 1",
            "# EOF",
        ] {
            assert!(out.contains(line), "{line} in {out}");
        }
    }
}
