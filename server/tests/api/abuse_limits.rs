//! The per-address abuse limits through a real node: a classroom behind one address
//! gets through on the defaults, a script does not; each limit refuses with 429
//! `rate_limited` and `Retry-After` (a socket: an `error` and a 1013 close) and counts
//! nothing it refused; exempt addresses pass; a trusted proxy's clients each have
//! their own buckets.

use std::sync::Arc;
use std::time::Instant;

use votewire_proto::{ErrorCode, ServerMessage, VoteResponse};
use votewire_server::Settings;
use votewire_server::settings::Rate;
use votewire_testkit::client::eventually;
use votewire_testkit::{
    EVENT_TIMEOUT, TestApp, WsClient, exempt_loopback, spawn_app, spawn_app_with,
};

use crate::errors::expect_error;

const CLASS: usize = 200;

/// A bucket of `burst` that refills by one a minute: nothing comes back during a test.
fn tiny(burst: u32) -> Rate {
    Rate {
        burst,
        per_minute: 1,
    }
}

/// Small limits on everything, for tests that exceed each.
fn small_limits(s: &mut Settings) {
    s.abuse.voters = tiny(2);
    s.abuse.votes = tiny(3);
    s.abuse.polls = tiny(2);
    s.abuse.ws_connects = tiny(2);
}

/// `POST /api/voters`, as relayed for `forwarded_for` when given.
async fn mint(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app.http.post(app.url("/api/voters"));
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    app.send(request).await
}

/// Checks a 429 of limit `name`: `Retry-After` in whole seconds, at least 1, and the
/// JSON error naming the limit.
async fn expect_limited(response: reqwest::Response, name: &str) {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("whole seconds");
    assert!(retry_after >= 1, "Retry-After {retry_after}");
    assert!(
        response.headers().get("set-cookie").is_none(),
        "no voter issued"
    );
    let body = expect_error(response, 429, ErrorCode::RateLimited).await;
    let message = body.error.message;
    assert!(message.contains(&format!("rate limit {name}")), "{message}");
}

