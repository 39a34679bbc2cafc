//! `spawn_app()`: a real node on port 0 with a fresh data folder, in this process, and
//! a [`Client`] of it (the app derefs to it: `app.vote(..)`, `app.ws()`).

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use votewire_server::{Node, Role, Settings, Shutdown};

use crate::client::Client;
use crate::db::recount_sqlite;
use crate::dirs::TempDir;

/// A node running in this process.
pub struct TestApp {
    /// Where it listens.
    pub address: SocketAddr,
    /// Its settings.
    pub settings: Settings,
    /// Fires its shutdown.
    pub shutdown: Shutdown,
    /// A client of its REST API and WebSocket.
    pub client: Client,
    /// A client of its admin listener, when its settings ask for one.
    pub admin: Option<Client>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Its data folder, shared with a node restarted on the same data.
    pub dir: Arc<TempDir>,
}

/// Lifts the abuse limits from loopback, where every test client is: for the tests
/// that push load from one address (hundreds of voters, thousands of votes), as the
/// benchmarks do with `--rate-limit-exempt`. Every other test runs with the real
/// defaults, so a limit that would stop a classroom fails them.
pub fn exempt_loopback(settings: &mut Settings) {
    settings.abuse.exempt = vec![
        "127.0.0.0/8".parse().expect("a CIDR"),
        "::1/128".parse().expect("a CIDR"),
    ];
}

/// A node with default settings in a fresh folder (the abuse limits included).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A node whose settings `configure` adjusts.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_in(Arc::new(TempDir::new("api")), configure).await
}

/// A node on the data folder `dir` (to restart on the same data).
pub async fn spawn_app_in(dir: Arc<TempDir>, configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_as(Role::Serve, dir, configure).await
}

/// A `votewire worker` (its client reaches its health and metrics) whose settings
/// `configure` sets: at least the database and Redis.
pub async fn spawn_worker(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_as(Role::Work, Arc::new(TempDir::new("worker")), configure).await
}

async fn spawn_as(role: Role, dir: Arc<TempDir>, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::for_data_dir(&dir.0, "node-a");
    settings.web_dir = dir.0.join("no-web-client");
    configure(&mut settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("a bound address");
    // `admin_listen` only says whether there is one: it gets a free port too.
    let admin = match settings.admin_listen {
        Some(_) => Some(
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a free port"),
        ),
        None => None,
    };
    let admin_client = admin.as_ref().map(|admin| {
        let address = admin.local_addr().expect("a bound address");
        Client::new(format!("http://{address}"))
    });
    let shutdown = Shutdown::new();
    let node = Node::build_as(role, settings.clone(), shutdown.clone())
        .await
        .expect("the node starts");
    let server = tokio::spawn(node.serve_with_admin(listener, admin));
    TestApp {
        address,
        settings,
        shutdown,
        client: Client::new(format!("http://{address}")),
        admin: admin_client,
        server,
        dir,
    }
}

impl TestApp {
    /// Fires the shutdown and waits for the server to finish draining.
    pub async fn stop(self) -> Arc<TempDir> {
        self.shutdown.fire();
        self.server
            .await
            .expect("the server task ends")
            .expect("the server drains cleanly");
        self.dir
    }

    /// Where its `/metrics` and `/api/cluster` are: the admin listener when it has one.
    pub fn internal(&self) -> &Client {
        self.admin.as_ref().unwrap_or(&self.client)
    }

    /// Counts the votes table of this node's database, option by option.
    pub async fn recount(&self, poll: &str, options: usize) -> Vec<u64> {
        recount_sqlite(&self.dir.0.join("votewire.db"), poll, options).await
    }
}

impl Deref for TestApp {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}
