//! The command line: `votewire [serve]` and `votewire migrate`, every flag also a
//! `VOTEWIRE_*` variable. Parsing ends in [`Settings`], which the rest of the node uses.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use votewire_proto::NodeId;

use crate::settings::{Limits, Settings};

/// votewire: real-time polls. People vote over REST and every browser watching a poll
/// sees the tally move within milliseconds, whichever node it is connected to.
///
/// With no settings it serves http://127.0.0.1:8080 from one process, with SQLite in
/// ./data and in-process fan-out.
#[derive(Debug, Parser)]
#[command(name = "votewire", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
#[expect(clippy::large_enum_variant, reason = "parsed once at start-up")]
enum Command {
    /// Serve the API, the WebSocket and the web client (the default).
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(DatabaseArgs),
}

/// What to run, once parsed.
#[expect(clippy::large_enum_variant, reason = "built once at start-up")]
pub enum Run {
    /// Serve with these settings.
    Serve(Settings),
    /// Migrate the database at this URL.
    Migrate { database_url: String },
}

#[derive(Debug, Clone, Args)]
struct DatabaseArgs {
    /// Folder for the SQLite database and the generated signing key.
    #[arg(long, env = "VOTEWIRE_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,

    /// Database URL. Default: SQLite at <data-dir>/votewire.db.
    /// Examples: sqlite://data/votewire.db
    #[arg(long = "database", env = "VOTEWIRE_DATABASE_URL", global = true)]
    database_url: Option<String>,
}

impl DatabaseArgs {
    fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("votewire.db").display()))
    }
}

#[derive(Debug, Clone, Args)]
struct ServeArgs {
    #[command(flatten)]
    db: DatabaseArgs,

    /// Address to listen on.
    #[arg(
        long,
        env = "VOTEWIRE_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    listen: SocketAddr,

    /// Read replica of the primary database (repeatable; comma-separated in the
    /// variable). Reads go round robin to the healthy ones, writes to the primary.
    #[arg(
        long = "replica",
        env = "VOTEWIRE_REPLICA_URLS",
        value_delimiter = ',',
        global = true
    )]
    replica_urls: Vec<String>,

    /// A replica whose heartbeat is older than this (in milliseconds) leaves the read
    /// rotation until it catches up.
    #[arg(
        long,
        env = "VOTEWIRE_REPLICA_MAX_LAG_MS",
        default_value_t = 5000,
        global = true
    )]
    replica_max_lag_ms: u64,

    /// Redis URL for the cluster's fan-out and presence, e.g. redis://127.0.0.1:6379.
    /// Without it the node fans out in-process: fine for one node, not for several.
    #[arg(long = "redis", env = "VOTEWIRE_REDIS_URL", global = true)]
    redis_url: Option<String>,

    /// This node's name, in `X-Votewire-Node`, votes and updates. Default: the host name.
    #[arg(long, env = "VOTEWIRE_NODE_ID", global = true)]
    node_id: Option<String>,

    /// File holding the key that signs voter and owner tokens (every node of a cluster
    /// needs the same one). Default: <data-dir>/signing.key, generated on first start.
    #[arg(long, env = "VOTEWIRE_KEY_FILE", global = true)]
    key_file: Option<PathBuf>,

    /// Origins allowed to open a WebSocket besides the host's own pages, exactly as
    /// browsers send them (e.g. https://vote.example.com), comma-separated.
    #[arg(
        long = "allowed-origin",
        env = "VOTEWIRE_ALLOWED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    allowed_origins: Vec<String>,

    /// Folder of the built web client, served at /. Skipped when it does not exist.
    #[arg(
        long,
        env = "VOTEWIRE_WEB_DIR",
        default_value = "web/dist",
        global = true
    )]
    web_dir: PathBuf,

    /// Coalescing tick in milliseconds: after a vote is pushed at once, further updates
    /// of the same poll go out at most once per tick.
    #[arg(long, env = "VOTEWIRE_TICK_MS", default_value_t = 50, global = true)]
    tick_ms: u64,

    /// Longest coalescing tick in milliseconds: when the node sends more than
    /// --max-frames-per-sec, the tick of every busy poll stretches up to this.
    #[arg(
        long,
        env = "VOTEWIRE_MAX_TICK_MS",
        default_value_t = 200,
        global = true
    )]
    max_tick_ms: u64,

    /// Seconds to finish in-flight work after SIGTERM/SIGINT before exiting.
    #[arg(long, env = "VOTEWIRE_DRAIN_SECS", default_value_t = 10, global = true)]
    drain_secs: u64,

    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Limits")]
