//! A `POST /api/polls/{id}/votes` body, decoded as the route does: never a panic, a
//! refusal is a 4xx, and what decodes survives a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use votewire_server::fuzzing;

fuzz_target!(|data: &[u8]| match fuzzing::cast_vote(data) {
    Ok(vote) => {
        let again = serde_json::to_vec(&vote).expect("a vote serializes");
        assert_eq!(fuzzing::cast_vote(&again), Ok(vote));
    }
    Err(code) => assert!((400..500).contains(&code.http_status()), "{code:?}"),
});
