//! The owner's controls of a poll: close, reopen, reset, pause and resume, and who sees
//! its results. Each takes the owner token, runs in a task of its own
//! ([`crate::votes::Votes`]) and answers the poll as it is after the change.

use axum::http::HeaderMap;
use votewire_proto::{ErrorBody, PollId, PollView, SetResults};

use super::view;
use crate::credentials;
use crate::error::Refusal;
use crate::http::extract::{Json, PollPath};
use crate::http::idempotency::KeyHeader;
use crate::state::AppState;

#[utoipa::path(post, path = "/api/polls/{id}/close", tag = "polls", params(("id" = PollId, Path, description = "poll id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Accepted and checked like a creation's; \
        closing is idempotent by itself (a closed poll answers its final state), so nothing is stored")),
    security(("owner_token" = [])),
    responses((status = 200, description = "The closed poll and its final tally (closing a closed poll changes nothing)", body = PollView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(in crate::http) async fn close_poll(
    app: axum::extract::State<AppState>,
    PollPath(id): PollPath,
    _checked: KeyHeader,
    headers: HeaderMap,
) -> Result<axum::Json<PollView>, Refusal> {
    credentials::owner(&headers, &app.keys, &id)?;
    Ok(axum::Json(view(app.votes.close(id).await?)))
}

#[utoipa::path(post, path = "/api/polls/{id}/reopen", tag = "polls", params(("id" = PollId, Path, description = "poll id")),
    security(("owner_token" = [])),
    description = "Opens a poll its owner closed again, as long as its `closes_at` (if any) has not passed: \
        the version rises (a close keeps it), so every watcher and client takes the poll as open again. \
        Reopening an open poll changes nothing; a poll past its closing time answers 409 `poll_closed`.",
    responses((status = 200, description = "The open poll and its tally", body = PollView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(in crate::http) async fn reopen_poll(
    app: axum::extract::State<AppState>,
    PollPath(id): PollPath,
    headers: HeaderMap,
) -> Result<axum::Json<PollView>, Refusal> {
    credentials::owner(&headers, &app.keys, &id)?;
    Ok(axum::Json(view(app.votes.reopen(id).await?)))
}

#[utoipa::path(post, path = "/api/polls/{id}/reset", tag = "polls", params(("id" = PollId, Path, description = "poll id")),
    security(("owner_token" = [])),
    description = "Takes every vote out of an open poll: the counts go to zero and the version rises, so \
        watchers and clients replace what they show. Voters may vote again; a retry of a vote cast \
        before the reset does not come back (its `seq` is not above the stored one).",
    responses((status = 200, description = "The poll and its emptied tally", body = PollView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(in crate::http) async fn reset_poll(
    app: axum::extract::State<AppState>,
    PollPath(id): PollPath,
    headers: HeaderMap,
) -> Result<axum::Json<PollView>, Refusal> {
    credentials::owner(&headers, &app.keys, &id)?;
    Ok(axum::Json(view(app.votes.reset(id).await?)))
}

#[utoipa::path(post, path = "/api/polls/{id}/pause", tag = "polls", params(("id" = PollId, Path, description = "poll id")),
    security(("owner_token" = [])),
    description = "Pauses voting on an open poll: votes answer 409 `poll_paused` until it resumes; \
        the status becomes `paused` at a new version, so every watcher is told. Pausing a paused poll \
        changes nothing.",
    responses((status = 200, description = "The paused poll and its tally", body = PollView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(in crate::http) async fn pause_poll(
    app: axum::extract::State<AppState>,
    PollPath(id): PollPath,
    headers: HeaderMap,
) -> Result<axum::Json<PollView>, Refusal> {
    credentials::owner(&headers, &app.keys, &id)?;
    Ok(axum::Json(view(app.votes.pause(id, true).await?)))
}

#[utoipa::path(post, path = "/api/polls/{id}/resume", tag = "polls", params(("id" = PollId, Path, description = "poll id")),
    security(("owner_token" = [])),
    description = "Resumes voting on a paused poll, at a new version. Resuming an open poll changes nothing.",
    responses((status = 200, description = "The open poll and its tally", body = PollView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(in crate::http) async fn resume_poll(
    app: axum::extract::State<AppState>,
    PollPath(id): PollPath,
    headers: HeaderMap,
) -> Result<axum::Json<PollView>, Refusal> {
    credentials::owner(&headers, &app.keys, &id)?;
    Ok(axum::Json(view(app.votes.pause(id, false).await?)))
}

#[utoipa::path(post, path = "/api/polls/{id}/results", tag = "polls", request_body = SetResults,
    params(("id" = PollId, Path, description = "poll id")),
    security(("owner_token" = [])),
    description = "Changes who sees the poll's counts, open or closed: `live` reveals them to everyone. \
        The version rises, so every watcher is sent the tally anew, with or without the counts. \
        Setting the visibility the poll has changes nothing.",
    responses((status = 200, description = "The poll and its tally", body = PollView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(in crate::http) async fn set_results(
    app: axum::extract::State<AppState>,
    PollPath(id): PollPath,
    headers: HeaderMap,
    Json(body): Json<SetResults>,
) -> Result<axum::Json<PollView>, Refusal> {
    credentials::owner(&headers, &app.keys, &id)?;
    Ok(axum::Json(view(
        app.votes.set_results(id, body.results).await?,
    )))
}
