//! `loadgen`: drives a running votewire over its public contract and reports figures.
//! Loopback only, bounded in time and count. See `votewire_benches` for the scenarios.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use votewire_benches::{loopback, plot, scenarios};

/// Load generator for votewire: a table for people, then one JSON line for machines.
#[derive(Parser)]
#[command(name = "loadgen", version)]
struct Cli {
    /// The votewire node, or nginx in front of a cluster (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    url: String,
    /// PIDs of the server processes, for their CPU and memory (from /proc).
    #[arg(long = "pid", global = true)]
    pids: Vec<u32>,
    /// Handshakes in flight at once when opening sockets.
    #[arg(long, default_value_t = 256, global = true)]
    parallel: usize,
    /// Also draw the run's latency distributions (and for fanout, latency over time)
    /// into this SVG file; not for idle or spread.
    #[arg(long, global = true, value_name = "PATH.svg")]
    plot: Option<PathBuf>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// C sockets on one poll, votes from unique voters at an open-loop rate:
    /// vote-to-render latency per socket and vote.
    Fanout {
        /// Sockets watching the poll.
        #[arg(long, default_value_t = 100)]
        sockets: usize,
        /// Votes per second.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Seconds of voting.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
    },
    /// K voters in a closed loop, no sockets: votes per second and a recount.
    Write {
        /// Voters, each voting again as soon as its vote is answered.
        #[arg(long, default_value_t = 64)]
        voters: usize,
        /// Seconds of voting.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
    },
    /// The write load with one socket watching, for either ingest mode: votes
    /// acknowledged (200 or 202) and committed per second, and from each acknowledgement
    /// to the socket showing it.
    Ingest {
        /// Voters, each voting again as soon as its vote is answered.
        #[arg(long, default_value_t = 64)]
        voters: usize,
        /// Seconds of voting.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
    },
    /// The write load while the read replicas are polled directly: how long after its
    /// acknowledgement each vote shows on each replica.
    Replication {
        /// Voters, each voting again as soon as its vote is answered.
        #[arg(long, default_value_t = 64)]
        voters: usize,
        /// Seconds of voting.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
        /// A read replica to poll, mysql://, mariadb://, postgres:// or postgresql://
        /// on loopback (repeat for each replica).
        #[arg(long = "replica", value_name = "URL", required = true)]
        replicas: Vec<String>,
        /// Milliseconds between two polls of a replica: the resolution of the
        /// time-to-visible figures.
        #[arg(long, default_value_t = 1.0)]
        poll_ms: f64,
    },
    /// The scale model's predictions on a cluster reached node by node: each node's
    /// Redis subscriptions cover only the polls its sockets watch, and Redis messages
    /// per node per vote are as predicted (docs/scale.md). Fails when they are not.
    Spread(scenarios::Spread),
    /// C sockets held open: connect time and memory per socket.
    Idle {
        /// Sockets to open and subscribe, in all.
        #[arg(long, default_value_t = 1000)]
        sockets: usize,
        /// Seconds to hold them.
        #[arg(long, default_value_t = 5.0)]
        hold: f64,
        /// Processes sharing the sockets (this one and children): one process holds
        /// at most 18,000, under the file limit of 20,000.
        #[arg(long, default_value_t = 1)]
        processes: usize,
        /// A child's part: open the sockets on this poll, report, hold until stdin
        /// closes (what `--processes` starts).
        #[arg(long, hide = true, value_name = "POLL")]
        part_of: Option<String>,
    },
}

/// The most a run may take, so a mistyped flag cannot hold a machine for hours.
const MAX_SECONDS: f64 = 600.0;
const MAX_SOCKETS: usize = 40_000;
/// Sockets one process may hold: the file limit here is 20,000, with room for the rest.
const MAX_SOCKETS_PER_PROCESS: usize = 18_000;
const MAX_VOTERS: usize = 10_000;
const MAX_REPLICAS: usize = 8;
/// Fan-out keeps 8 bytes per frame per socket until the run ends, and a socket gets at
/// most one frame per vote: this bounds that memory (1.6 GB at worst).
const MAX_DELIVERIES: f64 = 200e6;

