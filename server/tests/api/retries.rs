//! Retried and reordered requests through a real node: a late vote with an older `seq`
//! never undoes a newer one and the answer says which choice stands; an
//! Idempotency-Key makes one poll however often the creation is sent.

use serde_json::{Value, json};
use votewire_proto::{CreatedPoll, ErrorCode, VoteResponse, WithdrawResponse};
use votewire_testkit::{TestApp, spawn_app};

use crate::errors::expect_error;

async fn vote(app: &TestApp, poll: &str, voter: &str, option: u32, seq: u64) -> VoteResponse {
    let request = app
        .http
        .post(app.url(&format!("/api/polls/{poll}/votes")))
        .header("authorization", format!("Voter {voter}"))
        .json(&json!({ "option": option, "seq": seq }));
    let response = app.send(request).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn create(app: &TestApp, key: Option<&str>, question: &str) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/api/polls"))
        .json(&json!({ "question": question, "options": ["a", "b"] }));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    app.send(request).await
}

#[tokio::test]
async fn a_late_retry_of_an_older_choice_is_answered_with_the_newer_one_and_counts_nothing() {
    let app = spawn_app().await;
    let poll = app.new_poll("Pick", &["a", "b", "c"]).await;
    let voter = app.new_voter().await;
    let a = vote(&app, &poll, &voter, 0, 100).await;
    assert!(!a.vote.superseded);
    assert_eq!((a.vote.choice, a.vote.seq), (Some(0), Some(100)));
    let b = vote(&app, &poll, &voter, 1, 200).await;
    assert_eq!(b.vote.choice, Some(1));
    // A's retry lands after B: nothing moves, and the answer names B.
    let late = vote(&app, &poll, &voter, 0, 100).await;
    assert!(late.vote.superseded);
    assert_eq!(late.vote.choice, Some(1));
    assert_eq!(late.tally.version, b.tally.version);
    assert_eq!(app.recount(&poll, 3).await, vec![0, 1, 0]);

    // A withdrawal with a seq, then an older vote: the voter stays withdrawn.
    let url = app.url(&format!("/api/polls/{poll}/votes?seq=300"));
    let withdrawn = app
        .send(
            app.http
                .delete(url)
                .header("authorization", format!("Voter {voter}")),
        )
        .await;
    let withdrawn: WithdrawResponse = withdrawn.json().await.unwrap();
    assert!(withdrawn.withdrawn && !withdrawn.superseded);
    let older = vote(&app, &poll, &voter, 2, 250).await;
    assert!(older.vote.superseded);
    assert_eq!(older.vote.choice, None);
    assert_eq!(app.recount(&poll, 3).await, vec![0, 0, 0]);

    // A seq that is not a number is a bad request, not a vote.
    let bad = app
        .http
        .post(app.url(&format!("/api/polls/{poll}/votes")))
        .header("authorization", format!("Voter {voter}"))
        .json(&json!({ "option": 0, "seq": -1 }));
    expect_error(app.send(bad).await, 422, ErrorCode::InvalidBody).await;
}

#[tokio::test]
async fn an_idempotency_key_makes_one_poll_and_answers_its_retries_with_it() {
    let app = spawn_app().await;
    let first = create(&app, Some("3f6e-retry-key"), "Same question?").await;
    assert_eq!(first.status(), 201);
    let first: CreatedPoll = first.json().await.unwrap();
    let again = create(&app, Some("3f6e-retry-key"), "Same question?").await;
    assert_eq!(again.status(), 201);
    let again: CreatedPoll = again.json().await.unwrap();
    assert_eq!(
        again.poll.id, first.poll.id,
        "the retry answers the same poll"
    );
    assert_eq!(again.owner_token, first.owner_token);
    let list: Value = app.get_json("/api/polls").await;
    let listed = list["polls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["poll"]["question"] == "Same question?")
        .count();
    assert_eq!(listed, 1, "one poll: {list}");

    let reused = create(&app, Some("3f6e-retry-key"), "Another question?").await;
    expect_error(reused, 422, ErrorCode::IdempotencyKeyReused).await;
    for bad in ["", &"k".repeat(256), "has space"] {
        let refused = create(&app, Some(bad), "Bad key?").await;
        expect_error(refused, 400, ErrorCode::InvalidIdempotencyKey).await;
    }
    // Without a key, two creations are two polls.
    let one: CreatedPoll = create(&app, None, "Keyless?").await.json().await.unwrap();
    let two: CreatedPoll = create(&app, None, "Keyless?").await.json().await.unwrap();
    assert_ne!(one.poll.id, two.poll.id);

    // Closing is idempotent by itself: the key is checked, both answers are the same.
    let close = |key: &'static str| {
        let url = app.url(&format!("/api/polls/{}/close", first.poll.id));
        app.http
            .post(url)
            .bearer_auth(&first.owner_token)
            .header("idempotency-key", key)
    };
    let closed: Value = app.send(close("close-1")).await.json().await.unwrap();
    let retried = app.send(close("close-1")).await;
    assert_eq!(retried.status(), 200);
    assert_eq!(retried.json::<Value>().await.unwrap(), closed);
    let bad_key = app.send(close("bad key")).await;
    expect_error(bad_key, 400, ErrorCode::InvalidIdempotencyKey).await;
}
