//! Per-client-address abuse limits: "a classroom survives, a script does not".
//!
//! Four token buckets per address (new voters, votes, new polls, WebSocket
//! connections; `governor`'s keyed GCRA limiters over a `DashMap`), a cap on the
//! WebSocket sessions an address holds at once and one on the plain HTTP connections
//! a TCP peer holds at once. The client's address is the TCP peer
//! or, behind a trusted proxy, what the proxy says ([`address`]); IPv6 clients are
//! counted by their /64. Addresses of `--rate-limit-exempt` pass untouched: the load
//! generators and benchmarks use that switch, and nothing else.
//!
//! The limits are per node, not shared across the cluster through Redis: a shared
//! count would add a round trip to every vote for a limit that only needs to be right
//! to within a factor (the proxy spreads an address over the nodes, so a cluster of N
//! lets an address do up to N times as much). The buckets forget an address once it is
//! back to a full bucket, in a sweep every minute ([`Abuse::prune_until`]), so memory
//! follows the addresses active in the last minute, not every address ever seen.

mod address;
mod connections;
mod extract;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use votewire_proto::ErrorCode;

use crate::error::Refusal;
use crate::settings::{AbuseLimits, Rate};
use crate::shutdown::Shutdown;
pub(crate) use connections::AddressGuard;
use connections::Connections;
pub(crate) use extract::{ClientAddress, NewPoll, NewVoter, Vote, Within};

/// How often the buckets of addresses gone quiet are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// The rate-limited actions, each with its own bucket per address; declared in the
/// order of [`Limit::ALL`], which is the order of the buckets and their counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    Voters,
    Votes,
    Polls,
    WsConnects,
}

impl Limit {
    const ALL: [Limit; 4] = [Self::Voters, Self::Votes, Self::Polls, Self::WsConnects];

    /// Its name in errors and metrics; also the stem of its flags.
    fn name(self) -> &'static str {
        match self {
            Self::Voters => "voters",
            Self::Votes => "votes",
            Self::Polls => "polls",
            Self::WsConnects => "ws_connects",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Voters => "new voters",
            Self::Votes => "votes",
            Self::Polls => "new polls",
            Self::WsConnects => "WebSocket connections",
        }
    }

    fn rate(self, limits: &AbuseLimits) -> Rate {
        match self {
            Self::Voters => limits.voters,
            Self::Votes => limits.votes,
            Self::Polls => limits.polls,
            Self::WsConnects => limits.ws_connects,
        }
    }
}

/// The metric labels of the per-address caps on WebSocket sessions and on HTTP
/// connections, beside the four rate limits, in the order of their refusal counts.
const CAPS: [&str; 2] = ["connections_per_address", "http_connections_per_address"];

/// A refusal by an abuse limit: 429 `rate_limited` with `Retry-After` over REST, an
/// `error` message and a close over a socket.
#[derive(Debug)]
pub(crate) struct Limited {
    refusal: Refusal,
    /// Whole seconds until a retry can pass, at least 1; none for the connection cap,
    /// which frees up when a session ends.
    retry_after: Option<u64>,
}

impl Limited {
    /// The refusal, for a socket's `error` message.
    pub(crate) fn into_refusal(self) -> Refusal {
        self.refusal
    }
}

impl IntoResponse for Limited {
    fn into_response(self) -> Response {
        let mut response = self.refusal.into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, secs.into());
        }
        response
    }
}

/// The limits of every address, shared by the REST routes and the WebSocket upgrade.
#[derive(Debug)]
pub(crate) struct Abuse {
    limits: AbuseLimits,
    /// One keyed limiter per [`Limit`], in [`Limit::ALL`] order.
    buckets: [DefaultKeyedRateLimiter<IpAddr>; 4],
    /// WebSocket sessions open, by client address.
    sessions: Connections,
    /// Plain HTTP connections open, by TCP peer.
    http_connections: Connections,
    /// Refusals by [`Limit`], then by each of [`CAPS`], for `/metrics`.
    refused: [AtomicU64; 6],
}

impl Abuse {
    /// Full buckets for every address.
    pub(crate) fn new(limits: AbuseLimits) -> Self {
        let buckets = Limit::ALL.map(|limit| {
            let Rate { burst, per_minute } = limit.rate(&limits);
            let nonzero = |n: u32| NonZeroU32::new(n).expect("the command line refuses 0");
            RateLimiter::keyed(Quota::per_minute(nonzero(per_minute)).allow_burst(nonzero(burst)))
        });
        Self {
            limits,
            buckets,
            sessions: Connections::default(),
            http_connections: Connections::default(),
            refused: Default::default(),
        }
    }

