//! The flags of the per-client-address limits. Each default is chosen so that a
//! classroom of 200 people behind one NAT address gets through, and a script from one
//! address does not get much further; the README's "Abuse limits" section says why
//! each number is what it is.

use std::net::IpAddr;

use clap::Args;
use ipnet::IpNet;

use crate::settings::{AbuseLimits, Rate};

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Abuse limits (per client address)")]
pub(super) struct AbuseArgs {
    /// New voters (POST /api/voters) one address may mint at once. 200: a class of 200
    /// behind one NAT address all join in the same second.
    #[arg(
        long,
        env = "VOTEWIRE_VOTERS_BURST",
        default_value_t = 200,
        global = true
    )]
    voters_burst: u32,
    /// New voters per minute one address gets back after its burst. 300: late joiners and
    /// a second class keep coming in, while a script mints at most 200 + 300 a minute.
    #[arg(
        long,
        env = "VOTEWIRE_VOTERS_PER_MINUTE",
        default_value_t = 300,
        global = true
    )]
    voters_per_minute: u32,
    /// Votes and withdrawals one address may send at once. 600: each of 200 people
    /// votes and changes their mind twice in the same moment.
    #[arg(
        long,
        env = "VOTEWIRE_VOTES_BURST",
        default_value_t = 600,
        global = true
    )]
    votes_burst: u32,
    /// Votes and withdrawals per minute after the burst. 1200: 200 people each changing
    /// their vote every 10 seconds.
    #[arg(
        long,
        env = "VOTEWIRE_VOTES_PER_MINUTE",
        default_value_t = 1200,
        global = true
    )]
    votes_per_minute: u32,
    /// Polls (POST /api/polls) one address may create at once. 100: half a class
    /// making a poll each in the same second in a workshop.
    #[arg(
        long,
        env = "VOTEWIRE_POLLS_BURST",
        default_value_t = 100,
        global = true
    )]
    polls_burst: u32,
    /// Polls per minute after the burst. 60: the whole class of 200 has made its polls
    /// within two minutes; a script makes at most one a second.
    #[arg(
        long,
        env = "VOTEWIRE_POLLS_PER_MINUTE",
        default_value_t = 60,
        global = true
    )]
    polls_per_minute: u32,
    /// WebSocket connections one address may open at once. 1000: 200 browsers with a
    /// few tabs each all reconnecting after a node restarts.
    #[arg(
        long,
        env = "VOTEWIRE_WS_CONNECTS_BURST",
        default_value_t = 1000,
        global = true
    )]
    ws_connects_burst: u32,
    /// WebSocket connections per minute after the burst. 600: every tab of such a
    /// class reconnecting once a minute.
    #[arg(
        long,
        env = "VOTEWIRE_WS_CONNECTS_PER_MINUTE",
        default_value_t = 600,
        global = true
    )]
    ws_connects_per_minute: u32,
    /// Most WebSocket sessions open at once from one address. 1000: 200 browsers with
    /// five tabs each.
    #[arg(
        long,
        env = "VOTEWIRE_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 1000,
        global = true
    )]
    max_connections_per_address: usize,
    /// Most plain HTTP connections open at once from one TCP peer (a WebSocket leaves
    /// this count when it upgrades). 1200: 200 browsers with the 6 connections a
    /// browser opens to one host at most. A trusted proxy's or an exempt address's
    /// connections are not capped: the proxy caps its clients (nginx's `limit_conn`).
    #[arg(
        long,
        env = "VOTEWIRE_MAX_HTTP_CONNECTIONS_PER_ADDRESS",
        default_value_t = 1200,
        global = true
    )]
    max_http_connections_per_address: usize,
    /// A proxy in front of the node (an address or a CIDR; repeatable, comma-separated
    /// in the variable): a request from it is counted against the last address of its
    /// X-Forwarded-For that is not itself a trusted proxy. None by default: the TCP
    /// peer is the client.
    #[arg(
        long = "trusted-proxy",
        env = "VOTEWIRE_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_net,
        global = true
    )]
    trusted_proxies: Vec<IpNet>,
    /// Client addresses no abuse limit applies to (an address or a CIDR; repeatable,
    /// comma-separated in the variable): for load generators and benchmarks, and
    /// nothing else.
    #[arg(
        long = "rate-limit-exempt",
        env = "VOTEWIRE_RATE_LIMIT_EXEMPT",
        value_delimiter = ',',
        value_parser = parse_net,
        global = true
    )]
    exempt: Vec<IpNet>,
}

/// A CIDR (`10.0.0.0/8`, `fd00::/8`), or one address as a network of one.
fn parse_net(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is neither an address nor a CIDR such as 10.0.0.0/8"))
}

impl AbuseArgs {
    /// The limits, refusing a rate or burst of 0 (to lift the limits from an address,
    /// exempt it).
    pub(super) fn into_limits(self) -> Result<AbuseLimits, String> {
        let rate = |name: &str, burst: u32, per_minute: u32| {
            if burst == 0 || per_minute == 0 {
                return Err(format!(
                    "--{name}-burst and --{name}-per-minute must be at least 1 (exempt an address with --rate-limit-exempt instead)"
                ));
            }
            Ok(Rate { burst, per_minute })
        };
        if self.max_connections_per_address == 0 {
            return Err("--max-connections-per-address must be at least 1".into());
        }
        if self.max_http_connections_per_address == 0 {
            return Err("--max-http-connections-per-address must be at least 1".into());
        }
        Ok(AbuseLimits {
            voters: rate("voters", self.voters_burst, self.voters_per_minute)?,
            votes: rate("votes", self.votes_burst, self.votes_per_minute)?,
            polls: rate("polls", self.polls_burst, self.polls_per_minute)?,
            ws_connects: rate(
                "ws-connects",
                self.ws_connects_burst,
                self.ws_connects_per_minute,
            )?,
            max_connections_per_address: self.max_connections_per_address,
            max_http_connections_per_address: self.max_http_connections_per_address,
            trusted_proxies: self.trusted_proxies,
            exempt: self.exempt,
        })
    }
}
