//! After a failover, pooled connections may still sit on the old primary, now a
//! read-only server, while new connections reach the new one (a moved DNS name or
//! virtual IP). Every write on such a connection fails, and a pool would keep handing
//! it out until its lifetime ends, half an hour later.
//!
//! So when a write meets a read-only server, [`StaleConnections::mark`] notes the time,
//! and the writer pool's `before_acquire` closes every connection opened before it:
//! the next writes get fresh connections. A healthy connection opened before the mark
//! goes too, which costs one reconnect per failover, no query per acquire.
//!
//! The rejected alternative, a `SELECT @@read_only` (or `pg_is_in_recovery()`) before
//! every acquire, pays a round trip on every write to catch an event of once a year.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Database;
use sqlx::pool::PoolOptions;

/// When a write last met a read-only server.
#[derive(Debug, Default)]
pub(crate) struct StaleConnections {
    marked_at: Mutex<Option<Instant>>,
}

impl StaleConnections {
    /// Marks every connection opened until now as stale.
    pub(crate) fn mark(&self) {
        tracing::warn!(
            "a write met a read-only database (a failover?): reconnecting the writer pool"
        );
        *self.marked_at.lock().expect("the lock is never poisoned") = Some(Instant::now());
    }

    /// True for a connection of this `age` that was opened before the last mark.
    pub(crate) fn is_stale(&self, age: Duration) -> bool {
        let marked_at = *self.marked_at.lock().expect("the lock is never poisoned");
        marked_at.is_some_and(|mark| {
            Instant::now()
                .checked_sub(age)
                .is_none_or(|opened| opened < mark)
        })
    }
}

/// `options` with a `before_acquire` that closes the connections `stale` marks.
pub(crate) fn evicting_stale<DB: Database>(
    options: PoolOptions<DB>,
    stale: &Arc<StaleConnections>,
) -> PoolOptions<DB> {
    let stale = stale.clone();
    options.before_acquire(move |_connection, meta| {
        let keep = !stale.is_stale(meta.age);
        Box::pin(async move { Ok(keep) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_opened_before_the_mark_are_stale_and_later_ones_are_not() {
        let stale = StaleConnections::default();
        assert!(
            !stale.is_stale(Duration::from_secs(60)),
            "nothing marked yet"
        );
        stale.mark();
        assert!(stale.is_stale(Duration::from_secs(60)));
        assert!(
            !stale.is_stale(Duration::ZERO),
            "opened just now, after the mark"
        );
    }
}
