//! Anti-entropy on one node: a vote committed to the database that no one published
//! (another writer, as a node killed between its commit and its publish would leave
//! it) reaches the sockets watching the poll within the interval, and so does a close.

use std::time::{Duration, Instant};

use chrono::Utc;
use votewire_proto::{PollId, ServerMessage};
use votewire_server::store;
use votewire_testkit::votes::{VoteCommand, VoteOne};
use votewire_testkit::{EVENT_TIMEOUT, spawn_app_with, version_of};

const INTERVAL: Duration = Duration::from_millis(200);

#[tokio::test]
async fn a_commit_nobody_published_reaches_the_watchers_within_the_interval() {
    let app = spawn_app_with(|s| s.anti_entropy = INTERVAL).await;
    let poll = app.new_poll("healed?", &["yes", "no"]).await;
    let mut socket = app.ws().await;
    socket.subscribe(&poll, None).await;
    assert_eq!(version_of(&socket.recv().await), Some(0));

    // Another writer on the same database: it commits and publishes nothing.
    let url = format!("sqlite://{}", app.dir.0.join("votewire.db").display());
    let elsewhere = store::connect(&url).await.expect("a second store opens");
    let id = PollId::parse(poll.clone()).unwrap();
    let committed = elsewhere
        .vote(VoteCommand::now(&poll, "unpublished-voter", 1, "node-gone"))
        .await
        .expect("the vote commits");
    let started = Instant::now();
    let update = tokio::time::timeout(
        EVENT_TIMEOUT,
        socket.recv_until(|m| version_of(m) == Some(committed.tally.version)),
    )
    .await
    .expect("the socket is brought up to the database");
    let took = started.elapsed();
    // The interval, plus a second for a read and a frame on a loaded machine.
    assert!(
        took <= INTERVAL + Duration::from_secs(1),
        "healed after {took:?}, more than the interval ({INTERVAL:?}) allows"
    );
    assert_eq!(update.tally(), Some(&committed.tally));

    // A close no one published either: the socket learns the poll is closed.
    elsewhere
        .close(&id, Utc::now())
        .await
        .expect("the poll closes");
    let closed = tokio::time::timeout(
        EVENT_TIMEOUT,
        socket.recv_until(|m| matches!(m, ServerMessage::Closed { .. })),
    )
    .await;
    assert!(closed.is_ok(), "the socket never learned of the close");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("votewire_anti_entropy_repairs_total 2"),
        "{metrics}"
    );
    app.stop().await;
}
