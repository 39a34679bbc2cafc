//! The flags of `votewire serve` and `votewire migrate`, each also a `VOTEWIRE_*`
//! variable; their doc comments are what `votewire --help` says. Checking them and
//! turning them into [`crate::settings::Settings`] is `super`'s job.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::secrets::{self, UrlFiles};

#[derive(Debug, Clone, Args)]
pub(super) struct DatabaseArgs {
    /// Folder for the SQLite database and the generated signing key.
    #[arg(long, env = "VOTEWIRE_DATA_DIR", default_value = "data", global = true)]
    pub(super) data_dir: PathBuf,

    /// Database URL. Default: SQLite at <data-dir>/votewire.db.
    /// Examples: sqlite://data/votewire.db
    #[arg(long = "database", env = "VOTEWIRE_DATABASE_URL", global = true)]
    pub(super) database_url: Option<String>,

    #[command(flatten)]
    pub(super) files: UrlFiles,
}

impl DatabaseArgs {
    /// The database URL: given, read from its file, or SQLite in the data folder.
    pub(super) fn url(&self) -> Result<String, String> {
        let given = secrets::one(
            "database",
            self.database_url.clone(),
            self.files.database_file.as_deref(),
        )?;
        Ok(given
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("votewire.db").display())))
    }
}

#[derive(Debug, Clone, Args)]
pub(super) struct ServeArgs {
    #[command(flatten)]
    pub(super) db: DatabaseArgs,

    /// Address to listen on.
    #[arg(
        long,
        env = "VOTEWIRE_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub(super) listen: SocketAddr,

    /// Address to serve /metrics and /api/cluster on, and only there (the main listener
    /// then answers 404 for them): they show the node's internals, which a public proxy
    /// must not. Unset: both are served on --listen.
    #[arg(long, env = "VOTEWIRE_ADMIN_LISTEN", global = true)]
    pub(super) admin_listen: Option<SocketAddr>,

    /// Read replica of the primary database (repeatable; comma-separated in the
    /// variable). Reads go round robin to the healthy ones, writes to the primary.
    #[arg(
        long = "replica",
        env = "VOTEWIRE_REPLICA_URLS",
        value_delimiter = ',',
        global = true
    )]
    pub(super) replica_urls: Vec<String>,

    /// A replica whose heartbeat is older than this (in milliseconds) leaves the read
    /// rotation until it catches up.
    #[arg(
        long,
        env = "VOTEWIRE_REPLICA_MAX_LAG_MS",
        default_value_t = 5000,
        global = true
    )]
    pub(super) replica_max_lag_ms: u64,

    /// Redis URL for the cluster's fan-out and presence, e.g. redis://127.0.0.1:6379.
    /// Without it the node fans out in-process: fine for one node, not for several.
    #[arg(long = "redis", env = "VOTEWIRE_REDIS_URL", global = true)]
    pub(super) redis_url: Option<String>,

    /// A PEM file of CA certificates that a `rediss://` Redis's certificate may chain to,
    /// besides the system's (a managed Redis with a private CA). Databases take theirs
    /// in the URL: `sslrootcert=` (PostgreSQL), `ssl-ca=` (MySQL).
    #[arg(long, env = "VOTEWIRE_REDIS_CA_FILE", global = true)]
    pub(super) redis_ca_file: Option<std::path::PathBuf>,

    /// This node's name, in `X-Votewire-Node`, votes and updates. Default: the host name.
    #[arg(long, env = "VOTEWIRE_NODE_ID", global = true)]
    pub(super) node_id: Option<String>,

    /// File holding the key that signs voter and owner tokens (every node of a cluster
    /// needs the same one). Default: <data-dir>/signing.key, generated on first start.
    #[arg(long, env = "VOTEWIRE_KEY_FILE", global = true)]
    pub(super) key_file: Option<PathBuf>,

    /// Origins allowed to open a WebSocket besides the host's own pages, exactly as
    /// browsers send them (e.g. https://vote.example.com), comma-separated.
    #[arg(
        long = "allowed-origin",
        env = "VOTEWIRE_ALLOWED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub(super) allowed_origins: Vec<String>,

    /// Who may show the web client in a frame (the Content-Security-Policy's
    /// frame-ancestors): 'none' (the default), 'self', or origins such as
    /// https://intranet.example.com, comma-separated.
    #[arg(
        long = "frame-ancestors",
        env = "VOTEWIRE_FRAME_ANCESTORS",
        value_delimiter = ',',
        default_value = "'none'",
        global = true
    )]
    pub(super) frame_ancestors: Vec<String>,

    /// Folder of the built web client, served at /. Skipped when it does not exist.
    #[arg(
        long,
        env = "VOTEWIRE_WEB_DIR",
        default_value = "web/dist",
        global = true
    )]
    pub(super) web_dir: PathBuf,

    /// Shortest coalescing tick in milliseconds: after a change is pushed at once,
    /// further updates of the same poll go out at most once per tick. A busy poll's
    /// tick stretches to twice as long as its last update took to reach its sockets.
    #[arg(long, env = "VOTEWIRE_TICK_MS", default_value_t = 50, global = true)]
    pub(super) tick_ms: u64,

    /// Longest coalescing tick in milliseconds: however slowly updates reach their
    /// sockets, a busy poll's watchers get one at least this often.
    #[arg(
        long,
        env = "VOTEWIRE_MAX_TICK_MS",
        default_value_t = 1000,
        global = true
    )]
    pub(super) max_tick_ms: u64,

    /// Anti-entropy interval in milliseconds: this often the node checks every poll its
    /// sockets watch against the database (one query) and refreshes the rooms behind,
    /// which heals an update the bus lost. 0 turns it off.
    #[arg(
        long,
        env = "VOTEWIRE_ANTI_ENTROPY_MS",
        default_value_t = 2000,
        global = true
    )]
    pub(super) anti_entropy_ms: u64,

    /// Log one line per request: method, path (never the query), status, time and the
    /// request id. Off by default: at thousands of votes a second it costs more than
    /// the vote, and the proxy in front usually logs requests already.
    #[arg(long, env = "VOTEWIRE_ACCESS_LOG", global = true)]
    pub(super) access_log: bool,

    /// Seconds to finish in-flight work after SIGTERM/SIGINT before exiting.
    #[arg(long, env = "VOTEWIRE_DRAIN_SECS", default_value_t = 10, global = true)]
    pub(super) drain_secs: u64,

    #[command(flatten)]
    pub(super) limits: LimitArgs,

    #[command(flatten)]
    pub(super) abuse: super::abuse::AbuseArgs,

    #[command(flatten)]
    pub(super) ingest: super::ingest::IngestArgs,
}

