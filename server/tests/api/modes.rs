//! Voting modes through a real node: an `invite` poll admits only holders of a code,
//! each code one voter; a `per_address` poll admits one voter per client address.

use serde_json::json;
use votewire_proto::{CreatedPoll, ErrorCode, InvitesMinted, VotingMode};
use votewire_testkit::{TestApp, spawn_app};

use crate::errors::expect_error;

async fn create(app: &TestApp, mode: &str) -> CreatedPoll {
    let body = json!({ "question": "Who?", "options": ["a", "b"], "mode": mode });
    let response = app.post("/api/polls", &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn mint(app: &TestApp, poll: &str, owner: Option<&str>, count: u32) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url(&format!("/api/polls/{poll}/invites")))
        .json(&json!({ "count": count }));
    if let Some(owner) = owner {
        request = request.bearer_auth(owner);
    }
    app.send(request).await
}

#[tokio::test]
async fn an_invite_poll_refuses_a_voter_without_a_code_and_accepts_each_code_once() {
    let app = spawn_app().await;
    let created = create(&app, "invite").await;
    assert_eq!(created.poll.mode, VotingMode::Invite);
    let poll = created.poll.id.to_string();
    let owner = created.owner_token.as_str();
    let (alice, bob, carol) = (
        app.new_voter().await,
        app.new_voter().await,
        app.new_voter().await,
    );

    let uninvited = app.vote_with(&poll, &alice, &json!({ "option": 0 })).await;
    expect_error(uninvited, 403, ErrorCode::InviteRequired).await;
    expect_error(
        mint(&app, &poll, None, 2).await,
        401,
        ErrorCode::OwnerTokenRequired,
    )
    .await;
    expect_error(
        mint(&app, &poll, Some(owner), 0).await,
        422,
        ErrorCode::InvalidBody,
    )
    .await;
    let minted = mint(&app, &poll, Some(owner), 2).await;
    assert_eq!(minted.status(), 201);
    let codes = minted.json::<InvitesMinted>().await.unwrap().codes;
    assert_eq!(codes.len(), 2);
    assert_ne!(codes[0], codes[1]);

    let first = app
        .vote_with(&poll, &alice, &json!({ "option": 0, "invite": codes[0] }))
        .await;
    assert_eq!(first.status(), 200);
    let reused = app
        .vote_with(&poll, &bob, &json!({ "option": 1, "invite": codes[0] }))
        .await;
    expect_error(reused, 403, ErrorCode::InviteInvalid).await;
    let made_up = app
        .vote_with(
            &poll,
            &carol,
            &json!({ "option": 1, "invite": "zzzzzzzzzz" }),
        )
        .await;
    expect_error(made_up, 403, ErrorCode::InviteInvalid).await;
    // Codes are typed by people: case and surrounding spaces do not matter.
    let typed = format!(" {} ", codes[1].to_uppercase());
    let second = app
        .vote_with(&poll, &bob, &json!({ "option": 1, "invite": typed }))
        .await;
    assert_eq!(second.status(), 200);
    // Once admitted, a voter changes its vote without the code.
    let changed = app.vote_with(&poll, &alice, &json!({ "option": 1 })).await;
    assert_eq!(changed.status(), 200);
    assert_eq!(app.recount(&poll, 2).await, vec![0, 2]);

    let open = create(&app, "open").await;
    let refused = mint(&app, &open.poll.id.to_string(), Some(&open.owner_token), 1).await;
    expect_error(refused, 409, ErrorCode::NotInviteOnly).await;
}

#[tokio::test]
async fn a_per_address_poll_admits_one_voter_per_address() {
    let app = spawn_app().await;
    let created = create(&app, "per_address").await;
    let poll = created.poll.id.to_string();
    let (first, second) = (app.new_voter().await, app.new_voter().await);
    assert_eq!(
        app.vote_with(&poll, &first, &json!({ "option": 0 }))
            .await
            .status(),
        200
    );
    let same_address = app.vote_with(&poll, &second, &json!({ "option": 1 })).await;
    expect_error(same_address, 403, ErrorCode::AddressAlreadyVoted).await;
    assert_eq!(
        app.vote_with(&poll, &first, &json!({ "option": 1 }))
            .await
            .status(),
        200
    );
    assert_eq!(app.recount(&poll, 2).await, vec![0, 1]);
    let view = app.get_poll(&poll).await;
    assert_eq!(view.poll.mode, VotingMode::PerAddress);

    let unknown = app
        .post(
            "/api/polls",
            &json!({ "question": "?", "options": ["a", "b"], "mode": "secret" }),
        )
        .await;
    expect_error(unknown, 422, ErrorCode::InvalidBody).await;
}
