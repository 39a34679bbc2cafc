//! Prometheus metrics, kept in atomics and rendered in the text format on `/metrics`.
//!
//! Hand-rolled rather than a metrics crate: a dozen series, no labels beyond the HTTP
//! route, and the hot path (a flush to thousands of sockets) only bumps atomics.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::store::{Fallbacks, ReplicaHealth, ReplicaState};

/// Latency buckets in seconds, from 100 µs to 10 s.
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// A latency histogram with fixed buckets.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(d.as_micros() as u64, Relaxed);
    }

    /// How many observations were recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.buckets[i].load(Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// Every metric of a node.
#[derive(Default)]
pub struct Metrics {
    /// Open WebSocket connections.
    pub sockets: AtomicI64,
    /// Polls watched, summed over sockets.
    pub subscriptions: AtomicI64,
    /// Polls with at least one local watcher.
    pub rooms: AtomicI64,
    /// Frames waiting in socket outboxes (at most one per socket and poll).
    pub outbox_frames: AtomicI64,
    /// The most frames one outbox has held at once since start: bounded by the number
    /// of polls a socket may watch, whatever the votes per second.
    pub outbox_peak: AtomicI64,
    /// Votes that changed a tally.
    pub votes_changed: AtomicU64,
    /// Votes that repeated the voter's current choice.
    pub votes_unchanged: AtomicU64,
    /// Votes refused (closed poll, bad option, database down).
    pub votes_rejected: AtomicU64,
    /// Update, snapshot and closed frames handed to sockets.
    pub updates_sent: AtomicU64,
    /// Frames replaced in an outbox before the socket took them (a slow reader).
    pub updates_skipped: AtomicU64,
    /// Publishes to the bus that failed (the vote still counted).
    pub bus_publish_errors: AtomicU64,
    /// From an event reaching the node's room to its frame being in every outbox.
    pub fanout_latency: Histogram,
    /// The coalescing tick now, in microseconds (it stretches under load).
    pub fanout_tick_micros: AtomicU64,
    http: Mutex<BTreeMap<(String, &'static str), Histogram>>,
}

impl Metrics {
    /// Records one HTTP request's latency under its route pattern and status class.
    pub fn observe_http(&self, route: &str, status: u16, d: Duration) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let mut http = self.http.lock().expect("metrics lock is never poisoned");
        http.entry((route.to_owned(), class))
            .or_default()
            .observe(d);
    }