    /// The client of a request from `peer` with these `X-Forwarded-For` values.
    pub(crate) fn client<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl Iterator<Item = &'a [u8]>,
    ) -> IpAddr {
        address::resolve(peer, forwarded_for, &self.limits.trusted_proxies)
    }

    fn exempt(&self, client: IpAddr) -> bool {
        address::is_in(client, &self.limits.exempt)
    }

    /// Takes a token of `limit` from `client`'s bucket, or says when to retry.
    pub(crate) fn check(&self, limit: Limit, client: IpAddr) -> Result<(), Limited> {
        if self.exempt(client) {
            return Ok(());
        }
        let index = limit as usize;
        let bucket = &self.buckets[index];
        let Err(not_until) = bucket.check_key(&address::bucket(client)) else {
            return Ok(());
        };
        self.refused[index].fetch_add(1, Relaxed);
        let wait = not_until.wait_time_from(bucket.clock().now());
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let secs = secs.max(1);
        let Rate { burst, per_minute } = limit.rate(&self.limits);
        let name = limit.name();
        let flag = name.replace('_', "-");
        let message = format!(
            "rate limit {name}: too many {} from your address (at most {burst} at once, then {per_minute} a minute: --{flag}-burst, --{flag}-per-minute); retry in {secs} s",
            limit.what()
        );
        Err(Limited {
            refusal: Refusal::new(ErrorCode::RateLimited, message),
            retry_after: Some(secs),
        })
    }

    /// Admits a WebSocket session of `client`: a token of its connection bucket and a
    /// place under its connection cap, held by the guard until the session ends (none
    /// for an exempt address).
    pub(crate) fn connect(&self, client: IpAddr) -> Result<Option<AddressGuard>, Limited> {
        if self.exempt(client) {
            return Ok(None);
        }
        self.check(Limit::WsConnects, client)?;
        let max = self.limits.max_connections_per_address;
        let refused = || {
            format!(
                "connection limit: your address holds {max} WebSocket connections already (--max-connections-per-address); close one first"
            )
        };
        self.admit(&self.sessions, 0, client, max, refused)
    }

    /// Admits a plain HTTP connection from TCP peer `peer`: a place under its cap,
    /// held by the guard until the connection closes or upgrades. A trusted proxy
    /// carries many clients (it caps them itself) and an exempt address is not
    /// limited: neither is counted.
    pub(crate) fn accept(&self, peer: IpAddr) -> Result<Option<AddressGuard>, Limited> {
        let peer = address::canonical(peer);
        if self.exempt(peer) || address::is_in(peer, &self.limits.trusted_proxies) {
            return Ok(None);
        }
        let max = self.limits.max_http_connections_per_address;
        let refused = || {
            format!(
                "connection limit: your address holds {max} HTTP connections already (--max-http-connections-per-address); close one first"
            )
        };
        self.admit(&self.http_connections, 1, peer, max, refused)
    }

    /// A place for `client` under cap number `cap` (of [`CAPS`]), counted in `open`.
    fn admit(
        &self,
        open: &Connections,
        cap: usize,
        client: IpAddr,
        max: usize,
        refused: impl FnOnce() -> String,
    ) -> Result<Option<AddressGuard>, Limited> {
        match open.admit(address::bucket(client), max) {
            Some(guard) => Ok(Some(guard)),
            None => {
                self.refused[Limit::ALL.len() + cap].fetch_add(1, Relaxed);
                Err(Limited {
                    refusal: Refusal::new(ErrorCode::RateLimited, refused()),
                    retry_after: None,
                })
            }
        }
    }

    /// Refusals so far by limit name, for `/metrics`.
    pub(crate) fn refusals(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let names = Limit::ALL.map(Limit::name).into_iter().chain(CAPS);
        names.zip(self.refused.iter().map(|count| count.load(Relaxed)))
    }

    /// Every minute until `shutdown`, forgets the addresses whose buckets are full
    /// again: they are indistinguishable from addresses never seen.
    pub(crate) async fn prune_until(self: Arc<Self>, shutdown: Shutdown) {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        every.reset(); // the first tick would fire at once, with nothing to prune
        loop {
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = every.tick() => self.prune(),
            }
        }
    }

    /// Forgets the addresses whose buckets are full again.
    fn prune(&self) {
        for bucket in &self.buckets {
            bucket.retain_recent();
            bucket.shrink_to_fit();
        }
    }

    /// Addresses remembered, over every bucket.
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.buckets.iter().map(|bucket| bucket.len()).sum()
    }
}

#[cfg(test)]
mod tests;
