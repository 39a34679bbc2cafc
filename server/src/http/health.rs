//! Health, readiness and the cluster view.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use votewire_proto::{ClusterView, HealthReport};

use crate::readiness::{self, Readiness};
use crate::state::AppState;

/// The health routes: `/livez` (and its older name `/healthz`) and `/readyz`.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/livez", get(livez))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The cluster view: internal, it names every node's address.
pub(super) fn cluster_routes() -> Router<AppState> {
    Router::new().route("/api/cluster", get(cluster))
}

#[utoipa::path(get, path = "/livez", tag = "health",
    description = "The process is alive and answering (the liveness probe): nothing outside it is asked.",
    responses((status = 200, description = "Alive", body = HealthReport)))]
async fn livez(State(app): State<AppState>) -> axum::Json<HealthReport> {
    axum::Json(HealthReport {
        status: "ok".into(),
        node: app.settings.node_id.clone(),
        checks: BTreeMap::new(),
    })
}

#[utoipa::path(get, path = "/healthz", tag = "health", description = "The older name of `/livez`.",
    responses((status = 200, description = "Alive", body = HealthReport)))]
async fn healthz(state: State<AppState>) -> axum::Json<HealthReport> {
    livez(state).await
}

#[utoipa::path(get, path = "/readyz", tag = "health",
    description = "Whether to send this node traffic (the readiness probe). `ready`: every part answers. \
`degraded` (still 200): Redis is down (sockets see this node's votes only) or the primary is (reads from the \
replicas, writes 503); `checks` names it. 503 only while `draining` or `unavailable` (no database answers).",
    responses((status = 200, description = "Ready or degraded: `status` says which", body = HealthReport),
        (status = 503, description = "Draining, or no database answers: `checks` says what is not `ok`", body = HealthReport)))]
async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let Readiness { level, checks } = readiness::assess(&app).await;
    let status = if level.serves() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(HealthReport {
            status: level.word().into(),
            node: app.settings.node_id.clone(),
            checks,
        }),
    )
}

#[utoipa::path(get, path = "/api/cluster", tag = "health", description = "The live nodes; a single node lists itself.",
    responses((status = 200, description = "This node and the others it sees", body = ClusterView)))]
async fn cluster(State(app): State<AppState>) -> axum::Json<ClusterView> {
    axum::Json(app.presence.cluster_view().await)
}
