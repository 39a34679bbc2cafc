//! The fallback of every route: the web client from `web/dist` (with `index.html` for
//! client-side routes), or a JSON 404 under `/api/`. Without a built client, `/` says
//! how to build one.

use axum::extract::{Request, State};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use votewire_proto::ErrorCode;

use crate::error::Refusal;
use crate::state::AppState;

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
    // Infallible: file errors become responses.
    match ServeDir::new(dir)
        .fallback(ServeFile::new(index))
        .oneshot(request)
        .await
    {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}
