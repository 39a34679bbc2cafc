//! A real local cluster started with `cluster/cluster.sh`: its own folder (mode 755, the
//! databases run as their own users) and its own block of ports, torn down with
//! `down --purge` when dropped, test failure or not.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use tokio::process::Command;

use votewire_testkit::TempDir;

use crate::api::Api;

/// The database the cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Mariadb,
    Postgres,
}

impl Db {
    pub fn name(self) -> &'static str {
        match self {
            Db::Mariadb => "mariadb",
            Db::Postgres => "postgres",
        }
    }
}

/// The Redis the cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redis {
    Single,
    /// Three masters with a replica each (`redis-1` to `redis-6`).
    Cluster,
}

/// First port of the blocks; scenario `k` takes 20 ports from `base + 20 * k`. Away from
/// a developer's cluster (8080, 16379, 13306-8, 15432-4, 18081-3, admin 18091-3) and the
/// CI's cluster-e2e (18180-18183, admin 18191-3, 16479, 13406-8). `VOTEWIRE_FAULTS_PORT_BASE` moves them all.
const DEFAULT_PORT_BASE: u16 = 19000;

/// Redis's password (`requirepass`), in the nodes' Redis URL.
pub const REDIS_PASSWORD: &str = "faults-redis-pw-7f3a";
/// The nodes' database password, in their database URLs.
const DB_PASSWORD: &str = "faults-db-pw-91c2";
/// Every password the cluster's parts are given (with cluster.sh's replication account's):
/// none may appear in any of their logs.
pub const SECRETS: [&str; 3] = [REDIS_PASSWORD, DB_PASSWORD, "votewire-repl"];
const PORTS_PER_BLOCK: u16 = 20;

/// The ports of one cluster.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub http: u16,
    /// node-1; node-2 and node-3 follow; their admin listeners 10 above.
    pub node: u16,
    /// The single Redis, or the first of a Redis Cluster's six servers (the others
    /// follow, after the admin listeners).
    pub redis: u16,
    /// The primary; the replicas follow.
    pub mariadb: u16,
    /// The primary; the replicas follow.
    pub postgres: u16,
}

impl Ports {
    pub fn block(k: u16, redis: Redis) -> Ports {
        let base = std::env::var("VOTEWIRE_FAULTS_PORT_BASE")
            .ok()
            .and_then(|v| v.parse::<u16>().ok())
            .unwrap_or(DEFAULT_PORT_BASE)
            + PORTS_PER_BLOCK * k;
        Ports {
            http: base,
            node: base + 1,
            redis: match redis {
                Redis::Single => base + 4,
                Redis::Cluster => base + 14,
            },
            mariadb: base + 5,
            postgres: base + 8,
        }
    }
}

/// Where `cluster.sh` is.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cluster/cluster.sh")
}

/// A running cluster; `down --purge` when dropped.
pub struct Cluster {
    pub db: Db,
    pub redis: Redis,
    /// `--ingest stream`, with two workers (on the ports a Redis Cluster would take).
    pub stream: bool,
    pub ports: Ports,
    name: String,
    // Declared last: dropped (deleted) after `Drop::drop` has stopped everything in it.
    dir: TempDir,
}

impl Cluster {
    /// Starts a cluster for scenario `k` (its port block) on `db`, waiting until every part
    /// works (what `cluster.sh up` waits for).
    pub async fn up(name: &str, k: u16, db: Db, redis: Redis) -> Cluster {
        Self::start(name, k, db, redis, false).await
    }

    /// [`Cluster::up`] with `--ingest stream` and two workers, on one Redis.
    pub async fn up_streamed(name: &str, k: u16, db: Db) -> Cluster {
        Self::start(name, k, db, Redis::Single, true).await
    }

    async fn start(name: &str, k: u16, db: Db, redis: Redis, stream: bool) -> Cluster {
        let dir = TempDir::new(&format!("faults-{name}"));
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let cluster = Cluster {
            db,
            redis,
            stream,
            ports: Ports::block(k, redis),
            name: name.to_owned(),
            dir,
        };
        let started = Instant::now();
        cluster.cluster_up().await;
        eprintln!(
            "[{name}] cluster up ({}, nginx {}, nodes {}-{}) in {:.1?}",
            db.name(),
            cluster.ports.http,
            cluster.ports.node,
            cluster.ports.node + 2,
            started.elapsed()
        );
        cluster
    }

