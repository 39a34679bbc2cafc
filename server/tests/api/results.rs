//! Who sees a poll's counts, through a real node: every REST read and every socket
//! frame follows the poll's `results`, the owner always sees them, and a change by the
//! owner reaches every watcher.

use serde_json::json;
use votewire_proto::{
    CreatedPoll, ErrorCode, PollAudit, PollView, ResultsVisibility, ServerMessage, Tally,
};
use votewire_testkit::{TestApp, WsClient, spawn_app};

use crate::errors::expect_error;

async fn create(app: &TestApp, results: &str) -> CreatedPoll {
    let body = json!({ "question": "Secret?", "options": ["yes", "no"], "results": results });
    let response = app.post("/api/polls", &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// `GET /api/polls/{poll}` with `authorization`, if any: its tally.
async fn read_as(app: &TestApp, poll: &str, authorization: Option<String>) -> Tally {
    let mut request = app.http.get(app.url(&format!("/api/polls/{poll}")));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = app.send(request).await;
    assert_eq!(response.status(), 200);
    response.json::<PollView>().await.unwrap().tally
}

async fn set_results(app: &TestApp, poll: &str, owner: &str, results: &str) -> reqwest::Response {
    let request = app
        .http
        .post(app.url(&format!("/api/polls/{poll}/results")))
        .bearer_auth(owner)
        .json(&json!({ "results": results }));
    app.send(request).await
}

/// The counts of the next tally on `socket` (empty: hidden) and its recent votes.
async fn next_counts(socket: &mut WsClient) -> (Vec<u64>, usize) {
    match socket.recv().await {
        ServerMessage::Snapshot { tally, .. } | ServerMessage::Closed { tally, .. } => {
            (tally.counts, 0)
        }
        ServerMessage::Update { tally, recent, .. } => (tally.counts, recent.len()),
        other => panic!("expected a tally, got {other:?}"),
    }
}

#[tokio::test]
async fn an_after_vote_poll_shows_its_counts_to_voters_who_voted_and_to_its_owner() {
    let app = spawn_app().await;
    let created = create(&app, "after_vote").await;
    assert_eq!(created.poll.results, ResultsVisibility::AfterVote);
    let (poll, owner) = (created.poll.id.to_string(), created.owner_token);
    let voters = app.new_voters(2).await;
    let (alice, bob) = (&voters[0], &voters[1]);
    let mut bobs_socket = app.ws_as(bob).await;
    bobs_socket.subscribe(&poll, None).await;
    assert_eq!(next_counts(&mut bobs_socket).await, (vec![], 0));

    let response = app.vote(&poll, alice, 1).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        answer["tally"]["counts"],
        json!([0, 1]),
        "a voter sees them"
    );
    assert_eq!(
        next_counts(&mut bobs_socket).await,
        (vec![], 0),
        "no counts and no recent options before bob votes"
    );
    let hidden = read_as(&app, &poll, None).await;
    assert_eq!(
        (hidden.counts.len(), hidden.total),
        (0, 1),
        "the total shows"
    );
    assert!(
        read_as(&app, &poll, Some(format!("Voter {bob}")))
            .await
            .counts
            .is_empty()
    );
    let alices = read_as(&app, &poll, Some(format!("Voter {alice}"))).await;
    assert_eq!(alices.counts, vec![0, 1]);
    let owners = read_as(&app, &poll, Some(format!("Bearer {owner}"))).await;
    assert_eq!(owners.counts, vec![0, 1]);
    let other = app.create_poll("Other?", &["a", "b"]).await;
    let wrong = app.http.get(app.url(&format!("/api/polls/{poll}")));
    let wrong = wrong.bearer_auth(&other.owner_token);
    expect_error(app.send(wrong).await, 403, ErrorCode::InvalidOwnerToken).await;
    let audit: PollAudit = app.get_json(&format!("/api/polls/{poll}/audit")).await;
    assert_eq!((audit.tally.counts.len(), audit.nodes[0].votes), (0, 1));

    // Bob votes: his socket sees the counts from that update on.
    assert_eq!(app.vote(&poll, bob, 0).await.status(), 200);
    assert_eq!(next_counts(&mut bobs_socket).await, (vec![1, 1], 1));
    // A socket of alice's, who voted before it subscribed, sees them at once.
    let mut alices_socket = app.ws_as(alice).await;
    alices_socket.subscribe(&poll, None).await;
    assert_eq!(next_counts(&mut alices_socket).await.0, vec![1, 1]);
}

#[tokio::test]
async fn hidden_results_reach_the_owners_socket_only_until_the_owner_reveals_them() {
    let app = spawn_app().await;
    let created = create(&app, "hidden").await;
    let (poll, owner) = (created.poll.id.to_string(), created.owner_token);
    let voter = app.new_voter().await;
    let mut owners = app.ws().await;
    owners
        .send_json(json!({ "type": "subscribe", "poll": poll, "owner_token": owner }))
        .await;
    assert_eq!(next_counts(&mut owners).await, (vec![0, 0], 0));
    let mut voters = app.ws_as(&voter).await;
    voters.subscribe(&poll, None).await;
    next_counts(&mut voters).await;
    let other = app.create_poll("Other?", &["a", "b"]).await;
    let mut impostor = app.ws().await;
    let wrong = json!({ "type": "subscribe", "poll": poll, "owner_token": other.owner_token });
    impostor.send_json(wrong).await;
    match impostor.recv().await {
        ServerMessage::Error { code, .. } => assert_eq!(code, ErrorCode::InvalidOwnerToken),
        other => panic!("expected a refusal, got {other:?}"),
    }

    assert_eq!(app.vote(&poll, &voter, 0).await.status(), 200);
    assert_eq!(next_counts(&mut owners).await, (vec![1, 0], 1));
    assert_eq!(
        next_counts(&mut voters).await,
        (vec![], 0),
        "hidden even from voters"
    );
    assert_eq!(app.close_poll(&poll, &owner).await.status(), 200);
    assert_eq!(
        next_counts(&mut voters).await.0,
        Vec::<u64>::new(),
        "and after the close"
    );
    next_counts(&mut owners).await;

    expect_error(
        set_results(&app, &poll, &other.owner_token, "live").await,
        403,
        ErrorCode::InvalidOwnerToken,
    )
    .await;
    let bad = set_results(&app, &poll, &owner, "sometimes").await;
    assert_eq!(bad.status(), 422);
    let revealed = set_results(&app, &poll, &owner, "live").await;
    assert_eq!(revealed.status(), 200);
    let revealed: PollView = revealed.json().await.unwrap();
    assert_eq!(revealed.poll.results, ResultsVisibility::Live);
    assert_eq!(
        next_counts(&mut voters).await.0,
        vec![1, 0],
        "revealed to every watcher"
    );
    assert_eq!(read_as(&app, &poll, None).await.counts, vec![1, 0]);
}

#[tokio::test]
async fn after_close_results_show_to_everyone_with_the_close() {
    let app = spawn_app().await;
    let created = create(&app, "after_close").await;
    let (poll, owner) = (created.poll.id.to_string(), created.owner_token);
    let voter = app.new_voter().await;
    let mut socket = app.ws_as(&voter).await;
    socket.subscribe(&poll, None).await;
    next_counts(&mut socket).await;
    let response = app.vote(&poll, &voter, 1).await;
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        answer["tally"]["counts"],
        json!([]),
        "not even to the voter"
    );
    assert_eq!(next_counts(&mut socket).await, (vec![], 0));
    assert_eq!(app.close_poll(&poll, &owner).await.status(), 200);
    assert_eq!(next_counts(&mut socket).await.0, vec![0, 1]);
    assert_eq!(read_as(&app, &poll, None).await.counts, vec![0, 1]);
}
