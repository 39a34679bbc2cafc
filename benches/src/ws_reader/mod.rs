//! A minimal WebSocket client for the fan-out readers: a plain [`TcpStream`], one
//! reusable read buffer, and a frame parser ([`frames`]) that hands out each frame as a
//! borrow of that buffer.
//!
//! Why not tokio-tungstenite here: the fan-out readers receive every update on every
//! socket (25,000 frames a second from 5,000 sockets and more) on the machine the
//! servers they measure run on. Through tungstenite each frame costs a `Message`
//! allocation and a copy into it and the Sink/Stream machinery around it (and each
//! socket holds a 128 KiB read buffer): ~17 µs of loadgen CPU per frame, CPU taken from
//! the servers and delay added to the readers' own timestamps. Here a frame costs the
//! header parse, a UTF-8 check (tungstenite checks too, so the same frames are refused)
//! and the `type`/`tally.version` parse of [`parse_frame`], with nothing allocated:
//! ~8 µs a frame in all, most of it now the kernel's `recvfrom` and `epoll_wait`. The
//! handshake and subscribe are done here too, because tokio-tungstenite cannot hand
//! back the bytes it has already read past the snapshot. `idle` still uses tungstenite.
//!
//! What it does not do: TLS (loadgen only targets plain HTTP on loopback), extensions
//! (none are offered), sending pings. It answers the server's pings, because the server
//! closes sockets it has not heard from for `--ws-idle-secs` and a pong counts as heard.

use std::time::Instant;

use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use votewire_proto::ServerMessage;

use crate::client::{Failure, Frame, parse_frame};

pub mod frames;
mod handshake;

use frames::{Event, Frames, encode_masked};
use handshake::{MAX_RESPONSE_HEAD, check_upgrade, head_len, mask};

/// One socket to `/ws`, read frame by frame.
pub struct WsReader {
    stream: TcpStream,
    frames: Frames,
    /// When the last read returned: the arrival time of every frame it completed.
    arrived: Instant,
    /// A pong (or the close reply) not yet written, from `out[sent..]`.
    out: Vec<u8>,
    sent: usize,
}

/// A [`WsReader`] between two tokio runtimes (a tokio socket belongs to the runtime
/// that registered it), with the bytes it had read and not yet parsed.
pub struct Detached {
    stream: std::net::TcpStream,
    frames: Frames,
    arrived: Instant,
    out: Vec<u8>,
    sent: usize,
}

impl WsReader {
    /// Opens `{base}/ws` (`base` as `Api` has it, e.g. `http://127.0.0.1:8080`):
    /// connects, sends the upgrade request and checks the `101` answer and its
    /// `Sec-WebSocket-Accept`. Bytes read past the answer stay for [`Self::next_frame`].
    pub async fn connect(base: &str) -> Result<Self, Failure> {
        let url = Url::parse(&format!("{base}/ws")).map_err(|e| format!("{base}: {e}"))?;
        if url.scheme() != "http" {
            return Err(format!("{url}: only plain http:// (loopback) is supported"));
        }
        let (host, port) = (url.host_str().unwrap_or(""), url.port().unwrap_or(80));
        let address = host.trim_start_matches('[').trim_end_matches(']');
        let stream = TcpStream::connect((address, port))
            .await
            .map_err(|e| format!("connecting to {host}:{port}: {e}"))?;
        // Pongs are small and rare: nothing is gained by Nagle holding them back.
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let mut reader = Self {
            stream,
            frames: Frames::default(),
            arrived: Instant::now(),
            out: Vec::new(),
            sent: 0,
        };
        let key = generate_key();
        reader
            .write_all(handshake::request(&url, &key).as_bytes())
            .await?;
        let head = loop {
            if let Some(head) = head_len(reader.frames.unparsed()) {
                break head;
            }
            if reader.frames.unparsed().len() > MAX_RESPONSE_HEAD {
                return Err("the upgrade answer's head is too long".into());
            }
            if reader.read().await? == 0 {
                return Err("the socket closed during the upgrade".into());
            }
        };
        check_upgrade(&reader.frames.unparsed()[..head], &key)?;
        reader.frames.consume(head);
        Ok(reader)
    }

