//! Connections that cannot take a node down: a request head that never ends is cut at
//! the header-read timeout, as is a keep-alive connection left idle; a request that
//! arrives in pieces in time is served.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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
