//! Connections that cannot take a node down: a request head that never ends is cut at
//! the header-read timeout, as is a keep-alive connection left idle; a request that
//! arrives in pieces in time is served; one address holds at most
//! `--max-http-connections-per-address` connections, unless it is a trusted proxy.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use votewire_proto::{ErrorBody, ErrorCode};
use votewire_testkit::client::eventually;
use votewire_testkit::{EVENT_TIMEOUT, TestApp, spawn_app_with};

const TIMEOUT: Duration = Duration::from_millis(400);
const HALF_SENT: usize = 60;

async fn app() -> TestApp {
    spawn_app_with(|s| s.limits.header_read_timeout = TIMEOUT).await
}

/// A connection to the node that has sent `bytes`.
async fn sent(app: &TestApp, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// Reads until the node closes the connection, returning everything it sent.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    tokio::time::timeout(EVENT_TIMEOUT, stream.read_to_end(&mut received))
        .await
        .expect("the node closes the connection")
        .expect("a clean close, not a reset");
    received
}

#[tokio::test]
async fn half_sent_requests_are_closed_at_the_header_read_timeout() {
    let app = app().await;
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..HALF_SENT {
        // The head never ends: no blank line.
        let mut stream = sent(&app, b"GET /healthz HTTP/1.1\r\nHost: votewire\r\nX-Slow: ").await;
        clients.push(tokio::spawn(
            async move { read_to_close(&mut stream).await },
        ));
    }
    for client in clients {
        let received = client.await.unwrap();
        assert!(
            !received.starts_with(b"HTTP/1.1 200"),
            "a half request is never served"
        );
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= TIMEOUT, "closed before the timeout: {elapsed:?}");
    // And the node still serves.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn a_request_that_arrives_in_pieces_within_the_timeout_is_served() {
    let app = app().await;
    let mut stream = sent(&app, b"GET /healthz HTTP/1.1\r\nHost: votewire\r\n").await;
    // A slow client, well within the timeout: the delay is the scenario, not a wait.
    tokio::time::sleep(TIMEOUT / 4).await;
    stream
        .write_all(b"Connection: close\r\n\r\n")
        .await
        .unwrap();
    let received = read_to_close(&mut stream).await;
    assert!(
        received.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let app = app().await;
    let mut stream = sent(&app, b"GET /healthz HTTP/1.1\r\nHost: votewire\r\n\r\n").await;
    let answered = Instant::now();
    let received = read_to_close(&mut stream).await;
    assert!(received.starts_with(b"HTTP/1.1 200"));
    assert!(answered.elapsed() >= TIMEOUT, "{:?}", answered.elapsed());
}

/// A keep-alive connection whose first request the node answered: it is open and
/// counted for as long as it is held.
async fn held(app: &TestApp) -> TcpStream {
    let mut stream = sent(app, b"GET /healthz HTTP/1.1\r\nHost: votewire\r\n\r\n").await;
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    stream
}

/// One `GET` on a fresh connection: everything the node sent before closing it.
async fn fetch(app: &TestApp, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: votewire\r\nConnection: close\r\n\r\n");
    let mut stream = sent(app, request.as_bytes()).await;
    String::from_utf8(read_to_close(&mut stream).await).unwrap()
}

#[tokio::test]
async fn an_address_over_its_http_connection_cap_is_refused_until_one_closes() {
    const CAP: usize = 3;
    let app = spawn_app_with(|s| s.abuse.max_http_connections_per_address = CAP).await;
    let mut open = Vec::new();
    for _ in 0..CAP {
        open.push(held(&app).await);
    }
    let refused = fetch(&app, "/healthz").await;
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    let (_, body) = refused.split_once("\r\n\r\n").expect("a head and a body");
    let body: ErrorBody = serde_json::from_str(body).expect("a JSON error body");
    assert_eq!(body.error.code, ErrorCode::RateLimited);
    assert!(
        body.error
            .message
            .contains("--max-http-connections-per-address"),
        "{}",
        body.error.message
    );
    drop(open.pop());
    // The node sees the close when it reads the connection's end: no event to await.
    let metrics = eventually(EVENT_TIMEOUT, || async {
        let answer = fetch(&app, "/metrics").await;
        answer
            .starts_with("HTTP/1.1 200")
            .then_some(answer.clone())
            .ok_or(answer)
    })
    .await;
    assert!(
        metrics.contains("votewire_rate_limited_total{limit=\"http_connections_per_address\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_trusted_proxy_is_not_capped() {
    let app = spawn_app_with(|s| {
        s.abuse.max_http_connections_per_address = 1;
        s.abuse.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    let _first = held(&app).await;
    let _second = held(&app).await;
    assert!(fetch(&app, "/healthz").await.starts_with("HTTP/1.1 200"));
}