    pub fn dir(&self) -> &Path {
        &self.dir.0
    }

    /// `cluster.sh` for this cluster: our folder, ports and binary, and none of the
    /// caller's other VOTEWIRE_* settings (they would reach the nodes).
    pub fn command(&self, args: &[&str]) -> StdCommand {
        let mut command = StdCommand::new("bash");
        command.arg(script()).args(args);
        for (key, _) in std::env::vars_os() {
            if let Some(key) = key.to_str()
                && key.starts_with("VOTEWIRE_")
                && key != "VOTEWIRE_PG_BIN"
            {
                command.env_remove(key);
            }
        }
        let p = self.ports;
        command
            .env("VOTEWIRE_CLUSTER_DIR", self.dir())
            .env("VOTEWIRE_BIN", env!("CARGO_BIN_EXE_votewire"))
            .env("VOTEWIRE_CLUSTER_HTTP_PORT", p.http.to_string())
            .env("VOTEWIRE_CLUSTER_NODE_PORT", p.node.to_string())
            .env("VOTEWIRE_CLUSTER_REDIS_PORT", p.redis.to_string())
            .env("VOTEWIRE_CLUSTER_WORKER_PORT", (p.http + 14).to_string())
            // A dead worker's votes are claimed after 3 s, not the shipped 15 s.
            .env(
                "VOTEWIRE_CLUSTER_WORKER_ARGS",
                "--ingest-claim-idle-ms 3000",
            )
            .env("VOTEWIRE_CLUSTER_MARIADB_PORT", p.mariadb.to_string())
            .env("VOTEWIRE_CLUSTER_POSTGRES_PORT", p.postgres.to_string())
            .env("VOTEWIRE_CLUSTER_TIMEOUT", "60")
            .env("VOTEWIRE_CLUSTER_REDIS_PASSWORD", REDIS_PASSWORD)
            .env("VOTEWIRE_CLUSTER_DB_PASSWORD", DB_PASSWORD)
            // The scenarios' load comes from loopback, one address playing many voters:
            // exempt from the abuse limits, as the benchmarks are.
            .env(
                "VOTEWIRE_CLUSTER_NODE_ARGS",
                "--rate-limit-exempt 127.0.0.0/8",
            )
            .stdin(std::process::Stdio::null());
        command
    }

