//! The REST bodies' way in without a socket, for the fuzz targets (`fuzz/`): the bytes
//! of a body go through the same decoding (the `Json` extractor's, refusals included)
//! and validation as on the routes. Exported `#[doc(hidden)]`: not an API.

use chrono::{DateTime, Utc};
use votewire_proto::{CastVote, CreatePoll, ErrorCode};

use super::extract::Json;
use super::polls::validate;
use crate::settings::Limits;

/// A `POST /api/polls` body as the route takes it at `now`: the poll that would be
/// created (trimmed, checked), or the code of the refusal.
pub fn create_poll(
    body: &[u8],
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<CreatePoll, ErrorCode> {
    let Json(poll) = Json::<CreatePoll>::from_bytes(body).map_err(|r| r.code)?;
    let valid = validate(poll, limits, now).map_err(|r| r.code)?;
    Ok(CreatePoll {
        question: valid.question,
        options: valid.options,
        closes_at: valid.closes_at,
        mode: Some(valid.mode),
        listed: Some(valid.listed),
        results: Some(valid.results),
        max_choices: Some(valid.max_choices),
    })
}

/// A `POST /api/polls/{id}/votes` body as the route takes it, or the code of the
/// refusal. (Whether the option is one of the poll's is the store's to say.)
pub fn cast_vote(body: &[u8]) -> Result<CastVote, ErrorCode> {
    Json::<CastVote>::from_bytes(body)
        .map(|Json(vote)| vote)
        .map_err(|r| r.code)
}
