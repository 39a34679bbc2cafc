//! A lingering close, as nginx's `lingering_close`: when a connection ends, its write
//! half is shut (the client gets everything sent, then end of stream) and what the
//! client still sends is read and discarded for a bounded time and amount before the
//! socket is closed.
//!
//! Why: closing a socket that has unread data in its receive buffer (or that receives
//! more afterwards) makes the kernel send a TCP reset, and a client that gets the reset
//! may lose what it had not read yet. That is how an oversized WebSocket message, written
//! in one go, ended in a reset instead of the `message_too_large` error and the 1009
//! close; the same holds for a close frame answering a protocol violation, or a 413
//! answering a large body. Done here, under hyper, it covers every way a connection
//! ends (upgraded or not) without reaching into tungstenite, whose stream ends for
//! good at its first error.

use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// Longest a closing connection is read from after it ended.
const LINGER_TIME: Duration = Duration::from_secs(2);
/// Most bytes read and discarded from a closing connection: a client that keeps
/// sending past this after being told to go gets the reset.
const LINGER_BYTES: usize = 1024 * 1024;

/// A connection that closes lingering when dropped.
#[derive(Debug)]
pub(super) struct Lingering {
    /// Always `Some` until dropped.
    stream: Option<TcpStream>,
}

impl Lingering {
    pub(super) fn new(stream: TcpStream) -> Self {
        Self {
            stream: Some(stream),
        }
    }

    fn stream(self: Pin<&mut Self>) -> Pin<&mut TcpStream> {
        Pin::new(
            self.get_mut()
                .stream
                .as_mut()
                .expect("a connection is only taken when dropped"),
        )
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(stream) = self.stream.take() else {
            return;
        };
        // Outside a runtime (never, while serving) the socket just closes.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            // Bounded by LINGER_TIME: the task ends by itself, so nothing owns it.
            runtime.spawn(linger(stream));
        }
    }
}

/// Shuts the write half, then reads and discards until the client closes its side or
/// the bounds are reached.
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut discard = [0u8; 4096];
    let mut left = LINGER_BYTES;
    let drained = async {
        while left > 0 {
            match stream.read(&mut discard).await {
                Ok(0) | Err(_) => break,
                Ok(read) => left = left.saturating_sub(read),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_TIME, drained).await;
}

impl AsyncRead for Lingering {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.stream().poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.stream().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
}
