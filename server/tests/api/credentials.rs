//! Credentials that are there but unreadable are refused with their own 401, never
//! taken for "no voter" (which would count the vote as a new voter's).

use reqwest::header::{AUTHORIZATION, COOKIE, HeaderValue};
use serde_json::json;
use votewire_proto::ErrorCode;
use votewire_testkit::spawn_app;

use crate::errors::expect_error;

#[tokio::test]
async fn malformed_credentials_are_refused_and_count_nothing() {
    let app = spawn_app().await;
    let created = app.create_poll("Pick", &["a", "b"]).await;
    let (poll, owner_token) = (created.poll.id.to_string(), created.owner_token);
    let voter_as_bearer = format!("Bearer {}", app.new_voter().await);
    let cases: [(reqwest::header::HeaderName, Vec<u8>, ErrorCode); 6] = [
        (
            AUTHORIZATION,
            b"Voter \xff\xfe".to_vec(),
            ErrorCode::MalformedAuthorization,
        ),
        (
            AUTHORIZATION,
            b"Voter ".to_vec(),
            ErrorCode::MalformedAuthorization,
        ),
        (
            AUTHORIZATION,
            b"Voter".to_vec(),
            ErrorCode::MalformedAuthorization,
        ),
        (
            AUTHORIZATION,
            voter_as_bearer.into_bytes(),
            ErrorCode::WrongAuthorizationScheme,
        ),
        (
            COOKIE,
            b"votewire_voter=\xff".to_vec(),
            ErrorCode::MalformedCookie,
        ),
        (
            COOKIE,
            b"votewire_voter=".to_vec(),
            ErrorCode::MalformedCookie,
        ),
    ];
    for (name, value, code) in cases {
        let response = app
            .http
            .post(app.url(&format!("/api/polls/{poll}/votes")))
            .header(name, HeaderValue::from_bytes(&value).unwrap())
            .json(&json!({ "option": 0 }))
            .send()
            .await
            .unwrap();
        expect_error(response, 401, code).await;
    }
    let view = app.get_poll(&poll).await;
    assert_eq!(
        (view.tally.version, view.tally.total),
        (0, 0),
        "no refused vote was counted"
    );

    // An owner's action takes Bearer only: a voter-scheme owner token is refused too.
    let close = app
        .http
        .post(app.url(&format!("/api/polls/{poll}/close")))
        .header(AUTHORIZATION, format!("Voter {owner_token}"))
        .send()
        .await
        .unwrap();
    expect_error(close, 401, ErrorCode::WrongAuthorizationScheme).await;
    assert_eq!(app.get_poll(&poll).await.poll.closed_at, None);
}
