//! `GET /metrics`: every series of the node in the OpenMetrics text format, read from
//! the parts that own them when the page is rendered. This file is the catalog: each
//! series' name and help are here, once (the README's list follows it).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::fanout::FanoutStats;
use metrics_process::collector::Metrics as ProcessMetrics;

use crate::metrics::{Exposition, RouteLatencies};
use crate::readiness::{self, Level};
use crate::state::AppState;
use crate::store::{Fallbacks, ReplicaHealth, ReplicaState};
use crate::votes::VoteCounts;

mod ingest;

/// The metrics route.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

#[utoipa::path(get, path = "/metrics", tag = "health", description = "The OpenMetrics text format (Prometheus reads it).",
    responses((status = 200, description = "Every series of the node", content_type = "application/openmetrics-text")))]
async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let readings = Readings {
        sockets: app.sessions.count(),
        subscriptions: app.fanout.watchers(),
        rooms: app.fanout.rooms(),
        tick: app.fanout.tick(),
        fanout: app.fanout.stats(),
        votes: app.votes.counts(),
        replicas: app
            .replicas
            .as_ref()
            .map_or_else(Vec::new, |replicas| replicas.health()),
        replica_fallbacks: app
            .replicas
            .as_ref()
            .map_or_else(Fallbacks::default, |replicas| replicas.fallbacks()),
        requests: &app.requests,
        rate_limited: app.abuse.refusals().collect(),
        readiness: readiness::assess(&app).await.level,
        repairs: app.watch.repairs(),
        ingest: ingest::Ingested::read(&app),
        process: metrics_process::collector::collect(),
    };
    (
        [(CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        render(&readings),
    )
}

/// What `/metrics` shows, borrowed from the parts that own it.
struct Readings<'a> {
    sockets: usize,
    subscriptions: usize,
    rooms: usize,
    tick: Duration,
    fanout: &'a FanoutStats,
    votes: &'a VoteCounts,
    replicas: Vec<ReplicaHealth>,
    /// Replica reads the primary answered instead, by reason.
    replica_fallbacks: Fallbacks,
    requests: &'a RouteLatencies,
    /// Requests and sockets refused by an abuse limit, by limit.
    rate_limited: Vec<(&'static str, u64)>,
    /// What `/readyz` would answer.
    readiness: Level,
    /// Rooms the anti-entropy loop found behind the database and refreshed.
    repairs: u64,
    /// The ingest stream, in `--ingest stream` mode and in a worker.
    ingest: ingest::Ingested<'a>,
    /// CPU, memory, file descriptors and threads of this process.
    process: ProcessMetrics,
}

fn render(r: &Readings<'_>) -> String {
    let mut out = Exposition::default();
    let gauges: [(&str, &str, i64); 5] = [
        (
            "votewire_sockets",
            "Open WebSocket connections.",
            r.sockets as i64,
        ),
        (
            "votewire_subscriptions",
            "Polls watched, summed over sockets.",
            r.subscriptions as i64,
        ),
        (
            "votewire_rooms",
            "Polls with at least one watcher on this node.",
            r.rooms as i64,
        ),
        (
            "votewire_outbox_frames",
            "Frames waiting in socket outboxes.",
            r.fanout.outbox_frames.load(Relaxed),
        ),
        (
            "votewire_outbox_peak_frames",
            "The most frames one socket's outbox has held at once since start (at most one per watched poll).",
            r.fanout.outbox_peak.load(Relaxed),
        ),
    ];
    for (name, help, value) in gauges {
        out.gauge(name, help, value);
    }
    let by_result = [
        ("changed", &r.votes.changed),
        ("unchanged", &r.votes.unchanged),
        ("rejected", &r.votes.rejected),
    ]
    .map(|(result, count)| (label("result", result), count.load(Relaxed)));
    out.counters(
        "votewire_votes",
        "Votes handled by this node, by result.",
        by_result.into(),
    );
    let bus = [
        (
            "votewire_bus_published",
            "Events this node published to the bus, by kind: tally (one per committed batch of votes) or audience.",
            &r.fanout.bus_published,
        ),
        (
            "votewire_bus_received",
            "Messages the bus delivered to this node, its own included, by kind: tally or audience.",
            &r.fanout.bus_received,
        ),
    ];
    for (name, help, traffic) in bus {
        let by_kind = [("tally", &traffic.tally), ("audience", &traffic.audience)]
            .map(|(kind, count)| (label("kind", kind), count.load(Relaxed)));
        out.counters(name, help, by_kind.into());
    }
    // Counters are registered without `_total`: the format adds it.
    let counters = [
        (
            "votewire_updates_sent",
            "Frames handed to sockets.",
            r.fanout.updates_sent.load(Relaxed),
        ),
        (
            "votewire_updates_skipped",
            "Frames replaced by a newer one before a slow socket took them.",
            r.fanout.updates_skipped.load(Relaxed),
        ),
        (
            "votewire_bus_publish_errors",
            "Failed publishes to the bus (votes still counted).",
            r.fanout.publish_errors.load(Relaxed),
        ),
        (
            "votewire_anti_entropy_repairs",
            "Rooms found behind the database by the anti-entropy check and refreshed (an update the bus lost).",
            r.repairs,
        ),
    ];
    for (name, help, value) in counters {
        out.counter(name, help, value);
    }
    let refused = r
        .rate_limited
        .iter()
        .map(|(limit, count)| (label("limit", limit), *count))
        .collect();
    out.counters(
        "votewire_rate_limited",
        "Requests and WebSocket connections refused by a per-address abuse limit, by limit.",
        refused,
    );
    let states = Level::ALL
        .iter()
        .map(|&level| {
            let now = f64::from(u8::from(level == r.readiness));
            (label("state", level.word()), now)
        })
        .collect();
    out.gauges(
        "votewire_readiness",
        "What /readyz answers: 1 for the node's state (ready, degraded: serving without Redis or the primary, unavailable, draining), 0 for the others.",
        states,
    );
    render_replicas(&mut out, r);
    out.gauge_f64(
        "votewire_fanout_tick_seconds",
        "The coalescing tick a busy poll took last: twice as long as its last update took to reach its sockets, between --tick-ms and --max-tick-ms.",
        r.tick.as_secs_f64(),
    );
    out.histogram(
        "votewire_fanout_latency_seconds",
        "From an event reaching the node to its frame in every outbox.",
        &r.fanout.latency,
    );
    out.route_latencies(
        "votewire_http_request_duration_seconds",
        "HTTP request latency by route and status class.",
        r.requests,
    );
    r.ingest.render(&mut out);
    render_process(&mut out, &r.process);
    out.finish()
}

/// One label, as [`Exposition`]'s families take them.
pub(super) fn label(name: &'static str, value: &str) -> Vec<(&'static str, String)> {
    vec![(name, value.to_owned())]
}

/// The process's own series, as every Prometheus client library names them (read by
/// `metrics-process` from `/proc`), and which build this is.
fn render_process(out: &mut Exposition, p: &ProcessMetrics) {
    out.gauges(
        "votewire_build_info",
        "The running build: 1, labelled by version.",
        vec![(label("version", env!("CARGO_PKG_VERSION")), 1.0)],
    );
    if let Some(seconds) = p.cpu_seconds_total {
        let help = "Total user and system CPU time spent in seconds.";
        out.counter_f64("process_cpu_seconds", help, seconds);
    }
    let gauges = [
        (
            "process_open_fds",
            "Number of open file descriptors.",
            p.open_fds,
        ),
        (
            "process_max_fds",
            "Maximum number of open file descriptors.",
            p.max_fds,
        ),
        (
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            p.resident_memory_bytes,
        ),
        (
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            p.virtual_memory_bytes,
        ),
        (
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds.",
            p.start_time_seconds,
        ),
        (
            "process_threads",
            "Number of OS threads in the process.",
            p.threads,
        ),
    ];
    for (name, help, value) in gauges {
        if let Some(value) = value {
            out.gauge(name, help, i64::try_from(value).unwrap_or(i64::MAX));
        }
    }
}

/// A per-replica gauge: its name, its help, and its value for one replica.
type ReplicaGauge = (&'static str, &'static str, fn(&ReplicaHealth) -> f64);

/// Per-replica series, labelled by the replica's index in `--replica` order (not its
/// URL, which may hold a password).
fn render_replicas(out: &mut Exposition, r: &Readings<'_>) {
    let Fallbacks { behind, failed } = r.replica_fallbacks;
    out.counters(
        "votewire_replica_fallbacks",
        "Replica reads the primary answered, by reason.",
        vec![
            (label("reason", "behind"), behind),
            (label("reason", "failed"), failed),
        ],
    );
    let per_replica: [ReplicaGauge; 2] = [
        (
            "votewire_replica_lag_seconds",
            "How far each read replica lags behind the primary (heartbeat age).",
            |replica| replica.lag.as_secs_f64(),
        ),
        (
            "votewire_replica_healthy",
            "1 when the read replica is in the read rotation.",
            |replica| f64::from(u8::from(replica.state == ReplicaState::Healthy)),
        ),
    ];
    for (name, help, value) in per_replica {
        let samples = r
            .replicas
            .iter()
            .enumerate()
            .map(|(index, replica)| (label("replica", &index.to_string()), value(replica)))
            .collect();
        out.gauges(name, help, samples);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_renders_from_its_owner() {
        let fanout = FanoutStats::default();
        fanout.outbox_peak.store(3, Relaxed);
        let votes = VoteCounts::default();
        votes.changed.store(7, Relaxed);
        let requests = RouteLatencies::default();
        requests.observe("/api/polls", 201, Duration::from_millis(1));
        let worker = crate::ingest::worker::WorkerCounts::default();
        worker.committed.store(9, Relaxed);
        let readings = Readings {
            sockets: 2,
            subscriptions: 5,
            rooms: 1,
            tick: Duration::from_millis(50),
            fanout: &fanout,
            votes: &votes,
            replicas: vec![
                ReplicaHealth {
                    state: ReplicaState::Healthy,
                    lag: Duration::from_millis(250),
                },
                ReplicaHealth {
                    state: ReplicaState::Lagging,
                    lag: Duration::from_secs(30),
                },
            ],
            replica_fallbacks: Fallbacks {
                behind: 4,
                failed: 0,
            },
            requests: &requests,
            rate_limited: vec![("voters", 3), ("connections_per_address", 1)],
            readiness: Level::Degraded,
            repairs: 2,
            ingest: ingest::Ingested {
                stream: None,
                worker: Some(&worker),
            },
            process: ProcessMetrics {
                cpu_seconds_total: Some(1.5),
                open_fds: Some(12),
                ..ProcessMetrics::default()
            },
        };
        let text = render(&readings);
        for series in [
            "votewire_sockets 2",
            "votewire_subscriptions 5",
            "votewire_rooms 1",
            "votewire_outbox_peak_frames 3",
            "votewire_votes_total{result=\"changed\"} 7",
            "votewire_updates_skipped_total 0",
            "votewire_fanout_latency_seconds_count 0",
            "votewire_fanout_tick_seconds 0.05",
            "route=\"/api/polls\",status=\"2xx\"",
            "votewire_replica_lag_seconds{replica=\"0\"} 0.25",
            "votewire_replica_healthy{replica=\"0\"} 1",
            "votewire_replica_lag_seconds{replica=\"1\"} 30",
            "votewire_replica_healthy{replica=\"1\"} 0",
            "votewire_replica_fallbacks_total{reason=\"behind\"} 4",
            "votewire_rate_limited_total{limit=\"voters\"} 3",
            "votewire_rate_limited_total{limit=\"connections_per_address\"} 1",
            "votewire_readiness{state=\"ready\"} 0",
            "votewire_readiness{state=\"degraded\"} 1",
            "votewire_anti_entropy_repairs_total 2",
            "votewire_ingest_worker_votes_total{result=\"committed\"} 9",
            "process_cpu_seconds_total 1.5",
            "process_open_fds 12",
            "votewire_build_info{version=",
        ] {
            assert!(text.contains(series), "missing {series} in\n{text}");
        }
        assert!(
            !text.contains("votewire_ingest_backlog"),
            "no stream, no backlog"
        );
    }
}
