//! `write`: K voters in a closed loop for D, no sockets: acknowledged votes per second,
//! then a recount through the API that must equal the acknowledged votes.

use std::time::Duration;

use super::{OPTIONS, Outcome, add_process_figures, add_write_figures, vote_in_closed_loop};
use crate::client::{Api, Failure};
use crate::plot::{Axis, Chart, Scale, percentile_series};
use crate::procs::sample_all;
use crate::report::Report;

/// Runs `write` against `url`.
pub async fn write(
    url: &str,
    voters: usize,
    duration: Duration,
    pids: &[u32],
) -> Result<Outcome, Failure> {
    let api = Api::new(url);
    let poll = api.create_poll(OPTIONS).await?.poll.id;
    let before = sample_all(pids);
    let voting = vote_in_closed_loop(&api, &poll, voters, duration, false).await;
    let after = sample_all(pids);
    let mut report = Report::default();
    report.add("scenario", "write");
    report.add("voters", voters);
    add_write_figures(&mut report, &api, &poll, &voting).await?;
    add_process_figures(&mut report, pids, &before, &after, voting.elapsed);
    let charts = vec![Chart {
        title: format!("HTTP vote latency, {voters} closed-loop voters"),
        x: Axis::new("percentile", Scale::Nines),
        y: Axis::new("latency (ms)", Scale::Log),
        series: vec![percentile_series("http_vote", &voting.http)],
    }];
    Ok(Outcome { report, charts })
}
