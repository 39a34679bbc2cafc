//! The flags of `votewire seed`, checked into a [`crate::seed::SeedPlan`].

use std::time::Duration;

use clap::Args;

use crate::seed::{MAX_POLLS, SeedPlan};

#[derive(Debug, Clone, Args)]
pub(super) struct SeedArgs {
    /// The node to seed, or the proxy in front of the nodes (plain HTTP).
    #[arg(
        long,
        env = "VOTEWIRE_SEED_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    url: String,

    /// How many demo polls to create (1 to 4).
    #[arg(long, env = "VOTEWIRE_SEED_POLLS", default_value_t = 3)]
    polls: usize,

    /// Votes per second, spread over the polls (above 5 a node's default limit on new
    /// voters from one address slows the first minute down).
    #[arg(long, env = "VOTEWIRE_SEED_VOTES_PER_SEC", default_value_t = 3.0)]
    votes_per_sec: f64,

    /// Stop after this many votes (default: no limit).
    #[arg(long, env = "VOTEWIRE_SEED_VOTES")]
    votes: Option<u64>,

    /// Stop after this many seconds; 0 votes until stopped (SIGTERM or Ctrl-C).
    #[arg(long, env = "VOTEWIRE_SEED_DURATION_SECS", default_value_t = 300)]
    duration_secs: u64,

    /// How many voters to mint; later votes are theirs changing their minds.
    #[arg(long, env = "VOTEWIRE_SEED_VOTERS", default_value_t = 150)]
    voters: usize,
}

impl SeedArgs {
    pub(super) fn into_plan(self) -> Result<SeedPlan, String> {
        let url = self.url.trim_end_matches('/');
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!(
                "--url: seed speaks plain HTTP to a node or the proxy inside the deployment \
                 (http://host:port), not {url}"
            )
        })?;
        if rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "--url: give the node's origin, http://host:port, not {url}"
            ));
        }
        if !(1..=MAX_POLLS).contains(&self.polls) {
            return Err(format!("--polls: 1 to {MAX_POLLS}, not {}", self.polls));
        }
        if !(self.votes_per_sec > 0.0 && self.votes_per_sec <= 1000.0) {
            return Err(format!(
                "--votes-per-sec: above 0 and at most 1000, not {}",
                self.votes_per_sec
            ));
        }
        if self.voters == 0 {
            return Err("--voters: at least 1".into());
        }
        Ok(SeedPlan {
            url: url.to_owned(),
            polls: self.polls,
            votes_per_sec: self.votes_per_sec,
            votes: self.votes,
            duration: (self.duration_secs > 0).then(|| Duration::from_secs(self.duration_secs)),
            voters: self.voters,
        })
    }
}
