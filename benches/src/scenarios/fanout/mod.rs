//! `fanout`: C sockets on one poll, then unique voters at an open-loop rate R for D:
//! vote-to-render latency per socket and vote, from just before the vote's POST to the
//! first frame on that socket at or past the version the vote was acknowledged with.
//!
//! During the run the readers only note, per socket, each newer version and when it came
//! (8 bytes a frame): matching votes to frames is left until the load has ended, so the
//! loadgen's own work does not compete with the servers for the CPU while they are
//! measured. The matching then walks each socket's frames and the acknowledged votes
//! (both sorted by version) in one pass, into one histogram per window of vote send time
//! rather than one latency per (socket, vote) pair, of which a run can have 100 million.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::{OPTIONS, Outcome, add_process_figures, open_sockets};
use crate::client::{Api, Failure};
use crate::plot::{Axis, Chart, Scale, Series, percentile_series};
use crate::procs::sample_all;
use crate::report::{Histogram, Report};

/// The latency-over-time windows: 250 ms of vote send time...
const WINDOW: Duration = Duration::from_millis(250);
/// ...or wider for long runs, so there are at most this many histograms (21 KB each).
const MAX_WINDOWS: u32 = 240;

mod readers;

use readers::Readers;

/// Microseconds since `base`, as the voters note times (the readers note the time of
/// the read that completed each frame the same way, in `readers`).
fn micros_since(base: Instant) -> u32 {
    u32::try_from(base.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// Runs `fanout` against `url`.
pub async fn fanout(
    url: &str,
    sockets: usize,
    rate: f64,
    duration: Duration,
    parallel: usize,
    pids: &[u32],
) -> Result<Outcome, Failure> {
    let api = Api::new(url);
    let poll = api.create_poll(OPTIONS).await?.poll.id;
    let connecting = Instant::now();
    let (opened, failed_sockets) = open_sockets(&api, &poll, sockets, parallel).await;
    let connect_time = connecting.elapsed();
    let base = Instant::now();
    let readers = Readers::start(opened, base).await?;

    let before = sample_all(pids);
    let started = Instant::now();
    let started_us = micros_since(base);
    let total = (rate * duration.as_secs_f64()).round() as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut votes = JoinSet::new();
    let mut acknowledged: Vec<(u32, u32)> = Vec::with_capacity(total.min(1 << 20));
    let (mut http, mut vote_errors) = (Histogram::default(), 0u64);
    let mut take_vote = |vote: (u32, Result<(u64, Duration), Failure>)| match vote {
        (sent, Ok((version, took))) => {
            http.record(took);
            acknowledged.push((u32::try_from(version).unwrap_or(u32::MAX), sent));
        }
        (_, Err(_)) => vote_errors += 1,
    };
    for i in 0..total {
        ticker.tick().await;
        let (api, poll) = (api.clone(), poll.clone());
        votes.spawn(async move {
            let sent = micros_since(base);
            let option = (i % OPTIONS) as u32;
            (sent, api.vote_as_new_voter(&poll, option).await)
        });
        // Finished votes are taken as they come, so only the votes in flight are held.
        while let Some(vote) = votes.try_join_next() {
            take_vote(vote.expect("a vote task does not panic"));
        }
    }
    while let Some(vote) = votes.join_next().await {
        take_vote(vote.expect("a vote task does not panic"));
    }
    let voting = started.elapsed();
    // Every socket must show at least every acknowledged vote, even if the read below
    // came from a replica that is a moment behind.
    let newest_acknowledged = acknowledged.iter().map(|a| u64::from(a.0)).max();
    let final_version = api
        .tally(&poll)
        .await?
        .version
        .max(newest_acknowledged.unwrap_or(0));
    let seen = readers.finish(final_version).await?;
    let after = sample_all(pids);

    let window = WINDOW.max(duration / MAX_WINDOWS);
    let window_us = window.as_micros().max(1) as u64;
    let window_count = duration.as_micros().div_ceil(u128::from(window_us)).max(1) as usize;
    let mut windows = vec![Histogram::default(); window_count];
    acknowledged.sort_unstable();
    let mut missing = 0u64;
    for socket in &seen {
        // Both sorted by version: the first frame at or past each vote's version.
        let mut frames = socket.frames.iter().peekable();
        for (k, &(version, sent)) in acknowledged.iter().enumerate() {
            while frames.next_if(|f| f.0 < version).is_some() {}
            let Some(&&(_, at)) = frames.peek() else {
                missing += (acknowledged.len() - k) as u64;
                break;
            };
            let w = (u64::from(sent.saturating_sub(started_us)) / window_us) as usize;
            windows[w.min(window_count - 1)].record_micros(u64::from(at.saturating_sub(sent)));
        }
    }
    let mut latency = Histogram::default();
    windows.iter().for_each(|w| latency.merge(w));
    let stale = seen
        .iter()
        .filter(|s| s.frames.last().map_or(0, |f| u64::from(f.0)) != final_version)
        .count();
    let lost: Vec<&Failure> = seen.iter().filter_map(|s| s.lost.as_ref()).collect();
    if let Some(why) = lost.first() {
        eprintln!(
            "loadgen: {} sockets ended early, the first: {why}",
            lost.len()
        );
    }

    let mut report = Report::default();
    report.add("scenario", "fanout");
    report.add("sockets", seen.len());
    report.add("sockets_failed", failed_sockets);
    report.add("connect_s", connect_time.as_secs_f64());
    report.add("rate", rate);
    report.add("votes_acknowledged", acknowledged.len());
    report.add("vote_errors", vote_errors);
    report.add(
        "achieved_rate",
        acknowledged.len() as f64 / voting.as_secs_f64(),
    );
    report.add_latency("vote_to_render", latency.percentiles());
    report.add("deliveries", latency.count());
    report.add("deliveries_missing", missing);
    report.add("sockets_not_on_final_tally", stale);
    report.add("sockets_lost", lost.len());
    report.add("error_frames", seen.iter().map(|s| s.errors).sum::<u64>());
    report.add_latency("http_vote", http.percentiles());
    add_process_figures(&mut report, pids, &before, &after, started.elapsed());

    let over_time = |name: &str, q: f64| Series {
        name: name.to_owned(),
        points: (windows.iter().enumerate())
            .filter(|(_, h)| h.count() > 0)
            .map(|(i, h)| ((i as f64 + 0.5) * window.as_secs_f64(), h.value_at(q)))
            .collect(),
    };
    let charts = vec![
        Chart {
            title: format!(
                "Vote-to-render latency, {} sockets, {rate} votes/s",
                seen.len()
            ),
            x: Axis::new("percentile", Scale::Nines),
            y: Axis::new("latency (ms)", Scale::Log),
            series: vec![
                percentile_series("vote_to_render", &latency),
                percentile_series("http_vote", &http),
            ],
        },
        Chart {
            title: format!(
                "Vote-to-render latency over time ({} ms windows of vote send time)",
                window.as_millis()
            ),
            x: Axis::new("vote sent (s since the first vote)", Scale::Linear),
            y: Axis::new("latency (ms)", Scale::Log),
            series: vec![
                over_time("p50", 0.5),
                over_time("p99", 0.99),
                over_time("max", 1.0),
            ],
        },
    ];
    Ok(Outcome { report, charts })
}
