//! Multiple choice through a real node: a poll takes up to `max_choices` options per
//! vote, a vote sends them as a set, the receipt and the tally say what stands, and every
//! malformed or excessive choice is refused with its own code.

use serde_json::{Value, json};
use votewire_proto::{CreatedPoll, ErrorCode, ServerMessage};
use votewire_testkit::{TestApp, spawn_app, spawn_app_with};

use crate::errors::expect_error;

async fn create(app: &TestApp, body: Value) -> reqwest::Response {
    app.post("/api/polls", &body).await
}

#[tokio::test]
async fn a_vote_on_a_multiple_choice_poll_is_a_set_counted_once_per_option() {
    let app = spawn_app().await;
    let body = json!({ "question": "Which?", "options": ["a", "b", "c", "d"], "max_choices": 2 });
    let response = create(&app, body).await;
    assert_eq!(response.status(), 201);
    let created: CreatedPoll = response.json().await.unwrap();
    assert_eq!(created.poll.max_choices, 2);
    let poll = created.poll.id.to_string();
    let voters = app.new_voters(2).await;
    let mut socket = app.ws().await;
    socket.subscribe(&poll, None).await;
    socket.recv().await;

    let response = app
        .vote_with(&poll, &voters[0], &json!({ "options": [3, 1] }))
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["vote"]["options"], json!([1, 3]));
    assert_eq!(answer["vote"]["choices"], json!([1, 3]));
    assert_eq!(answer["tally"]["counts"], json!([0, 1, 0, 1]));
    assert_eq!(answer["tally"]["total"], json!(1));
    match socket.recv().await {
        ServerMessage::Update { tally, recent, .. } => {
            assert_eq!(tally.counts, vec![0, 1, 0, 1]);
            assert_eq!(
                (recent[0].option, recent[0].options.clone()),
                (Some(1), vec![1, 3])
            );
        }
        other => panic!("expected the vote's update, got {other:?}"),
    }
    // One option alone is a set of one; the voter's new set replaces the old.
    assert_eq!(app.vote(&poll, &voters[1], 1).await.status(), 200);
    let response = app
        .vote_with(&poll, &voters[0], &json!({ "options": [0] }))
        .await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["tally"]["counts"], json!([1, 1, 0, 0]));
    assert_eq!(answer["tally"]["total"], json!(2));
    assert_eq!(app.recount(&poll, 4).await, vec![1, 1, 0, 0]);

    for (body, code) in [
        (json!({ "options": [0, 1, 2] }), ErrorCode::TooManyChoices),
        (json!({ "options": [0, 9] }), ErrorCode::OptionOutOfRange),
        (json!({ "options": [1, 1] }), ErrorCode::InvalidBody),
        (json!({ "options": [] }), ErrorCode::InvalidBody),
        (
            json!({ "option": 1, "options": [1] }),
            ErrorCode::InvalidBody,
        ),
        (json!({}), ErrorCode::InvalidBody),
    ] {
        expect_error(app.vote_with(&poll, &voters[1], &body).await, 422, code).await;
    }
    assert_eq!(app.get_poll(&poll).await.tally.counts, vec![1, 1, 0, 0]);
}

#[tokio::test]
async fn max_choices_must_fit_the_options() {
    let app = spawn_app_with(|settings| settings.limits.max_options = 100).await;
    let options: Vec<String> = (0..64).map(|i| format!("option {i}")).collect();
    for body in [
        json!({ "question": "Q?", "options": ["a", "b"], "max_choices": 0 }),
        json!({ "question": "Q?", "options": ["a", "b"], "max_choices": 3 }),
        json!({ "question": "Q?", "options": options, "max_choices": 2 }),
    ] {
        expect_error(create(&app, body).await, 422, ErrorCode::InvalidMaxChoices).await;
    }
    let single = app.create_poll("One?", &["a", "b"]).await;
    assert_eq!(single.poll.max_choices, 1);
    let voter = app.new_voter().await;
    let two = json!({ "options": [0, 1] });
    let response = app.vote_with(single.poll.id.as_str(), &voter, &two).await;
    expect_error(response, 422, ErrorCode::TooManyChoices).await;
}
