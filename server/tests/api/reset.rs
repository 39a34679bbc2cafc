//! Resetting a poll through a real node: for its owner only, open polls only, and the
//! sockets watching it are sent the emptied tally at a higher version.

use votewire_proto::{ErrorCode, PollView, ServerMessage};
use votewire_testkit::{TestApp, spawn_app};

use crate::errors::expect_error;

async fn reset(app: &TestApp, poll: &str, owner: &str) -> reqwest::Response {
    let url = app.url(&format!("/api/polls/{poll}/reset"));
    app.send(app.http.post(url).bearer_auth(owner)).await
}

#[tokio::test]
async fn the_owner_resets_an_open_poll_and_its_watchers_see_it_emptied() {
    let app = spawn_app().await;
    let created = app.create_poll("Again?", &["yes", "no"]).await;
    let other = app.create_poll("Other?", &["a", "b"]).await;
    let poll = created.poll.id.to_string();
    for (voter, option) in app.new_voters(3).await.iter().zip([0, 1, 1]) {
        assert_eq!(app.vote(&poll, voter, option).await.status(), 200);
    }
    let mut socket = app.ws().await;
    socket.subscribe(&poll, None).await;
    socket.recv().await;

    expect_error(
        reset(&app, &poll, &other.owner_token).await,
        403,
        ErrorCode::InvalidOwnerToken,
    )
    .await;
    let response = reset(&app, &poll, &created.owner_token).await;
    assert_eq!(response.status(), 200);
    let view: PollView = response.json().await.unwrap();
    assert_eq!(
        (view.tally.version, view.tally.counts.clone()),
        (4, vec![0, 0])
    );
    match socket.recv().await {
        ServerMessage::Update { tally, recent, .. } => {
            assert_eq!(tally, view.tally);
            assert!(recent.is_empty(), "a reset is no vote: {recent:?}");
        }
        other => panic!("expected the emptied tally, got {other:?}"),
    }
    assert_eq!(app.get_poll(&poll).await.tally, view.tally);

    assert_eq!(
        app.close_poll(&poll, &created.owner_token).await.status(),
        200
    );
    expect_error(
        reset(&app, &poll, &created.owner_token).await,
        409,
        ErrorCode::PollClosed,
    )
    .await;
}
