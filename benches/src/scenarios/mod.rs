//! The load scenarios. Each is bounded in count and time and talks to the server only
//! over its public contract (`replication` also reads the replicas, see there).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{Api, Failure};
use crate::plot::Chart;
use crate::procs::ProcSample;
use crate::report::{Histogram, Report};
use crate::ws_reader::WsReader;

mod fanout;
mod idle;
mod ingest;
mod replication;
mod spread;
mod write;

pub use fanout::fanout;
pub use idle::{Idle, hold_for_parent, idle};
pub use ingest::ingest;
pub use replication::replication;
pub use spread::{Spread, spread};
pub use write::write;

/// Options per poll: a realistic frame size.
const OPTIONS: usize = 4;
/// How long sockets (or replicas) may take to show the last acknowledged vote once the
/// load has ended.
const SETTLE: Duration = Duration::from_secs(10);

/// What a scenario produced: its figures, and the charts `--plot` draws.
pub struct Outcome {
    /// The table and the JSON line.
    pub report: Report,
    /// Latency distributions and the like; empty when there is nothing to draw.
    pub charts: Vec<Chart>,
}

/// Opens `count` sockets watching `poll`, `parallel` handshakes at a time.
async fn open_sockets(
    api: &Api,
    poll: &str,
    count: usize,
    parallel: usize,
) -> (Vec<WsReader>, usize) {
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

/// What K closed-loop voters did.
#[derive(Default)]
struct Voting {
    http: Histogram,
    acknowledged: u64,
    errors: u64,
    /// Each acknowledged vote's version and when its answer arrived, when asked for.
    acks: Vec<(u64, Instant)>,
    elapsed: Duration,
}

/// K voters in a closed loop on `poll` for `duration`, each vote by a new voter (issued
/// first), so every acknowledged vote moves the tally by one.
async fn vote_in_closed_loop(
    api: &Api,
    poll: &str,
    voters: usize,
    duration: Duration,
    keep_acks: bool,
) -> Voting {
    let started = Instant::now();
    let mut loops = JoinSet::new();
    for voter in 0..voters {
        let (api, poll) = (api.clone(), poll.to_owned());
        loops.spawn(async move {
            let mut done = Voting::default();
            let mut i = voter;
            while started.elapsed() < duration {
                match api.vote_as_new_voter(&poll, (i % OPTIONS) as u32).await {
                    Ok((version, took)) => {
                        done.http.record(took);
                        done.acknowledged += 1;
                        if keep_acks {
                            done.acks.push((version, Instant::now()));
                        }
                    }
                    Err(_) => done.errors += 1,
                }
                i += 1;
            }
            done
        });
    }
    let mut all = Voting::default();
    while let Some(done) = loops.join_next().await {
        let done = done.expect("a voter task does not panic");
        all.http.merge(&done.http);
        all.acknowledged += done.acknowledged;
        all.errors += done.errors;
        all.acks.extend(done.acks);
    }
    all.elapsed = started.elapsed();
    all
}

/// The figures `write` and `replication` share, ending with the recount through the
/// API: `recount_equal` holds when it counts exactly the acknowledged votes.
///
/// The recount is read again (every 20 ms, up to [`SETTLE`]) while it shows fewer votes
/// than were acknowledged. Why: read-your-writes holds per node only, and nginx sends
/// reads to other nodes than the votes, so the first read may come from a replica a few
/// milliseconds behind. `recount_wait_ms` says how long it took; a vote that is really
/// lost still leaves the recount short once the wait is over.
async fn add_write_figures(
    report: &mut Report,
    api: &Api,
    poll: &str,
    voting: &Voting,
) -> Result<(), Failure> {
    report.add("votes_acknowledged", voting.acknowledged);
    report.add("vote_errors", voting.errors);
    report.add(
        "votes_per_s",
        voting.acknowledged as f64 / voting.elapsed.as_secs_f64(),
    );
    report.add_latency("http_vote", voting.http.percentiles());
    let reading = Instant::now();
    let mut tally = api.tally(poll).await?;
    while tally.total < voting.acknowledged && reading.elapsed() < SETTLE {
        tokio::time::sleep(Duration::from_millis(20)).await;
        tally = api.tally(poll).await?;
    }
    report.add("recount_total", tally.total);
    report.add("recount_equal", tally.total == voting.acknowledged);
    report.add("recount_wait_ms", reading.elapsed().as_secs_f64() * 1000.0);
    Ok(())
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
