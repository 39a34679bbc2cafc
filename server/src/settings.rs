//! The node's settings, validated once by the command line (`cli`) and read
//! everywhere else.

use std::net::SocketAddr;

use ipnet::IpNet;
use std::path::PathBuf;
use std::time::Duration;

use votewire_proto::NodeId;

/// Everything a node needs to know to serve.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen (tests pass their own listener instead).
    pub listen: SocketAddr,
    /// Where `/metrics` and `/api/cluster` are served instead of `listen`, if anywhere.
    pub admin_listen: Option<SocketAddr>,
    /// The folder for SQLite and the generated signing key.
    pub data_dir: PathBuf,
    /// The primary database.
    pub database_url: String,
    /// Read replicas of the primary; reads go round robin to the healthy ones.
    pub replica_urls: Vec<String>,
    /// A replica further behind than this leaves the read rotation until it catches up.
    pub replica_max_lag: Duration,
    /// Redis, for a cluster; in-process fan-out without it.
    pub redis_url: Option<String>,
    /// Extra CA certificates (PEM) for a `rediss://` Redis, besides the system's.
    pub redis_ca_file: Option<PathBuf>,
    /// This node's name.
    pub node_id: NodeId,
    /// The key that signs tokens; generated there when missing.
    pub key_file: PathBuf,
    /// Origins allowed to open a WebSocket; empty means the request's own host.
    pub allowed_origins: Vec<String>,
    /// Who may show the web client in a frame: CSP frame-ancestors sources.
    pub frame_ancestors: Vec<String>,
    /// The built web client.
    pub web_dir: PathBuf,
    /// The shortest coalescing tick of the fan-out.
    pub tick: Duration,
    /// The longest the tick stretches to when updates are slow to reach the sockets.
    pub max_tick: Duration,
    /// How often the watched polls are checked against the database; zero: never.
    pub anti_entropy: Duration,
    /// One log line per request (method, path, status, time), at `info` with target
    /// `access`.
    pub access_log: bool,
    /// How long shutdown may take.
    pub drain: Duration,
    /// Sizes, counts and rates.
    pub limits: Limits,
    /// What one client address may do, and how its address is known.
    pub abuse: AbuseLimits,
    /// How votes reach the database: committed by the node, or through a Redis Stream.
    pub ingest: IngestSettings,
}

/// How votes reach the database (`--ingest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestMode {
    /// The node commits each vote (group commit) and answers 200 with the tally.
    Direct,
    /// The node records each vote in a Redis Stream and answers 202; `votewire worker`
    /// processes commit them.
    Stream,
}

/// The ingest stream's settings, the same on every node and worker of a cluster.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// Direct or through the stream.
    pub mode: IngestMode,
    /// Streams the votes are spread over, by poll (`votewire:ingest:{N}`).
    pub shards: u32,
    /// Votes waiting in the streams above which nodes refuse new ones (503).
    pub max_backlog: u64,
    /// How long a vote may stay pending with a worker before another claims it.
    pub claim_idle: Duration,
    /// Most entries a worker reads from a stream at once.
    pub read_count: u64,
    /// How long a worker lets votes gather after a read that did not fill a batch.
    pub gather: Duration,
}

/// Every configurable limit, documented in the README's settings table.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body.
    pub max_body_bytes: usize,
    /// How long an Idempotency-Key of a poll creation is kept.
    pub idempotency_key_retention: Duration,
    /// Longest question.
    pub max_question_chars: usize,
    /// Longest option.
    pub max_option_chars: usize,
    /// Most options per poll.
    pub max_options: usize,
    /// Most sockets per node.
    pub max_sockets: usize,
    /// Most votes of one poll committed together in one transaction.
    pub vote_batch_max: usize,
    /// Largest WebSocket message from a client.
    pub ws_max_message_bytes: usize,
    /// Bytes buffered per socket before writes wait for the client.
    pub ws_write_buffer_bytes: usize,
    /// Most polls one socket watches.
    pub ws_max_subscriptions: usize,
    /// Client messages per second per socket.
    pub ws_messages_per_sec: u32,
    /// Kernel send buffer per connection; 0 leaves the OS default.
    pub socket_send_buffer_bytes: usize,
    /// Longest a client may take to send a request's head; also how long an idle
    /// keep-alive connection stays open.
    pub header_read_timeout: Duration,
    /// Interval between pings.
    pub ws_ping: Duration,
    /// Silence after which a socket is closed.
    pub ws_idle: Duration,
    /// Longest time one frame may take to write.
    pub ws_write_timeout: Duration,
}

/// Per-client-address limits ("a classroom survives, a script does not"); the README's
/// "Abuse limits" section gives the reasoning behind each default.
#[derive(Debug, Clone)]
pub struct AbuseLimits {
    /// `POST /api/voters`.
    pub voters: Rate,
    /// `POST` and `DELETE` of `/api/polls/{id}/votes`.
    pub votes: Rate,
    /// `POST /api/polls`.
    pub polls: Rate,
    /// WebSocket upgrades on `/ws`.
    pub ws_connects: Rate,
    /// Most WebSocket sessions open at once from one address.
    pub max_connections_per_address: usize,
    /// Most plain HTTP connections open at once from one TCP peer that is neither a
    /// trusted proxy nor exempt.
    pub max_http_connections_per_address: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Addresses no abuse limit applies to (load generators, benchmarks).
    pub exempt: Vec<IpNet>,
}

/// A token bucket: `burst` at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Tokens the bucket holds when full.
    pub burst: u32,
    /// Tokens added per minute.
    pub per_minute: u32,
}

/// The smallest number of options a poll can have: a choice needs two.
pub const MIN_OPTIONS: usize = 2;
