//! A node started with `--replica`: reads through the replica, its lag on
//! `/api/cluster` and `/metrics`.

use std::time::Duration;

use votewire_proto::ClusterView;

use votewire_testkit::client::eventually;
use votewire_testkit::spawn_app_with;

#[tokio::test]
async fn a_node_with_a_replica_reports_its_lag_and_reads_its_own_votes() {
    // The primary's own file as its replica: in step, so it joins the read rotation.
    let app = spawn_app_with(|s| s.replica_urls = vec![s.database_url.clone()]).await;
    let metrics = eventually(Duration::from_secs(15), || async {
        let metrics = app.metrics().await;
        match metrics.contains("votewire_replica_healthy{replica=\"0\"} 1") {
            true => Ok(metrics),
            false => Err(format!("the replica has not joined: {metrics}")),
        }
    })
    .await;
    assert!(metrics.contains("votewire_replica_lag_seconds{replica=\"0\"}"));

    let created = app.create_poll("Replicated?", &["yes", "no"]).await;
    let voter = app.new_voter().await;
    assert_eq!(
        app.vote(created.poll.id.as_str(), &voter, 0).await.status(),
        200
    );
    let view = app.get_poll(created.poll.id.as_str()).await;
    assert_eq!((view.tally.version, view.tally.counts), (1, vec![1, 0]));

    let cluster: ClusterView = app.get_json("/api/cluster").await;
    let lags = &cluster.nodes[0].replica_lag_ms;
    assert_eq!(lags.len(), 1, "{cluster:?}");
    assert!(lags[0] < 5_000, "{cluster:?}");
    app.stop().await;
}
