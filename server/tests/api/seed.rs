//! `votewire seed` against a real node: the demo polls are created through the API and
//! the votes it reports are the ones the node counted.

use votewire_proto::{PollList, PollView};
use votewire_server::seed::{self, SeedPlan};
use votewire_testkit::spawn_app;

#[tokio::test]
async fn seeding_creates_the_demo_polls_and_the_node_counts_its_votes() {
    let app = spawn_app().await;
    let plan = SeedPlan {
        url: app.url(""),
        polls: 3,
        votes_per_sec: 500.0,
        votes: Some(60),
        duration: None,
        voters: 20,
    };
    let mut announced = Vec::new();
    let report = seed::run(&plan, std::future::pending(), |poll| {
        announced.push(poll.clone())
    })
    .await
    .expect("seeding succeeds");
    assert_eq!(report.votes, 60);
    assert_eq!(announced, report.polls);
    let list: PollList = app.get("/api/polls").await.json().await.unwrap();
    assert_eq!(list.polls.len(), 3);
    let mut total = 0;
    for poll in &report.polls {
        let view: PollView = app
            .get(&format!("/api/join/{}", poll.join_code))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(view.poll.id.as_str(), poll.id);
        total += view.tally.total;
    }
    // 20 voters, each standing in the polls they voted in: what the node counts.
    assert_eq!(total as usize, report.standing);
    assert!((20..=60).contains(&report.standing), "{}", report.standing);
}

#[tokio::test]
async fn seeding_a_node_that_is_not_there_fails_with_a_clear_error() {
    let plan = SeedPlan {
        url: "http://127.0.0.1:9".into(),
        polls: 1,
        votes_per_sec: 1.0,
        votes: Some(1),
        duration: None,
        voters: 1,
    };
    let error = seed::run(&plan, std::future::pending(), |_| {})
        .await
        .unwrap_err();
    assert!(error.contains("cannot reach http://127.0.0.1:9"), "{error}");
}
