//! `ingest`: the `write` load (K voters in a closed loop, each vote by a new voter) with
//! one socket watching, against a node or cluster in either ingest mode, so the two can
//! be set side by side: votes acknowledged per second (200, or 202 with `--ingest
//! stream`) and the answer's latency; votes committed per second (from the start until
//! the socket shows the last one); and from each acknowledgement to the socket showing
//! its vote.
//!
//! Every vote moves the total by one, and a poll's votes are committed in the order
//! they were taken, so the i-th acknowledged vote is on the socket once it shows a total
//! of at least i: that is its visible time. The same measure holds in direct mode, where
//! the answer comes after the commit (and the socket may show it first: 0 then).

use std::time::{Duration, Instant};

use tokio::sync::watch;
use votewire_proto::ServerMessage;

use super::{OPTIONS, Outcome, add_process_figures, vote_in_closed_loop};
use crate::client::{Api, Failure};
use crate::plot::{Axis, Chart, Scale, percentile_series};
use crate::procs::sample_all;
use crate::report::{Histogram, Report};
use crate::ws_reader::WsReader;

/// How long the socket may take to show every acknowledged vote once the load ended:
/// with a slow database, a stream's backlog takes a while to drain.
const DRAIN: Duration = Duration::from_secs(120);

/// Runs `ingest` against `url`.
pub async fn ingest(
    url: &str,
    voters: usize,
    duration: Duration,
    pids: &[u32],
) -> Result<Outcome, Failure> {
    let api = Api::new(url);
    let poll = api.create_poll(OPTIONS).await?.poll.id;
    let (socket, _) = api.watch(&poll).await?;
    let (target, until) = watch::channel(None);
    let reader = tokio::spawn(totals_seen(socket, until));
    let started = Instant::now();
    let before = sample_all(pids);
    let mut voting = vote_in_closed_loop(&api, &poll, voters, duration, true).await;
    let acknowledged = voting.acknowledged;
    let _ = target.send(Some(acknowledged));
    let seen = tokio::time::timeout(DRAIN, reader)
        .await
        .map_err(|_| format!("the socket did not show all {acknowledged} votes in {DRAIN:?}"))?
        .map_err(|e| format!("the socket reader failed: {e}"))??;
    let after = sample_all(pids);
    let all_seen = seen.last().map_or(started, |&(_, at)| at);

    let mut report = Report::default();
    report.add("scenario", "ingest");
    report.add("voters", voters);
    report.add("votes_acknowledged", acknowledged);
    report.add("vote_errors", voting.errors);
    let per_s = |n: u64, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    report.add("acknowledged_per_s", per_s(acknowledged, voting.elapsed));
    report.add_latency("http_vote", voting.http.percentiles());
    report.add("committed_per_s", per_s(acknowledged, all_seen - started));
    let ended = started + voting.elapsed;
    report.add(
        "drain_ms",
        all_seen.saturating_duration_since(ended).as_secs_f64() * 1000.0,
    );
    voting.acks.sort_by_key(|&(_, at)| at);
    let visible = visible_after_ack(&voting.acks, &seen);
    report.add_latency("ack_to_socket", visible.percentiles());
    let tally = api.tally(&poll).await?;
    report.add("recount_total", tally.total);
    report.add("recount_equal", tally.total == acknowledged);
    add_process_figures(&mut report, pids, &before, &after, all_seen - started);
    let charts = vec![Chart {
        title: format!("ingest, {voters} closed-loop voters"),
        x: Axis::new("percentile", Scale::Nines),
        y: Axis::new("latency (ms)", Scale::Log),
        series: vec![
            percentile_series("http_vote", &voting.http),
            percentile_series("ack_to_socket", &visible),
        ],
    }];
    Ok(Outcome { report, charts })
}

/// Each higher total the socket shows and when it arrived, until it shows the target
/// (once the load has ended and the target is known).
async fn totals_seen(
    mut socket: WsReader,
    mut target: watch::Receiver<Option<u64>>,
) -> Result<Vec<(u64, Instant)>, Failure> {
    let mut seen = Vec::new();
    let mut highest = 0;
    loop {
        if target.borrow().is_some_and(|t| highest >= t) {
            return Ok(seen);
        }
        tokio::select! {
            message = socket.next_message() => {
                let tally = match message? {
                    ServerMessage::Update { tally, .. } | ServerMessage::Snapshot { tally, .. } => tally,
                    _ => continue,
                };
                if tally.total > highest {
                    highest = tally.total;
                    seen.push((highest, socket.arrived()));
                }
            }
            changed = target.changed() => if changed.is_err() {
                return Ok(seen);
            },
        }
    }
}

/// From the i-th acknowledgement (oldest first) to the first total of at least i on the
/// socket.
fn visible_after_ack(acks: &[(u64, Instant)], seen: &[(u64, Instant)]) -> Histogram {
    let mut latencies = Histogram::default();
    let mut shown = seen.iter().peekable();
    for (i, &(_, acked)) in acks.iter().enumerate() {
        let needed = i as u64 + 1;
        while shown.next_if(|&&(total, _)| total < needed).is_some() {}
        if let Some(&&(_, at)) = shown.peek() {
            latencies.record(at.saturating_duration_since(acked));
        }
    }
    latencies
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ack_is_matched_with_the_first_total_that_includes_it() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let acks = [(0, ms(10)), (0, ms(11)), (0, ms(12))];
        // The socket shows 2 at 30 ms (both first votes), 3 at 50 ms.
        let seen = [(2, ms(30)), (3, ms(50))];
        let latencies = visible_after_ack(&acks, &seen);
        assert_eq!(latencies.count(), 3);
        let p = latencies.percentiles();
        // 20, 19 and 38 ms: the slowest is the third.
        assert!((p.max - 38.0).abs() < 1.0, "{p:?}");
    }
}