/// A socket the node upgraded but refused: its `error` code and its close code.
async fn refused_socket(app: &TestApp) -> (ErrorCode, u16) {
    let url = app.url("/ws").replace("http://", "ws://");
    let (stream, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the upgrade succeeds");
    let mut socket = WsClient::upgraded(stream);
    let code = match socket.recv().await {
        ServerMessage::Error { code, .. } => code,
        other => panic!("expected an error, got {other:?}"),
    };
    (code, socket.recv_close().await)
}

/// The value of `votewire_rate_limited_total` for `limit`.
async fn refusals(app: &TestApp, limit: &str) -> u64 {
    let series = format!("votewire_rate_limited_total{{limit=\"{limit}\"}} ");
    let metrics = app.metrics().await;
    let line = metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"));
    line.parse().unwrap()
}

/// Checks that no limit refused anything.
async fn nothing_refused(app: &TestApp) {
    for limit in [
        "voters",
        "votes",
        "polls",
        "ws_connects",
        "connections_per_address",
    ] {
        assert_eq!(refusals(app, limit).await, 0, "{limit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_class_of_two_hundred_behind_one_address_all_watch_get_a_voter_and_vote_on_the_defaults()
{
    let app = Arc::new(spawn_app().await);
    let poll = app.new_poll("Lunch?", &["pizza", "salad"]).await;
    let mut sockets = Vec::new();
    for _ in 0..CLASS {
        sockets.push(app.ws().await);
    }
    let mut students = Vec::new();
    for student in 0..CLASS {
        let (app, poll) = (app.clone(), poll.clone());
        students.push(tokio::spawn(async move {
            let voter = app.new_voter().await;
            let response = app.vote(&poll, &voter, (student % 2) as u32).await;
            assert_eq!(response.status(), 200, "student {student}");
            response.json::<VoteResponse>().await.unwrap().tally.version
        }));
    }
    for student in students {
        student.await.unwrap();
    }
    let view = app.get_poll(&poll).await;
    assert_eq!(view.tally.total, CLASS as u64);
    assert_eq!(view.tally.counts, [100, 100]);
    assert_eq!(app.recount(&poll, 2).await, [100, 100]);
    nothing_refused(&app).await;
}

#[tokio::test]
async fn a_script_minting_past_the_burst_is_refused_with_retry_after_and_gets_no_voter() {
    let app = spawn_app().await;
    let started = Instant::now();
    let mut minted = 0u64;
    let refused = loop {
        let response = mint(&app, None).await;
        if response.status() != 201 {
            break response;
        }
        minted += 1;
        assert!(minted <= 1000, "a script minted {minted} voters unrefused");
    };
    // The burst of 200, plus the 300 a minute that came back while it was minted.
    let refilled = (started.elapsed().as_secs_f64() * 5.0).ceil() as u64;
    assert!(
        (200..=200 + refilled).contains(&minted),
        "minted {minted}, refilled {refilled}"
    );
    expect_limited(refused, "voters").await;
    assert_eq!(refusals(&app, "voters").await, 1);
}

#[tokio::test]
async fn votes_polls_and_websocket_connections_each_refuse_past_their_bucket_counting_nothing() {
    let app = spawn_app_with(small_limits).await;
    let poll = app.new_poll("One?", &["a", "b"]).await;
    let voter = app.new_voter().await;
    // Three votes (a vote, a change, a change back), then the bucket is empty.
    for option in [0, 1, 0] {
        assert_eq!(app.vote(&poll, &voter, option).await.status(), 200);
    }
    expect_limited(app.vote(&poll, &voter, 1).await, "votes").await;
    let withdraw = app
        .http
        .delete(app.url(&format!("/api/polls/{poll}/votes")))
        .header("authorization", format!("Voter {voter}"));
    expect_limited(app.send(withdraw).await, "votes").await;
    let view = app.get_poll(&poll).await;
    assert_eq!((view.tally.version, view.tally.counts), (3, vec![1, 0]));

    app.new_poll("Two?", &["a", "b"]).await;
    let third = serde_json::json!({ "question": "Three?", "options": ["a", "b"] });
    expect_limited(app.post("/api/polls", &third).await, "polls").await;
    let list: serde_json::Value = app.get_json("/api/polls").await;
    assert_eq!(list["polls"].as_array().unwrap().len(), 2, "{list}");

    let _first = app.ws().await;
    let _second = app.ws().await;
    assert_eq!(refused_socket(&app).await, (ErrorCode::RateLimited, 1013));
    assert_eq!(refusals(&app, "votes").await, 2);
    assert_eq!(refusals(&app, "polls").await, 1);
    assert_eq!(refusals(&app, "ws_connects").await, 1);
}

#[tokio::test]
async fn sockets_past_the_per_address_cap_are_refused_until_one_closes() {
    let app = spawn_app_with(|s| s.abuse.max_connections_per_address = 2).await;
    let mut first = app.ws().await;
    let _second = app.ws().await;
    assert_eq!(refused_socket(&app).await, (ErrorCode::RateLimited, 1013));
    assert_eq!(refusals(&app, "connections_per_address").await, 1);
    first.stream.close(None).await.unwrap();
    // The place is given back when the session has ended, which the node counts.
    eventually(EVENT_TIMEOUT, || async {
        let metrics = app.metrics().await;
        match metrics.lines().any(|line| line == "votewire_sockets 1") {
            true => Ok(()),
            false => Err("the closed socket is still counted".to_owned()),
        }
    })
    .await;
    let _third = app.ws().await;
}

#[tokio::test]
async fn an_exempt_address_passes_every_limit() {
    let app = spawn_app_with(|s| {
        small_limits(s);
        s.abuse.max_connections_per_address = 1;
        exempt_loopback(s);
    })
    .await;
    let poll = app.new_poll("Load?", &["a", "b"]).await;
    for _ in 0..5 {
        app.new_poll("More?", &["a", "b"]).await;
    }
    let voters = app.new_voters(10).await;
    for (i, voter) in voters.iter().enumerate() {
        assert_eq!(app.vote(&poll, voter, (i % 2) as u32).await.status(), 200);
    }
    let mut sockets = Vec::new();
    for _ in 0..5 {
        sockets.push(app.ws().await);
    }
    assert_eq!(app.get_poll(&poll).await.tally.total, 10);
    nothing_refused(&app).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let proxied = spawn_app_with(|s| {
        s.abuse.voters = tiny(2);
        s.abuse.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    for _ in 0..2 {
        assert_eq!(mint(&proxied, Some("198.51.100.1")).await.status(), 201);
    }
    expect_limited(mint(&proxied, Some("198.51.100.1")).await, "voters").await;
    // What the client wrote itself, left of what the proxy appended, changes nothing.
    let spoofed = mint(&proxied, Some("203.0.113.50, 198.51.100.1")).await;
    expect_limited(spoofed, "voters").await;
    assert_eq!(mint(&proxied, Some("198.51.100.2")).await.status(), 201);
    assert_eq!(mint(&proxied, None).await.status(), 201, "the proxy's own");
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let direct = spawn_app_with(|s| s.abuse.voters = tiny(2)).await;
    assert_eq!(mint(&direct, Some("198.51.100.1")).await.status(), 201);
    assert_eq!(mint(&direct, Some("198.51.100.2")).await.status(), 201);
    expect_limited(mint(&direct, Some("198.51.100.3")).await, "voters").await;
}