    /// The Prometheus text exposition of every metric, with the read replicas' health
    /// (in `--replica` order) and fallbacks, which their store keeps.
    pub fn render(&self, replicas: &[ReplicaHealth], fallbacks: Fallbacks) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let gauges = [
            (
                "votewire_sockets",
                "Open WebSocket connections.",
                &self.sockets,
            ),
            (
                "votewire_subscriptions",
                "Polls watched, summed over sockets.",
                &self.subscriptions,
            ),
            (
                "votewire_rooms",
                "Polls with at least one watcher on this node.",
                &self.rooms,
            ),
            (
                "votewire_outbox_frames",
                "Frames waiting in socket outboxes.",
                &self.outbox_frames,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}",
                value.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP votewire_votes_total Votes handled by this node, by result."
        );
        let _ = writeln!(out, "# TYPE votewire_votes_total counter");
        for (result, value) in [
            ("changed", &self.votes_changed),
            ("unchanged", &self.votes_unchanged),
            ("rejected", &self.votes_rejected),
        ] {
            let _ = writeln!(
                out,
                "votewire_votes_total{{result=\"{result}\"}} {}",
                value.load(Relaxed)
            );
        }
        let counters = [
            (
                "votewire_updates_sent_total",
                "Frames handed to sockets.",
                &self.updates_sent,
            ),
            (
                "votewire_updates_skipped_total",
                "Frames replaced by a newer one before a slow socket took them.",
                &self.updates_skipped,
            ),
            (
                "votewire_bus_publish_errors_total",
                "Failed publishes to the bus (votes still counted).",
                &self.bus_publish_errors,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP votewire_replica_fallbacks_total Replica reads the primary answered, by reason.\n# TYPE votewire_replica_fallbacks_total counter"
        );
        for (reason, value) in [("behind", fallbacks.behind), ("failed", fallbacks.failed)] {
            let _ = writeln!(
                out,
                "votewire_replica_fallbacks_total{{reason=\"{reason}\"}} {value}"
            );
        }
        render_replicas(&mut out, replicas);
        let _ = writeln!(
            out,
            "# HELP votewire_fanout_tick_seconds The coalescing tick now: --tick-ms, stretched up to --max-tick-ms when the node sends more than --max-frames-per-sec.\n# TYPE votewire_fanout_tick_seconds gauge\nvotewire_fanout_tick_seconds {}",
            self.fanout_tick_micros.load(Relaxed) as f64 / 1e6
        );
        let name = "votewire_fanout_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} From an event reaching the node to its frame in every outbox.\n# TYPE {name} histogram"
        );
        self.fanout_latency.render(&mut out, name, "");
        let name = "votewire_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} HTTP request latency by route and status class.\n# TYPE {name} histogram"
        );
        for ((route, class), histogram) in self
            .http
            .lock()
            .expect("metrics lock is never poisoned")
            .iter()
        {
            let labels = format!("route=\"{route}\",status=\"{class}\"");
            histogram.render(&mut out, name, &labels);
        }
        out
    }

    /// Votes this node handled (changed or unchanged), for `/api/cluster`.
    pub fn votes_handled(&self) -> u64 {
        self.votes_changed.load(Relaxed) + self.votes_unchanged.load(Relaxed)
    }
}

/// Per-replica gauges, labelled by the replica's index in `--replica` order (not its
/// URL, which may hold a password).
fn render_replicas(out: &mut String, replicas: &[ReplicaHealth]) {
    let _ = writeln!(
        out,
        "# HELP votewire_replica_lag_seconds How far each read replica lags behind the primary (heartbeat age).\n# TYPE votewire_replica_lag_seconds gauge"
    );
    for (index, r) in replicas.iter().enumerate() {
        let _ = writeln!(
            out,
            "votewire_replica_lag_seconds{{replica=\"{index}\"}} {}",
            r.lag.as_secs_f64()
        );
    }
    let _ = writeln!(
        out,
        "# HELP votewire_replica_healthy 1 when the read replica is in the read rotation.\n# TYPE votewire_replica_healthy gauge"
    );
    for (index, r) in replicas.iter().enumerate() {
        let _ = writeln!(
            out,
            "votewire_replica_healthy{{replica=\"{index}\"}} {}",
            u8::from(r.state == ReplicaState::Healthy)
        );
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
        let mut out = String::new();
        h.render(&mut out, "x", "");
        assert!(out.contains("x_bucket{le=\"0.0001\"} 1"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.005\"} 2"), "{out}");
        assert!(out.contains("x_count 2"), "{out}");
    }

    #[test]
    fn render_has_every_series() {
        let m = Metrics::default();
        m.observe_http("/api/polls", 201, Duration::from_millis(1));
        let replicas = [ReplicaHealth {
            state: ReplicaState::Healthy,
            lag: Duration::from_millis(250),
        }];
        let text = m.render(&replicas, Fallbacks::default());
        for series in [
            "votewire_sockets ",
            "votewire_votes_total{result=\"changed\"}",
            "votewire_updates_skipped_total",
            "votewire_fanout_latency_seconds_count",
            "votewire_fanout_tick_seconds ",
            "route=\"/api/polls\",status=\"2xx\"",
            "votewire_replica_lag_seconds{replica=\"0\"} 0.25",
            "votewire_replica_healthy{replica=\"0\"} 1",
            "votewire_replica_fallbacks_total{reason=\"behind\"} 0",
        ] {
            assert!(text.contains(series), "missing {series}");
        }
    }
}
