//! The client side of the opening handshake (RFC 6455 4.1), and masking keys.
//!
//! The key and its expected answer come from tungstenite (already a dependency), so no
//! SHA-1 or base64 is written here.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::SystemTime;

use reqwest::Url;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::client::Failure;

/// The most the upgrade answer's head may take.
pub(super) const MAX_RESPONSE_HEAD: usize = 16 << 10;

/// The upgrade request for `url` with `key`.
pub(super) fn request(url: &Url, key: &str) -> String {
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let host = url.host_str().unwrap_or("");
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n"
    )
}

/// The length of the answer's head (status line and headers, with the blank line),
/// once all of it is in `bytes`.
pub(super) fn head_len(bytes: &[u8]) -> Option<usize> {
    find(bytes, b"\r\n\r\n").map(|at| at + 4)
}

/// Where `needle` starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Checks an upgrade answer's head (status line and headers) against the request's key.
pub(super) fn check_upgrade(head: &[u8], key: &str) -> Result<(), Failure> {
    let head = std::str::from_utf8(head).map_err(|_| "an upgrade answer that is not text")?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    if status.split(' ').nth(1) != Some("101") {
        return Err(format!("HTTP error: {status}"));
    }
    let header = |name: &str| {
        (lines.clone()).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    };
    let has_token = |name: &str, token: &str| {
        header(name).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has_token("upgrade", "websocket") || !has_token("connection", "upgrade") {
        return Err("a 101 answer without Upgrade: websocket and Connection: upgrade".into());
    }
    if header("sec-websocket-accept") != Some(derive_accept_key(key.as_bytes()).as_str()) {
        return Err("a 101 answer with a wrong Sec-WebSocket-Accept".into());
    }
    if header("sec-websocket-extensions").is_some() {
        return Err("the server chose an extension it was not offered".into());
    }
    Ok(())
}

/// A masking key. Masking protects proxies from frames a script chose (RFC 6455 10.3);
/// loadgen's frames are its own, so any varying key does: a counter through splitmix64.
pub(super) fn mask() -> [u8; 4] {
    static SEED: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
        now.map_or(0, |d| d.as_nanos() as u64)
    });
    let mut z = seed.wrapping_add(NEXT.fetch_add(0x9e37_79b9_7f4a_7c15, Relaxed));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) as u32).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upgrade_answer_is_checked() {
        // The example of RFC 6455 1.3.
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let good = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\
                    connection: Upgrade\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        assert_eq!(check_upgrade(good.as_bytes(), key), Ok(()));
        let wrong = good.replace("s3pP", "s3pQ");
        assert!(check_upgrade(wrong.as_bytes(), key).is_err());
        let refused = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(
            check_upgrade(refused.as_bytes(), key),
            Err("HTTP error: HTTP/1.1 503 Service Unavailable".into())
        );
        let plain = good.replace("upgrade: websocket\r\n", "");
        assert!(check_upgrade(plain.as_bytes(), key).is_err());
    }

    #[test]
    fn the_request_names_the_path_and_the_host() {
        let url = Url::parse("http://127.0.0.1:8080/ws").unwrap();
        let request = request(&url, "k==");
        assert!(request.starts_with("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
        assert!(request.ends_with("Sec-WebSocket-Key: k==\r\n\r\n"));
        let answer = b"HTTP/1.1 101 Switching Protocols\r\na: b\r\n\r\n\x81\x00";
        assert_eq!(head_len(answer), Some(answer.len() - 2));
        assert_eq!(head_len(&answer[..20]), None);
    }

    #[test]
    fn masks_vary() {
        assert_ne!(mask(), mask());
    }
}
