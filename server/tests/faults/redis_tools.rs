//! Talking to a cluster's Redis from a scenario: `redis-cli` for a command, one
//! pipelined connection for a flood of messages. Both sign in with the cluster's
//! password, which never goes on a command line.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use crate::cluster::{Cluster, REDIS_PASSWORD};

impl Cluster {
    /// `redis-cli` on the cluster's Redis (signed in; the password in the environment,
    /// as cluster.sh does): its answer, trimmed.
    pub async fn redis_cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.ports.redis.to_string()])
            .args(args)
            .env("REDISCLI_AUTH", REDIS_PASSWORD)
            .output()
            .await
            .expect("redis-cli runs");
        assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
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
