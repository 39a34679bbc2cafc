//! What the node can serve right now, for `/readyz` and `/metrics`.
//!
//! Readiness is what a load balancer or a Kubernetes readiness probe acts on: a node that
//! is not ready leaves the rotation, and when every node answers the same, the Service is
//! empty. So "not ready" is kept for a node that can serve nothing useful: one draining,
//! or one with no database at all. A node that lost Redis still takes votes and serves
//! its own sockets; one that lost its primary still serves reads and sockets from the
//! replicas. Both are *degraded*: ready, with what is missing named in the body and in
//! `votewire_readiness`.

use std::collections::BTreeMap;

use crate::state::App;
use crate::store::ReplicaState;

/// How much of the node works, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// Everything it was configured with answers.
    Ready,
    /// Serving, without Redis (sockets see only this node's votes until it returns) or
    /// without the primary (reads from replicas; writes answer 503).
    Degraded,
    /// No database answers: nothing useful can be served.
    Unavailable,
    /// Shutting down: finishing what is in flight, taking nothing new.
    Draining,
}

impl Level {
    /// Every level, in the order `votewire_readiness` lists them.
    pub(crate) const ALL: [Level; 4] = [
        Self::Ready,
        Self::Degraded,
        Self::Unavailable,
        Self::Draining,
    ];

    /// Its word in `/readyz` and in the metric's label.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Degraded => "degraded",
            Self::Unavailable => "unavailable",
            Self::Draining => "draining",
        }
    }

    /// Whether a readiness probe should keep the node in the rotation.
    pub(crate) fn serves(self) -> bool {
        matches!(self, Self::Ready | Self::Degraded)
    }
}

/// The node's readiness and, per part, `ok` or what is wrong with it.
#[derive(Debug, Clone)]
pub(crate) struct Readiness {
    pub(crate) level: Level,
    pub(crate) checks: BTreeMap<String, String>,
}

/// Asks each part: the primary (one ping), the replicas' last probes, the bus, the
/// shutdown, and in `--ingest stream` mode the votes waiting in the streams.
pub(crate) async fn assess(app: &App) -> Readiness {
    let draining = app.shutdown.is_draining();
    let primary = app.store.ping().await;
    let replicas = app.replicas.as_ref().map(|replicas| {
        let health = replicas.health();
        let serving = health
            .iter()
            .filter(|replica| replica.state == ReplicaState::Healthy)
            .count();
        (serving, health.len())
    });
    let bus = app.fanout.bus_connected();
    // A node in stream mode takes votes without any database: they wait in Redis.
    let takes_votes_without_database = app.ingest.stream.is_some() && bus;

    let level = if draining {
        Level::Draining
    } else {
        match (&primary, replicas) {
            (Ok(()), _) if bus => Level::Ready,
            (Ok(()), _) => Level::Degraded,
            (Err(_), Some((serving, _))) if serving > 0 => Level::Degraded,
            (Err(_), _) if takes_votes_without_database => Level::Degraded,
            (Err(_), _) => Level::Unavailable,
        }
    };
    let mut checks = BTreeMap::new();
    let mut check = |part: &str, state: String| checks.insert(part.to_owned(), state);
    check("shutdown", if draining { "draining" } else { "ok" }.into());
    check(
        "database",
        match &primary {
            Ok(()) => "ok".into(),
            Err(e) => format!("primary unreachable: {e}"),
        },
    );
    if let Some((serving, all)) = replicas {
        let state = if serving == all {
            "ok".into()
        } else {
            format!("{serving} of {all} replicas in the read rotation")
        };
        check("replicas", state);
    }
    check(
        "bus",
        if bus {
            "ok".into()
        } else {
            "disconnected: sockets see this node's votes only until it returns".into()
        },
    );
    if let Some(ingest) = &app.ingest.stream {
        let (waiting, most) = (ingest.backlog(), ingest.max_backlog());
        let state = match waiting {
            0 => "ok".into(),
            n if n >= most => format!("{n} votes waiting, the most allowed: new votes answer 503"),
            n => format!("{n} votes waiting to be committed"),
        };
        check("ingest", state);
    }
    Readiness { level, checks }
}
