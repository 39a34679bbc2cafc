//! Logging: `tracing` to stderr (stdout stays free for command output), filtered by
//! `RUST_LOG` (default `info`), as text (coloured only on a terminal) or as one JSON
//! object per line for a log collector. A request's lines carry its id (the `request`
//! span that `http::requests` opens).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people: a line of text, coloured on a terminal.
    Text,
    /// For machines: one JSON object per line, with the current span's fields.
    Json,
}

/// Installs the log subscriber once for the process.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}
