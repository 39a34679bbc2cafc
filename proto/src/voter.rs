//! Voters: an anonymous identity carried by a signed token.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// `POST /api/voters`: a new voter. The same token is also set as the
/// `votewire_voter` cookie (HttpOnly, SameSite=Lax).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct VoterIssued {
    /// Send as `Authorization: Voter <voter_token>` when cookies are not an option.
    pub voter_token: String,
}