struct LimitArgs {
    /// Largest request body, in bytes.
    #[arg(long, env = "VOTEWIRE_MAX_BODY_BYTES", default_value_t = 16 * 1024, global = true)]
    max_body_bytes: usize,
    /// Longest question, in characters.
    #[arg(
        long,
        env = "VOTEWIRE_MAX_QUESTION_CHARS",
        default_value_t = 280,
        global = true
    )]
    max_question_chars: usize,
    /// Longest option, in characters.
    #[arg(
        long,
        env = "VOTEWIRE_MAX_OPTION_CHARS",
        default_value_t = 100,
        global = true
    )]
    max_option_chars: usize,
    /// Most options a poll may have (at least 2 are always needed).
    #[arg(
        long,
        env = "VOTEWIRE_MAX_OPTIONS",
        default_value_t = 32,
        global = true
    )]
    max_options: usize,
    /// Most WebSocket connections this node holds at once.
    #[arg(
        long,
        env = "VOTEWIRE_MAX_SOCKETS",
        default_value_t = 50_000,
        global = true
    )]
    max_sockets: usize,
    /// Most votes of one poll committed together in one transaction. Votes that arrive
    /// while a poll's previous commit runs go together in the next one (group commit):
    /// one lock and one log flush for many votes, each still answered on its own.
    #[arg(
        long,
        env = "VOTEWIRE_VOTE_BATCH_MAX",
        default_value_t = 256,
        global = true
    )]
    vote_batch_max: usize,
    /// Frames per second this node aims to send at most, summed over its sockets. Above
    /// it the coalescing tick stretches (up to --max-tick-ms): watchers of a viral poll
    /// get fewer, fresher frames instead of a node, proxy and clients swamped by them.
    #[arg(
        long,
        env = "VOTEWIRE_MAX_FRAMES_PER_SEC",
        default_value_t = 20_000,
        global = true
    )]
    max_frames_per_sec: u32,
    /// Largest WebSocket message (and frame) a client may send, in bytes.
    #[arg(long, env = "VOTEWIRE_WS_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024, global = true)]
    ws_max_message_bytes: usize,
    /// Bytes the server buffers for one socket before it waits for the client to read.
    #[arg(long, env = "VOTEWIRE_WS_WRITE_BUFFER_BYTES", default_value_t = 64 * 1024, global = true)]
    ws_write_buffer_bytes: usize,
    /// Most polls one socket may watch at once.
    #[arg(
        long,
        env = "VOTEWIRE_WS_MAX_SUBSCRIPTIONS",
        default_value_t = 32,
        global = true
    )]
    ws_max_subscriptions: usize,
    /// Messages per second a socket may send (bursts of twice that are allowed).
    #[arg(
        long,
        env = "VOTEWIRE_WS_MESSAGES_PER_SEC",
        default_value_t = 20,
        global = true
    )]
    ws_messages_per_sec: u32,
    /// Kernel send buffer per connection, in bytes (0: the OS default, which grows to
    /// megabytes). Smaller means a slow reader is noticed, and skipped, sooner.
    #[arg(
        long,
        env = "VOTEWIRE_SOCKET_SEND_BUFFER_BYTES",
        default_value_t = 0,
        global = true
    )]
    socket_send_buffer_bytes: usize,
    /// Seconds between WebSocket pings.
    #[arg(
        long,
        env = "VOTEWIRE_WS_PING_SECS",
        default_value_t = 20,
        global = true
    )]
    ws_ping_secs: u64,
    /// Seconds without any frame from the client (pongs included) before its socket is closed.
    #[arg(
        long,
        env = "VOTEWIRE_WS_IDLE_SECS",
        default_value_t = 60,
        global = true
    )]
    ws_idle_secs: u64,
    /// Seconds one frame may take to be written before its socket is closed.
    #[arg(
        long,
        env = "VOTEWIRE_WS_WRITE_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    ws_write_timeout_secs: u64,
}

