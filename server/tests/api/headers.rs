//! Every response carries the security headers, pages and API answers alike, and the
//! policy's frame-ancestors follows `--frame-ancestors`.

use votewire_testkit::{spawn_app, spawn_app_with};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for (path, status) in [
        ("/", 200),
        ("/api/polls", 200),
        ("/api/nope", 404),
        ("/healthz", 200),
        ("/metrics", 200),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'self'"), "{path}: {policy}");
        assert!(
            policy.ends_with("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
    }
}

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
