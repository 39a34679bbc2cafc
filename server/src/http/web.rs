//! The fallback of every route: the web client from `web/dist` (with `index.html` for
//! client-side routes), or a JSON 404 under `/api/`. Without a built client, `/` says
//! how to build one.
//!
//! The build writes a `.br` and a `.gz` beside each compressible file, and the client's
//! `Accept-Encoding` picks one: compressed once at build time, not on every request.
//! Files under `/assets/` carry a hash of their content in their name (Vite's), so a
//! browser may keep them for a year without asking again; everything else (`index.html`
//! above all, which names the current assets) is revalidated on every use.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use votewire_proto::ErrorCode;

use crate::error::Refusal;
use crate::state::AppState;

/// For a file whose name changes whenever its content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For the others: kept, but checked (`If-Modified-Since`) before each use.
const REVALIDATE: &str = "no-cache";

const NO_CLIENT: &str = "<!doctype html><meta charset=utf-8><title>votewire</title>\
<h1>votewire is running</h1><p>The web client is not built: run <code>./build.sh web</code>, \
or use the API (<a href=/api/openapi.json>/api/openapi.json</a>).</p>";

/// Answers every request no route matched.
pub(super) async fn fallback(State(app): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let not_found =
        || Refusal::new(ErrorCode::NotFound, format!("no route for {path}")).into_response();
    if path.starts_with("/api/") || path == "/api" {
        return not_found();
    }
    let dir = &app.settings.web_dir;
    let index = dir.join("index.html");
    if !index.is_file() {
        return if path == "/" {
            Html(NO_CLIENT).into_response()
        } else {
            not_found()
        };
    }
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    // An asset that is not there is a 404, never the page: a page cached for a year
    // under an asset's name would break that browser until the name changes.
    let hashed = path.starts_with("/assets/");
    let not_found = not_found();
    let mut response = if hashed {
        files.oneshot(request).await
    } else {
        let index = ServeFile::new(index)
            .precompressed_br()
            .precompressed_gzip();
        files.fallback(index).oneshot(request).await
    }
    // Infallible: file errors become responses.
    .unwrap_or_else(|never| match never {})
    .into_response();
    if hashed && response.status() == axum::http::StatusCode::NOT_FOUND {
        return not_found;
    }
    if response.status().is_success() {
        let policy = if hashed { IMMUTABLE } else { REVALIDATE };
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}
