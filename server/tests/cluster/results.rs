//! Results that show a voter once they voted, over a cluster: the vote is taken by one
//! node and the voter's socket is on another, so what lets the socket see the counts
//! travels on the bus (the `votes` event names the poll's voters).

use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vote_on_one_node_lets_its_voters_socket_on_another_see_the_counts() {
    if !external_enabled("the Redis cluster tests") {
        return;
    }
    let redis = RedisServer::start().await;
    let db = postgres().await;
    let nodes = spawn_nodes(2, &db.url, &redis.url(), ANTI_ENTROPY).await;
    let body = json!({ "question": "Best?", "options": ["a", "b"], "results": "after_vote" });
    let response = nodes[0].post("/api/polls", &body).await;
    assert_eq!(response.status(), 201);
    let created: votewire_proto::CreatedPoll = response.json().await.unwrap();
    let poll = created.poll.id.to_string();
    let voters = nodes[0].new_voters(2).await;
    let (voter, stranger) = (&voters[0], &voters[1]);
    let mut voters_socket = nodes[1].ws_as(voter).await;
    let mut strangers_socket = nodes[1].ws_as(stranger).await;
    for socket in [&mut voters_socket, &mut strangers_socket] {
        socket.subscribe(&poll, None).await;
        socket.recv().await;
    }

    assert_eq!(nodes[0].vote(&poll, voter, 1).await.status(), 200);
    for (socket, counts) in [
        (&mut voters_socket, vec![0, 1]),
        (&mut strangers_socket, vec![]),
    ] {
        match socket.recv().await {
            ServerMessage::Update { tally, .. } => assert_eq!(tally.counts, counts),
            other => panic!("expected the vote's update, got {other:?}"),
        }
    }
    drop((voters_socket, strangers_socket));
    for node in nodes {
        node.stop().await;
    }
    db.drop_database().await;
}
