//! Watching polls over the WebSocket.

use serde_json::json;
use votewire_proto::{ErrorCode, PollStatus, ServerMessage};

use votewire_testkit::{spawn_app, version_of};

#[tokio::test]
async fn two_sockets_on_a_poll_both_see_a_vote_with_the_tally_a_higher_version_and_the_node() {
    let app = spawn_app().await;
    let poll = app.new_poll("Pick", &["a", "b"]).await;
    let mut sockets = [app.ws().await, app.ws().await];
    for socket in &mut sockets {
        assert_eq!(socket.node, "node-a");
        socket.subscribe(&poll, None).await;
        let snapshot = socket.recv().await;
        assert!(
            matches!(&snapshot, ServerMessage::Snapshot { status: PollStatus::Open, tally, .. } if tally.version == 0)
        );
    }
    let voter = app.new_voter().await;
    assert_eq!(app.vote(&poll, &voter, 1).await.status(), 200);
    for socket in &mut sockets {
        match socket.recv().await {
            ServerMessage::Update {
                poll: p,
                tally,
                recent,
                skipped,
                ..
            } => {
                assert_eq!(p.as_str(), poll);
                assert_eq!(
                    (tally.version, tally.counts, tally.total),
                    (1, vec![0, 1], 1)
                );
                assert_eq!(recent.len(), 1);
                assert_eq!(
                    (recent[0].option, recent[0].node.as_str()),
                    (Some(1), "node-a")
                );
                assert_eq!(skipped, 0);
            }
            other => panic!("expected an update, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn subscribe_with_since_gets_no_snapshot_when_current_and_one_when_behind() {
    let app = spawn_app().await;
    let poll = app.new_poll("Pick", &["a", "b"]).await;
    for option in [0, 1, 1] {
        let voter = app.new_voter().await;
        app.vote(&poll, &voter, option).await;
    }
    let mut socket = app.ws().await;
    socket.subscribe(&poll, Some(3)).await;
    // A message with a known answer: if a snapshot had been sent, it would come first.
    socket.send_json(json!({ "type": "ping-me" })).await;
    assert!(matches!(
        socket.recv().await,
        ServerMessage::Error {
            code: ErrorCode::UnknownMessageType,
            ..
        }
    ));

    let mut behind = app.ws().await;
    behind.subscribe(&poll, Some(1)).await;
    match behind.recv().await {
        ServerMessage::Snapshot { tally, .. } => {
            assert_eq!((tally.version, tally.counts), (3, vec![1, 2]))
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unsubscribed_poll_sends_nothing_more() {
    let app = spawn_app().await;
    let first = app.new_poll("First", &["a", "b"]).await;
    let second = app.new_poll("Second", &["a", "b"]).await;
    let mut socket = app.ws().await;
    for poll in [&first, &second] {
        socket.subscribe(poll, None).await;
        socket.recv().await;
    }
    socket
        .send_json(json!({ "type": "unsubscribe", "poll": first }))
        .await;
    let voter = app.new_voter().await;
    // The unsubscribe is processed before the next message; the error proves it was read.
    socket.send_json(json!({ "type": "x" })).await;
    socket
        .recv_until(|m| matches!(m, ServerMessage::Error { .. }))
        .await;
    app.vote(&first, &voter, 0).await;
    app.vote(&second, &voter, 1).await;
    match socket.recv().await {
        ServerMessage::Update { poll, .. } => assert_eq!(poll.as_str(), second),
        other => panic!("expected the second poll's update, got {other:?}"),
    }
}

#[tokio::test]
async fn watchers_get_closed_when_the_owner_closes_the_poll() {
    let app = spawn_app().await;
    let created = app.create_poll("Pick", &["a", "b"]).await;
    let poll = created.poll.id.to_string();
    let mut socket = app.ws().await;
    socket.subscribe(&poll, None).await;
    socket.recv().await;
    let voter = app.new_voter().await;
    app.vote(&poll, &voter, 0).await;
    let response = app.close_poll(&poll, &created.owner_token).await;
    assert_eq!(response.status(), 200);
    let closed = socket
        .recv_until(|m| matches!(m, ServerMessage::Closed { .. }))
        .await;
    assert_eq!(version_of(&closed), Some(1));
}

#[tokio::test]
async fn a_poll_closes_by_itself_at_its_closing_time_and_refuses_later_votes() {
    let app = spawn_app().await;
    // Whole milliseconds, as the server keeps times: a closing time with a fraction of
    // a millisecond would be kept (and reached) up to a millisecond before this one.
    let in_a_moment = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let closes_at =
        chrono::DateTime::from_timestamp_millis(in_a_moment.timestamp_millis()).unwrap();
    let response = app
        .post(
            "/api/polls",
            &json!({ "question": "Quick", "options": ["a", "b"], "closes_at": closes_at }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let poll = response
        .json::<votewire_proto::CreatedPoll>()
        .await
        .unwrap()
        .poll
        .id
        .to_string();
    let mut socket = app.ws().await;
    socket.subscribe(&poll, None).await;
    socket.recv().await;
    let voter = app.new_voter().await;
    assert_eq!(app.vote(&poll, &voter, 1).await.status(), 200);
    let closed = socket
        .recv_until(|m| matches!(m, ServerMessage::Closed { .. }))
        .await;
    assert!(
        chrono::Utc::now() >= closes_at,
        "closed is sent at the closing time, not before"
    );
    assert_eq!(version_of(&closed), Some(1));
    let late = app.vote(&poll, &voter, 0).await;
    assert_eq!(late.status(), 409);
    assert_eq!(app.get_poll(&poll).await.poll.status, PollStatus::Closed);
}
