use super::*;

/// An unmasked server frame, as the votewire server (through nginx) writes it.
fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    match payload.len() {
        n @ 0..=125 => out.push(n as u8),
        n @ 126..=0xffff => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

fn text_frame(text: &str) -> Vec<u8> {
    server_frame(true, 1, text.as_bytes())
}

/// An event, owned, so several can be collected and compared.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owned {
    Text(String),
    Binary,
    Ping(Vec<u8>),
    Pong,
    Close(Option<(u16, String)>),
}

/// Reads `bytes` in as reads of at most `chunk` bytes would, taking every complete
/// event after each read, as the reader does.
fn read_in(frames: &mut Frames, bytes: &[u8], chunk: usize) -> Result<Vec<Owned>, String> {
    let mut events = Vec::new();
    for piece in bytes.chunks(chunk) {
        let mut piece = piece;
        while !piece.is_empty() {
            let spare = frames.spare();
            assert!(!spare.is_empty(), "a read needs room");
            let n = spare.len().min(piece.len());
            spare[..n].copy_from_slice(&piece[..n]);
            frames.filled(n);
            piece = &piece[n..];
            while let Some(event) = frames.next_event()? {
                events.push(match event {
                    Event::Text(t) => Owned::Text(t.to_owned()),
                    Event::Binary => Owned::Binary,
                    Event::Ping(p) => Owned::Ping(p.to_vec()),
                    Event::Pong => Owned::Pong,
                    Event::Close(c) => Owned::Close(c.map(|(code, r)| (code, r.to_owned()))),
                });
            }
        }
    }
    Ok(events)
}

fn read_all(bytes: &[u8]) -> Result<Vec<Owned>, String> {
    read_in(&mut Frames::default(), bytes, usize::MAX)
}

fn texts(texts: &[&str]) -> Vec<Owned> {
    texts.iter().map(|t| Owned::Text((*t).to_owned())).collect()
}

