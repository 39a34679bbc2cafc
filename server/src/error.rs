//! One error type for every route: [`AppError`] carries an [`ErrorCode`] and words, and
//! renders as `{"error":{"code","message"}}` with the code's status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use votewire_proto::{ErrorBody, ErrorCode, ErrorDetail};

use crate::store::StoreError;

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    /// What went wrong, from the shared vocabulary.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

impl AppError {
    /// An error with its own words.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        (status, Json(body)).into_response()
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::PollNotFound => Self::new(ErrorCode::PollNotFound, "no poll has this id"),
            StoreError::PollClosed => Self::new(
                ErrorCode::PollClosed,
                "this poll is closed and takes no more votes",
            ),
            StoreError::OptionOutOfRange { options } => Self::new(
                ErrorCode::OptionOutOfRange,
                format!(
                    "option must be an index from 0 to {}",
                    options.saturating_sub(1)
                ),
            ),
            StoreError::Unavailable(why) => {
                tracing::warn!(%why, "database unavailable");
                Self::new(
                    ErrorCode::DatabaseUnavailable,
                    "the database cannot be reached right now; nothing was changed, try again",
                )
            }
            StoreError::Other(why) => {
                tracing::error!(%why, "database error");
                Self::new(ErrorCode::Internal, "an unexpected database error occurred")
            }
        }
    }
}
