//! The vote path's tasks: each poll's committer and each close run as a task of their
//! own, spawned by a request but owned here, so that they outlive a client that hangs
//! up, every one of them is accounted for, and the node can wait for them when it
//! drains.

use std::future::Future;
use std::sync::Mutex;

use tokio::task::{JoinError, JoinSet};

/// The write tasks in flight.
#[derive(Default)]
pub(super) struct Writers {
    /// A std mutex: held to spawn or reap, never across an `.await`.
    tasks: Mutex<JoinSet<()>>,
}

impl Writers {
    /// Runs `task`, first reaping (and logging) the tasks that have ended.
    pub(super) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().expect("never poisoned");
        while let Some(ended) = tasks.try_join_next() {
            log_end(ended);
        }
        tasks.spawn(task);
    }

    /// Resolves once every task spawned so far has ended.
    pub(super) async fn drain(&self) {
        let mut tasks = std::mem::take(&mut *self.tasks.lock().expect("never poisoned"));
        while let Some(ended) = tasks.join_next().await {
            log_end(ended);
        }
    }
}

/// A write task that ends normally says nothing; one that panicked is an error: its
/// requests were answered with an error and its poll's queue released.
fn log_end(ended: Result<(), JoinError>) {
    if let Err(e) = ended {
        tracing::error!(error = %e, "a vote commit task failed");
    }
}
