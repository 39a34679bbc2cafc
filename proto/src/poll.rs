//! Polls: creating, reading, listing and auditing them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{NodeId, PollId, Tally};

/// Whether a poll still takes votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PollStatus {
    /// Votes are accepted.
    Open,
    /// Its owner paused voting: votes are refused (`poll_paused`) until it resumes.
    Paused,
    /// Closed by its owner or by its `closes_at` time: votes are refused.
    Closed,
}

/// Who may vote in a poll, chosen at creation.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VotingMode {
    /// Any voter, one vote each (a voter is one browser, or one token).
    #[default]
    Open,
    /// At most one voter per client address: a second browser behind the same address
    /// is refused. People behind one NAT (a school, an office, a phone carrier) share an
    /// address, so only one of them can vote: for small public polls, not classrooms.
    PerAddress,
    /// Only holders of an invite code, each code good for one voter: the owner mints
    /// them (`POST /api/polls/{id}/invites`). For boards, classrooms, elections.
    Invite,
}

impl VotingMode {
    /// The mode as stored and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            VotingMode::Open => "open",
            VotingMode::PerAddress => "per_address",
            VotingMode::Invite => "invite",
        }
    }

    /// The mode of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Open, Self::PerAddress, Self::Invite]
            .into_iter()
            .find(|mode| mode.as_str() == name)
    }
}

/// Who sees a poll's counts, chosen at creation and changed by its owner
/// (`POST /api/polls/{id}/results`). The total (how many voted) is always shown; a
/// reader who may not see the counts gets a tally whose `counts` is empty and updates
/// whose `recent` is empty. The owner (its token) always sees them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResultsVisibility {
    /// Everyone, all along.
    #[default]
    Live,
    /// A voter once they have voted (on every socket and request that carries their
    /// voter token); everyone once the poll is closed.
    AfterVote,
    /// Everyone once the poll is closed; until then, the owner only.
    AfterClose,
    /// The owner only, until they reveal them (switch to another visibility).
    Hidden,
}

impl ResultsVisibility {
    /// The visibility as stored and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::AfterVote => "after_vote",
            Self::AfterClose => "after_close",
            Self::Hidden => "hidden",
        }
    }

    /// The visibility of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Live, Self::AfterVote, Self::AfterClose, Self::Hidden]
            .into_iter()
            .find(|results| results.as_str() == name)
    }

    /// True for `live`, which messages leave out.
    pub fn is_live(&self) -> bool {
        *self == Self::Live
    }
}

/// A poll as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Poll {
    /// The poll's identifier, used in every URL that concerns it.
    pub id: PollId,
    /// The question asked.
    pub question: String,
    /// The options, in the order votes refer to them (by index).
    pub options: Vec<String>,
    /// When the poll was created.
    pub created_at: DateTime<Utc>,
    /// When the poll closes by itself, if it was given a closing time.
    pub closes_at: Option<DateTime<Utc>>,
    /// When the poll was closed (by its owner or by its closing time), if it is closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Open or closed, as the server's clock sees it now.
    pub status: PollStatus,
    /// Who may vote.
    pub mode: VotingMode,
    /// The code people type to reach the poll (`GET /api/join/{code}`, the `/j/{code}`
    /// page): six characters of `23456789ABCDEFGHJKMNPQRSTUVWXYZ`, no look-alikes.
    /// Absent only for polls made before polls had codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub join_code: Option<String>,
    /// Shown in `GET /api/polls` while open; false: reached by its link or code alone.
    pub listed: bool,
    /// Who sees the counts.
    pub results: ResultsVisibility,
    /// How many options a voter may choose: 1 (single choice), or more for a
    /// multiple-choice poll, whose ballots are sets (`options` in a vote).
    pub max_choices: u32,
}

/// `POST /api/polls`: the body that creates a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePoll {
    /// The question: 1 to 280 characters by default, not blank.
    pub question: String,
    /// 2 to 32 options by default, each 1 to 100 characters, not blank, all different.
    pub options: Vec<String>,
    /// An optional closing time in the future (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub closes_at: Option<DateTime<Utc>>,
    /// Who may vote; `open` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub mode: Option<VotingMode>,
    /// False keeps the poll off `GET /api/polls` (unlisted); listed when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub listed: Option<bool>,
    /// Who sees the counts; `live` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub results: Option<ResultsVisibility>,
    /// How many options a voter may choose, 1 to the number of options (1 when absent).
    /// A multiple-choice poll (more than 1) has at most 63 options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub max_choices: Option<u32>,
}

/// `POST /api/polls/{id}/results`: the owner changes who sees the counts (revealing
/// them is switching to `live`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetResults {
    /// The new visibility.
    pub results: ResultsVisibility,
}

/// `POST /api/polls/{id}/invites`: how many invite codes to mint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MintInvites {
    /// 1 to 500 codes.
    pub count: u32,
}

/// `201` answer to `POST /api/polls/{id}/invites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct InvitesMinted {
    /// The new codes, each good for one voter. They are shown once: the server keeps
    /// only their digests.
    pub codes: Vec<String>,
}

/// `201` answer to `POST /api/polls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct CreatedPoll {
    /// The poll as created.
    pub poll: Poll,
    /// The secret that closes the poll (`Authorization: Bearer <owner_token>`).
    /// It is shown once: keep it.
    pub owner_token: String,
}

/// `GET /api/polls/{id}`: a poll with its current tally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct PollView {
    /// The poll.
    pub poll: Poll,
    /// Its tally now.
    pub tally: Tally,
}

/// One line of the poll list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct PollListItem {
    /// The poll.
    pub poll: Poll,
    /// How many voters have a vote in it.
    pub total: u64,
}

/// `GET /api/polls?limit=&before=`: open polls, newest first, one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct PollList {
    /// This page of polls.
    pub polls: Vec<PollListItem>,
    /// Pass as `before` to get the next page; absent on the last page.
    pub next: Option<String>,
}

/// How many of a poll's current votes one node handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct NodeVotes {
    /// The node that committed the votes.
    pub node: NodeId,
    /// How many of the poll's current votes it committed.
    pub votes: u64,
}

/// `GET /api/polls/{id}/audit`: which node handled the votes that count now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct PollAudit {
    /// The poll audited.
    pub poll: PollId,
    /// The tally the audit was read with.
    pub tally: Tally,
    /// Votes per node, most first. Their sum is `tally.total`.
    pub nodes: Vec<NodeVotes>,
}
