//! `/api/voters`: issue a voter.

use axum::Router;
use axum::extract::State;
use axum::http::header::{HeaderValue, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use votewire_proto::{ErrorBody, VoterIssued};

use crate::abuse::{NewVoter, Within};
use crate::credentials::VOTER_COOKIE;
use crate::state::AppState;
use crate::token::Voter;

/// The voter routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/voters", post(issue_voter))
}

#[utoipa::path(post, path = "/api/voters", tag = "voters",
    description = "Issues a new anonymous voter: the token in the body and in the `votewire_voter` cookie.",
    responses((status = 201, description = "The new voter's token (also set as the cookie)", body = VoterIssued),
        (status = 429, body = ErrorBody)))]
async fn issue_voter(
    _: Within<NewVoter>,
    State(app): State<AppState>,
    headers: HeaderMap,
) -> impl IntoResponse {
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

/// The `Set-Cookie` that hands a voter its token: a year, HttpOnly, SameSite=Lax, and
/// Secure when the request came over HTTPS (as the proxy in front says).
fn voter_cookie(voter: &Voter, headers: &HeaderMap) -> HeaderValue {
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
