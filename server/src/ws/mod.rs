//! `GET /ws`: the WebSocket. The upgrade handler checks the Origin, the client
//! address's limits and the socket limit before accepting; [`session`] runs one
//! connection.
//!
//! An address over its limits (connections per minute, or sockets open at once) is
//! still upgraded, told why in an `error` message with `rate_limited`, and closed with
//! 1013 (try again later): a browser sees no reason for a failed upgrade, and 1013,
//! unlike 1008 (policy violation), says that coming back later is right, which is what
//! the web client's backoff does.

mod limits;
mod probes;
mod session;
mod watching;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use votewire_proto::ErrorCode;

use crate::abuse::ClientAddress;
use crate::credentials;
use crate::error::Refusal;
use crate::fanout::encode;
use crate::state::AppState;

/// Bytes read from a socket at a time, and its read buffer. tungstenite reads into a
/// 128 KiB buffer per socket by default: most of an idle socket's memory. Clients send
/// a few small messages (a subscribe is under 100 bytes, one with an owner token under
/// 200, a pong a dozen), so 128 bytes reads nearly all in one go; a larger message
/// still arrives, in more reads.
const WS_READ_BUFFER_BYTES: usize = 128;

/// The WebSocket route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

/// Whether a browser page from `Origin` may open a socket here: a page of the host it
/// asks (the node itself, or the proxy in front of it), or an origin of the allow-list,
/// matched exactly. axum does not check it, and without the check any site could watch
/// polls through its visitors. Requests without an Origin (not from a browser: CLIs,
/// load generators) pass.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed.iter().any(|a| a == origin) {
        return true;
    }
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

async fn upgrade(
    State(app): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &app.settings.allowed_origins) {
        return Refusal::new(
            ErrorCode::ForbiddenOrigin,
            "this origin may not open a WebSocket here",
        )
        .into_response();
    }
    if app.shutdown.is_draining() {
        return Refusal::new(
            ErrorCode::Draining,
            "this node is shutting down; connect to another",
        )
        .into_response();
    }
    let limits = &app.settings.limits;
    let ws = ws
        .read_buffer_size(WS_READ_BUFFER_BYTES)
        .max_message_size(limits.ws_max_message_bytes)
        .max_frame_size(limits.ws_max_message_bytes)
        .write_buffer_size(0)
        .max_write_buffer_size(limits.ws_write_buffer_bytes);
    // The address's place, like the node's, is held by the session until it ends.
    let address_place = match app.abuse.connect(client) {
        Ok(place) => place,
        Err(limited) => {
            let refusal = limited.into_refusal();
            let timeout = limits.ws_write_timeout;
            return ws.on_upgrade(move |socket| refuse(socket, refusal, timeout));
        }
    };
    // The place is taken now and held by the session until it ends.
    let Some(place) = app.sessions.admit(limits.max_sockets) else {
        return Refusal::new(
            ErrorCode::TooManyConnections,
            "this node holds as many sockets as it may",
        )
        .into_response();
    };
    // A cookie that is not a voter's only means the socket hears no voter's notices.
    let voter = credentials::voter(&headers, &app.keys)
        .ok()
        .flatten()
        .map(|voter| voter.id);
    ws.on_upgrade(move |socket| session::run(socket, app, place, address_place, voter))
}

/// Tells a socket over its address's limits why, then closes it with 1013; within
/// `timeout`, as any write.
async fn refuse(mut socket: WebSocket, refusal: Refusal, timeout: std::time::Duration) {
    let close = CloseFrame {
        code: close_code::AGAIN,
        reason: "rate limited".into(),
    };
    let refused = async {
        socket
            .send(Message::Text(encode(&refusal.into_message())))
            .await?;
        socket.send(Message::Close(Some(close))).await
    };
    if !matches!(tokio::time::timeout(timeout, refused).await, Ok(Ok(()))) {
        tracing::debug!("a refused socket was not told why: it broke or was too slow");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_host_is_the_default() {
        assert!(origin_allowed(
            &headers(Some("http://localhost:8080"), "localhost:8080"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("http://evil.example"), "localhost:8080"),
            &[]
        ));
        assert!(origin_allowed(&headers(None, "localhost:8080"), &[]));
    }

    #[test]
    fn an_allow_list_is_matched_exactly_beside_the_same_host() {
        let allowed = vec!["https://vote.example.com".to_owned()];
        assert!(origin_allowed(&headers(Some("http://x"), "x"), &allowed));
        assert!(origin_allowed(
            &headers(Some("https://vote.example.com"), "x"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("https://vote.example.com.evil"), "x"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("http://vote.example.com"), "x"),
            &allowed
        ));
    }
}
