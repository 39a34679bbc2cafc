//! `idle`: C sockets connected and subscribed, held for H: connect time and the server
//! memory each socket costs.

use std::time::{Duration, Instant};

use super::{OPTIONS, Outcome, add_process_figures, open_sockets};
use crate::client::{Api, Failure};
use crate::procs::sample_all;
use crate::report::Report;

/// Runs `idle` against `url`. It has nothing to plot.
pub async fn idle(
    url: &str,
    sockets: usize,
    hold: Duration,
    parallel: usize,
    pids: &[u32],
) -> Result<Outcome, Failure> {
    let api = Api::new(url);
    let poll = api.create_poll(OPTIONS).await?.poll.id;
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
    Ok(Outcome {
        report,
        charts: Vec::new(),
    })
}
