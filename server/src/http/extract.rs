//! Extractors whose rejections speak the API's error format: a JSON body, a poll id
//! in the path, a query string, a voter and an owner token.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use votewire_proto::{ErrorCode, PollId};

use crate::error::Refusal;
use crate::token::{TokenKeys, Voter};

/// The name of the voter cookie.
pub(super) const VOTER_COOKIE: &str = "votewire_voter";

/// A JSON request body; `application/json` only (415 otherwise).
pub(super) struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Refusal;

    async fn from_request(req: Request, state: &S) -> Result<Self, Refusal> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> Refusal {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => Refusal::new(
            ErrorCode::UnsupportedMediaType,
            "request bodies must be JSON with Content-Type: application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => Refusal::new(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => Refusal::new(
            ErrorCode::InvalidBody,
            format!("the body does not fit: {}", e.body_text()),
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Refusal::new(
                ErrorCode::PayloadTooLarge,
                "the body is larger than the configured limit",
            )
        }
        other => Refusal::new(ErrorCode::InvalidBody, other.body_text()),
    }
}

/// The poll id of a `/api/polls/{id}/..` route.
pub(super) struct PollPath(pub PollId);

impl<S: Send + Sync> FromRequestParts<S> for PollPath {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| Refusal::new(ErrorCode::InvalidPollId, e.body_text()))?;
        PollId::parse(raw)
            .map(PollPath)
            .map_err(|e| Refusal::new(ErrorCode::InvalidPollId, e.to_string()))
    }
}

/// A query string.
pub(super) struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| Refusal::new(ErrorCode::InvalidQuery, e.body_text()))
    }
}

/// The value after `scheme ` in the Authorization header, if the scheme matches.
fn authorization<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The voter of a request: `Authorization: Voter <token>`, else the cookie.
/// `Ok(None)` when there is neither; an error when the one given is not valid.
pub(super) fn voter(headers: &HeaderMap, keys: &TokenKeys) -> Result<Option<Voter>, Refusal> {
    let Some(token) = authorization(headers, "Voter").or_else(|| cookie(headers, VOTER_COOKIE))
    else {
        return Ok(None);
    };
    keys.verify_voter(token).map(Some).ok_or_else(|| {
        Refusal::new(
            ErrorCode::InvalidVoterToken,
            "the voter token is malformed or was not issued here",
        )
    })
}

/// Checks `Authorization: Bearer <owner_token>` for `poll`.
pub(super) fn owner(headers: &HeaderMap, keys: &TokenKeys, poll: &PollId) -> Result<(), Refusal> {
    let token = authorization(headers, "Bearer").ok_or_else(|| {
        Refusal::new(
            ErrorCode::OwnerTokenRequired,
            "send the poll's owner token as Authorization: Bearer <owner_token>",
        )
    })?;
    if keys.verify_owner(poll, token) {
        Ok(())
    } else {
        Err(Refusal::new(
            ErrorCode::InvalidOwnerToken,
            "this owner token does not belong to this poll",
        ))
    }
}
