//! How the node's Redis clients are made: the bus ([`crate::fanout`]) and the ingest
//! stream ([`crate::ingest`]) connect alike, to one Redis, one Redis Cluster or one over
//! TLS, with the same timeouts and reconnect policy.
//!
//! fred's defaults do not suit a vote path: without a reconnect policy a client never
//! reconnects, and a command waits for an answer as long as the connection lasts.
//! Here every client reconnects with an exponential backoff and no attempt limit, a
//! command fails after [`COMMAND_TIMEOUT`], and a connection silent for
//! [`UNRESPONSIVE_AFTER`] is closed and re-opened (a half-open connection would
//! otherwise go unnoticed).

mod tls;

use std::path::Path;
use std::time::Duration;

use fred::prelude::{Builder, Config, ReconnectPolicy};
use fred::types::config::UnresponsiveConfig;

/// A command that gets no answer in this time fails; votes never wait longer on Redis.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);
/// A connection silent for this long is closed and re-opened.
const UNRESPONSIVE_AFTER: Duration = Duration::from_secs(2);

/// A client builder for the Redis at `url` (`redis://`, `rediss://`,
/// `redis-cluster://`), with `ca_file`'s certificates trusted for TLS besides the
/// system's. The error names what is wrong without the URL's password.
pub(crate) fn builder(url: &str, ca_file: Option<&Path>) -> Result<Builder, String> {
    let mut config = Config::from_url(url).map_err(|e| {
        let url = crate::redact::url(url);
        format!("invalid Redis URL {url:?}: {e}")
    })?;
    match (&config.tls, ca_file) {
        (Some(_), _) => config.tls = Some(tls::config(ca_file)?),
        (None, Some(_)) => {
            return Err(
                "--redis-ca-file is for TLS: the Redis URL must start with rediss://".into(),
            );
        }
        (None, None) => {}
    }
    let mut builder = Builder::from_config(config);
    builder
        .with_connection_config(|c| {
            c.connection_timeout = COMMAND_TIMEOUT;
            c.internal_command_timeout = COMMAND_TIMEOUT;
            c.max_command_attempts = 1;
            c.unresponsive = UnresponsiveConfig {
                max_timeout: Some(UNRESPONSIVE_AFTER),
                interval: Duration::from_millis(500),
            };
        })
        .with_performance_config(|p| p.default_command_timeout = COMMAND_TIMEOUT)
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 1_000, 2));
    Ok(builder)
}
