//! Every bad input answers with its own error code and changes nothing.

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use votewire_proto::{ErrorBody, ErrorCode, ServerMessage};

use votewire_testkit::{TestApp, WsClient, spawn_app, spawn_app_with};

/// Checks a refusal's status, JSON error body and code, and returns the body.
pub(crate) async fn expect_error(
    response: reqwest::Response,
    status: u16,
    code: ErrorCode,
) -> ErrorBody {
    assert_eq!(response.status(), status, "status for {code:?}");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: ErrorBody = response.json().await.expect("an error body");
    assert_eq!(body.error.code, code);
    assert!(!body.error.message.is_empty());
    body
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_poll_bodies_are_refused_with_their_own_codes() {
    let app = spawn_app().await;
    let cases: Vec<(Value, ErrorCode)> = vec![
        (
            json!({ "question": 5, "options": ["a", "b"] }),
            ErrorCode::InvalidBody,
        ),
        (
            json!({ "question": "q", "options": "a,b" }),
            ErrorCode::InvalidBody,
        ),
        (
            json!({ "question": "q", "options": ["a", "b"], "extra": 1 }),
            ErrorCode::InvalidBody,
        ),
        (
            json!({ "question": "", "options": ["a", "b"] }),
            ErrorCode::InvalidQuestion,
        ),
        (
            json!({ "question": "q".repeat(281), "options": ["a", "b"] }),
            ErrorCode::InvalidQuestion,
        ),
        (
            json!({ "question": "q", "options": ["a"] }),
            ErrorCode::InvalidOptions,
        ),
        (
            json!({ "question": "q", "options": (0..33).map(|i| i.to_string()).collect::<Vec<_>>() }),
            ErrorCode::InvalidOptions,
        ),
        (
            json!({ "question": "q", "options": ["a", ""] }),
            ErrorCode::InvalidOptions,
        ),
        (
            json!({ "question": "q", "options": ["a", "o".repeat(101)] }),
            ErrorCode::InvalidOptions,
        ),
        (
            json!({ "question": "q", "options": ["a", "b"], "closes_at": "2001-01-01T00:00:00Z" }),
            ErrorCode::InvalidClosesAt,
        ),
        (
            json!({ "question": "q", "options": ["a", "b"], "closes_at": "tomorrow" }),
            ErrorCode::InvalidBody,
        ),
    ];
    for (body, code) in cases {
        let status = code.http_status();
        expect_error(app.post("/api/polls", &body).await, status, code).await;
    }
    expect_error(
        post_raw(&app, "/api/polls", "application/json", "{\"question\":").await,
        400,
        ErrorCode::MalformedJson,
    )
    .await;
    expect_error(
        post_raw(&app, "/api/polls", "text/plain", "{}").await,
        415,
        ErrorCode::UnsupportedMediaType,
    )
    .await;
    expect_error(
        post_raw(
            &app,
            "/api/polls",
            "application/x-www-form-urlencoded",
            "question=q",
        )
        .await,
        415,
        ErrorCode::UnsupportedMediaType,
    )
    .await;
    let huge = format!(
        "{{\"question\":\"{}\",\"options\":[\"a\",\"b\"]}}",
        "q".repeat(20_000)
    );
    expect_error(
        post_raw(&app, "/api/polls", "application/json", huge).await,
        413,
        ErrorCode::PayloadTooLarge,
    )
    .await;
    let listed: votewire_proto::PollList = app.get_json("/api/polls").await;
    assert!(listed.polls.is_empty(), "no refused poll was stored");
}

#[tokio::test]
async fn bad_votes_and_tokens_are_refused_with_their_own_codes() {
    let app = spawn_app().await;
    let created = app.create_poll("Pick", &["a", "b"]).await;
    let poll = created.poll.id.to_string();
    let voter = app.new_voter().await;

    expect_error(
        app.vote("nosuchpoll", &voter, 0).await,
        404,
        ErrorCode::PollNotFound,
    )
    .await;
    expect_error(
        app.vote(&poll, &voter, 2).await,
        422,
        ErrorCode::OptionOutOfRange,
    )
    .await;
    let bad_id = app
        .http
        .post(app.url("/api/polls/a%20b/votes"))
        .json(&json!({ "option": 0 }))
        .send()
        .await
        .unwrap();
    expect_error(bad_id, 400, ErrorCode::InvalidPollId).await;
    let negative = app
        .post(
            &format!("/api/polls/{poll}/votes"),
            &json!({ "option": -1 }),
        )
        .await;
    expect_error(negative, 422, ErrorCode::InvalidBody).await;

    let (id, signature) = voter.split_once('.').unwrap();
    let forged = format!("{id}.{}", signature.chars().rev().collect::<String>());
    expect_error(
        app.vote(&poll, &forged, 0).await,
        401,
        ErrorCode::InvalidVoterToken,
    )
    .await;
    expect_error(
        app.vote(&poll, "garbage", 0).await,
        401,
        ErrorCode::InvalidVoterToken,
    )
    .await;
    let forged_cookie = app
        .http
        .post(app.url(&format!("/api/polls/{poll}/votes")))
        .header("cookie", "votewire_voter=abc.def")
        .json(&json!({ "option": 0 }))
        .send()
        .await
        .unwrap();
    expect_error(forged_cookie, 401, ErrorCode::InvalidVoterToken).await;
    let anonymous_withdraw = app
        .http
        .delete(app.url(&format!("/api/polls/{poll}/votes")))
        .send()
        .await
        .unwrap();
    expect_error(anonymous_withdraw, 401, ErrorCode::VoterRequired).await;

    let close = |token: Option<&str>| {
        let request = app.http.post(app.url(&format!("/api/polls/{poll}/close")));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };
    expect_error(
        close(None).await.unwrap(),
        401,
        ErrorCode::OwnerTokenRequired,
    )
    .await;
    let other = app.create_poll("Other", &["a", "b"]).await;
    expect_error(
        close(Some(&other.owner_token)).await.unwrap(),
        403,
        ErrorCode::InvalidOwnerToken,
    )
    .await;
    expect_error(
        close(Some("not-hex")).await.unwrap(),
        403,
        ErrorCode::InvalidOwnerToken,
    )
    .await;
    assert_eq!(
        app.recount(&poll, 2).await,
        vec![0, 0],
        "no refused vote was stored"
    );

    assert_eq!(
        close(Some(&created.owner_token)).await.unwrap().status(),
        200
    );
    expect_error(app.vote(&poll, &voter, 0).await, 409, ErrorCode::PollClosed).await;
    let get_404 = app
        .http
        .get(app.url("/api/polls/nosuchpoll"))
        .send()
        .await
        .unwrap();
    expect_error(get_404, 404, ErrorCode::PollNotFound).await;
    let wrong_method = app.http.put(app.url("/api/polls")).send().await.unwrap();
    expect_error(wrong_method, 405, ErrorCode::MethodNotAllowed).await;
    let bad_limit = app
        .http
        .get(app.url("/api/polls?limit=0"))
        .send()
        .await
        .unwrap();
    expect_error(bad_limit, 400, ErrorCode::InvalidQuery).await;
    let bad_cursor = app
        .http
        .get(app.url("/api/polls?before=zzz"))
        .send()
        .await
        .unwrap();
    expect_error(bad_cursor, 400, ErrorCode::InvalidQuery).await;
}

async fn expect_ws_error(socket: &mut WsClient, code: ErrorCode) {
    match socket.recv().await {
        ServerMessage::Error { code: got, message } => {
            assert_eq!(got, code);
            assert!(!message.is_empty());
        }
        other => panic!("expected a {code:?} error, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_websocket_messages_get_their_own_error_codes() {
    let app = spawn_app_with(|s| s.limits.ws_max_subscriptions = 2).await;
    let poll = app.new_poll("Pick", &["a", "b"]).await;
    let mut socket = app.ws().await;
    socket
        .send_json(json!({ "type": "vote", "poll": poll }))
        .await;
    expect_ws_error(&mut socket, ErrorCode::UnknownMessageType).await;
    socket
        .stream
        .send(Message::text("{not json"))
        .await
        .unwrap();
    expect_ws_error(&mut socket, ErrorCode::MalformedMessage).await;
    socket
        .send_json(json!({ "type": "subscribe", "poll": 12 }))
        .await;
    expect_ws_error(&mut socket, ErrorCode::MalformedMessage).await;
    socket
        .stream
        .send(Message::binary(vec![1, 2, 3]))
        .await
        .unwrap();
    expect_ws_error(&mut socket, ErrorCode::MalformedMessage).await;
    socket.subscribe("nosuchpoll", None).await;
    expect_ws_error(&mut socket, ErrorCode::PollNotFound).await;

    let second = app.new_poll("Two", &["a", "b"]).await;
    let third = app.new_poll("Three", &["a", "b"]).await;
    for poll in [&poll, &second] {
        socket.subscribe(poll, None).await;
        assert!(matches!(
            socket.recv().await,
            ServerMessage::Snapshot { .. }
        ));
    }
    socket.subscribe(&third, None).await;
    expect_ws_error(&mut socket, ErrorCode::TooManySubscriptions).await;
    // The socket still works after every refusal.
    socket.subscribe(&poll, Some(0)).await;
    socket.send_json(json!({ "type": "?" })).await;
    expect_ws_error(&mut socket, ErrorCode::UnknownMessageType).await;
}

#[tokio::test]
async fn a_flood_of_messages_is_rate_limited() {
    let app = spawn_app_with(|s| s.limits.ws_messages_per_sec = 5).await;
    let mut socket = app.ws().await;
    for _ in 0..30 {
        socket
            .send_json(json!({ "type": "unsubscribe", "poll": "p" }))
            .await;
    }
    expect_ws_error(&mut socket, ErrorCode::RateLimited).await;
}

#[tokio::test]
async fn an_oversized_frame_gets_an_error_and_closes_with_1009() {
    let app = spawn_app_with(|s| s.limits.ws_max_message_bytes = 1024).await;
    let mut socket = app.ws().await;
    let big = json!({ "type": "subscribe", "poll": "p", "pad": "x".repeat(4096) });
    socket.send_json(big).await;
    expect_ws_error(&mut socket, ErrorCode::MessageTooLarge).await;
    assert_eq!(socket.recv_close().await, 1009);
}

#[tokio::test]
async fn an_upgrade_from_a_foreign_origin_is_refused_before_the_handshake() {
    let app = spawn_app().await;
    let url = app.url("/ws").replace("http://", "ws://");
    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
            let body: ErrorBody =
                serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body.error.code, ErrorCode::ForbiddenOrigin);
        }
        other => panic!("expected a 403, got {:?}", other.map(|_| ())),
    }
    let mut same_host = url.as_str().into_client_request().unwrap();
    let origin = format!("http://{}", app.address);
    same_host
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    let (stream, _) = tokio_tungstenite::connect_async(same_host)
        .await
        .expect("the same host may connect");
    WsClient::after_upgrade(stream).await;
}
