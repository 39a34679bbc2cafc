//! The accept loop of the node's listeners (the public one and `--admin-listen`).
//!
//! Why not `axum::serve`: it gives no way to set hyper's header-read timeout, so a
//! client that sends half a request held its connection and task forever (500 such
//! were never timed out). This is axum's own loop — stop accepting on the shutdown,
//! let each connection finish its request, wait for them — over hyper's HTTP/1
//! builder with a timer and [`Connections::header_read_timeout`]. hyper runs that
//! timeout whenever it waits for a request head, so it also closes a keep-alive
//! connection left idle that long. Upgraded WebSockets leave this loop's count when
//! they upgrade; their sessions are counted and stopped by `Sessions`.
//!
//! Each request carries `ConnectInfo<SocketAddr>`, as
//! `into_make_service_with_connect_info` would give it, for limits per client address.
//! On the public listener a TCP peer holds at most `--max-http-connections-per-address`
//! connections ([`Abuse::accept`]): one more is answered a 429 at once, before its
//! request is read, and closed, so a client cannot spend the node's file descriptors.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use super::linger::Lingering;
use crate::abuse::Abuse;
use crate::shutdown::Shutdown;

/// Longest the node spends writing the refusal of a connection over its cap.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// How each accepted connection is set up.
#[derive(Debug, Clone)]
pub(crate) struct Connections {
    /// Longest a client may take to send a request's head (and the longest an idle
    /// keep-alive connection stays open).
    pub(crate) header_read_timeout: Duration,
    /// Kernel send buffer per connection; 0 leaves the OS default.
    pub(crate) send_buffer_bytes: usize,
    /// The per-address connection cap, on the public listener only.
    pub(crate) capped_by: Option<Arc<Abuse>>,
}

/// Serves `router` on `listener` until `shutdown` fires, then lets each open
/// connection finish the request it is on and returns when all have closed. The
/// listener is closed first: new connections are refused during the drain.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    connections: Connections,
    shutdown: Shutdown,
) {
    let all_closed = accept_until(&listener, router, connections, shutdown).await;
    drop(listener);
    all_closed.closed().await;
}

/// As [`serve`], but keeps the listener open and gives it back once every connection
/// has closed, for the next server on the same port (the node after its start-up).
pub(crate) async fn serve_then_hand_back(
    listener: TcpListener,
    router: Router,
    connections: Connections,
    shutdown: Shutdown,
) -> TcpListener {
    let all_closed = accept_until(&listener, router, connections, shutdown).await;
    all_closed.closed().await;
    listener
}

/// Accepts and serves connections until `shutdown` fires; returns what says when the
/// last of them has closed.
async fn accept_until(
    listener: &TcpListener,
    router: Router,
    connections: Connections,
    shutdown: Shutdown,
) -> watch::Sender<()> {
    // Every connection task holds a receiver: `closed()` resolves when the last ends.
    let (all_closed, open) = watch::channel(());
    let stop = shutdown.clone();
    let mut stopping = std::pin::pin!(stop.wait());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stopping => break,
        };
        match accepted {
            Ok((tcp, peer)) => {
                let place = match &connections.capped_by {
                    Some(abuse) => abuse.accept(peer.ip()),
                    None => Ok(None),
                };
                let place = match place {
                    Ok(place) => place,
                    Err(limited) => {
                        // Bounded by the write timeout and the linger time: owns nothing.
                        tokio::spawn(refuse(tcp, limited.into_response()));
                        continue;
                    }
                };
                let connection =
                    connections
                        .clone()
                        .serve(tcp, peer, router.clone(), shutdown.clone());
                let open = open.clone();
                tokio::spawn(async move {
                    connection.await;
                    drop((place, open));
                });
            }
            Err(e) => accept_failed(e).await,
        }
    }
    drop(open);
    all_closed
}

impl Connections {
    /// One connection, until it closes, or finishes its request after the shutdown.
    async fn serve(self, tcp: TcpStream, peer: SocketAddr, router: Router, shutdown: Shutdown) {
        tune(&tcp, self.send_buffer_bytes);
        let service = service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        let io = TokioIo::new(Lingering::new(tcp));
        let connection = builder.serve_connection(io, service).with_upgrades();
        let mut connection = std::pin::pin!(connection);
        let result = tokio::select! {
            result = connection.as_mut() => result,
            () = shutdown.wait() => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(e) = result {
            // A client that goes away or times out its request head: not the node's fault.
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

/// Answers a connection with `response` without reading its request, and closes it
/// lingering (so the answer is not lost to a reset when the request was sent).
async fn refuse(tcp: TcpStream, response: Response) {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let status = parts.status;
    let mut bytes = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        bytes.extend_from_slice(name.as_str().as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    let length = format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    bytes.extend_from_slice(length.as_bytes());
    bytes.extend_from_slice(&body);
    let mut connection = Lingering::new(tcp);
    let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, connection.write_all(&bytes)).await;
}

/// Per connection: updates are small frames that should leave at once, not wait for
/// Nagle; and the kernel send buffer when one is set.
fn tune(tcp: &TcpStream, send_buffer: usize) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
    if send_buffer > 0
        && let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(send_buffer)
    {
        tracing::debug!(error = %e, "cannot set the send buffer size");
    }
}

/// An accept error is about one connection (it went away before it was accepted) or
/// about the process (out of file descriptors): the latter would fail again at once,
/// so the loop waits a moment instead of spinning, as axum's does.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept connections; trying again in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn accepted_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (server, client)
    }

    #[tokio::test]
    async fn tune_bounds_the_send_buffer_and_disables_nagle() {
        let (server, _client) = accepted_pair().await;
        tune(&server, 64 * 1024);
        let applied = socket2::SockRef::from(&server).send_buffer_size().unwrap();
        // Linux doubles what is asked, for its own bookkeeping.
        assert!(
            (64 * 1024..=128 * 1024).contains(&applied),
            "send buffer {applied}"
        );
        assert!(server.nodelay().unwrap());
    }

    #[tokio::test]
    async fn each_request_carries_the_client_address() {
        use axum::routing::get;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let connections = Connections {
            header_read_timeout: Duration::from_secs(5),
            send_buffer_bytes: 0,
            capped_by: None,
        };
        let shutdown = Shutdown::new();
        let serving = tokio::spawn(serve(listener, router, connections, shutdown.clone()));
        let mut client = TcpStream::connect(address).await.unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        let me = client.local_addr().unwrap().to_string();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&me), "{answer} names {me}");
        shutdown.fire();
        serving.await.unwrap();
    }

    #[tokio::test]
    async fn tune_with_zero_leaves_the_os_default() {
        let (server, _client) = accepted_pair().await;
        let before = socket2::SockRef::from(&server).send_buffer_size().unwrap();
        tune(&server, 0);
        let after = socket2::SockRef::from(&server).send_buffer_size().unwrap();
        assert_eq!(before, after);
    }
}
