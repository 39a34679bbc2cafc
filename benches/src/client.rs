//! The public contract, as a load generator uses it.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::json;
use votewire_proto::{ServerMessage, Tally};

use crate::ws_reader::WsReader;

/// Why a call failed, in words.
pub type Failure = String;

/// The answers loadgen reads, only as far as it reads them: any server that speaks
/// this much of the contract can be measured (the reference server in
/// `bin/reference.rs` too).
#[derive(Deserialize)]
pub struct Created {
    /// The poll created.
    pub poll: Named,
}

/// A poll, by its id.
#[derive(Deserialize)]
pub struct Named {
    /// The poll's id.
    pub id: String,
}

#[derive(Deserialize)]
struct Voted {
    vote: Versioned,
}

#[derive(Deserialize)]
struct Versioned {
    version: u64,
}

#[derive(Deserialize)]
struct Viewed {
    tally: Tally,
}

/// The HTTP side of the contract.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A client of the node (or proxy) at `base`, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a plain HTTP client builds");
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Creates a poll with `options` options.
    pub async fn create_poll(&self, options: usize) -> Result<Created, Failure> {
        let options: Vec<String> = (0..options).map(|i| format!("option {i}")).collect();
        let body = json!({ "question": "loadgen", "options": options });
        let response = self
            .http
            .post(format!("{}/api/polls", self.base))
            .json(&body)
            .send()
            .await;
        let response = response.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("creating a poll: {}", response.status()));
        }
        response.json().await.map_err(|e| e.to_string())
    }

    /// A new voter's token, from `POST /api/voters`.
    pub async fn new_voter(&self) -> Result<String, Failure> {
        let response = self
            .http
            .post(format!("{}/api/voters", self.base))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("issuing a voter: {}", response.status()));
        }
        let issued: votewire_proto::VoterIssued =
            response.json().await.map_err(|e| e.to_string())?;
        Ok(issued.voter_token)
    }

    /// One vote by a new voter, as a new person votes: a voter first (a vote never
    /// mints one), then the vote. Returns the acknowledged version and how long the
    /// vote itself took.
    pub async fn vote_as_new_voter(
        &self,
        poll: &str,
        option: u32,
    ) -> Result<(u64, Duration), Failure> {
        let voter = self.new_voter().await?;
        self.vote(poll, Some(&voter), option).await
    }

    /// One vote, as `voter` when given: its version once committed (0 for a 202, which
    /// has none yet) and how long the answer took.
    pub async fn vote(
        &self,
        poll: &str,
        voter: Option<&str>,
        option: u32,
    ) -> Result<(u64, Duration), Failure> {
        let started = Instant::now();
        let mut request = self
            .http
            .post(format!("{}/api/polls/{poll}/votes", self.base))
            .json(&json!({ "option": option }));
        if let Some(voter) = voter {
            request = request.header("authorization", format!("Voter {voter}"));
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        match response.status().as_u16() {
            200 => {
                let body: Voted = response.json().await.map_err(|e| e.to_string())?;
                Ok((body.vote.version, started.elapsed()))
            }
            // `--ingest stream`: recorded, not yet counted; no version yet.
            202 => Ok((0, started.elapsed())),
            status => Err(format!("vote answered {status}")),
        }
    }

    /// The poll's total and version, as the API reads them.
    pub async fn tally(&self, poll: &str) -> Result<Tally, Failure> {
        let response = self
            .http
            .get(format!("{}/api/polls/{poll}", self.base))
            .send()
            .await;
        let view: Viewed = response
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        Ok(view.tally)
    }

    /// Opens a socket and subscribes it to `poll`, returning once the snapshot arrived.
    /// The socket is the lean [`WsReader`] rather than tungstenite's: the fan-out
    /// readers read every frame, and idle sockets are held by the ten thousand (see
    /// [`crate::ws_reader`] for why).
    pub async fn watch(&self, poll: &str) -> Result<(WsReader, u64), Failure> {
        let mut socket = WsReader::connect(&self.base).await?;
        let subscribe = json!({ "type": "subscribe", "poll": poll }).to_string();
        socket.send_text(&subscribe).await?;
        loop {
            match socket.next_message().await? {
                ServerMessage::Snapshot { tally, .. } => return Ok((socket, tally.version)),
                ServerMessage::Error { code, message } => {
                    return Err(format!("{code:?}: {message}"));
                }
                _ => {}
            }
        }
    }
}

