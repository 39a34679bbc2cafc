//! `spread`: the scale model's two predictions (docs/scale.md), checked on a cluster
//! reached node by node, not through nginx, so that loadgen knows where each socket is.
//!
//! P polls, each watched by W sockets placed on nodes at random (a fixed seed), and a
//! quarter as many polls again that no socket watches; then V votes on every poll, one
//! at a time, each through the next node in turn. Predicted, and compared exactly:
//! - subscriptions: Redis holds, per poll channel, one subscription per node with a
//!   watcher of the poll, none for an unwatched poll; each node's subscriber
//!   connection holds one per poll its sockets watch, and the node one room per poll;
//! - messages: a vote answered one at a time is one tally event, which Redis hands to
//!   every node with a watcher of its poll and to no other: node n receives
//!   V x (polls n watches) tally messages, (polls n watches) / (all polls) per vote.
//!
//! A prediction that does not hold fails the run. The Redis readings need one Redis 7
//! server (where sharded pub/sub keeps the channels as on one shard), not a Redis Cluster.

mod readings;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{OPTIONS, Outcome, SETTLE};
use crate::client::{Api, Failure, Frame};
use crate::loopback;
use crate::report::Report;
use crate::ws_reader::WsReader;
use readings::{NodeCounts, Redis};

/// The cluster and the load of one run: `loadgen spread`'s arguments.
#[derive(clap::Args)]
pub struct Spread {
    /// A node's public URL (repeat for each node); the global --url is not used.
    #[arg(long = "node", value_name = "URL", required = true)]
    pub nodes: Vec<String>,
    /// The node's --admin-listen URL, once per --node and in the same order.
    #[arg(long = "admin", value_name = "URL", required = true)]
    pub admins: Vec<String>,
    /// The cluster's Redis, redis:// on loopback; from the environment, so that a
    /// password stays off the command line.
    #[arg(long, env = "LOADGEN_REDIS_URL", hide_env_values = true)]
    pub redis: String,
    /// Polls watched; a quarter as many again are watched by nobody.
    #[arg(long, default_value_t = 48)]
    pub polls: usize,
    /// Sockets per watched poll, each on a node drawn at random.
    #[arg(long, default_value_t = 3)]
    pub watchers: usize,
    /// Votes per poll, one at a time.
    #[arg(long, default_value_t = 3)]
    pub votes: usize,
}

impl Spread {
    /// Refuses a run that would leave loopback or is out of bounds.
    pub fn check(&self) -> Result<(), String> {
        if self.nodes.len() != self.admins.len() {
            return Err("give one --admin per --node, in the same order".into());
        }
        for url in &self.nodes {
            loopback::check_http(url, "--node")?;
        }
        for url in &self.admins {
            loopback::check_http(url, "--admin")?;
        }
        loopback::check_redis(&self.redis)?;
        let within = |value: usize, most: usize| (1..=most).contains(&value);
        if !(within(self.polls, 1000) && within(self.watchers, 100) && within(self.votes, 100)) {
            return Err("--polls must be 1 to 1000, --watchers and --votes 1 to 100".into());
        }
        Ok(())
    }
}

