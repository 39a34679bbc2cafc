//! `loadgen`: drives a running votewire over its public contract and reports figures.
//! Loopback only, bounded in time and count. See `votewire_benches` for the scenarios.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use votewire_benches::scenarios;

/// Load generator for votewire: a table for people, then one JSON line for machines.
#[derive(Parser)]
#[command(name = "loadgen", version, about)]
struct Cli {
    /// The votewire node, or nginx in front of a cluster.
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    url: String,
    /// PIDs of the server processes, for their CPU and memory (from /proc).
    #[arg(long = "pid", global = true)]
    pids: Vec<u32>,
    /// Handshakes in flight at once when opening sockets.
    #[arg(long, default_value_t = 256, global = true)]
    parallel: usize,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// C sockets on one poll, votes from unique voters at an open-loop rate.
    Fanout {
        #[arg(long, default_value_t = 100)]
        sockets: usize,
        /// Votes per second.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Seconds of voting.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
    },
    /// K voters in a closed loop, no sockets.
    Write {
        #[arg(long, default_value_t = 64)]
        voters: usize,
        /// Seconds of voting.
        #[arg(long, default_value_t = 5.0)]
        duration: f64,
    },
    /// C sockets held open.
    Idle {
        #[arg(long, default_value_t = 1000)]
        sockets: usize,
        /// Seconds to hold them.
        #[arg(long, default_value_t = 5.0)]
        hold: f64,
    },
}

/// The most a run may take, so a mistyped flag cannot hold a machine for hours.
const MAX_SECONDS: f64 = 600.0;
const MAX_SOCKETS: usize = 20_000;

fn check(cli: &Cli) -> Result<(), String> {
    let host_ok = ["http://127.", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| cli.url.starts_with(p));
    if !host_ok {
        return Err(format!(
            "--url {}: loadgen only targets loopback (127.0.0.0/8, localhost, [::1])",
            cli.url
        ));
    }
    let (seconds, sockets, rate) = match cli.scenario {
        Scenario::Fanout {
            sockets,
            rate,
            duration,
        } => (duration, sockets, rate),
        Scenario::Write { duration, .. } => (duration, 0, 1.0),
        Scenario::Idle { sockets, hold } => (hold, sockets, 1.0),
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
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(why) = check(&cli) {
        eprintln!("loadgen: {why}");
        return ExitCode::from(2);
    }
    let secs = Duration::from_secs_f64;
    let result = match cli.scenario {
        Scenario::Fanout {
            sockets,
            rate,
            duration,
        } => {
            scenarios::fanout(
                &cli.url,
                sockets,
                rate,
                secs(duration),
                cli.parallel,
                &cli.pids,
            )
            .await
        }
        Scenario::Write { voters, duration } => {
            scenarios::write(&cli.url, voters, secs(duration), &cli.pids).await
        }
        Scenario::Idle { sockets, hold } => {
            scenarios::idle(&cli.url, sockets, secs(hold), cli.parallel, &cli.pids).await
        }
    };
    match result {
        Ok(report) => {
            print!("{}", report.table());
            println!("{}", report.json());
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("loadgen: {why}");
            ExitCode::FAILURE
        }
    }
}
