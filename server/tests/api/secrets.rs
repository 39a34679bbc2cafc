//! A node that cannot start says why without the password of the URL it was given.

use votewire_server::{Node, Settings, Shutdown};
use votewire_testkit::TempDir;

/// Why a node with `configure`d settings refuses to start.
async fn refusal(configure: impl FnOnce(&mut Settings)) -> String {
    let dir = TempDir::new("secrets");
    let mut settings = Settings::for_data_dir(&dir.0, "node-a");
    configure(&mut settings);
    match Node::build(settings, Shutdown::new()).await {
        Ok(_) => panic!("the node started"),
        Err(refused) => refused.to_string(),
    }
}

#[tokio::test]
async fn bad_redis_and_database_urls_are_refused_without_their_passwords() {
    let redis =
        refusal(|s| s.redis_url = Some("redis://:s3cret-pw@cache:not-a-port/0".into())).await;
    assert!(redis.contains("Redis"), "{redis}");
    let database = refusal(|s| s.database_url = "oracle://app:s3cret-pw@db/votewire".into()).await;
    assert!(database.contains("unsupported database URL"), "{database}");
    for refused in [redis, database] {
        assert!(!refused.contains("s3cret-pw"), "{refused}");
    }
}
