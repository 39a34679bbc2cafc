//! `/api/join/{code}`: the poll a typed join code names.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use votewire_proto::{ErrorBody, ErrorCode, PollView};

use super::polls::poll_view;
use crate::error::Refusal;
use crate::state::AppState;
use crate::store::StoreError;
use crate::token::parse_join_code;

/// The join route.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/join/{code}", get(join))
}

#[utoipa::path(get, path = "/api/join/{code}", tag = "polls",
    params(("code" = String, Path, description = "the poll's join code, as people type it: \
        any case, spaces and dashes ignored")),
    description = "The poll a join code names, with its tally (as `GET /api/polls/{id}`, \
        its counts hidden as there), listed or not.",
    responses((status = 200, description = "The poll and its tally", body = PollView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn join(
    State(app): State<AppState>,
    Path(typed): Path<String>,
    headers: HeaderMap,
) -> Result<axum::Json<PollView>, Refusal> {
    let code = parse_join_code(&typed).ok_or_else(|| {
        Refusal::new(
            ErrorCode::InvalidJoinCode,
            "a join code is six characters of 23456789ABCDEFGHJKMNPQRSTUVWXYZ",
        )
    })?;
    let id = match app.store.poll_by_code(&code).await {
        Err(StoreError::PollNotFound) => {
            return Err(Refusal::new(
                ErrorCode::PollNotFound,
                format!("no poll has the join code {code}"),
            ));
        }
        found => found?,
    };
    poll_view(&app, &headers, &id).await.map(axum::Json)
}
