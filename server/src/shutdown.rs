//! Shutdown: one signal that every part of the node watches, and a count of the
//! WebSocket sessions still open.
//!
//! axum's graceful shutdown waits for HTTP requests but not for upgraded connections
//! (tokio-rs/axum#3003), so sessions register here, watch [`Shutdown::wait`] in their
//! `select!` loop, close with 1001, and [`Sessions::all_closed`] tells `run` when the
//! last one is gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, watch};

/// The node's shutdown signal: cheap to clone, fired once.
#[derive(Clone)]
pub struct Shutdown {
    fired: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            fired: watch::Sender::new(false),
        }
    }
}

impl Shutdown {
    /// A signal not yet fired.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the shutdown: `/readyz` turns 503, sessions close, the server drains.
    pub fn fire(&self) {
        self.fired.send_replace(true);
    }

    /// True once the shutdown has started.
    pub fn is_draining(&self) -> bool {
        *self.fired.borrow()
    }

    /// Resolves once the shutdown has started.
    pub async fn wait(&self) {
        let mut rx = self.fired.subscribe();
        // The sender is alive as long as `self` is.
        let _ = rx.wait_for(|fired| *fired).await;
    }
}

/// Registers for SIGTERM and SIGINT (Ctrl-C) now, and returns a future that resolves
/// on the first of them. Registering eagerly matters: a signal that arrives before
/// the handler exists would kill the process instead of draining it.
#[cfg(unix)]
pub fn os_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received: draining"),
            _ = int.recv() => tracing::info!("SIGINT received: draining"),
        }
    })
}

/// Returns a future that resolves on Ctrl-C.
#[cfg(not(unix))]
pub fn os_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Counts open WebSocket sessions.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<SessionsInner>,
}

#[derive(Default)]
struct SessionsInner {
    open: AtomicUsize,
    closed: Notify,
}

/// Held by a session while it runs; dropping it counts the session closed.
pub struct SessionGuard {
    inner: Arc<SessionsInner>,
}

impl Sessions {
    /// Counts a new session until the guard drops.
    pub fn open(&self) -> SessionGuard {
        self.inner.open.fetch_add(1, Ordering::SeqCst);
        SessionGuard {
            inner: self.inner.clone(),
        }
    }

    /// Sessions open now.
    pub fn count(&self) -> usize {
        self.inner.open.load(Ordering::SeqCst)
    }

    /// Resolves when no session is open.
    pub async fn all_closed(&self) {
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
