//! Shutdown: one signal that every part of the node watches, fired once by SIGTERM,
//! SIGINT or a test.
//!
//! The caller that runs a node owns its shutdown (mini-redis's `run(listener,
//! shutdown)`): `main` fires it on a signal, a test when it is done.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// The node's shutdown signal: cheap to clone, fired once.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    inner: Arc<Fired>,
}

/// A flag and the waiters to wake when it is set. A `Notify` rather than a `watch`:
/// every socket's session waits on it, and its wait is the smaller future (an idle
/// socket's memory is mostly its session's future).
#[derive(Debug, Default)]
struct Fired {
    fired: AtomicBool,
    waiters: Notify,
}

impl Shutdown {
    /// A signal not yet fired.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the shutdown: `/readyz` turns 503, sessions close, the server drains.
    pub fn fire(&self) {
        self.inner.fired.store(true, Ordering::SeqCst);
        self.inner.waiters.notify_waiters();
    }

    /// True once the shutdown has started.
    pub fn is_draining(&self) -> bool {
        self.inner.fired.load(Ordering::SeqCst)
    }

    /// Resolves once the shutdown has started.
    pub async fn wait(&self) {
        let notified = self.inner.waiters.notified();
        let mut notified = std::pin::pin!(notified);
        // Registered before the flag is read: a `fire` between the two still wakes it.
        notified.as_mut().enable();
        if self.is_draining() {
            return;
        }
        notified.await;
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Shutdown;

    #[tokio::test]
    async fn a_wait_ends_when_any_clone_fires_and_one_begun_after_ends_at_once() {
        let shutdown = Shutdown::new();
        let waiting = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.wait().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "nothing fired yet");
        assert!(!shutdown.is_draining());
        shutdown.clone().fire();
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the waiter wakes on fire")
            .expect("the waiter does not panic");
        assert!(shutdown.is_draining());
        tokio::time::timeout(Duration::from_secs(5), shutdown.wait())
            .await
            .expect("a wait after the fire ends at once");
    }
}
