//! The node's background tasks, each named and owned here: the presence beat, the
//! resync after bus gaps, the replica monitor, the Redis receive loop. Each ends on
//! the shutdown; [`Tasks`] logs how each ended — early (a bug, said as it happens) or
//! at the shutdown — and aborts what outlives the drain.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use tokio::task::{Id, JoinError, JoinSet};

/// Named background tasks.
#[derive(Default)]
pub(crate) struct Tasks {
    set: JoinSet<()>,
    /// The names of the tasks still running.
    running: HashMap<Id, &'static str>,
}

/// How a task ended: its name, and the panic or abort if it did not return.
pub(crate) type Ended = (&'static str, Result<(), JoinError>);

impl Tasks {
    /// Runs `task` under `name`.
    pub(crate) fn spawn(
        &mut self,
        name: &'static str,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        let handle = self.set.spawn(task);
        self.running.insert(handle.id(), name);
    }

    /// The next task to end, and how; `None` when none runs.
    pub(crate) async fn next_ended(&mut self) -> Option<Ended> {
        let ended = self.set.join_next_with_id().await?;
        let id = match &ended {
            Ok((id, ())) => *id,
            Err(e) => e.id(),
        };
        let name = self.running.remove(&id).unwrap_or("unnamed");
        Some((name, ended.map(|_| ())))
    }

    /// After the shutdown: waits up to `grace` for every task to end, logging each,
    /// then aborts the rest.
    pub(crate) async fn stop(mut self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while let Ok(Some((task, how))) = tokio::time::timeout_at(deadline, self.next_ended()).await
        {
            match how {
                Ok(()) => tracing::debug!(task, "background task ended"),
                Err(e) => tracing::error!(task, error = %e, "background task failed"),
            }
        }
        for task in self.running.values() {
            tracing::warn!(
                task,
                "background task still running after the drain: aborting"
            );
        }
        self.set.shutdown().await;
    }
}

/// Logs how a task ended: in the shutdown, as it should; before it, as a bug (none
/// should end while the node serves); a panic, always as an error.
pub(crate) fn log_end((task, how): Ended, shutting_down: bool) {
    match how {
        Ok(()) if shutting_down => tracing::debug!(task, "background task ended"),
        Ok(()) => tracing::error!(task, "background task ended before the shutdown"),
        Err(e) => tracing::error!(task, error = %e, "background task failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_ended_task_is_named_and_a_panic_is_an_error() {
        let mut tasks = Tasks::default();
        tasks.spawn("quiet", async {});
        tasks.spawn("broken", async { panic!("on purpose") });
        let mut ended = Vec::new();
        while let Some((name, how)) = tasks.next_ended().await {
            ended.push((name, how.is_ok()));
        }
        ended.sort();
        assert_eq!(ended, [("broken", false), ("quiet", true)]);
        assert!(tasks.running.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn stop_aborts_what_outlives_the_grace() {
        let mut tasks = Tasks::default();
        let (keep, forever) = tokio::sync::oneshot::channel::<()>();
        let (dropped, aborted) = tokio::sync::oneshot::channel::<()>();
        tasks.spawn("stuck", async move {
            // Dropped with the task: the only way this future ends.
            let _told = dropped;
            let _ = forever.await;
        });
        tasks.stop(Duration::from_secs(1)).await;
        assert!(
            aborted.await.is_err(),
            "the stuck task was dropped, not finished"
        );
        drop(keep);
    }
}
