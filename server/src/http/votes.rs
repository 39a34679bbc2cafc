//! `/api/polls/{id}/votes`: set or withdraw the voter's choice.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{HeaderValue, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use votewire_proto::{
    CastVote, ErrorBody, ErrorCode, PollId, VoteReceipt, VoteResponse, WithdrawResponse,
};

use super::credentials::{self, VOTER_COOKIE};
use super::extract::{Json, PollPath};
use crate::error::Refusal;
use crate::state::AppState;
use crate::store::Ballot;
use crate::token::Voter;

/// The vote routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/polls/{id}/votes",
        post(cast_vote).delete(withdraw_vote),
    )
}

/// The `Set-Cookie` that hands a voter its token: a year, HttpOnly, SameSite=Lax, and
/// Secure when the request came over HTTPS (as the proxy in front says).
pub(super) fn voter_cookie(voter: &Voter, headers: &HeaderMap) -> HeaderValue {
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
    let secure = if https { "; Secure" } else { "" };
    let cookie = format!(
        "{VOTER_COOKIE}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}",
        voter.token
    );
    HeaderValue::from_str(&cookie).expect("tokens are ASCII")
}

#[utoipa::path(post, path = "/api/polls/{id}/votes", tag = "votes", request_body = CastVote,
    params(("id" = PollId, Path, description = "poll id")),
    description = "Sets the voter's choice. The voter is the one of the `votewire_voter` cookie or of \
        `Authorization: Voter <voter_token>`; a request with neither is issued a new voter (cookie set).",
    responses((status = 200, description = "The vote as committed and the tally right after", body = VoteResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn cast_vote(
    State(app): State<AppState>,
    PollPath(poll): PollPath,
    headers: HeaderMap,
    Json(body): Json<CastVote>,
) -> Result<Response, Refusal> {
    let (voter, issued) = match credentials::voter(&headers, &app.keys)? {
        Some(voter) => (voter, false),
        None => (app.keys.issue_voter(), true),
    };
    let ballot = Ballot {
        voter: voter.id.clone(),
        option: Some(body.option),
    };
    let outcome = app.votes.cast(poll.clone(), ballot).await?;
    let receipt = VoteReceipt {
        poll,
        option: body.option,
        version: outcome.tally.version,
        node: app.settings.node_id.clone(),
    };
    let mut response = axum::Json(VoteResponse {
        vote: receipt,
        tally: outcome.tally,
    })
    .into_response();
    if issued {
        response
            .headers_mut()
            .insert(SET_COOKIE, voter_cookie(&voter, &headers));
    }
    Ok(response)
}

#[utoipa::path(delete, path = "/api/polls/{id}/votes", tag = "votes",
    params(("id" = PollId, Path, description = "poll id")),
    responses((status = 200, description = "Whether a vote was withdrawn, and the tally right after", body = WithdrawResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn withdraw_vote(
    State(app): State<AppState>,
    PollPath(poll): PollPath,
    headers: HeaderMap,
) -> Result<axum::Json<WithdrawResponse>, Refusal> {
    let voter = credentials::voter(&headers, &app.keys)?.ok_or_else(|| {
        Refusal::new(
            ErrorCode::VoterRequired,
            "withdrawing needs the voter's cookie or Authorization: Voter <voter_token>",
        )
    })?;
    let ballot = Ballot {
        voter: voter.id,
        option: None,
    };
    let outcome = app.votes.cast(poll.clone(), ballot).await?;
    Ok(axum::Json(WithdrawResponse {
        poll,
        withdrawn: outcome.changed,
        node: app.settings.node_id.clone(),
        tally: outcome.tally,
    }))
}
