//! `votewire seed`: a few demo polls, and votes replayed on them over time through a
//! node's real API (`POST /api/voters`, `POST /api/polls/{id}/votes`), so a first run
//! shows something moving.
//!
//! The voters are a pool minted as it goes: while the pool is not full a vote is a new
//! voter's, after that an existing voter changes their mind (with a rising `seq`, as
//! the web client sends). Options are drawn with weights per poll, so the bars separate
//! the way a real audience's do. It stays within a node's default abuse limits from
//! one address (300 new voters a minute), and waits out a 429 instead of failing.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

/// The demo polls: a question and its options, each with a weight.
const DEMO: &[(&str, &[(&str, u32)])] = &[
    (
        "Which talk should open the conference?",
        &[
            ("Streams in practice", 5),
            ("Pacing fan-out", 3),
            ("Glass UIs", 2),
            ("Ask me anything", 1),
        ],
    ),
    (
        "Lunch today?",
        &[("Pizza", 4), ("Sushi", 3), ("Salad bar", 2), ("Tacos", 4)],
    ),
    (
        "How was the workshop?",
        &[("Loved it", 6), ("Good", 4), ("Okay", 1), ("Not for me", 1)],
    ),
    ("Tabs or spaces?", &[("Tabs", 5), ("Spaces", 5)]),
];

/// The most demo polls there are.
pub const MAX_POLLS: usize = DEMO.len();

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedPlan {
    /// The node (or the proxy in front of the nodes), `http://host:port`.
    pub url: String,
    /// How many of the demo polls to create.
    pub polls: usize,
    /// Votes per second.
    pub votes_per_sec: f64,
    /// Stop after this many votes, if given.
    pub votes: Option<u64>,
    /// Stop after this long, if given.
    pub duration: Option<Duration>,
    /// The size of the voter pool.
    pub voters: usize,
}

/// A demo poll as created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededPoll {
    /// Its id.
    pub id: String,
    /// Its join code.
    pub join_code: String,
}

/// What a seeding run did.
#[derive(Debug, Default)]
pub struct SeedReport {
    /// The polls created, in order.
    pub polls: Vec<SeededPoll>,
    /// Votes the node counted (200) or recorded (202).
    pub votes: u64,
    /// The (voter, poll) pairs with a vote standing: the polls' totals add up to it.
    pub standing: usize,
}

/// Creates the demo polls on `plan.url` and votes on them until the plan's votes or
/// time run out, or `stop` resolves; `created` hears of each poll as it is made.
pub async fn run(
    plan: &SeedPlan,
    stop: impl Future<Output = ()>,
    mut created: impl FnMut(&SeededPoll),
) -> Result<SeedReport, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let api = Api {
        http,
        base: plan.url.trim_end_matches('/').to_owned(),
    };
    let mut report = SeedReport::default();
    for (question, options) in &DEMO[..plan.polls] {
        let texts: Vec<&str> = options.iter().map(|(text, _)| *text).collect();
        let poll = api.create(question, &texts).await?;
        created(&poll);
        report.polls.push(poll);
    }
    let mut voters: Vec<String> = Vec::new();
    let mut standing = HashSet::new();
    let mut seq = 0u64;
    let every = Duration::from_secs_f64(1.0 / plan.votes_per_sec);
    let started = Instant::now();
    let mut stop = std::pin::pin!(stop);
    let mut next = tokio::time::interval(every);
    loop {
        if plan.votes.is_some_and(|votes| report.votes >= votes)
            || plan
                .duration
                .is_some_and(|duration| started.elapsed() >= duration)
        {
            break;
        }
        tokio::select! {
            () = &mut stop => break,
            _ = next.tick() => {}
        }
        let which = random(report.polls.len() as u32) as usize;
        let voter = if voters.len() < plan.voters {
            voters.push(api.new_voter().await?);
            voters.len() - 1
        } else {
            random(voters.len() as u32) as usize
        };
        seq += 1;
        let option = weighted(DEMO[which].1);
        if api
            .vote(&report.polls[which].id, &voters[voter], option, seq)
            .await?
        {
            report.votes += 1;
            standing.insert((voter, which));
        }
    }
    report.standing = standing.len();
    Ok(report)
}

/// The node's API, as the seeder uses it.
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn create(&self, question: &str, options: &[&str]) -> Result<SeededPoll, String> {
        let body = json!({ "question": question, "options": options });
        let created = self
            .send(
                self.http
                    .post(format!("{}/api/polls", self.base))
                    .json(&body),
            )
            .await?;
        let field = |name: &str| created["poll"][name].as_str().map(str::to_owned);
        match (field("id"), field("join_code")) {
            (Some(id), Some(join_code)) => Ok(SeededPoll { id, join_code }),
            _ => Err(format!(
                "{} answered a poll without an id or a join code",
                self.base
            )),
        }
    }

    async fn new_voter(&self) -> Result<String, String> {
        let issued = self
            .send(self.http.post(format!("{}/api/voters", self.base)))
            .await?;
        issued["voter_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{} answered a voter without a token", self.base))
    }

    /// True when the vote was taken; false when the poll refused it (closed).
    async fn vote(&self, poll: &str, voter: &str, option: u32, seq: u64) -> Result<bool, String> {
        let request = self
            .http
            .post(format!("{}/api/polls/{poll}/votes", self.base))
            .header("authorization", format!("Voter {voter}"))
            .json(&json!({ "option": option, "seq": seq }));
        match self.send(request).await {
            Ok(_) => Ok(true),
            Err(why) if why.contains("poll_closed") => Ok(false),
            Err(why) => Err(why),
        }
    }

    /// Sends `request` and reads its JSON answer, waiting out rate limits (429) and a
    /// node that is draining or has no database for a moment (503).
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, String> {
        for attempt in 1.. {
            let retry = request
                .try_clone()
                .expect("seed requests have plain bodies");
            let response = retry
                .send()
                .await
                .map_err(|e| format!("cannot reach {}: {e}", self.base))?;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            match status {
                200..=299 => return Ok(body),
                429 | 503 if attempt < 30 => tokio::time::sleep(Duration::from_secs(2)).await,
                _ => {
                    return Err(format!(
                        "{} answered {status}: {}",
                        self.base, body["error"]["code"]
                    ));
                }
            }
        }
        unreachable!("the loop returns")
    }
}

/// A random number below `n` (n > 0).
fn random(n: u32) -> u32 {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    u32::from_le_bytes(bytes) % n
}

/// An option drawn with the weights of `options`.
fn weighted(options: &[(&str, u32)]) -> u32 {
    let total: u32 = options.iter().map(|(_, weight)| weight).sum();
    let mut pick = random(total);
    for (index, (_, weight)) in options.iter().enumerate() {
        if pick < *weight {
            return index as u32;
        }
        pick -= weight;
    }
    unreachable!("the pick is below the total")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_draws_follow_the_weights() {
        let options = [("a", 1), ("b", 0), ("c", 3)];
        let mut counts = [0u32; 3];
        for _ in 0..4_000 {
            counts[weighted(&options) as usize] += 1;
        }
        assert_eq!(counts[1], 0, "a weight of 0 is never drawn");
        assert!((2_700..3_300).contains(&counts[2]), "{counts:?}");
    }
}
