//! The ingest stream's series: what a node in `--ingest stream` mode recorded, and what
//! a worker committed, refused, retried and claimed. Absent where there is no stream.

use std::sync::atomic::Ordering::Relaxed;

use super::label;
use crate::ingest::Ingest;
use crate::ingest::worker::WorkerCounts;
use crate::metrics::Exposition;
use crate::state::AppState;

/// The ingest parts of a node or worker, borrowed for one rendering.
pub(super) struct Ingested<'a> {
    pub(super) stream: Option<&'a Ingest>,
    pub(super) worker: Option<&'a WorkerCounts>,
}

impl<'a> Ingested<'a> {
    pub(super) fn read(app: &'a AppState) -> Self {
        Self {
            stream: app.ingest.stream.as_deref(),
            worker: app.ingest.worker.as_deref(),
        }
    }

    pub(super) fn render(&self, out: &mut Exposition) {
        if let Some(stream) = self.stream {
            out.gauge(
                "votewire_ingest_backlog",
                "Votes recorded in the ingest streams and not yet committed (measured every 250 ms).",
                i64::try_from(stream.backlog()).unwrap_or(i64::MAX),
            );
            out.counter(
                "votewire_ingest_accepted",
                "Votes this node recorded in the ingest stream (answered 202).",
                stream.accepted(),
            );
        }
        let Some(worker) = self.worker else {
            return;
        };
        out.counters(
            "votewire_ingest_worker_votes",
            "Ingested votes this worker finished with, by result: committed, or rejected for good by the database (a poll closed meanwhile).",
            vec![
                (label("result", "committed"), worker.committed.load(Relaxed)),
                (label("result", "rejected"), worker.rejected.load(Relaxed)),
            ],
        );
        out.counter(
            "votewire_ingest_worker_retries",
            "Batches whose commit failed (database down) and whose votes stay pending, to be tried again.",
            worker.retried.load(Relaxed),
        );
        out.counter(
            "votewire_ingest_worker_claimed",
            "Pending votes this worker took over from a worker that held them longer than --ingest-claim-idle-ms.",
            worker.claimed.load(Relaxed),
        );
        out.gauge_f64(
            "votewire_ingest_worker_lag_seconds",
            "From the oldest vote of the last batch being recorded to its commit.",
            worker.lag_ms.load(Relaxed) as f64 / 1000.0,
        );
    }
}
