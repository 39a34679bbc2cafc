//! The one error vocabulary, shared by REST (`{"error":{..}}` bodies) and WebSocket
//! (`error` messages), so a client handles a refusal the same way wherever it came from.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Why a request or message was refused. Serialized in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON.
    MalformedJson,
    /// The JSON does not have the expected fields or types.
    InvalidBody,
    /// A request body that is not `application/json`.
    UnsupportedMediaType,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// A query string parameter is invalid.
    InvalidQuery,
    /// The question is blank or too long.
    InvalidQuestion,
    /// Too few or too many options, or one is blank, too long or repeated.
    InvalidOptions,
    /// `closes_at` is not in the future.
    InvalidClosesAt,
    /// `max_choices` is 0, above the number of options, or set on a poll of more
    /// options than a multiple-choice poll may have.
    InvalidMaxChoices,
    /// The poll id in the path is not a valid id.
    InvalidPollId,
    /// The join code in the path is not six characters of the code alphabet.
    InvalidJoinCode,
    /// The `Idempotency-Key` header is empty, too long or not visible ASCII.
    InvalidIdempotencyKey,
    /// The `Idempotency-Key` already made a poll from another request.
    IdempotencyKeyReused,
    /// No poll has this id.
    PollNotFound,
    /// The poll is closed: it takes no more votes.
    PollClosed,
    /// The poll's owner paused voting: votes are refused until it resumes.
    PollPaused,
    /// The option index is not one of the poll's options.
    OptionOutOfRange,
    /// The vote chose more options than the poll's `max_choices`.
    TooManyChoices,
    /// The request needs a voter (cookie or `Authorization: Voter`) and has none.
    VoterRequired,
    /// The voter token is malformed or its signature does not match.
    InvalidVoterToken,
    /// The `Authorization` header is not text, or names a scheme with no credentials
    /// after it.
    MalformedAuthorization,
    /// The `Cookie` header is not text, or the voter cookie is empty.
    MalformedCookie,
    /// The `Authorization` scheme is not the one this route takes (`Voter` for votes,
    /// `Bearer` for an owner's actions).
    WrongAuthorizationScheme,
    /// Closing a poll needs `Authorization: Bearer <owner_token>`.
    OwnerTokenRequired,
    /// The owner token does not belong to this poll.
    InvalidOwnerToken,
    /// An `invite` poll: the voter holds no invite and the vote carries no code.
    InviteRequired,
    /// An `invite` poll: the code is unknown, or already admitted another voter.
    InviteInvalid,
    /// A `per_address` poll: another voter from this client address voted already.
    AddressAlreadyVoted,
    /// Invites were asked for a poll that is not `invite`.
    NotInviteOnly,
    /// No such route.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The WebSocket upgrade came from an origin that is not allowed.
    ForbiddenOrigin,
    /// The node has as many sockets as it is configured to hold.
    TooManyConnections,
    /// A WebSocket message is not valid JSON or lacks required fields.
    MalformedMessage,
    /// A WebSocket message has a `type` the server does not know.
    UnknownMessageType,
    /// A WebSocket frame or message is larger than the configured limit.
    MessageTooLarge,
    /// The socket already watches as many polls as allowed.
    TooManySubscriptions,
    /// Too many messages in too short a time.
    RateLimited,
    /// The database cannot be reached; nothing was changed.
    DatabaseUnavailable,
    /// The node is shutting down; retry on another node.
    Draining,
    /// A node in stream ingest mode holds more votes waiting to be counted than
    /// `--ingest-max-backlog`: retry later (the workers are behind, or the database is
    /// down).
    IngestBacklogFull,
    /// A node in stream ingest mode could not get Redis to confirm the vote: it may or
    /// may not be recorded. Retried with the same `seq`, it counts once.
    IngestUnavailable,
    /// Something unexpected went wrong on the server.
    Internal,
}

impl ErrorCode {
    /// The HTTP status a REST response with this code carries.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            MalformedJson
            | InvalidQuery
            | InvalidPollId
            | InvalidJoinCode
            | InvalidIdempotencyKey
            | MalformedMessage
            | UnknownMessageType => 400,
            VoterRequired
            | InvalidVoterToken
            | MalformedAuthorization
            | MalformedCookie
            | WrongAuthorizationScheme
            | OwnerTokenRequired => 401,
            InvalidOwnerToken | ForbiddenOrigin | InviteRequired | InviteInvalid
            | AddressAlreadyVoted => 403,
            PollNotFound | NotFound => 404,
            MethodNotAllowed => 405,
            PollClosed | PollPaused | NotInviteOnly => 409,
            PayloadTooLarge | MessageTooLarge => 413,
            UnsupportedMediaType => 415,
            InvalidBody | InvalidQuestion | InvalidOptions | InvalidClosesAt
            | InvalidMaxChoices | OptionOutOfRange | TooManyChoices | IdempotencyKeyReused => 422,
            TooManySubscriptions | RateLimited => 429,
            Internal => 500,
            TooManyConnections | DatabaseUnavailable | Draining | IngestBacklogFull
            | IngestUnavailable => 503,
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MalformedJson => "malformed_json",
            InvalidBody => "invalid_body",
            UnsupportedMediaType => "unsupported_media_type",
            PayloadTooLarge => "payload_too_large",
            InvalidQuery => "invalid_query",
            InvalidQuestion => "invalid_question",
            InvalidOptions => "invalid_options",
            InvalidClosesAt => "invalid_closes_at",
            InvalidMaxChoices => "invalid_max_choices",
            InvalidPollId => "invalid_poll_id",
            InvalidJoinCode => "invalid_join_code",
            InvalidIdempotencyKey => "invalid_idempotency_key",
            IdempotencyKeyReused => "idempotency_key_reused",
            PollNotFound => "poll_not_found",
            PollClosed => "poll_closed",
            PollPaused => "poll_paused",
            OptionOutOfRange => "option_out_of_range",
            TooManyChoices => "too_many_choices",
            VoterRequired => "voter_required",
            InvalidVoterToken => "invalid_voter_token",
            MalformedAuthorization => "malformed_authorization",
            MalformedCookie => "malformed_cookie",
            WrongAuthorizationScheme => "wrong_authorization_scheme",
            OwnerTokenRequired => "owner_token_required",
            InvalidOwnerToken => "invalid_owner_token",
            InviteRequired => "invite_required",
            InviteInvalid => "invite_invalid",
            AddressAlreadyVoted => "address_already_voted",
            NotInviteOnly => "not_invite_only",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            ForbiddenOrigin => "forbidden_origin",
            TooManyConnections => "too_many_connections",
            MalformedMessage => "malformed_message",
            UnknownMessageType => "unknown_message_type",
            MessageTooLarge => "message_too_large",
            TooManySubscriptions => "too_many_subscriptions",
            RateLimited => "rate_limited",
            DatabaseUnavailable => "database_unavailable",
            Draining => "draining",
            IngestBacklogFull => "ingest_backlog_full",
            IngestUnavailable => "ingest_unavailable",
            Internal => "internal",
        }
    }
}

/// The body of every refused REST request: `{"error":{"code","message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The code and words of an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_str_matches_serde() {
        for code in [
            ErrorCode::MalformedJson,
            ErrorCode::PollClosed,
            ErrorCode::WrongAuthorizationScheme,
            ErrorCode::Internal,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn client_errors_are_4xx_and_outages_5xx() {
        assert_eq!(ErrorCode::OptionOutOfRange.http_status(), 422);
        assert_eq!(ErrorCode::DatabaseUnavailable.http_status(), 503);
    }
}
