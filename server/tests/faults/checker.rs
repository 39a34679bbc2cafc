//! The one checker every scenario ends with: the database (read on the primary) holds
//! every acknowledged vote exactly once and tallies equal to a recount, every socket ends
//! on the database's tally without ever going back, and every node's socket counts return
//! to their baseline once the clients leave.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use sqlx::Connection;
use votewire_proto::Tally;
use votewire_server::store::Choice;

use crate::api::{Api, Counts, Voter, show};
use crate::cluster::{Cluster, Db};
use crate::watcher::Watcher;

/// How long sockets get to reach the database's tally once voting stopped.
const CONVERGE_WITHIN: Duration = Duration::from_secs(10);
/// How long the nodes get to count the closed sockets out.
const BASELINE_WITHIN: Duration = Duration::from_secs(10);

/// A poll as the primary holds it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// `polls.version`, the `tallies` rows, `polls.total`.
    pub tally: Tally,
    /// (voter_id, option_idx) of every `votes` row.
    pub votes: Vec<(String, i64)>,
    /// Votes per option, counted from the `votes` rows (each option of a set once).
    pub recount: Vec<u64>,
}

macro_rules! fetch_all {
    ($conn:expr, $ty:ty, $mysql:literal, $postgres:literal, $poll:expr) => {
        match $conn {
            Conn::My(c) => {
                sqlx::query_as::<_, $ty>($mysql)
                    .bind($poll)
                    .fetch_all(c)
                    .await
            }
            Conn::Pg(c) => {
                sqlx::query_as::<_, $ty>($postgres)
                    .bind($poll)
                    .fetch_all(c)
                    .await
            }
        }
        .expect(concat!("the primary answers: ", $mysql))
    };
}

enum Conn {
    My(sqlx::MySqlConnection),
    Pg(sqlx::PgConnection),
}

/// Reads `poll` on the primary, directly (not through a node).
pub async fn read_primary(cluster: &Cluster, poll: &str, options: usize) -> Stored {
    let url = cluster.primary_url();
    let mut conn = match cluster.db {
        Db::Mariadb => Conn::My(
            sqlx::MySqlConnection::connect(&url)
                .await
                .expect("the primary is reachable"),
        ),
        Db::Postgres => Conn::Pg(
            sqlx::PgConnection::connect(&url)
                .await
                .expect("the primary is reachable"),
        ),
    };
    let c = &mut conn;
    let heads = fetch_all!(
        &mut *c,
        (i64, i64),
        "SELECT version, total FROM polls WHERE id = ?",
        "SELECT version, total FROM polls WHERE id = $1",
        poll
    );
    let (version, total) = *heads.first().expect("the poll is on the primary");
    let tallies = fetch_all!(
        &mut *c,
        (i64, i64),
        "SELECT option_idx, count FROM tallies WHERE poll_id = ? ORDER BY option_idx",
        "SELECT option_idx, count FROM tallies WHERE poll_id = $1 ORDER BY option_idx",
        poll
    );
    let grouped = fetch_all!(
        &mut *c,
        (i64, Option<i64>, i64),
        "SELECT option_idx, choices, COUNT(*) FROM votes WHERE poll_id = ? GROUP BY option_idx, choices",
        "SELECT option_idx, choices, COUNT(*) FROM votes WHERE poll_id = $1 GROUP BY option_idx, choices",
        poll
    );
    let votes = fetch_all!(
        &mut *c,
        (String, i64),
        "SELECT voter_id, option_idx FROM votes WHERE poll_id = ?",
        "SELECT voter_id, option_idx FROM votes WHERE poll_id = $1",
        poll
    );
    match conn {
        Conn::My(c) => c.close().await.unwrap(),
        Conn::Pg(c) => c.close().await.unwrap(),
    }
    let mut counts = vec![0u64; options];
    for (option, count) in tallies {
        let slot = counts
            .get_mut(option as usize)
            .unwrap_or_else(|| panic!("a tallies row for option {option} of {options}"));
        *slot = count as u64;
    }
    // A multiple-choice vote counts once for each option of its set.
    let mut recount = vec![0u64; options];
    for (option, bits, count) in grouped {
        for chosen in Choice::from_row(option, bits).options() {
            let slot = recount
                .get_mut(chosen as usize)
                .unwrap_or_else(|| panic!("votes for option {chosen} of {options}"));
            *slot += count as u64;
        }
    }
    Stored {
        tally: Tally {
            version: version as u64,
            counts,
            total: total as u64,
        },
        votes,
        recount,
    }
}

