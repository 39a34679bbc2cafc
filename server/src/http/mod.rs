//! HTTP: one module per resource, each exporting `routes()`; [`router`] merges them
//! and applies the layers once.

mod docs;
mod export;
mod extract;
pub mod fuzzing;
mod health;
mod idempotency;
mod invites;
mod join;
mod metrics;
mod openapi;
mod polls;
mod readers;
mod requests;
mod security;
mod voters;
mod votes;
mod web;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Uri};
use axum::middleware;
use axum::routing::any;
use votewire_proto::ErrorCode;

use crate::error::Refusal;
use crate::state::AppState;

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
        .merge(join::routes())
        .merge(export::routes())
        .merge(votes::routes())
        .merge(invites::routes())
        .merge(voters::routes())
        .merge(health::routes())
        .merge(internal)
        .merge(openapi::routes())
        .merge(docs::routes())
        .merge(crate::ws::routes())
        .fallback(web::fallback);
    layered(routes, app)
}

/// The routes of `--admin-listen`: `/metrics` and `/api/cluster`, nothing else.
pub(crate) fn admin_router(app: AppState) -> Router {
    layered(internal_routes().fallback(not_here), app)
}

/// The routes of `votewire worker`: health, `/metrics` and `/api/cluster`; a worker
/// serves no votes and no pages.
pub(crate) fn worker_router(app: AppState) -> Router {
    let routes = health::routes().merge(internal_routes());
    layered(routes.fallback(not_here), app)
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
        .layer(middleware::from_fn_with_state(
            (app.clone(), node),
            requests::observe,
        ));
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
