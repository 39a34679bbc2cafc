//! Validation and cursors of the poll routes, case by case.
use super::*;
use crate::settings::Settings;

fn limits() -> Limits {
    Settings::for_data_dir("unused", "n1").limits
}

fn body(question: &str, options: &[&str]) -> CreatePoll {
    CreatePoll {
        question: question.into(),
        options: options.iter().map(|o| o.to_string()).collect(),
        closes_at: None,
        mode: None,
        listed: None,
        results: None,
        max_choices: None,
    }
}

fn code(result: Result<ValidPoll, Refusal>) -> ErrorCode {
    result.expect_err("expected a refusal").code
}

#[test]
fn a_good_poll_is_trimmed() {
    let valid = validate(
        body("  Tea or coffee? ", &[" tea", "coffee "]),
        &limits(),
        Utc::now(),
    )
    .unwrap();
    assert_eq!(valid.question, "Tea or coffee?");
    assert_eq!(valid.options, ["tea", "coffee"]);
}

#[test]
fn bad_questions_and_options_have_their_own_codes() {
    let now = Utc::now();
    let l = limits();
    assert_eq!(
        code(validate(body("   ", &["a", "b"]), &l, now)),
        ErrorCode::InvalidQuestion
    );
    assert_eq!(
        code(validate(body(&"q".repeat(281), &["a", "b"]), &l, now)),
        ErrorCode::InvalidQuestion
    );
    assert_eq!(
        code(validate(body("q", &["a"]), &l, now)),
        ErrorCode::InvalidOptions
    );
    let many: Vec<String> = (0..33).map(|i| i.to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        code(validate(body("q", &many), &l, now)),
        ErrorCode::InvalidOptions
    );
    assert_eq!(
        code(validate(body("q", &["a", " "]), &l, now)),
        ErrorCode::InvalidOptions
    );
    assert_eq!(
        code(validate(body("q", &["a", "A"]), &l, now)),
        ErrorCode::InvalidOptions
    );
    assert_eq!(
        code(validate(body("q", &["a", &"o".repeat(101)]), &l, now)),
        ErrorCode::InvalidOptions
    );
    let mut past = body("q", &["a", "b"]);
    past.closes_at = Some(now - chrono::Duration::seconds(1));
    assert_eq!(code(validate(past, &l, now)), ErrorCode::InvalidClosesAt);
}

/// What passes is stored as it is on every backend (PostgreSQL's text holds no NUL),
/// answered in RFC 3339 (four-digit years) and as a later read shows it.
#[test]
fn nul_characters_and_closing_times_past_9999_are_refused_and_times_kept_to_the_millisecond() {
    let (now, l) = (Utc::now(), limits());
    for (poll, refused) in [
        (body("q\0", &["a", "b"]), ErrorCode::InvalidQuestion),
        (body("q", &["a", "b\0"]), ErrorCode::InvalidOptions),
    ] {
        assert_eq!(code(validate(poll, &l, now)), refused);
    }
    let at = |text: &str| {
        let mut poll = body("q", &["a", "b"]);
        poll.closes_at = Some(text.parse().unwrap());
        validate(poll, &l, now)
    };
    assert_eq!(
        code(at("+10000-01-01T00:00:00Z")),
        ErrorCode::InvalidClosesAt
    );
    let latest = at("9999-12-31T23:59:59.999999999Z").unwrap();
    assert_eq!(
        latest.closes_at.unwrap().to_rfc3339(),
        "9999-12-31T23:59:59.999+00:00"
    );
}

#[test]
fn cursors_round_trip_and_garbage_is_refused() {
    let record = PollRecord {
        id: PollId::parse("abc").unwrap(),
        question: "q".into(),
        options: vec![],
        created_at: DateTime::from_timestamp_millis(1_700_000_000_123).unwrap(),
        closes_at: None,
        closed_at: None,
        mode: VotingMode::Open,
        join_code: None,
        listed: true,
        paused: false,
        results: Default::default(),
        max_choices: 1,
    };
    let cursor = decode_cursor(&encode_cursor(&record)).unwrap();
    assert_eq!(
        (cursor.created_at, cursor.id),
        (record.created_at, record.id)
    );
    assert!(decode_cursor("nonsense").is_err());
    assert!(decode_cursor("12.a/b").is_err());
}
