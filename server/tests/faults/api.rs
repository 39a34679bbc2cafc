//! The cluster as a user sees it: REST through nginx (or one node), voters that remember
//! what was acknowledged, a voting load, and each node's /metrics and /readyz.

use std::ops::Deref;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use votewire_proto::{PollView, Tally, VoteAccepted, VoteResponse};
use votewire_testkit::Client;

/// Longest one request may take. A vote with the primary down takes up to 3 tries of a
/// few seconds through nginx: bounded by nginx's `proxy_next_upstream_timeout` (10 s).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A REST client of one base URL (nginx, or one node directly) whose requests time out
/// and whose votes say what became of them.
#[derive(Clone)]
pub struct Api {
    client: Client,
    /// Where /metrics is: the node's admin listener, or the same base.
    internal: Client,
}

impl Deref for Api {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// What a vote request got.
#[derive(Debug, Clone)]
pub enum VoteResult {
    /// 200: the vote is committed.
    Acked(VoteResponse),
    /// 202 (`--ingest stream`): the vote is recorded, a worker will commit it.
    Accepted(VoteAccepted),
    /// Another status, with the error code of the body when there is one.
    Refused { status: u16, code: String },
    /// No answer (connection error, timeout).
    Failed(String),
}

impl VoteResult {
    /// `200`, `503 database_unavailable`, `error`: for tallying outcomes.
    pub fn label(&self) -> String {
        match self {
            VoteResult::Acked(_) => "200".into(),
            VoteResult::Accepted(_) => "202".into(),
            VoteResult::Refused { status, code } => format!("{status} {code}"),
            VoteResult::Failed(_) => "no answer".into(),
        }
    }

    /// The label, with why there was no answer.
    pub fn describe(&self) -> String {
        match self {
            VoteResult::Failed(why) => format!("no answer: {why}"),
            other => other.label(),
        }
    }
}

/// A voter and what became of its votes: the checker's ledger.
#[derive(Debug, Clone)]
pub struct Voter {
    pub token: String,
    /// The part of the token before the '.': the `voter_id` column.
    pub id: String,
    /// The option of the last acknowledged vote.
    pub acked: Option<u32>,
    /// Options attempted after that without a 200: any of them may have committed.
    pub pending: Vec<u32>,
}

impl Voter {
    pub fn new(token: String) -> Voter {
        let id = token
            .split_once('.')
            .map(|(id, _)| id.to_owned())
            .unwrap_or_else(|| panic!("a voter token has a '.': {token}"));
        Voter {
            token,
            id,
            acked: None,
            pending: Vec::new(),
        }
    }

