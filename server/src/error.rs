//! One vocabulary of refusals for REST and WebSocket alike: a [`Refusal`] carries an
//! [`ErrorCode`] and words; REST renders it as `{"error":{"code","message"}}` with the
//! code's status, a socket as an `error` message. Storage errors become refusals here,
//! and only here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use votewire_proto::{ErrorBody, ErrorCode, ErrorDetail, PollId, ServerMessage};

use crate::store::StoreError;

/// A refused request or client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// What went wrong, from the shared vocabulary.
    pub(crate) code: ErrorCode,
    /// What went wrong, for people.
    pub(crate) message: String,
}

impl Refusal {
    /// A refusal with its own words.
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// Names the poll in the words of a `poll_not_found`, for a socket that may watch
    /// several polls.
    pub(crate) fn naming(mut self, poll: &PollId) -> Self {
        if self.code == ErrorCode::PollNotFound {
            self.message = format!("no poll has the id {poll}");
        }
        self
    }

    /// The refusal as a WebSocket `error` message.
    pub(crate) fn into_message(self) -> ServerMessage {
        ServerMessage::Error {
            code: self.code,
            message: self.message,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl IntoResponse for Refusal {
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

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::PollNotFound => Self::new(ErrorCode::PollNotFound, "no poll has this id"),
            StoreError::PollPaused => Self::new(
                ErrorCode::PollPaused,
                "voting on this poll is paused by its owner; vote again when it resumes",
            ),
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
            StoreError::TooManyChoices { max } => Self::new(
                ErrorCode::TooManyChoices,
                format!("this poll takes at most {max} options per vote"),
            ),
            StoreError::InviteRequired => Self::new(
                ErrorCode::InviteRequired,
                "this poll takes invited voters only: vote with your invite code (\"invite\")",
            ),
            StoreError::InviteInvalid => Self::new(
                ErrorCode::InviteInvalid,
                "this invite code is unknown or was already used by another voter",
            ),
            StoreError::AddressAlreadyVoted => Self::new(
                ErrorCode::AddressAlreadyVoted,
                "this poll takes one voter per network address, and another voter from yours \
                 has voted",
            ),
            StoreError::Unavailable(why) => {
                tracing::warn!(%why, "database unavailable");
                Self::new(
                    ErrorCode::DatabaseUnavailable,
                    "the database cannot be reached right now; nothing was changed, try again",
                )
            }
            StoreError::Taken => {
                tracing::error!("no free join code after several draws");
                Self::new(
                    ErrorCode::Internal,
                    "no free join code was found; try again",
                )
            }
            StoreError::Other(why) => {
                tracing::error!(%why, "database error");
                Self::new(ErrorCode::Internal, "an unexpected database error occurred")
            }
        }
    }
}
