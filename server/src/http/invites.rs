//! `/api/polls/{id}/invites`: the owner of an `invite` poll mints codes, each good for
//! one voter. Only their digests are stored: the answer is the one place a code is
//! shown, so the owner hands them out (links `/p/{id}?invite=CODE`, or the code itself,
//! typed on the poll page).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use votewire_proto::{ErrorBody, ErrorCode, InvitesMinted, MintInvites, PollId, VotingMode};

use super::extract::{Json, PollPath};
use crate::credentials;
use crate::error::Refusal;
use crate::state::AppState;
use crate::token::{invite_digest, new_invite_code};

/// The most codes one request mints: a class or a board in one go, and a bounded
/// transaction. More are minted by asking again.
const MAX_INVITES_PER_REQUEST: u32 = 500;

/// The invite routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/polls/{id}/invites", post(mint_invites))
}

#[utoipa::path(post, path = "/api/polls/{id}/invites", tag = "polls", request_body = MintInvites,
    params(("id" = PollId, Path, description = "poll id")),
    security(("owner_token" = [])),
    description = "Mints invite codes for an `invite` poll (1 to 500 per request), each good for one voter. \
        They are shown once: the server keeps only their digests.",
    responses((status = 201, description = "The new codes", body = InvitesMinted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn mint_invites(
    State(app): State<AppState>,
    PollPath(id): PollPath,
    headers: HeaderMap,
    Json(body): Json<MintInvites>,
) -> Result<(StatusCode, axum::Json<InvitesMinted>), Refusal> {
    credentials::owner(&headers, &app.keys, &id)?;
    if !(1..=MAX_INVITES_PER_REQUEST).contains(&body.count) {
        return Err(Refusal::new(
            ErrorCode::InvalidBody,
            format!("count must be from 1 to {MAX_INVITES_PER_REQUEST}"),
        ));
    }
    let state = app
        .store
        .poll(&id)
        .await
        .map_err(|e| Refusal::from(e).naming(&id))?;
    if state.poll.mode != VotingMode::Invite {
        return Err(Refusal::new(
            ErrorCode::NotInviteOnly,
            format!(
                "this poll is {}: anyone may vote, it takes no invites",
                state.poll.mode.as_str()
            ),
        ));
    }
    let codes: Vec<String> = (0..body.count).map(|_| new_invite_code()).collect();
    let digests: Vec<String> = codes.iter().map(|code| invite_digest(code)).collect();
    app.store.add_invites(&id, &digests).await?;
    Ok((StatusCode::CREATED, axum::Json(InvitesMinted { codes })))
}
