//! Shutdown: one signal that every part of the node watches, fired once by SIGTERM,
//! SIGINT or a test.
//!
//! The caller that runs a node owns its shutdown (mini-redis's `run(listener,
//! shutdown)`): `main` fires it on a signal, a test when it is done.

use tokio::sync::watch;

/// The node's shutdown signal: cheap to clone, fired once.
#[derive(Debug, Clone)]
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
