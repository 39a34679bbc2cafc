//! The TypeScript mirror of the contract, for `web/src/proto/index.ts`.
//!
//! One file, written by `cargo run -p votewire-proto --example write-typescript` and
//! checked by `tests/typescript.rs`, which fails when the checked-in file drifts from
//! the Rust. ts-rs's own per-type export was not used: it writes during `cargo test`,
//! so a stale file would be fixed silently instead of failing the build.

use ts_rs::{Config, TS};

use crate::*;

/// Where the generated file lives, relative to the workspace root.
pub const TYPESCRIPT_PATH: &str = "web/src/proto/index.ts";

fn decl<T: TS>(cfg: &Config) -> String {
    let docs = T::docs().map(|d| format!("{d}\n")).unwrap_or_default();
    format!("{docs}export {}\n", T::decl(cfg))
}

/// Renders every wire type as TypeScript declarations.
pub fn render() -> String {
    // u64 travels as a JSON number; versions and counts stay far below 2^53.
    let cfg = Config::new().with_large_int("number");
    let parts = [
        decl::<PollId>(&cfg),
        decl::<NodeId>(&cfg),
        decl::<ErrorCode>(&cfg),
        decl::<ErrorDetail>(&cfg),
        decl::<ErrorBody>(&cfg),
        decl::<Tally>(&cfg),
        decl::<PollStatus>(&cfg),
        decl::<VotingMode>(&cfg),
        decl::<ResultsVisibility>(&cfg),
        decl::<Poll>(&cfg),
        decl::<CreatePoll>(&cfg),
        decl::<SetResults>(&cfg),
        decl::<MintInvites>(&cfg),
        decl::<InvitesMinted>(&cfg),
        decl::<CreatedPoll>(&cfg),
        decl::<PollView>(&cfg),
        decl::<PollListItem>(&cfg),
        decl::<PollList>(&cfg),
        decl::<NodeVotes>(&cfg),
        decl::<PollAudit>(&cfg),
        decl::<CastVote>(&cfg),
        decl::<VoteReceipt>(&cfg),
        decl::<VoteResponse>(&cfg),
        decl::<VoteAccepted>(&cfg),
        decl::<WithdrawResponse>(&cfg),
        decl::<VoterIssued>(&cfg),
        decl::<NodeRole>(&cfg),
        decl::<CommitTimes>(&cfg),
        decl::<NodeInfo>(&cfg),
        decl::<ClusterView>(&cfg),
        decl::<HealthReport>(&cfg),
        decl::<ClientMessage>(&cfg),
        decl::<RecentVote>(&cfg),
        decl::<ServerMessage>(&cfg),
    ];
    format!(
        "// Generated from proto/ by `cargo run -p votewire-proto --example write-typescript`.\n\
         // Do not edit: change the Rust types and run the command again.\n\
         \n\
         /** The WebSocket protocol version announced in `hello`. */\n\
         export const PROTOCOL_VERSION = {PROTOCOL_VERSION};\n\n{}",
        parts.join("\n")
    )
}