impl Cli {
    /// Turns the parsed command line into what to run, refusing inconsistent settings.
    pub fn into_run(self) -> Result<Run, String> {
        match self.command {
            Some(Command::Migrate(db)) => Ok(Run::Migrate {
                database_url: db.url(),
            }),
            Some(Command::Serve(args)) => args.into_settings().map(Run::Serve),
            None => self.serve.into_settings().map(Run::Serve),
        }
    }
}

impl ServeArgs {
    fn into_settings(self) -> Result<Settings, String> {
        let node_id = match self.node_id {
            Some(id) => id,
            None => default_node_id(),
        };
        let node_id = NodeId::parse(node_id).map_err(|e| format!("--node-id: {e}"))?;
        if self.tick_ms == 0 {
            return Err("--tick-ms must be at least 1".into());
        }
        if self.max_tick_ms < self.tick_ms {
            return Err("--max-tick-ms must be at least --tick-ms".into());
        }
        let l = self.limits;
        if l.max_options < 2 {
            return Err("--max-options must be at least 2".into());
        }
        if l.max_frames_per_sec == 0 {
            return Err("--max-frames-per-sec must be at least 1".into());
        }
        if !(1..=4096).contains(&l.vote_batch_max) {
            return Err("--vote-batch-max must be between 1 and 4096".into());
        }
        if l.ws_messages_per_sec == 0 {
            return Err("--ws-messages-per-sec must be at least 1".into());
        }
        // The lag is measured to within one heartbeat interval: a tighter bound would
        // throw replicas that are in step out of the rotation.
        let min_lag = 2 * crate::store::HEARTBEAT_INTERVAL.as_millis() as u64;
        if self.replica_max_lag_ms < min_lag {
            return Err(format!(
                "--replica-max-lag-ms must be at least {min_lag} (twice the heartbeat interval)"
            ));
        }
        for url in &self.replica_urls {
            crate::store::check_url(url).map_err(|e| format!("--replica: {e:?}"))?;
        }
        for origin in &self.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
            {
                return Err(format!(
                    "--allowed-origin {origin:?}: give scheme://host[:port] with no path, e.g. https://vote.example.com"
                ));
            }
        }
        Ok(Settings {
            listen: self.listen,
            database_url: self.db.url(),
            replica_urls: self.replica_urls,
            replica_max_lag: Duration::from_millis(self.replica_max_lag_ms),
            redis_url: self.redis_url,
            key_file: self
                .key_file
                .unwrap_or_else(|| self.db.data_dir.join("signing.key")),
            data_dir: self.db.data_dir,
            node_id,
            allowed_origins: self.allowed_origins,
            web_dir: self.web_dir,
            tick: Duration::from_millis(self.tick_ms),
            max_tick: Duration::from_millis(self.max_tick_ms),
            drain: Duration::from_secs(self.drain_secs),
            limits: Limits {
                max_body_bytes: l.max_body_bytes,
                max_question_chars: l.max_question_chars,
                max_option_chars: l.max_option_chars,
                max_options: l.max_options,
                max_sockets: l.max_sockets,
                vote_batch_max: l.vote_batch_max,
                max_frames_per_sec: l.max_frames_per_sec,
                ws_max_message_bytes: l.ws_max_message_bytes,
                ws_write_buffer_bytes: l.ws_write_buffer_bytes,
                ws_max_subscriptions: l.ws_max_subscriptions,
                ws_messages_per_sec: l.ws_messages_per_sec,
                socket_send_buffer_bytes: l.socket_send_buffer_bytes,
                ws_ping: Duration::from_secs(l.ws_ping_secs),
                ws_idle: Duration::from_secs(l.ws_idle_secs),
                ws_write_timeout: Duration::from_secs(l.ws_write_timeout_secs),
            },
        })
    }
}

