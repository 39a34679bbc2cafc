//! A client's WebSocket text frame, as the session parses it: never a panic, a refusal
//! is one of the two codes a bad message gets, and what parses survives a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use votewire_proto::{ClientMessage, ErrorCode};

fuzz_target!(|data: &[u8]| {
    // The session parses text frames only: a binary one is refused before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ClientMessage::parse(text) {
        Ok(message) => {
            let again = serde_json::to_string(&message).expect("a message serializes");
            assert_eq!(ClientMessage::parse(&again), Ok(message));
        }
        Err((code, _)) => assert!(
            matches!(
                code,
                ErrorCode::MalformedMessage | ErrorCode::UnknownMessageType
            ),
            "{code:?}"
        ),
    }
});