    /// Takes the reader off this runtime, to [`Detached::attach`] it to another.
    pub fn detach(self) -> Result<Detached, Failure> {
        let Self {
            stream,
            frames,
            arrived,
            out,
            sent,
        } = self;
        let stream = stream.into_std().map_err(|e| e.to_string())?;
        Ok(Detached {
            stream,
            frames,
            arrived,
            out,
            sent,
        })
    }

    /// Sends `text` as one masked text frame. Not for a `select!`: a half-written frame
    /// would be lost with the future.
    pub async fn send_text(&mut self, text: &str) -> Result<(), Failure> {
        let mut frame = Vec::with_capacity(text.len() + 14);
        encode_masked(1, text.as_bytes(), mask(), &mut frame);
        self.write_all(&frame).await
    }

    /// The next text frame, parsed as [`parse_frame`] does; a binary frame is an
    /// [`Frame::Error`], a close (with its code and reason) or the end of the stream is
    /// an error, pings are answered. Cancel-safe: every byte read stays in the buffer.
    pub async fn next_frame(&mut self) -> Result<Frame, Failure> {
        let binary = || {
            Some(Frame::Error(
                "a binary frame (the contract has none)".into(),
            ))
        };
        self.next_with(parse_frame, binary).await
    }

    /// The next text frame, fully parsed; binary frames are skipped (as
    /// [`crate::client::next_message`] does).
    pub async fn next_message(&mut self) -> Result<ServerMessage, Failure> {
        let parse = |text: &str| serde_json::from_str(text).map_err(|e| e.to_string());
        self.next_with(parse, || None).await
    }

    /// When the read that completed the last frame returned: the frame's arrival time,
    /// taken as soon as its bytes were read, before any parsing.
    pub fn arrived(&self) -> Instant {
        self.arrived
    }

    async fn next_with<T>(
        &mut self,
        on_text: impl Fn(&str) -> Result<T, Failure>,
        on_binary: impl Fn() -> Option<T>,
    ) -> Result<T, Failure> {
        loop {
            while let Some(event) = self.frames.next_event()? {
                match event {
                    Event::Text(text) => return on_text(text),
                    Event::Binary => {
                        if let Some(value) = on_binary() {
                            return Ok(value);
                        }
                    }
                    // A pong echoes the latest ping (RFC 6455 5.5.3); one half-written
                    // stays first, the server only needs to hear something.
                    Event::Ping(payload) if self.sent == 0 || self.sent == self.out.len() => {
                        self.out.clear();
                        self.sent = 0;
                        encode_masked(10, payload, mask(), &mut self.out);
                    }
                    Event::Ping(_) | Event::Pong => {}
                    Event::Close(close) => {
                        // The closing handshake's reply, if the socket takes it now.
                        let mut reply = Vec::new();
                        let code = close.map(|(code, _)| code.to_be_bytes());
                        encode_masked(8, code.as_ref().map_or(&[], |c| c), mask(), &mut reply);
                        let _ = self.stream.try_write(&reply);
                        return Err(match close {
                            Some((code, reason)) => format!("the socket closed: {code} {reason}"),
                            None => "the socket closed".into(),
                        });
                    }
                }
            }
            self.flush_pong();
            if self.read().await? == 0 {
                return Err("the socket closed".into());
            }
        }
    }

    /// One read into the buffer, noting when it returned.
    async fn read(&mut self) -> Result<usize, Failure> {
        let n = self.stream.read(self.frames.spare()).await;
        self.arrived = Instant::now();
        let n = n.map_err(|e| e.to_string())?;
        self.frames.filled(n);
        Ok(n)
    }

    /// Writes what of the pending pong the socket takes without waiting. The rest waits
    /// for the next read: a loopback socket that sends only pongs is never full for long.
    fn flush_pong(&mut self) {
        while self.sent < self.out.len() {
            match self.stream.try_write(&self.out[self.sent..]) {
                Ok(n) => self.sent += n,
                Err(_) => break,
            }
        }
    }

    async fn write_all(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| e.to_string())
    }
}

impl Detached {
    /// The reader again, on the runtime this is called from (it panics outside one).
    pub fn attach(self) -> Result<WsReader, Failure> {
        let Self {
            stream,
            frames,
            arrived,
            out,
            sent,
        } = self;
        Ok(WsReader {
            stream: TcpStream::from_std(stream).map_err(|e| e.to_string())?,
            frames,
            arrived,
            out,
            sent,
        })
    }
}

#[cfg(test)]
mod tests;