impl Settings {
    /// The defaults of `votewire serve`, with SQLite in `data_dir` and port 0: for tests
    /// and benchmarks, which then change what they need.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>, node_id: &str) -> Self {
        let data_dir: PathBuf = data_dir.into();
        let data_dir = data_dir.to_string_lossy();
        let args = [
            "votewire",
            "--data-dir",
            &data_dir,
            "--node-id",
            node_id,
            "--listen",
            "127.0.0.1:0",
        ];
        match Cli::try_parse_from(args)
            .map_err(|e| e.to_string())
            .and_then(Cli::into_run)
        {
            Ok(Run::Serve(settings)) => settings,
            Ok(Run::Migrate { .. }) => unreachable!("no subcommand was given"),
            Err(e) => panic!("invalid test settings: {e}"),
        }
    }
}

/// The host name, made into a valid node id, or `votewire` when there is none.
fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default();
    let id: String = host
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(votewire_proto::ids::MAX_ID_LEN)
        .collect();
    if id.is_empty() { "votewire".into() } else { id }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Run, String> {
        let mut full = vec!["votewire"];
        full.extend_from_slice(args);
        Cli::try_parse_from(full)
            .map_err(|e| e.to_string())?
            .into_run()
    }

    #[test]
    fn no_arguments_serve_on_8080_with_sqlite_in_data() {
        let Ok(Run::Serve(s)) = parse(&[]) else {
            panic!("expected serve")
        };
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://data/votewire.db");
        assert_eq!(s.key_file, PathBuf::from("data/signing.key"));
    }

    #[test]
    fn bad_settings_are_refused_with_the_flag_named() {
        let err = parse(&["serve", "--node-id", "a b"]).err().unwrap();
        assert!(err.contains("--node-id"), "{err}");
        let err = parse(&["--allowed-origin", "example.com"]).err().unwrap();
        assert!(err.contains("--allowed-origin"), "{err}");
        assert!(parse(&["--tick-ms", "0"]).is_err());
        let err = parse(&["--tick-ms", "100", "--max-tick-ms", "50"])
            .err()
            .unwrap();
        assert!(err.contains("--max-tick-ms"), "{err}");
        let err = parse(&["--max-frames-per-sec", "0"]).err().unwrap();
        assert!(err.contains("--max-frames-per-sec"), "{err}");
        let err = parse(&["--vote-batch-max", "0"]).err().unwrap();
        assert!(err.contains("--vote-batch-max"), "{err}");
        let err = parse(&["--replica", "redis://x"]).err().unwrap();
        assert!(err.contains("--replica"), "{err}");
        let err = parse(&["--replica-max-lag-ms", "10"]).err().unwrap();
        assert!(err.contains("--replica-max-lag-ms"), "{err}");
    }

    #[test]
    fn replicas_repeat_or_come_comma_separated() {
        let Ok(Run::Serve(s)) = parse(&[
            "--replica",
            "postgres://r1/votewire",
            "--replica",
            "postgres://r2/votewire,mysql://r3/votewire",
        ]) else {
            panic!("expected serve")
        };
        assert_eq!(
            s.replica_urls,
            [
                "postgres://r1/votewire",
                "postgres://r2/votewire",
                "mysql://r3/votewire"
            ]
        );
        assert_eq!(s.replica_max_lag, Duration::from_secs(5));
    }

    #[test]
    fn every_setting_is_in_the_readme() {
        use clap::CommandFactory;
        let readme = include_str!("../../README.md");
        for arg in Cli::command().get_arguments() {
            if let (Some(long), Some(env)) = (arg.get_long(), arg.get_env()) {
                let row = format!("| `--{long}` | `{}` |", env.to_string_lossy());
                assert!(readme.contains(&row), "README's settings table lacks {row}");
            }
        }
    }

    #[test]
    fn migrate_takes_the_database_url() {
        let Ok(Run::Migrate { database_url }) = parse(&["migrate", "--database", "sqlite://x.db"])
        else {
            panic!("expected migrate")
        };
        assert_eq!(database_url, "sqlite://x.db");
    }
}