    /// Options the stored vote may be on (None: no vote stored).
    pub fn allowed(&self) -> Vec<Option<u32>> {
        let mut allowed = vec![self.acked];
        allowed.extend(self.pending.iter().map(|&o| Some(o)));
        allowed
    }
}

/// A node's live counts, from its /metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub sockets: u64,
    pub subscriptions: u64,
    pub rooms: u64,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Self::with_internal(base, base)
    }

    /// A node at `base` whose /metrics is on its admin listener `admin`.
    pub fn with_internal(base: &str, admin: &str) -> Api {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()
            .expect("an HTTP client");
        Api {
            client: Client::with_http(base, http.clone()),
            internal: Client::with_http(admin, http),
        }
    }

    /// Creates a poll with `options` options, returns its id.
    pub async fn create_poll_with(&self, question: &str, options: usize) -> String {
        let options: Vec<String> = (0..options).map(|i| format!("option {i}")).collect();
        let options: Vec<&str> = options.iter().map(String::as_str).collect();
        self.client.new_poll(question, &options).await
    }

    /// `POST /api/polls` with an `Idempotency-Key`: the poll's id, or what went wrong.
    pub async fn create_poll_keyed(&self, question: &str, key: &str) -> Result<String, String> {
        let body = json!({ "question": question, "options": ["a", "b"] });
        let sent = self
            .http
            .post(self.url("/api/polls"))
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .map_err(|e| chain(&e))?;
        let status = sent.status();
        let body: Value = sent.json().await.map_err(|e| chain(&e))?;
        match body["poll"]["id"].as_str() {
            Some(id) if status == 201 => Ok(id.to_owned()),
            _ => Err(format!("{status}: {body}")),
        }
    }

    pub async fn new_ledger_voter(&self) -> Voter {
        Voter::new(self.client.new_voter().await)
    }

    /// The node that answers a write through this address now (`POST /api/voters`,
    /// which nginx spreads over its write group at random), if one answers.
    pub async fn write_node(&self) -> Option<String> {
        let response = self.http.post(self.url("/api/voters")).send().await.ok()?;
        let node = response.headers().get("x-votewire-node")?;
        Some(node.to_str().ok()?.to_owned())
    }

    /// Waits until nginx sends writes to `node` again, returning how long that took.
    /// Probes every 50 ms: nothing announces the end of nginx's passive health window.
    pub async fn wait_for_write_node(&self, node: &str, within: Duration) -> Duration {
        let started = Instant::now();
        let mut probe = tokio::time::interval(Duration::from_millis(50));
        loop {
            probe.tick().await;
            if self.write_node().await.as_deref() == Some(node) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "nginx sent no write to {node} within {within:?}"
            );
        }
    }

    pub async fn ledger_voters(&self, n: usize) -> Vec<Voter> {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let api = self.clone();
                tokio::spawn(async move { api.new_ledger_voter().await })
            })
            .collect();
        let mut voters = Vec::with_capacity(n);
        for task in tasks {
            voters.push(task.await.unwrap());
        }
        voters
    }

    /// Votes as `voter` and notes the outcome in its ledger.
    pub async fn vote(&self, poll: &str, voter: &mut Voter, option: u32) -> VoteResult {
        let result = self.vote_raw(poll, &voter.token, option, None).await;
        match &result {
            VoteResult::Acked(response) => {
                assert_eq!(response.vote.option, option, "the receipt names the option");
                voter.acked = Some(option);
                voter.pending.clear();
            }
            // Recorded in its poll's stream after every earlier vote of this voter: it
            // stands once committed, unless a later one does.
            VoteResult::Accepted(receipt) => {
                assert_eq!(receipt.option, Some(option), "the receipt names the option");
                voter.acked = Some(option);
                voter.pending.clear();
            }
            _ => voter.pending.push(option),
        }
        result
    }

    /// One vote with a `seq`, as sent (no ledger: a retry sends the same `seq` again).
    pub async fn vote_with_seq(
        &self,
        poll: &str,
        token: &str,
        option: u32,
        seq: u64,
    ) -> VoteResult {
        self.vote_raw(poll, token, option, Some(seq)).await
    }

    async fn vote_raw(&self, poll: &str, token: &str, option: u32, seq: Option<u64>) -> VoteResult {
        let mut body = json!({ "option": option });
        if let Some(seq) = seq {
            body["seq"] = json!(seq);
        }
        let sent = self
            .http
            .post(self.url(&format!("/api/polls/{poll}/votes")))
            .header("authorization", format!("Voter {token}"))
            .json(&body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => return VoteResult::Failed(chain(&e)),
        };
        let status = response.status().as_u16();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) => return VoteResult::Failed(format!("{status}, body lost: {}", chain(&e))),
        };
        if status == 200 {
            match serde_json::from_slice::<VoteResponse>(&body) {
                Ok(vote) => VoteResult::Acked(vote),
                Err(e) => panic!("a 200 vote answer that is no VoteResponse ({e}): {body:?}"),
            }
        } else if status == 202 {
            match serde_json::from_slice::<VoteAccepted>(&body) {
                Ok(receipt) => VoteResult::Accepted(receipt),
                Err(e) => panic!("a 202 vote answer that is no VoteAccepted ({e}): {body:?}"),
            }
        } else {
            let code = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("(no error body: {})", String::from_utf8_lossy(&body)));
            VoteResult::Refused { status, code }
        }
    }

    /// `GET /api/polls/{id}`: the status, and the view when 200.
    pub async fn try_get_poll(&self, poll: &str) -> Result<PollView, String> {
        let response = self
            .http
            .get(self.url(&format!("/api/polls/{poll}")))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if status != 200 {
            return Err(format!(
                "{status}: {}",
                response.text().await.unwrap_or_default()
            ));
        }
        response.json().await.map_err(|e| e.to_string())
    }

    /// The status of a GET (0 when there was no answer).
    pub async fn status(&self, path: &str) -> u16 {
        match self.http.get(self.url(path)).send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        }
    }

    /// One sample of /metrics by its full name (with labels), e.g. `votewire_sockets`.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        metric_in(&self.internal.metrics().await, name)
    }

    pub async fn counts(&self) -> Counts {
        let text = self.internal.metrics().await;
        let get =
            |name| metric_in(&text, name).unwrap_or_else(|| panic!("no {name} in /metrics")) as u64;
        Counts {
            sockets: get("votewire_sockets"),
            subscriptions: get("votewire_subscriptions"),
            rooms: get("votewire_rooms"),
        }
    }
}

/// An error and its sources, in words.
fn chain(e: &dyn std::error::Error) -> String {
    let mut words = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        words.push_str(": ");
        words.push_str(&cause.to_string());
        source = cause.source();
    }
    words
}

fn metric_in(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

/// A tally as the database holds it, for messages.
pub fn show(tally: &Tally) -> String {
    format!(
        "v{} {:?} total {}",
        tally.version, tally.counts, tally.total
    )
}
