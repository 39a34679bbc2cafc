//! The load scenarios. Each is bounded in count and time and talks to the server only
//! over its public contract.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::client::{Api, Failure, Socket, next_message, version_of};
use crate::procs::{ProcSample, sample_all};
use crate::report::{Histogram, Report};

/// Options per poll: a realistic frame size.
const OPTIONS: usize = 4;
/// How long sockets may take to show the final tally once every vote is acknowledged.
const SETTLE: Duration = Duration::from_secs(10);

/// Opens `count` sockets watching `poll`, `parallel` handshakes at a time.
async fn open_sockets(
    api: &Api,
    poll: &str,
    count: usize,
    parallel: usize,
) -> (Vec<Socket>, usize) {
    let permits = Arc::new(Semaphore::new(parallel.max(1)));
    let mut opening = JoinSet::new();
    for _ in 0..count {
        let (api, poll, permits) = (api.clone(), poll.to_owned(), permits.clone());
        opening.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("the semaphore stays open");
            api.watch(&poll).await
        });
    }
    let mut sockets = Vec::with_capacity(count);
    let mut failed = 0;
    while let Some(opened) = opening.join_next().await {
        match opened.expect("a socket task does not panic") {
            Ok((socket, _)) => sockets.push(socket),
            Err(why) => {
                failed += 1;
                if failed == 1 {
                    eprintln!("loadgen: a socket failed to open: {why}");
                }
            }
        }
    }
    (sockets, failed)
}

/// Records every newer version a socket sees, with when it arrived, until it shows
/// `final_version` (once known) or the deadline passes.
async fn record_frames(
    mut socket: Socket,
    mut final_version: watch::Receiver<Option<u64>>,
) -> Vec<(u64, Instant)> {
    let mut frames: Vec<(u64, Instant)> = Vec::new();
    let mut deadline = None;
    loop {
        let shown = frames.last().map_or(0, |f| f.0);
        if let Some(last) = *final_version.borrow() {
            if shown >= last {
                break;
            }
            deadline.get_or_insert_with(|| tokio::time::Instant::now() + SETTLE);
        }
        let until =
            deadline.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            message = next_message(&mut socket) => match message {
                Ok(message) => {
                    if let Some(version) = version_of(&message).filter(|v| *v > shown) {
                        frames.push((version, Instant::now()));
                    }
                }
                Err(_) => break,
            },
            _ = final_version.changed() => {}
            _ = tokio::time::sleep_until(until) => break,
        }
    }
    frames
}

fn add_process_figures(
    report: &mut Report,
    pids: &[u32],
    before: &[ProcSample],
    after: &[ProcSample],
    elapsed: Duration,
) {
    if pids.is_empty() {
        return;
    }
    let cpu: Duration = after
        .iter()
        .zip(before)
        .map(|(a, b)| a.cpu.saturating_sub(b.cpu))
        .sum();
    report.add(
        "server_cpu_percent",
        100.0 * cpu.as_secs_f64() / elapsed.as_secs_f64(),
    );
    report.add(
        "server_rss_mb",
        after.iter().map(|s| s.rss).sum::<u64>() as f64 / 1e6,
    );
}

/// `fanout`: C sockets on one poll, then unique voters at an open-loop rate R for D.
pub async fn fanout(
    url: &str,
    sockets: usize,
    rate: f64,
    duration: Duration,
    parallel: usize,
    pids: &[u32],
) -> Result<Report, Failure> {
    let api = Api::new(url);
    let poll = api.create_poll(OPTIONS).await?.poll.id.to_string();
    let connecting = Instant::now();
    let (opened, failed_sockets) = open_sockets(&api, &poll, sockets, parallel).await;
    let connect_time = connecting.elapsed();
    let (final_tx, final_rx) = watch::channel(None);
    let mut readers = JoinSet::new();
    for socket in opened {
        readers.spawn(record_frames(socket, final_rx.clone()));
    }

    let before = sample_all(pids);
    let started = Instant::now();
    let total = (rate * duration.as_secs_f64()).round() as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut votes = JoinSet::new();
    for i in 0..total {
        ticker.tick().await;
        let (api, poll) = (api.clone(), poll.clone());
        votes.spawn(async move {
            let sent = Instant::now();
            (
                sent,
                api.vote_as_new_voter(&poll, (i % OPTIONS) as u32).await,
            )
        });
    }
    let mut acknowledged = Vec::with_capacity(total);
    let mut http = Histogram::default();
    let mut vote_errors = 0;
    while let Some(vote) = votes.join_next().await {
        match vote.expect("a vote task does not panic") {
            (sent, Ok((version, took))) => {
                http.record(took);
                acknowledged.push((sent, version));
            }
            (_, Err(_)) => vote_errors += 1,
        }
    }
    let voting = started.elapsed();
    let final_tally = api.tally(&poll).await?;
    final_tx.send_replace(Some(final_tally.version));
    let mut frames = Vec::new();
    while let Some(seen) = readers.join_next().await {
        frames.push(seen.expect("a reader task does not panic"));
    }
    let after = sample_all(pids);

    // Vote-to-render: for each vote and socket, the first frame at or past the vote's version.
    let mut latency = Histogram::default();
    let mut missing = 0u64;
    for socket in &frames {
        for (sent, version) in &acknowledged {
            let first = socket.partition_point(|(v, _)| v < version);
            match socket.get(first) {
                Some((_, at)) => latency.record(at.saturating_duration_since(*sent)),
                None => missing += 1,
            }
        }
    }
    let stale = frames
        .iter()
        .filter(|f| f.last().map_or(0, |l| l.0) != final_tally.version)
        .count();

    let mut report = Report::default();
    report.add("scenario", "fanout");
    report.add("sockets", frames.len());
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
    report.add_latency("http_vote", http.percentiles());
    add_process_figures(&mut report, pids, &before, &after, started.elapsed());
    Ok(report)
}

