//! Talking to a cluster's Redis from a scenario: `redis-cli` for a command, a Redis
//! Cluster's shards as its servers see them, one pipelined connection for a flood of
//! messages. Both sign in with the cluster's
//! password, which never goes on a command line.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

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
        // `<id> <ip:port@bus> <flags> <master id or -> <ping> <pong> <epoch> <link> <slots>...`
        let rows: Vec<Vec<&str>> = nodes.lines().map(|l| l.split(' ').collect()).collect();
        let port = |row: &[&str]| -> u16 {
            let address = row[1].split('@').next().expect("ip:port@bus");
            address.rsplit(':').next().unwrap().parse().expect("a port")
        };
        let flags = |row: &[&str]| row[2].split(',').map(str::to_owned).collect::<Vec<_>>();
        let up = |row: &[&str]| !flags(row).iter().any(|f| f == "fail" || f == "fail?");
        let serves = |range: &&str| match range.split_once('-') {
            Some((first, last)) => (first.parse().unwrap()..=last.parse().unwrap()).contains(&slot),
            None => range.parse() == Ok(slot),
        };
        let Some(master) = rows.iter().find(|row| {
            flags(row).iter().any(|f| f == "master") && up(row) && row[8..].iter().any(serves)
        }) else {
            return (None, None);
        };
        let replica = rows.iter().find(|row| row[3] == master[0] && up(row));
        (Some(port(master)), replica.map(|row| port(row)))
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