/// The same placement every run: SplitMix64 (a few lines here rather than a crate).
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// Runs `spread`.
pub async fn spread(run: &Spread) -> Result<Outcome, Failure> {
    let n = run.nodes.len();
    let apis: Vec<Api> = run.nodes.iter().map(|url| Api::new(url)).collect();
    let all = run.polls + run.polls.div_ceil(4);
    let mut ids = Vec::with_capacity(all);
    for _ in 0..all {
        ids.push(apis[0].create_poll(OPTIONS).await?.poll.id);
    }
    // Which nodes watch each poll; the unwatched polls come last, with none.
    let mut seed = Seeded(0x5EED);
    let placed: Vec<Vec<usize>> = (0..all)
        .map(|p| {
            let watchers = if p < run.polls { run.watchers } else { 0 };
            (0..watchers).map(|_| seed.below(n)).collect()
        })
        .collect();
    let watched_by: Vec<BTreeSet<usize>> = placed
        .iter()
        .map(|on| on.iter().copied().collect())
        .collect();
    let polls_on: Vec<u64> = (0..n)
        .map(|node| watched_by.iter().filter(|by| by.contains(&node)).count() as u64)
        .collect();

    let mut sockets: Vec<(usize, WsReader)> = Vec::new();
    for (p, on) in placed.iter().enumerate() {
        for &node in on {
            sockets.push((p, apis[node].watch(&ids[p]).await?.0));
        }
    }

    let redis = Redis::connect(&run.redis).await?;
    let channels: Vec<String> = ids.iter().map(|id| format!("votewire:{{{id}}}")).collect();
    let subscribers = redis.subscribers(&channels).await?;
    let connections = redis.subscriptions_per_connection().await?;
    let before = NodeCounts::read_all(&run.admins).await?;

    let mut problems = Vec::new();
    let predicted_subs: Vec<u64> = watched_by.iter().map(|by| by.len() as u64).collect();
    let channels_off = (0..all)
        .filter(|&p| subscribers[p] != predicted_subs[p])
        .count();
    if channels_off > 0 {
        problems.push(format!(
            "{channels_off} of {all} poll channels do not have one subscriber per node watching the poll"
        ));
    }
    let rooms_off = (0..n).filter(|&i| before[i].rooms != polls_on[i]).count();
    if rooms_off > 0 {
        problems.push(format!(
            "{rooms_off} nodes do not have one room per poll their sockets watch"
        ));
    }
    let mut expected_connections: Vec<u64> = polls_on.iter().copied().filter(|&c| c > 0).collect();
    expected_connections.sort_unstable();
    if connections != expected_connections {
        problems.push(format!(
            "subscriptions per Redis connection {connections:?}, predicted {expected_connections:?}"
        ));
    }

    // One vote at a time: each is its own commit, so its own event.
    let mut last = vec![0; all];
    let mut turn = 0;
    for _ in 0..run.votes {
        for (p, id) in ids.iter().enumerate() {
            let option = (turn % OPTIONS) as u32;
            last[p] = apis[turn % n].vote_as_new_voter(id, option).await?.0;
            turn += 1;
        }
    }
    for (p, socket) in &mut sockets {
        shows(socket, last[*p]).await?;
    }
    let votes_cast = (all * run.votes) as u64;
    let predicted: Vec<u64> = polls_on.iter().map(|c| c * run.votes as u64).collect();
    let after = NodeCounts::settled(&run.admins, &before, &predicted).await?;
    let received: Vec<u64> = (0..n)
        .map(|i| after[i].received.saturating_sub(before[i].received))
        .collect();
    let published: u64 = (0..n)
        .map(|i| after[i].published.saturating_sub(before[i].published))
        .sum();
    if received != predicted {
        problems.push(format!(
            "tally messages received per node {received:?}, predicted {predicted:?}"
        ));
    }
    if published != votes_cast {
        problems.push(format!(
            "{published} tally events published for {votes_cast} votes cast one at a time"
        ));
    }

    let mut report = Report::default();
    report.add("scenario", "spread");
    report.add("nodes", n);
    report.add("polls_watched", run.polls);
    report.add("polls_unwatched", all - run.polls);
    report.add("watchers_per_poll", run.watchers);
    report.add("votes", votes_cast);
    report.add(
        "subscriptions_predicted",
        predicted_subs.iter().sum::<u64>(),
    );
    report.add("subscriptions_measured", subscribers.iter().sum::<u64>());
    // The model's expectation for random placement, beside this run's placement.
    let model = 1.0 - (1.0 - 1.0 / n as f64).powi(run.watchers as i32);
    report.add("watched_share_model", model);
    report.add(
        "watched_share_placed",
        polls_on.iter().sum::<u64>() as f64 / (n * run.polls) as f64,
    );
    let per_vote = |counts: &[u64]| -> Vec<f64> {
        counts
            .iter()
            .map(|&c| c as f64 / votes_cast as f64)
            .collect()
    };
    report.add(
        "messages_per_vote_predicted",
        predicted.iter().sum::<u64>() as f64 / votes_cast as f64,
    );
    report.add(
        "messages_per_vote_measured",
        received.iter().sum::<u64>() as f64 / votes_cast as f64,
    );
    report.add(
        "per_node",
        json!({
            "polls_watched": polls_on,
            "rooms": before.iter().map(|c| c.rooms).collect::<Vec<_>>(),
            "messages_per_vote_predicted": per_vote(&predicted),
            "messages_per_vote_measured": per_vote(&received),
        }),
    );
    report.add("predictions_hold", problems.is_empty());
    if !problems.is_empty() {
        eprint!("{}", report.table());
        return Err(format!(
            "the scale model's predictions do not hold: {}",
            problems.join("; ")
        ));
    }
    Ok(Outcome {
        report,
        charts: Vec::new(),
    })
}

/// Reads `socket` until it shows version `version`, within [`SETTLE`].
async fn shows(socket: &mut WsReader, version: u64) -> Result<(), Failure> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(left.max(Duration::from_millis(1)), socket.next_frame())
            .await
            .map_err(|_| format!("a socket did not show version {version} within {SETTLE:?}"))??;
        match frame {
            Frame::Tally(shown) if shown >= version => return Ok(()),
            Frame::Error(why) => return Err(format!("a socket got an error: {why}")),
            _ => {}
        }
    }
}