/// The default kernel send buffer per connection. Linux doubles it (128 KiB in all) and
/// stops autotuning it, which would otherwise grow to megabytes for a socket that stops
/// reading (about 2.7 MB, held for as long as the write timeout). An update frame is a
/// few hundred bytes and the outbox holds one per watched poll, so a socket that reads
/// at all never fills 64 KiB: a snapshot of each of 32 polls is about 16 KiB. REST
/// answers are smaller still; the web client's files (a few hundred KiB) stream at
/// 128 KiB per round trip, milliseconds behind a proxy.
const SOCKET_SEND_BUFFER_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Limits")]
pub(super) struct LimitArgs {
    /// Largest request body, in bytes.
    #[arg(long, env = "VOTEWIRE_MAX_BODY_BYTES", default_value_t = 16 * 1024, global = true)]
    pub(super) max_body_bytes: usize,
    /// How long an Idempotency-Key of a poll creation is kept, in hours: a retry within
    /// it answers the poll the key made.
    #[arg(
        long,
        env = "VOTEWIRE_IDEMPOTENCY_KEY_HOURS",
        default_value_t = 24,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub(super) idempotency_key_hours: u64,
    /// Longest question, in characters.
    #[arg(
        long,
        env = "VOTEWIRE_MAX_QUESTION_CHARS",
        default_value_t = 280,
        global = true
    )]
    pub(super) max_question_chars: usize,
    /// Longest option, in characters.
    #[arg(
        long,
        env = "VOTEWIRE_MAX_OPTION_CHARS",
        default_value_t = 100,
        global = true
    )]
    pub(super) max_option_chars: usize,
    /// Most options a poll may have (at least 2 are always needed).
    #[arg(
        long,
        env = "VOTEWIRE_MAX_OPTIONS",
        default_value_t = 32,
        global = true
    )]
    pub(super) max_options: usize,
    /// Most WebSocket connections this node holds at once.
    #[arg(
        long,
        env = "VOTEWIRE_MAX_SOCKETS",
        default_value_t = 50_000,
        global = true
    )]
    pub(super) max_sockets: usize,
    /// Most votes of one poll committed together in one transaction. Votes that arrive
    /// while a poll's previous commit runs go together in the next one (group commit):
    /// one lock and one log flush for many votes, each still answered on its own.
    #[arg(
        long,
        env = "VOTEWIRE_VOTE_BATCH_MAX",
        default_value_t = 256,
        global = true
    )]
    pub(super) vote_batch_max: usize,
    /// Largest WebSocket message (and frame) a client may send, in bytes.
    #[arg(long, env = "VOTEWIRE_WS_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024, global = true)]
    pub(super) ws_max_message_bytes: usize,
    /// Bytes the server buffers for one socket before it waits for the client to read.
    #[arg(long, env = "VOTEWIRE_WS_WRITE_BUFFER_BYTES", default_value_t = 64 * 1024, global = true)]
    pub(super) ws_write_buffer_bytes: usize,
    /// Most polls one socket may watch at once.
    #[arg(
        long,
        env = "VOTEWIRE_WS_MAX_SUBSCRIPTIONS",
        default_value_t = 32,
        global = true
    )]
    pub(super) ws_max_subscriptions: usize,
    /// Messages per second a socket may send (bursts of twice that are allowed).
    #[arg(
        long,
        env = "VOTEWIRE_WS_MESSAGES_PER_SEC",
        default_value_t = 20,
        global = true
    )]
    pub(super) ws_messages_per_sec: u32,
    /// Kernel send buffer per connection, in bytes (0: the OS default, which grows to
    /// megabytes per socket that stops reading). Smaller means a slow reader is
    /// noticed, and skipped, sooner, and pins less memory.
    #[arg(
        long,
        env = "VOTEWIRE_SOCKET_SEND_BUFFER_BYTES",
        default_value_t = SOCKET_SEND_BUFFER_BYTES,
        global = true
    )]
    pub(super) socket_send_buffer_bytes: usize,
    /// Milliseconds a client may take to send a request's head before its connection
    /// is closed; an idle keep-alive connection is closed after as long.
    #[arg(
        long,
        env = "VOTEWIRE_HEADER_READ_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub(super) header_read_timeout_ms: u64,
    /// Seconds between WebSocket pings.
    #[arg(
        long,
        env = "VOTEWIRE_WS_PING_SECS",
        default_value_t = 20,
        global = true
    )]
    pub(super) ws_ping_secs: u64,
    /// Seconds without any frame from the client (pongs included) before its socket is closed.
    #[arg(
        long,
        env = "VOTEWIRE_WS_IDLE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub(super) ws_idle_secs: u64,
    /// Seconds one frame may take to be written before its socket is closed.
    #[arg(
        long,
        env = "VOTEWIRE_WS_WRITE_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub(super) ws_write_timeout_secs: u64,
}
