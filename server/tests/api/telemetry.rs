//! The control room's feed over the WebSocket: `watch_cluster` brings a `cluster`
//! message every two seconds with what the node measured (votes, frames, commit
//! latency, the bus), without addresses; `unwatch_cluster` stops it.

use serde_json::json;
use votewire_proto::{ClusterView, ServerMessage};
use votewire_testkit::spawn_app;
use votewire_testkit::ws::WsClient;

/// The next `cluster` message on `socket`, skipping the poll's frames.
async fn next_view(socket: &mut WsClient) -> ClusterView {
    match socket
        .recv_until(|m| matches!(m, ServerMessage::Cluster { .. }))
        .await
    {
        ServerMessage::Cluster { view } => view,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn the_cluster_feed_reports_votes_frames_and_commit_latency_then_stops_when_asked() {
    let app = spawn_app().await;
    let poll = app.new_poll("Watched?", &["a", "b"]).await;
    let mut watcher = app.ws().await;
    watcher.subscribe(&poll, None).await;
    watcher.recv().await;
    let mut room = app.ws().await;
    room.send_json(json!({ "type": "watch_cluster" })).await;
    let first = next_view(&mut room).await;
    let me = &first.nodes[0];
    assert_eq!(first.nodes.len(), 1);
    assert!(me.address.is_empty(), "no address on the public socket");
    assert!(me.bus_connected);

    let voter = app.new_voter().await;
    assert_eq!(app.vote(&poll, &voter, 1).await.status(), 200);
    watcher.recv().await;
    // The commit shows in the sample of the interval it fell in.
    loop {
        let view = next_view(&mut room).await;
        let node = &view.nodes[0];
        assert!(node.votes_handled <= 1);
        if let Some(commit) = node.commit_ms {
            assert_eq!((node.votes_handled, commit.commits), (1, 1));
            assert!(commit.p99 >= commit.p50 && commit.p50 > 0.0, "{commit:?}");
            assert!(node.frames_sent >= 1, "the update to the watcher");
            break;
        }
    }

    room.send_json(json!({ "type": "unwatch_cluster" })).await;
    room.subscribe(&poll, None).await;
    // A sample sent before the unwatch was handled may come first; none after it.
    room.recv_until(|m| matches!(m, ServerMessage::Snapshot { .. }))
        .await;
    assert_eq!(app.vote(&poll, &voter, 0).await.status(), 200);
    assert!(
        matches!(room.recv().await, ServerMessage::Update { .. }),
        "no sample after unwatch_cluster"
    );
}
