//! The WebSocket as RFC 6455 says, over raw TCP after a real handshake, frames built by
//! hand: a client's close is answered with a close; each framing violation with a
//! close 1002 (protocol error) or 1007 (invalid payload data); an oversized message
//! with `message_too_large` and a close 1009. Each connection then ends with a clean
//! end of stream, never a reset that would lose what the node said.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use votewire_testkit::{EVENT_TIMEOUT, spawn_app_with};

const MAX_MESSAGE: usize = 1024;

const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const RSV1: u8 = 0x40;
const RSV2: u8 = 0x20;
const RSV3: u8 = 0x10;

/// One client frame: `fin`, reserved bits `rsv`, `opcode`, masked unless `unmasked`.
fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8]) -> Vec<u8> {
    encode(fin, rsv, opcode, true, payload)
}

fn encode(fin: bool, rsv: u8, opcode: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![if fin { 0x80 } else { 0 } | rsv | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => bytes.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            bytes.push(mask_bit | 126);
            bytes.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            bytes.push(mask_bit | 127);
            bytes.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x12, 0x34, 0x56, 0x78];
        bytes.extend_from_slice(&key);
        bytes.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        bytes.extend_from_slice(payload);
    }
    bytes
}

fn close(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    frame(true, 0, CLOSE, &payload)
}

fn joined(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.concat()
}

/// Case name, the bytes the client writes, the close code it must read back.
fn cases() -> Vec<(&'static str, Vec<u8>, u16)> {
    vec![
        ("close 1000 is echoed", close(1000, b"bye"), 1000),
        ("reserved data opcode", frame(true, 0, 0x3, b"x"), 1002),
        ("reserved control opcode", frame(true, 0, 0xB, b""), 1002),
        ("RSV1 set", frame(true, RSV1, TEXT, b"{}"), 1002),
        ("RSV2 set", frame(true, RSV2, TEXT, b"{}"), 1002),
        ("RSV3 set", frame(true, RSV3, TEXT, b"{}"), 1002),
        (
            "unmasked client frame",
            encode(true, 0, TEXT, false, b"{}"),
            1002,
        ),
        (
            "text that is not UTF-8",
            frame(true, 0, TEXT, &[0xC3, 0x28]),
            1007,
        ),
        (
            "fragmented text that is not UTF-8",
            joined(&[
                frame(false, 0, TEXT, &[0xE2, 0x82]),
                frame(true, 0, CONTINUATION, &[0x28]),
            ]),
            1007,
        ),
        ("fragmented control frame", frame(false, 0, PING, b""), 1002),
        (
            "control frame over 125 bytes",
            frame(true, 0, PING, &[0; 126]),
            1002,
        ),
        (
            "continuation without a start",
            frame(true, 0, CONTINUATION, b"x"),
            1002,
        ),
        (
            "a new message inside a fragmented one",
            joined(&[frame(false, 0, TEXT, b"{"), frame(true, 0, TEXT, b"}")]),
            1002,
        ),
        (
            "close with a one-byte body",
            frame(true, 0, CLOSE, &[0x03]),
            1002,
        ),
        (
            "close with a code never sent on the wire",
            close(1005, b""),
            1002,
        ),
        ("close reason that is not UTF-8", close(1000, &[0xFF]), 1007),
    ]
}

/// A connection upgraded by hand, the node's `hello` read.
async fn connect(address: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: votewire\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.expect("the handshake's answer"));
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let (opcode, hello) = read_frame(&mut stream).await.unwrap().expect("hello");
    assert_eq!(opcode, TEXT, "{}", String::from_utf8_lossy(&hello));
    stream
}

/// The next server frame (unmasked): its opcode and payload; `None` at end of stream,
/// an error when the connection broke (a reset).
async fn read_frame(
    stream: &mut (impl AsyncRead + Unpin),
) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let first = tokio::time::timeout(EVENT_TIMEOUT, stream.read_u8())
        .await
        .expect("a frame or the end within the timeout");
    let first = match first {
        Ok(byte) => byte,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = match stream.read_u8().await? & 0x7F {
        126 => u64::from(stream.read_u16().await?),
        127 => stream.read_u64().await?,
        n => u64::from(n),
    };
    let mut payload = vec![0; len as usize];
    stream.read_exact(&mut payload).await?;
    Ok(Some((first & 0x0F, payload)))
}

/// Reads up to the close frame, returning its code and the text messages before it,
/// and checks the node then ends the stream cleanly; else says what happened instead.
async fn read_until_close(
    stream: &mut (impl AsyncRead + Unpin),
) -> Result<(u16, Vec<String>), String> {
    let broke = |e: std::io::Error| format!("the connection broke: {e}");
    let mut texts = Vec::new();
    loop {
        match read_frame(stream).await.map_err(broke)? {
            Some((CLOSE, payload)) => {
                let code = u16::from_be_bytes([payload[0], payload[1]]);
                return match read_frame(stream).await.map_err(broke)? {
                    None => Ok((code, texts)),
                    Some(_) => Err(format!("a frame after the close {code}")),
                };
            }
            Some((TEXT, text)) => texts.push(String::from_utf8(text).unwrap()),
            Some(_) => {}
            None => return Err("the stream ended with no close frame".into()),
        }
    }
}

#[tokio::test]
async fn each_close_and_framing_violation_is_answered_with_its_close_code() {
    let app = spawn_app_with(|s| s.limits.ws_max_message_bytes = MAX_MESSAGE).await;
    let mut wrong = Vec::new();
    for (name, bytes, expected) in cases() {
        let mut stream = connect(app.address).await;
        stream.write_all(&bytes).await.unwrap();
        match read_until_close(&mut stream).await {
            Ok((code, _)) if code == expected => {}
            Ok((code, _)) => wrong.push(format!("{name}: closed with {code}, not {expected}")),
            Err(instead) => wrong.push(format!("{name}: {instead}, not a close {expected}")),
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test]
async fn an_oversized_message_in_one_write_gets_the_error_and_the_1009_close() {
    let app = spawn_app_with(|s| s.limits.ws_max_message_bytes = MAX_MESSAGE).await;
    let stream = connect(app.address).await;
    let (mut read, mut write) = stream.into_split();
    let oversized = frame(true, 0, TEXT, &vec![b' '; 512 * 1024]);
    // Written while the test reads: the node stops reading after the frame's header.
    let writing = tokio::spawn(async move { write.write_all(&oversized).await });
    let (code, texts) = read_until_close(&mut read).await.unwrap();
    assert_eq!(code, 1009);
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("\"message_too_large\""), "{}", texts[0]);
    writing
        .await
        .unwrap()
        .expect("the node read the rest instead of resetting");
}
