//! `--admin-listen`: the node's internals (`/metrics`, `/api/cluster`) move off the
//! public listener.

use votewire_proto::ErrorCode;
use votewire_testkit::{spawn_app, spawn_app_with};

const INTERNAL: [&str; 2] = ["/metrics", "/api/cluster"];

#[tokio::test]
async fn with_an_admin_listener_metrics_and_the_cluster_are_served_there_only() {
    let app = spawn_app_with(|s| s.admin_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let admin = app.admin.as_ref().expect("an admin listener");
    for path in INTERNAL {
        assert_eq!(
            admin.get(path).await.status(),
            200,
            "{path} on the admin listener"
        );
        let public = app.get(path).await;
        assert_eq!(public.status(), 404, "{path} on the public listener");
        let body: serde_json::Value = public.json().await.unwrap();
        assert_eq!(
            body["error"]["code"],
            serde_json::json!(ErrorCode::NotFound)
        );
    }
    // The admin listener serves nothing else; the public one everything else.
    assert_eq!(admin.get("/api/polls").await.status(), 404);
    assert_eq!(app.get("/api/polls").await.status(), 200);
    assert!(app.internal().metrics().await.contains("votewire_sockets"));
}

#[tokio::test]
async fn without_one_they_stay_on_the_only_listener() {
    let app = spawn_app().await;
    assert!(app.admin.is_none());
    for path in INTERNAL {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}
