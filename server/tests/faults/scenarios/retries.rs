//! Retries that must not count twice: answers lost after the commit, and a node killed
//! under the votes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use votewire_testkit::client::eventually;
use votewire_testkit::lossy::LossyProxy;

use super::{OPTIONS, Setup, setup, setup_streamed};
use crate::api::{Api, VoteResult, Voter};
use crate::cluster::Db;
use crate::load::Rng;

/// Voters voting through the lossy front.
const VOTERS: usize = 64;
/// Choices each voter makes, one after the other.
const CHOICES: u64 = 6;
/// Polls created with an Idempotency-Key through the lossy front.
const KEYED_POLLS: usize = 8;
/// The lossy front loses the answer of every this-many-th connection.
const LOSE_EVERY: u64 = 3;
/// Tries of one request before the scenario gives up on it.
const TRIES: u32 = 200;

/// Scenario 8: through nginx behind a front that loses every third answer after the
/// request went through (the node committed, the client never hears), and with node-2
/// SIGKILLed mid-way, 64 voters each make 6 choices with a rising `seq`, every choice
/// retried with the same `seq` until it is acknowledged; 8 polls are created with an
/// Idempotency-Key, retried likewise. Then: every acknowledgement names the choice it
/// asked for, the recount equals each voter's last acknowledged choice (no voter has an
/// unanswered attempt left), every key made exactly one poll, and the shared checker
/// passes. With `stream` the nodes take votes with `--ingest stream` (the 202 is lost
/// after the XADD: the retry records the vote again, and it counts once), and the check
/// waits for the workers to commit everything first.
pub async fn lost_answers(name: &'static str, k: u16, stream: bool) {
    let s: Setup = if stream {
        setup_streamed(name, k, Db::Mariadb).await
    } else {
        setup(name, k, Db::Mariadb).await
    };
    let watchers = s.nginx_watchers(6).await;
    let nginx = s.cluster.nginx_url();
    let target = nginx
        .trim_start_matches("http://")
        .parse()
        .expect("nginx's address");
    let lossy = LossyProxy::start(target, LOSE_EVERY).await;
    let front = Api::new(&lossy.url());

    let mut questions = BTreeMap::new();
    for i in 0..KEYED_POLLS {
        let (question, key) = (format!("{name} keyed {i}"), format!("{name}-key-{i}"));
        let id = until_done(|| front.create_poll_keyed(&question, &key)).await;
        questions.insert(question, id);
    }

    let voters = s.nginx.ledger_voters(VOTERS).await;
    let acked = Arc::new(AtomicU64::new(0));
    let retried = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = voters
        .into_iter()
        .enumerate()
        .map(|(index, voter)| {
            let (front, poll) = (front.clone(), s.poll.clone());
            let (acked, retried) = (acked.clone(), retried.clone());
            tokio::spawn(async move {
                choose_in_turn(&front, &poll, voter, index as u64, &acked, &retried).await
            })
        })
        .collect();
    let halfway = VOTERS as u64 * CHOICES / 2;
    eventually(Duration::from_secs(60), || async {
        let now = acked.load(Ordering::Relaxed);
        (now >= halfway)
            .then_some(())
            .ok_or(format!("{now} of {halfway} choices acknowledged"))
    })
    .await;
    s.cluster.signal("node-2", "KILL").await;
    let mut voters = Vec::with_capacity(VOTERS);
    for task in tasks {
        voters.push(task.await.expect("a voter task"));
    }
    eprintln!(
        "[{name}] {} choices acknowledged in {:.1?}; {} answers lost by the front, {} retries",
        acked.load(Ordering::Relaxed),
        started.elapsed(),
        lossy.lost(),
        retried.load(Ordering::Relaxed)
    );
    assert!(
        lossy.lost() > 0,
        "[{name}] the front lost no answer: the fault never happened"
    );
    assert!(voters.iter().all(|v| v.pending.is_empty()));

    // Each key made one poll: nginx lists them (replicas may lag a moment).
    eventually(Duration::from_secs(10), || async {
        let list = s
            .nginx
            .get_json::<serde_json::Value>("/api/polls?limit=100")
            .await;
        let mut made: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for item in list["polls"].as_array().into_iter().flatten() {
            let question = item["poll"]["question"].as_str().unwrap_or_default();
            if questions.contains_key(question) {
                let id = item["poll"]["id"].as_str().unwrap_or_default();
                made.entry(question.to_owned())
                    .or_default()
                    .push(id.to_owned());
            }
        }
        let expected: BTreeMap<String, Vec<String>> = questions
            .iter()
            .map(|(q, id)| (q.clone(), vec![id.clone()]))
            .collect();
        (made == expected).then_some(()).ok_or(format!(
            "polls by keyed question: {made:?}, expected {expected:?}"
        ))
    })
    .await;

    s.cluster.cluster_up().await; // node-2 back, for the baseline counts
    if stream {
        s.await_drained(Duration::from_secs(30)).await;
    }
    s.check(&voters, watchers).await;
}

/// One voter's choices, each sent with the next `seq` and retried with it until
/// acknowledged; a 200 must name the choice asked for (a retry of a vote that did commit
/// is answered as superseded by itself, with the same choice), a 202 the option.
async fn choose_in_turn(
    front: &Api,
    poll: &str,
    mut voter: Voter,
    index: u64,
    acked: &AtomicU64,
    retried: &AtomicU64,
) -> Voter {
    let mut rng = Rng::new(1_000 + index);
    for seq in 1..=CHOICES {
        let option = rng.below(OPTIONS as u32);
        voter.pending.push(option);
        let mut tries = 0;
        let choice = loop {
            tries += 1;
            match front.vote_with_seq(poll, &voter.token, option, seq).await {
                VoteResult::Acked(response) => break response.vote.choice,
                VoteResult::Accepted(receipt) => break receipt.option,
                other => {
                    assert!(
                        tries < TRIES,
                        "voter {} gave up: {}",
                        voter.id,
                        other.describe()
                    );
                    retried.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        assert_eq!(
            choice,
            Some(option),
            "voter {} seq {seq}: the acknowledged choice is the one asked for",
            voter.id
        );
        voter.acked = Some(option);
        voter.pending.clear();
        acked.fetch_add(1, Ordering::Relaxed);
    }
    voter
}

/// Runs `attempt` until it succeeds (bounded), pausing between tries.
async fn until_done<F, Fut>(mut attempt: F) -> String
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<String, String>>,
{
    let mut last = String::new();
    for _ in 0..TRIES {
        match attempt().await {
            Ok(id) => return id,
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("a keyed creation kept failing: {last}");
}
