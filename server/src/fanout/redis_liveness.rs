//! Whether Redis answers, not only whether its connections are open. fred notices a
//! connection that closes; one that goes silent (a network partition, a frozen or
//! swamped server: packets dropped, nothing closed) looks open until TCP gives up,
//! minutes later, and a node that only listens on it would wait that long without a
//! word. So the bus pings both of its connections every second: a silent round marks
//! it not connected (the node reports itself degraded and reads snapshots from the
//! database), a few silent rounds re-open the silent connections, and the first round
//! that answers again asks for a resync, since what was published meanwhile is lost.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use fred::prelude::*;
use fred::types::Value;

use super::redis::RedisBus;
use crate::shutdown::Shutdown;

/// How often both connections are pinged.
const PING_EVERY: Duration = Duration::from_secs(1);
/// How long a ping may take before the round counts as silent.
const PING_TIMEOUT: Duration = Duration::from_secs(1);
/// Silent rounds in a row after which a silent connection is closed and re-opened.
const RECONNECT_AFTER: u32 = 3;

impl RedisBus {
    /// Pings both connections every [`PING_EVERY`] until `shutdown`.
    pub(super) async fn keep_checking(self: Arc<Self>, shutdown: Shutdown) {
        let mut rounds = tokio::time::interval(PING_EVERY);
        rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut silent = 0u32;
        loop {
            tokio::select! {
                () = shutdown.wait() => return,
                _ = rounds.tick() => {}
            }
            let (publisher, subscriber) = self.clients();
            let (published, subscribed) = tokio::join!(answers(&publisher), answers(&subscriber));
            if published && subscribed {
                if silent > 0 {
                    tracing::info!(silent_rounds = silent, "Redis answers again; resyncing");
                    self.answering.store(true, Relaxed);
                    self.ask_resync();
                }
                silent = 0;
                continue;
            }
            silent += 1;
            if silent == 1 {
                tracing::warn!(
                    publisher = published,
                    subscriber = subscribed,
                    "Redis does not answer on an open connection; sockets follow the database until it does"
                );
                self.answering.store(false, Relaxed);
            }
            if silent.is_multiple_of(RECONNECT_AFTER) {
                for (client, answered) in [(publisher, published), (subscriber, subscribed)] {
                    if !answered {
                        reconnect(client);
                    }
                }
            }
        }
    }
}

/// Whether `client` answers a PING in time.
async fn answers(client: &Client) -> bool {
    matches!(
        tokio::time::timeout(PING_TIMEOUT, client.ping::<Value>(None)).await,
        Ok(Ok(_))
    )
}

/// Closes and re-opens `client`'s connection, in the background: against a server that
/// does not answer, the new connection waits for its handshake to time out.
fn reconnect(client: Client) {
    // Bounded by fred's connection timeout: the task ends by itself.
    tokio::spawn(async move {
        if let Err(e) = client.force_reconnection().await {
            tracing::debug!(error = %e, "forced Redis reconnection failed");
        }
    });
}
