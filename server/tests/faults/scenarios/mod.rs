//! The fault scenarios, one function each, grouped by what breaks; every one ends with
//! [`checker::check`]. This file has what they share: a cluster with one open poll.

mod databases;
mod ingest;
mod nodes;
mod redis;
mod redis_cluster;
mod redis_faults;
mod retries;
mod traffic;

pub use databases::{primary_down, replica_down};
pub use ingest::{ingest_primary_down, ingest_redis_restarted};
pub use nodes::{node_killed, rolling_restart};
pub use redis::redis_down;
pub use redis_cluster::cluster_failover;
pub use redis_faults::{pubsub_clients_killed, redis_half_open, slow_subscriber_cut};
pub use retries::lost_answers;
pub use traffic::{cross_node, load};

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use votewire_testkit::client::eventually;

use crate::api::{Api, Counts, Voter};
use crate::checker::{self, Ending};
use crate::cluster::{Cluster, Db, Redis};
use crate::load::Load;
use crate::watcher::Watcher;

const OPTIONS: usize = 4;
/// A vote budget no scenario reaches: the load runs until it is stopped.
const UNBOUNDED: u64 = 1_000_000;

/// A cluster with one open poll, and each node's counts before any socket.
struct Setup {
    name: &'static str,
    cluster: Cluster,
    nginx: Api,
    nodes: Vec<Api>,
    poll: String,
    baseline: Vec<Counts>,
}

async fn setup(name: &'static str, k: u16, db: Db) -> Setup {
    setup_on(name, k, db, Redis::Single).await
}

async fn setup_on(name: &'static str, k: u16, db: Db, redis: Redis) -> Setup {
    with_poll(name, Cluster::up(name, k, db, redis).await).await
}

/// A cluster whose nodes take votes with `--ingest stream`, and its two workers.
async fn setup_streamed(name: &'static str, k: u16, db: Db) -> Setup {
    with_poll(name, Cluster::up_streamed(name, k, db).await).await
}

async fn with_poll(name: &'static str, cluster: Cluster) -> Setup {
    let nginx = Api::new(&cluster.nginx_url());
    let nodes = cluster.node_apis();
    let poll = nginx.create_poll_with(name, OPTIONS).await;
    let baseline = checker::baseline(&cluster).await;
    Setup {
        name,
        cluster,
        nginx,
        nodes,
        poll,
        baseline,
    }
}

impl Setup {
    /// `per_node` sockets straight to each node's port.
    async fn direct_watchers(&self, per_node: usize) -> Vec<Watcher> {
        let mut watchers = Vec::new();
        for i in 1..=3u16 {
            for j in 0..per_node {
                let w = Watcher::start(
                    format!("node-{i}#{j} (direct)"),
                    &self.cluster.node_url(i),
                    &self.poll,
                )
                .await;
                assert_eq!(w.node(), format!("node-{i}"), "the hello names the node");
                watchers.push(w);
            }
        }
        watchers
    }

    /// `n` sockets through nginx; fails unless every node got at least one.
    async fn nginx_watchers(&self, n: usize) -> Vec<Watcher> {
        let mut watchers = Vec::new();
        for j in 0..n {
            watchers.push(Watcher::start(format!("nginx#{j}"), &self.nginx.base, &self.poll).await);
        }
        let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
        for w in &watchers {
            *per_node.entry(w.node()).or_default() += 1;
        }
        assert_eq!(
            per_node.len(),
            3,
            "[{}] nginx spread {n} sockets over every node: {per_node:?}",
            self.name
        );
        eprintln!("[{}] sockets through nginx: {per_node:?}", self.name);
        watchers
    }

    async fn check(&self, voters: &[Voter], watchers: Vec<Watcher>) {
        checker::check(Ending {
            name: self.name,
            cluster: &self.cluster,
            poll: &self.poll,
            options: OPTIONS,
            voters,
            watchers,
            baseline: &self.baseline,
        })
        .await;
    }

    /// Polls every node's /readyz until each answers `status` (bounded).
    async fn await_readyz(&self, status: u16, within: Duration) -> Duration {
        let started = Instant::now();
        eventually(within, || async {
            // At once: a node without its database may take seconds to answer.
            let now = join_all(self.nodes.iter().map(|node| node.status("/readyz"))).await;
            match now.iter().all(|&s| s == status) {
                true => Ok(()),
                false => Err(format!(
                    "[{}] the nodes' /readyz answer {now:?}, not {status} everywhere",
                    self.name
                )),
            }
        })
        .await;
        started.elapsed()
    }

    /// Polls one sample of every node's /metrics until it equals `value` (bounded).
    async fn await_metric(&self, metric: &str, value: f64, within: Duration) -> Duration {
        let started = Instant::now();
        eventually(within, || async {
            let now = join_all(self.nodes.iter().map(|node| node.metric(metric))).await;
            match now.iter().all(|&v| v == Some(value)) {
                true => Ok(()),
                false => Err(format!(
                    "[{}] {metric} is {now:?} on the nodes, not {value}",
                    self.name
                )),
            }
        })
        .await;
        started.elapsed()
    }

    /// With `--ingest stream`: waits until no vote waits in the streams (every node's
    /// `votewire_ingest_backlog` is 0), i.e. the workers committed or refused them all.
    async fn await_drained(&self, within: Duration) -> Duration {
        let took = self
            .await_metric("votewire_ingest_backlog", 0.0, within)
            .await;
        eprintln!("[{}] the ingest streams drained in {took:.1?}", self.name);
        took
    }

    /// `voters` new voters voting through nginx, each every `pace`, until the scenario
    /// stops them; returned once `warm_up` of their votes were acknowledged.
    async fn voting(&self, voters: usize, pace: Duration, warm_up: u64) -> Load {
        let voters = self.nginx.ledger_voters(voters).await;
        let load = Load::start(
            &self.nginx,
            &self.poll,
            voters,
            OPTIONS as u32,
            UNBOUNDED,
            pace,
        );
        load.wait_acked(warm_up, Duration::from_secs(20)).await;
        load
    }
}

/// The nodes' `votewire_replica_fallbacks_total{reason}`, summed.
async fn fallbacks(nodes: &[Api], reason: &str) -> f64 {
    let mut sum = 0.0;
    for node in nodes {
        sum += node
            .metric(&format!(
                "votewire_replica_fallbacks_total{{reason=\"{reason}\"}}"
            ))
            .await
            .unwrap_or(0.0);
    }
    sum
}

fn print_load(name: &str, what: &str, stats: &crate::load::LoadStats, took: Duration) {
    eprintln!(
        "[{name}] {what}: {} sent, {} acknowledged, others {:?} in {took:.1?} ({:.0}/s), \
         slowest {:.1?}{}",
        stats.sent,
        stats.acked,
        stats.other,
        stats.sent as f64 / took.as_secs_f64().max(0.001),
        stats.slowest,
        if stats.examples.is_empty() {
            String::new()
        } else {
            format!(", e.g. {:?}", stats.examples)
        }
    );
}
