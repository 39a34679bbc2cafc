//! What every request gets on its way through: a request id (the proxy's
//! `X-Request-Id` when it sent a usable one, else one of the node's own), which every
//! log line of the request carries and the response returns; its latency recorded by
//! route; the node's name in `X-Votewire-Node`; and, with `--access-log`, one line
//! saying what was asked and answered.
//!
//! The access line holds the path, never the query: a query may carry an invite code.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::state::AppState;

/// The response header that names the node that answered.
const NODE_HEADER: &str = "x-votewire-node";
/// The request id's header, in both directions.
const REQUEST_ID: &str = "x-request-id";
/// The longest request id taken from a client or proxy.
const MAX_ID_LEN: usize = 64;

/// The middleware: see the module's documentation.
pub(super) async fn observe(
    State((app, node)): State<(AppState, HeaderValue)>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let id = request
        .headers()
        .get(REQUEST_ID)
        .filter(|given| usable(given.as_bytes()))
        .cloned()
        .unwrap_or_else(new_id);
    // Kept only for the access line: no copy per request when it is off.
    let asked = app
        .settings
        .access_log
        .then(|| (request.method().clone(), request.uri().path().to_owned()));
    let started = Instant::now();
    let span = tracing::info_span!("request", id = %id.to_str().unwrap_or_default());
    let mut response = next
        .run(request)
        .instrument(span.clone())
        .await
        .into_response();
    let took = started.elapsed();
    let status = response.status().as_u16();
    app.requests.observe(&route, status, took);
    if let Some((method, path)) = asked {
        span.in_scope(|| {
            tracing::info!(
                target: "access",
                %method,
                %path,
                status,
                ms = took.as_secs_f64() * 1000.0,
                "request"
            );
        });
    }
    let headers = response.headers_mut();
    headers.insert(NODE_HEADER, node);
    headers.insert(REQUEST_ID, id);
    response
}

/// An id a proxy or client sent that can go into logs as it is: short, and made of
/// letters, digits and `-_.:` only (nginx's `$request_id` is 32 hex digits).
fn usable(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

/// A new id: a random prefix per process, then a counter, so ids are unique across
/// nodes and restarts without a random draw per request.
fn new_id() -> HeaderValue {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 6];
        // No randomness at all is not worth failing a request over: ids then repeat
        // across restarts only.
        let _ = getrandom::fill(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    });
    let id = format!("{prefix}-{:x}", NEXT.fetch_add(1, Relaxed));
    HeaderValue::from_str(&id).expect("hex digits and a dash")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_outside_are_taken_only_when_they_are_short_and_plain() {
        assert!(usable(b"0f8e6b2c5d4a49e0b1c2d3e4f5a6b7c8"));
        assert!(usable(b"trace-1.2:3_4"));
        for refused in [
            &b""[..],
            b"has space",
            b"a\nnew line",
            &[b'x'; MAX_ID_LEN + 1],
        ] {
            assert!(!usable(refused), "{refused:?}");
        }
    }

    #[test]
    fn new_ids_do_not_repeat() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert!(usable(a.as_bytes()));
    }
}
