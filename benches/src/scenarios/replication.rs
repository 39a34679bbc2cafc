//! `replication`: the `write` load (K closed-loop voters for D against `--url`) while one
//! task per replica (`--replica URL`) asks it `SELECT version FROM polls WHERE id = ?`
//! every millisecond or so, noting when it first shows each version. A vote's
//! time-to-visible on a replica is the first answer at or past the version the vote was
//! acknowledged with, minus when the acknowledgement arrived (zero if it was already
//! there); votes no replica answer showed by the settle deadline are counted, not timed.
//!
//! Why the replicas are read directly, not through the API: the public API deliberately
//! hides which replica answered a read (and a node sends a read to the primary when its
//! replica lags or has not reached the version the read needs), so through it a lagging
//! replica is invisible. This is the one scenario that looks past the public contract.
//!
//! A sample's time is when its answer arrived, so a time-to-visible is late by at most
//! the poll interval plus one query. The polls cost the database some CPU of their own.

use std::time::{Duration, Instant};

use sqlx::{Connection, MySqlConnection, PgConnection};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{
    OPTIONS, Outcome, SETTLE, add_process_figures, add_write_figures, vote_in_closed_loop,
};
use crate::client::{Api, Failure};
use crate::loopback::{Database, check_database, host_port, redacted};
use crate::plot::{Axis, Chart, Scale, percentile_series};
use crate::procs::sample_all;
use crate::report::{Histogram, Report};

/// The most a connection or a query may take before it counts as failed.
const QUERY_TIMEOUT: Duration = Duration::from_secs(1);
/// The pause after a failed poll before the next connection attempt.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// A connection to one replica.
enum Replica {
    MySql(MySqlConnection),
    Postgres(PgConnection),
}

impl Replica {
    async fn connect(url: &str) -> Result<Self, Failure> {
        let connecting = async {
            match check_database(url)? {
                Database::MySql => MySqlConnection::connect(url).await.map(Self::MySql),
                Database::Postgres => PgConnection::connect(url).await.map(Self::Postgres),
            }
            .map_err(|e| e.to_string())
        };
        let connected = tokio::time::timeout(QUERY_TIMEOUT * 5, connecting).await;
        connected.unwrap_or_else(|_| Err("timed out".into()))
    }

