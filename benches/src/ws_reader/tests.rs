//! The reader against a scripted server on a loopback socket: the handshake, frames
//! split across writes, a ping answered with a masked pong, a binary frame, a close.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::*;

/// An unmasked server frame with a 7-bit length.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode, payload.len() as u8];
    out.extend_from_slice(payload);
    out
}

/// Reads one masked client frame: its opcode and unmasked payload.
async fn client_frame(socket: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0; 6];
    socket.read_exact(&mut head).await.unwrap();
    assert_eq!(head[1] & 0x80, 0x80, "client frames are masked");
    let mut payload = vec![0; usize::from(head[1] & 0x7f)];
    socket.read_exact(&mut payload).await.unwrap();
    payload
        .iter_mut()
        .enumerate()
        .for_each(|(i, b)| *b ^= head[2 + i % 4]);
    (head[0] & 0x0f, payload)
}

async fn serve(listener: TcpListener) {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut request = Vec::new();
    while !request.ends_with(b"\r\n\r\n") {
        request.push(socket.read_u8().await.unwrap());
    }
    let request = String::from_utf8(request).unwrap();
    assert!(request.starts_with("GET /ws HTTP/1.1\r\n"), "{request}");
    let key = (request.lines())
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = derive_accept_key(key.as_bytes());
    // The answer and the first frame in one write, as a fast server's may arrive.
    let mut answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes();
    answer.extend(frame(1, br#"{"type":"hello","node":"n1","protocol":1}"#));
    socket.write_all(&answer).await.unwrap();
    assert_eq!(client_frame(&mut socket).await, (1, b"subscribe".to_vec()));
    let mut two = frame(1, br#"{"type":"update","tally":{"version":5}}"#);
    two.extend(frame(1, br#"{"type":"update","tally":{"version":6}}"#));
    socket.write_all(&two[..50]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    socket.write_all(&two[50..]).await.unwrap();
    socket.write_all(&frame(9, b"hb")).await.unwrap();
    assert_eq!(client_frame(&mut socket).await, (10, b"hb".to_vec()));
    socket.write_all(&frame(2, b"\x01")).await.unwrap();
    socket.write_all(&frame(8, b"\x03\xe9bye")).await.unwrap();
    assert_eq!(client_frame(&mut socket).await, (8, b"\x03\xe9".to_vec()));
}

#[tokio::test]
async fn reads_a_scripted_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(serve(listener));
    let mut reader = WsReader::connect(&base).await.unwrap();
    reader.send_text("subscribe").await.unwrap();
    assert!(matches!(
        reader.next_message().await,
        Ok(ServerMessage::Hello { .. })
    ));
    // The first write holds the first update and part of the second, which the
    // second write (20 ms later) completes: each is timed by the read that completed it.
    assert_eq!(reader.next_frame().await, Ok(Frame::Tally(5)));
    let first = reader.arrived();
    assert_eq!(reader.next_frame().await, Ok(Frame::Tally(6)));
    let gap = reader.arrived() - first;
    assert!(gap >= Duration::from_millis(15), "{gap:?}");
    let binary = reader.next_frame().await;
    assert!(matches!(binary, Ok(Frame::Error(_))), "{binary:?}");
    let closed = reader.next_frame().await;
    assert_eq!(closed, Err("the socket closed: 1001 bye".into()));
    server.await.unwrap();
}

#[tokio::test]
async fn refuses_a_wrong_accept() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0; 1024];
        let _ = socket.read(&mut request).await.unwrap();
        let answer = "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\
                      Upgrade: websocket\r\nSec-WebSocket-Accept: bm90IGl0\r\n\r\n";
        socket.write_all(answer.as_bytes()).await.unwrap();
    });
    let refused = WsReader::connect(&base).await.err().unwrap();
    assert!(refused.contains("Sec-WebSocket-Accept"), "{refused}");
}
