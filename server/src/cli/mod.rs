//! The command line: `votewire [serve]`, `votewire worker`, `votewire migrate` and
//! `votewire seed`, every flag also a
//! `VOTEWIRE_*` variable. Parsing ends in [`Settings`], which the rest of the node uses.

mod abuse;
mod args;
mod ingest;
mod secrets;
mod seed;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use votewire_proto::NodeId;

use crate::seed::SeedPlan;
use crate::settings::{Limits, Settings};
pub use crate::telemetry::LogFormat;
use args::{DatabaseArgs, ServeArgs};
use seed::SeedArgs;

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

    /// Log lines as text for people, or as one JSON object per line for a log
    /// collector (with the request id of the request each line belongs to).
    #[arg(
        long,
        env = "VOTEWIRE_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API, the WebSocket and the web client (the default).
    Serve(ServeArgs),
    /// Commit the votes that nodes in `--ingest stream` mode recorded in Redis, and
    /// publish them as a node would. Serves /livez, /readyz, /metrics and /api/cluster
    /// on --listen. Takes the node's flags.
    Worker(ServeArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(DatabaseArgs),
    /// Create a few demo polls on a running node and vote on them over time through
    /// its API, so a first run shows something moving.
    Seed(SeedArgs),
}

/// What to run, once parsed.
pub enum Run {
    /// Serve with these settings.
    Serve(Settings),
    /// Commit the ingest stream's votes with these settings.
    Work(Settings),
    /// Migrate the database at this URL.
    Migrate { database_url: String },
    /// Seed a running node with demo polls and votes.
    Seed(SeedPlan),
}

impl Cli {
    /// How log lines are written; read before [`Cli::into_run`], to log its errors.
    pub fn log_format(&self) -> LogFormat {
        self.log_format
    }

    /// Turns the parsed command line into what to run, refusing inconsistent settings.
    pub fn into_run(self) -> Result<Run, String> {
        match self.command {
            Some(Command::Migrate(db)) => Ok(Run::Migrate {
                database_url: db.url()?,
            }),
            Some(Command::Serve(args)) => args.into_settings().map(Run::Serve),
            Some(Command::Seed(args)) => args.into_plan().map(Run::Seed),
            Some(Command::Worker(args)) => {
                let settings = args.into_settings()?;
                if settings.redis_url.is_none() {
                    return Err("votewire worker reads the votes from Redis: give --redis".into());
                }
                Ok(Run::Work(settings))
            }
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
        let files = &self.db.files;
        let replica_urls =
            secrets::many("replica", self.replica_urls, files.replica_file.as_deref())?;
        for url in &replica_urls {
            crate::store::check_url(url).map_err(|e| format!("--replica: {e}"))?;
        }
        let redis_url = secrets::one("redis", self.redis_url, files.redis_file.as_deref())?;
        for origin in &self.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
            {
                return Err(format!(
                    "--allowed-origin {origin:?}: give scheme://host[:port] with no path, e.g. https://vote.example.com"
                ));
            }
        }
        check_frame_ancestors(&self.frame_ancestors)?;
        if l.header_read_timeout_ms == 0 {
            return Err("--header-read-timeout-ms must be at least 1".into());
        }
        if self.admin_listen == Some(self.listen) && self.listen.port() != 0 {
            return Err("--admin-listen must differ from --listen".into());
        }
        let abuse = self.abuse.into_limits()?;
        let ingest = self.ingest.into_settings(redis_url.is_some())?;
        Ok(Settings {
            listen: self.listen,
            admin_listen: self.admin_listen,
            database_url: self.db.url()?,
            replica_urls,
            replica_max_lag: Duration::from_millis(self.replica_max_lag_ms),
            redis_url,
            redis_ca_file: self.redis_ca_file,
            key_file: self
                .key_file
                .unwrap_or_else(|| self.db.data_dir.join("signing.key")),
            data_dir: self.db.data_dir,
            node_id,
            allowed_origins: self.allowed_origins,
            frame_ancestors: self.frame_ancestors,
            web_dir: self.web_dir,
            tick: Duration::from_millis(self.tick_ms),
            max_tick: Duration::from_millis(self.max_tick_ms),
            anti_entropy: Duration::from_millis(self.anti_entropy_ms),
            access_log: self.access_log,
            drain: Duration::from_secs(self.drain_secs),
            limits: Limits {
                max_body_bytes: l.max_body_bytes,
                idempotency_key_retention: Duration::from_secs(l.idempotency_key_hours * 3600),
                max_question_chars: l.max_question_chars,
                max_option_chars: l.max_option_chars,
                max_options: l.max_options,
                max_sockets: l.max_sockets,
                vote_batch_max: l.vote_batch_max,
                ws_max_message_bytes: l.ws_max_message_bytes,
                ws_write_buffer_bytes: l.ws_write_buffer_bytes,
                ws_max_subscriptions: l.ws_max_subscriptions,
                ws_messages_per_sec: l.ws_messages_per_sec,
                socket_send_buffer_bytes: l.socket_send_buffer_bytes,
                header_read_timeout: Duration::from_millis(l.header_read_timeout_ms),
                ws_ping: Duration::from_secs(l.ws_ping_secs),
                ws_idle: Duration::from_secs(l.ws_idle_secs),
                ws_write_timeout: Duration::from_secs(l.ws_write_timeout_secs),
            },
            abuse,
            ingest,
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
            Ok(Run::Migrate { .. } | Run::Work(_) | Run::Seed(_)) => {
                unreachable!("no subcommand was given")
            }
            Err(e) => panic!("invalid test settings: {e}"),
        }
    }
}

/// `'none'` alone, or `'self'` and origins: what a CSP frame-ancestors takes, and no
/// character that could end the directive (a `;`) or the header.
fn check_frame_ancestors(sources: &[String]) -> Result<(), String> {
    let origin = |s: &str| {
        (s.starts_with("http://") || s.starts_with("https://"))
            && !s.ends_with('/')
            && s.chars()
                .all(|c| c.is_ascii_graphic() && c != ';' && c != ',')
    };
    let fine = match sources {
        [only] if only == "'none'" => true,
        _ => sources.iter().all(|s| s == "'self'" || origin(s)),
    };
    if fine {
        Ok(())
    } else {
        Err(format!(
            "--frame-ancestors {sources:?}: give 'none' alone, or 'self' and origins such as https://intranet.example.com"
        ))
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
