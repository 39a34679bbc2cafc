//! Extractors whose rejections speak the API's error format: a JSON body, a poll id
//! in the path, a query string. (Credentials are in `crate::credentials`.)

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use votewire_proto::{ErrorCode, PollId};

use crate::error::Refusal;

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

impl<T: DeserializeOwned> Json<T> {
    /// Decodes a body already read, as the extractor does once it has the bytes (axum's
    /// does the same): the fuzz targets' way in.
    pub(super) fn from_bytes(bytes: &[u8]) -> Result<Self, Refusal> {
        axum::Json::<T>::from_bytes(bytes)
            .map(|axum::Json(value)| Json(value))
            .map_err(json_rejection)
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