/// `write`: K voters in a closed loop for D, no sockets; the recount through the API
/// must equal the acknowledged votes (every vote is a new voter's).
pub async fn write(
    url: &str,
    voters: usize,
    duration: Duration,
    pids: &[u32],
) -> Result<Report, Failure> {
    let api = Api::new(url);
    let poll = api.create_poll(OPTIONS).await?.poll.id.to_string();
    let before = sample_all(pids);
    let started = Instant::now();
    let mut loops = JoinSet::new();
    for voter in 0..voters {
        let (api, poll) = (api.clone(), poll.clone());
        loops.spawn(async move {
            let (mut http, mut acknowledged, mut errors) = (Histogram::default(), 0u64, 0u64);
            let mut i = voter;
            while started.elapsed() < duration {
                match api.vote_as_new_voter(&poll, (i % OPTIONS) as u32).await {
                    Ok((_, took)) => {
                        http.record(took);
                        acknowledged += 1;
                    }
                    Err(_) => errors += 1,
                }
                i += 1;
            }
            (http, acknowledged, errors)
        });
    }
    let (mut http, mut acknowledged, mut errors) = (Histogram::default(), 0, 0);
    while let Some(done) = loops.join_next().await {
        let (h, a, e) = done.expect("a voter task does not panic");
        http.merge(&h);
        acknowledged += a;
        errors += e;
    }
    let elapsed = started.elapsed();
    let after = sample_all(pids);
    let tally = api.tally(&poll).await?;
    let mut report = Report::default();
    report.add("scenario", "write");
    report.add("voters", voters);
    report.add("votes_acknowledged", acknowledged);
    report.add("vote_errors", errors);
    report.add("votes_per_s", acknowledged as f64 / elapsed.as_secs_f64());
    report.add_latency("http_vote", http.percentiles());
    report.add("recount_total", tally.total);
    report.add("recount_equal", tally.total == acknowledged);
    add_process_figures(&mut report, pids, &before, &after, elapsed);
    Ok(report)
}

/// `idle`: C sockets connected and subscribed, held for H: connect time and memory.
pub async fn idle(
    url: &str,
    sockets: usize,
    hold: Duration,
    parallel: usize,
    pids: &[u32],
) -> Result<Report, Failure> {
    let api = Api::new(url);
    let poll = api.create_poll(OPTIONS).await?.poll.id.to_string();
    let before = sample_all(pids);
    let connecting = Instant::now();
    let (opened, failed) = open_sockets(&api, &poll, sockets, parallel).await;
    let connect_time = connecting.elapsed();
    // Holding them open is the scenario itself; the memory is read at the end.
    tokio::time::sleep(hold).await;
    let after = sample_all(pids);
    let grown: i64 = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.rss as i64 - b.rss as i64)
        .sum();
    let mut report = Report::default();
    report.add("scenario", "idle");
    report.add("sockets", opened.len());
    report.add("sockets_failed", failed);
    report.add("connect_and_subscribe_s", connect_time.as_secs_f64());
    if !pids.is_empty() && !opened.is_empty() {
        report.add(
            "rss_per_socket_kb",
            grown as f64 / opened.len() as f64 / 1024.0,
        );
    }
    add_process_figures(&mut report, pids, &before, &after, connect_time + hold);
    drop(opened);
    Ok(report)
}
