//! Buffered ingest (`--ingest stream`) through a real Redis and PostgreSQL: a node
//! answers 202 and records the vote; `votewire worker`s commit it, once, in order, and
//! the sockets see it. Workers are started after the votes where a test needs votes
//! waiting (a dead worker's, a poll closed meanwhile).

use serde_json::json;
use votewire_proto::{ErrorCode, NodeRole, VoteAccepted};
use votewire_server::Settings;
use votewire_server::settings::IngestMode;
use votewire_testkit::spawn_worker;

use super::*;

/// The streams a node with the default `--ingest-shards` writes to.
const SHARDS: u32 = 4;

fn stream_mode(s: &mut Settings, database: &str, redis: &str, id: &str) {
    s.node_id = votewire_proto::NodeId::parse(id).unwrap();
    s.database_url = database.to_owned();
    s.redis_url = Some(redis.to_owned());
    s.ingest.mode = IngestMode::Stream;
    s.ingest.claim_idle = Duration::from_secs(1);
    votewire_testkit::exempt_loopback(s);
}

/// A Redis and a PostgreSQL database of the test's own, and a node in stream mode on
/// them.
struct Streamed {
    redis: RedisServer,
    db: TestDatabase,
    node: TestApp,
}

impl Streamed {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// [`Streamed::start`] with the node's settings adjusted by `configure`.
    async fn start_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let redis = RedisServer::start().await;
        let db = postgres().await;
        let dir = Arc::new(TempDir::new("ingest-node"));
        let (database, url) = (db.url.clone(), redis.url());
        let node = spawn_app_in(dir, |s| {
            stream_mode(s, &database, &url, "node-1");
            configure(s);
        })
        .await;
        Self { redis, db, node }
    }

    /// A worker reading `read_count` entries at a time.
    async fn worker(&self, id: &str, read_count: u64) -> TestApp {
        let (database, url) = (self.db.url.clone(), self.redis.url());
        spawn_worker(|s| {
            stream_mode(s, &database, &url, id);
            s.ingest.read_count = read_count;
        })
        .await
    }

    /// Stops the workers and the node, and drops the database.
    async fn stop(self, workers: Vec<TestApp>) {
        for worker in workers {
            worker.stop().await;
        }
        self.node.stop().await;
        self.db.drop_database().await;
    }
}

/// Votes (or withdraws, with `None`) as `voter`, with `seq` when given: the 202's receipt.
async fn record(
    node: &TestApp,
    poll: &str,
    voter: &str,
    option: Option<u32>,
    seq: Option<u64>,
) -> VoteAccepted {
    let url = node.url(&format!("/api/polls/{poll}/votes"));
    let request = match option {
        Some(option) => node
            .http
            .post(url)
            .json(&json!({ "option": option, "seq": seq })),
        None => node.http.delete(url).query(&[("seq", seq)]),
    };
    let response = node
        .send(request.header("authorization", format!("Voter {voter}")))
        .await;
    assert_eq!(response.status(), 202, "recorded, not yet counted");
    response.json().await.expect("a receipt")
}

