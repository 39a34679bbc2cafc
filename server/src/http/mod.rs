//! HTTP: one module per resource, each exporting `routes()`; [`router`] merges them
//! and applies the layers once.

mod credentials;
mod extract;
pub mod fuzzing;
mod health;
mod idempotency;
mod invites;
mod metrics;
mod openapi;
mod polls;
mod security;
mod voters;
mod votes;
mod web;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use votewire_proto::ErrorCode;

use crate::error::Refusal;
use crate::state::AppState;

/// The response header that names the node that answered.
const NODE_HEADER: &str = "x-votewire-node";

/// Every route of the node, with its layers; `/metrics` and `/api/cluster` among them
/// unless `with_internal` is false (they are on the admin listener then, and 404 here
/// rather than falling through to the web client).
pub(crate) fn router(app: AppState, with_internal: bool) -> Router {
    let internal = if with_internal {
        internal_routes()
    } else {
        Router::new()
            .route("/metrics", any(not_here))
            .route("/api/cluster", any(not_here))
    };
    let routes = Router::new()
        .merge(polls::routes())
        .merge(votes::routes())
        .merge(invites::routes())
        .merge(voters::routes())
        .merge(health::routes())
        .merge(internal)
        .merge(openapi::routes())
        .merge(crate::ws::routes())
        .fallback(web::fallback);
    layered(routes, app)
}

/// The routes of `--admin-listen`: `/metrics` and `/api/cluster`, nothing else.
pub(crate) fn admin_router(app: AppState) -> Router {
    layered(internal_routes().fallback(not_here), app)
}

/// What shows the node's internals: its counters, and the other nodes' addresses.
fn internal_routes() -> Router<AppState> {
    metrics::routes().merge(health::cluster_routes())
}

/// The layers every listener applies, once.
fn layered(routes: Router<AppState>, app: AppState) -> Router {
    let node =
        HeaderValue::from_str(app.settings.node_id.as_str()).expect("node ids are header-safe");
    let routes = routes
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(app.settings.limits.max_body_bytes))
        .layer(middleware::from_fn_with_state((app.clone(), node), observe));
    security::secured(routes, &app.settings.frame_ancestors).with_state(app)
}

async fn not_here(uri: Uri) -> Refusal {
    Refusal::new(ErrorCode::NotFound, format!("no route for {}", uri.path()))
}

async fn method_not_allowed() -> Refusal {
    Refusal::new(
        ErrorCode::MethodNotAllowed,
        "this route does not take this method",
    )
}

/// Stamps `X-Votewire-Node` on every response and records its latency by route.
async fn observe(
    State((app, node)): State<(AppState, HeaderValue)>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let started = Instant::now();
    let mut response = next.run(request).await.into_response();
    app.requests
        .observe(&route, response.status().as_u16(), started.elapsed());
    response.headers_mut().insert(NODE_HEADER, node);
    response
}
