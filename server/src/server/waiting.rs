//! Waiting for the database at start. Compose and Kubernetes start every part at
//! once, and a managed database may be failing over: a node that gave up after a
//! second would only turn that into a restart loop. So the node tries again with
//! backoff while the database is unreachable, saying where it waits (the URL without its
//! password) and why, and exits at once on what waiting cannot fix (a bad URL, a refused
//! password, a certificate that does not verify). Until it connects, its port answers
//! as a starting node ([`super::starting`]).

use std::sync::Arc;
use std::time::Duration;

use super::StartError;
use crate::shutdown::Shutdown;
use crate::store::{self, Backend, StoreError};

/// The first wait between attempts; it doubles up to [`LONGEST_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(500);
const LONGEST_WAIT: Duration = Duration::from_secs(10);

/// Opens the database at `url`, waiting while it is unreachable, until `shutdown`.
pub(super) async fn open_database(
    url: &str,
    shutdown: &Shutdown,
) -> Result<Arc<dyn Backend>, StartError> {
    let at = crate::redact::url(url);
    let mut wait = FIRST_WAIT;
    for attempt in 1.. {
        let why = match store::connect(url).await {
            Ok(store) => {
                if attempt > 1 {
                    tracing::info!("connected to the database at {at}");
                }
                return Ok(store);
            }
            Err(StoreError::Unavailable(why)) => why,
            Err(e) => return Err(StartError(format!("cannot open the database at {at}: {e}"))),
        };
        tracing::warn!(
            attempt,
            "waiting for the database at {at}: {why}; trying again in {wait:?}"
        );
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = shutdown.wait() => {
                return Err(StartError(format!(
                    "stopped while waiting for the database at {at}: {why}"
                )));
            }
        }
        wait = (wait * 2).min(LONGEST_WAIT);
    }
    unreachable!("the attempts never run out")
}
