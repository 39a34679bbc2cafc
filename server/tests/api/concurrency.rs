//! Many voters at once: every tally ends equal to a recount of the votes table.

use std::sync::Arc;

use votewire_proto::{ServerMessage, VoteResponse};

use votewire_testkit::{exempt_loopback, spawn_app_with, version_of};

const VOTERS: usize = 400;
const TASKS: usize = 16;
const OPTIONS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_hundred_voters_voting_and_changing_from_sixteen_tasks_end_equal_to_a_recount() {
    // 400 voters and 800 votes from one address: load, past the abuse limits.
    let app = Arc::new(spawn_app_with(exempt_loopback).await);
    let options = ["a", "b", "c", "d"];
    let poll = app.new_poll("Busy", &options).await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let mut socket = app.ws().await;
        socket.subscribe(&poll, None).await;
        socket.recv().await;
        sockets.push(socket);
    }
    let voters = Arc::new(app.new_voters(VOTERS).await);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (app, poll, voters) = (app.clone(), poll.clone(), voters.clone());
        tasks.push(tokio::spawn(async move {
            let mut highest = 0;
            for (i, voter) in voters.iter().enumerate().skip(task).step_by(TASKS) {
                // Vote, then change the vote, so both paths race with the other tasks.
                for option in [i % OPTIONS, (i + 1) % OPTIONS] {
                    let response = app.vote(&poll, voter, option as u32).await;
                    assert_eq!(response.status(), 200);
                    highest =
                        highest.max(response.json::<VoteResponse>().await.unwrap().vote.version);
                }
            }
            highest
        }));
    }
    let mut final_version = 0;
    for task in tasks {
        final_version = final_version.max(task.await.unwrap());
    }
    assert_eq!(
        final_version,
        2 * VOTERS as u64,
        "every vote and change moved the version by one"
    );

    let recount = app.recount(&poll, OPTIONS).await;
    let expected: Vec<u64> = (0..OPTIONS)
        .map(|o| (0..VOTERS).filter(|i| (i + 1) % OPTIONS == o).count() as u64)
        .collect();
    assert_eq!(recount, expected);
    let view = app.get_poll(&poll).await;
    assert_eq!(view.tally.counts, recount);
    assert_eq!(view.tally.total, VOTERS as u64);
    for socket in &mut sockets {
        let mut last = 0;
        let message = socket
            .recv_until(|m| {
                let version = version_of(m).unwrap_or(0);
                assert!(version >= last, "a socket saw the version go down");
                last = version;
                version == final_version
            })
            .await;
        let ServerMessage::Update { tally, .. } = message else {
            panic!("expected an update")
        };
        assert_eq!(tally.counts, recount);
    }
}