/// What a fan-out reader needs from a frame ([`WsReader::next_frame`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A `snapshot`, `update` or `closed` frame: the version of its tally.
    Tally(u64),
    /// An `error` frame, in words.
    Error(String),
    /// Anything else (`hello`, or a type added to the contract later).
    Other,
}

/// The fields of a server frame [`parse_frame`] reads; serde skips the others.
#[derive(Deserialize)]
struct FramePeek<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    tally: Option<TallyPeek>,
    #[serde(borrow)]
    code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct TallyPeek {
    version: u64,
    /// Named (rather than left unknown) to say that the counts are skipped on purpose.
    #[serde(default, rename = "counts")]
    _counts: IgnoredAny,
}

/// Parses one frame's text only as far as [`Frame`] needs.
///
/// Why: the fan-out readers see every update on every socket (100,000 frames a second
/// and more) on the machine the servers run on, and a full [`ServerMessage`] allocates
/// the counts, the `recent` votes and their node ids and timestamps only to drop them.
/// Here only `type` and `tally.version` are kept; the rest is scanned past, never built.
pub fn parse_frame(text: &str) -> Result<Frame, Failure> {
    let peek: FramePeek = serde_json::from_str(text).map_err(|e| format!("a frame: {e}"))?;
    match &*peek.kind {
        "snapshot" | "update" | "closed" => match peek.tally {
            Some(tally) => Ok(Frame::Tally(tally.version)),
            None => Err(format!("a {} frame without a tally", peek.kind)),
        },
        "error" => Ok(Frame::Error(format!(
            "{}: {}",
            peek.code.as_deref().unwrap_or("no code"),
            peek.message.as_deref().unwrap_or("")
        ))),
        _ => Ok(Frame::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_only_the_type_and_the_version() {
        let update = r#"{"type":"update","poll":"p1","tally":{"version":42,"counts":[1,2],"total":3},"recent":[{"option":1,"node":"n1","at":"2024-01-01T00:00:00Z"}],"skipped":0}"#;
        assert_eq!(parse_frame(update), Ok(Frame::Tally(42)));
        let snapshot = r#"{"tally":{"total":0,"counts":[0],"version":0},"type":"snapshot","poll":"p","status":"open"}"#;
        assert_eq!(parse_frame(snapshot), Ok(Frame::Tally(0)));
        let closed = r#"{"type":"closed","poll":"p","tally":{"version":7,"counts":[7],"total":7}}"#;
        assert_eq!(parse_frame(closed), Ok(Frame::Tally(7)));
        let error =
            r#"{"type":"error","code":"rate_limited","message":"at most \"5\" per second"}"#;
        assert_eq!(
            parse_frame(error),
            Ok(Frame::Error(
                r#"rate_limited: at most "5" per second"#.into()
            ))
        );
        let hello = r#"{"type":"hello","node":"n1","protocol":1}"#;
        assert_eq!(parse_frame(hello), Ok(Frame::Other));
        assert!(parse_frame(r#"{"type":"update","poll":"p"}"#).is_err());
        assert!(parse_frame(r#"{"type":"update","tally":{"version":-1}}"#).is_err());
        assert!(parse_frame("not json").is_err());
    }

    #[test]
    fn frames_agree_with_the_full_parse() {
        let update = r#"{"type":"update","poll":"p1","tally":{"version":9,"counts":[4,5],"total":9},"recent":[],"skipped":3}"#;
        let full: ServerMessage = serde_json::from_str(update).unwrap();
        assert_eq!(
            parse_frame(update),
            Ok(Frame::Tally(full.tally().expect("a tally frame").version))
        );
    }
}