    /// `cluster.sh up --db <db> --redis <kind> --ingest <mode>`: starts what is not running and waits
    /// until it all works.
    pub async fn cluster_up(&self) {
        let redis = match self.redis {
            Redis::Single => "single",
            Redis::Cluster => "cluster",
        };
        let ingest = if self.stream { "stream" } else { "direct" };
        let args = [
            "up",
            "--db",
            self.db.name(),
            "--redis",
            redis,
            "--ingest",
            ingest,
        ];
        let mut command = Command::from(self.command(&args));
        command.kill_on_drop(true);
        let output = tokio::time::timeout(Duration::from_secs(180), command.output())
            .await
            .unwrap_or_else(|_| panic!("[{}] cluster.sh up took over 180 s", self.name))
            .expect("bash runs cluster.sh");
        if std::env::var_os("VOTEWIRE_FAULTS_VERBOSE").is_some() {
            eprintln!(
                "[{}] cluster.sh up:\n{}{}",
                self.name,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        if !output.status.success() {
            panic!(
                "[{}] cluster.sh up failed ({}):\n{}\n{}",
                self.name,
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    pub fn nginx_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.http)
    }

    /// node `i` (1 to 3), directly.
    pub fn node_url(&self, i: u16) -> String {
        format!("http://127.0.0.1:{}", self.ports.node + i - 1)
    }

    pub fn node_urls(&self) -> Vec<String> {
        (1..=3).map(|i| self.node_url(i)).collect()
    }

    /// Each node directly, its /metrics read on its admin listener (`cluster.sh` puts
    /// it 10 ports above the node's).
    pub fn node_apis(&self) -> Vec<Api> {
        (1..=3)
            .map(|i| {
                let admin = format!("http://127.0.0.1:{}", self.ports.node + 10 + i - 1);
                Api::with_internal(&self.node_url(i), &admin)
            })
            .collect()
    }

    /// The primary database, as the nodes reach it.
    pub fn primary_url(&self) -> String {
        match self.db {
            Db::Mariadb => format!("mysql://root@127.0.0.1:{}/votewire", self.ports.mariadb),
            Db::Postgres => format!(
                "postgres://postgres@127.0.0.1:{}/votewire",
                self.ports.postgres
            ),
        }
    }

    /// The PID of a part (`redis`, `node-2`, `mariadb-primary`...) from its PID file in
    /// `run/`, if that process is alive and really ours (its command line names our folder),
    /// the same rule as cluster.sh's `part_pid`.
    pub fn pid(&self, part: &str) -> Option<u32> {
        let file = self.dir().join("run").join(format!("{part}.pid"));
        let pid: u32 = std::fs::read_to_string(file).ok()?.trim().parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        (alive(pid) && cmdline.contains(self.dir().to_str()?)).then_some(pid)
    }

    /// Sends `signal` (`TERM`, `KILL`, `INT`) to a part by its PID and waits until the
    /// process is gone (bounded).
    pub async fn signal(&self, part: &str, signal: &str) {
        let pid = self.send(part, signal);
        let started = Instant::now();
        let deadline = started + Duration::from_secs(30);
        while alive(pid) {
            assert!(
                Instant::now() < deadline,
                "[{}] {part} (PID {pid}) still running 30 s after SIG{signal}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        eprintln!(
            "[{}] {part} (PID {pid}) gone {:.1?} after SIG{signal}",
            self.name,
            started.elapsed()
        );
    }

    /// Freezes a part (SIGSTOP): its process and its connections stay, nothing it
    /// should send is sent and nothing sent to it is read, as in a network partition.
    pub async fn pause(&self, part: &str) {
        let pid = self.send(part, "STOP");
        eprintln!("[{}] {part} (PID {pid}) paused", self.name);
    }

    /// Lets a part [`Self::pause`]d run again (SIGCONT).
    pub async fn resume(&self, part: &str) {
        let pid = self.send(part, "CONT");
        eprintln!("[{}] {part} (PID {pid}) resumed", self.name);
    }

    /// Sends `signal` to a part by its PID; returns the PID.
    fn send(&self, part: &str, signal: &str) -> u32 {
        let pid = self
            .pid(part)
            .unwrap_or_else(|| panic!("[{}] {part} is not running", self.name));
        let status = StdCommand::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid} ({part}) failed");
        pid
    }
}

/// True while `pid` runs (a zombie counts as gone: whoever adopted it may reap late).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split(' ').next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The evidence, before it is deleted.
            eprintln!(
                "[{}] failed: the end of the cluster's logs ({})\n{}{}",
                self.name,
                self.dir().display(),
                self.logs("node", 60),
                self.logs("nginx", 30)
            );
        }
        if let Some(keep) = std::env::var_os("VOTEWIRE_FAULTS_LOGS") {
            // Every part's log, kept for a look after the run.
            let to = Path::new(&keep).join(&self.name);
            let _ = std::fs::create_dir_all(&to);
            let _ = StdCommand::new("cp")
                .arg("-r")
                .arg(self.dir().join("logs"))
                .arg(&to)
                .status();
            eprintln!("[{}] logs kept in {}", self.name, to.display());
        }
        let started = Instant::now();
        match self.command(&["down", "--purge"]).output() {
            Ok(o) if o.status.success() => {
                eprintln!("[{}] cluster down in {:.1?}", self.name, started.elapsed())
            }
            Ok(o) => eprintln!(
                "[{}] cluster.sh down --purge failed ({}):\n{}{}",
                self.name,
                o.status,
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("[{}] cannot run cluster.sh down: {e}", self.name),
        }
    }
}
