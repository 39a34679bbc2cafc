//! Resetting, pausing and resuming a poll through a real node: for its owner only, open
//! polls only, and the sockets watching it are sent each change at a higher version.

use votewire_proto::{ErrorCode, PollStatus, PollView, ServerMessage};
use votewire_testkit::{TestApp, spawn_app};

use crate::errors::expect_error;

/// The owner's `action` (`reset`, `pause`, `resume`) on `poll`, with the token `owner`.
async fn control(app: &TestApp, poll: &str, owner: &str, action: &str) -> reqwest::Response {
    let url = app.url(&format!("/api/polls/{poll}/{action}"));
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
        control(&app, &poll, &other.owner_token, "reset").await,
        403,
        ErrorCode::InvalidOwnerToken,
    )
    .await;
    let response = control(&app, &poll, &created.owner_token, "reset").await;
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
        control(&app, &poll, &created.owner_token, "reset").await,
        409,
        ErrorCode::PollClosed,
    )
    .await;
}

#[tokio::test]
async fn the_owner_pauses_and_resumes_and_watchers_are_told_each_time() {
    let app = spawn_app().await;
    let created = app.create_poll("Wait?", &["yes", "no"]).await;
    let (poll, owner) = (created.poll.id.to_string(), created.owner_token);
    let voters = app.new_voters(2).await;
    let mut socket = app.ws().await;
    socket.subscribe(&poll, None).await;
    socket.recv().await;

    let paused: PollView = control(&app, &poll, &owner, "pause")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paused.poll.status, PollStatus::Paused);
    match socket.recv().await {
        ServerMessage::Update { status, tally, .. } => {
            assert_eq!((status, tally.version), (Some(PollStatus::Paused), 1));
        }
        other => panic!("expected the paused update, got {other:?}"),
    }
    expect_error(
        app.vote(&poll, &voters[0], 0).await,
        409,
        ErrorCode::PollPaused,
    )
    .await;
    assert_eq!(app.get_poll(&poll).await.poll.status, PollStatus::Paused);

    let resumed: PollView = control(&app, &poll, &owner, "resume")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (resumed.poll.status, resumed.tally.version),
        (PollStatus::Open, 2)
    );
    match socket.recv().await {
        ServerMessage::Update { status, tally, .. } => {
            assert_eq!((status, tally.version), (None, 2))
        }
        other => panic!("expected the resumed update, got {other:?}"),
    }
    assert_eq!(app.vote(&poll, &voters[0], 0).await.status(), 200);
    expect_error(
        control(&app, &poll, "not-the-owner", "pause").await,
        403,
        ErrorCode::InvalidOwnerToken,
    )
    .await;
}

#[tokio::test]
async fn the_owner_reopens_a_closed_poll_and_its_watchers_see_it_open_at_a_newer_version() {
    let app = spawn_app().await;
    let created = app.create_poll("Again?", &["yes", "no"]).await;
    let (poll, owner) = (created.poll.id.to_string(), created.owner_token);
    let voters = app.new_voters(2).await;
    assert_eq!(app.vote(&poll, &voters[0], 0).await.status(), 200);
    let mut socket = app.ws().await;
    socket.subscribe(&poll, None).await;
    socket.recv().await;
    assert_eq!(app.close_poll(&poll, &owner).await.status(), 200);
    assert!(matches!(socket.recv().await, ServerMessage::Closed { .. }));

    expect_error(
        control(&app, &poll, "not-the-owner", "reopen").await,
        403,
        ErrorCode::InvalidOwnerToken,
    )
    .await;
    let reopened: PollView = control(&app, &poll, &owner, "reopen")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            reopened.poll.status,
            reopened.poll.closed_at,
            reopened.tally.version
        ),
        (PollStatus::Open, None, 2)
    );
    match socket.recv().await {
        ServerMessage::Update { status, tally, .. } => {
            assert_eq!((status, tally.version), (None, 2))
        }
        other => panic!("expected the reopened poll, got {other:?}"),
    }
    assert_eq!(app.vote(&poll, &voters[1], 1).await.status(), 200);
    assert_eq!(app.get_poll(&poll).await.tally.counts, vec![1, 1]);
}
