//! Storage behind one trait, [`Store`], with a backend per database chosen once from
//! the URL at start-up ([`connect`]). Database errors are mapped at this boundary into
//! the small, backend-neutral [`StoreError`].
//!
//! Every write is one transaction that keeps the tally beside the votes, so a tally
//! always equals a recount (docs/architecture.md, invariant 1), and returns the whole tally with
//! the poll's new version, ready to publish (invariant 2).
//!
//! - `records`: the polls, ballots and outcomes the store speaks in; `choice`: what a
//!   ballot chose (one option, or a set on a multiple-choice poll).
//! - `sql`: the flow, written once as `SqlStore` over a `Dialect`; `sqlite`, `postgres`
//!   and `mysql` are the dialects, the only files with SQL.
//! - `failover`: the server backends' writer pool after a failover.
//! - `replicas`: [`ReplicatedStore`], a `Store` over the others: writes go to the
//!   primary, reads round robin to the healthy replicas, and a read that needs a newer
//!   version than a replica holds goes to the primary. It measures the replicas' lag
//!   with the [`Heartbeat`], which is why a single database is a [`Backend`]: a
//!   `Store` and a `Heartbeat`. The rest of the node sees only `Store`.

mod choice;
mod failover;
mod mysql;
mod postgres;
mod records;
mod replicas;
mod sql;
mod sqlite;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sqlx::{MySql, Postgres};
use votewire_proto::{NodeVotes, PollId, ResultsVisibility, Tally};

pub use choice::{Choice, MAX_SET_OPTIONS};
pub use records::{
    Admission, Ballot, BallotResult, BatchOutcome, Creation, IdempotencyKey, ListCursor,
    PollRecord, PollState, PollVersion, StoredVote, VoteBatch, VoteOutcome,
};
pub(crate) use replicas::HEARTBEAT_INTERVAL;
pub use replicas::{Fallbacks, ReplicaHealth, ReplicaState, ReplicatedStore};

/// Why a storage call failed, in terms the API can answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// No poll has this id.
    PollNotFound,
    /// The poll is closed (by its owner or its closing time).
    PollClosed,
    /// Its owner paused voting.
    PollPaused,
    /// The option index is not below the poll's number of options.
    OptionOutOfRange {
        /// How many options the poll has.
        options: u32,
    },
    /// More options than the poll lets a voter choose.
    TooManyChoices {
        /// How many it lets a voter choose.
        max: u32,
    },
    /// An `invite` poll: the voter holds no invite and brought no code.
    InviteRequired,
    /// An `invite` poll: the code is unknown or admitted another voter.
    InviteInvalid,
    /// A `per_address` poll: another voter from the same address voted.
    AddressAlreadyVoted,
    /// The database cannot be reached (connection refused, pool timed out, read-only).
    Unavailable(String),
    /// A new poll's join code is another poll's: draw another and create again.
    Taken,
    /// Anything else; a bug or a broken database.
    Other(String),
}

