//! A Redis Cluster of the test's own: three masters and a replica each, on free ports
//! in a temporary folder, slots spread by `redis-cli --cluster create`. A master can
//! be restarted (it comes back on its port with its slots: its `nodes.conf` stays) or
//! failed over to its replica, by a kill (the replica is elected) or by
//! `CLUSTER FAILOVER` (the maintenance kind: the old master lives on as a replica).
//!
//! Replicas start with `cluster-replica-no-failover`, so a restart stays a restart;
//! a failover lifts it on the one replica that is to take over.

use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::cluster_nodes;
use crate::dirs::{TempDir, free_port};

const MASTERS: usize = 3;
/// Milliseconds without an answer before a master counts as failed.
const NODE_TIMEOUT_MS: &str = "2000";

/// How a master hands its slots to its replica.
#[derive(Clone, Copy, Debug)]
pub enum Failover {
    /// The master is killed and stays down; its replica is elected.
    Kill,
    /// `CLUSTER FAILOVER` on the replica; the master becomes its replica.
    Manual,
}

pub struct RedisCluster {
    /// Every server's port: the masters first, then a replica for each.
    pub ports: Vec<u16>,
    children: Vec<Option<Child>>,
    dir: TempDir,
}

impl RedisCluster {
    /// Starts the servers, joins them and waits until the cluster says `ok`.
    pub async fn start() -> RedisCluster {
        let dir = TempDir::new("redis-cluster");
        let servers = MASTERS * 2;
        let ports: Vec<u16> = (0..servers).map(|_| free_port()).collect();
        let mut cluster = RedisCluster {
            ports,
            children: (0..servers).map(|_| None).collect(),
            dir,
        };
        for i in 0..servers {
            cluster.start_server(i).await;
        }
        let addresses: Vec<String> = cluster
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        // The first MASTERS addresses become the masters.
        let created = StdCommand::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            created.status.success(),
            "redis-cli --cluster create: {created:?}"
        );
        cluster.wait_ok().await;
        cluster
    }

    /// The URL of the cluster for fred: one seed and the others as `node=` parameters.
    pub fn url(&self) -> String {
        let others: Vec<String> = self.ports[1..]
            .iter()
            .map(|port| format!("node=127.0.0.1:{port}"))
            .collect();
        format!(
            "redis-cluster://127.0.0.1:{}?{}",
            self.ports[0],
            others.join("&")
        )
    }

    /// `redis-cli -c -p PORT ARGS` (following redirections to the slot's master),
    /// trimmed.
    pub fn cli(&self, port: u16, args: &[&str]) -> String {
        let output = StdCommand::new("redis-cli")
            .args(["-c", "-h", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// The port of the master that holds `key`'s slot, as a running server sees it.
    pub fn master_of(&self, key: &str) -> u16 {
        let asked = self.any_running();
        let slot: u16 = self
            .cli(asked, &["CLUSTER", "KEYSLOT", key])
            .parse()
            .expect("a slot number");
        let nodes = self.cli(asked, &["CLUSTER", "NODES"]);
        match cluster_nodes::shard(&cluster_nodes::parse(&nodes), slot) {
            (Some(master), _) => master.port,
            (None, _) => panic!("no master holds slot {slot}:\n{nodes}"),
        }
    }

    /// Kills the server on `port` and starts it again there, waiting until the cluster
    /// is `ok` again.
    pub async fn restart(&mut self, port: u16) {
        let i = self.index(port);
        if let Some(mut child) = self.children[i].take() {
            child.kill().await.expect("the server is killed");
        }
        self.start_server(i).await;
        self.wait_ok().await;
        self.wait_replicas_in_sync().await;
    }

    /// Hands the slots of the master on `port` to its replica, `how`; answers the
    /// replica's port once it serves them and the cluster is `ok`.
    pub async fn fail_over(&mut self, port: u16, how: Failover) -> u16 {
        let replica = self.replica_of(port).await;
        self.wait_replicas_in_sync().await;
        let no_failover = ["CONFIG", "SET", "cluster-replica-no-failover"];
        assert_eq!(
            self.cli(replica, &[&no_failover[..], &["no"]].concat()),
            "OK"
        );
        match how {
            Failover::Kill => {
                let i = self.index(port);
                let mut child = self.children[i].take().expect("the master runs");
                child.kill().await.expect("the master is killed");
            }
            Failover::Manual => {
                assert_eq!(self.cli(replica, &["CLUSTER", "FAILOVER"]), "OK");
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.cli(replica, &["ROLE"]).starts_with("master") {
            assert!(
                Instant::now() < deadline,
                "the replica on {replica} did not take over from {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.cli(replica, &[&no_failover[..], &["yes"]].concat());
        self.wait_ok().await;
        self.wait_everyone_sees_master(replica).await;
        replica
    }

    /// Waits until every running server's CLUSTER NODES shows `port` as a master with
    /// slots: `cluster_state:ok` comes before the news of a failover has reached every
    /// server by gossip, and a test asking one of them who holds a slot would be told
    /// the old master.
    async fn wait_everyone_sees_master(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let running: Vec<u16> = self
            .ports
            .iter()
            .zip(&self.children)
            .filter(|(_, child)| child.is_some())
            .map(|(&port, _)| port)
            .collect();
        while !running.iter().all(|&asked| {
            let nodes = cluster_nodes::parse(&self.cli(asked, &["CLUSTER", "NODES"]));
            nodes
                .iter()
                .any(|n| n.port == port && n.master && !n.slots.is_empty())
        }) {
            assert!(
                Instant::now() < deadline,
                "not every server sees {port} as a master"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The port of a replica of the master on `port`, once the cluster shows one: right
    /// after a failover the old master turns into the new one's replica a moment later.
    async fn replica_of(&self, port: u16) -> u16 {
        let id = self.cli(port, &["CLUSTER", "MYID"]);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let nodes = self.cli(port, &["CLUSTER", "NODES"]);
            if let Some(replica) = cluster_nodes::replica(&cluster_nodes::parse(&nodes), &id) {
                return replica.port;
            }
            assert!(
                Instant::now() < deadline,
                "the master on {port} ({id}) has no replica:\n{nodes}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every running replica's link to its master is up: a master restarted
    /// without persistence makes its replica sync again (after the diskless-sync delay),
    /// and a manual failover asked meanwhile would time out.
    async fn wait_replicas_in_sync(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for (&port, child) in self.ports.iter().zip(&self.children) {
            if child.is_none() || !self.cli(port, &["ROLE"]).starts_with("slave") {
                continue;
            }
            while !self
                .cli(port, &["INFO", "replication"])
                .lines()
                .any(|line| line.trim() == "master_link_status:up")
            {
                assert!(
                    Instant::now() < deadline,
                    "the replica on {port} does not sync"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    fn index(&self, port: u16) -> usize {
        self.ports
            .iter()
            .position(|&p| p == port)
            .unwrap_or_else(|| panic!("no server of the cluster on {port}"))
    }

    fn any_running(&self) -> u16 {
        let i = self
            .children
            .iter()
            .position(Option::is_some)
            .expect("a server of the cluster runs");
        self.ports[i]
    }

    async fn start_server(&mut self, i: usize) {
        let port = self.ports[i];
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--cluster-enabled", "yes"])
            .args(["--cluster-node-timeout", NODE_TIMEOUT_MS])
            .args(["--cluster-replica-no-failover", "yes"])
            .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir.0)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed");
        self.children[i] = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(port, &["PING"]) != "PONG" {
            assert!(
                Instant::now() < deadline,
                "server {i} did not start on {port}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until every running server says the cluster is `ok` (every slot served).
    async fn wait_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = self
                .ports
                .iter()
                .zip(&self.children)
                .filter(|(_, child)| child.is_some())
                .all(|(&port, _)| {
                    self.cli(port, &["CLUSTER", "INFO"])
                        .lines()
                        .any(|line| line.trim() == "cluster_state:ok")
                });
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "the Redis Cluster is not ok");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
