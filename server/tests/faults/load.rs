//! A voting load: voters voting and changing their votes on one poll through the
//! cluster's front door, until a budget is spent or they are told to stop, with what
//! they were acknowledged.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::api::{Api, VoteResult, Voter};

/// What a load did.
#[derive(Debug, Clone, Default)]
pub struct LoadStats {
    pub sent: u64,
    pub acked: u64,
    /// Outcomes other than 200 (or 202 with `--ingest stream`), by label.
    pub other: BTreeMap<String, u64>,
    /// The first few of those, in words.
    pub examples: Vec<String>,
    pub slowest: Duration,
    /// Acknowledged votes by the node that handled them.
    pub by_node: BTreeMap<String, u64>,
}

impl LoadStats {
    pub fn not_acked(&self) -> u64 {
        self.other.values().sum()
    }
}

/// Voters voting and changing their votes on one poll until a budget of votes is spent or
/// they are told to stop.
pub struct Load {
    stop: Arc<AtomicBool>,
    stats: Arc<watch::Sender<LoadStats>>,
    tasks: Vec<tokio::task::JoinHandle<Voter>>,
}

impl Load {
    /// `voters.len()` concurrent voters on `poll`, each picking among `options`; at most
    /// `budget` votes in all; each voter waits `pace` between its votes.
    pub fn start(
        api: &Api,
        poll: &str,
        voters: Vec<Voter>,
        options: u32,
        budget: u64,
        pace: Duration,
    ) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let issued = Arc::new(AtomicU64::new(0));
        let stats = Arc::new(watch::Sender::new(LoadStats::default()));
        let tasks = voters
            .into_iter()
            .enumerate()
            .map(|(index, mut voter)| {
                let (api, poll) = (api.clone(), poll.to_owned());
                let (stop, issued, stats) = (stop.clone(), issued.clone(), stats.clone());
                tokio::spawn(async move {
                    let mut rng = Rng::new(index as u64);
                    while !stop.load(Ordering::Relaxed)
                        && issued.fetch_add(1, Ordering::Relaxed) < budget
                    {
                        let option = rng.below(options);
                        let started = Instant::now();
                        let result = api.vote(&poll, &mut voter, option).await;
                        let took = started.elapsed();
                        stats.send_modify(|s| {
                            s.sent += 1;
                            s.slowest = s.slowest.max(took);
                            let node = match &result {
                                VoteResult::Acked(response) => Some(&response.vote.node),
                                VoteResult::Accepted(receipt) => Some(&receipt.node),
                                _ => None,
                            };
                            if let Some(node) = node {
                                s.acked += 1;
                                *s.by_node.entry(node.to_string()).or_default() += 1;
                            } else {
                                *s.other.entry(result.label()).or_default() += 1;
                                if s.examples.len() < 5 {
                                    s.examples
                                        .push(format!("{} after {took:.1?}", result.describe()));
                                }
                            }
                        });
                        if !pace.is_zero() {
                            tokio::time::sleep(pace).await;
                        }
                    }
                    voter
                })
            })
            .collect();
        Load { stop, stats, tasks }
    }

    pub fn stats(&self) -> LoadStats {
        self.stats.borrow().clone()
    }

    /// Waits until `n` votes in all were acknowledged.
    pub async fn wait_acked(&self, n: u64, within: Duration) {
        let mut rx = self.stats.subscribe();
        let reached = tokio::time::timeout(within, rx.wait_for(|s| s.acked >= n)).await;
        assert!(
            reached.is_ok(),
            "{n} votes not acknowledged within {within:?}: {:?}",
            self.stats()
        );
    }

    pub async fn finish(self) -> (Vec<Voter>, LoadStats) {
        self.stop.store(true, Ordering::Relaxed);
        self.join().await
    }

    /// Waits until the budget is spent and returns the voters' ledgers.
    pub async fn join(self) -> (Vec<Voter>, LoadStats) {
        let mut voters = Vec::with_capacity(self.tasks.len());
        for task in self.tasks {
            voters.push(task.await.expect("a voter task"));
        }
        let stats = self.stats.borrow().clone();
        (voters, stats)
    }
}

/// xorshift64*: reproducible choices without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u32) -> u32 {
        (self.next() >> 33) as u32 % n
    }
}
