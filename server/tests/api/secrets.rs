//! A node that cannot start says why without the password of the URL it was given.

use votewire_server::{Node, Settings, Shutdown};
use votewire_testkit::TempDir;

#[tokio::test]
async fn a_bad_redis_url_is_refused_without_its_password() {
    let dir = TempDir::new("secrets");
    let mut settings = Settings::for_data_dir(&dir.0, "node-a");
    settings.redis_url = Some("redis://:s3cret-pw@cache:not-a-port/0".into());
    let refused = Node::build(settings, Shutdown::new())
        .await
        .err()
        .expect("the node refuses to start")
        .to_string();
    assert!(refused.contains("Redis"), "{refused}");
    assert!(!refused.contains("s3cret-pw"), "{refused}");
}

#[tokio::test]
async fn a_bad_database_url_is_refused_without_its_password() {
    let dir = TempDir::new("secrets");
    let mut settings = Settings::for_data_dir(&dir.0, "node-a");
    settings.database_url = "oracle://app:s3cret-pw@db/votewire".into();
    let refused = Node::build(settings, Shutdown::new())
        .await
        .err()
        .expect("the node refuses to start")
        .to_string();
    assert!(refused.contains("unsupported database URL"), "{refused}");
    assert!(!refused.contains("s3cret-pw"), "{refused}");
}
