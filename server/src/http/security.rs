//! The headers that tell a browser what the node's pages may do, on every response
//! (pages, API answers and errors alike, so no route can forget them):
//!
//! - `Content-Security-Policy`: scripts, styles, images, fonts and connections from
//!   the node's own origin only (the client is one bundle, its WebSocket goes to the
//!   same host), no plugins, no `<base>`, forms posting home only, and
//!   `frame-ancestors` from `--frame-ancestors` (`'none'` unless a site is allowed to
//!   embed the polls). React's `style` props are set through the CSSOM, which the policy
//!   does not govern, so no `'unsafe-inline'` is needed.
//! - `X-Content-Type-Options: nosniff`: a JSON answer is never run as a script.
//! - `Referrer-Policy: no-referrer`: a poll's address never leaves with a click.

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy, with `frame_ancestors` (already checked by the command
/// line) as its `frame-ancestors`.
pub(super) fn content_security_policy(frame_ancestors: &[String]) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {}",
        frame_ancestors.join(" ")
    )
}

/// `router` with the security headers on every response.
pub(super) fn secured<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    frame_ancestors: &[String],
) -> Router<S> {
    let policy = HeaderValue::from_str(&content_security_policy(frame_ancestors))
        .expect("checked sources are header-safe");
    router
        .layer(SetResponseHeaderLayer::overriding(
            CONTENT_SECURITY_POLICY,
            policy,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_who_may_frame_the_pages() {
        let policy = content_security_policy(&["'none'".into()]);
        assert!(policy.ends_with("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        let embedded = content_security_policy(&["'self'".into(), "https://a.example".into()]);
        assert!(
            embedded.ends_with("frame-ancestors 'self' https://a.example"),
            "{embedded}"
        );
    }
}
