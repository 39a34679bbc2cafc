//! Storage behind one trait, [`Store`], with a backend per database chosen once from
//! the URL at start-up ([`connect`]). SQL lives only in the backend's file; database
//! errors are mapped there into the small, backend-neutral [`StoreError`].
//!
//! Every write is one transaction that keeps the tally beside the votes, so a tally
//! always equals a recount (DESIGN.md invariant 1), and returns the whole tally with
//! the poll's new version, ready to publish (invariant 2).
//!
//! With read replicas, [`ReplicatedStore`] is a `Store` over the others: writes go to
//! the primary, reads round robin to the healthy replicas, and a read that needs a
//! newer version than a replica holds goes to the primary.

mod batch;
mod failover;
mod flow;
mod mysql;
mod postgres;
mod replicas;
mod sqlite;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use votewire_proto::{NodeId, NodeVotes, Poll, PollId, PollStatus, Tally};

pub use mysql::MySqlStore;
pub use postgres::PostgresStore;
pub use replicas::{HEARTBEAT_INTERVAL, ReplicaHealth, ReplicaState, ReplicatedStore};
pub use sqlite::SqliteStore;

pub use crate::BoxFuture;

/// Why a storage call failed, in terms the API can answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// No poll has this id.
    PollNotFound,
    /// The poll is closed (by its owner or its closing time).
    PollClosed,
    /// The option index is not below the poll's number of options.
    OptionOutOfRange {
        /// How many options the poll has.
        options: u32,
    },
    /// The database cannot be reached (connection refused, pool timed out, read-only).
    Unavailable(String),
    /// Anything else; a bug or a broken database.
    Other(String),
}

/// A poll as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRecord {
    /// Its id.
    pub id: PollId,
    /// The question.
    pub question: String,
    /// The options, in index order.
    pub options: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it closes by itself.
    pub closes_at: Option<DateTime<Utc>>,
    /// When its owner closed it.
    pub closed_at: Option<DateTime<Utc>>,
}

impl PollRecord {
    /// Open or closed at `now`: the server's clock decides when `closes_at` has passed.
    pub fn status(&self, now: DateTime<Utc>) -> PollStatus {
        if self.closed_at(now).is_some() {
            PollStatus::Closed
        } else {
            PollStatus::Open
        }
    }

    /// When the poll closed, if it has by `now`.
    pub fn closed_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.closed_at.or(self.closes_at.filter(|at| *at <= now))
    }

    /// The poll as the API shows it at `now`.
    pub fn to_poll(&self, now: DateTime<Utc>) -> Poll {
        Poll {
            id: self.id.clone(),
            question: self.question.clone(),
            options: self.options.clone(),
            created_at: self.created_at,
            closes_at: self.closes_at,
            closed_at: self.closed_at(now),
            status: self.status(now),
        }
    }
}

/// A poll and its tally, read together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollState {
    /// The poll.
    pub poll: PollRecord,
    /// Its tally.
    pub tally: Tally,
}

/// One voter's "set my choice to `option`" (`None` withdraws it) in a [`VoteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    /// The voter, from a verified token.
    pub voter: String,
    /// The option, or `None` to withdraw.
    pub option: Option<u32>,
}

/// Ballots on one poll, handled by one node, committed in one transaction (group
/// commit). They apply in order, as if committed one by one.
#[derive(Debug, Clone)]
pub struct VoteBatch {
    /// The poll.
    pub poll: PollId,
    /// The node handling the ballots, kept with each vote for the audit.
    pub node: NodeId,
    /// The server's clock: ballots at or after `closes_at` are refused.
    pub now: DateTime<Utc>,
    /// The ballots, in the order they arrived.
    pub ballots: Vec<Ballot>,
}

/// What a committed batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Per ballot, in order: whether it changed the voter's choice (false for a repeat,
    /// which wrote nothing), or why it alone was refused (an option out of range).
    pub results: Vec<Result<bool, StoreError>>,
    /// The tally after the commit.
    pub tally: Tally,
}

