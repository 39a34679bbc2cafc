//! A `POST /api/polls` body, decoded and validated as the route does: never a panic, a
//! refusal is a 4xx, and a poll that passes is one every store keeps as it is (trimmed
//! texts within the limits, no NUL, distinct options, a closing time in the future, to
//! the millisecond, before the year 10000).
#![no_main]

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use votewire_server::{Limits, Settings, fuzzing};

static LIMITS: LazyLock<Limits> = LazyLock::new(|| Settings::for_data_dir("unused", "fuzz").limits);

fuzz_target!(|data: &[u8]| {
    // A fixed clock, so a finding replays.
    let now = DateTime::<Utc>::from_timestamp_millis(1_800_000_000_000).expect("a time");
    let poll = match fuzzing::create_poll(data, &LIMITS, now) {
        Ok(poll) => poll,
        Err(code) => {
            assert!((400..500).contains(&code.http_status()), "{code:?}");
            return;
        }
    };
    let fits = |text: &str, max: usize| {
        let chars = text.chars().count();
        text.trim() == text && (1..=max).contains(&chars) && !text.contains('\0')
    };
    assert!(fits(&poll.question, LIMITS.max_question_chars), "{poll:?}");
    assert!((2..=LIMITS.max_options).contains(&poll.options.len()));
    for (i, option) in poll.options.iter().enumerate() {
        assert!(fits(option, LIMITS.max_option_chars), "{poll:?}");
        let lower = option.to_lowercase();
        assert!(poll.options[..i].iter().all(|o| o.to_lowercase() != lower));
    }
    if let Some(at) = poll.closes_at {
        assert!(
            at > now && at.timestamp_subsec_nanos() % 1_000_000 == 0,
            "{at}"
        );
        assert!(at.to_rfc3339().len() <= "9999-12-31T23:59:59.999+00:00".len());
    }
});
