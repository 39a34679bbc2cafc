//! The node's WebSocket sessions: how many are open, the number each gets, and the
//! limit on how many may be.
//!
//! axum's graceful shutdown waits for HTTP requests but not for upgraded connections
//! (tokio-rs/axum#3003), so every session holds a [`SessionGuard`] while it runs, and
//! [`Sessions::all_closed`] tells the server when the last one is gone.
//!
//! Admission counts here, not from a metric: [`Sessions::admit`] takes a place under
//! the limit or refuses, and the place is held from the upgrade until the session ends,
//! so the limit holds however many upgrades race.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::Notify;

use crate::fanout::SocketId;

/// The open sessions, cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sessions {
    inner: Arc<SessionsInner>,
}

#[derive(Debug, Default)]
struct SessionsInner {
    open: AtomicUsize,
    closed: Notify,
    next_id: AtomicU64,
}

/// A session's place, held while it runs; dropping it counts the session closed.
#[derive(Debug)]
pub(crate) struct SessionGuard {
    inner: Arc<SessionsInner>,
    /// The session's socket number, unique on this node.
    pub(crate) id: SocketId,
}

impl Sessions {
    /// A place for a new session, unless `max` are open already.
    pub(crate) fn admit(&self, max: usize) -> Option<SessionGuard> {
        self.inner
            .open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |open| {
                (open < max).then_some(open + 1)
            })
            .ok()?;
        Some(SessionGuard {
            inner: self.inner.clone(),
            id: self.inner.next_id.fetch_add(1, Ordering::Relaxed) + 1,
        })
    }

    /// Sessions open now.
    pub(crate) fn count(&self) -> usize {
        self.inner.open.load(Ordering::SeqCst)
    }

    /// Resolves when no session is open.
    pub(crate) async fn all_closed(&self) {
        loop {
            let closed = self.inner.closed.notified();
            if self.count() == 0 {
                return;
            }
            closed.await;
        }
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        if self.inner.open.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.inner.closed.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_stops_at_the_limit_and_a_closed_session_frees_its_place() {
        let sessions = Sessions::default();
        let first = sessions.admit(2).expect("room for two");
        let second = sessions.admit(2).expect("room for two");
        assert_ne!(first.id, second.id, "every session has its own number");
        assert!(sessions.admit(2).is_none(), "full");
        assert_eq!(sessions.count(), 2);
        drop(first);
        assert_eq!(sessions.count(), 1);
        assert!(sessions.admit(2).is_some(), "a place was freed");
    }
}