/// In words, for logs, start-up errors and `/readyz`: a refusal's own words reach
/// clients through [`crate::error::Refusal`] instead.
impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PollNotFound => f.write_str("no poll has this id"),
            Self::PollClosed => f.write_str("the poll is closed"),
            Self::PollPaused => f.write_str("voting is paused"),
            Self::OptionOutOfRange { options } => {
                write!(f, "the option is not one of the poll's {options}")
            }
            Self::TooManyChoices { max } => write!(f, "the poll takes at most {max} choices"),
            Self::InviteRequired => f.write_str("the poll needs an invite"),
            Self::InviteInvalid => f.write_str("the invite code is not valid"),
            Self::AddressAlreadyVoted => f.write_str("another voter of this address voted"),
            Self::Unavailable(why) => write!(f, "the database is unavailable: {why}"),
            Self::Taken => f.write_str("the join code is taken"),
            Self::Other(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for StoreError {}

/// Where votewire keeps polls, votes and tallies.
pub trait Store: Send + Sync + 'static {
    /// Creates the schema or brings it up to date.
    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Stores a new poll with an empty tally. With a `key`, in the same transaction as
    /// the key's record: a key that made a poll already makes no other, from any node
    /// (the creation answers that poll, or [`Creation::KeyReused`]).
    fn create_poll<'a>(
        &'a self,
        poll: &'a PollRecord,
        key: Option<&'a IdempotencyKey>,
    ) -> BoxFuture<'a, Result<Creation, StoreError>>;

    /// A poll with its tally.
    fn poll<'a>(&'a self, id: &'a PollId) -> BoxFuture<'a, Result<PollState, StoreError>>;

    /// At most `limit` of the poll's standing votes whose voter id sorts after `after`
    /// (`""` from the start), by voter id: an export reads them page by page.
    fn votes_page<'a>(
        &'a self,
        id: &'a PollId,
        after: &'a str,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<StoredVote>, StoreError>>;

    /// The id of the poll whose join code is `code` (as stored: upper case).
    fn poll_by_code<'a>(&'a self, code: &'a str) -> BoxFuture<'a, Result<PollId, StoreError>>;

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

    /// The version of each of `polls` that exists, and whether it is closed: one read
    /// however many polls, for the loop that checks the rooms against the database
    /// ([`crate::watch`]). A poll that no longer exists is left out.
    fn versions<'a>(
        &'a self,
        polls: &'a [PollId],
    ) -> BoxFuture<'a, Result<Vec<PollVersion>, StoreError>>;

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

    /// Adds invite codes (their digests) to a poll.
    fn add_invites<'a>(
        &'a self,
        id: &'a PollId,
        code_hashes: &'a [String],
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Closes a poll now; `Ok(false)` with the state when it was already closed.
    fn close<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<(bool, PollState), StoreError>>;

    /// Opens a poll its owner closed again, raising its version (a close keeps it, so
    /// the reopen is newer than the close everywhere); an open poll is answered as it
    /// is. A poll past its closing time refuses ([`StoreError::PollClosed`]).
    fn reopen<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PollState, StoreError>>;

    /// Takes every vote out of an open poll: the counts go to zero and the version
    /// rises, so no client keeps showing the votes. The voters' `seq`s stay, so a late
    /// retry of a vote cast before the reset does not come back. A closed poll refuses.
    fn reset<'a>(
        &'a self,
        id: &'a PollId,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PollState, StoreError>>;

    /// Pauses (`true`) or resumes voting on an open poll, raising its version; one
    /// already so is answered as it is. A closed poll refuses.
    fn pause<'a>(
        &'a self,
        id: &'a PollId,
        paused: bool,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<PollState, StoreError>>;

    /// Sets who sees the poll's counts, raising its version when that changes (so the
    /// change travels with the tally); the poll as it is after. A closed poll takes it
    /// too: revealing a `hidden` poll's results after its close is what it is for.
    fn set_results<'a>(
        &'a self,
        id: &'a PollId,
        results: ResultsVisibility,
    ) -> BoxFuture<'a, Result<PollState, StoreError>>;

    /// True when `voter` has a standing vote in the poll (for `after_vote` results).
    fn has_vote<'a>(
        &'a self,
        id: &'a PollId,
        voter: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The poll's tally and its current votes counted per node that handled them.
    fn audit<'a>(
        &'a self,
        id: &'a PollId,
    ) -> BoxFuture<'a, Result<(Tally, Vec<NodeVotes>), StoreError>>;

    /// Fails when the database cannot be reached.
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>>;
}

/// How far behind the primary a database is, measured portably with no
/// replication-specific SQL: every node writes its clock into a one-row table on the
/// primary, replication carries it to the replicas, and the age of the row a replica
/// holds is its lag. Only [`ReplicatedStore`] uses it.
pub trait Heartbeat: Send + Sync + 'static {
    /// Writes `now` into the heartbeat row (an idempotent UPDATE, so every node may do
    /// it).
    fn write_heartbeat(&self, now: DateTime<Utc>) -> BoxFuture<'_, Result<(), StoreError>>;

    /// The last heartbeat this database holds (the epoch when none was ever written).
    fn heartbeat(&self) -> BoxFuture<'_, Result<DateTime<Utc>, StoreError>>;
}

/// One database, as [`connect`] opens it: a [`Store`], and the [`Heartbeat`] that a
/// [`ReplicatedStore`] over it measures replica lag with. Where only the `Store` is
/// needed, an `Arc<dyn Backend>` coerces to an `Arc<dyn Store>`.
pub trait Backend: Store + Heartbeat {}

impl<T: Store + Heartbeat> Backend for T {}

/// Opens the database at `url`; the scheme picks the backend.
pub async fn connect(url: &str) -> Result<Arc<dyn Backend>, StoreError> {
    check_url(url)?;
    match scheme(url) {
        "sqlite" => Ok(Arc::new(sqlite::open(url).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(
            sql::SqlStore::<Postgres>::connect_server(url).await?,
        )),
        _ => Ok(Arc::new(
            sql::SqlStore::<MySql>::connect_server(&url.replacen("mariadb:", "mysql:", 1)).await?,
        )),
    }
}

/// Refuses a URL whose scheme names no backend, without connecting: replicas connect
/// later, and a typo should stop the node at start-up, not leave a replica down.
pub(crate) fn check_url(url: &str) -> Result<(), StoreError> {
    match scheme(url) {
        "sqlite" | "postgres" | "postgresql" | "mysql" | "mariadb" => Ok(()),
        _ => Err(StoreError::Other(format!(
            "unsupported database URL {:?}: use sqlite://PATH, postgres://.. or mysql://..",
            crate::redact::url(url)
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