/// Votes waiting in every stream, and pending with any worker.
fn waiting(redis: &RedisServer) -> (u64, u64) {
    let mut length = 0;
    let mut pending = 0;
    for shard in 0..SHARDS {
        let key = format!("votewire:ingest:{{{shard}}}");
        length += redis.cli(&["XLEN", &key]).parse::<u64>().unwrap();
        let summary = redis.cli(&["XPENDING", &key, "votewire"]);
        pending += summary
            .lines()
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    (length, pending)
}

/// Waits until the streams are empty and nothing is pending.
async fn drained(redis: &RedisServer) {
    eventually(Duration::from_secs(15), || async {
        match waiting(redis) {
            (0, 0) => Ok(()),
            other => Err(format!("(waiting, pending) = {other:?}")),
        }
    })
    .await;
}

/// The value of a series in a worker's `/metrics`.
async fn series(app: &TestApp, name: &str) -> u64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}")) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vote_in_stream_mode_is_answered_202_then_counted_once_and_reaches_sockets() {
    if !external_enabled("the ingest stream tests") {
        return;
    }
    let streamed = Streamed::start().await;
    let Streamed { redis, db, node } = &streamed;
    let worker = streamed.worker("worker-1", 1024).await;
    let poll = node.new_poll("Streamed?", &["yes", "no"]).await;
    let mut socket = node.ws().await;
    socket.subscribe(&poll, None).await;
    socket.recv().await;

    let voters = node.new_voters(20).await;
    for (i, voter) in voters.iter().enumerate() {
        let receipt = record(node, &poll, voter, Some(i as u32 % 2), Some(1)).await;
        assert_eq!(receipt.poll.as_str(), poll);
        assert_eq!((receipt.option, receipt.seq), (Some(i as u32 % 2), Some(1)));
        assert_eq!(receipt.node.as_str(), "node-1");
        assert!(receipt.stream_id.contains('-'), "{receipt:?}");
    }
    // A retry of the first vote, with its seq, as a client that lost the 202 sends it.
    record(node, &poll, &voters[0], Some(0), Some(1)).await;

    // Every update's feed names the node that took the votes, not the worker.
    loop {
        let ServerMessage::Update { tally, recent, .. } = socket.recv().await else {
            continue;
        };
        assert!(
            recent.iter().all(|vote| vote.node.as_str() == "node-1"),
            "{recent:?}"
        );
        if tally.total == 20 {
            break;
        }
    }
    drained(redis).await;
    assert_eq!(
        db.recount(&poll, 2).await,
        [10, 10],
        "each vote counted once"
    );
    let committed = "votewire_ingest_worker_votes_total{result=\"committed\"}";
    assert_eq!(
        series(&worker, committed).await,
        21,
        "the retry too, as a no-op"
    );
    assert_eq!(node.get_poll(&poll).await.tally.total, 20);
    // The cluster view lists the worker as one, with what it committed (a 2 s beat).
    eventually(Duration::from_secs(10), || async {
        let view: ClusterView = node.get_json("/api/cluster").await;
        let listed = |id: &str| view.nodes.iter().find(|n| n.id.as_str() == id).cloned();
        match (listed("node-1"), listed("worker-1")) {
            (Some(n), Some(w))
                if n.role == NodeRole::Node
                    && n.votes_handled == 21
                    && w.role == NodeRole::Worker
                    && w.votes_handled == 21
                    && w.ingest_lag_ms.is_some() =>
            {
                Ok(())
            }
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    streamed.stop(vec![worker]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_votes_a_dead_worker_held_are_claimed_by_another_and_counted_once() {
    if !external_enabled("the ingest stream tests") {
        return;
    }
    let streamed = Streamed::start().await;
    let Streamed { redis, db, node } = &streamed;
    let poll = node.new_poll("Claimed?", &["a", "b", "c"]).await;
    for (i, voter) in node.new_voters(30).await.iter().enumerate() {
        record(node, &poll, voter, Some(i as u32 % 3), None).await;
    }
    // A worker that read every vote and died before committing any: they stay
    // pending with it.
    for shard in 0..SHARDS {
        let key = format!("votewire:ingest:{{{shard}}}");
        redis.cli(&["XGROUP", "CREATE", &key, "votewire", "0", "MKSTREAM"]);
        redis.cli(&[
            "XREADGROUP",
            "GROUP",
            "votewire",
            "ghost",
            "STREAMS",
            &key,
            ">",
        ]);
    }
    assert_eq!(waiting(redis), (30, 30));

    let worker = streamed.worker("worker-2", 1024).await;
    drained(redis).await;
    assert_eq!(db.recount(&poll, 3).await, [10, 10, 10]);
    assert_eq!(
        series(&worker, "votewire_ingest_worker_claimed_total").await,
        30
    );
    streamed.stop(vec![worker]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vote_recorded_before_its_poll_closed_is_refused_by_the_commit_and_its_voter_told() {
    if !external_enabled("the ingest stream tests") {
        return;
    }
    let streamed = Streamed::start().await;
    let Streamed { redis, db, node } = &streamed;
    let created = node.create_poll("Closing?", &["a", "b"]).await;
    let poll = created.poll.id.to_string();
    let other_poll = node.new_poll("Still open?", &["a", "b"]).await;
    let voters = node.new_voters(5).await;
    // The first voter's socket (its cookie) and a stranger's watch the poll; the
    // stranger watches another poll too, whose update marks the end of what it got.
    let mut mine = node.ws_as(&voters[0]).await;
    let mut stranger = node.ws_as(&node.new_voter().await).await;
    for (socket, polls) in [
        (&mut mine, vec![&poll]),
        (&mut stranger, vec![&poll, &other_poll]),
    ] {
        for poll in polls {
            socket.subscribe(poll, None).await;
            socket.recv().await;
        }
    }
    let mut receipts = Vec::new();
    for voter in &voters {
        receipts.push(record(node, &poll, voter, Some(1), None).await);
    }
    assert_eq!(
        node.close_poll(&poll, &created.owner_token).await.status(),
        200
    );

    let worker = streamed.worker("worker-3", 1024).await;
    drained(redis).await;
    let rejected = "votewire_ingest_worker_votes_total{result=\"rejected\"}";
    assert_eq!(series(&worker, rejected).await, 5);
    assert_eq!(db.recount(&poll, 2).await, [0, 0]);
    // The voter hears that their vote, by its receipt, was not counted.
    match mine
        .recv_until(|m| matches!(m, ServerMessage::Rejected { .. }))
        .await
    {
        ServerMessage::Rejected {
            poll: refused,
            stream_id,
            code,
            ..
        } => {
            assert_eq!(refused.as_str(), poll);
            assert_eq!(stream_id, receipts[0].stream_id);
            assert_eq!(code, ErrorCode::PollClosed);
        }
        _ => unreachable!(),
    }
    // Nobody else does: the stranger's next frame after the refusals is the other
    // poll's update.
    record(node, &other_poll, &voters[1], Some(0), None).await;
    loop {
        match stranger.recv().await {
            ServerMessage::Rejected { .. } => panic!("another voter's refusal reached a stranger"),
            ServerMessage::Update { poll, .. } if poll.as_str() == other_poll => break,
            _ => {}
        }
    }
    // And once the node has read the poll again (its rules are kept a second), it
    // refuses a vote at once.
    let voter = node.new_voter().await;
    eventually(Duration::from_secs(5), || async {
        match node.vote(&poll, &voter, 0).await.status().as_u16() {
            409 => Ok(()),
            other => Err(format!("answered {other}")),
        }
    })
    .await;
    streamed.stop(vec![worker]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_voter_changing_a_b_c_quickly_ends_on_c_with_two_workers_taking_one_vote_each() {
    if !external_enabled("the ingest stream tests") {
        return;
    }
    let streamed = Streamed::start().await;
    let Streamed { redis, db, node } = &streamed;
    let poll = node.new_poll("Which?", &["a", "b", "c"]).await;
    let (quick, careful, gone) = (
        node.new_voter().await,
        node.new_voter().await,
        node.new_voter().await,
    );
    for option in 0..3 {
        // Without a seq: the stream's order decides.
        record(node, &poll, &quick, Some(option), None).await;
        // With a rising seq.
        record(
            node,
            &poll,
            &careful,
            Some(option),
            Some(u64::from(option) + 1),
        )
        .await;
    }
    record(node, &poll, &gone, Some(0), None).await;
    record(node, &poll, &gone, None, None).await;

    // Two workers reading one vote at a time share the poll's votes between them.
    let first = streamed.worker("worker-a", 1).await;
    let second = streamed.worker("worker-b", 1).await;
    drained(redis).await;
    assert_eq!(
        db.recount(&poll, 3).await,
        [0, 0, 2],
        "both end on C, the withdrawal stands"
    );
    let committed = "votewire_ingest_worker_votes_total{result=\"committed\"}";
    let shared = (
        series(&first, committed).await,
        series(&second, committed).await,
    );
    assert_eq!(shared.0 + shared.1, 8, "{shared:?}");
    streamed.stop(vec![first, second]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_backlog_refuses_votes_with_503_until_a_worker_drains_it() {
    if !external_enabled("the ingest stream tests") {
        return;
    }
    let streamed = Streamed::start_with(|s| s.ingest.max_backlog = 5).await;
    let Streamed { redis, db, node } = &streamed;
    let poll = node.new_poll("Full?", &["a", "b"]).await;
    let voters = node.new_voters(6).await;
    for voter in &voters[..5] {
        record(node, &poll, voter, Some(0), None).await;
    }
    // The node measures the backlog four times a second: /readyz names it.
    eventually(Duration::from_secs(5), || async {
        let (status, report) = readiness(node).await;
        let ingest = report.checks.get("ingest").cloned().unwrap_or_default();
        match (status, ingest.starts_with("5 votes waiting")) {
            (200, true) => Ok(()),
            _ => Err(format!("/readyz {status}: {report:?}")),
        }
    })
    .await;
    let refused = node.vote(&poll, &voters[5], 1).await;
    assert_eq!(refused.status(), 503);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "ingest_backlog_full", "{body}");

    let worker = streamed.worker("worker-1", 1024).await;
    drained(redis).await;
    eventually(Duration::from_secs(5), || async {
        match node.vote(&poll, &voters[5], 1).await.status().as_u16() {
            202 => Ok(()),
            other => Err(format!("answered {other}")),
        }
    })
    .await;
    drained(redis).await;
    assert_eq!(db.recount(&poll, 2).await, [5, 1]);
    streamed.stop(vec![worker]).await;
}