/// What a committed vote did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteOutcome {
    /// False when the vote repeated the voter's current choice: nothing was written
    /// and the version did not move.
    pub changed: bool,
    /// The tally after the commit.
    pub tally: Tally,
}

/// A page of the open-poll list starts after this poll (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    /// The last listed poll's creation time.
    pub created_at: DateTime<Utc>,
    /// The last listed poll's id.
    pub id: PollId,
}

/// Where votewire keeps polls, votes and tallies.
pub trait Store: Send + Sync + 'static {
    /// Creates the schema or brings it up to date.
    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Stores a new poll with an empty tally.
    fn create_poll<'a>(&'a self, poll: &'a PollRecord) -> BoxFuture<'a, Result<(), StoreError>>;

    /// A poll with its tally.
    fn poll<'a>(&'a self, id: &'a PollId) -> BoxFuture<'a, Result<PollState, StoreError>>;

    /// A poll with its tally at `min_version` or later, for a reader who has already
    /// seen that version (a client resubscribing with `since`): a store that may read
    /// from a lagging replica reads from the primary instead when the replica is behind.
    /// A single database is never behind itself, so the default is [`Store::poll`].
    fn poll_at_least<'a>(
        &'a self,
        id: &'a PollId,
        min_version: u64,
    ) -> BoxFuture<'a, Result<PollState, StoreError>> {
        let _ = min_version;
        self.poll(id)
    }

    /// Open polls at `now`, newest first, with their totals.
    fn list_open<'a>(
        &'a self,
        now: DateTime<Utc>,
        limit: u32,
        after: Option<&'a ListCursor>,
    ) -> BoxFuture<'a, Result<Vec<(PollRecord, u64)>, StoreError>>;

    /// Sets (or withdraws) the choices of a batch of ballots on one poll, in one
    /// transaction with the tally. A poll that is missing or closed refuses the whole
    /// batch; a ballot with an option out of range is refused alone.
    fn vote_batch(&self, batch: VoteBatch) -> BoxFuture<'_, Result<BatchOutcome, StoreError>>;

    /// Closes a poll now; `Ok(false)` with the state when it was already closed.
    fn close<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<(bool, PollState), StoreError>>;

    /// The poll's tally and its current votes counted per node that handled them.
    fn audit<'a>(
        &'a self,
        id: &'a PollId,
    ) -> BoxFuture<'a, Result<(Tally, Vec<NodeVotes>), StoreError>>;

    /// Fails when the database cannot be reached.
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Writes `now` into the one-row heartbeat table (an idempotent UPDATE, so every
    /// node may do it). Replication carries it to the replicas, where
    /// [`Store::heartbeat`] reads how far behind they are.
    fn write_heartbeat(&self, now: DateTime<Utc>) -> BoxFuture<'_, Result<(), StoreError>>;

    /// The last heartbeat this database holds (the epoch when none was ever written).
    fn heartbeat(&self) -> BoxFuture<'_, Result<DateTime<Utc>, StoreError>>;
}

/// Opens the store for `url`; the scheme picks the backend.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    check_url(url)?;
    match scheme(url) {
        "sqlite" => Ok(Arc::new(SqliteStore::open(url).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(PostgresStore::open(url).await?)),
        _ => Ok(Arc::new(
            MySqlStore::open(&url.replacen("mariadb:", "mysql:", 1)).await?,
        )),
    }
}

/// Refuses a URL whose scheme names no backend, without connecting: replicas connect
/// later, and a typo should stop the node at start-up, not leave a replica down.
pub fn check_url(url: &str) -> Result<(), StoreError> {
    match scheme(url) {
        "sqlite" | "postgres" | "postgresql" | "mysql" | "mariadb" => Ok(()),
        _ => Err(StoreError::Other(format!(
            "unsupported database URL {url:?}: use sqlite://PATH, postgres://.. or mysql://.."
        ))),
    }
}

fn scheme(url: &str) -> &str {
    url.split_once(':')
        .map(|(scheme, _)| scheme)
        .unwrap_or_default()
}

/// Milliseconds since the epoch, as every backend stores times.
pub(crate) fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The time of a stored millisecond count.
pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