fn scenario_name(scenario: &Scenario) -> &'static str {
    match scenario {
        Scenario::Fanout { .. } => "fanout",
        Scenario::Write { .. } => "write",
        Scenario::Ingest { .. } => "ingest",
        Scenario::Replication { .. } => "replication",
        Scenario::Spread(_) => "spread",
        Scenario::Idle { .. } => "idle",
    }
}

/// Refuses what loadgen must not do (leave loopback, run unbounded) before it starts.
fn check(cli: &Cli) -> Result<(), String> {
    loopback::check_http(&cli.url, "--url")?;
    if let Some(path) = &cli.plot {
        let svg = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
        if !svg {
            return Err(format!(
                "--plot {}: the plot is an SVG file, its name must end in .svg",
                path.display()
            ));
        }
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(folder) = folder.filter(|f| !f.is_dir()) {
            return Err(format!(
                "--plot {}: there is no folder {}",
                path.display(),
                folder.display()
            ));
        }
        if matches!(cli.scenario, Scenario::Idle { .. } | Scenario::Spread(_)) {
            return Err(format!(
                "--plot: {} measures no latencies, there is nothing to plot",
                scenario_name(&cli.scenario)
            ));
        }
    }
    let (seconds, sockets, rate, voters) = match &cli.scenario {
        Scenario::Fanout {
            sockets,
            rate,
            duration,
        } => {
            if *sockets > MAX_SOCKETS_PER_PROCESS {
                return Err(format!(
                    "at most {MAX_SOCKETS_PER_PROCESS} sockets in fanout"
                ));
            }
            (*duration, *sockets, *rate, 1)
        }
        Scenario::Write { voters, duration } | Scenario::Ingest { voters, duration } => {
            (*duration, 0, 1.0, *voters)
        }
        Scenario::Replication {
            voters,
            duration,
            replicas,
            poll_ms,
        } => {
            if replicas.len() > MAX_REPLICAS {
                return Err(format!("at most {MAX_REPLICAS} --replica"));
            }
            for replica in replicas {
                loopback::check_database(replica)?;
            }
            if !(*poll_ms >= 0.1 && *poll_ms <= 1000.0) {
                return Err("--poll-ms must be between 0.1 and 1000".into());
            }
            (*duration, 0, 1.0, *voters)
        }
        Scenario::Spread(run) => {
            run.check()?;
            (1.0, run.polls * run.watchers, 1.0, 1)
        }
        Scenario::Idle {
            sockets,
            hold,
            processes,
            ..
        } => {
            if !(1..=8).contains(processes) {
                return Err("--processes must be between 1 and 8".into());
            }
            if sockets.div_ceil(*processes) > MAX_SOCKETS_PER_PROCESS {
                return Err(format!(
                    "at most {MAX_SOCKETS_PER_PROCESS} sockets per process: raise --processes"
                ));
            }
            (*hold, *sockets, 1.0, 1)
        }
    };
    if !(seconds > 0.0 && seconds <= MAX_SECONDS) {
        return Err(format!(
            "durations must be between 0 and {MAX_SECONDS} seconds"
        ));
    }
    if sockets > MAX_SOCKETS {
        return Err(format!("at most {MAX_SOCKETS} sockets"));
    }
    if !(rate > 0.0 && rate <= 100_000.0) {
        return Err("--rate must be between 0 and 100000 votes per second".into());
    }
    if !(1..=MAX_VOTERS).contains(&voters) {
        return Err(format!("--voters must be between 1 and {MAX_VOTERS}"));
    }
    if sockets as f64 * rate * seconds > MAX_DELIVERIES {
        return Err(format!(
            "sockets x rate x duration is at most {MAX_DELIVERIES:e} deliveries (memory)"
        ));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(why) = check(&cli) {
        eprintln!("loadgen: {why}");
        return ExitCode::from(2);
    }
    let title = format!(
        "loadgen {} against {}",
        scenario_name(&cli.scenario),
        cli.url
    );
    let secs = Duration::from_secs_f64;
    let (url, pids) = (cli.url.as_str(), cli.pids.as_slice());
    let result = match cli.scenario {
        Scenario::Fanout {
            sockets,
            rate,
            duration,
        } => scenarios::fanout(url, sockets, rate, secs(duration), cli.parallel, pids).await,
        Scenario::Write { voters, duration } => {
            scenarios::write(url, voters, secs(duration), pids).await
        }
        Scenario::Ingest { voters, duration } => {
            scenarios::ingest(url, voters, secs(duration), pids).await
        }
        Scenario::Replication {
            voters,
            duration,
            replicas,
            poll_ms,
        } => {
            let interval = secs(poll_ms / 1000.0);
            scenarios::replication(url, &replicas, voters, secs(duration), interval, pids).await
        }
        Scenario::Idle {
            sockets,
            part_of: Some(poll),
            ..
        } => {
            return match scenarios::hold_for_parent(url, &poll, sockets, cli.parallel).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(why) => {
                    eprintln!("loadgen (child): {why}");
                    ExitCode::FAILURE
                }
            };
        }
        Scenario::Idle {
            sockets,
            hold,
            processes,
            part_of: None,
        } => {
            let run = scenarios::Idle {
                sockets,
                hold: secs(hold),
                parallel: cli.parallel,
                processes,
            };
            scenarios::idle(url, run, pids).await
        }
        Scenario::Spread(run) => scenarios::spread(&run).await,
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(why) => {
            eprintln!("loadgen: {why}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", outcome.report.table());
    println!("{}", outcome.report.json());
    if let Some(path) = &cli.plot {
        // stderr: the JSON line stays the last line of stdout, where CI reads it.
        let svg = plot::render(&title, &outcome.charts);
        if let Err(e) = std::fs::write(path, svg) {
            eprintln!("loadgen: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!("loadgen: plot written to {}", path.display());
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(args: &str) -> Result<(), String> {
        let cli = Cli::try_parse_from(args.split_whitespace()).map_err(|e| e.to_string())?;
        check(&cli)
    }

    #[test]
    fn plots_are_svg_files_of_scenarios_with_latencies() {
        assert_eq!(checked("loadgen --plot /tmp/f.svg fanout"), Ok(()));
        assert_eq!(checked("loadgen write --plot f.SVG"), Ok(()));
        assert!(checked("loadgen --plot /tmp/f.png fanout").is_err());
        assert!(checked("loadgen --plot /tmp/svg fanout").is_err());
        assert!(checked("loadgen --plot /no/such/folder/f.svg fanout").is_err());
        assert!(checked("loadgen --plot /tmp/f.svg idle").is_err());
    }

    #[test]
    fn replication_needs_loopback_replicas_and_bounds() {
        let replica = "--replica mysql://root@127.0.0.1:13307/votewire";
        assert_eq!(checked(&format!("loadgen replication {replica}")), Ok(()));
        assert!(checked("loadgen replication").is_err());
        assert!(checked("loadgen replication --replica mysql://root@10.1.1.1/votewire").is_err());
        assert!(checked(&format!("loadgen replication {replica} --poll-ms 0")).is_err());
        assert!(checked(&format!("loadgen replication {replica} --voters 0")).is_err());
        assert!(checked(&format!("loadgen replication {replica} --duration 601")).is_err());
        assert!(
            checked(&format!(
                "loadgen --url http://example.com replication {replica}"
            ))
            .is_err()
        );
        assert!(checked("loadgen fanout --sockets 20000 --rate 1000 --duration 600").is_err());
    }
}
