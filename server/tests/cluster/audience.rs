//! "N watching" over a cluster: each node counts its own sockets and tells the others
//! on the poll's channel; every socket, on any node, is told the sum, and it falls when
//! sockets leave.

use votewire_testkit::ws::WsClient;

use super::*;

/// Reads `socket`'s frames until one says `watching` = `count`.
async fn until_watching(socket: &mut WsClient, count: u64) {
    socket
        .recv_until_any(|message| {
            matches!(message, ServerMessage::Update { watching: Some(n), .. } if *n == count)
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_socket_is_told_how_many_watch_the_poll_over_every_node() {
    if !external_enabled("the Redis cluster tests") {
        return;
    }
    let redis = RedisServer::start().await;
    let db = postgres().await;
    let nodes = spawn_nodes(2, &db.url, &redis.url(), ANTI_ENTROPY).await;
    let poll = nodes[0].new_poll("Who is here?", &["me", "not me"]).await;
    let mut sockets = Vec::new();
    // Two sockets on node-1, three on node-2.
    for node in [0, 0, 1, 1, 1] {
        let mut socket = nodes[node].ws().await;
        socket.subscribe(&poll, None).await;
        socket.recv().await;
        sockets.push(socket);
    }
    for socket in &mut sockets {
        until_watching(socket, 5).await;
    }
    // Two of node-2's leave: node-2 tells the others it has one now.
    sockets.truncate(3);
    for socket in &mut sockets {
        until_watching(socket, 3).await;
    }
    // A vote's update carries the count too.
    let voter = nodes[1].new_voter().await;
    assert_eq!(nodes[1].vote(&poll, &voter, 0).await.status(), 200);
    match sockets[0].recv().await {
        ServerMessage::Update {
            tally, watching, ..
        } => {
            assert_eq!((tally.total, watching), (1, Some(3)));
        }
        other => panic!("expected the vote's update, got {other:?}"),
    }
    drop(sockets);
    for node in nodes {
        node.stop().await;
    }
    db.drop_database().await;
}
