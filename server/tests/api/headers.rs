//! The security headers' policy follows `--frame-ancestors`. (That every response
//! carries the headers is checked with the node's other per-response guarantees, in
//! `polls.rs`.)

use votewire_testkit::spawn_app_with;

#[tokio::test]
async fn the_pages_may_be_framed_by_the_sites_the_owner_names() {
    let app = spawn_app_with(|s| {
        s.frame_ancestors = vec!["'self'".into(), "https://intranet.example.com".into()];
    })
    .await;
    let response = app.get("/").await;
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        policy.ends_with("frame-ancestors 'self' https://intranet.example.com"),
        "{policy}"
    );
}