    /// The poll's version on this replica; 0 while it does not have the poll yet.
    async fn version(&mut self, poll: &str) -> Result<u64, Failure> {
        let query = async {
            match self {
                Self::MySql(c) => {
                    let sql = "SELECT version FROM polls WHERE id = ?";
                    sqlx::query_scalar::<_, i64>(sql)
                        .bind(poll)
                        .fetch_optional(c)
                        .await
                }
                Self::Postgres(c) => {
                    let sql = "SELECT version FROM polls WHERE id = $1";
                    sqlx::query_scalar::<_, i64>(sql)
                        .bind(poll)
                        .fetch_optional(c)
                        .await
                }
            }
        };
        match tokio::time::timeout(QUERY_TIMEOUT, query).await {
            Ok(Ok(version)) => Ok(version.map_or(0, |v: i64| v.max(0) as u64)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("a query timed out".into()),
        }
    }
}

/// What polling one replica saw.
#[derive(Default)]
struct Trace {
    /// Each newer version and when the answer showing it arrived.
    samples: Vec<(u64, Instant)>,
    polls: u64,
    errors: u64,
}

/// Polls one replica every `interval` until it shows the newest acknowledged version
/// (once known) or the settle deadline passes; reconnects after a failure.
async fn poll_replica(
    url: String,
    mut replica: Option<Replica>,
    poll: String,
    interval: Duration,
    newest: watch::Receiver<Option<u64>>,
) -> Trace {
    let mut trace = Trace::default();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut deadline = None;
    loop {
        let shown = trace.samples.last().map_or(0, |s| s.0);
        if let Some(newest) = *newest.borrow() {
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + SETTLE);
            if shown >= newest || Instant::now() >= deadline {
                break;
            }
        }
        ticker.tick().await;
        let answer = match replica.as_mut() {
            Some(connection) => connection.version(&poll).await,
            None => match Replica::connect(&url).await {
                Ok(connection) => replica.insert(connection).version(&poll).await,
                Err(why) => Err(why),
            },
        };
        match answer {
            Ok(version) => {
                trace.polls += 1;
                if version > shown {
                    trace.samples.push((version, Instant::now()));
                }
            }
            Err(why) => {
                trace.errors += 1;
                if trace.errors == 1 {
                    eprintln!("loadgen: replica {}: {why}", redacted(&url));
                }
                // Reconnect on the next tick, but not a thousand times a second.
                replica = None;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }
    trace
}

/// Runs `replication` against `url` and the `replicas`, polling them every `interval`.
pub async fn replication(
    url: &str,
    replicas: &[String],
    voters: usize,
    duration: Duration,
    interval: Duration,
    pids: &[u32],
) -> Result<Outcome, Failure> {
    let api = Api::new(url);
    let mut connections = Vec::new();
    for replica in replicas {
        let connected = Replica::connect(replica).await;
        connections.push(connected.map_err(|e| format!("replica {}: {e}", redacted(replica)))?);
    }
    let poll = api.create_poll(OPTIONS).await?.poll.id;
    let (newest_tx, newest_rx) = watch::channel(None);
    let mut pollers = JoinSet::new();
    for (i, (url, connection)) in replicas.iter().zip(connections).enumerate() {
        let (url, poll, newest) = (url.clone(), poll.clone(), newest_rx.clone());
        let polling = poll_replica(url, Some(connection), poll, interval, newest);
        pollers.spawn(async move { (i, polling.await) });
    }
    let before = sample_all(pids);
    let mut voting = vote_in_closed_loop(&api, &poll, voters, duration, true).await;
    let after = sample_all(pids);
    voting.acks.sort_unstable_by_key(|a| a.0);
    newest_tx.send_replace(Some(voting.acks.last().map_or(0, |a| a.0)));
    let mut traces = pollers.join_all().await;
    traces.sort_unstable_by_key(|t| t.0);

    let mut report = Report::default();
    report.add("scenario", "replication");
    report.add("voters", voters);
    report.add("replicas", replicas.len());
    add_write_figures(&mut report, &api, &poll, &voting).await?;
    let (mut all, mut never_all, mut per_replica) = (Histogram::default(), 0u64, Vec::new());
    for (url, (i, trace)) in replicas.iter().zip(&traces) {
        let (visible, never) = time_to_visible(&voting.acks, &trace.samples);
        let mut figures = serde_json::json!({ "url": redacted(url) });
        let fields = figures.as_object_mut().expect("an object");
        fields.extend(
            visible
                .percentiles()
                .to_json()
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        fields.insert("never_visible".into(), never.into());
        fields.insert("polls".into(), trace.polls.into());
        fields.insert("poll_errors".into(), trace.errors.into());
        report.add(&format!("replica_{}", i + 1), figures);
        all.merge(&visible);
        never_all += never;
        per_replica.push(percentile_series(&host_port(url), &visible));
    }
    report.add_latency("time_to_visible", all.percentiles());
    report.add("never_visible", never_all);
    add_process_figures(&mut report, pids, &before, &after, voting.elapsed);

    per_replica.push(percentile_series("all replicas", &all));
    let charts = vec![
        Chart {
            title: format!("HTTP vote latency, {voters} closed-loop voters"),
            x: Axis::new("percentile", Scale::Nines),
            y: Axis::new("latency (ms)", Scale::Log),
            series: vec![percentile_series("http_vote", &voting.http)],
        },
        Chart {
            title: "Time from a vote's acknowledgement to its version on a replica".into(),
            x: Axis::new("percentile", Scale::Nines),
            y: Axis::new("time to visible (ms)", Scale::Log),
            series: per_replica,
        },
    ];
    Ok(Outcome { report, charts })
}

/// The time-to-visible of each acknowledged vote on one replica, and how many it never
/// showed. Both lists are sorted by version, so one pass pairs them.
fn time_to_visible(acks: &[(u64, Instant)], samples: &[(u64, Instant)]) -> (Histogram, u64) {
    let mut histogram = Histogram::default();
    let mut samples = samples.iter().peekable();
    for (k, (version, acknowledged)) in acks.iter().enumerate() {
        while samples.next_if(|s| s.0 < *version).is_some() {}
        match samples.peek() {
            Some((_, seen)) => histogram.record(seen.saturating_duration_since(*acknowledged)),
            None => return (histogram, (acks.len() - k) as u64),
        }
    }
    (histogram, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vote_is_visible_at_the_first_sample_at_or_past_its_version() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let acks = [
            (1, at(10)),
            (2, at(12)),
            (3, at(30)),
            (5, at(31)),
            (9, at(40)),
        ];
        let samples = [(2, at(15)), (5, at(20)), (6, at(50))];
        let (histogram, never) = time_to_visible(&acks, &samples);
        // 1 and 2 at 15 ms (5 and 3 ms), 3 and 5 at 20 ms (before the ack: 0), 9 never.
        assert_eq!((histogram.count(), never), (4, 1));
        let p = histogram.percentiles();
        // Percentiles are upper bucket edges: 0 shows as 0.01 ms, 3 ms within 1/128.
        assert_eq!((p.p50, p.max), (0.01, 5.0));
        assert!((3.0..=3.03).contains(&histogram.value_at(0.75)));
    }
}
