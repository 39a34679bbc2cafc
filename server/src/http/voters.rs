//! `/api/voters`: issue a voter.

use axum::Router;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use votewire_proto::{ErrorBody, VoterIssued};

use super::votes::voter_cookie;
use crate::state::AppState;

/// The voter routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/voters", post(issue_voter))
}

#[utoipa::path(post, path = "/api/voters", tag = "voters",
    description = "Issues a new anonymous voter: the token in the body and in the `votewire_voter` cookie.",
    responses((status = 201, description = "The new voter's token (also set as the cookie)", body = VoterIssued),
        (status = 429, body = ErrorBody)))]
async fn issue_voter(State(app): State<AppState>, headers: HeaderMap) -> impl IntoResponse {
    let voter = app.keys.issue_voter();
    let cookie = voter_cookie(&voter, &headers);
    (
        StatusCode::CREATED,
        [(SET_COOKIE, cookie)],
        axum::Json(VoterIssued {
            voter_token: voter.token,
        }),
    )
}