#[test]
fn text_frames_with_each_length_encoding() {
    let short = r#"{"type":"update","tally":{"version":1}}"#;
    assert_eq!(read_all(&text_frame(short)), Ok(texts(&[short])));
    // 126..=65535 bytes: a 16-bit length.
    let medium = "m".repeat(300);
    let frame = text_frame(&medium);
    assert_eq!(&frame[1..4], &[126, 0x01, 0x2c]);
    assert_eq!(read_all(&frame), Ok(texts(&[&medium])));
    // More: a 64-bit length, and a frame larger than the read buffer, which grows.
    let long = "l".repeat(70_000);
    let frame = text_frame(&long);
    assert_eq!(&frame[1..10], &[127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
    assert_eq!(
        read_in(&mut Frames::default(), &frame, 1000),
        Ok(texts(&[&long]))
    );
}

#[test]
fn a_frame_split_across_reads_comes_out_once_whole() {
    let update = r#"{"type":"update","tally":{"version":42}}"#;
    let frame = text_frame(update);
    // Split everywhere, in the header (after 1 byte) as well as in the payload.
    for split in 1..frame.len() {
        let mut frames = Frames::default();
        let first = read_in(&mut frames, &frame[..split], usize::MAX);
        assert_eq!(first, Ok(vec![]), "split at {split}");
        let second = read_in(&mut frames, &frame[split..], usize::MAX);
        assert_eq!(second, Ok(texts(&[update])), "split at {split}");
    }
    // A 16-bit length split inside the length itself.
    let medium = "x".repeat(200);
    let frame = text_frame(&medium);
    let mut frames = Frames::default();
    assert_eq!(read_in(&mut frames, &frame[..3], usize::MAX), Ok(vec![]));
    assert_eq!(
        read_in(&mut frames, &frame[3..], usize::MAX),
        Ok(texts(&[&medium]))
    );
}

#[test]
fn several_frames_in_one_read_all_come_out_in_order() {
    let mut bytes = text_frame("one");
    bytes.extend(text_frame("two"));
    bytes.extend(server_frame(true, 9, b"hi"));
    bytes.extend(text_frame("three"));
    // ...and half of a fourth, which waits for the next read.
    let four = text_frame("four");
    bytes.extend_from_slice(&four[..3]);
    let mut frames = Frames::default();
    let expected = vec![
        Owned::Text("one".into()),
        Owned::Text("two".into()),
        Owned::Ping(b"hi".to_vec()),
        Owned::Text("three".into()),
    ];
    assert_eq!(read_in(&mut frames, &bytes, usize::MAX), Ok(expected));
    assert_eq!(
        read_in(&mut frames, &four[3..], usize::MAX),
        Ok(texts(&["four"]))
    );
}

#[test]
fn pings_pongs_and_closes() {
    assert_eq!(
        read_all(&server_frame(true, 9, b"")),
        Ok(vec![Owned::Ping(vec![])])
    );
    assert_eq!(
        read_all(&server_frame(true, 9, b"abc")),
        Ok(vec![Owned::Ping(b"abc".to_vec())])
    );
    assert_eq!(
        read_all(&server_frame(true, 10, b"x")),
        Ok(vec![Owned::Pong])
    );
    let mut payload = 1001u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"server shutting down");
    assert_eq!(
        read_all(&server_frame(true, 8, &payload)),
        Ok(vec![Owned::Close(Some((
            1001,
            "server shutting down".into()
        )))])
    );
    assert_eq!(
        read_all(&server_frame(true, 8, b"")),
        Ok(vec![Owned::Close(None)])
    );
    assert!(read_all(&server_frame(true, 8, b"x")).is_err());
}

#[test]
fn fragments_are_joined_around_control_frames() {
    let mut bytes = server_frame(false, 1, br#"{"type":"upd"#);
    bytes.extend(server_frame(true, 9, b"p"));
    bytes.extend(server_frame(false, 0, br#"ate","tally":"#));
    bytes.extend(server_frame(true, 0, br#"{"version":3}}"#));
    bytes.extend(text_frame("after"));
    let expected = vec![
        Owned::Ping(b"p".to_vec()),
        Owned::Text(r#"{"type":"update","tally":{"version":3}}"#.into()),
        Owned::Text("after".into()),
    ];
    for chunk in [1, 5, usize::MAX] {
        assert_eq!(
            read_in(&mut Frames::default(), &bytes, chunk),
            Ok(expected.clone())
        );
    }
    // Two fragmented messages in a row: the second does not start with the first.
    let mut twice = server_frame(false, 1, b"ab");
    twice.extend(server_frame(true, 0, b"c"));
    twice.extend(server_frame(false, 1, b"d"));
    twice.extend(server_frame(true, 0, b"e"));
    assert_eq!(read_all(&twice), Ok(texts(&["abc", "de"])));
    let mut binary = server_frame(false, 2, b"\x00\x01");
    binary.extend(server_frame(true, 0, b"\x02"));
    assert_eq!(read_all(&binary), Ok(vec![Owned::Binary]));
    assert_eq!(
        read_all(&server_frame(true, 2, b"\xff")),
        Ok(vec![Owned::Binary])
    );
    assert!(read_all(&server_frame(true, 0, b"stray")).is_err());
    let mut nested = server_frame(false, 1, b"a");
    nested.extend(text_frame("b"));
    assert!(read_all(&nested).is_err());
}

#[test]
fn protocol_violations_end_the_socket() {
    // Masked by the server: RFC 6455 forbids it, tungstenite refuses it too.
    let mut masked = Vec::new();
    encode_masked(1, b"hello", [1, 2, 3, 4], &mut masked);
    assert!(read_all(&masked).unwrap_err().contains("masked"));
    // Reserved bits, an unknown opcode, a fragmented or long ping.
    assert!(read_all(&[0xc1, 0x00]).is_err());
    assert!(read_all(&[0x83, 0x00]).is_err());
    assert!(read_all(&server_frame(false, 9, b"")).is_err());
    assert!(read_all(&server_frame(true, 9, &[0; 126])).is_err());
    // Text that is not UTF-8.
    assert!(read_all(&server_frame(true, 1, b"\xff\xfe")).is_err());
    // A length no buffer should grow to.
    let mut huge = vec![0x81, 127];
    huge.extend_from_slice(&(1u64 << 40).to_be_bytes());
    assert!(read_all(&huge).is_err());
}

#[test]
fn client_frames_are_masked() {
    for len in [0, 5, 125, 126, 70_000] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut out = Vec::new();
        encode_masked(1, &payload, mask, &mut out);
        assert_eq!(out[0], 0x81);
        assert_eq!(out[1] & 0x80, 0x80, "the mask bit");
        let at = match out[1] & 0x7f {
            126 => 4,
            127 => 10,
            n => {
                assert_eq!(usize::from(n), len);
                2
            }
        };
        assert_eq!(out[at..at + 4], mask);
        let unmasked: Vec<u8> = (out[at + 4..].iter().enumerate())
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        assert_eq!(unmasked, payload);
    }
}