/// Everything a scenario leaves for the checker.
pub struct Ending<'a> {
    pub name: &'a str,
    pub cluster: &'a Cluster,
    pub poll: &'a str,
    pub options: usize,
    pub voters: &'a [Voter],
    pub watchers: Vec<Watcher>,
    /// Each node's counts before the scenario's sockets connected.
    pub baseline: &'a [Counts],
}

/// Each node's counts now (the baseline, before the sockets).
pub async fn baseline(cluster: &Cluster) -> Vec<Counts> {
    let mut counts = Vec::new();
    for node in cluster.node_apis() {
        counts.push(node.counts().await);
    }
    counts
}

/// The shared checker. Voting must have stopped.
pub async fn check(ending: Ending<'_>) {
    let started = Instant::now();
    let Ending {
        name,
        cluster,
        poll,
        options,
        voters,
        watchers,
        baseline,
    } = ending;
    let stored = read_primary(cluster, poll, options).await;

    // No password the parts were given reached a log line, whatever the scenario did.
    let leaks = cluster.secrets_in_logs();
    assert!(
        leaks.is_empty(),
        "[{name}] passwords in the logs:\n{}",
        leaks.join("\n")
    );

    // Tallies equal a recount; the total is the number of votes.
    assert_eq!(
        stored.tally.counts, stored.recount,
        "[{name}] the tallies table equals a recount of the votes"
    );
    assert_eq!(
        stored.tally.total,
        stored.votes.len() as u64,
        "[{name}] polls.total is the number of votes"
    );

    // Every acknowledged vote exactly once, and nothing else.
    let mut stored_by_voter: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (voter, option) in &stored.votes {
        stored_by_voter.entry(voter).or_default().push(*option);
    }
    let known: BTreeSet<&str> = voters.iter().map(|v| v.id.as_str()).collect();
    for (voter, options) in &stored_by_voter {
        assert_eq!(
            options.len(),
            1,
            "[{name}] voter {voter} has {options:?} stored"
        );
        assert!(
            known.contains(voter),
            "[{name}] a vote of unknown voter {voter} is stored"
        );
    }
    let (mut acked, mut uncertain) = (0, 0);
    for voter in voters {
        let stored = stored_by_voter
            .get(voter.id.as_str())
            .map(|options| options[0] as u32);
        let allowed = voter.allowed();
        assert!(
            allowed.contains(&stored),
            "[{name}] voter {} has {stored:?} stored; its last acknowledged vote is {:?}, \
             attempted since without an answer: {:?}",
            voter.id,
            voter.acked,
            voter.pending
        );
        acked += u32::from(voter.acked.is_some());
        uncertain += u32::from(!voter.pending.is_empty());
    }

    // Every socket ends on the database's tally, and never went back.
    let deadline = Instant::now() + CONVERGE_WITHIN;
    for watcher in &watchers {
        if !watcher
            .wait_until(deadline, |s| s.last.as_ref() == Some(&stored.tally))
            .await
        {
            panic!(
                "[{name}] socket {} does not show the database's tally {} within \
                 {CONVERGE_WITHIN:?}: {}",
                watcher.label,
                show(&stored.tally),
                watcher.seen().summary()
            );
        }
    }
    let mut on_nodes: BTreeMap<String, u32> = BTreeMap::new();
    let sockets = watchers.len();
    for watcher in watchers {
        let label = watcher.label.clone();
        let seen = watcher.close().await;
        assert!(
            seen.went_down.is_empty(),
            "[{name}] socket {label} saw versions go down (shown, received): {:?}",
            seen.went_down
        );
        assert!(
            seen.conflicts.is_empty(),
            "[{name}] socket {label} saw two tallies with one version: {:?}",
            seen.conflicts
        );
        assert!(
            !seen.gave_up,
            "[{name}] socket {label} gave up reconnecting"
        );
        *on_nodes.entry(seen.node().to_owned()).or_default() += 1;
    }

    // Each node counts the sockets out.
    let nodes: Vec<Api> = cluster.node_apis();
    let baseline_deadline = Instant::now() + BASELINE_WITHIN;
    loop {
        let mut now = Vec::new();
        for node in &nodes {
            now.push(node.counts().await);
        }
        if now == baseline {
            break;
        }
        assert!(
            Instant::now() < baseline_deadline,
            "[{name}] the nodes' sockets/subscriptions/rooms are {now:?}, not back to {baseline:?} \
             within {BASELINE_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    eprintln!(
        "[{name}] checker ok in {:.1?}: {} stored ({} voters acknowledged, {} with unanswered \
         attempts), tally {} = recount; {sockets} sockets converged (last on {on_nodes:?}); \
         metrics back to baseline",
        started.elapsed(),
        stored.votes.len(),
        acked,
        uncertain,
        show(&stored.tally)
    );
}
