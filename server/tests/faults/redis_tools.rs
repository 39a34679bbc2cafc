//! Talking to a cluster's Redis from a scenario: `redis-cli` for a command, a Redis
//! Cluster's shards as its servers see them, one pipelined connection for a flood of
//! messages. Both sign in with the cluster's
//! password, which never goes on a command line.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use votewire_testkit::cluster_nodes;

use crate::cluster::{Cluster, REDIS_PASSWORD};

impl Cluster {
    /// `redis-cli` on the cluster's Redis (signed in; the password in the environment,
    /// as cluster.sh does): its answer, trimmed.
    pub async fn redis_cli(&self, args: &[&str]) -> String {
        self.redis_cli_on(self.ports.redis, args).await
    }

    /// `redis-cli` on the Redis server listening on `port`.
    pub async fn redis_cli_on(&self, port: u16, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .env("REDISCLI_AUTH", REDIS_PASSWORD)
            .output()
            .await
            .expect("redis-cli runs");
        assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A Redis Cluster's server on `port`, as cluster.sh names it (`redis-1`...).
    pub fn redis_part(&self, port: u16) -> String {
        format!("redis-{}", port - self.ports.redis + 1)
    }

    /// The ports of a Redis Cluster's master that serves `key`'s slot and of a replica
    /// of it, as a running server of the cluster sees them (`CLUSTER NODES`): either may
    /// be missing during a failover (a failed master not yet replaced, an old master not
    /// yet turned into the new one's replica).
    pub async fn shard_of(&self, key: &str) -> (Option<u16>, Option<u16>) {
        let asked = (0..6)
            .map(|i| self.ports.redis + i)
            .find(|&port| self.pid(&self.redis_part(port)).is_some())
            .expect("a server of the Redis Cluster runs");
        let slot: u16 = self
            .redis_cli_on(asked, &["CLUSTER", "KEYSLOT", key])
            .await
            .parse()
            .expect("a slot number");
        let nodes = self.redis_cli_on(asked, &["CLUSTER", "NODES"]).await;
        let nodes = cluster_nodes::parse(&nodes);
        let (master, replica) = cluster_nodes::shard(&nodes, slot);
        (master.map(|m| m.port), replica.map(|r| r.port))
    }

    /// Publishes `count` messages of `size` bytes (not bus events) on the shard
    /// `channel`, pipelined on one connection, and waits for Redis to take them all.
    pub async fn redis_flood(&self, channel: &str, count: usize, size: usize) {
        let mut redis = tokio::net::TcpStream::connect(("127.0.0.1", self.ports.redis))
            .await
            .expect("Redis accepts a connection");
        let payload = "x".repeat(size);
        let mut commands = format!(
            "*2\r\n$4\r\nAUTH\r\n${}\r\n{REDIS_PASSWORD}\r\n",
            REDIS_PASSWORD.len()
        );
        for _ in 0..count {
            commands.push_str(&format!(
                "*3\r\n$8\r\nSPUBLISH\r\n${}\r\n{channel}\r\n${size}\r\n{payload}\r\n",
                channel.len()
            ));
        }
        let (mut reading, mut writing) = redis.split();
        let write = async {
            writing
                .write_all(commands.as_bytes())
                .await
                .expect("Redis reads the commands");
        };
        // One reply line per command: `+OK`, then `:N` receivers.
        let read = async {
            let (mut lines, mut buffer) = (0, [0u8; 4096]);
            while lines < count + 1 {
                let n = reading.read(&mut buffer).await.expect("Redis answers");
                assert!(n > 0, "Redis closed the flood's connection");
                lines += buffer[..n].iter().filter(|&&b| b == b'\n').count();
            }
        };
        tokio::join!(write, read);
    }
}
