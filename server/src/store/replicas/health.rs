//! The read rotation's health: the monitor that writes the heartbeat and probes each
//! replica, and the state it leaves for [`ReplicatedStore`]'s reads.

use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::ReplicatedStore;
use crate::store::{Backend, StoreError, connect, from_millis, to_millis};

/// How often the heartbeat is written and the replicas are probed.
pub(crate) const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(500);
/// Longest a probe (or the heartbeat write) may take before it counts as a failure.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Longest a probe may take to open a replica's connection pool.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Where a replica stands in the read rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ReplicaState {
    /// Not probed yet: out of the rotation.
    Unknown = 0,
    /// Answering and within the lag bound: in the rotation.
    Healthy = 1,
    /// Answering but further behind than the bound: out until it catches up.
    Lagging = 2,
    /// Failing (unreachable, refusing): out until a probe succeeds.
    Down = 3,
}

impl ReplicaState {
    fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::Healthy,
            2 => Self::Lagging,
            3 => Self::Down,
            _ => Self::Unknown,
        }
    }
}

/// One replica's health, as its last probe (or failed read) left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaHealth {
    /// In or out of the rotation, and why.
    pub state: ReplicaState,
    /// The age of the heartbeat it last answered with, at the last probe; it keeps
    /// growing while the replica is down.
    pub lag: Duration,
}

pub(super) struct Replica {
    /// Where to connect when `store` is still empty.
    url: Option<String>,
    /// The open store; a std mutex, only held to clone or set the `Arc`.
    store: Mutex<Option<Arc<dyn Backend>>>,
    state: AtomicU8,
    /// The last heartbeat it answered with (the store's creation before any).
    last_beat_ms: AtomicI64,
    lag_ms: AtomicU64,
}

impl Replica {
    pub(super) fn new(url: Option<String>, store: Option<Arc<dyn Backend>>) -> Self {
        Self {
            url,
            store: Mutex::new(store),
            state: AtomicU8::new(ReplicaState::Unknown as u8),
            last_beat_ms: AtomicI64::new(to_millis(Utc::now())),
            lag_ms: AtomicU64::new(0),
        }
    }

    pub(super) fn state(&self) -> ReplicaState {
        ReplicaState::from_u8(self.state.load(Relaxed))
    }

    pub(super) fn swap_state(&self, state: ReplicaState) -> ReplicaState {
        ReplicaState::from_u8(self.state.swap(state as u8, Relaxed))
    }

    pub(super) fn connected(&self) -> Option<Arc<dyn Backend>> {
        self.store
            .lock()
            .expect("replica lock is never poisoned")
            .clone()
    }

    /// The replica's heartbeat, connecting first when it never has.
    async fn heartbeat(&self) -> Result<DateTime<Utc>, StoreError> {
        let store = match self.connected() {
            Some(store) => store,
            None => {
                let url = self
                    .url
                    .as_deref()
                    .expect("a replica without a store has a URL");
                let store = tokio::time::timeout(CONNECT_TIMEOUT, connect(url))
                    .await
                    .map_err(|_| StoreError::Unavailable("connecting timed out".into()))??;
                *self.store.lock().expect("replica lock is never poisoned") = Some(store.clone());
                store
            }
        };
        tokio::time::timeout(PROBE_TIMEOUT, store.heartbeat())
            .await
            .map_err(|_| StoreError::Unavailable("the heartbeat read timed out".into()))?
    }
}

impl ReplicatedStore {
    /// Each replica's health, in the order they were given.
    pub fn health(&self) -> Vec<ReplicaHealth> {
        self.replicas
            .iter()
            .map(|r| ReplicaHealth {
                state: r.state(),
                lag: Duration::from_millis(r.lag_ms.load(Relaxed)),
            })
            .collect()
    }

    /// Writes the heartbeat and probes every replica, every `HEARTBEAT_INTERVAL`
    /// (500 ms), until `shutdown` resolves.
    pub async fn monitor(self: Arc<Self>, shutdown: impl Future<Output = ()>) {
        let mut every = tokio::time::interval(HEARTBEAT_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                // A round in progress is dropped on shutdown: it only reads and
                // overwrites the heartbeat, nothing that must finish.
                _ = async { every.tick().await; self.check().await } => {}
            }
        }
        tracing::debug!("replica monitor ended: shutdown");
    }

    /// One round: writes the heartbeat to the primary, then probes every replica at
    /// once and moves it in or out of the rotation.
    pub async fn check(&self) {
        let wrote =
            match tokio::time::timeout(PROBE_TIMEOUT, self.primary.write_heartbeat(Utc::now()))
                .await
            {
                Ok(Ok(())) => true,
                Ok(Err(e)) => {
                    tracing::debug!(error = ?e, "heartbeat write failed");
                    false
                }
                Err(_) => {
                    tracing::debug!("heartbeat write timed out");
                    false
                }
            };
        let probes = self
            .replicas
            .iter()
            .enumerate()
            .map(|(index, replica)| self.probe(index, replica, wrote));
        futures_util::future::join_all(probes).await;
        self.forget_old_polls();
    }

    /// Probes one replica. When the heartbeat could not be written (the primary is
    /// unreachable from here) the ages prove nothing: every replica's grows while no one
    /// can write. A replica that answers then holds the newest data this node can
    /// reach, so it serves reads, whatever its lag was before; a read that needs a
    /// version it does not have still goes to the primary (and fails), never backwards.
    async fn probe(&self, index: usize, replica: &Replica, judge_lag: bool) {
        let read = replica.heartbeat().await;
        if let Ok(beat) = &read {
            replica.last_beat_ms.store(to_millis(*beat), Relaxed);
        }
        let last_beat = from_millis(replica.last_beat_ms.load(Relaxed));
        let lag = (Utc::now() - last_beat).to_std().unwrap_or_default();
        replica
            .lag_ms
            .store(lag.as_millis().try_into().unwrap_or(u64::MAX), Relaxed);
        let state = match &read {
            Err(_) => ReplicaState::Down,
            Ok(_) if !judge_lag => ReplicaState::Healthy,
            Ok(_) if lag > self.max_lag => ReplicaState::Lagging,
            Ok(_) => ReplicaState::Healthy,
        };
        let was = replica.swap_state(state);
        match (was, state, read) {
            (was, now, _) if was == now => {}
            (_, ReplicaState::Healthy, _) => {
                tracing::info!(
                    replica = index,
                    lag_ms = lag.as_millis(),
                    "replica in the read rotation"
                );
            }
            // At start-up the first heartbeat has often not reached the replica yet.
            (ReplicaState::Unknown, ReplicaState::Lagging, _) => tracing::debug!(
                replica = index,
                lag_ms = lag.as_millis(),
                "replica not caught up with the heartbeat yet"
            ),
            (_, ReplicaState::Lagging, _) => tracing::warn!(
                replica = index,
                lag_ms = lag.as_millis(),
                max_lag_ms = self.max_lag.as_millis(),
                "replica lags too far: out of the read rotation until it catches up"
            ),
            (_, _, Err(e)) => tracing::warn!(
                replica = index,
                error = ?e,
                "replica unreachable: out of the read rotation"
            ),
            _ => {}
        }
    }
}
