//! The API docs page (`/api/docs`): a page, a script and a style sheet compiled into
//! the binary that render `/api/openapi.json` in the browser. Nothing is fetched from
//! anywhere but the node, so it works offline and under the node's own CSP (no inline
//! script or style).

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("page.js");
const STYLE: &str = include_str!("page.css");

/// The docs page and its two files.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/docs", get(|| file("text/html; charset=utf-8", PAGE)))
        .route(
            "/api/docs.js",
            get(|| file("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/api/docs.css",
            get(|| file("text/css; charset=utf-8", STYLE)),
        )
}

/// One of the files; revalidated like the web client's pages, since a new build may
/// change it under the same name.
async fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
}
