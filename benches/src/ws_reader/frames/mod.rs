//! RFC 6455 framing, client side, over one reusable read buffer and no I/O, so every
//! case (split reads, several frames in one read, fragments, control frames, protocol
//! errors) is tested without a socket.
//!
//! A read appends bytes after the unparsed ones ([`Frames::spare`], [`Frames::filled`]);
//! [`Frames::next_event`] then hands out each complete frame as a borrow of the buffer,
//! so a frame costs no allocation. Only a fragmented text message is copied, into a
//! second buffer that is reused too (the votewire server never fragments; a proxy may).

use std::ops::Range;

/// The read buffer's size: a votewire frame is a few hundred bytes, so one read usually
/// holds every frame that arrived since the last. It grows only for a larger frame.
pub const READ_BUFFER: usize = 4096;
/// The largest frame and message accepted: tungstenite's defaults, so nothing the old
/// reader took is refused, and a broken length cannot make the buffer grow without end.
const MAX_FRAME: usize = 16 << 20;
const MAX_MESSAGE: usize = 64 << 20;

/// One complete frame, or a reassembled message, from the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A text message, valid UTF-8 (checked, as tungstenite checks it).
    Text(&'a str),
    /// A binary message (the contract has none).
    Binary,
    /// A ping, with the payload its pong must echo.
    Ping(&'a [u8]),
    /// A pong (the client sends no pings, so it means nothing).
    Pong,
    /// A close, with its code and reason when it has them.
    Close(Option<(u16, &'a str)>),
}

/// The kind of the message whose fragments are arriving, if one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fragments {
    None,
    Text,
    Binary,
}

/// The read buffer and the parse state of one socket.
pub struct Frames {
    buf: Vec<u8>,
    /// `buf[start..end]` is read and not parsed yet.
    start: usize,
    end: usize,
    /// The fragments of a text message so far.
    message: Vec<u8>,
    fragments: Fragments,
    /// `message` was handed out whole by the last [`Frames::next_event`] and is cleared
    /// by the next one.
    delivered: bool,
}

impl Default for Frames {
    fn default() -> Self {
        Self {
            buf: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
            message: Vec::new(),
            fragments: Fragments::None,
            delivered: false,
        }
    }
}

/// A frame header, parsed.
struct Header {
    fin: bool,
    opcode: u8,
    /// Header bytes, then payload bytes.
    len: usize,
    payload: usize,
}

/// The header at the start of `bytes`; `None` until all of it has arrived.
fn header(bytes: &[u8]) -> Result<Option<Header>, String> {
    let [b0, b1, rest @ ..] = bytes else {
        return Ok(None);
    };
    let (fin, opcode) = (b0 & 0x80 != 0, b0 & 0x0f);
    if b0 & 0x70 != 0 {
        return Err("a frame with reserved bits set (no extension was agreed)".into());
    }
    if b1 & 0x80 != 0 {
        return Err("a masked frame from the server (RFC 6455 5.1)".into());
    }
    let (payload, len) = match b1 & 0x7f {
        126 => match rest {
            [a, b, ..] => (u64::from(u16::from_be_bytes([*a, *b])), 4),
            _ => return Ok(None),
        },
        127 => match rest.first_chunk::<8>() {
            Some(eight) => (u64::from_be_bytes(*eight), 10),
            None => return Ok(None),
        },
        short => (u64::from(short), 2),
    };
    if payload > MAX_FRAME as u64 {
        return Err(format!("a frame of {payload} bytes (at most {MAX_FRAME})"));
    }
    let payload = payload as usize;
    match opcode {
        0..=2 => {}
        8..=10 if fin && payload <= 125 => {}
        8..=10 => return Err("a fragmented or long control frame".into()),
        _ => return Err(format!("a frame with the unknown opcode {opcode}")),
    }
    Ok(Some(Header {
        fin,
        opcode,
        len: len + payload,
        payload,
    }))
}

fn text(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("a text frame that is not UTF-8: {e}"))
}

impl Frames {
    /// Where the next read goes: after the unparsed bytes, which are first moved to the
    /// front (they are at most one partial frame). The buffer doubles when a frame does
    /// not fit.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        &mut self.buf[self.end..]
    }

    /// Notes that a read put `n` bytes into [`Frames::spare`].
    pub fn filled(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.buf.len());
    }

    /// The bytes read and not parsed yet (the handshake reads its response here).
    pub fn unparsed(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Drops the first `n` unparsed bytes (the handshake's response).
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// The next complete frame or message in the buffer; `None` when more bytes must
    /// be read first. An error is a protocol violation: the socket is done.
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, String> {
        if self.delivered {
            self.message.clear();
            self.delivered = false;
        }
        loop {
            let Some(header) = header(&self.buf[self.start..self.end])? else {
                return Ok(None);
            };
            if self.end - self.start < header.len {
                return Ok(None);
            }
            let payload: Range<usize> =
                self.start + header.len - header.payload..self.start + header.len;
            self.start += header.len;
            if self.start == self.end {
                // Only the indices move: the payload stays where it is until next read.
                (self.start, self.end) = (0, 0);
            }
            let busy = self.fragments != Fragments::None;
            match (header.opcode, header.fin) {
                (1, true) if !busy => return Ok(Some(Event::Text(text(&self.buf[payload])?))),
                (2, true) if !busy => return Ok(Some(Event::Binary)),
                (1 | 2, _) if busy => return Err("a new message inside a fragmented one".into()),
                (1, false) => {
                    self.fragments = Fragments::Text;
                    self.message.extend_from_slice(&self.buf[payload]);
                }
                (2, false) => self.fragments = Fragments::Binary,
                (0, _) if !busy => return Err("a continuation frame with no message".into()),
                (0, fin) => {
                    if self.fragments == Fragments::Text {
                        if self.message.len() + header.payload > MAX_MESSAGE {
                            return Err(format!("a message over {MAX_MESSAGE} bytes"));
                        }
                        self.message.extend_from_slice(&self.buf[payload]);
                    }
                    if fin {
                        let kind = std::mem::replace(&mut self.fragments, Fragments::None);
                        if kind == Fragments::Binary {
                            return Ok(Some(Event::Binary));
                        }
                        self.delivered = true;
                        return Ok(Some(Event::Text(text(&self.message)?)));
                    }
                }
                (8, _) => return Ok(Some(close(&self.buf[payload])?)),
                (9, _) => return Ok(Some(Event::Ping(&self.buf[payload]))),
                _ => return Ok(Some(Event::Pong)),
            }
        }
    }
}

/// A close frame's payload: nothing, or a code and a UTF-8 reason.
fn close(payload: &[u8]) -> Result<Event<'_>, String> {
    match payload {
        [] => Ok(Event::Close(None)),
        [a, b, reason @ ..] => Ok(Event::Close(Some((
            u16::from_be_bytes([*a, *b]),
            text(reason)?,
        )))),
        [_] => Err("a close frame with a one-byte payload".into()),
    }
}

/// A client frame: FIN, `opcode`, masked with `mask` as RFC 6455 requires of clients,
/// appended to `out`.
pub fn encode_masked(opcode: u8, payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
}

#[cfg(test)]
mod tests;
