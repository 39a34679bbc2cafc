//! `/api/polls/{id}/votes`: set or withdraw the voter's choice.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use votewire_proto::{
    CastVote, ErrorBody, ErrorCode, PollId, PollStatus, VoteAccepted, VoteReceipt, VoteResponse,
    WithdrawResponse,
};

use super::extract::{Json, PollPath, Query};
use crate::abuse::{ClientAddress, Vote, Within};
use crate::credentials;
use crate::error::Refusal;
use crate::results::{Reader, shown};
use crate::state::AppState;
use crate::store::{Admission, Ballot, Choice, MAX_SET_OPTIONS};
use crate::token::{Voter, invite_digest};

/// The vote routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/polls/{id}/votes",
        post(cast_vote).delete(withdraw_vote),
    )
}

#[utoipa::path(post, path = "/api/polls/{id}/votes", tag = "votes", request_body = CastVote,
    params(("id" = PollId, Path, description = "poll id")),
    description = "Sets the voter's choice. The voter is the one of the `votewire_voter` cookie or of \
        `Authorization: Voter <voter_token>`, issued by `POST /api/voters`; a vote names an existing \
        voter, so a request with neither is refused (401 `voter_required`) and counts nothing.",
    responses((status = 200, description = "The vote as committed and the tally right after", body = VoteResponse),
        (status = 202, description = "`--ingest stream`: the vote is recorded and will be counted", body = VoteAccepted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn cast_vote(
    _: Within<Vote>,
    State(app): State<AppState>,
    PollPath(poll): PollPath,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Json(body): Json<CastVote>,
) -> Result<Response, Refusal> {
    let voter = required_voter(&headers, &app, "voting")?;
    let asked = choice_of(&body)?;
    let ballot = Ballot {
        voter: voter.id.clone(),
        choice: asked,
        seq: body.seq,
        entry: None,
        admission: Admission {
            address: Some(app.keys.address_digest(&client)),
            invite: body.invite.as_deref().map(invite_digest),
        },
    };
    if let Some(ingest) = &app.ingest.stream {
        return accepted(ingest.record(poll, ballot).await?);
    }
    let outcome = app.votes.cast(poll.clone(), ballot, None).await?;
    let receipt = VoteReceipt {
        poll,
        option: asked.lowest().expect("a vote chooses"),
        options: asked.options(),
        seq: body.seq,
        superseded: outcome.ballot.superseded,
        choice: outcome.ballot.choice.lowest(),
        choices: outcome.ballot.choice.options(),
        version: outcome.tally.version,
        node: app.settings.node_id.clone(),
    };
    // The voter voted: on an `after_vote` poll they see the counts from now on.
    let tally = shown(
        outcome.tally,
        outcome.visibility,
        Reader::Voted,
        PollStatus::Open,
    );
    Ok(axum::Json(VoteResponse {
        vote: receipt,
        tally,
    })
    .into_response())
}

/// The 202 of a vote or withdrawal recorded in the ingest stream.
fn accepted(receipt: VoteAccepted) -> Result<Response, Refusal> {
    Ok((StatusCode::ACCEPTED, axum::Json(receipt)).into_response())
}

/// `DELETE /api/polls/{id}/votes` query string.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct WithdrawParams {
    /// The voter's sequence number for this withdrawal, as a vote's `seq`: it applies
    /// only if higher than the last one applied.
    seq: Option<u64>,
}

#[utoipa::path(delete, path = "/api/polls/{id}/votes", tag = "votes",
    params(("id" = PollId, Path, description = "poll id"), WithdrawParams),
    responses((status = 200, description = "Whether a vote was withdrawn, and the tally right after", body = WithdrawResponse),
        (status = 202, description = "`--ingest stream`: the withdrawal is recorded and will be counted", body = VoteAccepted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn withdraw_vote(
    _: Within<Vote>,
    State(app): State<AppState>,
    PollPath(poll): PollPath,
    Query(params): Query<WithdrawParams>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let voter = required_voter(&headers, &app, "withdrawing")?;
    let ballot = Ballot {
        voter: voter.id,
        choice: Choice::None,
        seq: params.seq,
        entry: None,
        admission: Admission::default(),
    };
    if let Some(ingest) = &app.ingest.stream {
        return accepted(ingest.record(poll, ballot).await?);
    }
    let outcome = app.votes.cast(poll.clone(), ballot, None).await?;
    Ok(axum::Json(WithdrawResponse {
        poll,
        withdrawn: outcome.ballot.changed,
        superseded: outcome.ballot.superseded,
        choice: outcome.ballot.choice.lowest(),
        choices: outcome.ballot.choice.options(),
        node: app.settings.node_id.clone(),
        tally: shown(
            outcome.tally,
            outcome.visibility,
            Reader::Anyone,
            PollStatus::Open,
        ),
    })
    .into_response())
}

/// What a vote's body chose: `option`, or the set `options`, exactly one of them.
fn choice_of(body: &CastVote) -> Result<Choice, Refusal> {
    let invalid = |why: &str| Refusal::new(ErrorCode::InvalidBody, why.to_owned());
    match (body.option, &body.options) {
        (Some(option), None) => Ok(Choice::One(option)),
        (None, Some(options)) => Choice::of(options).ok_or_else(|| {
            invalid(&format!(
                "options must be a set: at least one index, none twice, each below {MAX_SET_OPTIONS}"
            ))
        }),
        _ => Err(invalid(
            "send the option chosen (\"option\": index) or, on a multiple-choice poll, the \
             options chosen (\"options\": [index, ..]), not both",
        )),
    }
}

/// The voter of the request. A vote never mints one: a script looping on a vote with
/// no credentials would otherwise count a new voter each time (and a retried
/// cookie-less vote, twice).
fn required_voter(headers: &HeaderMap, app: &AppState, doing: &str) -> Result<Voter, Refusal> {
    credentials::voter(headers, &app.keys)?.ok_or_else(|| {
        Refusal::new(
            ErrorCode::VoterRequired,
            format!(
                "{doing} needs a voter: the votewire_voter cookie or Authorization: Voter \
                 <voter_token>, from POST /api/voters"
            ),
        )
    })
}
