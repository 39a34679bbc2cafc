//! WebSocket messages on `GET /ws`: JSON text frames tagged by `type`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{ClusterView, ErrorCode, NodeId, PollId, PollStatus, ResultsVisibility, Tally};

/// A secret a client sends (an owner token): kept out of `Debug`, so a message logged
/// whole never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, to check it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Watch a poll. The server answers with a `snapshot`, unless `since` is already the
    /// poll's current version and the poll is open.
    Subscribe {
        /// The poll to watch.
        poll: PollId,
        /// The version the client already shows, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        since: Option<u64>,
        /// The poll's owner token, from its owner's page: the owner sees the counts
        /// whatever the poll's `results`. A token that is not the poll's is refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "string")]
        #[schema(value_type = Option<String>)]
        owner_token: Option<Secret>,
    },
    /// Stop watching a poll.
    Unsubscribe {
        /// The poll to stop watching.
        poll: PollId,
    },
    /// Receive the cluster's telemetry (a `cluster` message every two seconds): the
    /// control room's feed.
    WatchCluster,
    /// Stop the cluster's telemetry.
    UnwatchCluster,
}

impl ClientMessage {
    /// Parses a client's text frame, telling an unknown `type` (`unknown_message_type`)
    /// from a malformed message (`malformed_message`), with words for the client. Here
    /// rather than in the server's session because it is pure: the session and the fuzz
    /// target (`fuzz/`) run this one function.
    pub fn parse(text: &str) -> Result<Self, (ErrorCode, String)> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| (ErrorCode::MalformedMessage, format!("not valid JSON: {e}")))?;
        let kind = value
            .get("type")
            .and_then(|t| t.as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                (
                    ErrorCode::MalformedMessage,
                    "a message is a JSON object with a string \"type\"".to_owned(),
                )
            })?;
        if !matches!(
            kind.as_str(),
            "subscribe" | "unsubscribe" | "watch_cluster" | "unwatch_cluster"
        ) {
            return Err((
                ErrorCode::UnknownMessageType,
                format!(
                    "unknown message type {kind:?}: expected \"subscribe\", \"unsubscribe\", \
                     \"watch_cluster\" or \"unwatch_cluster\""
                ),
            ));
        }
        serde_json::from_value(value)
            .map_err(|e| (ErrorCode::MalformedMessage, format!("invalid {kind}: {e}")))
    }
}

/// A vote folded into an `update`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct RecentVote {
    /// The option voted for (the first, for a set); absent when the vote was withdrawn.
    pub option: Option<u32>,
    /// Every option voted for, when the vote chose more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<u32>>", optional)]
    pub options: Vec<u32>,
    /// The node that handled the vote.
    pub node: NodeId,
    /// When the vote was committed.
    pub at: DateTime<Utc>,
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Sent once on connect.
    Hello {
        /// The node this socket is connected to.
        node: NodeId,
        /// The protocol version, [`crate::PROTOCOL_VERSION`].
        protocol: u32,
    },
    /// The whole state of a poll, in answer to `subscribe`.
    Snapshot {
        /// The poll.
        poll: PollId,
        /// Open or closed.
        status: PollStatus,
        /// Its tally now; `counts` is empty when the results are hidden from this socket.
        tally: Tally,
        /// Who sees the counts; absent: `live`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        results: Option<ResultsVisibility>,
        /// How many sockets watch the poll, over every node, as last counted (every
        /// two seconds or so).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        watching: Option<u64>,
    },
    /// The tally moved, or the number of sockets watching it did.
    Update {
        /// The poll.
        poll: PollId,
        /// `paused` while its owner paused voting; absent: open.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        status: Option<PollStatus>,
        /// Its whole tally at the newest version; `counts` is empty when the results are
        /// hidden from this socket.
        tally: Tally,
        /// Who sees the counts; absent: `live`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        results: Option<ResultsVisibility>,
        /// The latest votes folded into this update, oldest first; empty when the
        /// results are hidden from this socket (they would tell the counts).
        recent: Vec<RecentVote>,
        /// How many more votes were folded in than `recent` lists.
        skipped: u64,
        /// How many sockets watch the poll, over every node, as last counted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        watching: Option<u64>,
    },
    /// The poll closed; `tally` is final.
    Closed {
        /// The poll.
        poll: PollId,
        /// The final tally; `counts` is empty when the results are hidden from this
        /// socket (a `hidden` poll its owner did not reveal).
        tally: Tally,
    },
    /// A vote of this socket's voter that was accepted (202, stream ingest) was refused
    /// when it came to be counted, for instance because the poll closed meanwhile: it is
    /// not counted. Sent to the sockets that carry the voter's cookie and watch the poll.
    Rejected {
        /// The poll.
        poll: PollId,
        /// The receipt of the refused vote, as its 202 gave it.
        stream_id: String,
        /// Why it was refused, from the shared vocabulary.
        code: ErrorCode,
        /// Why, in words.
        message: String,
    },
    /// The cluster's telemetry, every two seconds to a socket that sent `watch_cluster`:
    /// every live node as the answering node sees it, without their addresses (empty),
    /// which stay on the internal `/api/cluster`.
    Cluster {
        /// The nodes, as `GET /api/cluster` lists them.
        view: ClusterView,
    },
    /// A message from the client was refused.
    Error {
        /// What went wrong, from the shared vocabulary.
        code: ErrorCode,
        /// What went wrong, in words.
        message: String,
    },
}

impl ServerMessage {
    /// The tally the message carries (a snapshot, an update, a close), if it carries one.
    pub fn tally(&self) -> Option<&Tally> {
        match self {
            Self::Snapshot { tally, .. }
            | Self::Update { tally, .. }
            | Self::Closed { tally, .. } => Some(tally),
            Self::Hello { .. }
            | Self::Rejected { .. }
            | Self::Cluster { .. }
            | Self::Error { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_parses_with_and_without_since() {
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"subscribe","poll":"p1","since":4}"#).unwrap();
        assert_eq!(
            m,
            ClientMessage::Subscribe {
                poll: PollId::parse("p1").unwrap(),
                since: Some(4),
                owner_token: None,
            }
        );
        let m: ClientMessage = serde_json::from_str(r#"{"type":"subscribe","poll":"p1"}"#).unwrap();
        assert!(matches!(m, ClientMessage::Subscribe { since: None, .. }));
    }

    #[test]
    fn parse_tells_unknown_types_from_malformed_messages() {
        let code = |text: &str| ClientMessage::parse(text).unwrap_err().0;
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"subscribe","poll":"p"}"#),
            Ok(ClientMessage::Subscribe { .. })
        ));
        assert_eq!(code(r#"{"type":"dance"}"#), ErrorCode::UnknownMessageType);
        assert_eq!(code("{nope"), ErrorCode::MalformedMessage);
        assert_eq!(code(r#"{"poll":"p"}"#), ErrorCode::MalformedMessage);
        assert_eq!(
            code(r#"{"type":"subscribe","poll":7}"#),
            ErrorCode::MalformedMessage
        );
        assert_eq!(
            code(r#"{"type":"subscribe","poll":"a/b"}"#),
            ErrorCode::MalformedMessage
        );
    }

    #[test]
    fn unknown_types_are_refused() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"vote","poll":"p1"}"#).is_err());
    }

    #[test]
    fn hello_has_the_documented_shape() {
        let hello = ServerMessage::Hello {
            node: NodeId::parse("n1").unwrap(),
            protocol: 1,
        };
        assert_eq!(
            serde_json::to_string(&hello).unwrap(),
            r#"{"type":"hello","node":"n1","protocol":1}"#
        );
    }
}
