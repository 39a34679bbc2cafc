//! What a node in stream mode checks before it records a vote: the poll exists, is
//! open by the server's clock and has the option. The rules are read from the store
//! and kept a second, so a busy poll costs one read a second, not one a vote.
//!
//! The database has the last word: a worker's commit refuses a vote on a poll that
//! closed meanwhile. And while the database is down, a node keeps taking votes with
//! the rules it last read, or, for a poll it never read, unchecked: the commit refuses
//! what does not belong, later, and nothing is counted that should not be.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dashmap::DashMap;
use votewire_proto::PollId;

use crate::store::{Choice, Store, StoreError};

/// How long the rules of a poll are used before they are read again.
const FRESH_FOR: Duration = Duration::from_secs(1);
/// Polls whose rules are kept; past it the cache starts again empty.
const MOST_POLLS: usize = 100_000;

/// A poll's rules, as far as a vote is concerned.
#[derive(Debug, Clone, Copy)]
struct Rules {
    options: u32,
    max_choices: u32,
    closes_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    paused: bool,
}

/// The rules of recently voted polls.
pub(super) struct PollRules {
    store: Arc<dyn Store>,
    cached: DashMap<PollId, (Instant, Rules)>,
}

impl PollRules {
    pub(super) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            cached: DashMap::new(),
        }
    }

    /// Whether a ballot for `choice` (none: a withdrawal) may be recorded now.
    pub(super) async fn check(&self, poll: &PollId, choice: Choice) -> Result<(), StoreError> {
        let cached = self.cached.get(poll).map(|entry| *entry.value());
        let rules = match cached {
            Some((read_at, rules)) if read_at.elapsed() < FRESH_FOR => Some(rules),
            stale => match self.read(poll).await {
                Ok(rules) => Some(rules),
                Err(StoreError::Unavailable(_)) => stale.map(|(_, rules)| rules),
                Err(e) => return Err(e),
            },
        };
        let Some(rules) = rules else {
            return Ok(());
        };
        let now = Utc::now();
        let closed = [rules.closed_at, rules.closes_at]
            .into_iter()
            .flatten()
            .any(|at| at <= now);
        if closed {
            return Err(StoreError::PollClosed);
        }
        if rules.paused {
            return Err(StoreError::PollPaused);
        }
        choice
            .for_poll(rules.options, rules.max_choices)
            .map(|_| ())
    }

    async fn read(&self, poll: &PollId) -> Result<Rules, StoreError> {
        let state = self.store.poll(poll).await?;
        let record = &state.poll;
        let rules = Rules {
            options: record.options.len() as u32,
            max_choices: record.max_choices,
            closes_at: record.closes_at,
            closed_at: record.closed_at,
            paused: record.paused,
        };
        if self.cached.len() >= MOST_POLLS {
            self.cached.clear();
        }
        self.cached.insert(poll.clone(), (Instant::now(), rules));
        Ok(rules)
    }
}
