//! A Redis Cluster of the test's own: three masters (no replicas) on free ports in a
//! temporary folder, slots spread by `redis-cli --cluster create`. A master can be
//! restarted: it comes back on its port with its slots (its `nodes.conf` stays).

use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::dirs::TempDir;

const MASTERS: usize = 3;

pub struct RedisCluster {
    pub ports: Vec<u16>,
    children: Vec<Option<Child>>,
    dir: TempDir,
}

impl RedisCluster {
    /// Starts the masters, joins them and waits until the cluster says `ok`.
    pub async fn start() -> RedisCluster {
        let dir = TempDir::new("redis-cluster");
        let ports: Vec<u16> = (0..MASTERS)
            .map(|_| {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
                listener.local_addr().expect("a bound address").port()
            })
            .collect();
        let mut cluster = RedisCluster {
            ports,
            children: (0..MASTERS).map(|_| None).collect(),
            dir,
        };
        for i in 0..MASTERS {
            cluster.start_master(i).await;
        }
        let addresses: Vec<String> = cluster
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let created = StdCommand::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
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

    /// The port of the master that holds `key`'s slot.
    pub fn master_of(&self, key: &str) -> u16 {
        let slot: u16 = self
            .cli(self.ports[0], &["CLUSTER", "KEYSLOT", key])
            .parse()
            .expect("a slot number");
        // `CLUSTER SLOTS`, as redis-cli prints it: a block per range (first slot, last
        // slot, the master's host, port and id), blocks apart by an empty line.
        let slots = self.cli(self.ports[0], &["CLUSTER", "SLOTS"]);
        for block in slots.split("\n\n") {
            let lines: Vec<&str> = block.lines().map(str::trim).collect();
            let number = |i: usize| lines.get(i).and_then(|l| l.parse::<u16>().ok());
            if let (Some(first), Some(last), Some(port)) = (number(0), number(1), number(3))
                && (first..=last).contains(&slot)
            {
                return port;
            }
        }
        panic!("no master holds slot {slot}: {slots}");
    }

    /// Kills master `i` and starts it again on its port, waiting until the cluster is
    /// `ok` again.
    pub async fn restart_master(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            child.kill().await.expect("the master is killed");
        }
        self.start_master(i).await;
        self.wait_ok().await;
    }

    async fn start_master(&mut self, i: usize) {
        let port = self.ports[i];
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])
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
                "master {i} did not start on {port}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until every master says the cluster is `ok` (every slot served).
    async fn wait_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = self.ports.iter().all(|&port| {
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
