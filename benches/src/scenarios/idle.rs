//! `idle`: C sockets connected and subscribed, held for H: connect time and the server
//! memory each socket costs.
//!
//! One process may hold only as many sockets as its file limit allows (20,000 here,
//! listeners and files included), so C is shared among `--processes` processes: this
//! one and children of the same binary ([`hold_for_parent`]). The memory is read once
//! every process holds its share, and the connect time runs until the last one does.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{OPTIONS, Outcome, add_process_figures, open_sockets};
use crate::client::{Api, Failure};
use crate::procs::sample_all;
use crate::report::Report;

/// What a child reports once its sockets are open.
#[derive(Serialize, Deserialize)]
struct Opened {
    opened: usize,
    failed: usize,
}

/// The sockets of a run and how they are shared.
pub struct Idle {
    /// Sockets in all.
    pub sockets: usize,
    /// How long to hold them once all are open.
    pub hold: Duration,
    /// Handshakes in flight at once, per process.
    pub parallel: usize,
    /// Processes sharing the sockets, this one included.
    pub processes: usize,
}

/// Runs `idle` against `url`. It has nothing to plot.
pub async fn idle(url: &str, run: Idle, pids: &[u32]) -> Result<Outcome, Failure> {
    let api = Api::new(url);
    let poll = api.create_poll(OPTIONS).await?.poll.id;
    let before = sample_all(pids);
    let connecting = Instant::now();
    let part =
        |i: usize| run.sockets / run.processes + usize::from(i < run.sockets % run.processes);
    let mut children = Vec::new();
    for i in 1..run.processes {
        children.push(spawn_child(url, &poll, part(i), run.parallel)?);
    }
    let (opened, mut failed) = open_sockets(&api, &poll, part(0), run.parallel).await;
    let mut total = opened.len();
    for child in &mut children {
        let theirs = child_opened(child).await?;
        total += theirs.opened;
        failed += theirs.failed;
    }
    let connect_time = connecting.elapsed();
    // Holding them open is the scenario itself; the memory is read at the end.
    tokio::time::sleep(run.hold).await;
    let after = sample_all(pids);
    let grown: i64 = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.rss as i64 - b.rss as i64)
        .sum();
    let mut report = Report::default();
    report.add("scenario", "idle");
    report.add("sockets", total);
    report.add("sockets_failed", failed);
    report.add("processes", run.processes);
    report.add("connect_and_subscribe_s", connect_time.as_secs_f64());
    if !pids.is_empty() && total > 0 {
        report.add("rss_per_socket_kb", grown as f64 / total as f64 / 1024.0);
    }
    add_process_figures(&mut report, pids, &before, &after, connect_time + run.hold);
    drop(opened);
    for mut child in children {
        // Closing its stdin tells a child to let go; it exits at once.
        drop(child.stdin.take());
        child
            .wait()
            .await
            .map_err(|e| format!("waiting for a loadgen child: {e}"))?;
    }
    Ok(Outcome {
        report,
        charts: Vec::new(),
    })
}

/// Starts this binary as a child that holds `count` sockets on `poll`.
fn spawn_child(url: &str, poll: &str, count: usize, parallel: usize) -> Result<Child, Failure> {
    let me = std::env::current_exe().map_err(|e| format!("finding loadgen itself: {e}"))?;
    Command::new(me)
        .args(["--url", url, "--parallel", &parallel.to_string(), "idle"])
        .args(["--sockets", &count.to_string(), "--part-of", poll])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting a loadgen child: {e}"))
}

/// Waits for a child's report that its sockets are open.
async fn child_opened(child: &mut Child) -> Result<Opened, Failure> {
    let out = child.stdout.take().ok_or("a loadgen child has no stdout")?;
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .await
        .map_err(|e| format!("reading a loadgen child: {e}"))?;
    serde_json::from_str(&line).map_err(|_| {
        format!(
            "a loadgen child did not report its sockets (it said {line:?}); see its errors above"
        )
    })
}

/// A child's part (`idle --part-of POLL`): opens `count` sockets on `poll`, reports
/// them on stdout, and holds them until its parent closes stdin.
pub async fn hold_for_parent(
    url: &str,
    poll: &str,
    count: usize,
    parallel: usize,
) -> Result<(), Failure> {
    let api = Api::new(url);
    let (opened, failed) = open_sockets(&api, poll, count, parallel).await;
    let report = Opened {
        opened: opened.len(),
        failed,
    };
    println!("{}", serde_json::to_string(&report).expect("plain numbers"));
    let mut rest = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut rest).await;
    drop(opened);
    Ok(())
}
